// `heaplab trace viz` as a user runs it: the SVG it writes is well-formed, it draws exactly the
// blocks the allocator's mm_heap_walk() reports (compared with a walk made here, in-process, on
// the same requests), it is honest without a walk or with a walk that lies, it draws the heap
// up to a failing request, and bad input is one line and exit status 2.
#include "heaplab/allocator.h"
#include "heaplab/heap_walk.h"
#include "heaplab/memlib.h"
#include "heaplab/trace.h"
#include "shell.h"

#include <gtest/gtest.h>
#include <pugixml.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

namespace fs = std::filesystem;
using heaplab::testing::shell;

/// A block as a walk reports it, or as a picture draws it.
struct Block {
    std::size_t offset;
    std::size_t size;
    std::string kind;  // allocated, free, cached
    friend bool operator==(const Block &, const Block &) = default;
    friend void PrintTo(const Block &b, std::ostream *out) { *out << b.kind << " +" << b.offset << " " << b.size; }
};

std::string describe(const std::vector<Block> &blocks) {
    std::string text;
    for (const Block &b : blocks) text += "  " + b.kind + " +" + std::to_string(b.offset) + " " + std::to_string(b.size) + "\n";
    return text.empty() ? "  (none)\n" : text;
}

/// Replays @p trace on @p plugin here, without checks, and returns what its walk says at the end.
std::vector<Block> walk_after(const std::string &plugin, const heaplab::Trace &trace) {
    auto allocator = heaplab::load_allocator(plugin);
    mem_reset();
    EXPECT_EQ(allocator->init(), 0);
    std::vector<void *> ptrs(trace.num_ids, nullptr);
    for (const heaplab::TraceOp &op : trace.ops) {
        switch (op.kind) {
        case heaplab::TraceOp::Kind::Alloc: ptrs[op.id] = allocator->malloc(op.size); break;
        case heaplab::TraceOp::Kind::Calloc: ptrs[op.id] = allocator->calloc(op.nmemb, op.size); break;
        case heaplab::TraceOp::Kind::Realloc: ptrs[op.id] = allocator->realloc(ptrs[op.id], op.size); break;
        case heaplab::TraceOp::Kind::Free: allocator->free(ptrs[op.id]); break;
        }
    }
    std::vector<Block> blocks;
    struct Context {
        std::vector<Block> *blocks;
        const char *lo;
    } context{&blocks, static_cast<const char *>(mem_heap_lo())};
    auto visit = [](const void *block, std::size_t size, int state, std::size_t, std::size_t, void *c) {
        auto *ctx = static_cast<Context *>(c);
        ctx->blocks->push_back({static_cast<std::size_t>(static_cast<const char *>(block) - ctx->lo), size,
                                state == MM_BLOCK_FREE ? "free" : state == MM_BLOCK_ALLOCATED ? "allocated" : "cached"});
    };
    EXPECT_NE(allocator->heap_walk, nullptr) << plugin << " must define mm_heap_walk()";
    if (allocator->heap_walk != nullptr) {
        EXPECT_EQ(allocator->heap_walk(visit, &context), 0);
    }
    mem_reset();
    return blocks;
}

/// The blocks of one kind set drawn in @p parent (g elements with class "block KIND").
std::vector<Block> drawn_blocks(const pugi::xml_node &parent, const std::vector<std::string> &kinds) {
    std::vector<Block> blocks;
    for (const pugi::xpath_node &node : parent.select_nodes(".//g[starts-with(@class, 'block ')]")) {
        std::string kind = std::string(node.node().attribute("class").value()).substr(6);
        if (std::find(kinds.begin(), kinds.end(), kind) == kinds.end()) continue;
        blocks.push_back({node.node().attribute("data-offset").as_ullong(), node.node().attribute("data-size").as_ullong(),
                          kind});
    }
    return blocks;
}

