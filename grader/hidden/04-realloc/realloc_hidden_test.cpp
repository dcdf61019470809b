// Hidden tests of Lab 04, for instructors: they never reach the student copy. The same contract
// as the public tests, on the workloads in-place realloc exists for: vectors doubled, strings
// appended to, buffers shrunk, large blocks freed and allocated again.
#include "realloc_testing.h"

#include <algorithm>
#include <random>
#include <string>
#include <vector>

namespace {

using heaplab::testing::fill_pattern;
using heaplab::testing::FreshHeap;
using heaplab::testing::HoldsPattern;
using heaplab::testing::IsGoodPayload;
using heaplab::testing::where;
using heaplab::testing::realloc_lab::Apart;
using heaplab::testing::realloc_lab::HeapIsConsistent;
using heaplab::testing::realloc_lab::lies_in;

constexpr std::size_t KiB = 1024;

class ReallocHidden : public FreshHeap {};

TEST_F(ReallocHidden, ALoneVectorDoubledNeverMoves) {
    void *p = mm_malloc(16);
    ASSERT_NE(p, nullptr);
    fill_pattern(p, 16, 1);
    for (std::size_t size = 32; size <= 1024 * KiB; size *= 2) {
        void *q = mm_realloc(p, size);
        ASSERT_EQ(q, p) << "the only block of the heap, doubled to " << size
                        << " bytes, can always grow where it is (into the free block after it or at the top)";
    }
    EXPECT_TRUE(HoldsPattern(p, 16, 1));
    EXPECT_LE(mem_peak_heapsize(), 1024 * KiB + 16 * KiB)
        << "a single 1 MiB vector grown in place needs a heap of about 1 MiB";
    EXPECT_TRUE(HeapIsConsistent("doubling one vector up to 1 MiB"));
}

TEST_F(ReallocHidden, TwoVectorsDoubledInTurnKeepTheirContents) {
    void *v[2] = {mm_malloc(8), mm_malloc(8)};
    std::size_t size[2] = {8, 8};
    ASSERT_TRUE(v[0] != nullptr && v[1] != nullptr);
    fill_pattern(v[0], 8, 2);
    fill_pattern(v[1], 8, 3);
    for (int round = 0; round < 14; ++round) {
        for (int i = 0; i < 2; ++i) {
            void *q = mm_realloc(v[i], size[i] * 2);
            ASSERT_TRUE(IsGoodPayload(q, size[i] * 2));
            ASSERT_TRUE(HoldsPattern(q, size[i], static_cast<unsigned>(2 + i + 2 * round)))
                << "vector " << i << " lost its contents when doubled to " << size[i] * 2;
            size[i] *= 2;
            v[i] = q;
            fill_pattern(q, size[i], static_cast<unsigned>(2 + i + 2 * (round + 1)));
        }
        ASSERT_TRUE(Apart(v[0], size[0], v[1], size[1]));
    }
    EXPECT_TRUE(HeapIsConsistent("doubling two vectors in turn"));
}

TEST_F(ReallocHidden, AStringBuilderUsesAboutItsOwnSize) {
    void *p = mm_malloc(1);
    ASSERT_NE(p, nullptr);
    std::mt19937 random(404);
    std::size_t size = 1;
    while (size < 200 * KiB) {
        size += 1 + random() % 64;
        p = mm_realloc(p, size);
        ASSERT_NE(p, nullptr);
    }
    EXPECT_LE(mem_peak_heapsize(), size + 8 * KiB)
        << "one buffer grown a few bytes at a time to " << size << " bytes should not need a heap much larger than "
        << "itself; the heap peaked at " << mem_peak_heapsize() << " bytes (does the block grow in place?)";
}

TEST_F(ReallocHidden, ABufferShrunkStepByStepGivesTheTopBack) {
    auto *p = static_cast<char *>(mm_malloc(1024 * KiB));
    ASSERT_NE(p, nullptr);
    fill_pattern(p, 1024, 4);
    for (std::size_t size = 512 * KiB; size >= 1 * KiB; size /= 2) ASSERT_EQ(mm_realloc(p, size), p);
    EXPECT_TRUE(HoldsPattern(p, 1024, 4));
    EXPECT_LE(mem_heapsize(), 256 * KiB) << "the buffer shrank from 1 MiB to 1 KiB at the top of the heap: most of the "
                                            "heap should have been given back, yet it is "
                                         << mem_heapsize() << " bytes";
    EXPECT_TRUE(HeapIsConsistent("shrinking the last block step by step"));
}

TEST_F(ReallocHidden, ShrunkThenGrownBackStaysPut) {
    void *p = mm_malloc(1000);
    void *guard = mm_malloc(16);
    ASSERT_TRUE(p != nullptr && guard != nullptr);
    fill_pattern(p, 1000, 5);
    ASSERT_EQ(mm_realloc(p, 100), p);
    EXPECT_EQ(mm_realloc(p, 1000), p) << "the tail cut off by the shrink is still free: growing back can use it";
    EXPECT_TRUE(HoldsPattern(p, 100, 5));
}

TEST_F(ReallocHidden, GrowingSplitsOffWhatItDoesNotNeed) {
    auto *p = static_cast<char *>(mm_malloc(100));
    auto *next = static_cast<char *>(mm_malloc(4000));
    void *guard = mm_malloc(16);
    ASSERT_TRUE(p != nullptr && next != nullptr && guard != nullptr);
    mm_free(next);
    ASSERT_EQ(mm_realloc(p, 200), p);
    void *r = mm_malloc(3000);
    ASSERT_TRUE(IsGoodPayload(r, 3000));
    EXPECT_TRUE(lies_in(r, next, 4000)) << "p took about 100 bytes of the 4000-byte free block after it: the rest must "
                                           "stay free for mm_malloc(3000), which returned "
                                        << where(r);
    EXPECT_TRUE(Apart(r, 3000, p, 200));
}

TEST_F(ReallocHidden, TheBreakMovesByWhatIsMissingEvenUnderACap) {
    void *p = mm_malloc(64 * KiB);
    ASSERT_NE(p, nullptr);
    fill_pattern(p, 64 * KiB, 6);
    mem_set_cap(mem_heapsize() + 4 * KiB);
    void *q = mm_realloc(p, 64 * KiB + 4000);
    EXPECT_EQ(q, p) << "4 KiB more heap is allowed and the last block needs 4000 bytes more: growing at the top must "
                       "ask mem_sbrk for what is missing, not for the whole new size";
    EXPECT_TRUE(HoldsPattern(p, 64 * KiB, 6));
}

TEST_F(ReallocHidden, AllocatingAndFreeingALargeBlockAgainAndAgain) {
    std::size_t first_peak = 0;
    for (int i = 0; i < 20; ++i) {
        void *p = mm_malloc(300 * KiB);
        ASSERT_TRUE(IsGoodPayload(p, 300 * KiB)) << "round " << i;
        fill_pattern(p, 4096, static_cast<unsigned>(i));
        void *small = mm_malloc(100);
        ASSERT_NE(small, nullptr);
        mm_free(p);
        mm_free(small);
        ASSERT_TRUE(HeapIsConsistent("a round of allocating and freeing 300 KiB"));
        if (i == 1) first_peak = mem_peak_heapsize();
    }
    EXPECT_LE(mem_peak_heapsize(), first_peak + 16 * KiB) << "the same 300 KiB block allocated and freed 20 times must "
                                                             "not make the heap grow round after round";
}

TEST_F(ReallocHidden, ATrimmedHeapGrowsAgainAtTheTop) {
    void *low = mm_malloc(100);
    void *p = mm_malloc(400 * KiB);
    ASSERT_TRUE(low != nullptr && p != nullptr);
    mm_free(p);
    std::size_t trimmed = mem_heapsize();
    void *q = mm_malloc(16);
    ASSERT_NE(q, nullptr);
    void *r = mm_realloc(q, 300 * KiB);
    ASSERT_TRUE(IsGoodPayload(r, 300 * KiB));
    EXPECT_LE(mem_heapsize(), trimmed + 300 * KiB) << "after a trim, a block grown at the top should use the memory "
                                                      "still at the top";
    EXPECT_TRUE(HeapIsConsistent("growing at the top after a trim"));
}

TEST_F(ReallocHidden, RandomReallocsKeepDataAndTheHeapConsistent) {
    std::mt19937 random(4004);
    struct Block {
        void *p = nullptr;
        std::size_t size = 0;
        unsigned seed = 0;
    };
    std::vector<Block> blocks(64);
    for (unsigned i = 1; i <= 6000; ++i) {
        Block &b = blocks[random() % blocks.size()];
        std::size_t size = random() % 8 == 0 ? random() % (200 * KiB) : random() % 2000;
        if (b.p == nullptr) {
            b.p = mm_malloc(size + 1);
            ASSERT_TRUE(IsGoodPayload(b.p, size + 1));
            b.size = size + 1;
        } else if (random() % 5 == 0) {
            mm_free(b.p);
            b.p = nullptr;
            continue;
        } else {
            void *q = mm_realloc(b.p, size + 1);
            ASSERT_TRUE(IsGoodPayload(q, size + 1)) << "request " << i;
            ASSERT_TRUE(HoldsPattern(q, std::min(b.size, size + 1), b.seed))
                << "request " << i << ": mm_realloc from " << b.size << " to " << size + 1 << " bytes lost data";
            b.p = q;
            b.size = size + 1;
        }
        b.seed = i;
        fill_pattern(b.p, b.size, i);
        if (i % 300 == 0) {
            ASSERT_TRUE(HeapIsConsistent("request " + std::to_string(i)));
        }
    }
    for (const Block &b : blocks) {
        if (b.p != nullptr) {
            EXPECT_TRUE(HoldsPattern(b.p, b.size, b.seed));
        }
    }
}

}  // namespace
