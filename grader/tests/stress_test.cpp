// `heaplab stress` as a user meets it: the verdict (naming the thread, its request and the
// problem), the throughput with 1 and 2 threads and their ratio, JSON, and exit statuses
// (0 every run passed, 1 the allocator was wrong, crashed or got stuck, 2 a usage problem).
#include "shell.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <string>

namespace {

using heaplab::testing::Outcome;
using heaplab::testing::shell;

Outcome stress(const std::string &args) { return shell(std::string(HEAPLAB_BIN) + " stress " + args); }

/// stdout only (stderr dropped): for --json.
Outcome stress_stdout(const std::string &args) {
    return shell(std::string(HEAPLAB_BIN) + " stress " + args + " 2>/dev/null");
}

bool contains(const std::string &text, const std::string &part) { return text.find(part) != std::string::npos; }

TEST(HeaplabStress, AOneLockAllocatorPassesWithOneAndTwoThreadsAndShowsTheRatio) {
    Outcome run = stress(std::string("--allocator ") + ONE_LOCK_PLUGIN + " --threads 1,2 --ops 4000 --runs 3");
    EXPECT_EQ(run.status, 0) << run.out;
    EXPECT_TRUE(contains(run.out, "stress mm_test_one_lock")) << run.out;
    EXPECT_TRUE(contains(run.out, "throughput with 2 threads / with 1: ")) << "the 1- vs 2-thread ratio:\n" << run.out;
    EXPECT_TRUE(contains(run.out, "medians of 3 timing runs")) << run.out;
    EXPECT_FALSE(contains(run.out, "FAIL")) << run.out;
}

TEST(HeaplabStress, JsonHasEveryThreadCountTheCrossThreadFreesAndTheRatio) {
    Outcome run = stress_stdout(std::string("--allocator ") + ONE_LOCK_PLUGIN + " --threads 1,2 --ops 3000 --runs 1 --json");
    ASSERT_EQ(run.status, 0) << run.out;
    nlohmann::json json = nlohmann::json::parse(run.out, nullptr, false);
    ASSERT_FALSE(json.is_discarded()) << "--json must print valid JSON, got:\n" << run.out;
    ASSERT_EQ(json.at("runs").size(), 2u) << run.out;
    const auto &two = json.at("runs").at(1);
    EXPECT_EQ(two.at("threads"), 2);
    EXPECT_TRUE(two.at("ok").get<bool>());
    EXPECT_GT(two.at("checked").at("cross_thread_frees").get<int>(), 0)
        << "with two threads, some blocks are freed by the thread that did not allocate them";
    EXPECT_EQ(two.at("checked").at("ops").get<int>(), 6000) << "--ops is per thread";
    EXPECT_GT(two.at("ops_per_second").get<double>(), 0.0);
    ASSERT_EQ(json.at("ratios").size(), 1u);
    EXPECT_GT(json.at("ratios").at(0).at("ratio").get<double>(), 0.0);
}

TEST(HeaplabStress, ACrossThreadFreeBugPassesAloneAndFailsWithTwoThreads) {
    Outcome alone = stress(std::string("--allocator ") + ARENA_FREE_PLUGIN + " --threads 1 --ops 5000 --no-time");
    EXPECT_EQ(alone.status, 0) << "within one thread the arenas are right:\n" << alone.out;
    Outcome two = stress(std::string("--allocator ") + ARENA_FREE_PLUGIN + " --threads 2 --ops 5000 --no-time");
    EXPECT_EQ(two.status, 1) << two.out;
    EXPECT_TRUE(contains(two.out, "FAIL with 2 threads")) << two.out;
    EXPECT_TRUE(contains(two.out, "overlap") || contains(two.out, "no longer held what was written"))
        << "the verdict names the problem: a block handed out twice\n"
        << two.out;
}

TEST(HeaplabStress, ADeadlockIsNamedWithWhereEachThreadWas) {
    auto started = std::chrono::steady_clock::now();
    Outcome run = stress(std::string("--allocator ") + RELOCK_PLUGIN + " --threads 2 --ops 2000 --timeout 2");
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    EXPECT_EQ(run.status, 1) << run.out;
    EXPECT_TRUE(contains(run.out, "did not finish: the stress run was still running after 2 s — a deadlock?"))
        << run.out;
    EXPECT_TRUE(contains(run.out, "in mm_realloc")) << "the thread that took the lock twice is named:\n" << run.out;
    EXPECT_LT(seconds, 15) << "the run is abandoned at its timeout";
}

TEST(HeaplabStress, InProcessADeadlockStillEndsWithAVerdict) {
    Outcome run = stress(std::string("--allocator ") + RELOCK_PLUGIN + " --threads 2 --ops 2000 --timeout 2 --in-process");
    EXPECT_EQ(run.status, 1) << run.out;
    EXPECT_TRUE(contains(run.out, "a deadlock?")) << run.out;
}

TEST(HeaplabStress, ACrashNamesTheThreadAndTheCall) {
    Outcome run = stress(std::string("--allocator ") + CRASH_PLUGIN + " --threads 2 --ops 100");
    EXPECT_EQ(run.status, 1) << run.out;
    EXPECT_TRUE(contains(run.out, "the stress run crashed with SIGILL")) << run.out;
    EXPECT_TRUE(contains(run.out, "FAIL with 2 threads: thread ")) << "the thread the signal hit:\n" << run.out;
    // The 50th mm_free: called by the driver, or by mm_realloc moving a block.
    EXPECT_TRUE(contains(run.out, "(in mm_free, ") || contains(run.out, "(in mm_realloc, "))
        << "and where it was:\n" << run.out;
}

TEST(HeaplabStress, AStageBeforeLab05GetsANoteAboutThreadSafety) {
    Outcome two = stress("--allocator 01-bump --threads 2 --ops 300 --no-time");
    EXPECT_TRUE(contains(two.out, "note: 01-bump is not thread-safe")) << two.out;
    EXPECT_TRUE(two.status == 0 || two.status == 1) << "it is run all the same:\n" << two.out;
    Outcome one = stress("--allocator 01-bump --threads 1 --ops 300 --no-time");
    EXPECT_EQ(one.status, 0) << one.out;
    EXPECT_FALSE(contains(one.out, "note:")) << "one thread is safe with any allocator:\n" << one.out;
}

TEST(HeaplabStress, BadArgumentsExit2WithAClearMessage) {
    std::string plugin = std::string(" --allocator ") + ONE_LOCK_PLUGIN;
    for (const std::string threads : {"0", "1,,2", "abc", "65", "2,"}) {
        Outcome run = stress(plugin + " --threads " + threads);
        EXPECT_EQ(run.status, 2) << "--threads " << threads << "\n" << run.out;
        EXPECT_TRUE(contains(run.out, "--threads: expected a thread count or a list such as 1,2 (each 1 to 64), got '" +
                                          threads + "'"))
            << run.out;
    }
    EXPECT_EQ(stress(plugin + " --ops 0").status, 2);
    EXPECT_EQ(stress(plugin + " --handoff 101").status, 2);
    EXPECT_EQ(stress(plugin + " --timeout -1").status, 2);
    Outcome alignment = stress(plugin + " --alignment 12");
    EXPECT_EQ(alignment.status, 2);
    EXPECT_TRUE(contains(alignment.out, "--alignment must be a power of two, got 12")) << alignment.out;
    Outcome missing = stress("--threads 2");
    EXPECT_EQ(missing.status, 2);
    EXPECT_TRUE(contains(missing.out, "--allocator is required")) << missing.out;
    Outcome unknown = stress("--allocator nosuch");
    EXPECT_EQ(unknown.status, 2);
    EXPECT_TRUE(contains(unknown.out, "unknown allocator 'nosuch'")) << unknown.out;
}

}  // namespace
