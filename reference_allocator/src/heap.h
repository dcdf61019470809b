/**
 * @file heap.h
 * @brief The heap: blocks on the program break, segregated free lists, splitting, immediate
 *        coalescing, growth and trimming of the break, realloc in place, and (preload build
 *        only) heap regions mapped with mmap when the break cannot grow. One lock guards it.
 *
 * ## Spec
 * A *region* is a contiguous run of blocks closed by an epilogue. Region 0 lives on the
 * break: it starts where the break was when the heap was first used (padded so that payloads
 * are 16-byte aligned) and ends at the break. Only region 0 grows and shrinks. When the
 * break cannot grow — brk fails, or something else in the process moved it — the preload
 * build maps further regions (1 MiB, doubling up to 64 MiB); their free blocks share the same
 * free lists, and coalescing stops at region ends because every region starts with a block
 * marked kPrevAlloc and ends with an allocated epilogue.
 *
 * - **The wilderness** — a free block at the top of the break — is kept out of the free
 *   lists and used last (dlmalloc's "top chunk"; Wilson et al.'s wilderness preservation):
 *   small requests fill holes first, so the free space above the last block stays whole, for
 *   a realloc that grows there and for the next large request. link_locked() and
 *   unlink_locked() are where that rule lives.
 * - **alloc_locked(size)**: good fit from the free lists; else the wilderness, grown by what
 *   it lacks (never wasted); else a new mapped region. The
 *   chosen block is split when the rest is at least kMinBlock; the rest goes back to its
 *   list.
 * - **free_locked(block)**: coalesce with a free neighbour on either side at once (the
 *   footer of the block below is read only when our kPrevAlloc bit says it is free); if the
 *   result is the top of the break and at least kTrimThreshold, shrink the break with a
 *   negative mem_sbrk(), keeping kTopPad.
 * - **resize_locked(block, size)**: realloc without malloc + copy + free — shrink (split off
 *   and free the tail), grow into a free next block, slide down into a free block below
 *   (memmove; holes left by neighbours that moved away are reused, which matters for buffers
 *   grown a little at a time), or grow the break when the block is the last one. In the mm.h
 *   build (kShrinkMovesDown), a block of 4 KiB or more shrunk to at most 256 KiB moves
 *   instead into the best-fitting free block *below* it, when there is one: the whole old
 *   block is freed and merges with its neighbours, where splitting would leave the shrunken
 *   block standing in the middle of the space it used to fill.
 *
 * Locking: every `_locked` function requires lock() to be held by the caller. contains() and
 * the region bounds are read without the lock (they only change under it, atomically).
 */
#ifndef HEAPLAB_REF_HEAP_H
#define HEAPLAB_REF_HEAP_H

#include "block.h"
#include "config.h"
#include "free_lists.h"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <pthread.h>
#include <sys/single_threaded.h>

namespace heaplab::ref {

/// A contiguous run of blocks: [first, end), where the last 8 bytes are the epilogue.
struct Region {
    std::atomic<char *> first;  ///< the region's first block (a header address)
    std::atomic<char *> end;    ///< one past the epilogue; moves with the break in region 0
};

/// What the heap can tell about itself (bytes are block bytes, headers included).
struct HeapStats {
    std::size_t in_use = 0;        ///< bytes in allocated blocks (including thread-cached ones)
    std::size_t heap_size = 0;     ///< break region + mapped regions now
    std::size_t peak_heap = 0;     ///< largest heap_size seen (break peak + mapped regions)
    std::size_t regions = 0;       ///< regions, the break region included
};

/// The blocks of every region, their free lists and the lock that guards them (file spec).
/// Zero-initialised static storage is a valid, not yet set up heap: malloc may be called
/// before any constructor runs.
class Heap {
public:
    // [lock]
    /// @name The heap lock
    /// While the process has a single thread, glibc's `__libc_single_threaded` is true and the
    /// lock is skipped altogether (glibc's own malloc does the same): nobody can be holding it,
    /// and no thread can appear in the middle of a call, because only this thread could create
    /// one. glibc clears the flag before a second thread starts, and never sets it again, so a
    /// lock() and its unlock() always agree on whether the mutex was taken.
    /// @{

    /// Takes the heap lock (a no-op while the process has one thread).
    void lock() {
        if (!__libc_single_threaded) pthread_mutex_lock(&mutex_);
    }
    /// Releases the heap lock (a no-op while the process has one thread).
    void unlock() {
        if (!__libc_single_threaded) pthread_mutex_unlock(&mutex_);
    }
    /// @}
    // [lock]
    /// For pthread_atfork: the child inherits the lock held by the thread that forked.
    void reinit_lock_in_child() { mutex_ = PTHREAD_MUTEX_INITIALIZER; }

    /// Forgets the whole heap and starts a fresh one at the current break (mm_init after
    /// mem_reset). @return false when the break cannot be set up.
    bool reset_locked();

