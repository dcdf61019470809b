/** @file heap.cpp @brief The heap on the break (see heap.h for the spec). */
#include "heap.h"

#include "report.h"
#include "size_class.h"
#include "thread_cache.h"

#include "heaplab/memlib.h"

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <sys/mman.h>
#include <unistd.h>

namespace heaplab::ref {

constinit Heap g_heap;

namespace {

bool is_free(Word header) { return (header & kAlloc) == 0; }

/// The first size mapped regions have, and the largest they grow to (each new one doubles).
constexpr std::size_t kRegionMin = 1024 * KiB;
constexpr std::size_t kRegionMax = 64 * 1024 * KiB;

std::size_t page_size() {
    static std::atomic<std::size_t> page{0};  // every thread computes the same value
    std::size_t p = page.load(std::memory_order_relaxed);
    if (p == 0) {
        p = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
        page.store(p, std::memory_order_relaxed);
    }
    return p;
}

}  // namespace

bool Heap::setup_break_locked() {
    // Payloads must be 16-aligned, so the first header goes at an address that is 8 mod 16.
    // The real break may start anywhere if a foreign brk user moved it before us.
    auto lo = reinterpret_cast<std::uintptr_t>(mem_sbrk(0));
    std::size_t pad = (kAlign - (lo + kHeaderSize) % kAlign) % kAlign;
    void *old = mem_sbrk(static_cast<std::intptr_t>(pad + kHeaderSize));
    if (old == reinterpret_cast<void *>(-1)) return false;
    char *first = static_cast<char *>(old) + pad;
    store(first, kAlloc | kPrevAlloc);  // the epilogue of an empty region
    regions_[0].first.store(first, std::memory_order_relaxed);
    regions_[0].end.store(first + kHeaderSize, std::memory_order_release);
    break_ready_ = true;
    return true;
}

bool Heap::reset_locked() {
    lists_.reset();
    for (unsigned i = 1; i < nregions_.load(std::memory_order_relaxed); ++i) {
        char *first = regions_[i].first.load(std::memory_order_relaxed);
        char *end = regions_[i].end.load(std::memory_order_relaxed);
        munmap(first - kHeaderSize, static_cast<std::size_t>(end - first) + kHeaderSize);
    }
    nregions_.store(1, std::memory_order_release);
    regions_[0].first.store(nullptr, std::memory_order_relaxed);
    regions_[0].end.store(nullptr, std::memory_order_release);
    break_ready_ = false;
    in_use_ = 0;
    mapped_ = 0;
    return setup_break_locked();
}

// [wilderness]
bool Heap::is_wilderness(const char *block, std::size_t size) const {
    return break_ready_ && block + size == epilogue();
}

void Heap::link_locked(char *block, std::size_t size) {
    if (!is_wilderness(block, size)) lists_.insert(reinterpret_cast<FreeBlock *>(block), size);
}

void Heap::unlink_locked(char *block, std::size_t size) {
    if (!is_wilderness(block, size)) lists_.remove(reinterpret_cast<FreeBlock *>(block), size);
}
// [wilderness]

// [place]
char *Heap::place_locked(char *block, std::size_t size) {
    Word h = load(block);
    std::size_t have = size_of(h);
    Word prev = h & kPrevAlloc;
    if (have - size >= kMinBlock) {
        // Split: the front is the allocation, the rest stays free (its next block already
        // knows its predecessor is free, since `block` was).
        store(block, alloc_header(block, size, prev));
        char *rest = block + size;
        write_free(rest, have - size, kPrevAlloc);
        link_locked(rest, have - size);
    } else {
        size = have;  // the rest would be too small to be a block: keep it inside this one
        store(block, alloc_header(block, size, prev));
        char *next = block + size;
        store(next, load(next) | kPrevAlloc);
    }
    in_use_ += size;
    // free() reads the second payload word of a small block to tell whether a thread cache
    // holds it (cache_key()). Make it defined, so that a block the program never wrote is not
    // mistaken for anything — and Memcheck sees no read of uninitialised memory there.
    if (size <= kCacheMaxBlock) store(static_cast<char *>(payload_of(block)) + sizeof(Word), 0);
    return block;
}
// [place]

// [grow]
char *Heap::grow_break_locked(std::size_t size) {
    if (!break_ready_ && !setup_break_locked()) return nullptr;
    char *epi = epilogue();
    Word eh = load(epi);
    std::size_t top = 0;
    char *start = epi;
    if ((eh & kPrevAlloc) == 0) {  // the last block is free: grow it rather than waste it
        top = load(epi - kHeaderSize);
        start = epi - top;
        if (top >= size) return start;  // the wilderness is in no list
    }
    std::size_t incr = size - top;
    if (incr < kGrowMin) incr = kGrowMin;
    if constexpr (kPreload) {
        // End the break on a page boundary: the kernel maps whole pages anyway.
        auto brk_end = reinterpret_cast<std::uintptr_t>(epi) + kHeaderSize;
        incr = round_up(brk_end + incr, page_size()) - brk_end;
    }
    if (incr > static_cast<std::size_t>(INTPTR_MAX)) return nullptr;
    void *old = mem_sbrk(static_cast<std::intptr_t>(incr));
    if (old == reinterpret_cast<void *>(-1)) return nullptr;
    if (static_cast<char *>(old) != epi + kHeaderSize) {
        // memlib promises a contiguous break (it fails rather than skip over a foreign user);
        // if that ever broke, our blocks would straddle memory that is not ours.
        fatal_pointer("mem_sbrk", "the break moved under the heap (memlib contract broken)", old);
    }
    // The old epilogue becomes the header of the new memory; a new epilogue closes it.
    char *new_epi = epi + incr;
    store(new_epi, kAlloc);  // its predecessor (the grown block) is free
    regions_[0].end.store(new_epi + kHeaderSize, std::memory_order_release);
    if (top != 0) {
        write_free(start, top + incr, kPrevAlloc);  // a free block's predecessor is in use
    } else {
        write_free(start, incr, eh & kPrevAlloc);
    }
    return start;
}
// [grow]

char *Heap::grow_mapped_locked(std::size_t size) {
    unsigned n = nregions_.load(std::memory_order_relaxed);
    if (n == kMaxRegions) return nullptr;
    std::size_t len = kRegionMin << (n < 7 ? n - 1 : 6);
    if (len > kRegionMax) len = kRegionMax;
    if (len < size + 2 * kHeaderSize) len = round_up(size + 2 * kHeaderSize, page_size());
    void *mem = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) return nullptr;
    // [8 bytes of padding][one free block][epilogue]: page-aligned start + 8 is 8 mod 16.
    char *first = static_cast<char *>(mem) + kHeaderSize;
    std::size_t block = len - 2 * kHeaderSize;
    write_free(first, block, kPrevAlloc);
    store(first + block, kAlloc);
    regions_[n].first.store(first, std::memory_order_relaxed);
    regions_[n].end.store(static_cast<char *>(mem) + len, std::memory_order_relaxed);
    nregions_.store(n + 1, std::memory_order_release);
    mapped_ += len;
    return first;
}

