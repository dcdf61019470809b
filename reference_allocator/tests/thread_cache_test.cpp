// Thread caches (thread_cache.h) in the mm.h build: what is cached, flushing, thread exit,
// cross-thread frees, mm_init, and double-free detection through the cache.
#include "allocator.h"
#include "thread_cache.h"

#include "heaplab/memlib.h"
#include "heaplab/mm.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace heaplab::ref {
namespace {

class ThreadCacheTest : public ::testing::Test {
protected:
    void SetUp() override {
        mem_reset();
        ASSERT_EQ(mm_init(), 0);
    }
    void TearDown() override { EXPECT_NE(mm_checkheap(0), 0); }
    static std::size_t cached_blocks() {
        g_heap.lock();
        std::size_t n = thread_caches_blocks_locked();
        g_heap.unlock();
        return n;
    }
};

TEST_F(ThreadCacheTest, FreedSmallBlockIsCachedAndReusedFirst) {
    void *p = mm_malloc(40);
    mm_free(p);
    EXPECT_TRUE(is_cached(header_of(p)));
    EXPECT_EQ(cached_blocks(), 1u);
    void *q = mm_malloc(40);
    EXPECT_EQ(q, p);  // LIFO: the warmest block
    EXPECT_FALSE(is_cached(header_of(q)));
    mm_free(q);
}

TEST_F(ThreadCacheTest, LargeBlocksBypassTheCache) {
    void *p = mm_malloc(kCacheMaxRequest + 1);
    mm_free(p);
    EXPECT_EQ(cached_blocks(), 0u);
}

TEST_F(ThreadCacheTest, AFullClassReturnsHalfToTheHeap) {
    unsigned c = cache_class_of(block_size_for(40));
    std::vector<void *> v;
    for (unsigned i = 0; i < kCapacity.of[c] + 1u; ++i) v.push_back(mm_malloc(40));
    for (void *p : v) mm_free(p);
    EXPECT_LE(cached_blocks(), kCapacity.of[c]);
    EXPECT_GE(cached_blocks(), kCapacity.of[c] / 2);
}

TEST_F(ThreadCacheTest, ThreadExitReturnsItsCacheToTheHeap) {
    std::size_t before = cached_blocks();
    std::thread([] {
        std::vector<void *> v;
        for (int i = 0; i < 50; ++i) v.push_back(mm_malloc(static_cast<std::size_t>(16 + i * 8)));
        for (void *p : v) mm_free(p);
        EXPECT_NE(t_cache, nullptr);
    }).join();
    EXPECT_EQ(cached_blocks(), before);
}

TEST_F(ThreadCacheTest, BlocksFreedByAnotherThreadAreReused) {
    std::vector<void *> v;
    for (int i = 0; i < 100; ++i) v.push_back(mm_malloc(64));
    std::thread([&v] {
        for (void *p : v) mm_free(p);
    }).join();
    EXPECT_EQ(mm_checkheap(0), 1);
    // The other thread's cache went back to the heap on exit: the memory is ours again.
    std::size_t before = mem_heapsize();
    for (int i = 0; i < 100; ++i) v[static_cast<std::size_t>(i)] = mm_malloc(64);
    EXPECT_EQ(mem_heapsize(), before);
    for (void *p : v) mm_free(p);
}

TEST_F(ThreadCacheTest, CacheIsDrainedBeforeTheHeapGrows) {
    std::vector<void *> run;
    for (int i = 0; i < 8; ++i) run.push_back(mm_malloc(40));  // 8 neighbours of 48 bytes
    void *guard = mm_malloc(10);
    for (void *p : run) mm_free(p);
    EXPECT_EQ(cached_blocks(), 8u);  // parked, not coalesced
    std::size_t before = mem_heapsize();
    void *big = mm_malloc(300);  // fits only in the 384 bytes the run makes once coalesced
    EXPECT_EQ(mem_heapsize(), before);
    EXPECT_EQ(big, run.front());
    mm_free(big);
    mm_free(guard);
}

TEST_F(ThreadCacheTest, MmInitForgetsCachedBlocks) {
    void *p = mm_malloc(100);
    mm_free(p);
    EXPECT_EQ(cached_blocks(), 1u);
    mem_reset();
    ASSERT_EQ(mm_init(), 0);
    EXPECT_EQ(cached_blocks(), 0u);
}

using ThreadCacheDeathTest = ThreadCacheTest;

TEST_F(ThreadCacheDeathTest, DoubleFreeOfACachedBlockAborts) {
    void *p = mm_malloc(40);
    mm_free(p);
    EXPECT_DEATH(mm_free(p), "free\\(\\): double free \\(the block is in a thread cache\\): 0x");
    mm_free(mm_malloc(40));  // the parent's heap is still fine
}

TEST_F(ThreadCacheDeathTest, DoubleFreeOfAHeapBlockAborts) {
    void *p = mm_malloc(5000);
    void *guard = mm_malloc(10);
    mm_free(p);
    EXPECT_DEATH(mm_free(p), "free\\(\\): double free \\(the block is already free\\): 0x");
    mm_free(guard);
}

TEST_F(ThreadCacheDeathTest, FreeOfAPointerNeverReturnedAborts) {
    auto *p = static_cast<char *>(mm_malloc(256));
    EXPECT_DEATH(mm_free(p + 64), "invalid pointer");
    EXPECT_DEATH(mm_free(p + 8), "invalid pointer \\(misaligned\\)");
    static char outside[64];
    EXPECT_DEATH(mm_free(outside + 16), "invalid pointer");
    mm_free(p);
}

TEST_F(ThreadCacheDeathTest, ReallocOfAFreedBlockAborts) {
    void *p = mm_malloc(40);
    mm_free(p);
    EXPECT_DEATH(mm_realloc(p, 100), "realloc\\(\\): double free");
}

}  // namespace
}  // namespace heaplab::ref
