// Public tests of Lab 05 (the allocator under many threads). `make test` runs them on your
// mm.cpp. Each suite is one part of the grade (lab.toml); a failure says what was expected and
// what your allocator did.
//
// Every test starts from an empty heap (mem_reset(), then mm_init()) and runs its threads in a
// child process with a time limit (run_in_child): a race that crashes, or a lock that is never
// released, fails that one test with a message instead of stopping the others. No test depends
// on timing: where a test must know that a thread is waiting for your lock, it looks at the
// thread's state in /proc (asleep, 'S'), and waits as long as that takes.
#include "threads_testing.h"

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <barrier>
#include <deque>
#include <sys/wait.h>

namespace {

using heaplab::testing::fill_pattern;
using heaplab::testing::FreshHeap;
using heaplab::testing::HoldsPattern;
using heaplab::testing::IsGoodPayload;
using heaplab::testing::where;
using namespace heaplab::testing::threads_lab;

constexpr std::size_t KiB = 1024;

/*
 * One thread's share of a churn: a window of live blocks of mixed sizes (most small, some
 * large), each filled with a pattern of its own and checked before it is freed. Another thread
 * writing into one of them — because both were given overlapping memory — shows as a changed
 * pattern.
 */
void churn(int thread, int rounds, FirstProblem &problem) {
    constexpr int kWindow = 24;
    void *blocks[kWindow] = {};
    std::size_t sizes[kWindow] = {};
    unsigned seeds[kWindow] = {};
    Random random(static_cast<unsigned>(thread));
    auto check_and_free = [&](int slot) {
        if (!holds_pattern(blocks[slot], sizes[slot], seeds[slot])) {
            problem.note(thread_name(thread) + ": the " + std::to_string(sizes[slot]) + " bytes of a block it held at " +
                         where(blocks[slot]) +
                         " were changed by someone else: two threads were given overlapping blocks (a race on the "
                         "free list: is every mm_malloc and mm_free under heap_lock?)");
            return false;
        }
        mm_free(blocks[slot]);
        blocks[slot] = nullptr;
        return true;
    };
    for (int round = 0; round < rounds && !problem.any(); ++round) {
        int slot = static_cast<int>(random.below(kWindow));
        if (blocks[slot] != nullptr) {
            if (!check_and_free(slot)) return;
            continue;
        }
        std::size_t size = random.below(4) == 0 ? 300 + random.below(3000) : 1 + random.below(200);
        void *p = mm_malloc(size);
        auto good = IsGoodPayload(p, size);
        if (!good) {
            problem.note(thread_name(thread) + ": mm_malloc(" + std::to_string(size) + "): " + good.message());
            return;
        }
        blocks[slot] = p;
        sizes[slot] = size;
        seeds[slot] = static_cast<unsigned>(thread * 7919 + round);
        fill_pattern(p, size, seeds[slot]);
    }
    for (int slot = 0; slot < kWindow; ++slot)
        if (blocks[slot] != nullptr && !check_and_free(slot)) return;
}

/* ---------------------------------------------------------------------------------------- */
/* Step 1: one lock. Threads that share the heap, each call under heap_lock.                 */

class OneLock : public FreshHeap {};

TEST_F(OneLock, ThreadsMallocAndFreeTheirOwnBlocks) {
    expect_in_child([] {
        ASSERT_TRUE(HeapLockIsTaken());
        FirstProblem problem;
        run_threads(4, [&](int thread) { churn(thread, 4000, problem); });
        EXPECT_EQ(problem.text(), "") << "4 threads each allocated, filled, checked and freed blocks of 1 to 3300 "
                                         "bytes at the same time";
        EXPECT_TRUE(HeapIsConsistent("4 threads allocated and freed their blocks at the same time"));
    });
}

/* A queue of blocks from producer threads to consumer threads. */
struct Handed {
    void *block;
    std::size_t size;
    unsigned seed;
};

class BlockQueue {
public:
    void push(Handed handed) {
        std::lock_guard<std::mutex> guard(mutex_);  // notified under the lock: Helgrind wants it so
        queue_.push_back(handed);
        ready_.notify_one();
    }
    /// The next block, or a block of NULL once every producer is done and the queue is empty.
    Handed pop() {
        std::unique_lock<std::mutex> lock(mutex_);
        ready_.wait(lock, [this] { return !queue_.empty() || producers_left_ == 0; });
        if (queue_.empty()) return Handed{nullptr, 0, 0};
        Handed handed = queue_.front();
        queue_.pop_front();
        return handed;
    }
    void set_producers(int count) { producers_left_ = count; }
    void producer_done() {
        std::lock_guard<std::mutex> guard(mutex_);
        --producers_left_;
        ready_.notify_all();
    }

private:
    std::mutex mutex_;
    std::condition_variable ready_;
    std::deque<Handed> queue_;
    int producers_left_ = 0;
};

TEST_F(OneLock, BlocksFreedByAnotherThread) {
    expect_in_child([] {
        ASSERT_TRUE(HeapLockIsTaken());
        constexpr int kProducers = 2, kConsumers = 2, kBlocks = 4000;
        BlockQueue queue;
        queue.set_producers(kProducers);
        FirstProblem problem;
        run_threads(kProducers + kConsumers, [&](int thread) {
            if (thread < kProducers) {  // allocate, fill, hand over
                Random random(static_cast<unsigned>(thread));
                for (int i = 0; i < kBlocks && !problem.any(); ++i) {
                    std::size_t size = random.below(3) == 0 ? 300 + random.below(2000) : 1 + random.below(200);
                    void *p = mm_malloc(size);
                    auto good = IsGoodPayload(p, size);
                    if (!good) {
                        problem.note(thread_name(thread) + ": mm_malloc(" + std::to_string(size) + "): " + good.message());
                        break;
                    }
                    unsigned seed = static_cast<unsigned>(thread * 100003 + i);
                    fill_pattern(p, size, seed);
                    queue.push(Handed{p, size, seed});
                }
                queue.producer_done();
                return;
            }
            for (Handed handed = queue.pop(); handed.block != nullptr; handed = queue.pop()) {  // check, free
                if (!holds_pattern(handed.block, handed.size, handed.seed))
                    problem.note(thread_name(thread) + ": a block of " + std::to_string(handed.size) +
                                 " bytes that another thread allocated and filled was changed before it was "
                                 "freed: it overlaps another live block");
                mm_free(handed.block);
            }
        });
        EXPECT_EQ(problem.text(), "") << "2 threads allocated blocks and 2 other threads freed them";
        EXPECT_TRUE(HeapIsConsistent("2 threads freed the blocks 2 other threads had allocated"));
    });
}

TEST_F(OneLock, ReallocUnderThreads) {
    expect_in_child([] {
        ASSERT_TRUE(HeapLockIsTaken());
        FirstProblem problem;
        // Each thread grows a buffer a little at a time, as a string builder does, then shrinks
        // it, with small blocks allocated and freed in between: in place when it can, moved when
        // it must. The contents must follow the buffer.
        run_threads(4, [&](int thread) {
            Random random(static_cast<unsigned>(thread));
            unsigned seed = static_cast<unsigned>(thread + 1);
            void *small[8] = {};
            for (int pass = 0; pass < 6 && !problem.any(); ++pass) {
                char *buffer = nullptr;
                std::size_t length = 0;
                for (int step = 0; step < 120 && !problem.any(); ++step) {
                    std::size_t wanted = step < 80 ? length + 1 + random.below(120) : length - length / 8;
                    auto *grown = static_cast<char *>(mm_realloc(buffer, wanted));
                    auto good = IsGoodPayload(grown, wanted);
                    if (!good) {
                        problem.note(thread_name(thread) + ": mm_realloc(buffer, " + std::to_string(wanted) +
                                     "): " + good.message());
                        break;
                    }
                    std::size_t kept = length < wanted ? length : wanted;
                    if (!holds_pattern(grown, kept, seed)) {
                        problem.note(thread_name(thread) + ": mm_realloc from " + std::to_string(length) + " to " +
                                     std::to_string(wanted) + " bytes did not keep the first " +
                                     std::to_string(kept) + " bytes (or another thread wrote into the buffer)");
                        break;
                    }
                    fill_pattern(grown, wanted, seed);
                    buffer = grown;
                    length = wanted;
                    int slot = static_cast<int>(random.below(8));
                    mm_free(small[slot]);
                    small[slot] = mm_malloc(1 + random.below(100));
                }
                mm_free(buffer);
            }
            for (void *p : small) mm_free(p);
        });
        EXPECT_EQ(problem.text(), "") << "4 threads grew and shrank buffers with mm_realloc at the same time";
        EXPECT_TRUE(HeapIsConsistent("4 threads grew and shrank buffers with mm_realloc"));
    });
}

TEST_F(OneLock, CallocUnderThreads) {
    expect_in_child([] {
        ASSERT_TRUE(HeapLockIsTaken());
        FirstProblem problem;
        // Blocks are filled with 0xAB and freed first, so that calloc's blocks are reused ones:
        // only its memset makes them zero.
        run_threads(4, [&](int thread) {
            Random random(static_cast<unsigned>(thread));
            for (int round = 0; round < 800 && !problem.any(); ++round) {
                std::size_t count = 1 + random.below(40), size = 1 + random.below(24);
                void *dirty = mm_malloc(count * size);
                if (dirty == nullptr) {
                    problem.note(thread_name(thread) + ": mm_malloc returned NULL");
                    break;
                }
                std::memset(dirty, 0xab, count * size);
                mm_free(dirty);
                auto *zeroed = static_cast<unsigned char *>(mm_calloc(count, size));
                auto good = IsGoodPayload(zeroed, count * size);
                if (!good) {
                    problem.note(thread_name(thread) + ": mm_calloc(" + std::to_string(count) + ", " +
                                 std::to_string(size) + "): " + good.message());
                    break;
                }
                for (std::size_t i = 0; i < count * size; ++i)
                    if (zeroed[i] != 0) {
                        problem.note(thread_name(thread) + ": byte " + std::to_string(i) + " of mm_calloc(" +
                                     std::to_string(count) + ", " + std::to_string(size) + ") is " +
                                     std::to_string(zeroed[i]) + ", expected 0 (another thread wrote into it?)");
                        break;
                    }
                mm_free(zeroed);
            }
        });
        EXPECT_EQ(problem.text(), "") << "4 threads called mm_calloc at the same time";
    });
}

TEST_F(OneLock, TheHeapIsConsistentAfterThreadsExit) {
    expect_in_child([] {
        ASSERT_TRUE(HeapLockIsTaken());
        FirstProblem problem;
        for (int wave = 0; wave < 3; ++wave) {
            run_threads(3, [&](int thread) { churn(10 * wave + thread, 1500, problem); });
            ASSERT_EQ(problem.text(), "") << "wave " << wave << " of 3 threads";
            ASSERT_TRUE(HeapIsConsistent("wave " + std::to_string(wave) + " of 3 threads ended"));
        }
        // Everything was freed: a block of almost the whole heap now fits where they were.
        std::size_t heap = mem_heapsize();
        void *all = mm_malloc(heap / 2);
        EXPECT_TRUE(IsGoodPayload(all, heap / 2));
        EXPECT_TRUE(HeapIsConsistent("a block of half the heap after every thread ended"));
    });
}

/* The layout the lock tests start from: blocks that the calls under test can use without
 * growing the heap (they must wait for the lock, not for mem_sbrk). */
struct Prepared {
    void *to_free;     // allocated: freed by the call under test
    void *to_grow;     // allocated, and the block after it is free: grows in place
    void *for_malloc;  // freed: room for a mm_malloc(1000)
    void *for_calloc;  // freed: room for a mm_calloc(1, 1000)
};

Prepared prepare_blocks() {
    Prepared p{};
    p.to_free = mm_malloc(1000);
    p.to_grow = mm_malloc(1000);
    void *after_grow = mm_malloc(1000);
    void *guard1 = mm_malloc(1000);
    p.for_malloc = mm_malloc(1000);
    void *guard2 = mm_malloc(1000);
    p.for_calloc = mm_malloc(1000);
    void *guard3 = mm_malloc(1000);
    (void)guard1, (void)guard2, (void)guard3;
    mm_free(after_grow);
    mm_free(p.for_malloc);
    mm_free(p.for_calloc);
    return p;
}

TEST_F(OneLock, TheLockIsHeldAroundMemSbrk) {
    expect_in_child([] {
        Prepared prepared = prepare_blocks();
        ASSERT_NE(prepared.to_free, nullptr);
        BreakHeld brk;  // mem_sbrk waits until brk.release()
        GrowingThread grower(64 * KiB);
        ASSERT_TRUE(grower.wait_inside_sbrk())
            << "mm_malloc(65536) on a heap of 8 KiB must grow it with mem_sbrk, but it returned without it";
        // grower is inside mem_sbrk. If it holds heap_lock there, as it must, this mm_malloc
        // waits for it: it must not return before the heap has grown.
        void *q = nullptr;
        CallInThread other([&] { q = mm_malloc(1000); });
        char state = other.wait_asleep_or_finished();
        EXPECT_NE(state, 'F')
            << "another thread's mm_malloc(1000) returned while mm_malloc(65536) was inside mem_sbrk, growing the "
               "heap: the heap lock must be held around mem_sbrk (extend_heap reads the last block before the break "
               "moves and writes the new block after it; no other thread may change the heap in between)";
        EXPECT_NE(state, 'T') << "mm_malloc(1000) neither returned nor waited for a lock within 5 seconds";
        brk.release();
        void *grown = grower.join();
        other.join();
        EXPECT_TRUE(IsGoodPayload(grown, 64 * KiB));
        EXPECT_TRUE(IsGoodPayload(q, 1000));
        EXPECT_TRUE(HeapIsConsistent("one thread grew the heap while another called mm_malloc"));
    });
}

TEST_F(OneLock, EveryEntryPointTakesTheLock) {
    expect_in_child([] {
        Prepared prepared = prepare_blocks();
        ASSERT_NE(prepared.to_free, nullptr);
        fill_pattern(prepared.to_grow, 1000, 5);
        BreakHeld brk;
        GrowingThread grower(64 * KiB);
        ASSERT_TRUE(grower.wait_inside_sbrk())
            << "mm_malloc(65536) on a heap of 8 KiB must grow it with mem_sbrk, but it returned without it";
        // While grower holds heap_lock inside mem_sbrk, each of these calls must wait for it.
        void *malloced = nullptr, *calloced = nullptr, *grown = nullptr;
        CallInThread free_call([&] { mm_free(prepared.to_free); });
        CallInThread malloc_call([&] { malloced = mm_malloc(1000); });
        CallInThread calloc_call([&] { calloced = mm_calloc(1, 1000); });
        CallInThread realloc_call([&] { grown = mm_realloc(prepared.to_grow, 1500); });
        struct {
            CallInThread *call;
            const char *what;
        } calls[] = {{&free_call, "mm_free(a 1000-byte block)"},
                     {&malloc_call, "mm_malloc(1000)"},
                     {&calloc_call, "mm_calloc(1, 1000)"},
                     {&realloc_call, "mm_realloc(a 1000-byte block, 1500)"}};
        for (auto &call : calls) {
            char state = call.call->wait_asleep_or_finished();
            std::string name = std::string(call.what).substr(0, std::string(call.what).find('('));
            EXPECT_NE(state, 'F') << call.what
                                  << " returned while another thread held the heap lock (it was inside mem_sbrk, "
                                     "growing the heap for mm_malloc(65536)): does "
                                  << name << " take the heap lock? Every entry point must hold it while it uses "
                                             "the heap (unless mm_malloc does not hold it around mem_sbrk)";
            EXPECT_NE(state, 'T') << call.what << " neither returned nor waited for a lock within 5 seconds";
        }
        brk.release();
        grower.join();
        for (auto &call : calls) call.call->join();
        EXPECT_TRUE(IsGoodPayload(malloced, 1000));
        EXPECT_TRUE(IsGoodPayload(calloced, 1000));
        EXPECT_TRUE(IsGoodPayload(grown, 1500));
        if (grown != nullptr) {
            EXPECT_TRUE(HoldsPattern(grown, 1000, 5)) << "mm_realloc must keep the contents";
        }
        EXPECT_TRUE(HeapIsConsistent("four calls waited for the lock while the heap grew"));
    });
}

TEST_F(OneLock, AFailedMallocReleasesTheLock) {
    expect_in_child([] {
        ASSERT_TRUE(HeapLockIsTaken());
        void *small = mm_malloc(100);
        ASSERT_NE(small, nullptr);
        mem_set_cap(mem_heapsize() + 4 * KiB);
        int error = 0;
        void *failed = nullptr;
        std::thread([&] {
            errno = 0;
            failed = mm_malloc(1024 * KiB);
            error = errno;
        }).join();
        EXPECT_EQ(failed, nullptr) << "mm_malloc(1 MiB) must fail when the heap cannot grow past its cap";
        EXPECT_EQ(error, ENOMEM) << "errno must be ENOMEM after a failed mm_malloc";
        mem_set_cap(0);
        void *after = nullptr;
        CallInThread next([&] { after = mm_malloc(2000); });
        if (!wait_until([&] { return next.finished(); }, 3)) {
            next.abandon();
            ADD_FAILURE() << "after a mm_malloc that failed with ENOMEM, another thread's mm_malloc(2000) waited "
                             "for the heap lock for 3 seconds: is the lock released on the ENOMEM path (the "
                             "early return when extend_heap fails)?";
            return;
        }
        next.join();
        EXPECT_TRUE(IsGoodPayload(after, 2000));
        EXPECT_TRUE(HeapIsConsistent("a failed mm_malloc, then another"));
    });
}

TEST_F(OneLock, MmInitStartsAFreshHeapBetweenRuns) {
    expect_in_child([] {
        ASSERT_TRUE(HeapLockIsTaken());
        FirstProblem problem;
        for (int run = 0; run < 3; ++run) {
            run_threads(3, [&](int thread) { churn(20 * run + thread, 1000, problem); });
            ASSERT_EQ(problem.text(), "") << "run " << run << " of 3 threads";
            ASSERT_TRUE(HeapIsConsistent("run " + std::to_string(run)));
            mem_reset();
            ASSERT_EQ(mm_init(), 0) << "mm_init() after a run of threads, on an empty heap";
            ASSERT_TRUE(HeapIsConsistent("mm_init() after run " + std::to_string(run)));
        }
    });
}

/* ---------------------------------------------------------------------------------------- */
/* Step 2: per-thread caches.                                                                */

class ThreadCache : public FreshHeap {};

TEST_F(ThreadCache, AThreadReusesTheBlockItFreedWithoutTheLock) {
    expect_in_child([] {
        // The probe: a thread frees a 48-byte block and asks for 48 bytes again while another
        // thread holds the heap lock (inside mem_sbrk). With a cache, the block comes back at
        // once, without the lock.
        ASSERT_TRUE(CacheServesWithoutTheLock());
        void *freed = mm_malloc(48);
        ASSERT_NE(freed, nullptr);
        mm_free(freed);
        void *again = mm_malloc(48);
        EXPECT_EQ(again, freed) << "mm_malloc(48) right after the same thread freed a 48-byte block at "
                                << where(freed) << " should return that block from the thread's cache; it returned "
                                << where(again);
    });
}

TEST_F(ThreadCache, ACachedBlockIsHandedOutOnce) {
    expect_in_child([] {
        ASSERT_TRUE(CacheServesWithoutTheLock());
        void *blocks[20];
        for (void *&p : blocks) p = mm_malloc(40);
        for (void *p : blocks) mm_free(p);
        void *again[20];
        for (int i = 0; i < 20; ++i) {
            again[i] = mm_malloc(40);
            ASSERT_TRUE(IsGoodPayload(again[i], 40));
            fill_pattern(again[i], 40, static_cast<unsigned>(i));
            for (int j = 0; j < i; ++j)
                ASSERT_NE(again[i], again[j])
                    << "mm_malloc(40) returned " << where(again[i]) << " twice (calls " << j << " and " << i
                    << "), and the first is still in use: the same cached block was handed out twice (does "
                       "cache_pop take the block off its bin?)";
        }
        for (int i = 0; i < 20; ++i)
            EXPECT_TRUE(HoldsPattern(again[i], 40, static_cast<unsigned>(i)))
                << "block " << i << " of 20 live 40-byte blocks was overwritten: two of them overlap";
        EXPECT_TRUE(HeapIsConsistent("20 blocks freed into the cache and allocated again"));
    });
}

TEST_F(ThreadCache, EachThreadHasACacheOfItsOwn) {
    expect_in_child([] {
        ASSERT_TRUE(CacheServesWithoutTheLock());
        std::mutex mutex;
        std::condition_variable changed;
        bool freed_it = false, done = false;
        void *freed = nullptr;
        std::thread first([&] {
            freed = mm_malloc(48);
            mm_free(freed);  // into this thread's cache
            std::unique_lock<std::mutex> lock(mutex);
            freed_it = true;
            changed.notify_all();
            changed.wait(lock, [&] { return done; });  // alive, holding its cache, until the end
        });
        {
            std::unique_lock<std::mutex> lock(mutex);
            changed.wait(lock, [&] { return freed_it; });
        }
        void *taken = nullptr;
        std::thread([&] { taken = mm_malloc(48); }).join();
        {
            std::lock_guard<std::mutex> guard(mutex);
            done = true;
            changed.notify_all();
        }
        first.join();
        ASSERT_TRUE(IsGoodPayload(taken, 48));
        EXPECT_NE(taken, freed)
            << "thread 2's mm_malloc(48) returned the block thread 1 had just freed (" << where(freed)
            << "), while thread 1 is still running and should keep it in its own cache: is the cache thread_local? "
               "A cache shared by all threads is a list they push and pop at once without a lock. (Without any "
               "cache, the block is back on the free list and this test fails too: step 2.)";
    });
}

TEST_F(ThreadCache, TheFreesOfAConsumerThreadGoBackToTheHeap) {
    expect_in_child([] {
        ASSERT_TRUE(CacheServesWithoutTheLock());
        // A producer thread allocates 500 blocks of 40 bytes, a consumer thread frees them, 20
        // times; both live to the end. The consumer never allocates: a cache that kept every
        // block it frees would hold them all, and the producer would need new memory each round.
        constexpr int kBlocks = 500, kRounds = 20;
        std::vector<void *> blocks(kBlocks);
        std::size_t after_first_round = 0;
        std::barrier turn(2);
        FirstProblem problem;
        std::thread producer([&] {
            for (int round = 0; round < kRounds; ++round) {
                for (void *&p : blocks)
                    if ((p = mm_malloc(40)) == nullptr) problem.note("mm_malloc(40) returned NULL");
                if (round == 0) after_first_round = mem_heapsize();
                turn.arrive_and_wait();  // the consumer frees them
                turn.arrive_and_wait();
            }
        });
        std::thread consumer([&] {
            for (int round = 0; round < kRounds; ++round) {
                turn.arrive_and_wait();
                for (void *p : blocks) mm_free(p);
                turn.arrive_and_wait();
            }
        });
        producer.join();
        consumer.join();
        ASSERT_EQ(problem.text(), "");
        EXPECT_LE(mem_peak_heapsize(), 2 * after_first_round)
            << "a producer thread allocated 500 blocks of 40 bytes and a consumer thread freed them, 20 times: the "
               "heap grew from "
            << after_first_round << " bytes after the first round to " << mem_peak_heapsize()
            << ". The consumer's frees never reached the producer: a cache must be bounded (CACHE_LIMIT blocks of "
               "a size), and the blocks beyond it flushed back to the heap";
        EXPECT_TRUE(HeapIsConsistent("20 rounds of producer and consumer"));
    });
}

TEST_F(ThreadCache, AFullCacheFlushesBlocksThatLeaveIt) {
    expect_in_child([] {
        ASSERT_TRUE(CacheServesWithoutTheLock());
        // 60 blocks freed on one thread: its cache fills and gives blocks back to the heap. Then
        // 60 blocks allocated: from the cache and from the heap, never one block twice.
        constexpr int kBlocks = 60;
        void *blocks[kBlocks];
        for (void *&p : blocks) p = mm_malloc(40);
        for (void *p : blocks) mm_free(p);
        ASSERT_TRUE(HeapIsConsistent("60 blocks of 40 bytes were freed on one thread (its cache filled up and was "
                                     "flushed): a block flushed back to the heap must leave the cache"));
        void *again[kBlocks];
        for (int i = 0; i < kBlocks; ++i) {
            again[i] = mm_malloc(40);
            ASSERT_TRUE(IsGoodPayload(again[i], 40));
            fill_pattern(again[i], 40, static_cast<unsigned>(i));
        }
        for (int i = 0; i < kBlocks; ++i)
            for (int j = 0; j < i; ++j)
                ASSERT_NE(again[i], again[j])
                    << "after 60 frees (the cache was flushed), mm_malloc(40) returned " << where(again[i])
                    << " twice: a block flushed back to the heap must leave the cache, or it is handed out twice";
        for (int i = 0; i < kBlocks; ++i)
            EXPECT_TRUE(HoldsPattern(again[i], 40, static_cast<unsigned>(i))) << "two of 60 live blocks overlap";
        EXPECT_TRUE(HeapIsConsistent("60 blocks freed and allocated again on one thread"));
    });
}

TEST_F(ThreadCache, AnExitingThreadGivesItsCacheBack) {
    expect_in_child([] {
        ASSERT_TRUE(CacheServesWithoutTheLock());
        constexpr int kBlocks = 12;
        std::thread([] {
            void *blocks[2 * kBlocks];
            for (int i = 0; i < kBlocks; ++i) blocks[i] = mm_malloc(40);
            for (int i = kBlocks; i < 2 * kBlocks; ++i) blocks[i] = mm_malloc(200);
            for (void *p : blocks) mm_free(p);  // all into its cache: then the thread exits
        }).join();
        std::size_t before = mem_heapsize();
        void *blocks[2 * kBlocks];
        for (int i = 0; i < kBlocks; ++i) blocks[i] = mm_malloc(40);
        for (int i = kBlocks; i < 2 * kBlocks; ++i) blocks[i] = mm_malloc(200);
        for (void *p : blocks) ASSERT_NE(p, nullptr);
        EXPECT_EQ(mem_heapsize(), before)
            << "a thread allocated and freed 12 blocks of 40 bytes and 12 of 200, then exited; the same blocks "
               "allocated again on another thread grew the heap from "
            << before << " to " << mem_heapsize()
            << " bytes: the blocks a thread cached are lost when it exits. Flush the cache back to the heap when "
               "the thread exits (the destructor of a pthread key)";
        EXPECT_TRUE(HeapIsConsistent("a thread exited and its blocks were allocated again"));
    });
}

TEST_F(ThreadCache, MmInitEmptiesEveryCache) {
    expect_in_child([] {
        ASSERT_TRUE(CacheServesWithoutTheLock());
        void *p = mm_malloc(40);
        void *q = mm_malloc(200);
        ASSERT_TRUE(p != nullptr && q != nullptr);
        mm_free(p);  // cached by this thread ...
        mm_free(q);
        mem_reset();  // ... but the heap they were in is gone
        ASSERT_EQ(mm_init(), 0);
        void *fresh = mm_malloc(40);
        EXPECT_TRUE(IsGoodPayload(fresh, 40))
            << "after mem_reset() and mm_init(), mm_malloc(40) returned " << where(fresh)
            << "; before, this thread had freed a 40-byte block at " << where(p)
            << ". mm_init must empty every thread's cache: the blocks in them belong to the old heap";
        EXPECT_TRUE(HeapIsConsistent("mm_init() after this thread had cached blocks of the old heap (mm_init must "
                                     "empty every thread's cache)"));
    });
}

/* ---------------------------------------------------------------------------------------- */
/* Step 3: fork while other threads allocate.                                                */

class Fork : public FreshHeap {};

/* In a child of fork(): allocates and frees, large and small, and checks the heap. Exits 0 when
 * all went well, 1 otherwise; an alarm ends it if it waits for a lock. */
[[noreturn]] void allocate_in_child() {
    alarm(3 * slowdown());
    void *large = mm_malloc(3000);
    void *small = mm_malloc(40);
    int ok = large != nullptr && small != nullptr;
    if (ok) {
        std::memset(large, 1, 3000);
        std::memset(small, 2, 40);
        mm_free(large);
        mm_free(small);
        void *more = mm_malloc(100 * KiB);  // grows the heap: memlib's lock too
        ok = more != nullptr && mm_checkheap(0) == 1;
        mm_free(more);
    }
    _exit(ok ? 0 : 1);
}

/* Waits for a child of fork() and says what became of it. */
::testing::AssertionResult ChildAllocated(pid_t child, const std::string &when) {
    int status = 0;
    if (child < 0 || waitpid(child, &status, 0) != child) return ::testing::AssertionFailure() << "fork() failed";
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return ::testing::AssertionSuccess();
    if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM)
        return ::testing::AssertionFailure()
               << "the child of a fork() " << when
               << " was still waiting in mm_malloc after 3 seconds: it inherited a lock held by a thread that does "
                  "not exist in the child. Register pthread_atfork handlers that take heap_lock (and memlib's lock, "
                  "mem_fork_prepare) before fork and release them after, in the parent and in the child";
    if (WIFSIGNALED(status))
        return ::testing::AssertionFailure() << "the child of a fork() " << when << " crashed ("
                                             << strsignal(WTERMSIG(status))
                                             << ") in mm_malloc or mm_free: was the heap half-changed by another "
                                                "thread at the moment of the fork?";
    return ::testing::AssertionFailure() << "the child of a fork() " << when
                                         << " could not allocate, or mm_checkheap found its heap inconsistent";
}

