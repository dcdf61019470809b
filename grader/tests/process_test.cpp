// run(): what the grader does with a misbehaving child.
#include "process.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>
#include <unistd.h>

namespace {

using heaplab::run;
using heaplab::RunLimits;

TEST(Run, CapturesOutputAndExitStatus) {
    auto result = run({"sh", "-c", "echo out; echo err >&2; exit 3"}, RunLimits{});
    EXPECT_EQ(result.exit_code, 3);
    EXPECT_NE(result.output.find("out"), std::string::npos);
    EXPECT_NE(result.output.find("err"), std::string::npos) << "stderr is captured too";
    EXPECT_FALSE(result.ok());
}

TEST(Run, KillsTheWholeGroupAtTheTimeLimit) {
    RunLimits limits;
    limits.seconds = 0.5;
    // The shell leaves a grandchild sleeping with the pipe open: it must die with the group.
    auto result = run({"sh", "-c", "sleep 30 & sleep 30"}, limits);
    EXPECT_TRUE(result.timed_out);
    EXPECT_LT(result.seconds, 5.0) << "run() must not wait for the grandchild";
    EXPECT_NE(result.describe(0.5).find("timed out after 0.5 s"), std::string::npos);
}

TEST(Run, CutsAFloodOfOutput) {
    RunLimits limits;
    limits.output_limit = 1000;
    auto result = run({"sh", "-c", "yes flood | head -c 5000000"}, limits);
    EXPECT_TRUE(result.ok());
    EXPECT_GT(result.output_dropped, 4000000u);
    EXPECT_LT(result.output.size(), 1200u);
    EXPECT_NE(result.output.find("more bytes of output cut by the grader"), std::string::npos);
}

TEST(Run, ReportsTheSignalThatKilledIt) {
    auto result = run({"sh", "-c", "kill -SEGV $$"}, RunLimits{});
    EXPECT_EQ(result.signal, SIGSEGV);
    EXPECT_NE(result.describe(10).find("SIGSEGV"), std::string::npos) << result.describe(10);
}

TEST(Run, LimitsFileSize) {
    RunLimits limits;
    limits.file_size_limit = 4096;
    auto dir = testing::TempDir();
    auto result = run({"sh", "-c", "head -c 100000 /dev/zero > " + dir + "/heaplab_big_file"}, limits);
    EXPECT_FALSE(result.ok()) << "writing past RLIMIT_FSIZE must fail";
    std::remove((dir + "/heaplab_big_file").c_str());
}

}  // namespace

namespace {

using heaplab::Sandbox;

class Sandboxed : public ::testing::Test {
protected:
    void SetUp() override {
        if (!heaplab::bubblewrap_works()) GTEST_SKIP() << "bubblewrap cannot run here";
        dir_ = std::filesystem::temp_directory_path() / ("heaplab_sandbox_" + std::to_string(getpid()));
        std::filesystem::create_directories(dir_ / "scratch");
        std::filesystem::create_directories(dir_ / "hidden");
        std::ofstream(dir_ / "hidden" / "secret_test.cpp") << "the hidden tests\n";
        limits_.sandbox.enabled = true;
        limits_.sandbox.writable = {(dir_ / "scratch").string()};
        limits_.sandbox.hidden = {(dir_ / "hidden").string()};
        limits_.seconds = 10;
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }
    std::filesystem::path dir_;
    RunLimits limits_;
};

TEST_F(Sandboxed, WritesOnlyInsideTheScratchFolder) {
    auto inside = run({"sh", "-c", "echo ok > " + (dir_ / "scratch" / "file").string()}, limits_);
    EXPECT_TRUE(inside.ok()) << inside.output;
    auto outside = run({"sh", "-c", "echo escaped > " + (dir_ / "outside").string()}, limits_);
    EXPECT_FALSE(outside.ok());
    EXPECT_FALSE(std::filesystem::exists(dir_ / "outside")) << "a sandboxed process wrote outside its scratch folder";
}

TEST_F(Sandboxed, CannotReadTheHiddenTests) {
    auto result = run({"cat", (dir_ / "hidden" / "secret_test.cpp").string()}, limits_);
    EXPECT_FALSE(result.ok());
    EXPECT_EQ(result.output.find("the hidden tests"), std::string::npos) << result.output;
}

TEST_F(Sandboxed, HasNoNetwork) {
    // In its own network namespace a process sees only a loopback interface.
    auto result = run({"cat", "/proc/net/dev"}, limits_);
    ASSERT_TRUE(result.ok()) << result.output;
    EXPECT_NE(result.output.find("lo:"), std::string::npos) << result.output;
    EXPECT_EQ(result.output.find("eth"), std::string::npos) << "the sandbox must have no network: " << result.output;
}

TEST_F(Sandboxed, ChildrenDieWithTheTimeout) {
    limits_.seconds = 1;
    std::string marker = (dir_ / "scratch" / "still-alive").string();
    // Many children that would write a marker after the time limit, if they survived it.
    auto result = run({"sh", "-c", "for i in $(seq 50); do (sleep 3; touch " + marker + ") & done; sleep 30"}, limits_);
    EXPECT_TRUE(result.timed_out);
    std::this_thread::sleep_for(std::chrono::seconds(4));
    EXPECT_FALSE(std::filesystem::exists(marker)) << "a child outlived the time limit";
}

}  // namespace