unsigned Heap::alloc_run_locked(std::size_t size, unsigned want, char **out) {
    char *block = nullptr;
    if (FreeBlock *fb = lists_.find(size * want)) {
        lists_.remove(fb, size_of(fb->header));
        block = reinterpret_cast<char *>(fb);
    } else {
        block = grow_break_locked(size * want);
    }
    if (block == nullptr) {  // no room for a whole run: take what single blocks there are
        unsigned n = 0;
        while (n < want && (out[n] = alloc_locked(size)) != nullptr) ++n;
        return n;
    }
    Word h = load(block);
    std::size_t have = size_of(h);
    std::size_t rest = have - size * want;
    for (unsigned i = 0; i < want; ++i) {
        char *piece = block + i * size;
        std::size_t piece_size = size;
        if (i + 1 == want && rest < kMinBlock) piece_size += rest;  // too small to stand alone
        store(piece, alloc_header(piece, piece_size, i == 0 ? (h & kPrevAlloc) : kPrevAlloc));
        store(static_cast<char *>(payload_of(piece)) + sizeof(Word), 0);  // see place_locked()
        out[i] = piece;
    }
    if (rest >= kMinBlock) {
        char *tail = block + size * want;
        write_free(tail, rest, kPrevAlloc);
        link_locked(tail, rest);
        in_use_ += have - rest;
    } else {
        char *next = block + have;
        store(next, load(next) | kPrevAlloc);
        in_use_ += have;
    }
    return want;
}