TEST_F(Fork, TheChildCanAllocateWhileThreadsAllocate) {
    expect_in_child([] {
        std::atomic<bool> stop{false};
        std::vector<std::thread> workers;
        for (int thread = 0; thread < 3; ++thread)
            workers.emplace_back([&, thread] {
                Random random(static_cast<unsigned>(thread));
                void *blocks[16] = {};
                while (!stop) {  // large blocks, so that the heap lock is taken often
                    int slot = static_cast<int>(random.below(16));
                    mm_free(blocks[slot]);
                    blocks[slot] = mm_malloc(random.below(2) ? 300 + random.below(4000) : 1 + random.below(100));
                }
                for (void *p : blocks) mm_free(p);
            });
        for (int fork_number = 0; fork_number < 20 && !::testing::Test::HasFailure(); ++fork_number) {
            pid_t child = fork();
            if (child == 0) allocate_in_child();
            EXPECT_TRUE(ChildAllocated(child, "made while 3 threads allocated and freed"))
                << "fork " << fork_number + 1 << " of 20";
        }
        stop = true;
        for (std::thread &worker : workers) worker.join();
    });
}

TEST_F(Fork, TheChildCanAllocateWhenTheLockWasHeldAtTheFork) {
    expect_in_child([] {
        // A thread holds heap_lock inside mem_sbrk (the break is held), and this thread forks.
        // With fork handlers, fork() first waits for the lock (this thread goes to sleep, and the
        // break is let go); without them, the child is made while the lock is held.
        pid_t forker = thread_id();
        std::atomic<bool> forked{false};
        std::atomic<bool> holding{false};
        std::atomic<bool> grower_waits{true};
        std::thread holder([&] {
            BreakHeld brk;
            holding = true;
            while (grower_waits) std::this_thread::sleep_for(std::chrono::microseconds(200));
            // Let the break go once fork() is waiting (for the lock) or done.
            std::uintptr_t futex = 0;
            wait_until([&] { return forked.load() || waits_for_a_lock(forker, &futex); }, 5);
            brk.release();
        });
        wait_until([&] { return holding.load(); }, 5);
        GrowingThread grower(64 * KiB);
        bool inside = grower.wait_inside_sbrk();
        grower_waits = false;
        ASSERT_TRUE(inside) << "mm_malloc(65536) on an empty heap must grow it with mem_sbrk, but it returned "
                               "without it";
        pid_t child = fork();
        if (child == 0) allocate_in_child();
        forked = true;
        holder.join();
        grower.join();
        EXPECT_TRUE(ChildAllocated(child, "made while another thread held the heap lock"));
    });
}

}  // namespace
