// run(): what the grader does with a misbehaving child.
#include "process.h"

#include <gtest/gtest.h>

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
