// The mm.h contract, one suite for every allocator: each lab stage, each solution and the
// reference are linked against this file (heaplab_add_mm_suite() in CMake), as Scudo runs one
// typed suite against every configuration. What an allocator cannot be expected to do yet is
// switched off by its capabilities (a bump allocator never reuses memory).
//
// Every test starts from an empty simulated heap: mem_reset(), then mm_init().
#include "heaplab/lab_testing.h"
#include "heaplab/memlib.h"
#include "heaplab/mm.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#ifndef HEAPLAB_MM_REUSES_MEMORY
#define HEAPLAB_MM_REUSES_MEMORY 1
#endif
#ifndef HEAPLAB_MM_HAS_CHECKHEAP
#define HEAPLAB_MM_HAS_CHECKHEAP 1
#endif

namespace {

constexpr std::size_t kAlignment = 16;

// A fresh simulated heap and mm_init() for every test (heaplab/lab_testing.h).
class MmContract : public heaplab::testing::FreshHeap {
protected:
    static bool inside_heap(const void *p, std::size_t size) {
        auto *lo = static_cast<const char *>(mem_heap_lo());
        auto *end = static_cast<const char *>(mem_heap_hi()) + 1;
        auto *c = static_cast<const char *>(p);
        return c >= lo && c + size <= end;
    }
    static void fill(void *p, std::size_t size, unsigned seed) {
        auto *bytes = static_cast<unsigned char *>(p);
        for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<unsigned char>(seed * 31 + i * 7);
    }
    /// The first byte of @p p that does not hold fill()'s pattern, or @p size.
    static std::size_t first_wrong(const void *p, std::size_t size, unsigned seed) {
        auto *bytes = static_cast<const unsigned char *>(p);
        for (std::size_t i = 0; i < size; ++i)
            if (bytes[i] != static_cast<unsigned char>(seed * 31 + i * 7)) return i;
        return size;
    }
    static void *const kFailed;
};

void *const MmContract::kFailed = reinterpret_cast<void *>(-1);

TEST_F(MmContract, PayloadsAreAlignedAndInsideTheHeapForEverySmallSize) {
    for (std::size_t size = 1; size <= 300; ++size) {
        void *p = mm_malloc(size);
        ASSERT_NE(p, nullptr) << "mm_malloc(" << size << ") returned NULL";
        EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % kAlignment, 0u)
            << "mm_malloc(" << size << ") returned " << p << ", not " << kAlignment << "-byte aligned";
        EXPECT_TRUE(inside_heap(p, size)) << "mm_malloc(" << size << ") returned " << p
                                          << ", outside [mem_heap_lo(), mem_heap_hi()]";
        std::memset(p, 0xa5, size);
    }
}

TEST_F(MmContract, LargeBlocksAreAlignedAndWritable) {
    for (std::size_t size : {4096u, 4097u, 65536u, 1u << 20, (1u << 22) + 3}) {
        void *p = mm_malloc(size);
        ASSERT_NE(p, nullptr) << "mm_malloc(" << size << ") returned NULL";
        EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % kAlignment, 0u) << "mm_malloc(" << size << ")";
        EXPECT_TRUE(inside_heap(p, size)) << "mm_malloc(" << size << ") is not inside the heap";
        std::memset(p, 1, size);
        mm_free(p);
    }
}

TEST_F(MmContract, MallocOfZeroReturnsNullOrAUniquePointer) {
    void *a = mm_malloc(0);
    void *b = mm_malloc(0);
    if (a != nullptr && b != nullptr) {
        EXPECT_NE(a, b) << "two mm_malloc(0) returned the same pointer";
    }
    mm_free(a);
    mm_free(b);
}

TEST_F(MmContract, FreeOfNullDoesNothing) {
    std::size_t before = mem_heapsize();
    mm_free(nullptr);
    EXPECT_EQ(mem_heapsize(), before);
    EXPECT_NE(mm_malloc(8), nullptr) << "the heap must still work after mm_free(NULL)";
}

