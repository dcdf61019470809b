// `heaplab check` end to end on Lab 01: the skeleton scores low without a grader error, the
// solution scores full marks, and a classic mistake loses the points of the part that catches it.
// Then the threads parts (stress, helgrind) on a test lab, with fixture allocators.
#include "shell.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>
#include <sys/wait.h>

namespace {

namespace fs = std::filesystem;
using heaplab::testing::Outcome;
using heaplab::testing::read;
using heaplab::testing::shell;

/// A HeapLab tree in a temporary folder: the real common/, traces/ and grader/ (linked), and an
/// empty labs/ for the test's lab.
fs::path make_tree(const std::string &name) {
    fs::path root = fs::temp_directory_path() / (name + "_" + std::to_string(getpid()));
    fs::remove_all(root);
    fs::create_directories(root / "labs");
    for (const char *dir : {"common", "traces", "grader"})
        fs::create_directory_symlink(fs::path(SOURCE_DIR) / dir, root / dir);
    return root;
}

/// A HeapLab tree with a copy of labs/01-bump whose mm.cpp the test replaces.
class CheckLab01 : public ::testing::Test {
protected:
    void SetUp() override {
        root_ = make_tree("heaplab_check");
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

/// A HeapLab tree with the threads test lab (grader/tests/fixtures/threads-lab: a `stress` and a
/// `helgrind` part), whose mm.cpp each test hands in from a fixture allocator.
class CheckThreads : public ::testing::Test {
protected:
    void SetUp() override {
        root_ = make_tree("heaplab_check_threads");
        fs::copy(fixtures() / "threads-lab", lab(), fs::copy_options::recursive);
    }
    void TearDown() override { fs::remove_all(root_); }
    static fs::path fixtures() { return fs::path(SOURCE_DIR) / "grader" / "tests" / "fixtures"; }
    fs::path lab() const { return root_ / "labs" / "threads-test"; }
    /// Hands in @p fixture as mm.cpp, with `#define VARIANT` on its first line when given.
    void hand_in(const std::string &fixture, const std::string &variant = "") {
        std::ofstream(lab() / "mm.cpp") << (variant.empty() ? "" : "#define " + variant + "\n")
                                        << read(fixtures() / fixture);
    }
    /// The lines of the handed-in mm.cpp (1-based) that contain @p marker.
    std::vector<int> lines_with(const std::string &marker) const {
        std::vector<int> lines;
        std::istringstream in(read(lab() / "mm.cpp"));
        int number = 0;
        for (std::string line; std::getline(in, line);)
            if (++number, line.find(marker) != std::string::npos) lines.push_back(number);
        return lines;
    }
    Outcome check(const std::string &options = "") {
        return shell("cd " + lab().string() + " && " + HEAPLAB_BIN + " check " + options);
    }
    fs::path root_;
};

TEST_F(CheckThreads, AOneLockAllocatorScoresFullMarksHelgrindFindsNothingInMemlibOrGlibc) {
    hand_in("mm_one_lock.cpp");
    Outcome outcome = check();
    EXPECT_EQ(outcome.status, 0) << outcome.out;
    EXPECT_NE(outcome.out.find("stress ...................... OK      10/10   ok with 2,4 threads"), std::string::npos)
        << outcome.out;
    EXPECT_NE(outcome.out.find("helgrind .................... OK      10/10   no errors"), std::string::npos)
        << "no false positive from memlib's lock, the driver or glibc:\n"
        << outcome.out;
    EXPECT_NE(outcome.out.find("Score: 20/20"), std::string::npos) << outcome.out;
}

TEST_F(CheckThreads, WithoutTheLockHelgrindNamesTheRaceAndItsLine) {
    hand_in("mm_one_lock.cpp", "FIXTURE_NO_LOCK");
    // Only the helgrind part: without a lock the stress part fails or passes by luck, and when it
    // fails its verdict, not Helgrind's, is the first failure the report explains.
    Outcome outcome = check("--part helgrind");
    EXPECT_EQ(outcome.status, 1) << outcome.out;
    EXPECT_NE(outcome.out.find("helgrind .................... FAIL     0/10"), std::string::npos) << outcome.out;
    std::regex race(R"(Helgrind: Possible data race during (read|write) of size \d+ by thread #\d+ at mm\.cpp:(\d+) in (take|give)\(\))");
    std::smatch match;
    ASSERT_TRUE(std::regex_search(outcome.out, match, race)) << "the race, with its line and function:\n" << outcome.out;
    std::vector<int> shared = lines_with("// shared: the free lists");
    EXPECT_NE(std::find(shared.begin(), shared.end(), std::stoi(match[2])), shared.end())
        << "line " << match[2] << " is not one of the lines that touch the free lists:\n"
        << outcome.out;
    EXPECT_NE(outcome.out.find("This conflicts with a previous"), std::string::npos)
        << "the other access is shown too:\n" << outcome.out;
}

TEST_F(CheckThreads, TwoLocksTakenInOppositeOrdersAreALockOrderErrorWithBothPlaces) {
    hand_in("mm_one_lock.cpp", "FIXTURE_LOCK_ORDER");
    Outcome outcome = check();
    EXPECT_EQ(outcome.status, 1) << outcome.out;
    EXPECT_NE(outcome.out.find("stress ...................... OK      10/10"), std::string::npos)
        << "mm_init takes them in the other order before the threads start: no deadlock can happen\n"
        << outcome.out;
    EXPECT_NE(outcome.out.find("helgrind .................... FAIL     0/10"), std::string::npos) << outcome.out;
    EXPECT_NE(outcome.out.find("Helgrind: Thread #"), std::string::npos) << outcome.out;
    EXPECT_NE(outcome.out.find("lock order violated at mm.cpp:"), std::string::npos)
        << "the kind, without the lock addresses, and the student's line:\n" << outcome.out;
    EXPECT_NE(outcome.out.find("followed by a later acquisition of lock"), std::string::npos)
        << "the second lock is shown too:\n" << outcome.out;
    std::vector<int> second = lines_with("// the second lock, inside the heap lock");
    ASSERT_EQ(second.size(), 1U);
    EXPECT_NE(outcome.out.find("take (mm.cpp:" + std::to_string(second[0]) + ")"), std::string::npos)
        << "where take() takes the second lock, line " << second[0] << ":\n" << outcome.out;
}

TEST_F(CheckThreads, ALockTakenTwiceIsADeadlockAndTheGraderEndsInTime) {
    hand_in("mm_one_lock.cpp", "FIXTURE_RELOCK");
    auto started = std::chrono::steady_clock::now();
    Outcome outcome = check();
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    EXPECT_EQ(outcome.status, 1) << outcome.out;
    EXPECT_NE(outcome.out.find("stress ...................... FAIL     0/10   did not finish"), std::string::npos)
        << outcome.out;
    EXPECT_NE(outcome.out.find("helgrind .................... FAIL     0/10"), std::string::npos) << outcome.out;
    EXPECT_NE(outcome.out.find("did not finish: the stress run was still running after 4 s — a deadlock? (a lock "
                               "taken twice, or not released on a return path)"),
              std::string::npos)
        << outcome.out;
    EXPECT_NE(outcome.out.find("in mm_realloc"), std::string::npos) << "where the threads were:\n" << outcome.out;
    EXPECT_NE(outcome.out.find("Score: 0/20"), std::string::npos) << outcome.out;
    EXPECT_LT(seconds, 60) << "the stress part stops after 4 s, the helgrind part after 12 s";
}

TEST_F(CheckThreads, ACrossThreadFreeBugScoresZeroWithTheDriversVerdict) {
    hand_in("mm_arena_free.cpp");
    Outcome outcome = check();
    EXPECT_EQ(outcome.status, 1) << outcome.out;
    EXPECT_NE(outcome.out.find("stress ...................... FAIL     0/10   wrong under threads"), std::string::npos)
        << outcome.out;
    EXPECT_NE(outcome.out.find("FAIL with 2 threads: thread "), std::string::npos)
        << "the driver's verdict names the thread and its request:\n" << outcome.out;
    EXPECT_NE(outcome.out.find("helgrind .................... FAIL     0/10"), std::string::npos)
        << "a wrong allocator earns nothing under Helgrind either:\n" << outcome.out;
}

}  // namespace
