// Size classes (size_class.h): bins cover every size, in order, and cache classes round-trip.
#include "size_class.h"
#include "thread_cache.h"

#include <gtest/gtest.h>

namespace heaplab::ref {
namespace {

TEST(SizeClass, ExactBinsHoldOneSizeEach) {
    for (std::size_t s = kMinBlock; s < kExactLimit; s += kAlign) {
        EXPECT_EQ(bin_min_size(bin_of(s)), s);
        EXPECT_EQ(bin_of(s), s / kAlign);
    }
}

TEST(SizeClass, BinsAreMonotonicAndContiguous) {
    unsigned prev = bin_of(kMinBlock);
    for (std::size_t s = kMinBlock + kAlign; s < (std::size_t{1} << 24); s += kAlign * (1 + s / 4096)) {
        unsigned b = bin_of(s);
        EXPECT_GE(b, prev);
        EXPECT_LE(b, prev + 1) << "a bin was skipped at size " << s;
        EXPECT_GE(s, bin_min_size(b));
        if (b + 1 < kNumBins) {
            EXPECT_LT(s, bin_min_size(b + 1));
        }
        prev = b;
    }
}

TEST(SizeClass, RangeBinsSpanAQuarterOfAPowerOfTwo) {
    for (unsigned b = kExactBins; b + 1 < kNumBins; ++b) {
        std::size_t lo = bin_min_size(b), hi = bin_min_size(b + 1);
        EXPECT_EQ(bin_of(lo), b);
        EXPECT_EQ(bin_of(hi - kAlign), b);
        EXPECT_LE((hi - lo) * 4, hi);  // within 25%
    }
}

TEST(SizeClass, LargestSizesFitTheLastBin) {
    EXPECT_EQ(bin_of(block_size_for(kMaxRequest)), bin_of(block_size_for(kMaxRequest)));
    EXPECT_LT(bin_of(block_size_for(kMaxRequest)), kNumBins);
}

TEST(SizeClass, CacheClassesRoundTrip) {
    for (unsigned c = 0; c < kCacheClasses; ++c) EXPECT_EQ(cache_class_of(cache_class_size(c)), c);
    EXPECT_EQ(cache_class_size(kCacheClasses - 1), kCacheMaxBlock);
    EXPECT_EQ(block_size_for(kCacheMaxRequest), kCacheMaxBlock);
}

TEST(SizeClass, CacheCapacitiesStayWithinBounds) {
    for (unsigned c = 0; c < kCacheClasses; ++c) {
        EXPECT_GE(kCapacity.of[c], 2u);
        EXPECT_LE(kCapacity.of[c], kCacheMaxCount);
        if (c > 0) {
            EXPECT_LE(kCapacity.of[c], kCapacity.of[c - 1]);  // bigger blocks, fewer kept
        }
    }
}

}  // namespace
}  // namespace heaplab::ref