bool Heap::fits_locked(std::size_t size) const {
    if (lists_.find(size) != nullptr) return true;
    if (!break_ready_) return false;
    char *epi = epilogue();
    return (load(epi) & kPrevAlloc) == 0 && load(epi - kHeaderSize) >= size;
}

// [alloc]
char *Heap::alloc_locked(std::size_t size) {
    if (FreeBlock *fb = lists_.find(size)) {
        lists_.remove(fb, size_of(fb->header));
        return place_locked(reinterpret_cast<char *>(fb), size);
    }
    char *block = grow_break_locked(size);
    if constexpr (kMmapFallback) {
        if (block == nullptr) block = grow_mapped_locked(size);
    }
    return block == nullptr ? nullptr : place_locked(block, size);
}
// [alloc]

void Heap::split_tail_locked(char *block, std::size_t size) {
    Word h = load(block);
    std::size_t have = size_of(h);
    if (have - size < kMinBlock) return;
    store(block, alloc_header(block, size, h & kPrevAlloc));
    char *tail = block + size;
    // Make the tail a block of its own, allocated for a moment, and free it: free_locked()
    // already knows how to coalesce it with a free successor or trim it off the break.
    store(tail, alloc_header(tail, have - size, kPrevAlloc));
    free_locked(tail);
}

char *Heap::alloc_aligned_locked(std::size_t size, std::size_t align) {
    // Room for the worst case: up to `align` bytes skipped, and a gap of at least kMinBlock
    // before the aligned payload, so the gap can become a free block of its own.
    char *block = alloc_locked(size + align + kMinBlock);
    if (block == nullptr) return nullptr;
    auto p = reinterpret_cast<std::uintptr_t>(payload_of(block));
    std::uintptr_t q = round_up(p, align);
    if (q != p && q - p < kMinBlock) q = round_up(p + kMinBlock, align);
    if (q != p) {
        std::size_t lead = q - p;
        Word h = load(block);
        char *aligned = block + lead;
        store(aligned, alloc_header(aligned, size_of(h) - lead, 0));
        store(static_cast<char *>(payload_of(aligned)) + sizeof(Word), 0);  // see place_locked()
        store(block, alloc_header(block, lead, h & kPrevAlloc));
        free_locked(block);  // in_use_ drops by `lead`: the rest is still counted
        block = aligned;
    }
    split_tail_locked(block, size);
    return block;
}

// [trim]
bool Heap::trim_locked(char *block, std::size_t size, Word prev_alloc) {
    std::size_t release = size - kTopPad;
    if constexpr (kPreload) release &= ~(page_size() - 1);
    if (release == 0) return false;
    if (mem_sbrk(-static_cast<std::intptr_t>(release)) == reinterpret_cast<void *>(-1)) return false;
    std::size_t left = size - release;  // >= kTopPad >= kMinBlock
    write_free(block, left, prev_alloc);
    char *new_epi = block + left;
    store(new_epi, kAlloc);
    regions_[0].end.store(new_epi + kHeaderSize, std::memory_order_release);
    return true;  // what is left is the wilderness: in no list
}
// [trim]
static_assert(kTopPad >= kMinBlock && kTrimThreshold > kTopPad);

// [free]
void Heap::free_locked(char *block) {
    Word h = load(block);
    std::size_t size = size_of(h);
    Word prev = h & kPrevAlloc;
    in_use_ -= size;
    char *next = block + size;
    Word nh = load(next);
    if (is_free(nh)) {  // merge with the block above
        unlink_locked(next, size_of(nh));
        size += size_of(nh);
    }
    if (prev == 0) {  // merge with the block below: its footer is the word before us
        std::size_t below = load(block - kHeaderSize);
        block -= below;
        unlink_locked(block, below);
        size += below;
        prev = load(block) & kPrevAlloc;  // always set: two free blocks are never adjacent
    }
    write_free(block, size, prev);
    next = block + size;
    store(next, load(next) & ~kPrevAlloc);
    if (size >= kTrimThreshold && break_ready_ && next == epilogue() && trim_locked(block, size, prev))
        return;
    link_locked(block, size);
}
// [free]