namespace {
TEST(SandboxedRun, ReportsTheSignalThroughBubblewrap) {
    if (!heaplab::bubblewrap_works()) GTEST_SKIP() << "bubblewrap cannot run here";
    heaplab::RunLimits limits;
    limits.sandbox.enabled = true;
    auto result = heaplab::run({"sh", "-c", "kill -SEGV $$"}, limits);
    EXPECT_EQ(result.signal, SIGSEGV) << result.describe(10);
}
}  // namespace

// The process cap (Sandbox::max_processes). RLIMIT_NPROC does not bind root, so a grader running
// as root needs a pids cgroup; this proves the cap holds with whatever this machine offers, and
// is skipped, saying why, where it offers nothing. The "fork bomb" is bounded (200 children that
// sleep), so that a broken cap cannot take the machine down while the test finds out.
namespace {

std::size_t lines_in(const std::filesystem::path &file) {
    std::ifstream in(file);
    std::size_t count = 0;
    for (std::string line; std::getline(in, line);) ++count;
    return count;
}

std::string cap_name(heaplab::ProcessCap cap) {
    switch (cap) {
    case heaplab::ProcessCap::pids_cgroup: return "a pids cgroup";
    case heaplab::ProcessCap::rlimit_nproc: return "RLIMIT_NPROC";
    case heaplab::ProcessCap::none: break;
    }
    return "nothing";
}

class ProcessCapped : public ::testing::TestWithParam<bool> {
protected:
    void SetUp() override {
        limits_.sandbox.max_processes = 32;
        limits_.sandbox.enabled = GetParam();
        if (GetParam() && !heaplab::bubblewrap_works()) GTEST_SKIP() << "bubblewrap cannot run here";
        cap_ = heaplab::process_cap(limits_.sandbox);
        if (cap_ == heaplab::ProcessCap::none)
            GTEST_SKIP() << "no way to cap processes here: running as root (RLIMIT_NPROC does not bind root) and no "
                            "pids cgroup can be made; the grader then says so in its isolation line";
        dir_ = std::filesystem::temp_directory_path() / ("heaplab_cap_" + std::to_string(getpid()));
        std::filesystem::create_directories(dir_);
        if (GetParam()) limits_.sandbox.writable = {dir_.string()};
        limits_.seconds = 20;
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }
    heaplab::RunLimits limits_;
    heaplab::ProcessCap cap_ = heaplab::ProcessCap::none;
    std::filesystem::path dir_;
};

TEST_P(ProcessCapped, AForkingRunGetsNoMoreProcessesThanItsCap) {
    std::string started = (dir_ / "started").string();
    auto result = run({"sh", "-c", "for i in $(seq 200); do sleep 30 >/dev/null 2>&1 & echo $! >> " + started +
                                       "; done; echo all 200 started"},
                      limits_);
    std::size_t children = lines_in(started);
    EXPECT_FALSE(result.timed_out) << "the shell must end when its forks fail: " << result.describe(20);
    EXPECT_LT(children, 32u) << "with a cap of 32 processes (by " << cap_name(cap_) << "), " << children
                             << " children were started:\n" << result.output;
    EXPECT_GT(children, 5u) << "the cap must leave room for a few processes:\n" << result.output;
    EXPECT_EQ(result.output.find("all 200 started"), std::string::npos) << result.output;
    EXPECT_NE(result.output.find("fork"), std::string::npos) << "the shell says it cannot fork:\n" << result.output;
}

TEST_P(ProcessCapped, NothingOfTheRunOutlivesIt) {
    if (cap_ != heaplab::ProcessCap::pids_cgroup) GTEST_SKIP() << "only a cgroup finds a child that left the process group";
    std::string marker = (dir_ / "escaped").string();
    // A child in a session (and process group) of its own, which the group kill cannot reach.
    auto result = run({"sh", "-c", "setsid sh -c 'sleep 2; touch " + marker + "' >/dev/null 2>&1 & echo started"}, limits_);
    EXPECT_TRUE(result.ok()) << result.output;
    std::this_thread::sleep_for(std::chrono::seconds(3));
    EXPECT_FALSE(std::filesystem::exists(marker)) << "a child that left the process group outlived the run";
    // And the run's cgroup is gone.
    for (const char *parent : {"/sys/fs/cgroup/pids", "/sys/fs/cgroup", "/sys/fs/cgroup/unified"}) {
        std::error_code error;
        for (const auto &entry : std::filesystem::directory_iterator(parent, error))
            EXPECT_FALSE(entry.path().filename().string().starts_with("heaplab-" + std::to_string(getpid()) + "-"))
                << entry.path() << " was left behind";
    }
}

INSTANTIATE_TEST_SUITE_P(Sandbox, ProcessCapped, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool> &info) { return info.param ? "Bubblewrap" : "Plain"; });

}  // namespace