TEST_F(MmContract, BlocksDoNotOverlapAndKeepTheirContents) {
    std::mt19937 random(12345);
    struct Live {
        unsigned char *p;
        std::size_t size;
        unsigned seed;
    };
    std::vector<Live> live;
    for (unsigned i = 0; i < 2000; ++i) {
        if (!live.empty() && random() % 3 == 0) {
            std::size_t victim = random() % live.size();
            Live block = live[victim];
            ASSERT_EQ(first_wrong(block.p, block.size, block.seed), block.size)
                << "a live block of " << block.size << " bytes was overwritten before it was freed";
            mm_free(block.p);
            live.erase(live.begin() + static_cast<long>(victim));
            continue;
        }
        std::size_t size = 1 + random() % (random() % 8 == 0 ? 5000 : 200);
        auto *p = static_cast<unsigned char *>(mm_malloc(size));
        ASSERT_NE(p, nullptr) << "mm_malloc(" << size << ") returned NULL";
        for (const Live &other : live)
            ASSERT_TRUE(p + size <= other.p || other.p + other.size <= p)
                << "mm_malloc(" << size << ") returned " << static_cast<void *>(p)
                << ", overlapping a live block of " << other.size << " bytes at " << static_cast<void *>(other.p);
        fill(p, size, i);
        live.push_back({p, size, i});
    }
    for (const Live &block : live)
        EXPECT_EQ(first_wrong(block.p, block.size, block.seed), block.size)
            << "a block of " << block.size << " bytes lost its contents";
}

#if HEAPLAB_MM_REUSES_MEMORY
TEST_F(MmContract, FreedMemoryIsReused) {
    void *warm = mm_malloc(100);
    mm_free(warm);
    std::size_t heap = mem_heapsize();
    for (int i = 0; i < 1000; ++i) {
        void *p = mm_malloc(100);
        ASSERT_NE(p, nullptr);
        mm_free(p);
    }
    EXPECT_EQ(mem_heapsize(), heap) << "1000 rounds of mm_malloc(100) + mm_free grew the heap from "
                                    << heap << " to " << mem_heapsize() << " bytes: freed blocks are not reused";
}
#endif

TEST_F(MmContract, ReallocOfNullIsMalloc) {
    void *p = mm_realloc(nullptr, 40);
    ASSERT_NE(p, nullptr) << "mm_realloc(NULL, 40) must behave as mm_malloc(40)";
    std::memset(p, 3, 40);
    mm_free(p);
}

TEST_F(MmContract, ReallocToZeroFreesAndReturnsNull) {
    void *p = mm_malloc(40);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(mm_realloc(p, 0), nullptr) << "mm_realloc(p, 0) frees p and returns NULL (mm.h)";
}

TEST_F(MmContract, ReallocKeepsTheContentsWhenGrowing) {
    auto *p = static_cast<unsigned char *>(mm_malloc(50));
    ASSERT_NE(p, nullptr);
    fill(p, 50, 9);
    void *q = mm_malloc(20);  // a neighbour, so that growing in place is not trivial
    for (std::size_t size : {64u, 100u, 1000u, 5000u, 70000u}) {
        p = static_cast<unsigned char *>(mm_realloc(p, size));
        ASSERT_NE(p, nullptr) << "mm_realloc to " << size << " bytes returned NULL";
        EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % kAlignment, 0u);
        ASSERT_EQ(first_wrong(p, 50, 9), 50u) << "mm_realloc to " << size << " bytes lost the first 50 bytes";
    }
    mm_free(p);
    mm_free(q);
}

TEST_F(MmContract, ReallocKeepsThePrefixWhenShrinking) {
    auto *p = static_cast<unsigned char *>(mm_malloc(4000));
    ASSERT_NE(p, nullptr);
    fill(p, 4000, 4);
    for (std::size_t size : {2000u, 100u, 17u, 1u}) {
        p = static_cast<unsigned char *>(mm_realloc(p, size));
        ASSERT_NE(p, nullptr) << "mm_realloc down to " << size << " bytes returned NULL";
        ASSERT_EQ(first_wrong(p, size, 4), size) << "mm_realloc down to " << size << " bytes changed the contents";
    }
    mm_free(p);
}

