// The reference against the perfect-packing bound of its own block layout (trace_bound.h), on
// every trace of the suite: the layout the bound assumes is exactly block_size_for(), and no
// replay measures more than the bound allows (if one did, the bound or the replay's
// accounting would be wrong). `heaplab trace bound --header 8 --min-block 32 --zero-block 32`
// prints the same bounds; reference_allocator/README.md and bench/README.md quote them.
#include "block.h"

#include "heaplab/allocator.h"
#include "heaplab/mm.h"
#include "heaplab/replay.h"
#include "heaplab/trace.h"
#include "heaplab/trace_bound.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <vector>

namespace heaplab::ref {
namespace {

/// The layout the reference lays blocks down with, from block.h.
BlockLayout reference_layout() { return BlockLayout{kHeaderSize, kMinBlock, kAlign, block_size_for(0)}; }

/// The reference's mm.h functions in this process (heaplab_reference_core).
Allocator reference_in_process() {
    Allocator a;
    a.name = "reference";
    a.origin = "linked in";
    a.init = mm_init;
    a.malloc = mm_malloc;
    a.free = mm_free;
    a.realloc = mm_realloc;
    a.calloc = mm_calloc;
    a.checkheap = mm_checkheap;
    return a;
}

std::vector<std::filesystem::path> suite_traces() {
    std::vector<std::filesystem::path> paths;
    for (const auto &entry : std::filesystem::directory_iterator(HEAPLAB_TRACES_DIR))
        if (entry.path().extension() == ".rep") paths.push_back(entry.path());
    std::sort(paths.begin(), paths.end());
    return paths;
}

TEST(UtilizationBound, TheLayoutIsTheReferencesBlockSizes) {
    BlockLayout layout = reference_layout();
    for (std::size_t n = 0; n <= 70000; ++n)
        ASSERT_EQ(layout.footprint(n), block_size_for(n)) << "request of " << n << " bytes";
    EXPECT_EQ(layout.footprint(1u << 30), block_size_for(1u << 30));
}

TEST(UtilizationBound, NoTraceBeatsThePackingBoundOfTheLayout) {
    std::vector<std::filesystem::path> paths = suite_traces();
    ASSERT_GE(paths.size(), 16u) << "the suite in " << HEAPLAB_TRACES_DIR;
    Allocator reference = reference_in_process();
    ReplayOptions options;
    options.time = false;
    for (const auto &path : paths) {
        Trace trace = read_trace(path.string());
        PackingBound layout_bound = packing_bound(trace, reference_layout());
        PackingBound any_bound = packing_bound(trace, BlockLayout{});
        ReplayResult result = replay(reference, trace, options);
        ASSERT_TRUE(result.ok) << trace.name << ": " << (result.failure ? result.failure->reason : "");
        EXPECT_EQ(result.peak_live_bytes, layout_bound.peak_live) << trace.name << ": the replay and the bound "
                                                                     "must count live bytes alike";
        EXPECT_LE(result.utilization, layout_bound.utilization)
            << trace.name << ": the reference measured " << result.utilization << ", above the "
            << layout_bound.utilization << " that perfect packing of its blocks allows";
        EXPECT_LE(layout_bound.utilization, any_bound.utilization)
            << trace.name << ": headers and a 32-byte minimum can only cost, never save";
    }
}

}  // namespace
}  // namespace heaplab::ref
