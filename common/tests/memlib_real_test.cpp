// Tests of the real break (memlib_real.cpp). The program break is one per process and glibc's
// malloc moves it too, so every test runs in a forked child (a death test that expects exit
// code 0) that first tells glibc to keep off the break: its requests go to mmap, and it never
// trims. Inside the child, failures are reported with a message and a non-zero exit.
#include "heaplab/memlib.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdio>
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <malloc.h>
#include <sys/resource.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

void *const kFailed = reinterpret_cast<void *>(-1);

[[noreturn]] void child_fails(const char *what) {
    std::fprintf(stderr, "%s\n", what);
    std::_Exit(1);
}

void keep_glibc_off_the_break() {
    mallopt(M_MMAP_THRESHOLD, 0);
    mallopt(M_TRIM_THRESHOLD, INT32_MAX);
}

void grows_the_real_break() {
    keep_glibc_off_the_break();
    char *start = static_cast<char *>(sbrk(0));
    void *old = mem_sbrk(4096);
    if (old != mem_heap_lo()) child_fails("the first mem_sbrk must return the start of the heap");
    auto *lo = static_cast<char *>(mem_heap_lo());
    if (reinterpret_cast<std::uintptr_t>(lo) % 16 != 0) child_fails("the heap must start 16-byte aligned");
    if (lo < start || lo - start >= 16) child_fails("the heap must start at the break, aligned up");
    if (sbrk(0) != lo + 4096) child_fails("the real break must move by 4096");
    start = lo;
    if (mem_heapsize() != 4096) child_fails("mem_heapsize must be 4096");
    static_cast<char *>(old)[4095] = 1;
    if (mem_sbrk(-4096) != static_cast<char *>(start) + 4096) child_fails("shrinking must return the old break");
    if (sbrk(0) != start) child_fails("shrinking must move the real break back");
    if (mem_is_simulated()) child_fails("the real backend must say it is not simulated");
    std::_Exit(0);
}

TEST(RealBreak, GrowsAndShrinksTheProcessBreak) {
    EXPECT_EXIT(grows_the_real_break(), ::testing::ExitedWithCode(0), "");
}

void survives_a_foreign_brk_user() {
    keep_glibc_off_the_break();
    if (mem_sbrk(4096) == kFailed) child_fails("the first mem_sbrk must succeed");
    void *hi = mem_heap_hi();
    if (sbrk(8192) == kFailed) child_fails("the foreign sbrk failed");  // someone else moves it
    errno = 0;
    if (mem_sbrk(4096) != kFailed) child_fails("growing after a foreign brk must fail, not hand out a gap");
    if (errno != ENOMEM) child_fails("the failure must set errno to ENOMEM");
    if (mem_heap_hi() != hi) child_fails("a foreign brk user must not change mem_heap_hi");
    if (mem_heapsize() != 4096) child_fails("a foreign brk user must not change mem_heapsize");
    if (mem_sbrk(-4096) != kFailed) child_fails("shrinking must not give away the foreign memory");
    sbrk(-8192);  // the foreign user gives its memory back: the heap can grow again
    if (mem_sbrk(4096) == kFailed) child_fails("growing must work again once the break is back");
    std::_Exit(0);
}

TEST(RealBreak, AForeignBrkUserDoesNotCorruptTheBounds) {
    EXPECT_EXIT(survives_a_foreign_brk_user(), ::testing::ExitedWithCode(0), "");
}

void reports_brk_failure() {
    keep_glibc_off_the_break();
    if (mem_sbrk(4096) == kFailed) child_fails("the first mem_sbrk must succeed");
    rlimit limit{};
    getrlimit(RLIMIT_DATA, &limit);
    limit.rlim_cur = 64 << 20;  // brk cannot grow the data segment past 64 MiB now
    if (setrlimit(RLIMIT_DATA, &limit) != 0) child_fails("setrlimit failed");
    errno = 0;
    if (mem_sbrk(intptr_t{1} << 30) != kFailed) child_fails("a 1 GiB mem_sbrk must fail under a 64 MiB limit");
    if (errno != ENOMEM) child_fails("brk failure must give ENOMEM");
    if (mem_heapsize() != 4096) child_fails("a failed mem_sbrk must change nothing");
    if (mem_sbrk(4096) == kFailed) child_fails("a small mem_sbrk must still work");
    std::_Exit(0);
}

TEST(RealBreak, BrkFailureGivesEnomem) {
    EXPECT_EXIT(reports_brk_failure(), ::testing::ExitedWithCode(0), "");
}

void threads_get_disjoint_memory() {
    keep_glibc_off_the_break();
    constexpr int kThreads = 4, kCalls = 2000, kSize = 48;
    std::vector<std::vector<char *>> got(kThreads);
    for (auto &v : got) v.reserve(kCalls);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
        threads.emplace_back([&got, t] {
            for (int i = 0; i < kCalls; ++i) got[t].push_back(static_cast<char *>(mem_sbrk(kSize)));
        });
    for (auto &thread : threads) thread.join();
    std::vector<char *> all;
    for (auto &v : got) all.insert(all.end(), v.begin(), v.end());
    std::sort(all.begin(), all.end());
    for (std::size_t i = 0; i < all.size(); ++i) {
        if (all[i] == kFailed) child_fails("a concurrent mem_sbrk failed");
        if (i > 0 && all[i] - all[i - 1] != kSize) child_fails("two threads got overlapping or scattered memory");
    }
    if (mem_heapsize() != std::size_t{kThreads} * kCalls * kSize) child_fails("the heap size is wrong");
    std::_Exit(0);
}

TEST(RealBreak, ConcurrentCallsGetDisjointMemory) {
    EXPECT_EXIT(threads_get_disjoint_memory(), ::testing::ExitedWithCode(0), "");
}

}  // namespace
