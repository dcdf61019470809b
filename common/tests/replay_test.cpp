// The replay checker: a correct allocator passes, every broken fixture is caught with the right
// reason, crashes and endless loops become verdicts, and glibc passes the whole trace suite.
#include "heaplab/replay.h"

#include "fixtures/broken_allocators.h"
#include "heaplab/memlib.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

namespace {

using heaplab::parse_trace;
using heaplab::ReplayOptions;
using heaplab::ReplayResult;
namespace fixtures = heaplab::fixtures;

const std::string kMixed =
    "heaplab-trace 1\nname mixed\nids 6\nops 12\n"
    "a 0 24\na 1 100\nc 2 3 17\nr 0 200\na 3 0\nf 1\n"
    "a 4 4000\nr 4 10\nr 2 1000\nf 3\nf 0\na 5 1\n";

ReplayOptions quick() {
    ReplayOptions options;
    options.timing_runs = 1;
    return options;
}

std::string describe(const ReplayResult &result) {
    if (!result.failure) return "no failure";
    return "request " + std::to_string(result.failure->op_index) + " (" + result.failure->op +
           "): " + result.failure->reason + "\n" + result.failure->heap_map;
}

TEST(Replay, ACorrectAllocatorPassesWithMetrics) {
    ReplayResult result = heaplab::replay(fixtures::bump_allocator(), parse_trace(kMixed, "mixed.rep"), quick());
    ASSERT_TRUE(result.ok) << describe(result);
    EXPECT_EQ(result.ops, 12u);
    // The most live at once: blocks 0 (200), 2 (51), 3 (0) and 4 (4000) after "a 4 4000".
    EXPECT_EQ(result.peak_live_bytes, 200u + 51u + 4000u) << "peak live payload bytes";
    EXPECT_GT(result.peak_heap_bytes, result.peak_live_bytes);
    EXPECT_GT(result.utilization, 0.0);
    EXPECT_LT(result.utilization, 1.0);
    EXPECT_GT(result.ops_per_second, 0.0);
}

TEST(Replay, AClassicMallocLabTraceReplaysUnchanged) {
    // The classic header (suggested heap, ids, requests, weight) and a/r/f lines only.
    const std::string classic = "20000\n3\n8\n1\na 0 512\na 1 128\nr 0 640\na 2 128\nf 1\nr 0 768\nf 2\nf 0\n";
    for (const heaplab::Allocator *allocator : {&fixtures::bump_allocator(), &heaplab::libc_allocator()}) {
        ReplayResult result = heaplab::replay(*allocator, parse_trace(classic, "classic.rep"), quick());
        EXPECT_TRUE(result.ok) << allocator->name << ": " << describe(result);
        EXPECT_EQ(result.ops, 8u);
        EXPECT_EQ(result.peak_live_bytes, 768u + 128u) << allocator->name;
    }
}

TEST(Replay, GlibcPassesTheMixedTrace) {
    ReplayResult result = heaplab::replay(heaplab::libc_allocator(), parse_trace(kMixed, "mixed.rep"), quick());
    EXPECT_TRUE(result.ok) << describe(result);
    EXPECT_GT(result.utilization, 0.0) << "glibc's utilization comes from mallinfo2()";
}

}  // namespace

namespace heaplab::fixtures {
// Names the fixture in test output instead of dumping its bytes.
void PrintTo(const BrokenAllocator &broken, std::ostream *out) { *out << broken.allocator.name; }
}  // namespace heaplab::fixtures

