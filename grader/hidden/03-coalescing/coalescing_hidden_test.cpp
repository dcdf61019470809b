// Hidden tests of Lab 03, for instructors: they never reach the student copy. Random workloads
// checked after every step for the coalescing invariant (never two free blocks in a row), the
// student's own mm_checkheap along the way, and a heap that must fold back into one free block.
#include "coalescing_testing.h"

#include <algorithm>
#include <random>
#include <vector>

namespace {

using namespace heaplab::coalescing;
using heaplab::testing::fill_pattern;
using heaplab::testing::HoldsPattern;
using heaplab::testing::IsGoodPayload;

struct Live {
    void *p;
    std::size_t size;
    unsigned seed;
};

// Walks the heap: true when no two free blocks are neighbours; counts the free blocks.
::testing::AssertionResult FullyCoalesced(std::size_t *free_blocks = nullptr) {
    char *block = heap_lo() + kPrologue + 2 * kWord;
    bool previous_free = false;
    std::size_t count = 0;
    while (in_heap(block) && word_at(block) != 1) {
        std::size_t header = word_at(block);
        std::size_t size = header & ~std::size_t{1};
        if (size < kMinBlock || size % 16 != 0 || !in_heap(block, size))
            return ::testing::AssertionFailure() << "a bad header: " << heap_picture();
        bool free = (header & 1) == 0;
        if (free && previous_free)
            return ::testing::AssertionFailure() << "two free blocks in a row (not coalesced): " << heap_picture();
        count += free;
        previous_free = free;
        block += size;
    }
    if (free_blocks != nullptr) *free_blocks = count;
    return ::testing::AssertionSuccess();
}

class CoalescingHidden : public LabHeap {};

TEST_F(CoalescingHidden, RandomWorkloadStaysCoalesced) {
    std::mt19937 random(99);
    std::vector<Live> live;
    for (unsigned i = 0; i < 3000; ++i) {
        unsigned dice = random() % 10;
        if (!live.empty() && dice < 4) {
            std::size_t victim = random() % live.size();
            ASSERT_TRUE(HoldsPattern(live[victim].p, live[victim].size, live[victim].seed)) << "step " << i;
            mm_free(live[victim].p);
            live.erase(live.begin() + static_cast<long>(victim));
            ASSERT_TRUE(FullyCoalesced()) << "after mm_free at step " << i;
        } else if (!live.empty() && dice < 5) {
            Live &block = live[random() % live.size()];
            std::size_t size = 1 + random() % 800;
            void *q = mm_realloc(block.p, size);
            ASSERT_TRUE(IsGoodPayload(q, size));
            ASSERT_TRUE(HoldsPattern(q, std::min(size, block.size), block.seed)) << "step " << i;
            block = {q, size, i};
            fill_pattern(q, size, i);
        } else {
            std::size_t size = random() % 8 == 0 ? 1 + random() % 4000 : 1 + random() % 150;
            void *p = mm_malloc(size);
            ASSERT_TRUE(IsGoodPayload(p, size)) << "step " << i;
            fill_pattern(p, size, i);
            live.push_back({p, size, i});
        }
        if (i % 500 == 0) {
            ASSERT_TRUE(CheckheapAccepts()) << "after step " << i;
        }
    }
    for (const Live &block : live) EXPECT_TRUE(HoldsPattern(block.p, block.size, block.seed));
    EXPECT_TRUE(CheckheapAccepts());
}

TEST_F(CoalescingHidden, FreeingEverythingLeavesOneFreeBlock) {
    std::mt19937 random(5);
    std::vector<void *> blocks;
    for (int i = 0; i < 300; ++i) {
        blocks.push_back(mm_malloc(1 + random() % 300));
        ASSERT_NE(blocks.back(), nullptr);
    }
    std::shuffle(blocks.begin(), blocks.end(), random);
    for (void *p : blocks) mm_free(p);
    std::size_t free_blocks = 0;
    ASSERT_TRUE(FullyCoalesced(&free_blocks));
    EXPECT_EQ(free_blocks, 1u) << "after freeing every block in random order, the heap must be one free block: "
                               << heap_picture();
    EXPECT_TRUE(CheckheapAccepts());
}

TEST_F(CoalescingHidden, AFreeListOfManyBlocksStaysConsistent) {
    std::vector<void *> blocks;
    for (int i = 0; i < 200; ++i) blocks.push_back(mm_malloc(24));
    for (void *p : blocks) ASSERT_NE(p, nullptr);
    for (std::size_t i = 0; i < 200; i += 2) mm_free(blocks[i]);  // 100 separate free blocks
    ASSERT_TRUE(CheckheapAccepts()) << "with 100 free blocks on the list";
    for (std::size_t i = 100; i < 200; i += 2) blocks[i] = mm_malloc(24);  // from the middle of the list
    ASSERT_TRUE(CheckheapAccepts()) << "after taking 50 blocks off the list";
    for (std::size_t i = 1; i < 200; i += 4) mm_free(blocks[i]);  // merges on both sides
    EXPECT_TRUE(FullyCoalesced());
    EXPECT_TRUE(CheckheapAccepts());
}

}  // namespace
