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
