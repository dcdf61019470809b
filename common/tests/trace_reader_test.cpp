// The trace reader: good traces in both formats, and every kind of malformed input rejected
// with its own message naming the right line.
#include "heaplab/trace.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace {

using heaplab::parse_trace;
using heaplab::Trace;
using heaplab::TraceError;
using heaplab::TraceOp;

/// Parses @p text and returns the error it must raise.
TraceError rejection(const std::string &text) {
    try {
        parse_trace(text, "bad.rep");
    } catch (const TraceError &error) {
        return error;
    }
    ADD_FAILURE() << "the reader accepted a malformed trace:\n" << text;
    return TraceError("bad.rep", 0, "(accepted)");
}

/// Expects @p text to be rejected at @p line with a message containing @p words.
void expect_rejected(const std::string &text, std::size_t line, const std::string &words) {
    TraceError error = rejection(text);
    EXPECT_EQ(error.line(), line) << "wrong line for: " << error.what();
    EXPECT_NE(std::string(error.what()).find(words), std::string::npos)
        << "expected the message to say '" << words << "', it says: " << error.what();
    EXPECT_EQ(std::string(error.what()).rfind("bad.rep:" + std::to_string(line) + ": ", 0), 0u)
        << "messages start with file:line: " << error.what();
}

const std::string kHeader = "heaplab-trace 1\nids 4\nops 3\n";

TEST(TraceReader, ReadsTheHeapLabFormat) {
    Trace trace = parse_trace(
        "# a comment line\n"
        "heaplab-trace 1\n"
        "name   tiny   # trailing comment\n"
        "stresses  one of each request\n"
        "seed 7\n"
        "ids 3\n"
        "ops 5\n"
        "\n"
        "a 0 24\n"
        "c 1 4 16\n"
        "r 0 100\r\n"
        "f 1\n"
        "f 0\n",
        "tiny.rep");
    EXPECT_FALSE(trace.classic);
    EXPECT_EQ(trace.name, "tiny");
    EXPECT_EQ(trace.stresses, "one of each request");
    EXPECT_EQ(trace.seed, 7u);
    EXPECT_EQ(trace.num_ids, 3u);
    ASSERT_EQ(trace.ops.size(), 5u);
    EXPECT_EQ(trace.ops[0].kind, TraceOp::Kind::Alloc);
    EXPECT_EQ(trace.ops[0].size, 24u);
    EXPECT_EQ(trace.ops[0].line, 9u);
    EXPECT_EQ(trace.ops[1].kind, TraceOp::Kind::Calloc);
    EXPECT_EQ(trace.ops[1].bytes(), 64u);
    EXPECT_EQ(trace.ops[2].kind, TraceOp::Kind::Realloc);
    EXPECT_EQ(trace.ops[2].size, 100u);
    EXPECT_EQ(trace.ops[4].kind, TraceOp::Kind::Free);
}

TEST(TraceReader, ReadsTheClassicFormatUnchanged) {
    Trace trace = parse_trace("20000\n2\n5\n1\na 0 512\na 1 128\nr 0 640\nf 1\nf 0\n", "classic.rep");
    EXPECT_TRUE(trace.classic);
    EXPECT_EQ(trace.suggested_heap, 20000u);
    EXPECT_EQ(trace.num_ids, 2u);
    EXPECT_EQ(trace.weight, 1u);
    EXPECT_EQ(trace.ops.size(), 5u);
    EXPECT_EQ(trace.name, "classic") << "a classic trace is named after its file";
}

TEST(TraceReader, FormatAndParseRoundTrip) {
    Trace trace = parse_trace(kHeader + "a 0 1\nc 1 3 5\nf 0\n", "x.rep");
    trace.name = "round";
    Trace again = parse_trace(heaplab::format_trace(trace), "y.rep");
    ASSERT_EQ(again.ops.size(), trace.ops.size());
    for (std::size_t i = 0; i < trace.ops.size(); ++i)
        EXPECT_EQ(heaplab::format_op(again.ops[i]), heaplab::format_op(trace.ops[i]));
    EXPECT_EQ(again.name, "round");
}

TEST(TraceReader, AllowsReallocToZeroAndMallocOfZero) {
    Trace trace = parse_trace(kHeader + "a 0 0\nr 0 0\nf 0\n", "zero.rep");
    EXPECT_EQ(trace.ops.size(), 3u);
}

TEST(TraceReader, RejectsAnUnknownRequest) {
    expect_rejected(kHeader + "a 0 8\nx 0 8\n", 5, "unknown request 'x'");
}

TEST(TraceReader, RejectsAFreeOfAnUnknownId) {
    expect_rejected(kHeader + "a 0 8\nf 2\n", 5, "free of id 2, which was never allocated");
}

TEST(TraceReader, RejectsAReallocOfAFreedId) {
    expect_rejected(kHeader + "a 0 8\nf 0\nr 0 16\n", 6, "realloc of id 0, which was already freed at line 5");
}