class TraceViz : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / ("heaplab_viz_" + std::to_string(getpid()) + "_" +
                                            ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::create_directories(dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }

    std::string write(const std::string &name, const std::string &text) {
        fs::path path = dir_ / name;
        std::ofstream(path) << text;
        return path.string();
    }
    /// Four requests: three blocks, the middle one freed (a hole between two live blocks).
    std::string small_trace() {
        return write("small.rep", "heaplab-trace 1\nname small\nids 3\nops 4\na 0 24\na 1 40\na 2 24\nf 1\n");
    }
    /// Runs `heaplab trace viz ARGS`; stdout and stderr together.
    heaplab::testing::Outcome viz(const std::string &args) {
        return shell(std::string(HEAPLAB_BIN) + " trace viz " + args);
    }
    /// Parses the SVG at @p path, failing the test with the parser's words when it is not XML.
    pugi::xml_node parse(const fs::path &path) {
        pugi::xml_parse_result parsed = doc_.load_file(path.c_str());
        EXPECT_TRUE(parsed) << path << " is not well-formed XML: " << parsed.description() << " at byte "
                            << parsed.offset;
        pugi::xml_node svg = doc_.child("svg");
        EXPECT_TRUE(svg) << "the root element must be <svg>";
        EXPECT_STREQ(svg.attribute("xmlns").value(), "http://www.w3.org/2000/svg");
        return svg;
    }
    static std::string all_text(const pugi::xml_node &node) {
        std::string text;
        for (const pugi::xpath_node &t : node.select_nodes(".//text")) text += std::string(t.node().text().get()) + "\n";
        return text;
    }

    fs::path dir_;
    pugi::xml_document doc_;
};

class TraceVizWalk : public TraceViz, public ::testing::WithParamInterface<const char *> {};

TEST_P(TraceVizWalk, DrawsExactlyTheBlocksTheAllocatorWalks) {
    std::string trace = small_trace();
    fs::path out = dir_ / "heap.svg";
    heaplab::testing::Outcome run = viz(trace + " --allocator " + GetParam() + " --out " + out.string());
    ASSERT_EQ(run.status, 0) << run.out;
    pugi::xml_node svg = parse(out);

    std::vector<Block> walked = walk_after(GetParam(), heaplab::read_trace(trace));
    std::vector<Block> drawn = drawn_blocks(svg, {"allocated", "free", "cached"});
    EXPECT_EQ(drawn, walked) << "the picture must show the blocks mm_heap_walk() reports after the last request.\n"
                             << "walked:\n" << describe(walked) << "drawn:\n" << describe(drawn);
    std::size_t allocated = std::count_if(drawn.begin(), drawn.end(), [](const Block &b) { return b.kind == "allocated"; });
    EXPECT_EQ(allocated, 2u) << "ids 0 and 2 are live after the trace:\n" << describe(drawn);
    // The live payloads sit inside their blocks, with the sizes the trace asked for.
    auto payloads = svg.select_nodes(".//g[@class='block allocated'][@data-id]");
    ASSERT_EQ(payloads.size(), 2u);
    EXPECT_STREQ(payloads[0].node().attribute("data-payload-size").value(), "24");
    EXPECT_STREQ(payloads[1].node().attribute("data-payload-size").value(), "24");

    std::string text = all_text(svg);
    EXPECT_NE(text.find("after 4 of 4 requests; the last: f 1 (line 8)"), std::string::npos)
        << "the caption names the request that made the picture:\n" << text;
    EXPECT_NE(text.find("free block"), std::string::npos) << "the legend names the free blocks:\n" << text;
    EXPECT_NE(text.find("header, footer, other overhead"), std::string::npos) << text;
    EXPECT_EQ(text.find("does not describe"), std::string::npos) << "this allocator does describe its blocks:\n" << text;
}

INSTANTIATE_TEST_SUITE_P(Allocators, TraceVizWalk, ::testing::Values(REFERENCE_PLUGIN, LAB03_PLUGIN),
                         [](const auto &info) { return info.index == 0 ? std::string("reference") : std::string("lab03"); });