namespace {

class BrokenAllocatorIsCaught : public ::testing::TestWithParam<fixtures::BrokenAllocator> {};

TEST_P(BrokenAllocatorIsCaught, WithTheRightReason) {
    const fixtures::BrokenAllocator &broken = GetParam();
    ReplayResult result = heaplab::replay(broken.allocator, parse_trace(broken.trace, "fixture.rep"), quick());
    ASSERT_FALSE(result.ok) << "the replay passed the broken allocator '" << broken.allocator.name << "'";
    ASSERT_TRUE(result.failure.has_value());
    EXPECT_NE(result.failure->reason.find(broken.expected_reason), std::string::npos)
        << "expected the reason to say '" << broken.expected_reason << "', got: " << describe(result);
    EXPECT_FALSE(result.failure->op.empty()) << "the failure names the request";
    EXPECT_GT(result.failure->line, 0u) << "the failure names the trace line";
    EXPECT_NE(result.failure->heap_map.find("block"), std::string::npos)
        << "the failure shows a heap map: " << describe(result);
    EXPECT_EQ(result.utilization, 0.0) << "a wrong allocator gets no metrics";
}

INSTANTIATE_TEST_SUITE_P(Fixtures, BrokenAllocatorIsCaught, ::testing::ValuesIn(fixtures::broken_allocators()),
                         [](const auto &info) {
                             std::string name = info.param.allocator.name;
                             for (char &c : name)
                                 if (c == '-') c = '_';
                             return name;
                         });

TEST(Replay, TheFailureNamesTheRequestThatWentWrong) {
    auto all = fixtures::broken_allocators();
    const auto &misaligned = all[0];
    ReplayResult result = heaplab::replay(misaligned.allocator, parse_trace(misaligned.trace, "f.rep"), quick());
    ASSERT_TRUE(result.failure);
    EXPECT_EQ(result.failure->op_index, 0u);
    EXPECT_EQ(result.failure->op, "a 0 24");
    EXPECT_EQ(result.failure->line, 4u);
    EXPECT_NE(result.failure->reason.find("mm_malloc(24) returned"), std::string::npos) << describe(result);
}

TEST(Replay, ACapThatIsTooSmallIsReportedAsNull) {
    ReplayOptions options = quick();
    options.heap_cap = 4096;
    ReplayResult result = heaplab::replay(fixtures::bump_allocator(),
                                          parse_trace("heaplab-trace 1\nids 1\nops 1\na 0 10000\n", "big.rep"), options);
    ASSERT_FALSE(result.ok);
    EXPECT_NE(result.failure->reason.find("mm_malloc(10000) returned NULL with errno ENOMEM"), std::string::npos)
        << describe(result);
    EXPECT_NE(result.failure->reason.find("capped at 4096"), std::string::npos) << describe(result);
}

TEST(ReplayIsolated, ACrashBecomesAVerdictNamingTheRequest) {
    ReplayResult result = heaplab::replay_isolated(fixtures::crashing_allocator(), parse_trace(kMixed, "m.rep"), quick());
    ASSERT_FALSE(result.ok);
    EXPECT_NE(result.failure->reason.find("crashed with SEGV"), std::string::npos) << describe(result);
    // Requests 0, 1 and 4 are its mm_malloc calls (request 2 is an mm_calloc).
    EXPECT_EQ(result.failure->op_index, 4u) << "the third mm_malloc is request 4: " << describe(result);
    EXPECT_EQ(result.failure->op, "a 3 0");
}

TEST(ReplayIsolated, AnEndlessLoopTimesOut) {
    ReplayOptions options = quick();
    options.timeout_seconds = 1;
    ReplayResult result = heaplab::replay_isolated(fixtures::looping_allocator(), parse_trace(kMixed, "m.rep"), options);
    ASSERT_FALSE(result.ok);
    EXPECT_NE(result.failure->reason.find("timed out after 1 s"), std::string::npos) << describe(result);
    EXPECT_EQ(result.failure->op, "f 1") << describe(result);
}

TEST(ReplayIsolated, AGoodReplayComesBackWhole) {
    ReplayResult result = heaplab::replay_isolated(fixtures::bump_allocator(), parse_trace(kMixed, "m.rep"), quick());
    ASSERT_TRUE(result.ok) << describe(result);
    EXPECT_EQ(result.ops, 12u);
    EXPECT_GT(result.ops_per_second, 0.0);
    EXPECT_EQ(result.timing_samples.size(), 1u);
}

TEST(TimeInTurn, EveryAllocatorGetsOneSamplePerRound) {
    ReplayOptions options;
    options.timing_runs = 4;
    heaplab::Trace trace = parse_trace(kMixed, "mixed.rep");
    auto samples = heaplab::time_in_turn({&fixtures::bump_allocator(), &heaplab::libc_allocator()}, trace, options);
    ASSERT_EQ(samples.size(), 2u) << "one list of samples per allocator, in their order";
    for (const auto &rounds : samples) {
        ASSERT_EQ(rounds.size(), 4u) << "one sample per round";
        for (double ops_per_second : rounds) EXPECT_GT(ops_per_second, 0.0);
    }
    EXPECT_EQ(mem_heapsize(), 0u) << "the simulated heap is left empty for whatever runs next";
}

TEST(TimeInTurn, AnAllocatorWhoseInitFailsGetsNoSamplesAndTheOthersStillDo) {
    heaplab::Allocator refusing = fixtures::bump_allocator();
    refusing.init = [] { return -1; };
    ReplayOptions options;
    options.timing_runs = 3;
    auto samples = heaplab::time_in_turn({&refusing, &fixtures::bump_allocator()},
                                         parse_trace(kMixed, "mixed.rep"), options);
    ASSERT_EQ(samples.size(), 2u);
    EXPECT_TRUE(samples[0].empty()) << "mm_init failed: no timing";
    EXPECT_EQ(samples[1].size(), 3u);
}

TEST(Median, OddEvenAndEmpty) {
    EXPECT_EQ(heaplab::median({3, 1, 2}), 2);
    EXPECT_EQ(heaplab::median({4, 1, 3, 2}), 2.5);
    EXPECT_EQ(heaplab::median({}), 0);
}

TEST(ReplayJson, RoundTrips) {
    auto all = fixtures::broken_allocators();
    ReplayResult result = heaplab::replay(all[1].allocator, parse_trace(all[1].trace, "f.rep"), quick());
    ReplayResult again = heaplab::result_from_json(heaplab::to_json(result));
    EXPECT_EQ(again.ok, result.ok);
    ASSERT_TRUE(again.failure);
    EXPECT_EQ(again.failure->reason, result.failure->reason);
    EXPECT_EQ(again.failure->heap_map, result.failure->heap_map);
    EXPECT_THROW(heaplab::result_from_json("{\"ok\": true}"), std::runtime_error);
}

TEST(Replay, GlibcPassesEveryTraceOfTheSuite) {
    const char *source = std::getenv("HEAPLAB_SOURCE_DIR");
    ASSERT_NE(source, nullptr) << "CTest sets HEAPLAB_SOURCE_DIR to the source tree";
    std::size_t count = 0;
    ReplayOptions options;
    options.time = false;
    for (const auto &entry : std::filesystem::directory_iterator(std::filesystem::path(source) / "traces")) {
        if (entry.path().extension() != ".rep") continue;
        ++count;
        ReplayResult result = heaplab::replay(heaplab::libc_allocator(), heaplab::read_trace(entry.path()), options);
        EXPECT_TRUE(result.ok) << entry.path() << ": " << describe(result);
    }
    EXPECT_GE(count, 12u) << "the trace suite has at least 12 traces";
}

}  // namespace