    /// An allocated block of at least @p size bytes (a block size: block_size_for(request)),
    /// or null when no memory can be had.
    char *alloc_locked(std::size_t size);

    /// Up to @p want allocated blocks of exactly @p size bytes, carved side by side from one
    /// free block (one search instead of @p want), for a thread-cache refill.
    /// @return how many were stored in @p out (0 when out of memory).
    unsigned alloc_run_locked(std::size_t size, unsigned want, char **out);

    /// True when alloc_locked(@p size) would be served without growing the heap.
    bool fits_locked(std::size_t size) const;

    /// Like alloc_locked(), with the payload aligned to @p align (a power of two above 16).
    char *alloc_aligned_locked(std::size_t size, std::size_t align);

    /// Frees an allocated block (not held by a thread cache): coalesce, then trim or list.
    void free_locked(char *block);

    /// Resizes an allocated block to at least @p size bytes without a new allocation: in place,
    /// moved down into a free block just below it (memmove), or, shrinking, moved into a free
    /// block further below (see the file's spec). @return the block, possibly moved, or null
    /// when it cannot (the block is then unchanged).
    char *resize_locked(char *block, std::size_t size);

    /// True when @p p lies inside one of our regions (lock-free; exact for live blocks).
    /// Inline: free() asks this on every call, and the answer is nearly always region 0.
    bool contains(const void *p) const {
        auto a = reinterpret_cast<std::uintptr_t>(p);
        auto first = reinterpret_cast<std::uintptr_t>(regions_[0].first.load(std::memory_order_relaxed));
        auto end = reinterpret_cast<std::uintptr_t>(regions_[0].end.load(std::memory_order_acquire));
        if (HEAPLAB_LIKELY(a > first && a < end)) return true;
        return nregions_.load(std::memory_order_acquire) > 1 && contains_mapped(p);
    }

    /// Verifies every invariant; reports problems on stderr. @p cached is the number of
    /// blocks the thread caches hold (or ~0 to skip that cross-check).
    /// @return the number of problems found (0: consistent).
    std::size_t check_locked(bool verbose, std::size_t cached) const;

    /// The heap's totals now; the thread caches' share is added by stats() in allocator.h.
    HeapStats stats_locked() const;

private:
    bool contains_mapped(const void *p) const;
    bool setup_break_locked();
    char *grow_break_locked(std::size_t size);
    char *grow_mapped_locked(std::size_t size);
    char *place_locked(char *block, std::size_t size);
    bool is_wilderness(const char *block, std::size_t size) const;
    void link_locked(char *block, std::size_t size);
    void unlink_locked(char *block, std::size_t size);
    void split_tail_locked(char *block, std::size_t size);
    char *shrink_into_hole_below_locked(char *block, std::size_t size);
    char *absorb_locked(char *start, char *block, std::size_t have, std::size_t total, std::size_t size,
                        Word prev_alloc);
    bool trim_locked(char *block, std::size_t size, Word prev_alloc);
    char *epilogue() const { return regions_[0].end.load(std::memory_order_relaxed) - kHeaderSize; }

    static constexpr unsigned kMaxRegions = 64;

    // Constant-initialised (g_heap is constinit): the heap is valid (empty, not yet set up)
    // before any constructor. Everything is zero but the mutex's kind: adaptive, so that a
    // thread finding the lock taken spins briefly before it sleeps. The lock is held for a few
    // hundred nanoseconds; sleeping in futex() costs more than that, and two threads that
    // missed their caches at once used to spend more time switching than allocating (the
    // `small` workload with 2 threads: 45,800 voluntary context switches and 0.54x glibc with
    // the default mutex, 7,500 and 1.76x with this one; bench/README.md).
    // Layout matters for threads: the region bounds are read by every free() on every core,
    // and the lock and free lists are written by whichever thread holds the lock. Sharing a
    // cache line would make each free() miss whenever another thread touched the lists
    // (false sharing), so the read-mostly bounds get cache lines of their own.
    alignas(64) Region regions_[kMaxRegions];  ///< [0]: the break; [1..]: mapped regions
    std::atomic<unsigned> nregions_{1};        ///< regions in use, region 0 counted always
    alignas(64) pthread_mutex_t mutex_ = PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP;
    bool break_ready_ = false;                 ///< region 0 is set up on the break
    FreeLists lists_;                          ///< every free block of every region
    std::size_t in_use_ = 0;                 ///< bytes of allocated blocks
    std::size_t mapped_ = 0;                 ///< bytes of mapped regions
    std::size_t break_peak_ = 0;             ///< largest break region size
};

/// The one heap of the process (of the plug-in, in the mm.h build).
extern Heap g_heap;

}  // namespace heaplab::ref

#endif  // HEAPLAB_REF_HEAP_H