TEST_F(TraceViz, Lab03TheHoleIsAFreeBlockWithItsSizeLabelled) {
    fs::path out = dir_ / "heap.svg";
    ASSERT_EQ(viz(small_trace() + " --allocator " LAB03_PLUGIN " --out " + out.string()).status, 0);
    pugi::xml_node svg = parse(out);
    // Lab 03: a pad and a 16-byte prologue, then blocks of header + payload + footer rounded
    // to 16: 24 -> 48 at +24, 40 -> 64 at +72 (freed), 24 -> 48 at +136; the epilogue at +184.
    std::vector<Block> free_blocks = drawn_blocks(svg, {"free"});
    ASSERT_EQ(free_blocks.size(), 1u) << describe(free_blocks);
    EXPECT_EQ(free_blocks[0], (Block{72, 64, "free"}));
    std::vector<Block> overhead = drawn_blocks(svg, {"overhead"});
    EXPECT_EQ(overhead, (std::vector<Block>{{0, 24, "overhead"}, {184, 8, "overhead"}}))
        << "the pad and prologue, and the epilogue, are overhead outside any block:\n" << describe(overhead);
    std::string text = all_text(svg);
    EXPECT_NE(text.find("block 64\u00a0B"), std::string::npos) << "the free block's size is labelled:\n" << text;
    EXPECT_NE(text.find("#0 · 24\u00a0B"), std::string::npos) << "a live block's id and request are labelled:\n" << text;
    EXPECT_NE(text.find("heap 192\u00a0B"), std::string::npos) << text;
}

TEST_F(TraceViz, WithoutAWalkGapsAreHonestlyNotLivePayloads) {
    fs::path out = dir_ / "heap.svg";
    heaplab::testing::Outcome run = viz(small_trace() + " --allocator " BUMP_PLUGIN " --out " + out.string());
    ASSERT_EQ(run.status, 0) << run.out;
    pugi::xml_node svg = parse(out);
    EXPECT_TRUE(drawn_blocks(svg, {"allocated", "free", "cached", "overhead"}).empty())
        << "without mm_heap_walk() nothing may be drawn as a free block or a header";
    EXPECT_EQ(svg.select_nodes(".//g[@class='block live']").size(), 2u) << "ids 0 and 2 are live";
    EXPECT_GE(svg.select_nodes(".//g[@class='block unknown']").size(), 2u) << "the bytes between and around them";
    std::string text = all_text(svg);
    EXPECT_NE(text.find("not a live payload (free or overhead; this allocator does not describe its blocks)"),
              std::string::npos)
        << "the legend must say what the grey bytes are:\n" << text;
    EXPECT_NE(text.find("does not describe its blocks"), std::string::npos) << text;
}

TEST_F(TraceViz, AWalkThatDisagreesWithTheHeapIsNotBelieved) {
    fs::path out = dir_ / "heap.svg";
    heaplab::testing::Outcome run = viz(small_trace() + " --allocator " LYING_PLUGIN " --out " + out.string());
    ASSERT_EQ(run.status, 0) << run.out;
    EXPECT_NE(run.out.find("mm_heap_walk() disagrees with the heap: the live payload of id 0"), std::string::npos)
        << "the note must say what is wrong with the walk:\n" << run.out;
    pugi::xml_node svg = parse(out);
    EXPECT_TRUE(drawn_blocks(svg, {"free"}).empty()) << "a walk that calls live payloads free is not drawn";
    EXPECT_EQ(svg.select_nodes(".//g[@class='block live']").size(), 2u);
    EXPECT_NE(all_text(svg).find("reported free"), std::string::npos) << all_text(svg);
}

TEST_F(TraceViz, AWalkThatCrashesIsSetAsideAndThePictureDrawnWithoutIt) {
    fs::path out = dir_ / "heap.svg";
    heaplab::testing::Outcome run = viz(small_trace() + " --allocator " CRASHING_WALK_PLUGIN " --out " + out.string());
    ASSERT_EQ(run.status, 0) << "the allocator replayed every request correctly; only its walk crashed:\n" << run.out;
    EXPECT_NE(run.out.find("drawn without its block description: its mm_heap_walk() crashed"), std::string::npos)
        << "the note must say the walk crashed:\n" << run.out;
    EXPECT_NE(run.out.find("SEGV"), std::string::npos) << "and how:\n" << run.out;
    pugi::xml_node svg = parse(out);
    EXPECT_TRUE(drawn_blocks(svg, {"free", "allocated"}).empty()) << "nothing the walk said is drawn";
    EXPECT_EQ(svg.select_nodes(".//g[@class='block live']").size(), 2u) << "the two live payloads are";
}

