// The trace generator and the committed suite: deterministic output, traces the reader accepts,
// the suite's promised sizes, and committed files that are exactly the generator's output.
#include "heaplab/trace.h"
#include "heaplab/trace_gen.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using heaplab::format_op;
using heaplab::format_trace;
using heaplab::generate_trace;
using heaplab::parse_trace;
using heaplab::Trace;
using heaplab::TraceOp;
using heaplab::TraceShape;
using heaplab::trace_shapes;

constexpr std::size_t MiB = std::size_t{1} << 20;
/// The suite's promises (traces/README.md): a replay needs little memory even without reuse.
constexpr std::size_t kMaxPeakLive = 64 * MiB;
constexpr std::size_t kMaxTotalRequested = 512 * MiB;

/// What replaying a trace asks of memory, computed here independently of the generator.
struct Usage {
    std::size_t peak_live = 0;        ///< most payload bytes live at once
    std::size_t total_requested = 0;  ///< every a/c/r size summed: a bump allocator's heap
    std::size_t live_at_end = 0;      ///< blocks never freed
    std::size_t zero_mallocs = 0;     ///< `a ID 0` requests
    std::set<TraceOp::Kind> kinds;    ///< which request kinds occur
};

/// Replays @p trace on paper; also checks the id rules, naming the first request that breaks one.
Usage usage_of(const Trace &trace) {
    Usage usage;
    std::vector<std::size_t> size(trace.num_ids, 0);
    std::vector<bool> live(trace.num_ids, false);
    std::size_t live_bytes = 0;
    for (std::size_t i = 0; i < trace.ops.size(); ++i) {
        const TraceOp &op = trace.ops[i];
        const std::string where = trace.name + " request " + std::to_string(i) + " `" + format_op(op) + "`";
        if (op.id >= trace.num_ids) {
            ADD_FAILURE() << where << ": id not below ids = " << trace.num_ids;
            return usage;
        }
        usage.kinds.insert(op.kind);
        switch (op.kind) {
        case TraceOp::Kind::Alloc:
        case TraceOp::Kind::Calloc:
            EXPECT_FALSE(live[op.id]) << where << ": allocates a live id";
            live[op.id] = true;
            size[op.id] = op.bytes();
            live_bytes += op.bytes();
            usage.total_requested += op.bytes();
            if (op.kind == TraceOp::Kind::Alloc && op.size == 0) ++usage.zero_mallocs;
            break;
        case TraceOp::Kind::Realloc:
            EXPECT_TRUE(live[op.id]) << where << ": reallocs a dead id";
            EXPECT_GT(op.size, 0u) << where << ": generated traces never realloc to 0";
            EXPECT_GT(size[op.id], 0u) << where << ": generated traces never realloc a malloc(0) block";
            live_bytes = live_bytes - size[op.id] + op.size;
            size[op.id] = op.size;
            usage.total_requested += op.size;
            break;
        case TraceOp::Kind::Free:
            EXPECT_TRUE(live[op.id]) << where << ": frees a dead id";
            live[op.id] = false;
            live_bytes -= size[op.id];
            break;
        }
        usage.peak_live = std::max(usage.peak_live, live_bytes);
    }
    for (bool is_live : live) usage.live_at_end += is_live ? 1 : 0;
    return usage;
}

/// Empty when the requests are the same; else the first difference, expected vs got.
std::string first_difference(const std::vector<TraceOp> &expected, const std::vector<TraceOp> &got) {
    for (std::size_t i = 0; i < expected.size() && i < got.size(); ++i) {
        const TraceOp &e = expected[i];
        const TraceOp &g = got[i];
        if (e.kind != g.kind || e.id != g.id || e.size != g.size || e.nmemb != g.nmemb) {
            return "request " + std::to_string(i) + ": expected `" + format_op(e) + "`, got `" + format_op(g) + "`";
        }
    }
    if (expected.size() != got.size()) {
        return "expected " + std::to_string(expected.size()) + " requests, got " + std::to_string(got.size());
    }
    return "";
}

Trace default_trace(const TraceShape &shape) {
    return generate_trace(shape.name, shape.default_seed, shape.default_ops);
}

std::string test_name(const testing::TestParamInfo<TraceShape> &info) {
    std::string name = info.param.name;
    for (char &c : name) {
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    }
    return name;
}

// ---------------------------------------------------------------------------------------------
// One shape at a time.
// ---------------------------------------------------------------------------------------------

class TraceGenShape : public testing::TestWithParam<TraceShape> {};

TEST_P(TraceGenShape, SameSeedGivesTheSameTrace) {
    const TraceShape &shape = GetParam();
    const Trace first = default_trace(shape);
    const Trace second = default_trace(shape);
    EXPECT_EQ(first_difference(first.ops, second.ops), "") << shape.name << ", generated twice";
    EXPECT_EQ(first.num_ids, second.num_ids);
}

