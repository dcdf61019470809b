/**
 * @file lab_testing.h
 * @brief What every lab's GoogleTest tests share: a fresh heap per test, and helpers whose
 *        failure messages tell a student what was expected and what came back.
 */
#ifndef HEAPLAB_LAB_TESTING_H
#define HEAPLAB_LAB_TESTING_H

#include "heaplab/memlib.h"
#include "heaplab/mm.h"

#include <gtest/gtest.h>

#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

/**
 * @brief The lab tests' toolkit: fixtures and assertions shared by every lab's tests, written
 *        so that a failure reads as advice to a student rather than as a bare comparison.
 */
namespace heaplab::testing {

/** @brief A test fixture: an empty simulated heap and a fresh mm_init() for every test. */
class FreshHeap : public ::testing::Test {
protected:
    /// Empties the heap and lifts any cap, so no test sees what the one before it left, then
    /// fails the test at once if mm_init() does (nothing after it could be meaningful).
    void SetUp() override {
        mem_reset();
        mem_set_cap(0);
        ASSERT_EQ(mm_init(), 0) << "mm_init() must return 0 on an empty heap";
    }
    /// Lifts the cap a test may have set to provoke `ENOMEM`, so the next test starts uncapped.
    void TearDown() override { mem_set_cap(0); }
};

/** @brief Where a pointer is, in words: "mem_heap_lo() + 48" or an absolute address. */
inline std::string where(const void *p) {
    auto address = reinterpret_cast<std::uintptr_t>(p);
    auto lo = reinterpret_cast<std::uintptr_t>(mem_heap_lo());
    std::ostringstream text;
    if (p == nullptr) {
        text << "NULL";
    } else if (address >= lo && address <= lo + mem_heapsize()) {
        text << "mem_heap_lo() + " << address - lo;
    } else {
        text << p << " (outside the heap)";
    }
    return text.str();
}

/** @brief Checks that [p, p + size) is a usable payload: not NULL, aligned, inside the heap. */
inline ::testing::AssertionResult IsGoodPayload(const void *p, std::size_t size, std::size_t alignment = 16) {
    if (p == nullptr) return ::testing::AssertionFailure() << "expected a payload of " << size << " bytes, got NULL";
    auto address = reinterpret_cast<std::uintptr_t>(p);
    if (address % alignment != 0)
        return ::testing::AssertionFailure() << "the payload at " << where(p) << " is not " << alignment
                                             << "-byte aligned (address % " << alignment << " = " << address % alignment
                                             << ")";
    auto lo = reinterpret_cast<std::uintptr_t>(mem_heap_lo());
    auto end = lo + mem_heapsize();
    if (address < lo || address > end)
        return ::testing::AssertionFailure() << "the payload at " << where(p)
                                             << " is not inside the heap: it must come from mem_sbrk";
    if (address + size > end)
        return ::testing::AssertionFailure() << "the payload of " << size << " bytes at " << where(p) << " ends "
                                             << address + size - end
                                             << " bytes past the break: the block is smaller than asked (is the "
                                                "header counted in what you ask mem_sbrk for?)";
    return ::testing::AssertionSuccess();
}

/** @brief Fills @p size bytes with a pattern that depends on @p seed. */
inline void fill_pattern(void *p, std::size_t size, unsigned seed) {
    auto *bytes = static_cast<unsigned char *>(p);
    for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<unsigned char>(seed * 131 + i * 7 + 1);
}

/** @brief Checks that the first @p size bytes still hold fill_pattern(seed). */
inline ::testing::AssertionResult HoldsPattern(const void *p, std::size_t size, unsigned seed) {
    auto *bytes = static_cast<const unsigned char *>(p);
    for (std::size_t i = 0; i < size; ++i) {
        auto expected = static_cast<unsigned char>(seed * 131 + i * 7 + 1);
        if (bytes[i] != expected)
            return ::testing::AssertionFailure() << "byte " << i << " of the block at " << where(p) << " is "
                                                 << static_cast<unsigned>(bytes[i]) << ", expected "
                                                 << static_cast<unsigned>(expected)
                                                 << ": something overwrote the block, or did not copy it";
    }
    return ::testing::AssertionSuccess();
}

/** @brief Seconds a test may run before the watchdog ends it: the lab tests take milliseconds. */
constexpr unsigned kWatchdogSeconds = 2;

/// Not for tests to use: the watchdog's state and signal handler.
namespace detail {
/// What the watchdog's message suggests; set by the running test's fixture.
inline const char *watchdog_hint = "";

/// The SIGALRM handler: names the running test and the likely cause, then ends the process
/// with _exit() (a stuck test cannot be unwound, and GoogleTest cannot report it otherwise).
inline void on_watchdog(int) {
    const ::testing::TestInfo *test = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = test == nullptr ? "a test" : std::string(test->test_suite_name()) + "." + test->name();
    std::fflush(stdout);
    std::fprintf(stderr,
                 "\n%s did not finish within %u seconds: your allocator is probably stuck in a loop. A block of "
                 "size 0 is its own next block, so a walk over the heap never ends: %s\n[  FAILED  ] %s (watchdog)\n",
                 name.c_str(), kWatchdogSeconds, watchdog_hint, name.c_str());
    std::fflush(stderr);
    _exit(1);
}
}  // namespace detail

/**
 * @brief A fresh heap under a watchdog: a test that never ends (a heap walk stuck on a block
 *        of size 0) fails with a message saying so, instead of holding up every test after it.
 */
class WatchedHeap : public FreshHeap {
protected:
    /// @p hint: the lab's likeliest cause of an endless walk, ending the watchdog's message.
    explicit WatchedHeap(const char *hint) : hint_(hint) {}
    /// Arms the watchdog before the fresh heap, so even a hanging mm_init() is caught.
    void SetUp() override {
        detail::watchdog_hint = hint_;
        std::signal(SIGALRM, detail::on_watchdog);
        alarm(kWatchdogSeconds);
        FreshHeap::SetUp();
    }
    /// Disarms the watchdog: the test finished in time.
    void TearDown() override {
        FreshHeap::TearDown();
        alarm(0);
    }

private:
    const char *hint_;
};

/** @brief The outcome of mm_checkheap(0) run in a child process with a time limit: 1, 0, or what went wrong. */
struct CheckheapRun {
    int result = -1;    ///< what mm_checkheap returned (when it returned)
    std::string error;  ///< empty when it returned
};

/**
 * @brief Runs mm_checkheap(0) in a child process, so that a checker that walks forever or
 *        crashes on a corrupted heap fails its own test instead of taking the others down.
 */
inline CheckheapRun run_checkheap(unsigned seconds = 1) {
    std::fflush(stdout);
    std::fflush(stderr);
    pid_t child = fork();
    if (child == 0) {
        std::signal(SIGALRM, SIG_DFL);  // not the watchdog: a checker that hangs is killed by the alarm
        alarm(seconds);
        int result = mm_checkheap(0);
        std::fflush(stdout);
        std::fflush(stderr);
        _exit(result == 1 ? 1 : result == 0 ? 0 : 2);
    }
    CheckheapRun run;
    int status = 0;
    if (child < 0 || waitpid(child, &status, 0) != child) {
        run.error = "could not run mm_checkheap in a child process";
    } else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM) {
        run.error = "mm_checkheap did not return within " + std::to_string(seconds) +
                    " seconds: does it walk forever? (a block of size 0 is its own next block)";
    } else if (WIFSIGNALED(status)) {
        run.error = std::string("mm_checkheap crashed (") + strsignal(WTERMSIG(status)) +
                    "): did it follow a corrupted size past the break? Check each size before you use it";
    } else if (WEXITSTATUS(status) == 2) {
        run.error = "mm_checkheap returned neither 0 nor 1";
    } else {
        run.result = WEXITSTATUS(status);
    }
    return run;
}

