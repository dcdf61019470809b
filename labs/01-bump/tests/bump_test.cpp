// Public tests of Lab 01 (a bump allocator). `make test` runs them on your mm.cpp.
// Each suite is one part of the grade (lab.toml); a failure says what was expected and what
// your allocator did.
#include "heaplab/lab_testing.h"

#include <cerrno>
#include <cstring>
#include <vector>

namespace {

using heaplab::testing::FreshHeap;
using heaplab::testing::HoldsPattern;
using heaplab::testing::IsGoodPayload;
using heaplab::testing::where;

class BumpMalloc : public FreshHeap {};

TEST_F(BumpMalloc, ReturnsAnAlignedPayloadInsideTheHeap) {
    void *p = mm_malloc(24);
    EXPECT_TRUE(IsGoodPayload(p, 24));
}

TEST_F(BumpMalloc, AlignsEverySizeFrom1To100) {
    for (std::size_t size = 1; size <= 100; ++size) {
        void *p = mm_malloc(size);
        ASSERT_TRUE(IsGoodPayload(p, size)) << "for mm_malloc(" << size << ")";
    }
}

TEST_F(BumpMalloc, GrowsTheHeapThroughMemSbrk) {
    std::size_t before = mem_heapsize();
    ASSERT_NE(mm_malloc(100), nullptr);
    EXPECT_GE(mem_heapsize(), before + 100) << "a 100-byte block must come from the heap, so the heap must grow by at "
                                               "least 100 bytes; it grew by "
                                            << mem_heapsize() - before;
}

TEST_F(BumpMalloc, WastesLittle) {
    for (int i = 0; i < 100; ++i) ASSERT_NE(mm_malloc(16), nullptr);
    EXPECT_LE(mem_heapsize(), 100u * 32)
        << "100 blocks of 16 bytes need 100 * (16 header + 16 payload) = 3200 bytes; the heap is " << mem_heapsize();
}

TEST_F(BumpMalloc, BlocksDoNotOverlap) {
    std::vector<unsigned char *> blocks;
    for (unsigned i = 0; i < 50; ++i) {
        auto *p = static_cast<unsigned char *>(mm_malloc(i * 3 + 1));
        ASSERT_TRUE(IsGoodPayload(p, i * 3 + 1));
        heaplab::testing::fill_pattern(p, i * 3 + 1, i);
        blocks.push_back(p);
    }
    for (unsigned i = 0; i < 50; ++i)
        EXPECT_TRUE(HoldsPattern(blocks[i], i * 3 + 1, i)) << "block " << i << " (" << i * 3 + 1
                                                           << " bytes) was overwritten by a later block";
}

TEST_F(BumpMalloc, OfZeroReturnsNullOrAUniquePointer) {
    void *a = mm_malloc(0);
    void *b = mm_malloc(0);
    if (a != nullptr && b != nullptr) {
        EXPECT_NE(a, b) << "two mm_malloc(0) must not return the same pointer";
    }
}

class BumpOutOfMemory : public FreshHeap {};

TEST_F(BumpOutOfMemory, ReturnsNullWithEnomemWhenTheBreakCannotGrow) {
    mem_set_cap(4096);
    errno = 0;
    void *p = mm_malloc(8192);
    EXPECT_EQ(p, nullptr) << "mm_malloc must return NULL when mem_sbrk fails; it returned " << where(p)
                          << " (did you check mem_sbrk's result for (void *)-1?)";
    EXPECT_EQ(errno, ENOMEM) << "errno must be ENOMEM after a failed mm_malloc";
}

TEST_F(BumpOutOfMemory, KeepsWorkingAfterAFailure) {
    mem_set_cap(4096);
    EXPECT_EQ(mm_malloc(8192), nullptr);
    void *p = mm_malloc(64);
    EXPECT_TRUE(IsGoodPayload(p, 64)) << "a small mm_malloc must succeed after a failed large one";
}

TEST_F(BumpOutOfMemory, RefusesAbsurdSizesWithoutOverflowing) {
    errno = 0;
    void *p = mm_malloc(SIZE_MAX - 4);
    EXPECT_EQ(p, nullptr) << "mm_malloc(SIZE_MAX - 4) cannot succeed; it returned " << where(p)
                          << " (did header + size wrap around to a small number?)";
    EXPECT_EQ(errno, ENOMEM);
}

class BumpRealloc : public FreshHeap {};

TEST_F(BumpRealloc, GrowingKeepsTheContents) {
    void *p = mm_malloc(40);
    ASSERT_TRUE(IsGoodPayload(p, 40));
    heaplab::testing::fill_pattern(p, 40, 7);
    void *q = mm_realloc(p, 400);
    ASSERT_TRUE(IsGoodPayload(q, 400)) << "for mm_realloc(p, 400)";
    EXPECT_TRUE(HoldsPattern(q, 40, 7)) << "mm_realloc must copy the old 40 bytes into the new block";
}

TEST_F(BumpRealloc, GrownBlockDoesNotOverlapOtherBlocks) {
    void *p = mm_malloc(16);
    ASSERT_NE(p, nullptr);
    void *neighbour = mm_malloc(400);
    ASSERT_TRUE(IsGoodPayload(neighbour, 400));
    heaplab::testing::fill_pattern(neighbour, 400, 4);
    void *q = mm_realloc(p, 200);
    ASSERT_TRUE(IsGoodPayload(q, 200));
    heaplab::testing::fill_pattern(q, 200, 3);
    EXPECT_TRUE(HoldsPattern(neighbour, 400, 4)) << "writing the 200 bytes returned by mm_realloc(p, 200) overwrote "
                                                    "the block after p: a bump allocator cannot grow a block where it is";
}

TEST_F(BumpRealloc, ShrinkingKeepsThePrefix) {
    void *p = mm_malloc(300);
    ASSERT_NE(p, nullptr);
    heaplab::testing::fill_pattern(p, 300, 2);
    void *q = mm_realloc(p, 10);
    ASSERT_TRUE(IsGoodPayload(q, 10));
    EXPECT_TRUE(HoldsPattern(q, 10, 2)) << "mm_realloc(p, 10) must keep the first 10 bytes";
}

TEST_F(BumpRealloc, OfNullIsMalloc) {
    void *p = mm_realloc(nullptr, 32);
    EXPECT_TRUE(IsGoodPayload(p, 32)) << "mm_realloc(NULL, 32) must behave like mm_malloc(32)";
}

TEST_F(BumpRealloc, ToZeroFreesAndReturnsNull) {
    void *p = mm_malloc(32);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(mm_realloc(p, 0), nullptr) << "mm_realloc(p, 0) frees p and returns NULL";
}

TEST_F(BumpRealloc, FailureLeavesTheOldBlockAlone) {
    void *p = mm_malloc(64);
    ASSERT_NE(p, nullptr);
    heaplab::testing::fill_pattern(p, 64, 9);
    mem_set_cap(mem_heapsize() + 1024);
    EXPECT_EQ(mm_realloc(p, 1 << 20), nullptr) << "growing past the heap cap must return NULL";
    EXPECT_TRUE(HoldsPattern(p, 64, 9)) << "a failed mm_realloc must leave the old block as it was";
}

class BumpCalloc : public FreshHeap {};

TEST_F(BumpCalloc, ReturnsZeroedMemory) {
    auto *p = static_cast<unsigned char *>(mm_calloc(10, 12));
    ASSERT_TRUE(IsGoodPayload(p, 120));
    for (int i = 0; i < 120; ++i) ASSERT_EQ(p[i], 0) << "byte " << i << " of mm_calloc(10, 12) is not zero";
}

TEST_F(BumpCalloc, RefusesAnOverflowingProduct) {
    errno = 0;
    void *p = mm_calloc(SIZE_MAX / 2 + 2, 2);
    EXPECT_EQ(p, nullptr) << "(SIZE_MAX / 2 + 2) * 2 overflows size_t and wraps to 2: mm_calloc must notice and return "
                             "NULL, not a 2-byte block; it returned "
                          << where(p);
    EXPECT_EQ(errno, ENOMEM) << "errno must be ENOMEM when nmemb * size overflows";
}

class BumpCheckheap : public FreshHeap {};

TEST_F(BumpCheckheap, AcceptsAHealthyHeap) {
    EXPECT_EQ(mm_checkheap(0), 1) << "mm_checkheap must return 1 for an empty heap";
    for (int i = 1; i <= 20; ++i) ASSERT_NE(mm_malloc(static_cast<std::size_t>(i * 5)), nullptr);
    EXPECT_EQ(mm_checkheap(0), 1) << "mm_checkheap must return 1 for a heap of 20 good blocks";
}

TEST_F(BumpCheckheap, NoticesAHeaderThatPointsPastTheHeap) {
    auto *p = static_cast<std::size_t *>(mm_malloc(32));
    ASSERT_NE(p, nullptr);
    ASSERT_NE(mm_malloc(32), nullptr);
    p[-2] = std::size_t{1} << 40;  // the size in the first block's header: absurdly large
    EXPECT_EQ(mm_checkheap(0), 0) << "mm_checkheap must return 0 when a header's size runs past the end of the heap";
}

}  // namespace
