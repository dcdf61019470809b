/**
 * @file thread_cache.h
 * @brief Per-thread caches of small blocks: most malloc and free calls touch no lock and no
 *        shared cache line.
 *
 * ## Spec
 * Each thread has, once it first allocates, a ThreadCache: for each cache class (size_class.h:
 * blocks of 32..1024 bytes in the mm.h build, 32 bytes..32 KiB in the preload build), a singly
 * linked stack of blocks (linked through their payloads), at most cache_capacity(class) long;
 * cache_max_bytes() bounds what one thread can hold.
 *
 * - A cached block is *allocated* as far as the heap knows (it never coalesces) and *free* as
 *   far as the program knows. Its payload carries cache_key() in its second word, which is
 *   how a second free() of it is caught; its header is never written (see block.h: only the
 *   heap lock's holder writes headers).
 * - **malloc** pops from its class; an empty class is refilled in one visit to the heap: with
 *   half its capacity (one lock acquisition for many blocks) once the process has threads,
 *   with the one block asked for, of exactly the size asked for, before.
 * - **free** pushes onto the freeing thread's cache, whichever thread allocated the block:
 *   blocks belong to the heap, not to threads, so a block freed by another thread needs no
 *   message back to its allocator (glibc's tcache does the same). A full class first returns
 *   half of its blocks to the heap, where they coalesce.
 * - In the preload build, the half a full class gives up goes, as one chain, onto a small
 *   per-class *transfer stack*, from which a thread whose class is empty takes a whole chain
 *   (see thread_cache.cpp); only when that is full do the blocks go back into the heap.
 * - **Thread exit** (a pthread key destructor) returns every cached block to the heap and the
 *   cache itself to a spare list for the next thread. Calls after that (from other
 *   destructors) go straight to the heap.
 *
 * Caches live in memory mapped for them (never in the heap they cache, so the graded heap
 * holds only blocks, and a fresh mm_init() can forget them all). The pointer to a thread's
 * cache is in initial-exec TLS: one %fs-relative load, no call to __tls_get_addr (which may
 * allocate, and costs a call on every malloc). The mm.h plug-in is loaded with dlopen(); glibc
 * keeps a small static-TLS reserve for exactly such libraries (rtld.optional_static_tls,
 * 512 bytes), and the 16 bytes used here fit in it.
 */
#ifndef HEAPLAB_REF_THREAD_CACHE_H
#define HEAPLAB_REF_THREAD_CACHE_H

#include "block.h"
#include "config.h"
#include "size_class.h"

#include <cstddef>
#include <cstdint>

/// Initial-exec TLS for the cache pointer: one %fs-relative load (see the file's spec).
#define HEAPLAB_TLS __attribute__((tls_model("initial-exec")))

namespace heaplab::ref {

/// The cache_capacity() of every class, computed at compile time.
struct CacheCapacities {
    std::uint16_t of[kCacheClasses];  ///< the capacity of each class, indexed by class
    constexpr CacheCapacities() : of{} {
        for (unsigned c = 0; c < kCacheClasses; ++c) of[c] = static_cast<std::uint16_t>(cache_capacity(c));
    }
};
/// The table push() consults: a load instead of a division on every free().
inline constexpr CacheCapacities kCapacity{};

/// One thread's cache: a stack of blocks per size class, touched only by its thread, so
/// neither malloc's nor free's fast path needs a lock or an atomic instruction.
struct ThreadCache {
    // Invariant: head[c] starts a chain of count[c] blocks whose sizes have class c (at least
    // cache_class_size(c) bytes, less than the next class's), each
    // allocated in the heap, linked through the first word of their payloads, with
    // cache_key(block) in the second.
    char *head[kCacheClasses];           ///< the top block of each class's stack, or null
    std::uint16_t count[kCacheClasses];  ///< blocks in each class's stack
    std::uint64_t calls;      ///< malloc-family calls this cache's threads made
    ThreadCache *next_all;    ///< every cache ever made (for mm_init and statistics)
    ThreadCache *next_spare;  ///< caches of threads that exited, ready for reuse

    // [push_pop]
    /// Pops a block of class @p c, or null when the class is empty. Fast path: no lock.
    char *pop(unsigned c) {
        char *b = head[c];
        if (HEAPLAB_UNLIKELY(b == nullptr)) return nullptr;
        auto *link = static_cast<char **>(payload_of(b));
        head[c] = link[0];
        link[1] = nullptr;  // no stale cache_key() in a block handed out
        --count[c];
        return b;
    }

    /// Pushes an allocated block of class @p c. @return false when the class is full.
    bool push(unsigned c, char *b) {
        if (HEAPLAB_UNLIKELY(count[c] >= kCapacity.of[c])) return false;
        auto *link = static_cast<Word *>(payload_of(b));
        link[0] = reinterpret_cast<std::uintptr_t>(head[c]);
        link[1] = cache_key(b);
        head[c] = b;
        ++count[c];
        return true;
    }
    // [push_pop]
};

/// This thread's cache, or null (not created yet, or the thread is exiting).
extern __thread ThreadCache *t_cache HEAPLAB_TLS;

/// Slow path: creates this thread's cache (and, the first time, the process-wide state:
/// the thread-exit key and the fork handlers). Null when the thread is exiting.
ThreadCache *thread_cache_create();

/// Refills class @p c from the heap (one lock) and pops a block of at least @p size bytes (the
/// block size a request needs; at most cache_class_size(c)). Null when the heap is out of
/// memory.
char *thread_cache_refill(ThreadCache *tc, unsigned c, std::size_t size);

/// Returns half of a full class to the heap (one lock), then pushes @p b.
void thread_cache_flush_and_push(ThreadCache *tc, unsigned c, char *b);

/// True when a thread cache holds @p block (its cache_key() is in its payload).
inline bool is_cached(char *block) { return static_cast<Word *>(payload_of(block))[1] == cache_key(block); }

/// Before the heap grows for a request of @p size bytes: if this thread's cache holds blocks,
/// returns them all to the heap (where they coalesce) — the request may fit then. Heap lock
/// held. Cheap when the cache is empty; and heap growth is rare next to cache hits.
void thread_cache_drain_before_growth_locked(ThreadCache *tc, std::size_t size);

/// Empties every cache without returning blocks (the heap they came from is gone: mm_init).
/// The caller holds the heap lock and no other thread is allocating.
void thread_caches_forget_locked();

/// False in a child forked while other threads ran: their caches may be caught mid-update,
/// so the count of cached blocks is no longer exact (heap lock held).
bool thread_caches_exact_locked();

/// @name Totals over every cache (heap lock held)
/// For mm_checkheap's cross-check and for stats(): walks the list of all caches.
/// @{

/// Blocks held by every cache.
std::size_t thread_caches_blocks_locked();
/// Bytes of the blocks held by every cache (headers included), counted at their classes' sizes:
/// a block above 1 KiB may be up to a class step larger, so this is a lower bound there.
std::size_t thread_caches_bytes_locked();
/// malloc-family calls served by every cache's threads.
std::uint64_t thread_caches_calls_locked();
/// @}

}  // namespace heaplab::ref

#endif  // HEAPLAB_REF_THREAD_CACHE_H
