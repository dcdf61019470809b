// `heaplab lab verify-grades` finds what it exists to find: a bug whose `loses` is wrong, in
// either direction, and a bug with no `loses`; parts named in `may_lose` go either way. (That every real declaration is right is what the
// NN-name/grades-are-right tests and make verify-grades check.) Lab 01's cheap bugs, whose
// variants fail the traces and so are graded in seconds, with bugs.toml files written here.
#include "shell.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>

namespace {

namespace fs = std::filesystem;
using heaplab::testing::Outcome;
using heaplab::testing::read;
using heaplab::testing::shell;

class VerifyGrades : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / ("heaplab_verify_" + std::to_string(getpid()));
        fs::remove_all(dir_);
        fs::create_directories(dir_);
        real_ = read(fs::path(SOURCE_DIR) / "solutions" / "01-bump" / "bugs.toml");
    }
    void TearDown() override { fs::remove_all(dir_); }
    /// Lab 01's bugs.toml with the `loses` line of @p bug replaced by @p line ("" drops it).
    std::string with_loses(const std::string &bug, const std::string &line) {
        std::regex entry("(name = \"" + bug + "\"[^\\[]*?)loses = [^\\n]*\\n");
        std::string changed = std::regex_replace(real_, entry, "$1" + (line.empty() ? "" : line + "\n"),
                                                 std::regex_constants::format_first_only);
        EXPECT_NE(changed, real_) << "bugs.toml of Lab 01 changed: no `loses` line found for " << bug;
        return changed;
    }
    Outcome verify(const std::string &bugs_text, const std::string &args) {
        fs::path file = dir_ / "bugs.toml";
        std::ofstream(file) << bugs_text;
        return shell(std::string(HEAPLAB_BIN) + " lab verify-grades " + SOURCE_DIR + "/labs/01-bump --quick --bugs " +
                     file.string() + " " + args);
    }
    fs::path dir_;
    std::string real_;
};

TEST_F(VerifyGrades, APartLostButNotDeclaredAndAPartDeclaredButNotLostAreBothFound) {
    // The alignment bug also costs "malloc", "checkheap", "hidden tests", "traces" and "memcheck".
    std::string bugs = with_loses("alignment-mask-off-by-one", R"(loses = ["realloc", "calloc", "traces", "memcheck", "checkheap", "hidden tests"])");
    Outcome outcome = verify(bugs, "--bug alignment-mask-off-by-one");
    EXPECT_EQ(outcome.status, 1) << outcome.out;
    EXPECT_NE(outcome.out.find("part 'malloc' scored"), std::string::npos) << outcome.out;
    EXPECT_NE(outcome.out.find("but `loses` does not name it"), std::string::npos) << outcome.out;
    EXPECT_NE(outcome.out.find("part 'calloc' scored full marks"), std::string::npos) << outcome.out;
    EXPECT_NE(outcome.out.find("but `loses` says it must catch this bug"), std::string::npos) << outcome.out;
}

TEST_F(VerifyGrades, ABugWithoutLosesFailsAndSaysWhatToDeclare) {
    Outcome outcome = verify(with_loses("header-not-counted", ""), "--bug header-not-counted --bug realloc-copies-nothing");
    EXPECT_EQ(outcome.status, 1) << outcome.out;
    EXPECT_NE(outcome.out.find("gives it no `loses`"), std::string::npos) << outcome.out;
    EXPECT_NE(outcome.out.find(R"(loses = ["malloc", "out of memory", "realloc", "calloc", "hidden tests", "traces", "memcheck"])"),
              std::string::npos)
        << "the declaration to paste:\n" << outcome.out;
    EXPECT_NE(outcome.out.find("ok    bug realloc-copies-nothing"), std::string::npos) << "a right declaration passes:\n"
                                                                                    << outcome.out;
}

TEST_F(VerifyGrades, APartARaceDecidesMayGoEitherWay) {
    // "realloc" and "memcheck" are lost, "calloc" is not: as may_lose, neither is a problem.
    std::string bugs = with_loses("alignment-mask-off-by-one",
                                  "loses = [\"malloc\", \"checkheap\", \"hidden tests\", \"traces\"]\n"
                                  "may_lose = [\"realloc\", \"memcheck\", \"calloc\"]");
    Outcome outcome = verify(bugs, "--bug alignment-mask-off-by-one");
    EXPECT_EQ(outcome.status, 0) << outcome.out;
    EXPECT_NE(outcome.out.find("ok    bug alignment-mask-off-by-one"), std::string::npos) << outcome.out;
    // ... but what `loses` names must still be lost.
    bugs = with_loses("alignment-mask-off-by-one", "loses = [\"malloc\", \"calloc\", \"traces\"]\n"
                                                   "may_lose = [\"realloc\", \"memcheck\", \"checkheap\", "
                                                   "\"hidden tests\"]");
    outcome = verify(bugs, "--bug alignment-mask-off-by-one");
    EXPECT_EQ(outcome.status, 1) << outcome.out;
    EXPECT_NE(outcome.out.find("part 'calloc' scored full marks"), std::string::npos) << outcome.out;
}

TEST_F(VerifyGrades, APartBothLostAndMaybeLostIsAUsageError) {
    Outcome outcome = verify(with_loses("header-not-counted", "loses = [\"malloc\"]\nmay_lose = [\"malloc\"]"),
                             "--bug header-not-counted");
    EXPECT_EQ(outcome.status, 2) << outcome.out;
    EXPECT_NE(outcome.out.find("part 'malloc' is in both 'loses' and 'may_lose'"), std::string::npos) << outcome.out;
}

TEST_F(VerifyGrades, APartThatDoesNotExistIsAUsageError) {
    Outcome outcome = verify(with_loses("header-not-counted", R"(loses = ["mallocs"])"), "--bug header-not-counted");
    EXPECT_EQ(outcome.status, 2) << outcome.out;
    EXPECT_NE(outcome.out.find("loses 'mallocs', which is not a part of"), std::string::npos) << outcome.out;
}

}  // namespace
