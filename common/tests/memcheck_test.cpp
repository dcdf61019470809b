// Memcheck sees the simulated heap as the design says: memory the break uncovers is undefined,
// memory outside the break is no-access. Each test runs memcheck_probe under Valgrind.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <string>
#include <sys/wait.h>

namespace {

struct Outcome {
    int exit_code = -1;
    std::string output;
};

Outcome run_under_memcheck(const std::string &mode) {
    std::string command = std::string(VALGRIND_EXECUTABLE) +
                          " --error-exitcode=99 --quiet " PROBE_PATH " " + mode + " 2>&1";
    Outcome outcome;
    FILE *pipe = popen(command.c_str(), "r");
    if (pipe == nullptr) return outcome;
    std::array<char, 4096> buffer{};
    while (std::fgets(buffer.data(), buffer.size(), pipe) != nullptr) outcome.output += buffer.data();
    int status = pclose(pipe);
    outcome.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return outcome;
}

TEST(Memcheck, ReportsAReadOfNeverWrittenHeapMemory) {
    Outcome outcome = run_under_memcheck("uninit");
    EXPECT_EQ(outcome.exit_code, 99) << "Memcheck must flag a branch on never-written heap memory; it said:\n"
                                     << outcome.output;
    EXPECT_NE(outcome.output.find("uninitialised"), std::string::npos) << outcome.output;
    EXPECT_NE(outcome.output.find("memcheck_probe.cpp"), std::string::npos)
        << "the report must name the probe's line:\n" << outcome.output;
}

TEST(Memcheck, IsQuietWhenMemoryWasWrittenFirst) {
    Outcome outcome = run_under_memcheck("written");
    EXPECT_EQ(outcome.exit_code, 0) << "written memory must read clean; Memcheck said:\n" << outcome.output;
}

TEST(Memcheck, ReportsAnAccessPastTheBreakToTheByte) {
    Outcome outcome = run_under_memcheck("past-break");
    EXPECT_EQ(outcome.exit_code, 99) << "a write one byte past the break must be reported:\n" << outcome.output;
    EXPECT_NE(outcome.output.find("Invalid write"), std::string::npos) << outcome.output;
}

TEST(Memcheck, ReportsAReadOfMemoryGivenBack) {
    Outcome outcome = run_under_memcheck("shrunk");
    EXPECT_EQ(outcome.exit_code, 99) << "a read above a shrunk break must be reported:\n" << outcome.output;
    EXPECT_NE(outcome.output.find("Invalid read"), std::string::npos) << outcome.output;
}

}  // namespace
