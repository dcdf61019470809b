// Perfect-packing bounds (trace_bound.h): footprints, the peaks a hand-made trace reaches (worked
// out below by hand), what 0-byte requests and realloc cost, and bad layouts rejected.
#include "heaplab/trace_bound.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace {

using heaplab::BlockLayout;
using heaplab::PackingBound;
using heaplab::packing_bound;
using heaplab::parse_trace;
using heaplab::Trace;

Trace trace_of(const std::string &requests, std::size_t ops) {
    return parse_trace("heaplab-trace 1\nids 4\nops " + std::to_string(ops) + "\n" + requests, "t.rep");
}

const BlockLayout kAny{};                          // header 0, min 16, alignment 16, malloc(0) free
const BlockLayout kReference{8, 32, 16, 32};       // the reference's layout

TEST(TraceBound, FootprintRoundsPayloadAndHeaderUpToTheAlignment) {
    EXPECT_EQ(kAny.footprint(1), 16u);
    EXPECT_EQ(kAny.footprint(16), 16u);
    EXPECT_EQ(kAny.footprint(17), 32u);
    EXPECT_EQ(kAny.footprint(0), 0u) << "an allocator may return NULL for malloc(0)";
    EXPECT_EQ(kReference.footprint(1), 32u) << "the minimum block";
    EXPECT_EQ(kReference.footprint(24), 32u);
    EXPECT_EQ(kReference.footprint(25), 48u) << "25 + 8 bytes of header round up to 48";
    EXPECT_EQ(kReference.footprint(0), 32u);
}

TEST(TraceBound, PeaksOfAHandMadeTrace) {
    // any allocator:           live  footprint      reference:  footprint
    // a 0 100  -> 100 B, 112          100   112                      112
    // a 1 10   ->  10 B,  16          110   128                      112+32  = 144
    // f 0                              10    16                       32
    // a 2 200  -> 200 B, 208          210   224  (peak footprint)    32+208 = 240 (peak)
    // r 1 40   ->  40 B,  48          240   256  (peak live)         208+48 = 256 (peak)
    // f 2                              40    48
    Trace t = trace_of("a 0 100\na 1 10\nf 0\na 2 200\nr 1 40\nf 2\n", 6);
    PackingBound any = packing_bound(t, kAny);
    EXPECT_EQ(any.peak_live, 240u);
    EXPECT_EQ(any.peak_footprint, 256u);
    EXPECT_EQ(any.peak_at, 4u) << "the realloc (request 4) reaches the peak";
    EXPECT_DOUBLE_EQ(any.utilization, 240.0 / (256 - 16)) << "the last block's rounding may lie past the break";

    PackingBound ref = packing_bound(t, kReference);
    EXPECT_EQ(ref.peak_live, 240u);
    EXPECT_EQ(ref.peak_footprint, 256u);
    EXPECT_DOUBLE_EQ(ref.utilization, 1.0) << "the heap never needs less than the live bytes themselves";
}

TEST(TraceBound, CallocCountsEveryMemberAndReallocToZeroMayFree) {
    // c 0 10 30 -> 300 B (footprint 304); r 0 0 -> nothing; a 1 0 -> malloc(0)
    Trace t = trace_of("c 0 10 30\nr 0 0\na 1 0\na 2 1000\n", 4);
    PackingBound any = packing_bound(t, kAny);
    EXPECT_EQ(any.peak_live, 1000u);
    EXPECT_EQ(any.peak_footprint, 1008u) << "neither realloc(p, 0) nor malloc(0) need to cost anything";
    PackingBound ref = packing_bound(t, kReference);
    EXPECT_EQ(ref.peak_footprint, 32u + 1008u) << "the reference gives malloc(0) a 32-byte block";
    EXPECT_EQ(ref.peak_at, 3u);
}

TEST(TraceBound, ATraceThatHoldsNothingHasNoBound) {
    PackingBound b = packing_bound(trace_of("a 0 0\nf 0\n", 2), kAny);
    EXPECT_EQ(b.peak_live, 0u);
    EXPECT_EQ(b.utilization, 0.0);
}

TEST(TraceBound, RejectsLayoutsThatCannotBe) {
    Trace t = trace_of("a 0 1\n", 1);
    auto message = [&t](const BlockLayout &layout) -> std::string {
        try {
            packing_bound(t, layout);
        } catch (const std::invalid_argument &e) {
            return e.what();
        }
        return "(accepted)";
    };
    EXPECT_EQ(message({0, 16, 24, 0}), "alignment must be a power of two, got 24");
    EXPECT_EQ(message({0, 16, 0, 0}), "alignment must be a power of two, got 0");
    EXPECT_EQ(message({8, 40, 16, 0}), "minimum block must be a positive multiple of the alignment (16), got 40");
    EXPECT_EQ(message({8, 0, 16, 0}), "minimum block must be a positive multiple of the alignment (16), got 0");
}

}  // namespace
