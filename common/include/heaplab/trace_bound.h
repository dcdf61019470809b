/**
 * @file
 * @brief The best utilization a trace allows: perfect packing of its live blocks, computed
 *        from the trace alone (`heaplab trace bound`).
 *
 * ## Definition
 * Utilization, as the replay measures it on memlib, is `peak live / peak heap`: the largest
 * sum, over time, of the bytes the live blocks asked for (a calloc counts nmemb * size), over
 * the largest size the heap (the break) reached. An allocator lays each live block down as a
 * *footprint* of at least
 *
 *     footprint(n) = max(min_block, round_up(n + header, alignment))
 *
 * bytes (a request of 0 bytes: `zero_block`, which is 0 for an allocator that may return NULL
 * for it — the replay accepts that — and a realloc to 0 bytes costs 0, as it may free the
 * block), and two live footprints never overlap. So at every moment the heap is at least the
 * sum of the live footprints, and the peak heap at least the largest such sum: perfect packing,
 * as if nothing were ever fragmented and blocks could be moved at will. Hence
 *
 *     bound = peak live / max(peak footprint - alignment, peak live)
 *
 * is an upper bound on the utilization of *every* allocator that uses that block layout, on
 * that trace. (`- alignment`: the last block's rounding may stick out past the break; the
 * `max` because the heap always holds the live payloads themselves.)
 *
 * Two layouts matter:
 * - **any allocator** — `header 0, min_block 16, alignment 16, zero_block 0`: payloads are
 *   16-byte aligned and do not overlap, so each live block owns at least the 16-byte granules
 *   from its payload's start up to the next block's, whatever the design (headers, size
 *   classes, metadata kept outside the heap). No allocator that passes the replay's alignment
 *   check can beat this bound.
 * - **a given design** — e.g. the reference's 8-byte header and 32-byte minimum block, which it
 *   also gives a malloc(0) (`header 8, min_block 32, alignment 16, zero_block 32`).
 *
 * The bound ignores fragmentation entirely, so a real allocator stays below it; how far below
 * is the price of never moving a block.
 */
#ifndef HEAPLAB_TRACE_BOUND_H
#define HEAPLAB_TRACE_BOUND_H

#include "heaplab/trace.h"

#include <cstddef>

namespace heaplab {

/** @brief How an allocator lays blocks down: what one live block of n bytes costs at least. */
struct BlockLayout {
    std::size_t header = 0;      ///< bytes before each payload (0: none, or kept elsewhere)
    std::size_t min_block = 16;  ///< the smallest footprint of any block, malloc(0) included
    std::size_t alignment = 16;  ///< payload alignment; footprints are multiples of it
    std::size_t zero_block = 0;  ///< what a 0-byte malloc/calloc costs (0: it may return NULL)

    /// The footprint of a block of @p n requested bytes (see the file's definition).
    [[nodiscard]] std::size_t footprint(std::size_t n) const;
};

/** @brief The perfect-packing bound of one trace under one layout. */
struct PackingBound {
    std::size_t peak_live = 0;       ///< largest sum of requested bytes of live blocks
    std::size_t peak_footprint = 0;  ///< largest sum of footprints of live blocks
    std::size_t peak_at = 0;         ///< index of the request after which peak_footprint was first reached
    double utilization = 0;          ///< the bound; 0 when the trace never holds a byte
};

/**
 * @brief Computes the bound of @p trace under @p layout (see the file's definition).
 * @throws std::invalid_argument when @p layout is unusable: an alignment that is not a power
 *         of two, or a minimum block that is not a positive multiple of it (the message names
 *         the field and its value).
 */
PackingBound packing_bound(const Trace &trace, const BlockLayout &layout);

}  // namespace heaplab

#endif  // HEAPLAB_TRACE_BOUND_H