TEST_P(TraceGenShape, DifferentSeedsGiveDifferentTraces) {
    const TraceShape &shape = GetParam();
    const Trace one = generate_trace(shape.name, 1, 2000);
    const Trace two = generate_trace(shape.name, 2, 2000);
    EXPECT_NE(first_difference(one.ops, two.ops), "")
        << shape.name << ": seeds 1 and 2 gave the same 2000 requests";
}

TEST_P(TraceGenShape, HeaderDescribesTheTrace) {
    const TraceShape &shape = GetParam();
    const Trace trace = generate_trace(shape.name, 12345, 3000);
    EXPECT_EQ(trace.name, shape.name);
    EXPECT_EQ(trace.stresses, shape.stresses);
    EXPECT_EQ(trace.seed, 12345u);
    EXPECT_FALSE(trace.classic);
    EXPECT_FALSE(shape.stresses.empty()) << shape.name << " says nothing about what it stresses";
    EXPECT_EQ(shape.stresses.find('\n'), std::string::npos) << shape.name << ": stresses must be one line";
    EXPECT_EQ(shape.stresses.find('#'), std::string::npos) << shape.name << ": '#' would start a comment";
    EXPECT_EQ(shape.name.find_first_of(" \t#"), std::string::npos) << shape.name << ": a name is one word";
    // num_ids is what the trace needs: the largest id used, plus one.
    std::uint32_t largest = 0;
    for (const TraceOp &op : trace.ops) largest = std::max(largest, op.id);
    EXPECT_EQ(trace.num_ids, std::size_t{largest} + 1) << shape.name << ": ids should be exactly what is used";
}

TEST_P(TraceGenShape, SurvivesFormatAndParse) {
    const TraceShape &shape = GetParam();
    const Trace trace = default_trace(shape);
    const std::string text = format_trace(trace);
    Trace back;
    try {
        back = parse_trace(text, shape.name + ".rep");
    } catch (const heaplab::TraceError &error) {
        FAIL() << "the reader rejected the generated " << shape.name << ": " << error.what();
    }
    EXPECT_EQ(first_difference(trace.ops, back.ops), "") << shape.name << " after format_trace + parse_trace";
    EXPECT_EQ(back.name, trace.name);
    EXPECT_EQ(back.stresses, trace.stresses);
    EXPECT_EQ(back.seed, trace.seed);
    EXPECT_EQ(back.num_ids, trace.num_ids);
}

TEST_P(TraceGenShape, HasExactlyTheRequestsAskedForAtAnySize) {
    const TraceShape &shape = GetParam();
    for (std::size_t ops : {1, 2, 3, 4, 5, 7, 16, 33, 100, 999, 4096}) {
        const Trace trace = generate_trace(shape.name, 7, ops);
        EXPECT_EQ(trace.ops.size(), ops) << shape.name << " asked for " << ops << " requests";
        usage_of(trace);  // checks the id rules
        try {
            parse_trace(format_trace(trace), shape.name + ".rep");
        } catch (const heaplab::TraceError &error) {
            ADD_FAILURE() << shape.name << " with " << ops << " requests was rejected: " << error.what();
        }
    }
}

TEST_P(TraceGenShape, StaysWithinTheSuiteLimits) {
    const TraceShape &shape = GetParam();
    const Trace trace = default_trace(shape);
    const Usage usage = usage_of(trace);
    EXPECT_GE(trace.ops.size(), 5000u) << shape.name << ": suite traces have 5k-25k requests";
    EXPECT_LE(trace.ops.size(), 25000u) << shape.name << ": suite traces have 5k-25k requests";
    EXPECT_LT(trace.num_ids, heaplab::kMaxTraceIds);
    EXPECT_LT(usage.peak_live, kMaxPeakLive)
        << shape.name << ": peak live bytes must stay below 64 MiB, got " << usage.peak_live;
    EXPECT_LT(usage.total_requested, kMaxTotalRequested)
        << shape.name << ": bytes requested in all must stay below 512 MiB (a bump allocator replays it), got "
        << usage.total_requested;
}

INSTANTIATE_TEST_SUITE_P(Suite, TraceGenShape, testing::ValuesIn(trace_shapes()), test_name);

// ---------------------------------------------------------------------------------------------
// The suite as a whole.
// ---------------------------------------------------------------------------------------------

