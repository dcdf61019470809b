/**
 * @file malloc_shim.cpp
 * @brief The C ABI of glibc's malloc, for `LD_PRELOAD=libheaplab.so`: the reference allocator
 *        on the real program break, as the backend of heaplab/malloc_abi.h (which holds
 *        glibc's rules for every entry point, shared with the lab stages' preloadable builds).
 *
 * What is the reference's own, each tested in tests/abi_test.cpp:
 * - malloc(0) returns a unique pointer (a minimum block), never NULL.
 * - Every failure returns NULL with errno = ENOMEM (requests above 64 TiB fail at once).
 * - calloc detects `nmemb * size` overflow: ENOMEM.
 * - realloc(NULL, n) is malloc(n); realloc(p, 0) frees p and returns NULL (glibc's choice,
 *   and mm.h's; C23 leaves it undefined, so portable programs do not rely on either).
 * - free never changes errno. A double free or a pointer we never returned is reported on
 *   stderr and aborts.
 * - `HEAPLAB_STATS=1` prints, at exit, the calls served, the peak heap, the heap now, the
 *   bytes in use and the bytes parked in thread caches.
 *
 * Only the malloc ABI is exported (common/src/malloc_abi.map): the rest of the allocator,
 * memlib included, stays private, so a program that links its own memlib is not disturbed.
 */
#include "allocator.h"
#include "heaplab/malloc_abi.h"

namespace {

using namespace heaplab::ref;

// [shim]
struct ReferenceBackend {
    static void *allocate(std::size_t n) { return heaplab::ref::allocate(n); }
    static void deallocate(void *p) { heaplab::ref::deallocate(p); }
    static void *allocate_zeroed(std::size_t nmemb, std::size_t size) {
        return heaplab::ref::allocate_zeroed(nmemb, size);
    }
    static void *reallocate(void *p, std::size_t n) { return heaplab::ref::reallocate(p, n); }
    // [shim]
    static void *allocate_aligned(std::size_t align, std::size_t n) {
        return heaplab::ref::allocate_aligned(align, n);
    }
    static std::size_t usable_size(void *p) { return heaplab::ref::usable_size(p); }
    static const char *name() { return "reference"; }
    static void describe(heaplab::Line &line) {
        Stats s = stats();
        line.str("calls ")
            .num(s.calls)
            .str(" peak_heap ")
            .num(s.peak_heap)
            .str(" heap ")
            .num(s.heap_size)
            .str(" in_use ")
            .num(s.in_use)
            .str(" cached ")
            .num(s.cached);
    }
};

}  // namespace

HEAPLAB_MALLOC_ABI(ReferenceBackend)
