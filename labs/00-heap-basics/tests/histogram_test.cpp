// Exercise 2 (histogram.cpp): counters must start at zero.
#include "exercises.h"
#include "heap_watch.h"

#include <cstdlib>
#include <cstring>

namespace {

using heap_watch::HeapWatch;

constexpr const char *kWhy = "a counter that does not start at 0 ends wrong. malloc's memory holds whatever was "
                             "there before (this test fills it with 0xAA bytes, so 0xAAAAAAAA = 2863311530); "
                             "calloc's memory is zero";

unsigned *histogram_of(const char *text) {
    return histogram(reinterpret_cast<const unsigned char *>(text), strlen(text));
}

TEST(Histogram, CountsEachByte) {
    HeapWatch watch;
    unsigned *counts = histogram_of("abracadabra");
    ASSERT_TRUE(watch.IsBlock(counts)) << "histogram must return a block from malloc or calloc";
    ASSERT_GE(watch.block_size(counts), 256 * sizeof(unsigned)) << "the block must hold 256 counters";
    EXPECT_EQ(counts['a'], 5u) << "'a' occurs 5 times in \"abracadabra\"; " << kWhy;
    EXPECT_EQ(counts['b'], 2u) << "'b' occurs twice; " << kWhy;
    EXPECT_EQ(counts['c'], 1u) << "'c' occurs once; " << kWhy;
    free(counts);
    EXPECT_TRUE(watch.NoLeaks());
}

TEST(Histogram, BytesThatNeverOccurCountZero) {
    HeapWatch watch;
    unsigned *counts = histogram_of("hello");
    ASSERT_TRUE(watch.IsBlock(counts)) << "histogram must return a block from malloc or calloc";
    ASSERT_GE(watch.block_size(counts), 256 * sizeof(unsigned)) << "the block must hold 256 counters";
    for (int byte = 0; byte < 256; ++byte) {
        if (strchr("helo", byte) != nullptr && byte != 0) continue;
        ASSERT_EQ(counts[byte], 0u) << "byte " << byte << " never occurs in \"hello\", so its counter must be 0; "
                                    << kWhy;
    }
    free(counts);
}

TEST(Histogram, ReturnsNullWhenMemoryRunsOut) {
    HeapWatch watch;
    watch.fail_malloc(1);
    unsigned *counts = histogram_of("abc");
    EXPECT_EQ(counts, nullptr) << "when the allocation fails, histogram must return NULL";
    if (watch.is_block(counts)) free(counts);
}

}  // namespace
