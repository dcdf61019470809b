// Public tests of Lab 02 (an implicit free list). `make test` runs them on your mm.cpp.
// Each suite is one part of the grade (lab.toml); a failure says what was expected, what your
// allocator did, and what the heap looks like: "[48 A][32 f]" is a 48-byte allocated block
// followed by a 32-byte free one.
//
// The tests read your headers: keep the layout of the handout (an 8-byte header just before
// each payload, holding the block size with bit 0 set when the block is allocated).
#include "free_list_testing.h"

#include <cerrno>
#include <cstring>
#include <vector>

namespace {

using heaplab::free_list::allocated_bit;
using heaplab::free_list::block_for;
using heaplab::free_list::block_size_of;
using heaplab::free_list::CheckheapAccepts;
using heaplab::free_list::CheckheapRejects;
using heaplab::free_list::header_of;
using heaplab::free_list::heap_picture;
using heaplab::free_list::kFirstFit;
using heaplab::free_list::LabHeap;
using heaplab::free_list::kNextFit;
using heaplab::free_list::PolicyHeap;
using heaplab::testing::fill_pattern;
using heaplab::testing::HoldsPattern;
using heaplab::testing::IsGoodPayload;
using heaplab::testing::where;

char *bytes(void *p) { return static_cast<char *>(p); }

// ---------------------------------------------------------------------------------------------
class FreeListLayout : public LabHeap {};

TEST_F(FreeListLayout, HeaderHoldsTheBlockSizeAndTheAllocatedBit) {
    for (std::size_t size : {1u, 8u, 9u, 24u, 25u, 100u, 1000u}) {
        void *p = mm_malloc(size);
        ASSERT_TRUE(IsGoodPayload(p, size)) << "for mm_malloc(" << size << ")";
        std::size_t expected = block_for(size);
        EXPECT_EQ(header_of(p), expected | 1)
            << "the header in front of mm_malloc(" << size << ")'s payload must say " << (expected | 1) << ": a block of "
            << expected << " bytes (8-byte header + " << size << " bytes, rounded up to 16) with the allocated bit set"
            << (block_size_of(p) < size + 8 ? " (is the header counted in the block size?)" : "");
    }
}

TEST_F(FreeListLayout, BlocksFollowEachOtherWithoutGaps) {
    void *p = mm_malloc(40);
    ASSERT_TRUE(IsGoodPayload(p, 40));
    EXPECT_EQ(bytes(p), bytes(mem_heap_lo()) + 16)
        << "the first payload of an empty heap is at mem_heap_lo() + 16 (8-byte pad, 8-byte header); it is at "
        << where(p);
    for (std::size_t size : {1u, 30u, 64u, 7u}) {
        void *q = mm_malloc(size);
        ASSERT_TRUE(IsGoodPayload(q, size));
        EXPECT_EQ(bytes(q), bytes(p) + block_size_of(p))
            << "mm_malloc(" << size << ") must start right after the previous block (at " << where(bytes(p) + block_size_of(p))
            << "); it returned " << where(q) << ". The heap: " << heap_picture();
        p = q;
    }
}

TEST_F(FreeListLayout, EverySizeFrom1To100IsAlignedAndKeepsItsBytes) {
    std::vector<void *> blocks;
    for (unsigned size = 1; size <= 100; ++size) {
        void *p = mm_malloc(size);
        ASSERT_TRUE(IsGoodPayload(p, size)) << "for mm_malloc(" << size << ")";
        fill_pattern(p, size, size);
        blocks.push_back(p);
    }
    for (unsigned size = 1; size <= 100; ++size)
        ASSERT_TRUE(HoldsPattern(blocks[size - 1], size, size))
            << "the block of mm_malloc(" << size << ") was overwritten (is the header counted in the block size?)";
}

TEST_F(FreeListLayout, WastesLittle) {
    for (int i = 0; i < 100; ++i) ASSERT_NE(mm_malloc(8), nullptr);
    EXPECT_LE(mem_heapsize(), 8u + 100u * 16)
        << "100 blocks of 8 bytes need 100 * (8 header + 8 payload) = 1600 bytes and the 8-byte pad; the heap is "
        << mem_heapsize();
}

// ---------------------------------------------------------------------------------------------
class FreeListReuse : public LabHeap {};

TEST_F(FreeListReuse, FreeClearsTheAllocatedBitAndKeepsTheSize) {
    void *p = mm_malloc(100);
    ASSERT_NE(mm_malloc(16), nullptr);
    ASSERT_NE(p, nullptr);
    std::size_t size = block_size_of(p);
    mm_free(p);
    EXPECT_EQ(header_of(p), size) << "after mm_free, the header must say " << size
                                  << ": the same size, with the allocated bit cleared. The heap: " << heap_picture();
}

TEST_F(FreeListReuse, AFreedBlockIsReusedForTheSameSize) {
    void *p = mm_malloc(100);
    ASSERT_NE(p, nullptr);
    ASSERT_NE(mm_malloc(16), nullptr);
    std::size_t heap = mem_heapsize();
    mm_free(p);
    void *q = mm_malloc(100);
    ASSERT_TRUE(IsGoodPayload(q, 100));
    EXPECT_EQ(q, p) << "mm_malloc(100) after mm_free of a 100-byte block must reuse that block (at " << where(p)
                    << "); it returned " << where(q) << ". The heap: " << heap_picture();
    EXPECT_EQ(mem_heapsize(), heap) << "the heap grew although a free block fitted";
}

TEST_F(FreeListReuse, ManyRoundsDoNotGrowTheHeap) {
    void *keep = mm_malloc(50);
    ASSERT_NE(keep, nullptr);
    void *first = mm_malloc(300);
    ASSERT_NE(first, nullptr);
    mm_free(first);
    std::size_t heap = mem_heapsize();
    for (int i = 0; i < 500; ++i) {
        void *p = mm_malloc(300);
        ASSERT_NE(p, nullptr);
        mm_free(p);
    }
    EXPECT_EQ(mem_heapsize(), heap) << "500 rounds of mm_malloc(300) + mm_free grew the heap from " << heap << " to "
                                    << mem_heapsize() << " bytes: freed blocks are not reused";
}

TEST_F(FreeListReuse, FreeOfNullDoesNothing) {
    void *p = mm_malloc(32);
    ASSERT_NE(p, nullptr);
    std::size_t heap = mem_heapsize();
    mm_free(nullptr);
    EXPECT_EQ(mem_heapsize(), heap);
    EXPECT_TRUE(allocated_bit(p)) << "mm_free(NULL) must not touch any block";
}

TEST_F(FreeListReuse, LiveBlocksAreNeverHandedOutAgain) {
    std::vector<void *> live;
    for (unsigned i = 0; i < 40; ++i) {
        void *p = mm_malloc(48);
        ASSERT_NE(p, nullptr);
        fill_pattern(p, 48, i);
        live.push_back(p);
    }
    for (unsigned i = 0; i < 40; i += 2) mm_free(live[i]);
    for (unsigned i = 0; i < 20; ++i) {
        void *p = mm_malloc(48);
        ASSERT_NE(p, nullptr);
        for (unsigned j = 1; j < 40; j += 2)
            ASSERT_NE(p, live[j]) << "mm_malloc(48) returned a block that is still in use (" << where(p)
                                  << "): is the allocated bit set when a block is handed out?";
    }
    for (unsigned j = 1; j < 40; j += 2) EXPECT_TRUE(HoldsPattern(live[j], 48, j)) << "live block " << j;
}

// ---------------------------------------------------------------------------------------------
class FreeListSplit : public LabHeap {};

TEST_F(FreeListSplit, ALargeFreeBlockIsSplit) {
    void *big = mm_malloc(4000);
    ASSERT_NE(big, nullptr);
    ASSERT_NE(mm_malloc(16), nullptr);  // keeps the big block away from the top of the heap
    std::size_t big_block = block_size_of(big);
    mm_free(big);
    void *p = mm_malloc(100);
    ASSERT_EQ(p, big) << "mm_malloc(100) must reuse the free " << big_block << "-byte block; the heap: " << heap_picture();
    std::size_t taken = block_for(100);
    EXPECT_EQ(header_of(p), taken | 1) << "mm_malloc(100) from a free block of " << big_block << " bytes must take "
                                       << taken << " bytes (header " << (taken | 1)
                                       << ") and split off the rest; the heap: " << heap_picture();
    if (block_size_of(p) == taken) {
        void *rest = bytes(p) + taken;
        EXPECT_EQ(header_of(rest), big_block - taken)
            << "the rest of the split block must be a free block of " << big_block - taken << " bytes, with a header "
            << "that says so; the heap: " << heap_picture();
    }
}

TEST_F(FreeListSplit, TheRestOfASplitBlockIsReused) {
    void *big = mm_malloc(4000);
    ASSERT_NE(big, nullptr);
    ASSERT_NE(mm_malloc(16), nullptr);
    mm_free(big);
    std::size_t heap = mem_heapsize();
    std::vector<void *> small;
    for (unsigned i = 0; i < 30; ++i) {
        void *p = mm_malloc(100);
        ASSERT_TRUE(IsGoodPayload(p, 100));
        fill_pattern(p, 100, i);
        small.push_back(p);
    }
    EXPECT_EQ(mem_heapsize(), heap) << "30 blocks of 100 bytes fit in one free 4016-byte block, but the heap grew from "
                                    << heap << " to " << mem_heapsize() << " bytes: did you split the free block? "
                                    << "The heap: " << heap_picture();
    for (unsigned i = 0; i < 30; ++i) EXPECT_TRUE(HoldsPattern(small[i], 100, i));
}

TEST_F(FreeListSplit, AnExactFitLeavesTheNextBlockAlone) {
    void *a = mm_malloc(40);
    void *b = mm_malloc(40);
    ASSERT_NE(a, nullptr);
    ASSERT_NE(b, nullptr);
    ASSERT_NE(mm_malloc(16), nullptr);
    fill_pattern(b, 40, 5);
    std::size_t b_header = header_of(b);
    mm_free(a);
    void *p = mm_malloc(40);
    ASSERT_EQ(p, a) << "mm_malloc(40) must reuse the free 48-byte block; the heap: " << heap_picture();
    EXPECT_EQ(header_of(p), block_for(40) | 1) << "an exact fit takes the whole block";
    EXPECT_EQ(header_of(b), b_header) << "reusing the 48-byte block for mm_malloc(40) (an exact fit) changed the header "
                                      << "of the block after it from " << b_header << " to " << header_of(b)
                                      << ": did place() split off a rest of 0 bytes? Split only when the rest is at "
                                      << "least MIN_BLOCK_SIZE";
    EXPECT_TRUE(HoldsPattern(b, 40, 5));
}

TEST_F(FreeListSplit, ASplitAtTheTopOfTheHeapStaysInsideIt) {
    void *big = mm_malloc(1000);
    ASSERT_NE(big, nullptr);
    mm_free(big);
    std::size_t heap = mem_heapsize();
    void *p = mm_malloc(200);
    ASSERT_TRUE(IsGoodPayload(p, 200));
    void *q = mm_malloc(200);
    ASSERT_TRUE(IsGoodPayload(q, 200));
    EXPECT_EQ(mem_heapsize(), heap) << "two blocks of 200 bytes fit in the free 1008-byte block at the top of the heap";
    EXPECT_TRUE(CheckheapAccepts());
}

// ---------------------------------------------------------------------------------------------
class FreeListFirstFit : public PolicyHeap {
protected:
    FreeListFirstFit() : PolicyHeap(kFirstFit) {}
};

TEST_F(FreeListFirstFit, TakesTheFirstFreeBlockThatFits) {
    void *a = mm_malloc(64);
    ASSERT_NE(mm_malloc(16), nullptr);
    void *b = mm_malloc(32);
    ASSERT_NE(mm_malloc(16), nullptr);
    ASSERT_NE(a, nullptr);
    ASSERT_NE(b, nullptr);
    mm_free(b);
    mm_free(a);
    void *p = mm_malloc(24);
    EXPECT_EQ(p, a) << "first fit takes the first free block that fits, from the start of the heap: the 80-byte block "
                    << "at " << where(a) << " (not the tighter 48-byte block after it); it returned " << where(p)
                    << ". The heap: " << heap_picture();
}

TEST_F(FreeListFirstFit, SkipsFreeBlocksThatAreTooSmall) {
    void *small = mm_malloc(16);
    ASSERT_NE(mm_malloc(16), nullptr);
    void *large = mm_malloc(200);
    ASSERT_NE(mm_malloc(16), nullptr);
    ASSERT_NE(small, nullptr);
    ASSERT_NE(large, nullptr);
    mm_free(small);
    mm_free(large);
    void *p = mm_malloc(100);
    ASSERT_TRUE(IsGoodPayload(p, 100));
    EXPECT_EQ(p, large) << "mm_malloc(100) must skip the free 32-byte block (too small) and take the free 208-byte block "
                        << "at " << where(large) << "; it returned " << where(p) << ". The heap: " << heap_picture();
}

TEST_F(FreeListFirstFit, TheFitTestCountsTheHeader) {
    void *a = mm_malloc(100);  // a 112-byte block: room for 104 bytes of payload
    ASSERT_NE(a, nullptr);
    ASSERT_NE(mm_malloc(16), nullptr);
    mm_free(a);
    void *p = mm_malloc(105);
    ASSERT_TRUE(IsGoodPayload(p, 105));
    EXPECT_NE(p, a) << "mm_malloc(105) returned the free 112-byte block, which holds only 104 bytes after its header: "
                       "does the fit test compare the block size with the request alone? Compare it with "
                       "block_size_for(size)";
}

TEST_F(FreeListFirstFit, UsesAnExactFit) {
    void *a = mm_malloc(100);
    ASSERT_NE(a, nullptr);
    ASSERT_NE(mm_malloc(16), nullptr);
    mm_free(a);
    void *p = mm_malloc(104);  // needs exactly the 112 bytes of the free block
    EXPECT_EQ(p, a) << "mm_malloc(104) needs a 112-byte block, exactly the size of the free block at " << where(a)
                    << ": a block fits when it is at least as big as needed (>=, not >); it returned " << where(p);
}

// ---------------------------------------------------------------------------------------------
class FreeListNextFit : public PolicyHeap {
protected:
    FreeListNextFit() : PolicyHeap(kNextFit) {}
};

TEST_F(FreeListNextFit, ResumesWhereTheLastSearchStopped) {
    void *block[6];
    for (void *&p : block) {
        p = mm_malloc(40);
        ASSERT_NE(p, nullptr);
    }
    mm_free(block[1]);
    mm_free(block[3]);
    void *first = mm_malloc(40);  // wraps around from the top and stops at block 1
    EXPECT_EQ(first, block[1]) << "the search wraps around from the top of the heap to the free block 1; the heap: "
                               << heap_picture();
    mm_free(block[0]);
    void *second = mm_malloc(40);
    EXPECT_EQ(second, block[3])
        << "next fit resumes where the previous search stopped (block 1), so it must find the free block 3 (at "
        << where(block[3]) << ") before block 0 at the start of the heap; it returned " << where(second)
        << ". Does next fit start at the rover, and does mm_malloc move the rover? The heap: " << heap_picture();
}

TEST_F(FreeListNextFit, WrapsAroundBeforeGrowingTheHeap) {
    void *a = mm_malloc(64);
    ASSERT_NE(a, nullptr);
    for (int i = 0; i < 4; ++i) ASSERT_NE(mm_malloc(64), nullptr);
    mm_free(a);
    std::size_t heap = mem_heapsize();
    void *p = mm_malloc(64);
    EXPECT_EQ(p, a) << "no free block after the rover fits, so next fit must wrap around to the start of the heap and "
                    << "find the free block at " << where(a) << " before it grows the heap; it returned " << where(p);
    EXPECT_EQ(mem_heapsize(), heap) << "the heap grew although a free block fitted";
}

TEST_F(FreeListNextFit, SplitsAndReusesLikeFirstFit) {
    void *big = mm_malloc(2000);
    ASSERT_NE(big, nullptr);
    ASSERT_NE(mm_malloc(16), nullptr);
    mm_free(big);
    std::size_t heap = mem_heapsize();
    std::vector<void *> blocks;
    for (unsigned i = 0; i < 15; ++i) {
        void *p = mm_malloc(100);
        ASSERT_TRUE(IsGoodPayload(p, 100));
        fill_pattern(p, 100, i);
        blocks.push_back(p);
    }
    EXPECT_EQ(mem_heapsize(), heap) << "15 blocks of 100 bytes fit in the free 2016-byte block; the heap: "
                                    << heap_picture();
    for (unsigned i = 0; i < 15; ++i) EXPECT_TRUE(HoldsPattern(blocks[i], 100, i));
    EXPECT_TRUE(CheckheapAccepts());
}

// ---------------------------------------------------------------------------------------------
class FreeListCheckheap : public LabHeap {
protected:
    // Three allocated blocks with a free one between the second and the third:
    // [48 A][112 A][64 f][48 A]
    void SetUp() override {
        LabHeap::SetUp();
        a = mm_malloc(40);
        b = mm_malloc(100);
        void *hole = mm_malloc(50);
        c = mm_malloc(40);
        ASSERT_NE(a, nullptr);
        ASSERT_NE(b, nullptr);
        ASSERT_NE(hole, nullptr);
        ASSERT_NE(c, nullptr);
        mm_free(hole);
    }
    void *a = nullptr, *b = nullptr, *c = nullptr;
};

TEST_F(FreeListCheckheap, AcceptsAHealthyHeap) {
    EXPECT_TRUE(CheckheapAccepts()) << "after 4 mm_malloc and 1 mm_free";
    for (int i = 0; i < 50; ++i) {
        void *p = mm_malloc(static_cast<std::size_t>(i * 37 % 300));
        if (i % 3 == 0) mm_free(p);
    }
    EXPECT_TRUE(CheckheapAccepts()) << "after 50 more requests";
}

TEST_F(FreeListCheckheap, AcceptsAnEmptyHeap) {
    mem_reset();
    ASSERT_EQ(mm_init(), 0);
    EXPECT_TRUE(CheckheapAccepts()) << "on a heap with no block at all";
}

TEST_F(FreeListCheckheap, NoticesASizeThatIsNotAMultipleOf16) {
    header_of(b) += 8;
    EXPECT_TRUE(CheckheapRejects("a header whose size (120) is not a multiple of 16"));
}

TEST_F(FreeListCheckheap, NoticesABlockRunningPastTheBreak) {
    header_of(c) = (std::size_t{1} << 20) | 1;
    EXPECT_TRUE(CheckheapRejects("a last block whose size (1 MiB) runs past the break"));
}

TEST_F(FreeListCheckheap, NoticesASizeOfZero) {
    header_of(b) = 0 | 1;
    EXPECT_TRUE(CheckheapRejects("a block of size 0, below the minimum block size"));
}

TEST_F(FreeListCheckheap, NoticesABlockThatReachesIntoTheNext) {
    std::memset(b, 0xab, 100);
    header_of(a) += 16;  // a now ends 16 bytes inside b, where the walk finds b's payload
    EXPECT_TRUE(CheckheapRejects("a header whose size reaches 16 bytes into the next block"));
}

TEST_F(FreeListCheckheap, NoticesALiveBlockMarkedFree) {
    header_of(b) &= ~std::size_t{1};
    EXPECT_TRUE(CheckheapRejects("a live block (handed out by mm_malloc, not freed) marked free: mm_malloc could hand "
                                 "it out twice, and two live blocks would overlap (count the allocated blocks and "
                                 "compare with the number mm_malloc handed out)"));
}

TEST_F(FreeListCheckheap, NoticesAFreeBlockMarkedAllocated) {
    void *hole = static_cast<char *>(b) + block_size_of(b);
    header_of(hole) |= 1;
    EXPECT_TRUE(CheckheapRejects("a free block marked allocated (count the allocated blocks and compare with the "
                                 "number mm_malloc handed out)"));
}

}  // namespace
