// `heaplab release`: the student repository is built from scratch, `heaplab check` works in it
// (low score on the skeleton, full public score with the solution), and nothing of the
// solutions, the hidden tests or the reference allocator's source is anywhere in it.
#include "shell.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

namespace {

namespace fs = std::filesystem;
using heaplab::testing::read;
using heaplab::testing::shell;


class Release : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        out_ = fs::temp_directory_path() / ("heaplab_release_" + std::to_string(getpid()));
        fs::remove_all(out_);
        // -O1 without debug information: the same sources and CMake files as the students'
        // RelWithDebInfo build, in 100 s instead of 180 s (CLI11 and std::regex make -O2 -g
        // costly); `heaplab check` runs as fast either way.
        built_ = shell(std::string(HEAPLAB_BIN) + " release --out " + out_.string(), &log_) == 0 &&
                 shell("cmake -S " + out_.string() + " -B " + (out_ / "build").string() +
                           " -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE=-O1 -DCMAKE_C_FLAGS_RELEASE=-O1"
                           " > /dev/null && cmake --build " +
                           (out_ / "build").string() + " -j2 --target heaplab",
                       &log_) == 0;
    }
    static void TearDownTestSuite() { fs::remove_all(out_); }
    static fs::path out_;
    static bool built_;
    static std::string log_;
};

fs::path Release::out_;
bool Release::built_ = false;
std::string Release::log_;

TEST_F(Release, HoldsNoSolutionHiddenTestOrReferenceSource) {
    ASSERT_TRUE(fs::exists(out_ / "labs" / "01-bump" / "mm.cpp")) << log_;
    EXPECT_FALSE(fs::exists(out_ / "solutions"));
    EXPECT_FALSE(fs::exists(out_ / "grader" / "hidden"));
    EXPECT_FALSE(fs::exists(out_ / "reference_allocator"));
    EXPECT_FALSE(fs::exists(out_ / "labs" / "classic")) << "the classic lab is an instructors' tool";
    // Every file of the instructors' secret folders, by content.
    std::set<std::string> secret;
    for (const char *dir : {"solutions", "grader/hidden", "reference_allocator"}) {
        std::error_code error;
        for (const auto &entry : fs::recursive_directory_iterator(fs::path(SOURCE_DIR) / dir, error))
            if (entry.is_regular_file() && entry.file_size() > 200) secret.insert(read(entry.path()));
    }
    ASSERT_FALSE(secret.empty());
    for (const auto &entry : fs::recursive_directory_iterator(out_)) {
        if (!entry.is_regular_file() || entry.path().string().find("/build/") != std::string::npos) continue;
        std::string text = read(entry.path());
        EXPECT_FALSE(secret.contains(text)) << entry.path() << " is a copy of a solution, hidden test or reference file";
        std::istringstream lines(text);
        for (std::string line; std::getline(lines, line);) {
            std::size_t start = line.find_first_not_of(" \t");
            ASSERT_FALSE(start != std::string::npos && line.substr(start).rfind("// BEGIN SOLUTION", 0) == 0 &&
                         line.substr(start).size() <= 18)
                << entry.path() << " holds a solution region";
        }
    }
}

TEST_F(Release, HasTheClassroomWorkflow) {
    std::string workflow = read(out_ / ".github" / "workflows" / "classroom.yml");
    EXPECT_NE(workflow.find("classroom-resources/autograding-grading-reporter@v1"), std::string::npos) << workflow;
    EXPECT_NE(workflow.find("id: lab01-bump-malloc"), std::string::npos) << workflow;
    EXPECT_NE(workflow.find("LAB01-BUMP-MALLOC_RESULTS: \"${{ steps.lab01-bump-malloc.outputs.result }}\""),
              std::string::npos);
    std::size_t runners = workflow.find("runners: ");
    ASSERT_NE(runners, std::string::npos) << workflow;
    EXPECT_NE(workflow.find("lab01-bump-malloc", runners), std::string::npos) << "every step is a runner of the reporter";
    EXPECT_EQ(workflow.find("hidden tests"), std::string::npos) << "hidden parts get no step";
}

TEST_F(Release, CheckScoresTheSkeletonLowAndTheSolutionFull) {
    ASSERT_TRUE(built_) << "the release must build from scratch:\n" << log_;
    fs::path heaplab = out_ / "build" / "bin" / "heaplab";
    fs::path lab = out_ / "labs" / "01-bump";
    std::string output;
    EXPECT_EQ(shell("cd " + lab.string() + " && " + heaplab.string() + " check", &output), 1) << output;
    EXPECT_EQ(output.find("grader error"), std::string::npos) << output;
    EXPECT_NE(output.find("Score: "), std::string::npos) << output;
    EXPECT_EQ(output.find("Score: 90/90"), std::string::npos) << output;

    ASSERT_EQ(shell(std::string(HEAPLAB_BIN) + " lab strip " + SOURCE_DIR + "/solutions/01-bump/mm.cpp -o " +
                    (lab / "mm.cpp").string())
                  .status,
              0);
    EXPECT_EQ(shell("cd " + lab.string() + " && " + heaplab.string() + " check", &output), 0) << output;
    EXPECT_NE(output.find("Score: 90/90"), std::string::npos) << "full public score:\n" << output;
    EXPECT_EQ(shell("cd " + lab.string() + " && " + heaplab.string() + " check --part calloc --format classroom", &output),
              0)
        << output;
    EXPECT_NE(output.find("\"status\":\"pass\""), std::string::npos) << output;
}

}  // namespace
