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

// Every class either build may use (the preload build's go up to 32 KiB): malloc's class for a
// block size holds blocks at least that large, free's class for a block is the one whose range
// contains it, and the two agree exactly on class sizes.
TEST(SizeClass, EveryBlockSizeHasAClassForMallocAndOneForFree) {
    unsigned last = cache_class_of(kCacheClassLimit);
    EXPECT_EQ(cache_class_size(last), kCacheClassLimit);
    for (std::size_t s = kMinBlock; s <= kCacheClassLimit; s += kAlign) {
        unsigned up = cache_class_for(s), down = cache_class_of(s);
        EXPECT_GE(cache_class_size(up), s) << "malloc's class for block size " << s << " holds smaller blocks";
        EXPECT_LE(cache_class_size(down), s) << "free's class for block size " << s << " is too large";
        if (down < last) {
            EXPECT_LT(s, cache_class_size(down + 1)) << "block size " << s << " belongs to a higher class";
        }
        if (up > 0) {
            EXPECT_LT(cache_class_size(up - 1), s) << "malloc's class for block size " << s << " is not the tightest";
        }
        EXPECT_EQ(up == down, cache_class_size(up) == s) << "block size " << s;
    }
    for (unsigned c = kSmallCacheClasses; c <= last; ++c) {  // four classes per power of two
        EXPECT_LE((cache_class_size(c) - cache_class_size(c - 1)) * 4, cache_class_size(c)) << "class " << c;
    }
}

TEST(SizeClass, CacheCapacitiesStayWithinBounds) {
    for (unsigned c = 0; c < kCacheClasses; ++c) {
        EXPECT_GE(kCapacity.of[c], 2u);
        EXPECT_LE(kCapacity.of[c], kCacheMaxCount);
        if (c > 0 && c != kSmallCacheClasses) {  // each group has its own byte budget
            EXPECT_LE(kCapacity.of[c], kCapacity.of[c - 1]) << "bigger blocks, fewer kept: class " << c;
        }
    }
    std::size_t most = 0;
    for (unsigned c = 0; c < kCacheClasses; ++c) most += kCapacity.of[c] * cache_class_size(c);
    EXPECT_EQ(cache_max_bytes(), most);
}

}  // namespace
}  // namespace heaplab::ref
