# Shared by every lab's Makefile: build the public tests against your mm.cpp, run them,
# self-grade, hand in. Include it after setting LAB (the folder name) and TESTS.
#
#   make          build build/lab_tests from your mm.cpp and the public tests
#   make test     run the public tests (a failure says what was expected and what came back)
#   make check    self-grade with the grader: public parts, points, Valgrind
#   make handin   pack your submission into handin.tar.gz
#   make preload  run a real program on your allocator (default `ls -l /usr/lib`; another
#                 with RUN='python3 -c "print(sum(range(10**6)))"')
#   make viz TRACE=../../docs/traces/interleaved.rep [STEP=N]
#                 a picture of your heap replaying a trace: build/heap.svg (heaplab trace viz)

ROOT ?= ../..
CXX ?= g++
CXXFLAGS ?= -std=c++20 -g -O1 -Wall -Wextra
COMMON := $(ROOT)/common
HEAPLAB := $(ROOT)/build/bin/heaplab
SUBMIT ?= mm.cpp
TESTS ?= $(wildcard tests/*.cpp)

.PHONY: all test check preload viz clean

all: build/lab_tests

build/lab_tests: $(SUBMIT) $(TESTS) $(COMMON)/src/memlib_sim.cpp $(wildcard $(COMMON)/include/heaplab/*.h)
	@mkdir -p build
	$(CXX) $(CXXFLAGS) -I$(COMMON)/include -Itests -o $@ $(SUBMIT) $(TESTS) $(COMMON)/src/memlib_sim.cpp \
	    -lgtest -lgtest_main -pthread

test: build/lab_tests
	./build/lab_tests

check:
	@if [ -x $(HEAPLAB) ] && $(HEAPLAB) check --help >/dev/null 2>&1; then $(HEAPLAB) check .; \
	else echo "make check needs the grader ('heaplab check'), which is not built yet: run 'make test' meanwhile"; exit 2; fi

# Your allocator as the malloc of real programs: build/libmm.so is your mm.cpp on the real
# program break (common/src/memlib_real.cpp) behind glibc's malloc functions
# (common/src/mm_preload.cpp: one lock around every call, mm_init on the first malloc), run
# with LD_PRELOAD. HEAPLAB_STATS=1 makes it print, at exit, the calls your allocator served.
# A lab whose allocator is thread-safe itself (`thread_safe = true` in lab.toml) gets no lock.
RUN ?= ls -l /usr/lib
PRELOAD_SOURCES := $(COMMON)/src/mm_preload.cpp $(COMMON)/src/memlib_real.cpp
PRELOAD_LOCKED := $(if $(shell grep -sE '^thread_safe *= *true' lab.toml),0,1)

build/libmm.so: $(SUBMIT) $(PRELOAD_SOURCES) $(COMMON)/src/malloc_abi.map $(wildcard $(COMMON)/include/heaplab/*.h)
	@mkdir -p build
	$(CXX) $(CXXFLAGS) -fPIC -shared -fno-builtin -fvisibility=hidden -DHEAPLAB_PRELOAD_NAME='"$(LAB)"' \
	    -DHEAPLAB_PRELOAD_LOCKED=$(PRELOAD_LOCKED) \
	    -I$(COMMON)/include -o $@ $(SUBMIT) $(PRELOAD_SOURCES) \
	    -Wl,--version-script=$(COMMON)/src/malloc_abi.map -Wl,--no-undefined -Wl,-z,now -pthread

preload: build/libmm.so
	LD_PRELOAD=$(CURDIR)/build/libmm.so HEAPLAB_STATS=1 $(RUN)

# Your allocator as a plug-in of the heaplab command (trace replay, trace viz): its mem_sbrk
# calls land in heaplab's simulated heap.
build/my-mm.so: $(SUBMIT) $(wildcard $(COMMON)/include/heaplab/*.h)
	@mkdir -p build
	$(CXX) $(CXXFLAGS) -fPIC -shared -I$(COMMON)/include -o $@ $(SUBMIT)

TRACE ?= $(ROOT)/docs/traces/interleaved.rep
viz: build/my-mm.so
	@if [ ! -x $(HEAPLAB) ]; then echo "make viz needs the heaplab command: run make at the top first"; exit 2; fi
	$(HEAPLAB) trace viz $(TRACE) --allocator build/my-mm.so --out build/heap.svg $(if $(STEP),--step $(STEP))

include $(dir $(lastword $(MAKEFILE_LIST)))handin.mk

clean:
	rm -rf build handin.tar.gz