char *Heap::shrink_into_hole_below_locked(char *block, std::size_t size) {
    // Only blocks big enough for their old place to matter, and copies bounded in size (the
    // large-blocks trace shrinks blocks of megabytes: copying those doubled its time).
    constexpr std::size_t kMovesFrom = 4 * KiB, kCopiesAtMost = 256 * KiB;
    if (size_of(load(block)) < kMovesFrom || size > kCopiesAtMost) return nullptr;
    FreeBlock *hole = lists_.find(size);  // the wilderness is in no list: never above the block
    if (hole == nullptr || reinterpret_cast<char *>(hole) > block) return nullptr;
    lists_.remove(hole, size_of(hole->header));
    char *lower = place_locked(reinterpret_cast<char *>(hole), size);
    std::memcpy(payload_of(lower), payload_of(block), usable_of(size));
    free_locked(block);
    return lower;
}

// [resize]
char *Heap::resize_locked(char *block, std::size_t size) {
    Word h = load(block);
    std::size_t have = size_of(h);
    if (size <= have) {  // shrink: move into a hole below, or give the tail back
        if constexpr (kShrinkMovesDown) {
            if (char *lower = shrink_into_hole_below_locked(block, size)) return lower;
        }
        split_tail_locked(block, size);
        return block;
    }
    char *next = block + have;
    Word nh = load(next);
    std::size_t next_free = is_free(nh) ? size_of(nh) : 0;
    Word prev = h & kPrevAlloc;
    if (have + next_free >= size) {  // 1. grow into the free block above
        if (next_free != 0) unlink_locked(next, next_free);
        return absorb_locked(block, block, have, have + next_free, size, prev);
    }
    if (prev == 0) {  // 2. the free block below (and the one above) together are enough
        std::size_t below = load(block - kHeaderSize);
        if (below + have + next_free >= size) {
            char *start = block - below;
            unlink_locked(start, below);
            if (next_free != 0) unlink_locked(next, next_free);
            return absorb_locked(start, block, have, below + have + next_free, size,
                                 load(start) & kPrevAlloc);
        }
    }
    // 3. the last block of the break (perhaps below a free top block): move the break.
    if (!break_ready_ || next + next_free != epilogue()) return nullptr;
    char *top = grow_break_locked(size - have);  // `next`, if free, is the wilderness
    if (top == nullptr) return nullptr;
    return absorb_locked(block, block, have, have + size_of(load(top)), size, prev);
}
// [resize]

char *Heap::absorb_locked(char *start, char *block, std::size_t have, std::size_t total,
                          std::size_t size, Word prev_alloc) {
    // The neighbours are unlinked already; moving down keeps the data (memmove: they overlap).
    if (start != block) std::memmove(payload_of(start), payload_of(block), usable_of(have));
    store(start, alloc_header(start, total, prev_alloc));
    char *after = start + total;
    store(after, load(after) | kPrevAlloc);
    in_use_ += total - have;
    split_tail_locked(start, size);
    return start;
}

bool Heap::contains_mapped(const void *p) const {
    unsigned n = nregions_.load(std::memory_order_acquire);
    for (unsigned i = 1; i < n; ++i) {
        const char *first = regions_[i].first.load(std::memory_order_relaxed);
        if (p > first && p < regions_[i].end.load(std::memory_order_relaxed)) return true;
    }
    return false;
}

HeapStats Heap::stats_locked() const {
    HeapStats s;
    s.in_use = in_use_;
    s.regions = nregions_.load(std::memory_order_relaxed);
    std::size_t brk = break_ready_ ? mem_heapsize() : 0;
    s.heap_size = brk + mapped_;
    s.peak_heap = mem_peak_heapsize() + mapped_;
    return s;
}

