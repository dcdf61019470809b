// Hidden tests of Lab 05, for instructors: they never reach the student copy. The same
// contract as the public tests, on workloads the student has not seen: many threads with mixed
// sizes trading blocks, a three-stage pipeline that reallocs in the middle, threads that come
// and go, reallocs across the cached sizes, and a fork from a thread that is not the main one.
#include "threads_testing.h"

#include <condition_variable>
#include <cstring>
#include <deque>
#include <sys/wait.h>

namespace {

using heaplab::testing::fill_pattern;
using heaplab::testing::FreshHeap;
using heaplab::testing::IsGoodPayload;
using heaplab::testing::where;
using namespace heaplab::testing::threads_lab;

/* A block and what it must hold. */
struct Held {
    void *block = nullptr;
    std::size_t size = 0;
    unsigned seed = 0;
};

/* Checks a block against its pattern; notes the problem in words. */
bool intact(const Held &held, const std::string &who, FirstProblem &problem) {
    if (holds_pattern(held.block, held.size, held.seed)) return true;
    problem.note(who + ": a block of " + std::to_string(held.size) + " bytes at " + where(held.block) +
                 " no longer holds what was written into it: it overlaps another live block");
    return false;
}

/* A queue between two stages of a pipeline; an empty Held means the stage before is done. */
class Queue {
public:
    void push(Held held) {
        std::lock_guard<std::mutex> guard(mutex_);  // notified under the lock: Helgrind wants it so
        items_.push_back(held);
        ready_.notify_one();
    }
    void close() {
        std::lock_guard<std::mutex> guard(mutex_);
        closed_ = true;
        ready_.notify_all();
    }
    Held pop() {
        std::unique_lock<std::mutex> lock(mutex_);
        ready_.wait(lock, [this] { return !items_.empty() || closed_; });
        if (items_.empty()) return Held{};
        Held held = items_.front();
        items_.pop_front();
        return held;
    }

private:
    std::mutex mutex_;
    std::condition_variable ready_;
    std::deque<Held> items_;
    bool closed_ = false;
};

class ThreadsHidden : public FreshHeap {};

TEST_F(ThreadsHidden, EightThreadsTradeBlocksOfMixedSizes) {
    expect_in_child([] {
        ASSERT_TRUE(HeapLockIsTaken());
        // 64 shared slots under a mutex: a thread puts a new block in a random slot and takes out
        // (checks, frees) whatever another thread left there.
        constexpr int kSlots = 64;
        Held slots[kSlots];
        std::mutex slots_mutex;
        FirstProblem problem;
        run_threads(8, [&](int thread) {
            Random random(static_cast<unsigned>(100 + thread));
            for (int round = 0; round < 2500 && !problem.any(); ++round) {
                std::size_t kind = random.below(10);
                std::size_t size = kind < 6 ? 1 + random.below(240) : kind < 9 ? 241 + random.below(2000)
                                                                               : 4096 + random.below(30000);
                Held fresh{mm_malloc(size), size, static_cast<unsigned>(thread * 100000 + round)};
                auto good = IsGoodPayload(fresh.block, size);
                if (!good) {
                    problem.note(thread_name(thread) + ": mm_malloc(" + std::to_string(size) + "): " + good.message());
                    return;
                }
                fill_pattern(fresh.block, size, fresh.seed);
                Held old;
                {
                    std::lock_guard<std::mutex> guard(slots_mutex);
                    std::size_t slot = random.below(kSlots);
                    old = slots[slot];
                    slots[slot] = fresh;
                }
                if (old.block != nullptr) {
                    if (!intact(old, thread_name(thread), problem)) return;
                    mm_free(old.block);
                }
            }
        });
        for (Held &held : slots)
            if (held.block != nullptr && intact(held, "the main thread", problem)) mm_free(held.block);
        EXPECT_EQ(problem.text(), "") << "8 threads traded blocks of 1 byte to 34 KiB through 64 shared slots";
        EXPECT_TRUE(HeapIsConsistent("8 threads traded blocks of mixed sizes"));
    });
}

TEST_F(ThreadsHidden, APipelineAllocatesReallocsAndFreesOnThreeThreads) {
    expect_in_child([] {
        ASSERT_TRUE(HeapLockIsTaken());
        // Stage 1 allocates and fills, stage 2 reallocs to another size (smaller or larger, across
        // the cached sizes) and checks the kept prefix, stage 3 checks and frees.
        Queue first_to_second, second_to_third;
        FirstProblem problem;
        std::thread allocate([&] {
            Random random(1);
            for (int i = 0; i < 6000 && !problem.any(); ++i) {
                std::size_t size = 1 + random.below(i % 4 == 0 ? 3000 : 250);
                Held held{mm_malloc(size), size, static_cast<unsigned>(i)};
                if (held.block == nullptr) {
                    problem.note("stage 1: mm_malloc(" + std::to_string(size) + ") returned NULL");
                    break;
                }
                fill_pattern(held.block, size, held.seed);
                first_to_second.push(held);
            }
            first_to_second.close();
        });
        std::thread resize([&] {
            Random random(2);
            for (Held held = first_to_second.pop(); held.block != nullptr; held = first_to_second.pop()) {
                std::size_t size = 1 + random.below(500);
                void *moved = mm_realloc(held.block, size);
                auto good = IsGoodPayload(moved, size);
                if (!good) {
                    problem.note("stage 2: mm_realloc(p, " + std::to_string(size) + "): " + good.message());
                    continue;  // the block is lost to the test; the next ones still run
                }
                std::size_t kept = held.size < size ? held.size : size;
                if (!holds_pattern(moved, kept, held.seed))
                    problem.note("stage 2: mm_realloc of a block another thread allocated, from " +
                                 std::to_string(held.size) + " to " + std::to_string(size) +
                                 " bytes, did not keep the first " + std::to_string(kept) + " bytes");
                fill_pattern(moved, size, held.seed + 7);
                second_to_third.push(Held{moved, size, held.seed + 7});
            }
            second_to_third.close();
        });
        std::thread release([&] {
            for (Held held = second_to_third.pop(); held.block != nullptr; held = second_to_third.pop()) {
                intact(held, "stage 3", problem);
                mm_free(held.block);
            }
        });
        allocate.join();
        resize.join();
        release.join();
        EXPECT_EQ(problem.text(), "") << "a pipeline of three threads: malloc, then realloc, then free";
        EXPECT_TRUE(HeapIsConsistent("a malloc / realloc / free pipeline on three threads"));
    });
}

TEST_F(ThreadsHidden, ThreadsThatComeAndGoDoNotGrowTheHeap) {
    expect_in_child([] {
        ASSERT_TRUE(HeapLockIsTaken());
        // Waves of 4 short-lived threads, each allocating and freeing small blocks (which its cache
        // keeps) and handing 10 to the main thread. If what an exiting thread cached were lost,
        // every wave would need new memory.
        std::vector<Held> kept;
        std::mutex kept_mutex;
        FirstProblem problem;
        std::size_t after_first_wave = 0;
        for (int wave = 0; wave < 15 && !problem.any(); ++wave) {
            run_threads(4, [&](int thread) {
                Random random(static_cast<unsigned>(wave * 4 + thread));
                Held mine[50];
                for (int i = 0; i < 50; ++i) {
                    std::size_t size = 1 + random.below(200);
                    mine[i] = Held{mm_malloc(size), size, static_cast<unsigned>(wave * 1000 + thread * 50 + i)};
                    if (mine[i].block == nullptr) {
                        problem.note(thread_name(thread) + ": mm_malloc returned NULL");
                        return;
                    }
                    fill_pattern(mine[i].block, size, mine[i].seed);
                }
                for (int i = 0; i < 40; ++i)
                    if (intact(mine[i], thread_name(thread), problem)) mm_free(mine[i].block);
                std::lock_guard<std::mutex> guard(kept_mutex);
                kept.insert(kept.end(), mine + 40, mine + 50);
            });
            if (wave == 0) after_first_wave = mem_heapsize();
            for (Held &held : kept)
                if (intact(held, "the main thread", problem)) mm_free(held.block);
            kept.clear();
        }
        ASSERT_EQ(problem.text(), "");
        EXPECT_LE(mem_peak_heapsize(), 8 * after_first_wave)  // lost caches: about 30 times
            << "15 waves of 4 threads, each allocating and freeing 50 small blocks and exiting: the heap grew from "
            << after_first_wave << " bytes after the first wave to a peak of " << mem_peak_heapsize()
            << ": are the blocks a thread cached given back when it exits?";
        EXPECT_TRUE(HeapIsConsistent("15 waves of short-lived threads"));
    });
}

TEST_F(ThreadsHidden, ReallocAcrossTheCachedSizesOnManyThreads) {
    expect_in_child([] {
        ASSERT_TRUE(HeapLockIsTaken());
        // Each thread grows a block from 8 bytes to 600 and shrinks it back, 8 bytes at a time:
        // below, across and above the sizes a cache keeps.
        FirstProblem problem;
        run_threads(4, [&](int thread) {
            unsigned seed = static_cast<unsigned>(thread + 40);
            for (int pass = 0; pass < 15 && !problem.any(); ++pass) {
                void *block = nullptr;
                std::size_t size = 0;
                for (int step = 0; step < 150; ++step) {
                    std::size_t wanted = step < 75 ? 8 + 8 * static_cast<std::size_t>(step)
                                                   : 8 + 8 * static_cast<std::size_t>(149 - step);
                    void *moved = mm_realloc(block, wanted);
                    auto good = IsGoodPayload(moved, wanted);
                    if (!good) {
                        problem.note(thread_name(thread) + ": mm_realloc(p, " + std::to_string(wanted) +
                                     "): " + good.message());
                        return;
                    }
                    std::size_t kept = size < wanted ? size : wanted;
                    if (!holds_pattern(moved, kept, seed)) {
                        problem.note(thread_name(thread) + ": mm_realloc from " + std::to_string(size) + " to " +
                                     std::to_string(wanted) + " bytes lost the first " + std::to_string(kept) +
                                     " bytes");
                        return;
                    }
                    fill_pattern(moved, wanted, seed);
                    block = moved;
                    size = wanted;
                }
                mm_free(block);
            }
        });
        EXPECT_EQ(problem.text(), "") << "4 threads grew and shrank blocks between 8 and 600 bytes";
        EXPECT_TRUE(HeapIsConsistent("reallocs across the cached sizes on 4 threads"));
    });
}

TEST_F(ThreadsHidden, AWorkerThreadForksWhileOthersAllocate) {
    expect_in_child([] {
        ASSERT_TRUE(HeapLockIsTaken());
        std::atomic<bool> stop{false};
        std::vector<std::thread> workers;
        for (int thread = 0; thread < 3; ++thread)
            workers.emplace_back([&, thread] {
                Random random(static_cast<unsigned>(thread + 7));
                void *blocks[8] = {};
                while (!stop) {
                    int slot = static_cast<int>(random.below(8));
                    mm_free(blocks[slot]);
                    blocks[slot] = mm_malloc(random.below(2) ? 500 + random.below(3000) : 1 + random.below(200));
                }
                for (void *p : blocks) mm_free(p);
            });
        int children_ok = 0;
        std::string failure;
        std::thread forker([&] {
            for (int i = 0; i < 10; ++i) {
                pid_t child = fork();
                if (child == 0) {
                    alarm(3 * slowdown());
                    void *blocks[40];
                    for (int b = 0; b < 40; ++b) blocks[b] = mm_malloc(static_cast<std::size_t>(8 + b * 100));
                    bool ok = true;
                    for (void *p : blocks) ok = ok && p != nullptr;
                    for (void *p : blocks) mm_free(p);
                    _exit(ok && mm_checkheap(0) == 1 ? 0 : 1);
                }
                int status = 0;
                if (child > 0 && waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0)
                    ++children_ok;
                else if (failure.empty())
                    failure = WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM
                                  ? "a child was still waiting for a lock after 3 seconds: do the pthread_atfork "
                                    "handlers take every lock before fork and release them in the child?"
                                  : "a child could not allocate, or its heap was inconsistent";
            }
        });
        forker.join();
        stop = true;
        for (std::thread &worker : workers) worker.join();
        EXPECT_EQ(children_ok, 10) << "10 children forked by a worker thread while 3 others allocated: " << failure;
    });
}

}  // namespace
