// The whole trace suite on the reference, through the `heaplab` command and the mm.h plug-in
// (mm_reference.so) as students and graders use them: every trace replays correctly, and no
// trace's utilization exceeds the perfect-packing bound of the reference's own block layout
// (trace_bound.h) — if one did, the bound or the replay's accounting would be wrong. The layout
// the bound assumes is checked against block_size_for(). `heaplab trace bound --header 8
// --min-block 32 --zero-block 32` prints the same bounds; reference_allocator/README.md and
// bench/README.md quote them.
#include "block.h"

#include "heaplab/trace.h"
#include "heaplab/trace_bound.h"
#include "shell.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace heaplab::ref {
namespace {

/// The layout the reference lays blocks down with, from block.h.
BlockLayout reference_layout() { return BlockLayout{kHeaderSize, kMinBlock, kAlign, block_size_for(0)}; }

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

TEST(UtilizationBound, TheSuiteReplaysCorrectlyAndNoTraceBeatsThePackingBound) {
    std::vector<std::filesystem::path> paths = suite_traces();
    ASSERT_GE(paths.size(), 16u) << "the suite in " << HEAPLAB_TRACES_DIR;
    std::string command = std::string(HEAPLAB_BIN) + " trace replay --allocator reference --no-time --json";
    for (const auto &path : paths) command += " " + path.string();
    testing::Outcome run = testing::shell(command);
    ASSERT_EQ(run.status, 0) << command << "\n" << run.out;
    nlohmann::json json = nlohmann::json::parse(run.out, nullptr, false);
    ASSERT_FALSE(json.is_discarded()) << "expected JSON from " << command << ", got:\n" << run.out;
    std::map<std::string, double> measured;
    for (const auto &trace : json.at("allocators").at(0).at("traces")) {
        EXPECT_TRUE(trace.at("ok").get<bool>()) << trace.at("trace") << " failed its replay";
        measured[trace.at("trace").get<std::string>()] = trace.at("utilization").get<double>();
    }
    ASSERT_EQ(measured.size(), paths.size()) << run.out;
    for (const auto &path : paths) {
        Trace trace = read_trace(path.string());
        double bound = packing_bound(trace, reference_layout()).utilization;
        double any = packing_bound(trace, BlockLayout{}).utilization;
        EXPECT_GT(measured[trace.name], 0.0) << trace.name;
        EXPECT_LE(measured[trace.name], bound)
            << trace.name << ": the reference measured " << measured[trace.name] << ", above the " << bound
            << " that perfect packing of its blocks allows";
        EXPECT_LE(bound, any) << trace.name << ": headers and a 32-byte minimum can only cost, never save";
    }
}

}  // namespace
}  // namespace heaplab::ref
