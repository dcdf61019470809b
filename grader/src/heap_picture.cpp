/**
 * @file heap_picture.cpp
 * @brief Snapshots of the heap: the replay's live payloads, placed into the allocator's own
 *        description of its blocks when it gives one that agrees with them.
 *
 * The walk is the allocator's word and may be wrong (a student writes it): it is believed only
 * when its blocks lie inside the heap, in address order, without overlap, each with room for its
 * header and footer, and when every live payload sits inside the payload area of an allocated
 * block, one per block. Otherwise the snapshot says why, and falls back to what the replay
 * knows for certain.
 */
#include "heap_picture.h"

#include "heaplab/memlib.h"

#include <fmt/format.h>

#include <algorithm>

namespace heaplab {
namespace {

/// A block as the walk reported it.
struct WalkedBlock {
    std::uintptr_t start;
    std::size_t size;
    int state;
    std::size_t header;
    std::size_t footer;
};

void collect(const void *block, std::size_t size, int state, std::size_t header, std::size_t footer,
             void *context) {
    static_cast<std::vector<WalkedBlock> *>(context)->push_back(
        {reinterpret_cast<std::uintptr_t>(block), size, state, header, footer});
}

std::size_t payload_offset(const LivePayload &payload, std::uintptr_t lo) {
    return reinterpret_cast<std::uintptr_t>(payload.address) - lo;
}

/// The walk's blocks as a tiling of the heap, or a problem ("" when there is none).
std::string tile_walk(const std::vector<WalkedBlock> &walked, std::uintptr_t lo, std::size_t heap_size,
                      std::vector<PictureBlock> &blocks) {
    std::size_t end = 0;  // of the previous block
    for (const WalkedBlock &w : walked) {
        if (w.start < lo || w.start - lo > heap_size || w.size > heap_size - (w.start - lo))
            return fmt::format("it reported a block of {} bytes at {:#x}, which is not inside the heap "
                               "[+0, +{})", w.size, w.start, heap_size);
        std::size_t offset = w.start - lo;
        if (offset < end)
            return fmt::format("it reported a block at +{} that starts before the previous block ends "
                               "(+{}): blocks must come in address order, without overlap", offset, end);
        if (w.size == 0 || w.header > w.size || w.footer > w.size - w.header)
            return fmt::format("it reported a block at +{} of {} bytes with a {}-byte header and a {}-byte "
                               "footer", offset, w.size, w.header, w.footer);
        if (w.state != MM_BLOCK_FREE && w.state != MM_BLOCK_ALLOCATED && w.state != MM_BLOCK_CACHED)
            return fmt::format("it reported a block at +{} in state {}, which is none of MM_BLOCK_FREE, "
                               "MM_BLOCK_ALLOCATED, MM_BLOCK_CACHED", offset, w.state);
        if (offset > end) blocks.push_back({PictureBlock::Kind::Overhead, end, offset - end});
        PictureBlock block;
        block.kind = w.state == MM_BLOCK_FREE        ? PictureBlock::Kind::Free
                     : w.state == MM_BLOCK_ALLOCATED ? PictureBlock::Kind::Allocated
                                                     : PictureBlock::Kind::Cached;
        block.offset = offset;
        block.size = w.size;
        block.header = w.header;
        block.footer = w.footer;
        blocks.push_back(block);
        end = offset + w.size;
    }
    if (end < heap_size) blocks.push_back({PictureBlock::Kind::Overhead, end, heap_size - end});
    return "";
}

/// Puts each live payload into its block of the walk's tiling, or says why it does not fit.
std::string place_payloads(const std::vector<LivePayload> &live, std::uintptr_t lo,
                           std::vector<PictureBlock> &blocks) {
    auto block = blocks.begin();
    for (const LivePayload &payload : live) {  // both in address order
        std::size_t at = payload_offset(payload, lo);
        while (block != blocks.end() && block->offset + block->size <= at) ++block;
        // A payload of 0 bytes occupies nothing: it may sit anywhere (even at the break), and is
        // shown only when it is in an allocated block of its own.
        if (payload.size == 0 && (block == blocks.end() || block->kind != PictureBlock::Kind::Allocated ||
                                  block->has_payload))
            continue;
        std::string what = fmt::format("the live payload of id {} (+{}, {} bytes)", payload.id, at, payload.size);
        if (block == blocks.end()) return what + " lies in no block it reported";
        if (block->kind != PictureBlock::Kind::Allocated)
            return fmt::format("{} lies in the block at +{}, which it {}", what, block->offset,
                               block->kind == PictureBlock::Kind::Free     ? "reported free"
                               : block->kind == PictureBlock::Kind::Cached ? "reported cached"
                                                                           : "did not report at all");
        std::size_t first = block->offset + block->header;
        std::size_t last = block->offset + block->size - block->footer;
        if (at < first || payload.size > last - std::min(at, last))
            return fmt::format("{} does not fit between the header and the footer of its block (+{}, {} bytes: "
                               "its payload area is +{} to +{})", what, block->offset, block->size, first, last);
        if (block->has_payload)
            return fmt::format("{} shares the block at +{} with the payload of id {}", what, block->offset, block->id);
        block->has_payload = true;
        block->id = payload.id;
        block->payload_offset = at;
        block->payload_size = payload.size;
    }
    return "";
}

/// Without a walk: the live payloads exactly, and Unknown bytes between them.
std::vector<PictureBlock> tile_payloads(const std::vector<LivePayload> &live, std::uintptr_t lo,
                                        std::size_t heap_size) {
    std::vector<PictureBlock> blocks;
    std::size_t end = 0;
    for (const LivePayload &payload : live) {
        std::size_t at = payload_offset(payload, lo);
        if (at > end) blocks.push_back({PictureBlock::Kind::Unknown, end, at - end});
        PictureBlock block{PictureBlock::Kind::Live, at, payload.size};
        block.has_payload = true;
        block.id = payload.id;
        block.payload_offset = at;
        block.payload_size = payload.size;
        blocks.push_back(block);
        end = std::max(end, at + payload.size);
    }
    if (end < heap_size) blocks.push_back({PictureBlock::Kind::Unknown, end, heap_size - end});
    return blocks;
}

}  // namespace

HeapTotals HeapSnapshot::totals() const {
    HeapTotals t;
    for (const PictureBlock &b : blocks) {
        if (b.has_payload) {
            t.live_bytes += b.payload_size;
            ++t.live_blocks;
        }
        switch (b.kind) {
        case PictureBlock::Kind::Allocated:
            t.overhead_bytes += b.header + b.footer;
            t.unused_bytes += b.size - b.header - b.footer - (b.has_payload ? b.payload_size : 0);
            break;
        case PictureBlock::Kind::Free:
            t.free_bytes += b.size;
            ++t.free_blocks;
            t.largest_free = std::max(t.largest_free, b.size);
            break;
        case PictureBlock::Kind::Cached:
            t.cached_bytes += b.size;
            ++t.cached_blocks;
            break;
        case PictureBlock::Kind::Overhead: t.overhead_bytes += b.size; break;
        case PictureBlock::Kind::Live: break;
        case PictureBlock::Kind::Unknown: t.unknown_bytes += b.size; break;
        }
    }
    return t;
}

HeapSnapshot take_snapshot(const Allocator &allocator, std::size_t done, const std::vector<LivePayload> &live) {
    HeapSnapshot snapshot;
    snapshot.done = done;
    snapshot.heap_size = mem_heapsize();
    auto lo = reinterpret_cast<std::uintptr_t>(mem_heap_lo());
    std::vector<WalkedBlock> walked;
    // -1 (or no walk at all): the allocator does not describe its heap, which is no problem.
    if (allocator.heap_walk != nullptr && allocator.heap_walk(collect, &walked) == 0) {
        std::string problem = tile_walk(walked, lo, snapshot.heap_size, snapshot.blocks);
        if (problem.empty()) problem = place_payloads(live, lo, snapshot.blocks);
        if (problem.empty()) {
            snapshot.described = true;
            return snapshot;
        }
        snapshot.walk_problem = "its mm_heap_walk() disagrees with the heap: " + problem;
        snapshot.blocks.clear();
    }
    snapshot.blocks = tile_payloads(live, lo, snapshot.heap_size);
    return snapshot;
}

}  // namespace heaplab
