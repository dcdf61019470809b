/**
 * @file heap_picture.h
 * @brief What a heap picture shows: the heap after some request, as blocks with their parts.
 *
 * A snapshot is taken between two requests of a replay. The replay knows every live payload
 * (where the allocator put it and how many bytes were asked); the allocator's optional
 * mm_heap_walk() (heap_walk.h) tells the rest: where each block starts, its header and footer,
 * which blocks are free. With the walk the snapshot is exact; without it, the live payloads are
 * exact and every other byte is honestly "not a live payload".
 *
 * A snapshot tiles the heap [0, heap_size) (offsets from mem_heap_lo()) with blocks, in
 * address order, without gaps:
 * - with a walk: the walk's blocks, and Overhead blocks for the bytes it did not visit (a pad,
 *   a prologue, an epilogue);
 * - without: one Live block per live payload, and Unknown blocks between them.
 */
#ifndef HEAPLAB_HEAP_PICTURE_H
#define HEAPLAB_HEAP_PICTURE_H

#include "heaplab/allocator.h"
#include "heaplab/replay.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace heaplab {

/** @brief One block of a snapshot (see the file's description for how they tile the heap). */
struct PictureBlock {
    /** @brief What the block is, and who said so (the walk, or the replay alone). */
    enum class Kind : std::uint8_t {
        Allocated,  ///< walk: in use; its live payload (if the replay has one there) is `payload`
        Free,       ///< walk: free
        Cached,     ///< walk: freed by the program, kept aside by the allocator
        Overhead,   ///< walk: bytes in no block (pad, prologue, epilogue)
        Live,       ///< no walk: exactly a live payload
        Unknown,    ///< no walk: bytes in no live payload
    };
    Kind kind = Kind::Unknown;     ///< what it is
    std::size_t offset = 0;        ///< from mem_heap_lo()
    std::size_t size = 0;          ///< bytes, header and footer included
    std::size_t header = 0;        ///< bookkeeping bytes at the start (walk only)
    std::size_t footer = 0;        ///< bookkeeping bytes at the end (walk only)
    bool has_payload = false;      ///< a live payload lies in it (Allocated, Live)
    std::uint32_t id = 0;          ///< the payload's trace id
    std::size_t payload_offset = 0;  ///< where the payload starts, from mem_heap_lo()
    std::size_t payload_size = 0;    ///< bytes asked for

    /** @brief Same block, same parts, same payload (a timeline merges such blocks). */
    friend bool operator==(const PictureBlock &, const PictureBlock &) = default;
};

/** @brief Totals of a snapshot, for its caption. */
struct HeapTotals {
    std::size_t live_bytes = 0;      ///< payload bytes asked for
    std::size_t live_blocks = 0;     ///< live payloads
    std::size_t free_bytes = 0;      ///< bytes in free blocks, headers and footers included
    std::size_t free_blocks = 0;     ///< free blocks
    std::size_t largest_free = 0;    ///< the largest free block
    std::size_t cached_bytes = 0;    ///< bytes in cached blocks
    std::size_t cached_blocks = 0;   ///< cached blocks
    std::size_t overhead_bytes = 0;  ///< headers, footers, bytes in no block
    std::size_t unused_bytes = 0;    ///< in allocated blocks, past what was asked (and alignment)
    std::size_t unknown_bytes = 0;   ///< no walk: bytes in no live payload
};

/** @brief The heap between two requests. */
struct HeapSnapshot {
    std::size_t done = 0;            ///< requests made (0: right after mm_init)
    std::size_t heap_size = 0;       ///< bytes from mem_heap_lo() to the break
    bool described = false;          ///< the allocator's walk was used
    std::string walk_problem;        ///< why a walk the allocator has was not used ("" if it was)
    std::vector<PictureBlock> blocks;  ///< tiling [0, heap_size) in address order

    /** @brief Its totals, for captions. */
    [[nodiscard]] HeapTotals totals() const;
};

/**
 * @brief The heap now: @p live from the replay (ReplayOptions::on_step), the rest from the
 *        allocator's walk when it has one and its description agrees with the replay.
 *        Call it only between requests, with the allocator's heap on memlib.
 */
HeapSnapshot take_snapshot(const Allocator &allocator, std::size_t done, const std::vector<LivePayload> &live);

}  // namespace heaplab

#endif  // HEAPLAB_HEAP_PICTURE_H