TEST(TraceGen, SuiteIsBigAndVaried) {
    const auto &shapes = trace_shapes();
    EXPECT_GE(shapes.size(), 12u) << "the suite should have at least 12 traces";
    std::size_t requests = 0;
    std::size_t zero_mallocs = 0;
    std::size_t traces_freeing_all = 0;
    std::set<TraceOp::Kind> kinds;
    std::set<std::string> names;
    std::set<std::uint64_t> seeds;
    for (const TraceShape &shape : shapes) {
        EXPECT_TRUE(names.insert(shape.name).second) << "two shapes are called " << shape.name;
        EXPECT_NE(shape.default_seed, 0u) << shape.name << ": seed 0 is not written to the header";
        seeds.insert(shape.default_seed);
        const Trace trace = default_trace(shape);
        const Usage usage = usage_of(trace);
        requests += trace.ops.size();
        zero_mallocs += usage.zero_mallocs;
        traces_freeing_all += usage.live_at_end == 0 ? 1 : 0;
        kinds.insert(usage.kinds.begin(), usage.kinds.end());
    }
    EXPECT_GE(requests, 100000u) << "the suite should hold at least 100k requests, it holds " << requests;
    EXPECT_EQ(seeds.size(), shapes.size()) << "every shape should have its own default seed";
    EXPECT_GT(zero_mallocs, 0u) << "some trace should contain malloc(0)";
    EXPECT_EQ(kinds.size(), 4u) << "the suite should use all four request kinds (a, c, r, f)";
    EXPECT_GT(traces_freeing_all, 0u) << "some traces should free everything";
    EXPECT_LT(traces_freeing_all, shapes.size()) << "some traces should leave blocks live";
}

TEST(TraceGen, UnknownShapeIsRejectedWithTheKnownOnes) {
    try {
        generate_trace("no-such-shape", 1, 100);
        FAIL() << "generate_trace accepted an unknown shape";
    } catch (const std::invalid_argument &error) {
        const std::string message = error.what();
        EXPECT_EQ(message.rfind("unknown trace shape 'no-such-shape'; known: ", 0), 0u) << message;
        EXPECT_NE(message.find(trace_shapes().front().name), std::string::npos) << message;
    }
    EXPECT_THROW(heaplab::trace_file_name("no-such-shape"), std::invalid_argument);
}

TEST(TraceGen, RejectsARequestCountOutOfRange) {
    const std::string shape = trace_shapes().front().name;
    EXPECT_THROW(generate_trace(shape, 1, 0), std::invalid_argument);
    EXPECT_THROW(generate_trace(shape, 1, heaplab::kMaxTraceOps + 1), std::invalid_argument);
}

TEST(TraceGen, FileNamesFollowSuiteOrder) {
    const auto &shapes = trace_shapes();
    ASSERT_FALSE(shapes.empty());
    EXPECT_EQ(heaplab::trace_file_name(shapes[0].name), "01-" + shapes[0].name + ".rep");
    if (shapes.size() >= 10) {
        EXPECT_EQ(heaplab::trace_file_name(shapes[9].name), "10-" + shapes[9].name + ".rep");
    }
}

/// The source tree, from HEAPLAB_SOURCE_DIR (CTest sets it); empty when unset.
std::filesystem::path source_dir() {
    const char *dir = std::getenv("HEAPLAB_SOURCE_DIR");
    return dir == nullptr ? std::filesystem::path() : std::filesystem::path(dir);
}

const char *const kRegenerate = "run `build/bin/heaplab trace generate --all --out traces/`";

TEST(TraceGen, CommittedTracesAreTheGeneratorsOutput) {
    const std::filesystem::path root = source_dir();
    ASSERT_FALSE(root.empty()) << "HEAPLAB_SOURCE_DIR is not set (CTest sets it; by hand run "
                                  "`HEAPLAB_SOURCE_DIR=$PWD build/bin/trace_gen_test`)";
    const std::filesystem::path dir = root / "traces";
    ASSERT_TRUE(std::filesystem::is_directory(dir)) << dir << " does not exist: " << kRegenerate;

    std::set<std::string> expected_files;
    for (const TraceShape &shape : trace_shapes()) {
        const std::string file = heaplab::trace_file_name(shape.name);
        expected_files.insert(file);
        std::ifstream in(dir / file, std::ios::binary);
        if (!in) {
            ADD_FAILURE() << "traces/" << file << " is missing: " << kRegenerate;
            continue;
        }
        std::ostringstream committed;
        committed << in.rdbuf();
        const std::string generated = format_trace(default_trace(shape));
        if (committed.str() == generated) continue;

        // Say where they part, so a stray edit is easy to find.
        const std::string text = committed.str();
        std::size_t at = 0;
        while (at < text.size() && at < generated.size() && text[at] == generated[at]) ++at;
        const std::size_t line = 1 + static_cast<std::size_t>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(at), '\n'));
        auto line_at = [](const std::string &s, std::size_t pos) {
            const std::size_t begin = s.rfind('\n', pos == 0 ? 0 : pos - 1);
            const std::size_t start = begin == std::string::npos || pos == 0 ? 0 : begin + 1;
            return s.substr(start, s.find('\n', start) - start);
        };
        ADD_FAILURE() << "traces/" << file << " differs from the generator: " << kRegenerate << "\n"
                      << "  first difference at line " << line << ": expected `" << line_at(generated, at)
                      << "`, the file has `" << line_at(text, at) << "`";
    }
    for (const auto &entry : std::filesystem::directory_iterator(dir)) {
        const std::string file = entry.path().filename().string();
        if (entry.path().extension() == ".rep" && expected_files.count(file) == 0) {
            ADD_FAILURE() << "traces/" << file << " is not made by the generator (a renamed or removed shape?): "
                          << "delete it and " << kRegenerate;
        }
    }
}

}  // namespace
