// The heap (heap.h) over the simulated break: splitting, coalescing, growth that reuses the
// top block, trimming, realloc in place, aligned blocks, and ENOMEM. Each test starts from a
// fresh heap and ends with the heap checker's verdict.
#include "allocator.h"
#include "heap.h"

#include "heaplab/memlib.h"

#include <gtest/gtest.h>

#include <cstring>

namespace heaplab::ref {
namespace {

class HeapTest : public ::testing::Test {
protected:
    void SetUp() override {
        mem_reset();
        mem_set_cap(0);
        ASSERT_EQ(reset_heap(), 0);
    }
    void TearDown() override {
        EXPECT_EQ(check_heap(false), 0u) << "the heap checker found problems";
        mem_set_cap(0);
    }
    char *alloc(std::size_t size) {
        g_heap.lock();
        char *b = g_heap.alloc_locked(size);
        g_heap.unlock();
        return b;
    }
    void release(char *b) {
        g_heap.lock();
        g_heap.free_locked(b);
        g_heap.unlock();
    }
    char *resize(char *b, std::size_t size) {
        g_heap.lock();
        char *r = g_heap.resize_locked(b, size);
        g_heap.unlock();
        return r;
    }
    static std::size_t size(char *b) { return size_of(load(b)); }
    static bool is_free(char *b) { return (load(b) & kAlloc) == 0; }
};

TEST_F(HeapTest, FreshHeapIsAlmostEmpty) {
    EXPECT_LE(mem_heapsize(), 2 * kAlign);  // padding and the epilogue
}

TEST_F(HeapTest, BlocksAreAlignedAndTaggedAndGrowTheBreakByWhatIsMissing) {
    char *a = alloc(48);
    ASSERT_NE(a, nullptr);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(payload_of(a)) % kAlign, 0u);
    EXPECT_TRUE(tag_ok(a, load(a)));
    EXPECT_EQ(size(a), 48u);
    EXPECT_LE(mem_heapsize(), 48 + 2 * kAlign);  // the mm.h build grows by exactly the need
}

TEST_F(HeapTest, SplitLeavesTheRestFreeAndReusable) {
    char *a = alloc(1024);
    char *guard = alloc(32);
    release(a);
    char *b = alloc(256);
    EXPECT_EQ(b, a);  // the freed block is split, its front reused
    EXPECT_EQ(size(b), 256u);
    EXPECT_TRUE(is_free(b + 256));
    EXPECT_EQ(size(b + 256), 768u);
    release(b);
    release(guard);
}

TEST_F(HeapTest, NoSplitWhenTheRestWouldBeTooSmall) {
    char *a = alloc(64);
    char *guard = alloc(32);
    release(a);
    char *b = alloc(48);  // 64 - 48 = 16 < kMinBlock: the whole block is used
    EXPECT_EQ(b, a);
    EXPECT_EQ(size(b), 64u);
    release(b);
    release(guard);
}

TEST_F(HeapTest, FreeCoalescesWithBothNeighboursAtOnce) {
    char *a = alloc(64), *b = alloc(96), *c = alloc(128), *guard = alloc(32);
    release(a);
    release(c);
    EXPECT_EQ(check_heap(false), 0u);
    release(b);  // joins a and c into one block
    EXPECT_TRUE(is_free(a));
    EXPECT_EQ(size(a), 64u + 96 + 128);
    EXPECT_EQ(load(a + size(a) - kHeaderSize), size(a));  // footer
    EXPECT_FALSE(load(guard) & kPrevAlloc);
    release(guard);
}

TEST_F(HeapTest, GrowthExtendsAFreeTopBlockInsteadOfWastingIt) {
    char *a = alloc(32);
    char *top = alloc(4096);
    release(top);  // below the trim threshold: stays as the top free block
    std::size_t before = mem_heapsize();
    char *big = alloc(8192);
    EXPECT_EQ(big, top);
    EXPECT_EQ(mem_heapsize() - before, 8192u - 4096);
    release(big);
    release(a);
}

TEST_F(HeapTest, LargeFreeBlockAtTheTopIsTrimmed) {
    char *a = alloc(32);
    char *big = alloc(2 * kTrimThreshold);
    std::size_t grown = mem_heapsize();
    release(big);
    EXPECT_LT(mem_heapsize(), grown);
    EXPECT_LE(mem_heapsize(), kTopPad + 4 * kAlign + 32);
    release(a);
}

TEST_F(HeapTest, ResizeShrinksInPlaceAndFreesTheTail) {
    char *a = alloc(1024), *guard = alloc(32);
    EXPECT_EQ(resize(a, 256), a);
    EXPECT_EQ(size(a), 256u);
    EXPECT_TRUE(is_free(a + 256));
    release(a);
    release(guard);
}

TEST_F(HeapTest, ALargeBlockShrunkMovesIntoAHoleBelowIt) {
    // [hole 2048][big 16384][guard]: shrinking big to 2000 bytes fits the hole.
    char *hole = alloc(2048), *big = alloc(16384), *guard = alloc(32);
    release(hole);
    std::memset(payload_of(big), 0x7E, usable_of(16384));
    char *moved = resize(big, 2048);
    if constexpr (kShrinkMovesDown) {
        EXPECT_EQ(moved, hole) << "the shrunken block should have moved down into the 2048-byte hole";
        EXPECT_TRUE(is_free(hole + 2048)) << "the old block is freed whole";
        EXPECT_EQ(size(hole + 2048), 16384u);
    } else {
        EXPECT_EQ(moved, big) << "the preload build shrinks in place";
    }
    auto *bytes = static_cast<unsigned char *>(payload_of(moved));
    for (std::size_t i = 0; i < usable_of(2048); ++i) ASSERT_EQ(bytes[i], 0x7E) << "byte " << i;
    release(moved);
    release(guard);
}

TEST_F(HeapTest, AShrunkBlockStaysWhenNoHoleBelowFits) {
    char *hole = alloc(1024), *big = alloc(16384), *guard = alloc(32);
    release(hole);
    EXPECT_EQ(resize(big, 2048), big) << "the 1024-byte hole below is too small: split in place";
    EXPECT_EQ(size(big), 2048u);
    release(big);
    release(guard);
}

TEST_F(HeapTest, ResizeGrowsIntoTheFreeBlockAbove) {
    char *a = alloc(256), *b = alloc(512), *guard = alloc(32);
    release(b);
    std::memset(payload_of(a), 0x3C, usable_of(256));
    EXPECT_EQ(resize(a, 608), a);
    EXPECT_GE(size(a), 608u);
    auto *bytes = static_cast<unsigned char *>(payload_of(a));
    for (std::size_t i = 0; i < usable_of(256); ++i) ASSERT_EQ(bytes[i], 0x3C);
    release(a);
    release(guard);
}

TEST_F(HeapTest, ResizeSlidesDownIntoTheFreeBlockBelow) {
    char *below = alloc(512), *a = alloc(256), *guard = alloc(32);
    release(below);
    std::memset(payload_of(a), 0x5A, usable_of(256));
    char *moved = resize(a, 608);
    EXPECT_EQ(moved, below);  // moved down, contents kept
    auto *bytes = static_cast<unsigned char *>(payload_of(moved));
    for (std::size_t i = 0; i < usable_of(256); ++i) ASSERT_EQ(bytes[i], 0x5A);
    release(moved);
    release(guard);
}

TEST_F(HeapTest, ResizeOfTheLastBlockMovesTheBreak) {
    char *guard = alloc(32), *a = alloc(256);
    std::size_t before = mem_heapsize();
    EXPECT_EQ(resize(a, 100000), a);
    EXPECT_EQ(mem_heapsize() - before, 100000u - 256);
    release(a);
    release(guard);
}

TEST_F(HeapTest, ResizeFailsWhenBlockedAndLeavesTheBlock) {
    char *a = alloc(256), *b = alloc(256);
    Word h = load(a);
    EXPECT_EQ(resize(a, 1024), nullptr);
    EXPECT_EQ(load(a), h);
    release(a);
    release(b);
}

TEST_F(HeapTest, AlignedBlocksFreeTheirLeadingGap) {
    for (std::size_t align : {32, 64, 256, 4096, 65536}) {
        g_heap.lock();
        char *b = g_heap.alloc_aligned_locked(block_size_for(100), align);
        g_heap.unlock();
        ASSERT_NE(b, nullptr);
        EXPECT_EQ(reinterpret_cast<std::uintptr_t>(payload_of(b)) % align, 0u) << align;
        EXPECT_GE(usable_of(size(b)), 100u);
        EXPECT_LT(size(b), block_size_for(100) + kMinBlock);  // the tail went back too
        EXPECT_EQ(check_heap(false), 0u);
        release(b);
    }
}

TEST_F(HeapTest, RunsAreCarvedSideBySideFromOneBlock) {
    char *out[8];
    g_heap.lock();
    unsigned n = g_heap.alloc_run_locked(48, 8, out);  // from the wilderness
    g_heap.unlock();
    ASSERT_EQ(n, 8u);
    for (unsigned i = 0; i < n; ++i) {
        EXPECT_EQ(out[i], out[0] + 48 * i);
        EXPECT_TRUE(tag_ok(out[i], load(out[i])));
        EXPECT_EQ(size(out[i]), 48u);
    }
    EXPECT_EQ(check_heap(false), 0u);
    for (unsigned i = 0; i < n; ++i) release(out[i]);
}

TEST_F(HeapTest, RunFromAHoleKeepsATooSmallRestInItsLastBlock) {
    char *hole = alloc(48 * 4 + 16), *guard = alloc(32);
    release(hole);
    char *out[4];
    g_heap.lock();
    unsigned n = g_heap.alloc_run_locked(48, 4, out);
    g_heap.unlock();
    ASSERT_EQ(n, 4u);
    EXPECT_EQ(out[0], hole);
    EXPECT_EQ(size(out[3]), 48u + 16);  // 16 bytes cannot be a block of their own
    EXPECT_TRUE(load(guard) & kPrevAlloc);
    EXPECT_EQ(check_heap(false), 0u);
    for (char *b : out) release(b);
    release(guard);
}

TEST_F(HeapTest, OutOfMemoryReturnsNullAndChangesNothing) {
    char *a = alloc(64);
    mem_set_cap(mem_heapsize() + 1000);
    std::size_t before = mem_heapsize();
    EXPECT_EQ(alloc(1 << 20), nullptr);
    EXPECT_EQ(mem_heapsize(), before);
    EXPECT_NE(alloc(512), nullptr);  // what fits under the cap still works
    mem_set_cap(0);
    release(a);
}

TEST_F(HeapTest, ContainsKnowsTheHeapBounds) {
    char *a = alloc(64);
    EXPECT_TRUE(g_heap.contains(payload_of(a)));
    int local = 0;
    EXPECT_FALSE(g_heap.contains(&local));
    EXPECT_FALSE(g_heap.contains(nullptr));
    release(a);
}

TEST_F(HeapTest, CheckerFindsACorruptedFooter) {
    char *a = alloc(128), *guard = alloc(32);
    release(a);
    store(a + 128 - kHeaderSize, 64);  // break the boundary tag
    testing::internal::CaptureStderr();
    EXPECT_GT(check_heap(false), 0u);
    EXPECT_NE(testing::internal::GetCapturedStderr().find("footer"), std::string::npos);
    store(a + 128 - kHeaderSize, 128);
    release(guard);
}

}  // namespace
}  // namespace heaplab::ref