TEST_F(MmContract, CallocReturnsZeroesEvenOnRecycledMemory) {
    for (int round = 0; round < 3; ++round) {
        auto *dirty = static_cast<unsigned char *>(mm_malloc(256));
        ASSERT_NE(dirty, nullptr);
        std::memset(dirty, 0xff, 256);
        mm_free(dirty);
        auto *p = static_cast<unsigned char *>(mm_calloc(16, 16));
        ASSERT_NE(p, nullptr) << "mm_calloc(16, 16) returned NULL";
        for (std::size_t i = 0; i < 256; ++i) ASSERT_EQ(p[i], 0) << "mm_calloc left byte " << i << " non-zero";
        mm_free(p);
    }
}

TEST_F(MmContract, CallocOverflowFailsWithEnomem) {
    errno = 0;
    EXPECT_EQ(mm_calloc(SIZE_MAX / 2, 3), nullptr) << "nmemb * size overflows: mm_calloc must return NULL";
    EXPECT_EQ(errno, ENOMEM) << "and set errno to ENOMEM";
    EXPECT_NE(mm_malloc(8), nullptr) << "the heap must still work afterwards";
}

TEST_F(MmContract, MallocFailsWithEnomemWhenTheBreakCannotGrowAndStaysUsable) {
    void *small = mm_malloc(64);
    ASSERT_NE(small, nullptr);
    mem_set_cap(mem_heapsize() + 64 * 1024);
    errno = 0;
    EXPECT_EQ(mm_malloc(1 << 20), nullptr) << "mm_malloc(1 MiB) with 64 KiB left must return NULL";
    EXPECT_EQ(errno, ENOMEM) << "and set errno to ENOMEM";
    void *p = mm_malloc(64);
    EXPECT_NE(p, nullptr) << "a small mm_malloc must still succeed after a failed large one";
    mm_free(p);
    mm_free(small);
}

TEST_F(MmContract, AFailedReallocLeavesTheBlockUntouched) {
    auto *p = static_cast<unsigned char *>(mm_malloc(100));
    ASSERT_NE(p, nullptr);
    fill(p, 100, 5);
    mem_set_cap(mem_heapsize() + 64 * 1024);
    errno = 0;
    EXPECT_EQ(mm_realloc(p, 1 << 20), nullptr) << "growing past the cap must fail";
    EXPECT_EQ(errno, ENOMEM);
    EXPECT_EQ(first_wrong(p, 100, 5), 100u) << "a failed mm_realloc must leave the old block as it was";
    mm_free(p);
}

TEST_F(MmContract, HugeRequestsFailCleanly) {
    errno = 0;
    EXPECT_EQ(mm_malloc(SIZE_MAX), nullptr) << "mm_malloc(SIZE_MAX) must fail, not wrap around";
    EXPECT_EQ(errno, ENOMEM);
    EXPECT_EQ(mm_malloc(SIZE_MAX - 8), nullptr) << "mm_malloc(SIZE_MAX - 8) must fail, not wrap around";
    EXPECT_NE(mm_malloc(8), nullptr);
}

TEST_F(MmContract, InitStartsOverAfterAReset) {
    for (int i = 0; i < 100; ++i) ASSERT_NE(mm_malloc(1000), nullptr);
    mem_reset();
    ASSERT_EQ(mm_init(), 0) << "mm_init() must work again on a reset heap";
    void *p = mm_malloc(24);
    ASSERT_NE(p, nullptr);
    EXPECT_LT(mem_heapsize(), 100u * 1000) << "after mem_reset() + mm_init() the old blocks are gone";
}

#if HEAPLAB_MM_HAS_CHECKHEAP
TEST_F(MmContract, CheckheapAcceptsAHealthyHeap) {
    EXPECT_NE(mm_checkheap(0), 0) << "mm_checkheap on a fresh heap reported a problem";
    std::vector<void *> blocks;
    for (int i = 0; i < 50; ++i) blocks.push_back(mm_malloc(static_cast<std::size_t>(i * 13 + 1)));
    for (std::size_t i = 0; i < blocks.size(); i += 2) mm_free(blocks[i]);
    EXPECT_NE(mm_checkheap(0), 0) << "mm_checkheap reported a problem on a healthy heap";
    for (std::size_t i = 1; i < blocks.size(); i += 2) mm_free(blocks[i]);
    EXPECT_NE(mm_checkheap(0), 0) << "mm_checkheap reported a problem after everything was freed";
}
#endif

}  // namespace
