// `heaplab check` end to end on Lab 01: the skeleton scores low without a grader error, the
// solution scores full marks, and a classic mistake loses the points of the part that catches it.
#include "shell.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sys/wait.h>

namespace {

namespace fs = std::filesystem;
using heaplab::testing::Outcome;
using heaplab::testing::read;
using heaplab::testing::shell;

/// A HeapLab tree in a temporary folder: the real common/, traces/ and grader/, and a copy of
/// labs/01-bump whose mm.cpp the test replaces.
class CheckLab01 : public ::testing::Test {
protected:
    void SetUp() override {
        root_ = fs::temp_directory_path() / ("heaplab_check_" + std::to_string(getpid()));
        fs::remove_all(root_);
        fs::create_directories(root_ / "labs");
        for (const char *dir : {"common", "traces", "grader"})
            fs::create_directory_symlink(fs::path(SOURCE_DIR) / dir, root_ / dir);
        fs::copy(fs::path(SOURCE_DIR) / "labs" / "01-bump", lab(), fs::copy_options::recursive);
        fs::remove_all(lab() / "build");
    }
    void TearDown() override { fs::remove_all(root_); }
    fs::path lab() const { return root_ / "labs" / "01-bump"; }
    void use(const std::string &heaplab_lab_args) {
        Outcome made = shell(std::string(HEAPLAB_BIN) + " lab " + heaplab_lab_args + " -o " + (lab() / "mm.cpp").string());
        ASSERT_EQ(made.status, 0) << made.out;
    }
    Outcome check(const std::string &flags = "") {
        return shell("cd " + lab().string() + " && " + HEAPLAB_BIN + " check " + flags);
    }
    fs::path root_;
};

const std::string kSolution = std::string(SOURCE_DIR) + "/solutions/01-bump/mm.cpp";
const std::string kBugs = std::string(SOURCE_DIR) + "/solutions/01-bump/bugs.toml";

TEST_F(CheckLab01, TheSkeletonScoresLowWithoutAGraderError) {
    Outcome outcome = check();
    EXPECT_EQ(outcome.status, 1) << "not full marks: exit 1\n" << outcome.out;
    EXPECT_NE(outcome.out.find("build: ok"), std::string::npos) << outcome.out;
    EXPECT_NE(outcome.out.find("first failure, in part 'malloc'"), std::string::npos) << outcome.out;
    EXPECT_EQ(outcome.out.find("grader error"), std::string::npos) << outcome.out;
    EXPECT_NE(outcome.out.find("Score: "), std::string::npos) << outcome.out;
    EXPECT_EQ(outcome.out.find("Score: 90/90"), std::string::npos) << outcome.out;
}

TEST_F(CheckLab01, TheSolutionScoresFullMarksHiddenPartsIncluded) {
    use("strip " + kSolution);
    Outcome outcome = check("--hidden");
    EXPECT_EQ(outcome.status, 0) << outcome.out;
    EXPECT_NE(outcome.out.find("Score: 100/100"), std::string::npos) << outcome.out;
    EXPECT_NE(outcome.out.find("memcheck .................... OK"), std::string::npos) << outcome.out;
}

TEST_F(CheckLab01, AMissingCheckLosesOnlyThePointsOfItsPart) {
    use("mutate " + kSolution + " --bugs " + kBugs + " --bug calloc-overflow-not-checked");
    Outcome outcome = check();
    EXPECT_EQ(outcome.status, 1) << outcome.out;
    EXPECT_NE(outcome.out.find("calloc ...................... FAIL     5/10"), std::string::npos) << outcome.out;
    EXPECT_NE(outcome.out.find("Score: 85/90"), std::string::npos) << outcome.out;
    EXPECT_NE(outcome.out.find("mm_calloc must notice"), std::string::npos) << "the first failure is explained:\n"
                                                                           << outcome.out;
}

TEST_F(CheckLab01, ForbiddenCallsAreRefused) {
    std::ofstream(lab() / "mm.cpp") << "#include <cstdlib>\n#include \"heaplab/mm.h\"\n"
                                       "extern \"C\" {\nint mm_init(void) { return 0; }\n"
                                       "void *mm_malloc(size_t n) { return malloc(n); }\n"
                                       "void mm_free(void *p) { free(p); }\n"
                                       "void *mm_realloc(void *p, size_t n) { return realloc(p, n); }\n"
                                       "void *mm_calloc(size_t a, size_t b) { return calloc(a, b); }\n"
                                       "int mm_checkheap(int) { return 1; }\n}\n";
    Outcome outcome = check();
    EXPECT_EQ(outcome.status, 1) << outcome.out;
    EXPECT_NE(outcome.out.find("integrity: refused: "), std::string::npos) << outcome.out;
    EXPECT_NE(outcome.out.find("malloc"), std::string::npos) << outcome.out;
    EXPECT_NE(outcome.out.find("Score: 0/90"), std::string::npos) << outcome.out;
}

TEST_F(CheckLab01, ACompileErrorIsFeedback) {
    std::ofstream(lab() / "mm.cpp") << "this is not C++\n";
    Outcome outcome = check();
    EXPECT_EQ(outcome.status, 1) << outcome.out;
    EXPECT_NE(outcome.out.find("build: FAILED"), std::string::npos) << outcome.out;
    EXPECT_NE(outcome.out.find("mm.cpp:1:"), std::string::npos) << "the compiler's first error, with file:line:\n"
                                                               << outcome.out;
}

}  // namespace
