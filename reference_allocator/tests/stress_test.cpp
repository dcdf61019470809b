// Multi-threaded stress of the reference in this process, through mm.h over the simulated
// break: threads allocate, fill, check and free their own blocks and each other's (handed
// over through mailboxes), with realloc in between; then fork() while they run. The heap
// checker must be happy at the end. The same binary is built with ThreadSanitizer
// (reference_stress_tsan) to prove the locking, not just the outcome.
#include "heaplab/memlib.h"
#include "heaplab/mm.h"

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

namespace {

struct Item {
    unsigned char *p;
    std::size_t n;
    unsigned char seed;
};

void fill(const Item &it) {
    for (std::size_t i = 0; i < it.n; ++i) it.p[i] = static_cast<unsigned char>(it.seed + i);
}
bool intact(const Item &it, std::size_t n) {
    for (std::size_t i = 0; i < n && i < it.n; ++i)
        if (it.p[i] != static_cast<unsigned char>(it.seed + i)) return false;
    return true;
}

struct Mailbox {
    std::mutex m;
    std::vector<Item> items;
};

/// Rounds per thread: HEAPLAB_STRESS_ROUNDS in the environment (Memcheck runs fewer).
int rounds() {
    const char *env = std::getenv("HEAPLAB_STRESS_ROUNDS");
    return env != nullptr ? std::atoi(env) : 60000;
}

void worker(int me, int threads, std::vector<Mailbox> &boxes, std::atomic<int> &bad) {
    std::uint64_t s = 0x9E3779B97F4A7C15ULL * static_cast<std::uint64_t>(me + 7);
    auto rnd = [&s] {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        return s;
    };
    std::vector<Item> mine;
    const int total = rounds();
    for (int round = 0; round < total; ++round) {
        std::uint64_t x = rnd();
        if (mine.empty() || x % 5 < 3) {
            std::size_t n = x % 16 == 0 ? (x >> 8) % 20000 : (x >> 8) % 300;
            auto *p = static_cast<unsigned char *>(x % 7 == 0 ? mm_calloc(1, n) : mm_malloc(n));
            if (p == nullptr) {
                ++bad;
                continue;
            }
            if (x % 7 == 0)
                for (std::size_t i = 0; i < n; ++i)
                    if (p[i] != 0) ++bad;
            Item it{p, n, static_cast<unsigned char>(x >> 32)};
            fill(it);
            mine.push_back(it);
        } else {
            std::size_t at = (x >> 16) % mine.size();
            Item it = mine[at];
            mine[at] = mine.back();
            mine.pop_back();
            if (!intact(it, it.n)) ++bad;
            if (x % 3 == 0) {
                Mailbox &b = boxes[static_cast<std::size_t>((me + 1) % threads)];
                std::lock_guard g(b.m);
                b.items.push_back(it);
            } else if (x % 5 == 0) {
                std::size_t n = (x >> 24) % 3000 + 1;
                auto *q = static_cast<unsigned char *>(mm_realloc(it.p, n));
                Item moved{q, it.n, it.seed};
                if (q == nullptr || !intact(moved, n)) ++bad;
                Item grown{q, n, static_cast<unsigned char>(x >> 40)};
                fill(grown);
                mine.push_back(grown);
            } else {
                mm_free(it.p);
            }
        }
        if (round % 50 == 0) {
            std::vector<Item> got;
            {
                std::lock_guard g(boxes[static_cast<std::size_t>(me)].m);
                got.swap(boxes[static_cast<std::size_t>(me)].items);
            }
            for (const Item &it : got) {
                if (!intact(it, it.n)) ++bad;
                mm_free(it.p);
            }
        }
        if (mine.size() > 2000) {
            for (const Item &it : mine) mm_free(it.p);
            mine.clear();
        }
    }
    for (const Item &it : mine) {
        if (!intact(it, it.n)) ++bad;
        mm_free(it.p);
    }
}

class Stress : public ::testing::Test {
protected:
    void SetUp() override {
        mem_reset();
        ASSERT_EQ(mm_init(), 0);
    }
};

TEST_F(Stress, ThreadsFreeTheirOwnAndEachOthersBlocks) {
    constexpr int kThreads = 4;
    std::vector<Mailbox> boxes(kThreads);
    std::atomic<int> bad{0};
    std::vector<std::thread> ts;
    for (int i = 0; i < kThreads; ++i) ts.emplace_back(worker, i, kThreads, std::ref(boxes), std::ref(bad));
    for (auto &t : ts) t.join();
    for (auto &b : boxes)
        for (const Item &it : b.items) {
            if (!intact(it, it.n)) ++bad;
            mm_free(it.p);
        }
    EXPECT_EQ(bad.load(), 0);
    EXPECT_NE(mm_checkheap(0), 0);
}

TEST_F(Stress, ForkWhileOtherThreadsAllocate) {
    std::atomic<bool> stop{false};
    std::atomic<int> bad{0};
    auto churn = [&stop, &bad] {
        std::vector<void *> v;
        while (!stop.load()) {
            for (int i = 0; i < 50; ++i) {
                void *p = mm_malloc(static_cast<std::size_t>(i * 37 % 2000));
                if (p == nullptr) ++bad;
                v.push_back(p);
            }
            for (void *p : v) mm_free(p);
            v.clear();
        }
    };
    std::thread a(churn), b(churn);
    for (int i = 0; i < 30; ++i) {
        pid_t pid = fork();
        if (pid == 0) {
            // Only this thread exists here; it must find every lock released.
            std::vector<void *> v;
            for (int j = 0; j < 500; ++j) v.push_back(mm_malloc(static_cast<std::size_t>(j)));
            for (void *p : v) mm_free(p);
            _exit(mm_checkheap(0) != 0 ? 0 : 3);
        }
        int status = 0;
        ASSERT_EQ(waitpid(pid, &status, 0), pid);
        EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
    }
    stop = true;
    a.join();
    b.join();
    EXPECT_EQ(bad.load(), 0);
    EXPECT_NE(mm_checkheap(0), 0);
}

}  // namespace
