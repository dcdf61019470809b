/**
 * @file
 * @brief The front end: malloc, free, realloc, calloc and aligned allocation, put together
 *        from the thread cache (fast paths, inline here), the heap and mapped chunks.
 *
 * ## Spec
 * - allocate(n): a request of at most kCacheMaxRequest bytes pops its thread-cache class —
 *   a TLS load, a few arithmetic instructions, one load and three stores, no lock, no atomic.
 *   Anything else, or an empty class, takes allocate_slow(). Failure: null, errno = ENOMEM.
 * - deallocate(p): validates @p p first (alignment, inside the heap, header tag, not already
 *   free or cached) — a double free or a pointer we never returned is reported and aborts —
 *   then a small block is pushed onto the freeing thread's cache, anything else is freed into
 *   the heap under the lock. errno is never changed.
 * - reallocate(p, n): realloc(NULL, n) is malloc(n); **realloc(p, 0) frees p and returns
 *   NULL** (glibc's behaviour, and what mm.h specifies); otherwise in place when it can
 *   (Heap::resize_locked), else allocate, copy, free. On failure the old block is untouched.
 * - Statistics: calls are counted per thread cache (no shared counter to bounce between
 *   cores) and summed when asked.
 */
#ifndef HEAPLAB_REF_ALLOCATOR_H
#define HEAPLAB_REF_ALLOCATOR_H

#include "block.h"
#include "config.h"
#include "heap.h"
#include "size_class.h"
#include "thread_cache.h"

#include <cstddef>
#include <cstdint>

/**
 * @brief The reference allocator: a complete malloc on the program break, built both as the
 *        mm.h plug-in `mm_reference.so` and as `libheaplab.so` for LD_PRELOAD (config.h).
 */
namespace heaplab::ref {

/// Everything allocate() does not do inline: requests above kCacheMaxRequest, an empty cache
/// class (refilled from the heap in one locked visit), a thread's first call (creates its
/// cache), and failure (null with errno = ENOMEM). Out of line so the fast path stays small.
void *allocate_slow(std::size_t n);
/// Everything deallocate() does not do inline: NULL, large and mapped blocks, a full cache
/// class, and every bad pointer, which is named on stderr before the process aborts.
void deallocate_slow(void *p);
/// realloc(p, n), with the rules of the file's spec: in place when Heap::resize_locked() can,
/// else allocate, copy, free; the old block is untouched when it fails.
void *reallocate(void *p, std::size_t n);
/// calloc(nmemb, size): null with ENOMEM when nmemb * size overflows, rather than a block
/// smaller than the caller believes (the classic calloc vulnerability).
void *allocate_zeroed(std::size_t nmemb, std::size_t size);
/// @p align must be a power of two (callers check their own rules first).
void *allocate_aligned(std::size_t align, std::size_t n);
/// malloc_usable_size(p): the bytes the program may use at @p p, at least what it asked for
/// (the block is rounded up to 16 bytes). Validates @p p like free() does.
std::size_t usable_size(void *p);

/// A fresh heap (mm_init): forgets every block and every cached block. @return 0 or -1.
int reset_heap();
/// mm_checkheap: the number of problems found (0 = consistent). No other thread may be
/// allocating while it runs.
std::size_t check_heap(bool verbose);

/// What `HEAPLAB_STATS=1` prints at exit and the tests check, summed across threads on demand.
struct Stats {
    std::uint64_t calls = 0;      ///< malloc-family calls served
    std::size_t in_use = 0;       ///< bytes in blocks the program holds (headers included)
    std::size_t cached = 0;       ///< bytes parked in thread caches
    std::size_t heap_size = 0;    ///< heap now (break + mapped regions + chunks)
    std::size_t peak_heap = 0;    ///< largest heap (break peak + mapped regions + chunks now)
};
/// Takes the heap lock to add up every cache's counters and the heap's totals: for reports and
/// tests, not for a hot path.
Stats stats();

/// Counts a call made without a thread cache (exiting threads, first calls).
void count_uncached_call();

// [allocate]
/// malloc(n). Inline: this is the path most calls of a real program take.
inline void *allocate(std::size_t n) {
    ThreadCache *tc = t_cache;  // one %fs-relative load; null before this thread's first call
    if (HEAPLAB_LIKELY(tc != nullptr && n <= kCacheMaxRequest)) {
        unsigned c = cache_class_for(block_size_for(n));  // small: (n + 8 + 15) / 16 - 2, no table
        if (char *b = tc->pop(c)) {                      // head of the class's stack
            ++tc->calls;                                 // per-thread: no shared counter
            return payload_of(b);
        }
    }
    // Large request, empty class, or no cache yet (lazy initialisation happens there).
    return allocate_slow(n);
}
// [allocate]

// [deallocate]
/// free(p). Inline: the common case is a small block going onto this thread's cache.
/// Every check that guards against a bad pointer is on this path too — a fast free that
/// skipped them would let a double free corrupt the cache silently.
inline void deallocate(void *p) {
    ThreadCache *tc = t_cache;
    // 16-aligned and inside the break region: two compares against read-mostly bounds.
    if (HEAPLAB_LIKELY(tc != nullptr && reinterpret_cast<std::uintptr_t>(p) % kAlign == 0 &&
                       g_heap.contains(p))) {
        char *b = header_of(p);
        Word h = load(b);  // the lock is not held: only size, kAlloc and the tag are used
        // Allocated, not mapped, small, the tag proves we returned it, and no cache holds it
        // (cache_key() absent from its second payload word).
        if (HEAPLAB_LIKELY((h & (kAlloc | kMmapped)) == kAlloc && size_of(h) <= kCacheMaxBlock &&
                           tag_ok(b, h) && !is_cached(b))) {
            unsigned c = cache_class_of(size_of(h));
            if (HEAPLAB_LIKELY(tc->push(c, b))) {  // false when the class is full
                ++tc->calls;
                return;
            }
        }
    }
    // NULL, a large or mapped block, a full class, no cache yet — or a bad pointer, which
    // the slow path names and aborts on.
    deallocate_slow(p);
}
// [deallocate]

}  // namespace heaplab::ref

#endif  // HEAPLAB_REF_ALLOCATOR_H