/** @brief How a test body run by run_in_child() ended. */
struct ChildRun {
    bool passed = false;     ///< the child exited 0: it ran to the end and no assertion failed in it
    bool failed = false;     ///< the child exited 1: an assertion failed in it (its message is printed above)
    bool timed_out = false;  ///< the child was still running after its time limit, and was killed
    int signal = 0;          ///< the signal that ended the child otherwise (a crash), 0 if none
    std::string error;       ///< what went wrong when the child could not be run at all
};

/**
 * @brief Runs @p body in a child process (fork) that may run @p seconds at most, and says how it
 *        ended.
 *
 * For tests whose failure may be a crash or a hang — threads sharing a heap that is not locked,
 * a child of fork() waiting for a lock nobody will release. The child has a copy of the heap
 * (mm_init as the fixture left it), runs @p body, and exits 0 when no assertion failed in it, 1
 * otherwise; GoogleTest prints the child's failures as they happen. An alarm kills a child that
 * is still running after @p seconds. The test process itself never hangs and never crashes,
 * so every test after this one still runs.
 */
template <typename Body>
ChildRun run_in_child(unsigned seconds, Body body) {
    std::fflush(stdout);
    std::fflush(stderr);
    pid_t child = fork();
    if (child == 0) {
        std::signal(SIGALRM, SIG_DFL);  // not the watchdog's handler: the alarm ends the child
        alarm(seconds);
        body();
        std::fflush(stdout);
        std::fflush(stderr);
        _exit(::testing::Test::HasFailure() ? 1 : 0);
    }
    ChildRun run;
    int status = 0;
    if (child < 0 || waitpid(child, &status, 0) != child) {
        run.error = "could not run the test in a child process (fork or waitpid failed)";
    } else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM) {
        run.timed_out = true;
    } else if (WIFSIGNALED(status)) {
        run.signal = WTERMSIG(status);
    } else if (WEXITSTATUS(status) == 0) {
        run.passed = true;
    } else {
        run.failed = true;
    }
    return run;
}

