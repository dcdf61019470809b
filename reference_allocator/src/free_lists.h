/**
 * @file free_lists.h
 * @brief Segregated free lists: one doubly linked list per bin, and a bitmap of the
 *        non-empty bins, so that "the first bin at or above i with a block" is two instructions.
 *
 * ## Spec
 * - insert() pushes at the head (LIFO: the block just freed is warm in the cache).
 * - find() is *good fit*: in an exact bin the head fits perfectly; in the request's own range
 *   bin, the best of the first kScanLimit blocks that fit; otherwise the smallest of the first
 *   kScanLimit blocks of the next non-empty bin, all of which are larger than the request
 *   (taking that bin's head instead cost 0.6 points of mean utilization on the trace suite).
 *   It does not unlink.
 * - remove() unlinks any block in O(1) (the links are doubly linked for coalescing, which must
 *   take a neighbour out of the middle of its list).
 *
 * Invariants (verified by check()): bit i of the bitmap is set exactly when list i is
 * non-empty; every block in list i is free and bin_of(its size) == i; prev/next links agree.
 *
 * Not thread-safe: the heap's lock protects every call.
 */
#ifndef HEAPLAB_REF_FREE_LISTS_H
#define HEAPLAB_REF_FREE_LISTS_H

#include "block.h"
#include "config.h"
#include "size_class.h"

#include <bit>
#include <cstdint>

namespace heaplab::ref {

/// Every free block of the heap, sorted into bins by size (see the file's spec). The heap owns
/// one; it never allocates, so it can live in zero-initialised static storage.
class FreeLists {
public:
    /// How many blocks of the request's own range bin find() examines before settling.
    static constexpr unsigned kScanLimit = 16;
    /// How many blocks of the next non-empty bin find() compares.
    static constexpr unsigned kNextBinScan = kPreload ? 4 : 16;

    /// Forgets every block (a fresh heap). Zero-initialised storage is already reset.
    void reset() {
        for (auto &h : heads_) h = nullptr;
        for (auto &w : bitmap_) w = 0;
    }

    // [insert]
    /// Links free block @p b of @p size bytes at the head of its bin (LIFO) and marks the bin
    /// non-empty. @p size is passed in because the caller has it in a register already.
    void insert(FreeBlock *b, std::size_t size) {
        unsigned bin = bin_of(size);
        FreeBlock *head = heads_[bin];
        b->next = head;
        b->prev = nullptr;
        if (head != nullptr) head->prev = b;
        heads_[bin] = b;
        bitmap_[bin / 64] |= std::uint64_t{1} << (bin % 64);
    }
    // [insert]

    // [remove]
    /// Unlinks @p b (of @p size bytes) from wherever it is in its bin, in O(1); clears the bin's
    /// bit when it was the last block.
    void remove(FreeBlock *b, std::size_t size) {
        if (b->prev != nullptr) {
            b->prev->next = b->next;
        } else {
            unsigned bin = bin_of(size);
            heads_[bin] = b->next;
            if (b->next == nullptr) bitmap_[bin / 64] &= ~(std::uint64_t{1} << (bin % 64));
        }
        if (b->next != nullptr) b->next->prev = b->prev;
    }
    // [remove]

    // [find]
    /// A free block of at least @p size bytes (still linked), or null when none exists.
    FreeBlock *find(std::size_t size) const {
        unsigned bin = bin_of(size);
        if (bin >= kExactBins) {
            // The request's own range bin holds sizes within 25% of it, some too small: take
            // the tightest fit among the first few, which is where utilization is won.
            FreeBlock *best = nullptr;
            std::size_t best_size = ~std::size_t{0};
            unsigned seen = 0;
            for (FreeBlock *b = heads_[bin]; b != nullptr && seen < kScanLimit; b = b->next, ++seen) {
                std::size_t s = size_of(b->header);
                if (s >= size && s < best_size) {
                    best = b;
                    best_size = s;
                    if (s == size) break;
                }
            }
            if (best != nullptr) return best;
            ++bin;
        } else if (heads_[bin] != nullptr) {
            return heads_[bin];  // exact bin: a perfect fit
        } else {
            ++bin;
        }
        int next = first_nonempty_from(bin);
        if (next < 0) return nullptr;
        if (static_cast<unsigned>(next) < kExactBins) return heads_[next];
        // Every block here fits; the smallest of the first few wastes the least. (Fewer in
        // the preload build: each one looked at is a likely cache miss, and speed wins there.)
        FreeBlock *best = heads_[next];
        std::size_t best_size = size_of(best->header);
        unsigned seen = 0;
        for (FreeBlock *b = best->next; b != nullptr && ++seen < kNextBinScan; b = b->next) {
            std::size_t s = size_of(b->header);
            if (s < best_size) {
                best = b;
                best_size = s;
            }
        }
        return best;
    }
    // [find]

    /// @name Inspection, for the heap checker and the tests
    /// @{

    /// The first block of @p bin, or null: where a walk over the bin starts.
    FreeBlock *head(unsigned bin) const { return heads_[bin]; }
    /// Whether the bitmap marks @p bin non-empty (the checker compares it with head()).
    bool bit(unsigned bin) const { return (bitmap_[bin / 64] >> (bin % 64)) & 1; }
    /// @}

private:
    /// The first non-empty bin at or after @p bin, or -1.
    int first_nonempty_from(unsigned bin) const {
        for (unsigned w = bin / 64; w < kWords; ++w) {
            std::uint64_t bits = bitmap_[w];
            if (w == bin / 64) bits &= ~std::uint64_t{0} << (bin % 64);
            if (bits != 0) return static_cast<int>(w * 64 + static_cast<unsigned>(std::countr_zero(bits)));
        }
        return -1;
    }

    static constexpr unsigned kWords = (kNumBins + 63) / 64;
    FreeBlock *heads_[kNumBins] = {};
    std::uint64_t bitmap_[kWords] = {};
};

}  // namespace heaplab::ref

#endif  // HEAPLAB_REF_FREE_LISTS_H
