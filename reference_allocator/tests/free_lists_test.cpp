// Segregated free lists (free_lists.h), on free blocks laid out in a local buffer.
#include "free_lists.h"

#include <gtest/gtest.h>

#include <vector>

namespace heaplab::ref {
namespace {

class FreeListsTest : public ::testing::Test {
protected:
    /// A fake free block of @p size bytes (only its header and links are used).
    FreeBlock *make(std::size_t size) {
        blocks_.push_back(std::make_unique<FreeBlock>());
        blocks_.back()->header = size | kPrevAlloc;
        return blocks_.back().get();
    }
    FreeLists lists_{};
    std::vector<std::unique_ptr<FreeBlock>> blocks_;
};

TEST_F(FreeListsTest, EmptyFindsNothing) {
    EXPECT_EQ(lists_.find(32), nullptr);
    EXPECT_EQ(lists_.find(1 << 20), nullptr);
}

TEST_F(FreeListsTest, ExactBinGivesAPerfectFit) {
    FreeBlock *a = make(48), *b = make(64);
    lists_.insert(a, 48);
    lists_.insert(b, 64);
    EXPECT_EQ(lists_.find(48), a);
    EXPECT_EQ(lists_.find(64), b);
    EXPECT_EQ(lists_.find(32), a);  // the next non-empty bin
}

TEST_F(FreeListsTest, RangeBinPicksTheTightestFit) {
    // 1024..1279 share a bin: for 1100, 1120 is better than 1264, and 1040 is too small.
    FreeBlock *big = make(1264), *small = make(1040), *tight = make(1120);
    lists_.insert(big, 1264);
    lists_.insert(small, 1040);
    lists_.insert(tight, 1120);
    EXPECT_EQ(lists_.find(1100), tight);
    EXPECT_EQ(lists_.find(1200), big);
    EXPECT_EQ(lists_.find(1270), nullptr);
}

TEST_F(FreeListsTest, LargerBinServesWhenOwnBinIsTooSmall) {
    FreeBlock *small = make(1040), *larger = make(4096);
    lists_.insert(small, 1040);
    lists_.insert(larger, 4096);
    EXPECT_EQ(lists_.find(1100), larger);
}

TEST_F(FreeListsTest, LargerBinGivesItsSmallestBlockNotItsHead) {
    FreeBlock *small = make(4096), *large = make(4608);  // one range bin
    ASSERT_EQ(bin_of(4096), bin_of(4608));
    lists_.insert(small, 4096);
    lists_.insert(large, 4608);  // now the head
    EXPECT_EQ(lists_.find(1104), small);
}

TEST_F(FreeListsTest, RemoveFromAnyPositionKeepsListsAndBitmapRight) {
    FreeBlock *a = make(96), *b = make(96), *c = make(96);
    lists_.insert(a, 96);
    lists_.insert(b, 96);
    lists_.insert(c, 96);  // list: c b a
    lists_.remove(b, 96);  // middle
    EXPECT_EQ(lists_.head(bin_of(96)), c);
    EXPECT_EQ(c->next, a);
    EXPECT_EQ(a->prev, c);
    lists_.remove(c, 96);  // head
    EXPECT_EQ(lists_.head(bin_of(96)), a);
    EXPECT_EQ(a->prev, nullptr);
    EXPECT_TRUE(lists_.bit(bin_of(96)));
    lists_.remove(a, 96);  // last one
    EXPECT_FALSE(lists_.bit(bin_of(96)));
    EXPECT_EQ(lists_.find(96), nullptr);
}

TEST_F(FreeListsTest, BitmapSearchCrossesWords) {
    std::size_t huge = std::size_t{1} << 40;
    FreeBlock *h = make(huge);
    lists_.insert(h, huge);
    EXPECT_GE(bin_of(huge), 128u);  // in the third bitmap word
    EXPECT_EQ(lists_.find(32), h);
    EXPECT_EQ(lists_.find(huge), h);
    EXPECT_EQ(lists_.find(huge + 16), nullptr);
}

}  // namespace
}  // namespace heaplab::ref