/**
 * @brief run_in_child() as an assertion: passes when the child passed; otherwise says how it
 *        ended, with @p on_hang after a time-out and @p on_crash after a crash (what the test
 *        suspects: they end the message a student reads).
 */
template <typename Body>
::testing::AssertionResult PassesInChild(unsigned seconds, const std::string &on_hang, const std::string &on_crash,
                                         Body body) {
    ChildRun run = run_in_child(seconds, body);
    if (run.passed) return ::testing::AssertionSuccess();
    if (!run.error.empty()) return ::testing::AssertionFailure() << run.error;
    if (run.failed)
        return ::testing::AssertionFailure() << "the test's child process reported the failures printed above";
    if (run.timed_out)
        return ::testing::AssertionFailure() << "the test did not finish within " << seconds
                                             << " seconds (its child process was killed): " << on_hang;
    return ::testing::AssertionFailure() << "the test's child process crashed (" << strsignal(run.signal)
                                         << "): " << on_crash;
}

/** @brief mm_checkheap must find the heap consistent; @p picture draws the heap for the message. */
inline ::testing::AssertionResult CheckheapAccepts(std::string (*picture)()) {
    CheckheapRun run = run_checkheap();
    if (!run.error.empty()) return ::testing::AssertionFailure() << run.error << "; the heap: " << picture();
    if (run.result != 1)
        return ::testing::AssertionFailure() << "mm_checkheap returned 0 on a healthy heap (its message is above); "
                                             << "the heap: " << picture();
    return ::testing::AssertionSuccess();
}

/** @brief mm_checkheap must notice what the test broke: @p damage says what, for the message. */
inline ::testing::AssertionResult CheckheapRejects(const std::string &damage) {
    CheckheapRun run = run_checkheap();
    if (!run.error.empty()) return ::testing::AssertionFailure() << run.error << " (the heap had " << damage << ")";
    if (run.result != 0)
        return ::testing::AssertionFailure() << "mm_checkheap returned 1, but the heap has " << damage
                                             << ": mm_checkheap must return 0 and say what is wrong";
    return ::testing::AssertionSuccess();
}

}  // namespace heaplab::testing

#endif  // HEAPLAB_LAB_TESTING_H
