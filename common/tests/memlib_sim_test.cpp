// Tests of the simulated break (memlib_sim.cpp): growth, faults past the break, reset, the cap,
// shrinking and the peak. Memcheck's view of the heap is tested in memcheck_test.cpp.
#include "heaplab/memlib.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>

namespace {

class SimulatedBreak : public ::testing::Test {
protected:
    void SetUp() override {
        mem_reset();
        mem_set_cap(0);
    }
    void TearDown() override {
        mem_reset();
        mem_set_cap(0);
    }
    static char *lo() { return static_cast<char *>(mem_heap_lo()); }
    static void *failed() { return reinterpret_cast<void *>(-1); }
};

TEST_F(SimulatedBreak, StartsEmptyAndPageAligned) {
    EXPECT_TRUE(mem_is_simulated());
    EXPECT_EQ(mem_heapsize(), 0u) << "a reset heap must be empty";
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(mem_heap_lo()) % mem_pagesize(), 0u)
        << "the heap must start on a page boundary, so 16-byte alignment is possible";
    EXPECT_EQ(mem_heap_hi(), lo() - 1) << "mem_heap_hi() of an empty heap is one before its start";
}

TEST_F(SimulatedBreak, GrowsLikeSbrk) {
    void *first = mem_sbrk(100);
    ASSERT_NE(first, failed());
    EXPECT_EQ(first, mem_heap_lo()) << "the first mem_sbrk returns the start of the heap";
    void *second = mem_sbrk(28);
    EXPECT_EQ(second, lo() + 100) << "mem_sbrk returns the old break";
    EXPECT_EQ(mem_heapsize(), 128u);
    EXPECT_EQ(mem_heap_hi(), lo() + 127);
    EXPECT_EQ(mem_sbrk(0), lo() + 128) << "mem_sbrk(0) tells where the break is";
    std::memset(first, 0x5a, 128);  // the whole heap is writable
    EXPECT_EQ(static_cast<unsigned char *>(first)[127], 0x5a);
    EXPECT_EQ(mem_sbrk_calls(), 3u);
}

TEST_F(SimulatedBreak, GrowsAcrossManyPages) {
    std::size_t big = 10 * mem_pagesize() + 123;
    char *p = static_cast<char *>(mem_sbrk(static_cast<intptr_t>(big)));
    ASSERT_NE(static_cast<void *>(p), failed());
    std::memset(p, 1, big);
    EXPECT_EQ(mem_heapsize(), big);
}

TEST_F(SimulatedBreak, AccessPastTheBreakFaults) {
    mem_sbrk(static_cast<intptr_t>(mem_pagesize()));
    volatile char *past = lo() + mem_pagesize();
    EXPECT_DEATH(*past = 1, "") << "a write one page past the break must fault";
    EXPECT_DEATH((void)*past, "") << "a read past the break must fault";
}

TEST_F(SimulatedBreak, ResetEmptiesTheHeapAndForgetsContents) {
    char *p = static_cast<char *>(mem_sbrk(4096));
    std::memset(p, 0x77, 4096);
    mem_reset();
    EXPECT_EQ(mem_heapsize(), 0u);
    EXPECT_EQ(mem_peak_heapsize(), 0u);
    EXPECT_EQ(mem_sbrk_calls(), 0u);
    char *again = static_cast<char *>(mem_sbrk(4096));
    EXPECT_EQ(again, p) << "after a reset the heap starts at the same place";
    EXPECT_EQ(again[0], 0) << "pages closed by a reset come back fresh";
    volatile char *past = lo() + 4096;
    EXPECT_DEATH(*past = 1, "") << "a reset closes the pages again";
}

TEST_F(SimulatedBreak, CapMakesSbrkFailWithEnomemAndKeepsTheHeapUsable) {
    mem_set_cap(8192);
    EXPECT_EQ(mem_cap(), 8192u);
    ASSERT_NE(mem_sbrk(4096), failed());
    errno = 0;
    EXPECT_EQ(mem_sbrk(8192), failed()) << "growing past the cap must fail";
    EXPECT_EQ(errno, ENOMEM) << "a failed mem_sbrk sets errno to ENOMEM";
    EXPECT_EQ(mem_heapsize(), 4096u) << "a failed mem_sbrk changes nothing";
    EXPECT_NE(mem_sbrk(4096), failed()) << "growing up to the cap still works";
    EXPECT_EQ(mem_sbrk(1), failed());
    std::memset(mem_heap_lo(), 1, 8192);
}

TEST_F(SimulatedBreak, ShrinksAndClosesPagesAboveTheBreak) {
    std::size_t page = mem_pagesize();
    mem_sbrk(static_cast<intptr_t>(3 * page));
    void *old = mem_sbrk(-static_cast<intptr_t>(page + 10));
    EXPECT_EQ(old, lo() + 3 * page) << "a shrinking mem_sbrk also returns the old break";
    EXPECT_EQ(mem_heapsize(), 2 * page - 10);
    lo()[2 * page - 11] = 1;  // still inside the heap
    volatile char *closed = lo() + 2 * page;
    EXPECT_DEATH(*closed = 1, "") << "the page above the new break must be closed";
    EXPECT_EQ(mem_peak_heapsize(), 3 * page) << "shrinking does not lower the peak";
}

TEST_F(SimulatedBreak, CannotShrinkBelowTheStart) {
    mem_sbrk(100);
    errno = 0;
    EXPECT_EQ(mem_sbrk(-101), failed());
    EXPECT_EQ(errno, ENOMEM);
    EXPECT_EQ(mem_heapsize(), 100u);
    EXPECT_EQ(mem_sbrk(INTPTR_MIN), failed()) << "the most negative increment must not overflow";
    EXPECT_NE(mem_sbrk(-100), failed()) << "shrinking to exactly empty is allowed";
    EXPECT_EQ(mem_heapsize(), 0u);
}

TEST_F(SimulatedBreak, HugeRequestFailsCleanly) {
    errno = 0;
    EXPECT_EQ(mem_sbrk(INTPTR_MAX), failed());
    EXPECT_EQ(errno, ENOMEM);
    EXPECT_EQ(mem_heapsize(), 0u);
}

TEST_F(SimulatedBreak, TracksThePeak) {
    mem_sbrk(10000);
    mem_sbrk(-5000);
    mem_sbrk(2000);
    EXPECT_EQ(mem_peak_heapsize(), 10000u);
    mem_sbrk(4000);
    EXPECT_EQ(mem_peak_heapsize(), 11000u);
}

}  // namespace
