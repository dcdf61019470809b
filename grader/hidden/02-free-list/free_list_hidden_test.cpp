// Hidden tests of Lab 02, for instructors: they never reach the student copy. The same contract
// as the public tests, on longer and random workloads, under both fit policies, with the
// student's own mm_checkheap consulted along the way.
#include "free_list_testing.h"

#include <algorithm>
#include <random>
#include <vector>

namespace {

using heaplab::free_list::CheckheapAccepts;
using heaplab::free_list::heap_picture;
using heaplab::free_list::kFirstFit;
using heaplab::free_list::LabHeap;
using heaplab::free_list::kNextFit;
using heaplab::free_list::PolicyHeap;
using heaplab::testing::fill_pattern;
using heaplab::testing::HoldsPattern;
using heaplab::testing::IsGoodPayload;

struct Live {
    void *p;
    std::size_t size;
    unsigned seed;
};

// A random mix of malloc, calloc, realloc and free; every live block keeps its pattern.
void random_workload(unsigned seed, unsigned steps) {
    std::mt19937 random(seed);
    std::vector<Live> live;
    for (unsigned i = 0; i < steps; ++i) {
        unsigned dice = random() % 10;
        if (!live.empty() && dice < 4) {
            std::size_t victim = random() % live.size();
            ASSERT_TRUE(HoldsPattern(live[victim].p, live[victim].size, live[victim].seed))
                << "step " << i << ": a live block was overwritten; the heap: " << heap_picture();
            mm_free(live[victim].p);
            live.erase(live.begin() + static_cast<long>(victim));
        } else if (!live.empty() && dice < 5) {
            Live &block = live[random() % live.size()];
            std::size_t size = 1 + random() % 600;
            void *q = mm_realloc(block.p, size);
            ASSERT_TRUE(IsGoodPayload(q, size));
            ASSERT_TRUE(HoldsPattern(q, std::min(size, block.size), block.seed)) << "step " << i << ": mm_realloc lost data";
            block = {q, size, i};
            fill_pattern(q, size, i);
        } else {
            std::size_t size = random() % 8 == 0 ? 1 + random() % 3000 : 1 + random() % 120;
            void *p = dice == 9 ? mm_calloc(1, size) : mm_malloc(size);
            ASSERT_TRUE(IsGoodPayload(p, size)) << "step " << i;
            if (dice == 9) {
                for (std::size_t k = 0; k < size; ++k)
                    ASSERT_EQ(static_cast<unsigned char *>(p)[k], 0) << "mm_calloc left byte " << k << " non-zero";
            }
            fill_pattern(p, size, i);
            live.push_back({p, size, i});
        }
        if (i % 500 == 0) {
            ASSERT_TRUE(CheckheapAccepts()) << "after step " << i;
        }
    }
    for (const Live &block : live) EXPECT_TRUE(HoldsPattern(block.p, block.size, block.seed));
    EXPECT_TRUE(CheckheapAccepts()) << "at the end";
}

class FreeListHidden : public LabHeap {};

TEST_F(FreeListHidden, RandomWorkloadUnderFirstFit) { random_workload(7, 4000); }

TEST_F(FreeListHidden, RandomWorkloadUnderNextFit) {
    mm_set_fit_policy(kNextFit);
    random_workload(11, 4000);
    mm_set_fit_policy(kFirstFit);
}

TEST_F(FreeListHidden, FreeingEverythingLetsTheSameRequestsFitAgain) {
    std::vector<void *> blocks;
    for (unsigned i = 0; i < 200; ++i) blocks.push_back(mm_malloc(1 + i % 90));
    for (void *p : blocks) ASSERT_NE(p, nullptr);
    std::size_t heap = mem_heapsize();
    for (void *p : blocks) mm_free(p);
    for (unsigned i = 0; i < 200; ++i) ASSERT_NE(mm_malloc(1 + i % 90), nullptr);
    EXPECT_EQ(mem_heapsize(), heap) << "the same 200 requests, made again after freeing all of them, must fit in the "
                                       "freed blocks (first fit finds each its old block)";
    EXPECT_TRUE(CheckheapAccepts());
}

TEST_F(FreeListHidden, CheckheapAfterManySplits) {
    void *big = mm_malloc(20000);
    ASSERT_NE(big, nullptr);
    ASSERT_NE(mm_malloc(8), nullptr);
    mm_free(big);
    std::mt19937 random(3);
    for (int i = 0; i < 300; ++i) {
        void *p = mm_malloc(1 + random() % 50);
        ASSERT_NE(p, nullptr);
        if (random() % 2) mm_free(p);
    }
    EXPECT_TRUE(CheckheapAccepts());
}

class FreeListHiddenNextFit : public PolicyHeap {
protected:
    FreeListHiddenNextFit() : PolicyHeap(kNextFit) {}
};

TEST_F(FreeListHiddenNextFit, SpreadsAlongTheHeap) {
    // Ten free blocks of the same size: next fit hands them out in address order, each search
    // starting after the block chosen last, never going back to the start of the heap.
    std::vector<void *> blocks;
    for (int i = 0; i < 20; ++i) {
        blocks.push_back(mm_malloc(64));
        ASSERT_NE(blocks.back(), nullptr);
    }
    for (std::size_t i = 0; i < 20; i += 2) mm_free(blocks[i]);
    void *first = mm_malloc(64);
    ASSERT_EQ(first, blocks[0]) << "the search wraps around to the first free block; the heap: " << heap_picture();
    for (std::size_t i = 2; i < 20; i += 2) {
        void *p = mm_malloc(64);
        ASSERT_EQ(p, blocks[i]) << "next fit must continue after the block it chose last; the heap: " << heap_picture();
        if (i == 10) mm_free(blocks[1]);  // behind the rover: next fit does not go back for it yet
    }
    std::size_t heap = mem_heapsize();
    void *wrapped = mm_malloc(64);
    EXPECT_EQ(wrapped, blocks[1]) << "after the last free block ahead of the rover, the search wraps around to block 1";
    EXPECT_EQ(mem_heapsize(), heap);
    EXPECT_TRUE(CheckheapAccepts());
}

}  // namespace