TEST_F(TraceViz, StepsArePanelsOnOneScale) {
    fs::path out = dir_ / "heap.svg";
    ASSERT_EQ(viz(small_trace() + " -a " LAB03_PLUGIN " --steps 4,0,2 --out " + out.string()).status, 0);
    pugi::xml_node svg = parse(out);
    auto panels = svg.select_nodes(".//g[@class='snapshot']");
    ASSERT_EQ(panels.size(), 3u);
    EXPECT_STREQ(panels[0].node().attribute("data-done").value(), "0");
    EXPECT_STREQ(panels[1].node().attribute("data-done").value(), "2");
    EXPECT_STREQ(panels[2].node().attribute("data-done").value(), "4");
    EXPECT_TRUE(drawn_blocks(panels[0].node(), {"allocated", "free"}).empty()) << "right after mm_init: no block";
    EXPECT_EQ(drawn_blocks(panels[1].node(), {"allocated"}).size(), 2u);
    EXPECT_NE(all_text(svg).find("right after mm_init (0 of 4 requests)"), std::string::npos) << all_text(svg);
    EXPECT_GE(svg.select_nodes(".//g[@class='beyond']").size(), 2u)
        << "the smaller heaps show where the largest one ends, beyond their break";
}

TEST_F(TraceViz, ATimelineHasAColumnPerRequestAndEndsWithTheWalk) {
    std::string trace = small_trace();
    fs::path out = dir_ / "timeline.svg";
    ASSERT_EQ(viz(trace + " -a " LAB03_PLUGIN " --timeline --out " + out.string()).status, 0);
    pugi::xml_node svg = parse(out);
    EXPECT_EQ(svg.select_nodes(".//path[@class='break']").size(), 1u);
    std::vector<Block> at_end;
    for (const pugi::xpath_node &node : svg.select_nodes(".//g[starts-with(@class, 'block ')][@data-to='4']")) {
        std::string kind = std::string(node.node().attribute("class").value()).substr(6);
        if (kind != "overhead")
            at_end.push_back({node.node().attribute("data-offset").as_ullong(), node.node().attribute("data-size").as_ullong(), kind});
    }
    std::sort(at_end.begin(), at_end.end(), [](const Block &a, const Block &b) { return a.offset < b.offset; });
    std::vector<Block> walked = walk_after(LAB03_PLUGIN, heaplab::read_trace(trace));
    EXPECT_EQ(at_end, walked) << "the last column is the heap after the trace:\n" << describe(at_end);
    std::string text = all_text(svg);
    for (const char *request : {"mm_init", "a 0 24", "a 1 40", "a 2 24", "f 1"})
        EXPECT_NE(text.find(request), std::string::npos) << "each column names its request: " << request << "\n" << text;
}

TEST_F(TraceViz, AFailingRequestIsDrawnUpToItAndExits1) {
    std::string trace = write("four.rep", "heaplab-trace 1\nids 4\nops 4\na 0 8\na 1 8\na 2 8\na 3 8\n");
    fs::path out = dir_ / "heap.svg";
    heaplab::testing::Outcome run = viz(trace + " -a " OVERLAP_PLUGIN " --out " + out.string());
    EXPECT_EQ(run.status, 1) << run.out;
    EXPECT_NE(run.out.find("FAIL four at request 3"), std::string::npos) << run.out;
    EXPECT_NE(run.out.find("overlapping live block 2"), std::string::npos) << run.out;
    pugi::xml_node svg = parse(out);
    auto panels = svg.select_nodes(".//g[@class='snapshot']");
    ASSERT_EQ(panels.size(), 1u);
    EXPECT_STREQ(panels[0].node().attribute("data-done").value(), "3") << "the heap just before request 3";
    EXPECT_NE(all_text(svg).find("The replay stopped: request 3 (a 3 8, line 7) failed"), std::string::npos)
        << all_text(svg);
}

