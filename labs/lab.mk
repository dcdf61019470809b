# Shared by every lab's Makefile: build the public tests against your mm.cpp, run them,
# self-grade, hand in. Include it after setting LAB (the folder name) and TESTS.
#
#   make          build build/lab_tests from your mm.cpp and the public tests
#   make test     run the public tests (a failure says what was expected and what came back)
#   make check    self-grade with the grader: public parts, points, Valgrind
#   make handin   pack your submission into handin.tar.gz

ROOT ?= ../..
CXX ?= g++
CXXFLAGS ?= -std=c++20 -g -O1 -Wall -Wextra
COMMON := $(ROOT)/common
HEAPLAB := $(ROOT)/build/bin/heaplab
SUBMIT ?= mm.cpp
TESTS ?= $(wildcard tests/*.cpp)

.PHONY: all test check handin clean

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

# The archive holds only the files you submit, and MANIFEST.sha256 with their hashes: the
# grader reports any file that differs from the manifest (changed after make handin).
handin: $(SUBMIT)
	sha256sum $(SUBMIT) > MANIFEST.sha256
	tar czf handin.tar.gz $(SUBMIT) MANIFEST.sha256
	@rm -f MANIFEST.sha256
	@echo "wrote handin.tar.gz with: $(SUBMIT) and MANIFEST.sha256"

clean:
	rm -rf build handin.tar.gz