std::size_t Heap::check_locked(bool verbose, std::size_t cached) const {
    std::size_t problems = 0;
    auto problem = [&problems](const char *what, const void *where) {
        ++problems;
        Line().str("heaplab check: ").str(what).str(" at ").ptr(where).write_to(STDERR_FILENO);
    };
    std::size_t free_blocks = 0, cached_blocks = 0, allocated = 0;
    unsigned n = nregions_.load(std::memory_order_relaxed);
    for (unsigned r = 0; r < n; ++r) {
        char *first = regions_[r].first.load(std::memory_order_relaxed);
        char *end = regions_[r].end.load(std::memory_order_relaxed);
        if (first == nullptr) continue;
        char *epi = end - kHeaderSize;
        Word prev_alloc = kPrevAlloc;  // a region's first block has no predecessor to merge
        bool prev_free = false;
        char *b = first;
        while (b < epi) {
            Word h = load(b);
            std::size_t size = size_of(h);
            if (verbose) {
                Line()
                    .str(is_free(h) ? "  free  " : is_cached(b) ? "  cached" : "  alloc ")
                    .str(" block ")
                    .ptr(b)
                    .str(" size ")
                    .num(size)
                    .write_to(STDERR_FILENO);
            }
            if (reinterpret_cast<std::uintptr_t>(payload_of(b)) % kAlign != 0)
                problem("misaligned payload", b);
            if (size < kMinBlock || size % kAlign != 0 || size > static_cast<std::size_t>(epi - b)) {
                problem("bad block size (heap walk stops)", b);
                break;
            }
            if ((h & kPrevAlloc) != prev_alloc) problem("kPrevAlloc disagrees with the block below", b);
            if (h & kMmapped) problem("kMmapped set on a heap block", b);
            if (is_free(h)) {
                ++free_blocks;
                if (prev_free) problem("two adjacent free blocks (missed coalescing)", b);
                if (load(b + size - kHeaderSize) != size) problem("footer disagrees with header", b);
                if (h & kTagMask) problem("free block with a tag", b);
            } else {
                allocated += size;
                if (size <= kCacheMaxBlock && is_cached(b)) ++cached_blocks;
                if (!tag_ok(b, h)) problem("allocated block with a bad tag (overwritten header?)", b);
            }
            prev_free = is_free(h);
            prev_alloc = prev_free ? 0 : kPrevAlloc;
            b += size;
        }
        if (b == epi) {
            Word eh = load(epi);
            if (size_of(eh) != 0 || is_free(eh)) problem("bad epilogue", epi);
            if ((eh & kPrevAlloc) != prev_alloc) problem("epilogue's kPrevAlloc disagrees", epi);
            if (r == 0 && prev_free && load(epi - kHeaderSize) >= kTrimThreshold)
                problem("an untrimmed free block of kTrimThreshold or more at the top", epi);
        } else if (b > epi) {
            problem("the block walk overran the epilogue", epi);
        }
    }
    // Every listed block is free, in its right bin, inside the heap, with consistent links.
    std::size_t listed = 0;
    for (unsigned bin = 0; bin < kNumBins; ++bin) {
        if (lists_.bit(bin) != (lists_.head(bin) != nullptr)) problem("bitmap disagrees with bin", lists_.head(bin));
        const FreeBlock *prev = nullptr;
        for (const FreeBlock *f = lists_.head(bin); f != nullptr; prev = f, f = f->next) {
            if (!contains(f + 1)) {
                problem("free-list entry outside the heap (list walk stops)", f);
                break;
            }
            if (!is_free(f->header)) problem("allocated block in a free list", f);
            if (bin_of(size_of(f->header)) != bin) problem("block in the wrong bin", f);
            if (f->prev != prev) problem("free-list prev link broken", f);
            if (++listed > free_blocks + 1) break;
        }
    }
    // Every free block is listed, except the wilderness (a free block at the top of the break).
    if (break_ready_) {
        char *epi = epilogue();
        if ((load(epi) & kPrevAlloc) == 0) ++listed;
    }
    if (listed != free_blocks) problem("free blocks in the heap != blocks in the free lists", nullptr);
    if (allocated != in_use_) problem("bytes in use disagree with the heap walk", nullptr);
    if (cached != ~std::size_t{0} && cached != cached_blocks)
        problem("blocks marked cached in the heap != blocks in the thread caches", nullptr);
    return problems;
}

}  // namespace heaplab::ref