TEST_F(TraceViz, ACrashingAllocatorIsAVerdictNotACrash) {
    std::string trace = write("six.rep", "heaplab-trace 1\nids 6\nops 6\na 0 1\na 1 2\na 2 3\na 3 4\na 4 5\na 5 6\n");
    fs::path out = dir_ / "heap.svg";
    heaplab::testing::Outcome run = viz(trace + " -a " CRASH_PLUGIN " --out " + out.string());
    EXPECT_EQ(run.status, 1) << run.out;
    EXPECT_NE(run.out.find("crashed with ILL"), std::string::npos) << run.out;
    EXPECT_NE(run.out.find("during request 4 (a 4 5)"), std::string::npos) << run.out;
}

TEST_F(TraceViz, TheTeachingTracesDrawExactlyOnTheWalkingAllocators) {
    // docs/traces/ holds the traces of the documentation's figures: each must replay, and each
    // allocator that walks its heap must describe it in agreement with the replay at every step.
    std::vector<fs::path> traces;
    for (const auto &entry : fs::directory_iterator(fs::path(SOURCE_DIR) / "docs" / "traces"))
        if (entry.path().extension() == ".rep") traces.push_back(entry.path());
    ASSERT_GE(traces.size(), 3u) << "interleaved, coalescing and realloc are in docs/traces/";
    for (const fs::path &trace : traces) {
        for (const char *allocator : {REFERENCE_PLUGIN, LAB03_PLUGIN, LAB04_PLUGIN}) {
            fs::path out = dir_ / (trace.stem().string() + ".svg");
            heaplab::testing::Outcome run = viz(trace.string() + " -a " + allocator + " --timeline --out " + out.string());
            EXPECT_EQ(run.status, 0) << trace << " on " << allocator << ":\n" << run.out;
            EXPECT_EQ(run.out.find("note:"), std::string::npos)
                << "the walk must agree with the heap at every step of " << trace << " on " << allocator << ":\n" << run.out;
            pugi::xml_node svg = parse(out);
            EXPECT_FALSE(drawn_blocks(svg, {"free", "cached"}).empty())
                << trace << " frees blocks: some must be drawn free (or, for the reference, cached)";
        }
    }
}

/// Bad input: exit status 2, one line that says what is wrong, and no picture.
TEST_F(TraceViz, BadInputIsOneLineAndExit2) {
    std::string good = small_trace();
    std::string bad = write("bad.rep", "heaplab-trace 1\nids 2\nops 2\na 0 8\nf 1\n");
    std::string out = (dir_ / "heap.svg").string();
    struct Case {
        std::string args;
        std::string says;
    };
    std::vector<Case> cases = {
        {(dir_ / "nope.rep").string() + " -a reference --out " + out, "nope.rep:0: cannot open the file"},
        {bad + " -a reference --out " + out, "bad.rep:5: free of id 1, which was never allocated"},
        {good + " -a nosuch --out " + out, "unknown allocator 'nosuch'"},
        {good + " -a libc --out " + out, "libc does not use it"},
        {good + " -a reference --step 5 --out " + out, "step 5 is past the end"},
        {good + " -a reference --steps 1,9 --out " + out, "step 9 is past the end"},
        {good + " -a reference --out " + (dir_ / "no" / "such" / "folder.svg").string(), "there is no folder"},
        {good + " -a reference --out " + dir_.string(), "is a folder, not a file"},
        {good + " -a reference --step 1 --timeline --out " + out, "excludes"},
        {good + " -a reference", "--out is required"},
    };
    for (const Case &c : cases) {
        heaplab::testing::Outcome run = viz(c.args);
        EXPECT_EQ(run.status, 2) << c.args << "\n" << run.out;
        EXPECT_NE(run.out.find(c.says), std::string::npos) << "expected it to say '" << c.says << "':\n" << run.out;
        std::size_t lines = std::count(run.out.begin(), run.out.end(), '\n');
        EXPECT_LE(lines, 2u) << "a usage problem is one line (and at most a hint):\n" << run.out;
        EXPECT_FALSE(fs::exists(out)) << "no picture is written for " << c.args;
    }
}

}  // namespace