TEST(TraceReader, RejectsADoubleFree) {
    expect_rejected(kHeader + "a 0 8\nf 0\nf 0\n", 6, "free of id 0, which was already freed");
}

TEST(TraceReader, RejectsAllocatingALiveId) {
    expect_rejected(kHeader + "a 0 8\na 0 8\n", 5, "id 0 is still allocated (line 4)");
}

TEST(TraceReader, RejectsANegativeSize) {
    expect_rejected(kHeader + "a 0 -5\n", 4, "size must not be negative, got '-5'");
}

TEST(TraceReader, RejectsAnAbsurdSize) {
    expect_rejected(kHeader + "a 0 5000000000\n", 4, "size 5000000000 is absurdly large");
    expect_rejected(kHeader + "a 0 99999999999999999999999\n", 4, "is absurdly large");
    expect_rejected(kHeader + "c 0 1000000 1000000\n", 4, "nmemb * size");
}

TEST(TraceReader, RejectsASizeThatIsNotANumber) {
    expect_rejected(kHeader + "a 0 12kb\n", 4, "size must be a whole number, got '12kb'");
}

TEST(TraceReader, RejectsATruncatedFile) {
    expect_rejected(kHeader + "a 0 8\nf 0\n", 5, "truncated: the header promises 3 requests (line 3) but the file ends after 2");
    expect_rejected(kHeader + "a 0 8\nf\n", 5, "'f' takes 1 argument (f ID), got 0");
    expect_rejected("20000\n2\n", 2, "truncated classic header");
}

TEST(TraceReader, RejectsMoreRequestsThanDeclared) {
    expect_rejected("heaplab-trace 1\nids 2\nops 1\na 0 8\nf 0\n", 5, "more requests than the header's 'ops 1'");
}

TEST(TraceReader, RejectsIdsOutOfRange) {
    expect_rejected(kHeader + "a 4 8\n", 4, "id 4 is out of range: the header declares ids 0..3");
    expect_rejected("4096\n2\n1\n1\na 9 8\n", 5, "id 9 is out of range");
    expect_rejected(kHeader + "a -1 8\n", 4, "id must not be negative");
}

TEST(TraceReader, RejectsBinaryGarbage) {
    std::string garbage = kHeader + "a 0 8\n";
    garbage += std::string("\x7f" "ELF\x02\x01\x01\x00\x00", 9);
    expect_rejected(garbage, 5, "binary data (byte 0x7f at column 1)");
    expect_rejected(std::string("\x00\x01\x02", 3), 1, "binary data (byte 0x00 at column 1)");
}

TEST(TraceReader, RejectsAFileThatIsNotATrace) {
    expect_rejected("<html><body>hello</body></html>\n", 1, "expected the header");
    expect_rejected("", 0, "empty trace");
    expect_rejected("# only a comment\n\n", 2, "empty trace");
}

TEST(TraceReader, RejectsBadHeaders) {
    expect_rejected("heaplab-trace 2\n", 1, "unsupported trace version");
    expect_rejected("heaplab-trace 1\nids 2\ncolour blue\n", 3, "unknown header key 'colour'");
    expect_rejected("heaplab-trace 1\nids 2\nids 3\n", 3, "given twice (first at line 2)");
    expect_rejected("heaplab-trace 1\nops 1\na 0 8\n", 3, "no 'ids N' line");
    expect_rejected("heaplab-trace 1\nids 1\na 0 8\n", 3, "no 'ops N' line");
    expect_rejected("heaplab-trace 1\nids 99999999\nops 1\n", 2, "ids 99999999 is absurdly large");
    expect_rejected("1000\n2 3\n", 2, "classic header: expected one number (number of ids)");
}

TEST(TraceReader, RejectsWrongArgumentCounts) {
    expect_rejected(kHeader + "a 0\n", 4, "'a' takes 2 arguments (a ID SIZE), got 1");
    expect_rejected(kHeader + "c 0 8\n", 4, "'c' takes 3 arguments (c ID NMEMB SIZE), got 2");
    expect_rejected(kHeader + "a 0 8\nr 0\n", 5, "'r' takes 2 arguments (r ID SIZE), got 1");
    expect_rejected(kHeader + "a 0 8 9\n", 4, "got 3");
}

TEST(TraceReader, ReportsAMissingFile) {
    try {
        heaplab::read_trace("/nonexistent/trace.rep");
        FAIL() << "reading a missing file must throw";
    } catch (const TraceError &error) {
        EXPECT_NE(std::string(error.what()).find("/nonexistent/trace.rep:0: cannot open the file"),
                  std::string::npos)
            << error.what();
    }
}

TEST(TraceReader, ReadsAFileFromDisk) {
    auto path = std::filesystem::temp_directory_path() / "heaplab_reader_test.rep";
    std::ofstream(path) << kHeader << "a 0 8\na 1 8\nf 0\n";
    Trace trace = heaplab::read_trace(path.string());
    EXPECT_EQ(trace.ops.size(), 3u);
    EXPECT_EQ(trace.name, "heaplab_reader_test");
    std::filesystem::remove(path);
}

}  // namespace
