// Public tests of Lab 03 (boundary tags, coalescing, an explicit free list). `make test` runs
// them on your mm.cpp. Each suite is one part of the grade (lab.toml). Failures show the heap
// as the tests see it: "[48 A][96 f][epilogue]".
//
// The tests read your headers, footers and links: keep the layout of the handout.
#include "coalescing_testing.h"

#include <cstring>
#include <vector>

namespace {

using namespace heaplab::coalescing;
using heaplab::testing::fill_pattern;
using heaplab::testing::HoldsPattern;
using heaplab::testing::IsGoodPayload;
using heaplab::testing::where;

char *bytes(void *p) { return static_cast<char *>(p); }

// Allocates blocks of the given sizes one after another and checks that they are neighbours.
std::vector<void *> neighbours(std::initializer_list<std::size_t> sizes) {
    std::vector<void *> blocks;
    for (std::size_t size : sizes) {
        void *p = mm_malloc(size);
        EXPECT_TRUE(IsGoodPayload(p, size)) << "for mm_malloc(" << size << ")";
        if (p == nullptr) return {};
        for (void *other : blocks) {
            if (p == other) {
                ADD_FAILURE() << "mm_malloc(" << size << ") handed out the block at " << where(p)
                              << " again, while it is in use: place() must take the block off the free list";
                return {};
            }
        }
        if (!blocks.empty()) {
            EXPECT_EQ(bytes(p), bytes(blocks.back()) + block_size_of(blocks.back()))
                << "on a fresh heap, mm_malloc(" << size << ") must come right after the previous block; the heap: "
                << heap_picture();
        }
        blocks.push_back(p);
    }
    return blocks;
}

// ---------------------------------------------------------------------------------------------
class CoalescingLayout : public LabHeap {};

TEST_F(CoalescingLayout, TheFirstBlockFollowsThePrologue) {
    void *p = mm_malloc(40);
    ASSERT_TRUE(IsGoodPayload(p, 40));
    EXPECT_EQ(bytes(p), heap_lo() + kFirstPayload)
        << "the first payload of an empty heap is at mem_heap_lo() + 32: 8-byte pad, the prologue (a 16-byte "
           "header + footer), the first header; it is at "
        << where(p) << " (is there a prologue?)";
    EXPECT_EQ(word_at(heap_lo() + kPrologue), 16u | 1) << "the prologue's header (at mem_heap_lo() + 8) must say 16 | 1";
    EXPECT_EQ(word_at(heap_lo() + kPrologue + kWord), 16u | 1)
        << "the prologue's footer (at mem_heap_lo() + 16) must say 16 | 1: it is what the first block sees as the "
           "footer of the block before it (is there a prologue?)";
}

TEST_F(CoalescingLayout, TheHeapEndsWithTheEpilogue) {
    ASSERT_GE(mem_heapsize(), kWord) << "mm_init must make the prologue and the epilogue";
    EXPECT_EQ(word_at(heap_end() - kWord), 1u) << "on an empty heap, the last word must be the epilogue header: 0 | 1";
    std::vector<void *> blocks = neighbours({40, 100, 10});
    ASSERT_EQ(blocks.size(), 3u);
    EXPECT_EQ(word_at(heap_end() - kWord), 1u)
        << "after three mm_malloc, the last word of the heap must still be the epilogue header (0 | 1): does "
           "extend_heap write a new epilogue at the new end? The heap: "
        << heap_picture();
    EXPECT_EQ(bytes(blocks[2]) - kWord + block_size_of(blocks[2]), heap_end() - kWord)
        << "the last block must end right where the epilogue starts";
}

TEST_F(CoalescingLayout, EveryBlockHasAFooterEqualToItsHeader) {
    for (std::size_t size : {1u, 16u, 17u, 100u, 1000u}) {
        void *p = mm_malloc(size);
        ASSERT_TRUE(IsGoodPayload(p, size)) << "for mm_malloc(" << size << ")";
        EXPECT_EQ(header_word(p), block_for(size) | 1)
            << "mm_malloc(" << size << ") needs a block of " << block_for(size) << " bytes: 8-byte header, " << size
            << " bytes, 8-byte footer, rounded up to 16 (at least 32); the header says " << header_word(p)
            << (block_size_of(p) < size + 16 ? " (is the footer counted?)" : "");
        EXPECT_EQ(footer_word(p), header_word(p))
            << "the footer (the last word of the block) of mm_malloc(" << size << ") must repeat its header";
    }
}

TEST_F(CoalescingLayout, TheSmallestBlockHoldsTwoLinks) {
    void *p = mm_malloc(1);
    ASSERT_TRUE(IsGoodPayload(p, 1));
    EXPECT_EQ(block_size_of(p), kMinBlock) << "mm_malloc(1) gets the smallest block, 32 bytes: when it is free it must "
                                              "hold a header, the next and prev links and a footer";
}

// ---------------------------------------------------------------------------------------------
// The four cases. Each frees the middle block `b` of [a][b][c] (plus a guard after them, so that
// `c` is never the last block), with `a` and `c` free or not.
class CoalescingCases : public LabHeap {
protected:
    void SetUp() override {
        LabHeap::SetUp();
        blocks = neighbours({40, 100, 60, 16});
        ASSERT_EQ(blocks.size(), 4u);
        a = blocks[0];
        b = blocks[1];
        c = blocks[2];
        size_a = block_size_of(a);
        size_b = block_size_of(b);
        size_c = block_size_of(c);
    }
    // The block at @p p must be free, @p size bytes long, with its footer at its end.
    ::testing::AssertionResult IsOneFreeBlock(void *p, std::size_t size, const char *case_name) {
        std::size_t header = header_word(p);
        if (header != size)
            return ::testing::AssertionFailure()
                   << case_name << ": the block at " << where(p) << " must be one free block of " << size
                   << " bytes (header " << size << "); its header says " << header << ". The heap: " << heap_picture();
        std::size_t footer = word_at(bytes(p) - kWord + size - kWord);
        if (footer != size)
            return ::testing::AssertionFailure()
                   << case_name << ": the merged block's footer (its last word, at " << where(bytes(p) - 2 * kWord + size)
                   << ") must say " << size << "; it says " << footer
                   << ": is the footer rewritten at the new end after coalescing? The heap: " << heap_picture();
        return ::testing::AssertionSuccess();
    }
    std::vector<void *> blocks;
    void *a = nullptr, *b = nullptr, *c = nullptr;
    std::size_t size_a = 0, size_b = 0, size_c = 0;
};

TEST_F(CoalescingCases, Case1NeitherNeighbourIsFree) {
    mm_free(b);
    EXPECT_TRUE(IsOneFreeBlock(b, size_b, "case 1 (both neighbours allocated)"));
    EXPECT_EQ(header_word(a), size_a | 1) << "the allocated block before must not change";
    EXPECT_EQ(header_word(c), size_c | 1) << "the allocated block after must not change";
    EXPECT_TRUE(CheckheapAccepts());
}

TEST_F(CoalescingCases, Case2TheNextNeighbourIsFree) {
    mm_free(c);
    mm_free(b);
    EXPECT_TRUE(IsOneFreeBlock(b, size_b + size_c,
                               "case 2 (the next block is free): did you coalesce with the next block?"));
    EXPECT_TRUE(CheckheapAccepts());
}

TEST_F(CoalescingCases, Case3ThePreviousNeighbourIsFree) {
    mm_free(a);
    mm_free(b);
    EXPECT_TRUE(IsOneFreeBlock(a, size_a + size_b,
                               "case 3 (the previous block is free): did you coalesce with the previous block, "
                               "found through the footer before the header?"));
    EXPECT_TRUE(CheckheapAccepts());
}

TEST_F(CoalescingCases, Case4BothNeighboursAreFree) {
    mm_free(a);
    mm_free(c);
    mm_free(b);
    EXPECT_TRUE(IsOneFreeBlock(a, size_a + size_b + size_c,
                               "case 4 (both neighbours are free): the three blocks must become one; coalescing "
                               "only one side leaves two free blocks in a row"));
    EXPECT_TRUE(CheckheapAccepts());
}

TEST_F(CoalescingCases, TheMergedBlockServesARequestAsBigAsAllThree) {
    mm_free(a);
    mm_free(c);
    mm_free(b);
    std::size_t heap = mem_heapsize();
    std::size_t whole = size_a + size_b + size_c;
    void *p = mm_malloc(whole - 2 * kWord);
    ASSERT_TRUE(IsGoodPayload(p, whole - 2 * kWord));
    EXPECT_EQ(p, a) << "a request for " << whole - 2 * kWord << " bytes fits exactly in the merged " << whole
                    << "-byte block at " << where(a) << "; it returned " << where(p);
    EXPECT_EQ(mem_heapsize(), heap) << "the heap grew although the merged block fitted";
}

TEST_F(CoalescingCases, TheFirstBlockMergesForwardOnly) {
    mm_free(b);
    mm_free(a);  // a's previous neighbour is the prologue: allocated, never merged
    EXPECT_TRUE(IsOneFreeBlock(a, size_a + size_b, "freeing the first block next to a free one"));
    EXPECT_EQ(word_at(heap_lo() + kPrologue), 16u | 1) << "the prologue must never change";
    EXPECT_TRUE(CheckheapAccepts());
}

TEST_F(CoalescingCases, NewSpaceMergesWithAFreeLastBlock) {
    void *last = blocks[3];
    std::size_t last_size = block_size_of(last);
    mm_free(last);
    std::size_t heap = mem_heapsize();
    void *p = mm_malloc(500);
    ASSERT_TRUE(IsGoodPayload(p, 500));
    EXPECT_EQ(p, last) << "the heap grew for mm_malloc(500), and the new space must merge with the free last block "
                          "before it (extend_heap coalesces), so the block starts at "
                       << where(last) << "; it starts at " << where(p) << ". The heap: " << heap_picture();
    EXPECT_EQ(mem_heapsize() - heap, block_for(500) - last_size)
        << "mm_malloc(500) needs a block of " << block_for(500) << " bytes, and the free last block already has "
        << last_size << ": extend_heap must ask mem_sbrk only for the " << block_for(500) - last_size
        << " bytes it lacks";
    EXPECT_TRUE(CheckheapAccepts());
}

// ---------------------------------------------------------------------------------------------
class CoalescingFreeList : public LabHeap {};

TEST_F(CoalescingFreeList, TheLowestFreeBlockIsReusedFirst) {
    std::vector<void *> blocks = neighbours({64, 16, 64, 16, 64, 16});
    ASSERT_EQ(blocks.size(), 6u);
    mm_free(blocks[2]);
    mm_free(blocks[0]);
    mm_free(blocks[4]);
    void *p = mm_malloc(64);
    EXPECT_EQ(p, blocks[0]) << "the free list is in address order, so first fit takes the lowest free block that fits "
                               "(at "
                            << where(blocks[0]) << "), whatever the order the blocks were freed in; it returned "
                            << where(p) << " (is insert_free keeping the list in address order?)";
    void *q = mm_malloc(64);
    EXPECT_EQ(q, blocks[2]) << "and then the next one up (at " << where(blocks[2]) << "); it returned " << where(q)
                            << " (is insert_free keeping the list in address order?)";
    EXPECT_TRUE(CheckheapAccepts());
}

TEST_F(CoalescingFreeList, AnAllocatedBlockLeavesTheList) {
    std::vector<void *> blocks = neighbours({64, 16, 64, 16});
    ASSERT_EQ(blocks.size(), 4u);
    mm_free(blocks[0]);
    void *p = mm_malloc(64);
    ASSERT_EQ(p, blocks[0]);
    fill_pattern(p, 64, 1);
    void *q = mm_malloc(64);
    ASSERT_TRUE(IsGoodPayload(q, 64));
    EXPECT_NE(q, p) << "mm_malloc handed out the same block twice: place() must take the block off the free list";
    EXPECT_TRUE(HoldsPattern(p, 64, 1));
    EXPECT_TRUE(CheckheapAccepts());
}

TEST_F(CoalescingFreeList, AMergedNeighbourLeavesTheList) {
    std::vector<void *> blocks = neighbours({100, 100, 16});
    ASSERT_EQ(blocks.size(), 3u);
    void *a = blocks[0], *b = blocks[1];
    mm_free(b);
    mm_free(a);  // merges with b: b is no free block any more
    void *whole = mm_malloc(block_size_of(a) - 2 * kWord);
    ASSERT_EQ(whole, a) << "the merged block serves a request as big as both; the heap: " << heap_picture();
    void *p = mm_malloc(80);
    ASSERT_TRUE(IsGoodPayload(p, 80));
    EXPECT_FALSE(bytes(p) >= bytes(a) && bytes(p) < bytes(a) + block_size_of(a))
        << "mm_malloc(80) returned " << where(p) << ", inside the live block at " << where(a)
        << ": the free block that was merged into its neighbour is still on the free list (did coalesce unlink it?)";
}

TEST_F(CoalescingFreeList, ARunOfFreedBlocksServesOneBigRequest) {
    std::vector<void *> blocks;
    for (int i = 0; i < 8; ++i) blocks.push_back(mm_malloc(16));
    for (void *p : blocks) ASSERT_NE(p, nullptr);
    ASSERT_NE(mm_malloc(16), nullptr);
    for (int i = 0; i < 8; i += 2) mm_free(blocks[static_cast<std::size_t>(i)]);
    for (int i = 1; i < 8; i += 2) mm_free(blocks[static_cast<std::size_t>(i)]);
    std::size_t heap = mem_heapsize();
    void *p = mm_malloc(8 * 32 - 16);
    EXPECT_EQ(p, blocks[0]) << "eight neighbouring 32-byte blocks, all freed, are one free block of 256 bytes, enough "
                               "for mm_malloc(240); it returned "
                            << where(p) << ". The heap: " << heap_picture();
    EXPECT_EQ(mem_heapsize(), heap);
}

TEST_F(CoalescingFreeList, ManyRoundsDoNotGrowTheHeap) {
    ASSERT_NE(mm_malloc(50), nullptr);
    std::vector<void *> blocks;
    for (int i = 0; i < 30; ++i) blocks.push_back(mm_malloc(static_cast<std::size_t>(20 + i * 13)));
    for (void *p : blocks) mm_free(p);
    std::size_t heap = mem_heapsize();
    for (int round = 0; round < 50; ++round) {
        for (int i = 0; i < 30; ++i) blocks[static_cast<std::size_t>(i)] = mm_malloc(static_cast<std::size_t>(20 + ((i + round) % 30) * 13));
        for (void *p : blocks) mm_free(p);
    }
    EXPECT_EQ(mem_heapsize(), heap) << "the same 30 requests in other orders must fit in the space they freed";
    EXPECT_TRUE(CheckheapAccepts());
}

// ---------------------------------------------------------------------------------------------
class CoalescingSplit : public LabHeap {};

TEST_F(CoalescingSplit, BothPartsOfASplitGetAFooter) {
    std::vector<void *> blocks = neighbours({1000, 16});
    ASSERT_EQ(blocks.size(), 2u);
    std::size_t big = block_size_of(blocks[0]);
    mm_free(blocks[0]);
    void *p = mm_malloc(100);
    ASSERT_EQ(p, blocks[0]) << "the heap: " << heap_picture();
    std::size_t taken = block_for(100);
    ASSERT_EQ(header_word(p), taken | 1) << "mm_malloc(100) takes " << taken << " bytes of the free " << big
                                         << "-byte block and splits off the rest; the heap: " << heap_picture();
    EXPECT_EQ(footer_word(p), taken | 1) << "the allocated part of a split block needs its own footer (" << (taken | 1)
                                         << ") at its new end: is the footer updated after the split?";
    void *rest = bytes(p) + taken;
    EXPECT_EQ(header_word(rest), big - taken) << "the rest must be a free block of " << big - taken << " bytes";
    EXPECT_EQ(footer_word(rest), big - taken) << "the rest's footer must say " << big - taken;
}

TEST_F(CoalescingSplit, ARestBelowTheMinimumIsNotSplitOff) {
    std::vector<void *> blocks = neighbours({48, 40});  // a 64-byte block, then a neighbour
    ASSERT_EQ(blocks.size(), 2u);
    fill_pattern(blocks[1], 40, 4);
    std::size_t neighbour = header_word(blocks[1]);
    mm_free(blocks[0]);
    void *p = mm_malloc(32);  // needs 48 bytes: the rest would be 16
    ASSERT_EQ(p, blocks[0]) << "the heap: " << heap_picture();
    EXPECT_EQ(header_word(p), 64u | 1) << "mm_malloc(32) needs 48 bytes of the free 64-byte block; a rest of 16 bytes "
                                          "is below the minimum block of 32 (header, two links, footer), so the whole "
                                          "block must be taken";
    EXPECT_EQ(header_word(blocks[1]), neighbour) << "the next block's header was overwritten";
    EXPECT_TRUE(HoldsPattern(blocks[1], 40, 4));
}

// ---------------------------------------------------------------------------------------------
class CoalescingCheckheap : public LabHeap {
protected:
    // [48 A][112 f][80 A][64 f][48 A]
    void SetUp() override {
        LabHeap::SetUp();
        blocks = neighbours({30, 90, 60, 40, 30});
        ASSERT_EQ(blocks.size(), 5u);
        mm_free(blocks[1]);
        mm_free(blocks[3]);
    }
    std::vector<void *> blocks;
};

TEST_F(CoalescingCheckheap, AcceptsAHealthyHeap) {
    EXPECT_TRUE(CheckheapAccepts());
    for (int i = 0; i < 60; ++i) {
        void *p = mm_malloc(static_cast<std::size_t>(i * 37 % 400));
        if (i % 3 == 0) mm_free(p);
    }
    EXPECT_TRUE(CheckheapAccepts()) << "after 60 more requests";
}

TEST_F(CoalescingCheckheap, AcceptsAnEmptyHeap) {
    mem_reset();
    ASSERT_EQ(mm_init(), 0);
    EXPECT_TRUE(CheckheapAccepts());
}

TEST_F(CoalescingCheckheap, NoticesAFooterThatDiffersFromItsHeader) {
    *footer_address(blocks[2]) = block_size_of(blocks[2]) + 16 + 1;
    EXPECT_TRUE(CheckheapRejects("an allocated block whose footer differs from its header"));
}

TEST_F(CoalescingCheckheap, NoticesABrokenPrevLink) {
    // The free list is [1] -> [3] (address order); [3]'s prev must point back at [1].
    prev_link(blocks[3]) = nullptr;
    EXPECT_TRUE(CheckheapRejects("a free block whose prev link does not point back at the block before it in the "
                                 "free list"));
}

TEST_F(CoalescingCheckheap, NoticesAMissingEpilogue) {
    *reinterpret_cast<std::size_t *>(heap_end() - kWord) = 0;
    EXPECT_TRUE(CheckheapRejects("no epilogue: the heap's last word is 0, not 0 | 1"));
}

TEST_F(CoalescingCheckheap, NoticesADamagedPrologue) {
    *reinterpret_cast<std::size_t *>(heap_lo() + kPrologue) = 0;
    EXPECT_TRUE(CheckheapRejects("a prologue header of 0"));
}

TEST_F(CoalescingCheckheap, NoticesAnAllocatedBlockOnTheFreeList) {
    // Mark free block [3] allocated (header and footer) without taking it off the list.
    header_of(blocks[3]) |= 1;
    *footer_address(blocks[3]) |= 1;
    EXPECT_TRUE(CheckheapRejects("an allocated block on the free list"));
}

}  // namespace
