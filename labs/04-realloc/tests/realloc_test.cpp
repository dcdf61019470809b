// Public tests of Lab 04 (realloc in place, and giving memory back). `make test` runs them on
// your mm.cpp. Each suite is one part of the grade (lab.toml); a failure says what was expected
// and what your allocator did.
//
// Every test starts from an empty heap (mem_reset(), then mm_init()). The tests know only what
// the handout promises: payloads 16-byte aligned, a block costs its payload plus a little
// overhead, and mm_checkheap(0) returns 1 on a healthy heap.
#include "realloc_testing.h"

#include <cerrno>
#include <cstring>

namespace {

using heaplab::testing::fill_pattern;
using heaplab::testing::FreshHeap;
using heaplab::testing::HoldsPattern;
using heaplab::testing::IsGoodPayload;
using heaplab::testing::where;
using heaplab::testing::realloc_lab::Apart;
using heaplab::testing::realloc_lab::HeapIsConsistent;
using heaplab::testing::realloc_lab::lies_in;
using heaplab::testing::realloc_lab::runs_without_fault;

constexpr std::size_t KiB = 1024;

/* ---------------------------------------------------------------------------------------- */
/* The contract every realloc keeps, in place or not.                                        */

class ReallocContract : public FreshHeap {};

TEST_F(ReallocContract, OfNullIsMalloc) {
    void *p = mm_realloc(nullptr, 40);
    EXPECT_TRUE(IsGoodPayload(p, 40)) << "mm_realloc(NULL, 40) must behave like mm_malloc(40)";
}

TEST_F(ReallocContract, ToZeroFreesTheBlockAndReturnsNull) {
    void *p = mm_malloc(200);
    ASSERT_NE(p, nullptr);
    void *guard = mm_malloc(16);
    ASSERT_NE(guard, nullptr);
    EXPECT_EQ(mm_realloc(p, 0), nullptr) << "mm_realloc(p, 0) frees p and returns NULL";
    void *q = mm_malloc(200);
    ASSERT_TRUE(IsGoodPayload(q, 200));
    EXPECT_EQ(q, p) << "after mm_realloc(p, 0) the block of p is free: mm_malloc of the same size should get it back";
    EXPECT_TRUE(HeapIsConsistent("mm_realloc(p, 0)"));
}

TEST_F(ReallocContract, ToTheSameSizeKeepsTheBlock) {
    void *p = mm_malloc(100);
    ASSERT_NE(p, nullptr);
    fill_pattern(p, 100, 1);
    void *q = mm_realloc(p, 100);
    EXPECT_EQ(q, p) << "mm_realloc(p, 100) on a 100-byte block has nothing to do: it must return p, not "
                    << where(q);
    ASSERT_NE(q, nullptr);
    EXPECT_TRUE(HoldsPattern(q, 100, 1));
}

TEST_F(ReallocContract, FailureLeavesTheOldBlockAlone) {
    void *p = mm_malloc(64);
    ASSERT_NE(p, nullptr);
    fill_pattern(p, 64, 9);
    mem_set_cap(mem_heapsize() + 1024);
    errno = 0;
    EXPECT_EQ(mm_realloc(p, 1 << 20), nullptr) << "growing past the heap cap must return NULL";
    EXPECT_EQ(errno, ENOMEM) << "errno must be ENOMEM after a failed mm_realloc";
    EXPECT_TRUE(HoldsPattern(p, 64, 9)) << "a failed mm_realloc must leave the old block as it was";
    EXPECT_TRUE(HeapIsConsistent("a failed mm_realloc"));
}

TEST_F(ReallocContract, AbsurdSizesFailCleanly) {
    void *p = mm_malloc(64);
    ASSERT_NE(p, nullptr);
    fill_pattern(p, 64, 2);
    errno = 0;
    void *q = mm_realloc(p, SIZE_MAX - 8);
    EXPECT_EQ(q, nullptr) << "mm_realloc(p, SIZE_MAX - 8) cannot succeed; it returned " << where(q)
                          << " (did size + overhead wrap around to a small number?)";
    EXPECT_EQ(errno, ENOMEM);
    EXPECT_TRUE(HoldsPattern(p, 64, 2));
}

/* ---------------------------------------------------------------------------------------- */
/* 1. Shrinking in place.                                                                    */

class ReallocShrink : public FreshHeap {};

TEST_F(ReallocShrink, KeepsTheBlockWhereItIs) {
    void *p = mm_malloc(1000);
    ASSERT_NE(p, nullptr);
    fill_pattern(p, 1000, 3);
    void *q = mm_realloc(p, 100);
    EXPECT_EQ(q, p) << "shrinking a block never needs to move it: mm_realloc(p, 100) must return p, not "
                    << where(q);
    ASSERT_NE(q, nullptr);
    EXPECT_TRUE(HoldsPattern(q, 100, 3)) << "shrinking must keep the first 100 bytes";
}

TEST_F(ReallocShrink, TheCutOffTailIsReused) {
    auto *p = static_cast<char *>(mm_malloc(1000));
    ASSERT_NE(p, nullptr);
    void *guard = mm_malloc(16);  // so that p is not the last block
    ASSERT_NE(guard, nullptr);
    fill_pattern(guard, 16, 4);
    ASSERT_EQ(mm_realloc(p, 100), p) << "shrinking must keep the block where it is";
    void *r = mm_malloc(800);
    ASSERT_TRUE(IsGoodPayload(r, 800));
    EXPECT_TRUE(lies_in(r, p, 1000))
        << "after mm_realloc(p, 100) on a 1000-byte block, about 900 bytes behind the first 100 are free: "
           "mm_malloc(800) should get them, but returned "
        << where(r) << " while p is " << where(p) << " (did you split the tail off as a free block?)";
    EXPECT_TRUE(Apart(r, 800, p, 100)) << "the new block must not overlap what is left of p";
    EXPECT_TRUE(HoldsPattern(guard, 16, 4));
    EXPECT_TRUE(HeapIsConsistent("shrinking a block and reusing its tail"));
}

TEST_F(ReallocShrink, ATailTooSmallToBeABlockStaysInside) {
    // A 48-byte block shrunk to 32 bytes of payload frees at most 16 bytes: too few for a block
    // of its own (a free block needs a header, two list pointers and a footer).
    void *p = mm_malloc(48);
    ASSERT_NE(p, nullptr);
    void *neighbour = mm_malloc(48);
    ASSERT_NE(neighbour, nullptr);
    fill_pattern(neighbour, 48, 5);
    fill_pattern(p, 48, 6);
    ASSERT_EQ(mm_realloc(p, 32), p);
    ASSERT_TRUE(HeapIsConsistent(
        "shrinking a 48-byte block to 32 bytes: did the split leave a free block below the minimum size? "
        "The tail must stay inside the block when it cannot be a block of its own"));
    EXPECT_TRUE(HoldsPattern(neighbour, 48, 5)) << "the block after p was damaged by shrinking p";
    EXPECT_TRUE(HoldsPattern(p, 32, 6));
    mm_free(neighbour);
    mm_free(p);
    EXPECT_TRUE(HeapIsConsistent("freeing both blocks"));
}

TEST_F(ReallocShrink, TheTailMergesWithAFreeBlockAfterIt) {
    auto *p = static_cast<char *>(mm_malloc(1000));
    void *next = mm_malloc(1000);
    void *guard = mm_malloc(16);
    ASSERT_TRUE(p != nullptr && next != nullptr && guard != nullptr);
    mm_free(next);
    ASSERT_EQ(mm_realloc(p, 100), p);
    ASSERT_TRUE(HeapIsConsistent("shrinking a block whose next block is free (the tail must be coalesced with it)"));
    void *r = mm_malloc(1700);
    ASSERT_TRUE(IsGoodPayload(r, 1700));
    EXPECT_TRUE(lies_in(r, p, 2048)) << "the tail of p and the free block after it make one free block of about "
                                        "1900 bytes: mm_malloc(1700) should fit there, but returned "
                                     << where(r) << " (p is " << where(p) << ")";
}

/* ---------------------------------------------------------------------------------------- */
/* 2. Growing into the next block, when it is free.                                          */

class ReallocGrow : public FreshHeap {};

TEST_F(ReallocGrow, IntoAFreeNextBlockKeepsThePointer) {
    void *p = mm_malloc(100);
    void *next = mm_malloc(200);
    void *guard = mm_malloc(16);
    ASSERT_TRUE(p != nullptr && next != nullptr && guard != nullptr);
    fill_pattern(p, 100, 7);
    fill_pattern(guard, 16, 8);
    mm_free(next);
    void *q = mm_realloc(p, 250);
    EXPECT_EQ(q, p) << "the 200-byte block after p is free, so mm_realloc(p, 250) can grow p where it is; it "
                       "returned "
                    << where(q) << " instead of p = " << where(p);
    ASSERT_TRUE(IsGoodPayload(q, 250));
    EXPECT_TRUE(HoldsPattern(q, 100, 7));
    fill_pattern(q, 250, 9);
    EXPECT_TRUE(HoldsPattern(guard, 16, 8)) << "the block after the absorbed one was overwritten";
    EXPECT_TRUE(HeapIsConsistent("growing a block into the free block after it"));
}

TEST_F(ReallocGrow, NeverIntoABlockInUse) {
    void *p = mm_malloc(100);
    void *next = mm_malloc(200);
    void *guard = mm_malloc(16);
    ASSERT_TRUE(p != nullptr && next != nullptr && guard != nullptr);
    fill_pattern(p, 100, 10);
    fill_pattern(next, 200, 11);
    void *q = nullptr;
    ASSERT_TRUE(runs_without_fault([&] { q = mm_realloc(p, 250); }))
        << "mm_realloc(p, 250) faulted: did it take the block after p, which is allocated, for a free block and "
           "follow its free-list links? (is the next block free?)";
    ASSERT_TRUE(IsGoodPayload(q, 250));
    EXPECT_TRUE(Apart(q, 250, next, 200))
        << ": mm_realloc(p, 250) grew p into the block after it, which is allocated (is the next block free?)";
    EXPECT_TRUE(HoldsPattern(q, 100, 10)) << "the first 100 bytes must be kept";
    EXPECT_TRUE(HoldsPattern(next, 200, 11)) << "the block after p was damaged";
}

TEST_F(ReallocGrow, TheAbsorbedBlockLeavesTheFreeList) {
    void *p = mm_malloc(100);
    void *next = mm_malloc(200);
    void *guard = mm_malloc(16);
    ASSERT_TRUE(p != nullptr && next != nullptr && guard != nullptr);
    mm_free(next);
    ASSERT_EQ(mm_realloc(p, 300), p) << "the free block after p is big enough to grow into";
    // Before writing anything into the grown block: a stale free-list entry would hand out
    // part of it again.
    void *r = mm_malloc(150);
    ASSERT_TRUE(IsGoodPayload(r, 150));
    EXPECT_TRUE(Apart(r, 150, p, 300))
        << ": mm_malloc(150) handed out memory inside the block just grown by mm_realloc(p, 300) (did you take "
           "the absorbed block out of the free list?)";
}

TEST_F(ReallocGrow, TheWholeNextBlockTakenKeepsHeaderAndFooterInStep) {
    // p (112 bytes of payload) and the free block after it (208) make exactly one block of
    // 112 + 208 + one header and footer: mm_realloc(p, 336) takes all of it, nothing to split.
    void *p = mm_malloc(112);
    void *next = mm_malloc(208);
    auto *after = static_cast<char *>(mm_malloc(64));
    void *guard = mm_malloc(16);
    ASSERT_TRUE(p != nullptr && next != nullptr && after != nullptr && guard != nullptr);
    mm_free(next);
    void *q = mm_realloc(p, 336);
    ASSERT_EQ(q, p) << "p and the free block after it hold 336 bytes together";
    ASSERT_TRUE(HeapIsConsistent("growing p into the whole free block after it: is the footer of the grown block "
                                 "updated?"));
    fill_pattern(q, 336, 12);
    mm_free(after);  // merges with a free neighbour only: p, before it, is in use
    void *r = mm_malloc(64);
    ASSERT_TRUE(IsGoodPayload(r, 64));
    fill_pattern(r, 64, 13);
    EXPECT_TRUE(Apart(r, 64, q, 336)) << ": after freeing the block after p, the heap took p for free (is the footer "
                                         "of the grown block updated?)";
    EXPECT_TRUE(HoldsPattern(q, 336, 12));
}

TEST_F(ReallocGrow, StepByStepLikeAStringBuilder) {
    // A buffer grown a few bytes at a time, with a free block after it: it should never move.
    auto *p = static_cast<char *>(mm_malloc(16));
    void *next = mm_malloc(2000);
    void *guard = mm_malloc(16);
    ASSERT_TRUE(p != nullptr && next != nullptr && guard != nullptr);
    mm_free(next);
    fill_pattern(p, 16, 14);
    for (std::size_t size = 24; size <= 1800; size += 24) {
        void *q = mm_realloc(p, size);
        ASSERT_EQ(q, p) << "growing to " << size << " bytes: the free block after p still has room, yet the block "
                           "moved to "
                        << where(q);
    }
    EXPECT_TRUE(HoldsPattern(p, 16, 14));
    EXPECT_TRUE(HeapIsConsistent("growing a block 24 bytes at a time"));
}

/* ---------------------------------------------------------------------------------------- */
/* 3. Growing at the top of the heap.                                                        */

class ReallocTop : public FreshHeap {};

TEST_F(ReallocTop, TheLastBlockGrowsWhereItIs) {
    void *p = mm_malloc(64 * KiB);
    ASSERT_NE(p, nullptr);
    fill_pattern(p, 64 * KiB, 15);
    void *q = mm_realloc(p, 96 * KiB);
    EXPECT_EQ(q, p) << "p is the last block of the heap: moving the break up makes room for it to grow where it is; "
                       "mm_realloc returned "
                    << where(q) << " instead of " << where(p);
    ASSERT_TRUE(IsGoodPayload(q, 96 * KiB));
    EXPECT_TRUE(HoldsPattern(q, 64 * KiB, 15));
    EXPECT_TRUE(HeapIsConsistent("growing the last block at the top of the heap (is there an epilogue just below the "
                                 "new break?)"));
}

TEST_F(ReallocTop, ByJustSixteenBytes) {
    // Sixteen more bytes: too few for a block of their own, so they cannot be made a free block
    // first (it would have no room for its free-list links) and then absorbed.
    void *p = mm_malloc(64 * KiB);
    ASSERT_NE(p, nullptr);
    fill_pattern(p, 64 * KiB, 26);
    std::size_t before = mem_heapsize();
    void *q = mm_realloc(p, 64 * KiB + 16);
    EXPECT_EQ(q, p) << "the last block can grow by 16 bytes where it is";
    ASSERT_NE(q, nullptr);
    EXPECT_TRUE(HeapIsConsistent("growing the last block by 16 bytes (is there an epilogue just below the new break?)"));
    EXPECT_LE(mem_heapsize() - before, 32u) << "16 more bytes should move the break by 16 (or 32) bytes";
    EXPECT_TRUE(HoldsPattern(q, 64 * KiB, 26));
    void *r = mm_malloc(100);  // the heap must still work
    ASSERT_TRUE(IsGoodPayload(r, 100));
    EXPECT_TRUE(Apart(r, 100, q, 64 * KiB + 16));
}

TEST_F(ReallocTop, TheHeapGrowsByTheDifferenceOnly) {
    void *p = mm_malloc(64 * KiB);
    ASSERT_NE(p, nullptr);
    std::size_t before = mem_heapsize();
    ASSERT_NE(mm_realloc(p, 64 * KiB + 1000), nullptr);
    std::size_t grown = mem_heapsize() - before;
    EXPECT_LE(grown, 1000u + 64) << "growing the last block by 1000 bytes must move the break up by about 1000 "
                                    "bytes (just what is missing); it moved by "
                                 << grown;
}

TEST_F(ReallocTop, ASmallFreeBlockAtTheTopCounts) {
    // p, then a free block too small on its own, then the break: grow p over both.
    void *p = mm_malloc(64 * KiB);
    void *rest = mm_malloc(1000);
    ASSERT_TRUE(p != nullptr && rest != nullptr);
    fill_pattern(p, 64 * KiB, 16);
    mm_free(rest);
    ASSERT_TRUE(HeapIsConsistent("freeing the last block"));
    std::size_t before = mem_heapsize();
    void *q = mm_realloc(p, 64 * KiB + 20000);
    EXPECT_EQ(q, p) << "p is followed by a free block and then the break: it can grow where it is";
    ASSERT_NE(q, nullptr);
    std::size_t grown = mem_heapsize() - before;
    EXPECT_LE(grown, 20000u - 1000 + 64) << "at least 1000 of the 20000 bytes p needs are already free after it: "
                                            "the break should move by what is missing, 19000 bytes or less; it "
                                            "moved by "
                                         << grown;
    EXPECT_TRUE(HoldsPattern(q, 64 * KiB, 16));
    EXPECT_TRUE(HeapIsConsistent("growing the last block over the free block at the top"));
}

TEST_F(ReallocTop, ABlockBelowTheTopIsNotGrownThere) {
    void *p = mm_malloc(4000);
    void *last = mm_malloc(4000);
    ASSERT_TRUE(p != nullptr && last != nullptr);
    fill_pattern(last, 4000, 17);
    void *q = mm_realloc(p, 8000);
    ASSERT_TRUE(IsGoodPayload(q, 8000));
    EXPECT_TRUE(Apart(q, 8000, last, 4000)) << ": p is not the last block, it cannot grow at the top";
    fill_pattern(q, 8000, 18);
    EXPECT_TRUE(HoldsPattern(last, 4000, 17));
}

TEST_F(ReallocTop, WhenTheBreakCannotMoveNothingChanges) {
    void *p = mm_malloc(64 * KiB);
    ASSERT_NE(p, nullptr);
    fill_pattern(p, 64 * KiB, 19);
    mem_set_cap(mem_heapsize());
    EXPECT_EQ(mm_realloc(p, 128 * KiB), nullptr) << "the heap cannot grow: mm_realloc must fail";
    EXPECT_TRUE(HoldsPattern(p, 64 * KiB, 19));
    EXPECT_TRUE(HeapIsConsistent("a failed growth at the top"));
}

/* ---------------------------------------------------------------------------------------- */
/* 4. Moving the block: allocate, copy, free.                                                */

class ReallocMove : public FreshHeap {};

TEST_F(ReallocMove, CopiesTheWholeOldPayload) {
    // 48 bytes fill the block exactly: every one of them must reach the new block.
    void *p = mm_malloc(48);
    void *next = mm_malloc(48);
    ASSERT_TRUE(p != nullptr && next != nullptr);
    fill_pattern(p, 48, 20);
    fill_pattern(next, 48, 21);
    void *q = mm_realloc(p, 4000);
    ASSERT_TRUE(IsGoodPayload(q, 4000));
    EXPECT_TRUE(HoldsPattern(q, 48, 20)) << "mm_realloc(p, 4000) had to move the 48-byte block: all 48 bytes must be "
                                            "copied";
    EXPECT_TRUE(HoldsPattern(next, 48, 21));
}

TEST_F(ReallocMove, CopiesNoMoreThanTheOldPayload) {
    // p is the last block, right below the break, and the break cannot move: p must move into
    // the big free block below. Copying more than p holds reads past the break and faults.
    void *big = mm_malloc(100 * KiB);
    auto *p = static_cast<char *>(mm_malloc(48));
    ASSERT_TRUE(big != nullptr && p != nullptr);
    fill_pattern(p, 48, 22);
    mm_free(big);
    mem_set_cap(mem_heapsize());
    void *q = nullptr;
    bool ok = runs_without_fault([&] { q = mm_realloc(p, 64 * KiB); });
    ASSERT_TRUE(ok) << "mm_realloc(p, 64 KiB) of a 48-byte block faulted: it read past the break. Copy only the old "
                       "payload (it is shorter than the new size), not the new size";
    ASSERT_TRUE(IsGoodPayload(q, 64 * KiB)) << "the free block below has room for 64 KiB";
    EXPECT_TRUE(HoldsPattern(q, 48, 22));
}

TEST_F(ReallocMove, TheOldBlockIsFreed) {
    void *p = mm_malloc(2000);
    void *next = mm_malloc(16);
    ASSERT_TRUE(p != nullptr && next != nullptr);
    void *q = mm_realloc(p, 5000);
    ASSERT_TRUE(IsGoodPayload(q, 5000));
    void *r = mm_malloc(2000);
    ASSERT_TRUE(IsGoodPayload(r, 2000));
    EXPECT_EQ(r, p) << "after moving p, its old block is free: mm_malloc(2000) should reuse it";
    EXPECT_TRUE(HeapIsConsistent("moving a block"));
}

/* ---------------------------------------------------------------------------------------- */
/* 5. Giving memory back: trimming the top of the heap.                                      */

class Trim : public FreshHeap {};

TEST_F(Trim, FreeingALargeTopBlockShrinksTheHeap) {
    void *p = mm_malloc(512 * KiB);
    ASSERT_NE(p, nullptr);
    std::size_t before = mem_heapsize();
    mm_free(p);
    std::size_t after = mem_heapsize();
    EXPECT_LE(after + 256 * KiB, before) << "freeing the 512 KiB block at the top of the heap must give most of it "
                                            "back with a negative mem_sbrk; the heap went from "
                                         << before << " to " << after << " bytes";
    EXPECT_TRUE(HeapIsConsistent("trimming the top of the heap"));
}

TEST_F(Trim, OnlyTheTopCanBeGivenBack) {
    void *p = mm_malloc(512 * KiB);
    void *last = mm_malloc(100);
    ASSERT_TRUE(p != nullptr && last != nullptr);
    fill_pattern(last, 100, 23);
    std::size_t before = mem_heapsize();
    mm_free(p);
    EXPECT_EQ(mem_heapsize(), before) << "the freed 512 KiB block is not at the top of the heap (a block in use "
                                         "lies above it): moving the break down would cut that block off";
    ASSERT_TRUE(IsGoodPayload(last, 100)) << "the last block must still be inside the heap";
    EXPECT_TRUE(HoldsPattern(last, 100, 23));
    EXPECT_TRUE(HeapIsConsistent("freeing a large block below the top"));
}

TEST_F(Trim, TheHeapKeepsWorkingAfterATrim) {
    void *p = mm_malloc(512 * KiB);
    ASSERT_NE(p, nullptr);
    mm_free(p);
    ASSERT_TRUE(HeapIsConsistent("trimming the top of the heap (is the epilogue rewritten below the new break?)"));
    void *q = mm_malloc(700 * KiB);
    ASSERT_TRUE(IsGoodPayload(q, 700 * KiB));
    fill_pattern(q, 700 * KiB, 24);
    void *r = mm_malloc(100);
    ASSERT_TRUE(IsGoodPayload(r, 100));
    EXPECT_TRUE(HoldsPattern(q, 700 * KiB, 24));
    EXPECT_TRUE(HeapIsConsistent("allocating again after a trim"));
}

TEST_F(Trim, AMergedTopBlockIsTrimmedToo) {
    void *a = mm_malloc(100 * KiB);
    void *b = mm_malloc(100 * KiB);
    ASSERT_TRUE(a != nullptr && b != nullptr);
    std::size_t before = mem_heapsize();
    mm_free(b);  // 100 KiB at the top: below the threshold, it may stay
    mm_free(a);  // merges with b: 200 KiB free at the top
    std::size_t after = mem_heapsize();
    EXPECT_LE(after + 128 * KiB, before) << "a and b together make a free block of 200 KiB at the top: it must be "
                                            "given back; the heap went from "
                                         << before << " to " << after << " bytes";
    EXPECT_TRUE(HeapIsConsistent("trimming a merged top block"));
}

TEST_F(Trim, ShrinkingTheLastBlockGivesMemoryBack) {
    void *p = mm_malloc(512 * KiB);
    ASSERT_NE(p, nullptr);
    fill_pattern(p, 100, 25);
    std::size_t before = mem_heapsize();
    ASSERT_EQ(mm_realloc(p, 100), p);
    std::size_t after = mem_heapsize();
    EXPECT_LE(after + 256 * KiB, before) << "shrinking the last block from 512 KiB to 100 bytes frees a large tail "
                                            "at the top: it must be given back; the heap went from "
                                         << before << " to " << after << " bytes";
    EXPECT_TRUE(HoldsPattern(p, 100, 25));
    EXPECT_TRUE(HeapIsConsistent("shrinking the last block"));
}

TEST_F(Trim, SmallFreeBlocksAtTheTopStay) {
    void *p = mm_malloc(8 * KiB);
    ASSERT_NE(p, nullptr);
    std::size_t before = mem_heapsize();
    mm_free(p);
    EXPECT_EQ(mem_heapsize(), before) << "an 8 KiB free block at the top is below the trim threshold: giving it back "
                                         "would move the break on every free";
}

}  // namespace
