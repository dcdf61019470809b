/** @file trace_bound.cpp @brief Perfect-packing bounds of traces (see trace_bound.h). */
#include "heaplab/trace_bound.h"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

namespace heaplab {

std::size_t BlockLayout::footprint(std::size_t n) const {
    if (n == 0) return zero_block;
    std::size_t rounded = (n + header + alignment - 1) / alignment * alignment;
    return std::max(min_block, rounded);
}

PackingBound packing_bound(const Trace &trace, const BlockLayout &layout) {
    if (layout.alignment == 0 || (layout.alignment & (layout.alignment - 1)) != 0)
        throw std::invalid_argument("alignment must be a power of two, got " + std::to_string(layout.alignment));
    if (layout.min_block == 0 || layout.min_block % layout.alignment != 0)
        throw std::invalid_argument("minimum block must be a positive multiple of the alignment (" +
                                    std::to_string(layout.alignment) + "), got " + std::to_string(layout.min_block));

    // Per id: the bytes it asked for and the footprint it costs now (0 when not live).
    std::vector<std::size_t> bytes(trace.num_ids, 0), cost(trace.num_ids, 0);
    std::size_t live = 0, footprint = 0;
    PackingBound bound;
    for (std::size_t i = 0; i < trace.ops.size(); ++i) {
        const TraceOp &op = trace.ops[i];
        live -= bytes[op.id];
        footprint -= cost[op.id];
        switch (op.kind) {
        case TraceOp::Kind::Alloc:
        case TraceOp::Kind::Calloc:
            bytes[op.id] = op.bytes();
            cost[op.id] = layout.footprint(op.bytes());
            break;
        case TraceOp::Kind::Realloc:  // to 0 bytes: the allocator may free the block
            bytes[op.id] = op.size;
            cost[op.id] = op.size == 0 ? 0 : layout.footprint(op.size);
            break;
        case TraceOp::Kind::Free:
            bytes[op.id] = 0;
            cost[op.id] = 0;
            break;
        }
        live += bytes[op.id];
        footprint += cost[op.id];
        bound.peak_live = std::max(bound.peak_live, live);
        if (footprint > bound.peak_footprint) {
            bound.peak_footprint = footprint;
            bound.peak_at = i;
        }
    }
    if (bound.peak_live > 0) {
        // The last block's rounding may lie past the break; the live payloads never can.
        std::size_t heap = bound.peak_footprint > layout.alignment ? bound.peak_footprint - layout.alignment : 0;
        heap = std::max(heap, bound.peak_live);
        bound.utilization = static_cast<double>(bound.peak_live) / static_cast<double>(heap);
    }
    return bound;
}

}  // namespace heaplab
