/** @file allocator.cpp @brief The front end's slow paths (see allocator.h). */
#include "allocator.h"

#include "chunk.h"
#include "report.h"

#include <atomic>
#include <cerrno>
#include <cstring>

namespace heaplab::ref {

namespace {

std::atomic<std::uint64_t> g_uncached_calls{0};

void *fail_enomem() {
    errno = ENOMEM;
    return nullptr;
}

// [validate]
/// The header of @p p, a pointer the program hands back to @p op ("free()", "realloc()",
/// ...). Every way it can be wrong is reported and aborts: misaligned, outside the heap, a
/// header whose tag does not match (not a block we returned, or the header was overwritten),
/// a block already free or parked in a thread cache (double free).
char *validate(void *p, const char *op) {
    if (reinterpret_cast<std::uintptr_t>(p) % kAlign != 0) fatal_pointer(op, "invalid pointer (misaligned)", p);
    char *b = header_of(p);
    if (!g_heap.contains(p)) {
        if constexpr (kMmapFallback) {
            // Only mapped chunks lie outside the heap. Reading the header of a wild pointer
            // may fault, as it does in glibc; a tag check keeps stray ones from passing.
            Word h = load(b);
            if ((h & (kMmapped | kAlloc)) == (kMmapped | kAlloc) && tag_ok(b, h)) return b;
        }
        fatal_pointer(op, "invalid pointer (not allocated by heaplab)", p);
    }
    Word h = load(b);
    if (HEAPLAB_LIKELY((h & kAlloc) && tag_ok(b, h))) {
        if (HEAPLAB_UNLIKELY(size_of(h) <= kCacheMaxBlock && is_cached(b)))
            fatal_pointer(op, "double free (the block is in a thread cache)", p);
        return b;
    }
    // A block freed into the heap keeps a free header (no tag) and a matching footer, unless
    // it has since been merged or reused; anything else is not a block start at all.
    std::size_t size = size_of(h);
    if ((h & (kAlloc | kTagMask)) == 0 && size >= kMinBlock && g_heap.contains(b + size - 1) &&
        load(b + size - kHeaderSize) == size)
        fatal_pointer(op, "double free (the block is already free)", p);
    fatal_pointer(op, "invalid pointer (no block of heaplab starts here)", p);
}
// [validate]

inline void count_call() {
    if (ThreadCache *tc = t_cache)
        ++tc->calls;
    else
        g_uncached_calls.fetch_add(1, std::memory_order_relaxed);
}

/// A heap block of @p size bytes under the lock, falling back to a mapped chunk.
void *allocate_block(std::size_t n, std::size_t size) {
    g_heap.lock();
    thread_cache_drain_before_growth_locked(t_cache, size);
    char *b = g_heap.alloc_locked(size);
    g_heap.unlock();
    if (HEAPLAB_LIKELY(b != nullptr)) return payload_of(b);
    if constexpr (kMmapFallback) {
        if (void *p = chunk_alloc(n, kAlign)) return p;
    }
    return fail_enomem();
}

}  // namespace

void count_uncached_call() { g_uncached_calls.fetch_add(1, std::memory_order_relaxed); }

void *allocate_slow(std::size_t n) {
    if (HEAPLAB_UNLIKELY(n > kMaxRequest)) {
        count_call();
        return fail_enomem();
    }
    std::size_t size = block_size_for(n);
    ThreadCache *tc = t_cache;
    if (tc == nullptr) tc = thread_cache_create();
    if (tc == nullptr) {
        count_uncached_call();
        return allocate_block(n, size);
    }
    ++tc->calls;
    if (size <= kCacheMaxBlock) {
        unsigned c = cache_class_for(size);
        if (char *b = tc->pop(c)) return payload_of(b);  // first call of a thread: cache was just made
        if (char *b = thread_cache_refill(tc, c, size)) return payload_of(b);
        if constexpr (kMmapFallback) {
            if (void *p = chunk_alloc(n, kAlign)) return p;
        }
        return fail_enomem();
    }
    return allocate_block(n, size);
}

void deallocate_slow(void *p) {
    if (p == nullptr) return;
    int saved_errno = errno;  // free() never changes errno (munmap or a lock might)
    count_call();
    char *b = validate(p, "free()");
    Word h = load(b);
    if (h & kMmapped) {
        chunk_free(p, h);
    } else {
        ThreadCache *tc = t_cache;
        std::size_t size = size_of(h);
        // A thread that only ever frees (the consumer of a producer/consumer pair) gets its
        // cache here: without one, each of its frees would take the heap lock.
        if (tc == nullptr && size <= kCacheMaxBlock) tc = thread_cache_create();
        if (tc != nullptr && size <= kCacheMaxBlock) {
            unsigned c = cache_class_of(size);
            // Either the cache was just made, or the fast path found the class full: then
            // hand half of it back first.
            if (!tc->push(c, b)) thread_cache_flush_and_push(tc, c, b);
        } else {
            g_heap.lock();
            g_heap.free_locked(b);
            g_heap.unlock();
        }
    }
    errno = saved_errno;
}

// [reallocate]
void *reallocate(void *p, std::size_t n) {
    if (p == nullptr) return allocate(n);
    if (n == 0) {  // documented choice: free and return NULL, as glibc does
        deallocate(p);
        return nullptr;
    }
    count_call();
    char *b = validate(p, "realloc()");
    if (n > kMaxRequest) return fail_enomem();
    Word h = load(b);
    std::size_t old_usable;
    if (h & kMmapped) {
        if (void *q = chunk_realloc(p, h, n)) return q;
        old_usable = chunk_usable(p, h);
    } else {
        std::size_t size = block_size_for(n);
        std::size_t have = size_of(h);
        if (size <= have && have - size < kMinBlock) return p;  // fits; nothing worth giving back
        g_heap.lock();
        char *moved = g_heap.resize_locked(b, size);
        g_heap.unlock();
        if (moved != nullptr) return payload_of(moved);
        old_usable = usable_of(have);
    }
    void *q = allocate(n);
    if (q == nullptr) return nullptr;  // errno is ENOMEM; the old block is untouched
    std::memcpy(q, p, old_usable < n ? old_usable : n);
    deallocate(p);
    return q;
}
// [reallocate]

void *allocate_zeroed(std::size_t nmemb, std::size_t size) {
    std::size_t n;
    if (__builtin_mul_overflow(nmemb, size, &n)) {
        count_call();
        return fail_enomem();
    }
    void *p = allocate(n);
    if (p != nullptr) std::memset(p, 0, n);
    return p;
}

void *allocate_aligned(std::size_t align, std::size_t n) {
    if (align <= kAlign) return allocate(n);
    count_call();
    if (n > kMaxRequest || align > kMaxRequest) return fail_enomem();
    g_heap.lock();
    char *b = g_heap.alloc_aligned_locked(block_size_for(n), align);
    g_heap.unlock();
    if (b != nullptr) return payload_of(b);
    if constexpr (kMmapFallback) {
        if (void *p = chunk_alloc(n, align)) return p;
    }
    return fail_enomem();
}

std::size_t usable_size(void *p) {
    if (p == nullptr) return 0;
    char *b = validate(p, "malloc_usable_size()");
    Word h = load(b);
    return (h & kMmapped) ? chunk_usable(p, h) : usable_of(size_of(h));
}

int reset_heap() {
    g_heap.lock();
    thread_caches_forget_locked();
    bool ok = g_heap.reset_locked();
    g_heap.unlock();
    return ok ? 0 : -1;
}

std::size_t check_heap(bool verbose) {
    g_heap.lock();
    std::size_t cached = thread_caches_exact_locked() ? thread_caches_blocks_locked() : ~std::size_t{0};
    std::size_t problems = g_heap.check_locked(verbose, cached);
    g_heap.unlock();
    return problems;
}

Stats stats() {
    Stats s;
    g_heap.lock();
    HeapStats h = g_heap.stats_locked();
    s.calls = thread_caches_calls_locked();
    s.cached = thread_caches_bytes_locked();
    g_heap.unlock();
    s.calls += g_uncached_calls.load(std::memory_order_relaxed);
    s.in_use = h.in_use - s.cached + chunk_bytes();
    s.heap_size = h.heap_size + chunk_bytes();
    s.peak_heap = h.peak_heap + chunk_bytes();
    return s;
}

}  // namespace heaplab::ref
