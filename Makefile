# HeapLab's front door. See README.md.
#
#   make          build everything into build/ (installs missing Debian packages first)
#   make test     build, build the docs, then run every test through CTest (the docs' browser test too)
#   make docs     the documentation site, into build/docs/html (open index.html)
#   make grade    the main job: replay the trace suite on every allocator and print the tables
#   make verify-grades  every lab's solution (ten runs), skeleton and bugs graded by the grader
#   make bench    the allocators side by side: reference, glibc, jemalloc, tcmalloc, mimalloc
#   make traces   regenerate traces/ from the generator (they are committed)
#   make clean    remove build/

BUILD ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
BUILD_TYPE ?= RelWithDebInfo

.PHONY: all build deps docs test grade verify-grades bench traces clean

all: build

# Installs what is missing (as root or through sudo); otherwise prints the apt-get line and stops.
deps:
	@scripts/install-deps --check >/dev/null || scripts/install-deps

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) > $(BUILD).configure.log 2>&1 \
	  || { cat $(BUILD).configure.log; exit 1; }
	@cmake --build $(BUILD) -j $(JOBS)

# Doxygen and Graphviz; warnings are errors. The site lands in $(BUILD)/docs/html.
docs: build
	@cmake --build $(BUILD) --target docs

test: build docs
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# The main job: the trace suite on every allocator, then every lab's example submissions graded
# (made from the solutions by scripts/make-examples: correct, untouched skeleton, classic mistakes).
grade: build
	$(BUILD)/bin/heaplab trace replay --allocator all traces/*.rep
	scripts/make-examples $(BUILD)/bin/heaplab $(BUILD)/examples
	@status=0; for lab in $$(ls $(BUILD)/examples); do \
	  echo; echo "=== grading the example submissions of $$lab"; \
	  rm -rf $(BUILD)/grades/$$lab; \
	  $(BUILD)/bin/heaplab grade --lab $$lab --jobs $(JOBS) --out $(BUILD)/grades/$$lab $(BUILD)/examples/$$lab || status=1; \
	done; exit $$status

# The grades proved right, through the real grader (grader/README.md, "Correctness of the grades"):
# every lab's solution VERIFY_RUNS times (full marks, the same each run), its skeleton (builds,
# scores at most 60%, no grader error) and each bug of its bugs.toml (loses exactly its `loses`).
VERIFY_RUNS ?= 10
verify-grades: build
	@status=0; for solution in solutions/*/; do \
	  lab=$$(basename $$solution); [ -f labs/$$lab/lab.toml ] || continue; \
	  $(BUILD)/bin/heaplab lab verify-grades labs/$$lab --runs $(VERIFY_RUNS) --jobs $(JOBS) || status=1; echo; \
	done; exit $$status

bench: build
	@if [ -x bench/run ]; then bench/run $(BUILD); else echo "bench/run is not there yet"; exit 2; fi

traces: build
	$(BUILD)/bin/heaplab trace generate --all --out traces

clean:
	rm -rf $(BUILD) $(BUILD).configure.log
