# HeapLab's front door. See README.md.
#
#   make          build everything into build/ (installs missing Debian packages first)
#   make test     build, then run every test through CTest
#   make grade    the main job: replay the trace suite on every allocator and print the tables
#   make traces   regenerate traces/ from the generator (they are committed)
#   make clean    remove build/

BUILD ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
BUILD_TYPE ?= RelWithDebInfo

.PHONY: all build deps test grade traces clean

all: build

# Installs what is missing (as root or through sudo); otherwise prints the apt-get line and stops.
deps:
	@scripts/install-deps --check >/dev/null || scripts/install-deps

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) > $(BUILD).configure.log 2>&1 \
	  || { cat $(BUILD).configure.log; exit 1; }
	@cmake --build $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

grade: build
	$(BUILD)/bin/heaplab trace replay --allocator all traces/*.rep

traces: build
	$(BUILD)/bin/heaplab trace generate --all --out traces

clean:
	rm -rf $(BUILD) $(BUILD).configure.log
