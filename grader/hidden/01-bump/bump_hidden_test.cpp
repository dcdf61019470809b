// Hidden tests of Lab 01, for instructors: they never reach the student copy. They check the
// same contract as the public tests on workloads a student is less likely to have tried.
#include "heaplab/lab_testing.h"

#include <cerrno>
#include <random>
#include <vector>

namespace {

using heaplab::testing::FreshHeap;
using heaplab::testing::HoldsPattern;
using heaplab::testing::IsGoodPayload;

class BumpHidden : public FreshHeap {};

TEST_F(BumpHidden, RandomRequestsKeepEveryBlockIntact) {
    std::mt19937 random(2024);
    struct Block {
        void *p;
        std::size_t size;
        unsigned seed;
    };
    std::vector<Block> blocks;
    for (unsigned i = 0; i < 3000; ++i) {
        std::size_t size = random() % 700;
        if (!blocks.empty() && random() % 4 == 0) {
            Block &b = blocks[random() % blocks.size()];
            void *q = mm_realloc(b.p, size + 1);
            ASSERT_TRUE(IsGoodPayload(q, size + 1));
            ASSERT_TRUE(HoldsPattern(q, std::min(b.size, size + 1), b.seed)) << "mm_realloc lost data";
            b = {q, size + 1, i};
            heaplab::testing::fill_pattern(q, b.size, i);
            continue;
        }
        void *p = random() % 3 == 0 ? mm_calloc(1, size) : mm_malloc(size);
        if (size == 0 && p == nullptr) continue;
        ASSERT_TRUE(IsGoodPayload(p, size));
        heaplab::testing::fill_pattern(p, size, i);
        blocks.push_back({p, size, i});
    }
    for (const Block &b : blocks) EXPECT_TRUE(HoldsPattern(b.p, b.size, b.seed));
    EXPECT_EQ(mm_checkheap(0), 1) << "mm_checkheap must accept the heap after 3000 requests";
}

TEST_F(BumpHidden, CallocOfZeroMembersIsHarmless) {
    void *p = mm_calloc(0, 100);
    void *q = mm_calloc(100, 0);
    if (p != nullptr) {
        EXPECT_TRUE(IsGoodPayload(p, 0));
    }
    if (q != nullptr) {
        EXPECT_TRUE(IsGoodPayload(q, 0));
    }
    EXPECT_NE(mm_malloc(8), nullptr);
}

TEST_F(BumpHidden, ReallocChainKeepsTheFirstBytes) {
    void *p = mm_malloc(8);
    ASSERT_NE(p, nullptr);
    heaplab::testing::fill_pattern(p, 8, 1);
    for (std::size_t size = 9; size < 5000; size = size * 3 / 2 + 1) {
        p = mm_realloc(p, size);
        ASSERT_TRUE(IsGoodPayload(p, size));
        ASSERT_TRUE(HoldsPattern(p, 8, 1)) << "after growing to " << size << " bytes";
    }
}

TEST_F(BumpHidden, CallocOverflowAtTheBoundary) {
    errno = 0;
    EXPECT_EQ(mm_calloc(SIZE_MAX, 2), nullptr);
    EXPECT_EQ(errno, ENOMEM);
    EXPECT_EQ(mm_calloc(2, SIZE_MAX / 2 + 1), nullptr);
}

}  // namespace
