// The Gradescope round trip: `heaplab package` writes the autograder zip; its run_autograder,
// run for real in a temporary /autograder, writes a results.json in Gradescope's schema — also
// for a missing or broken submission.
#include <archive.h>
#include <archive_entry.h>
#include "shell.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

namespace {

namespace fs = std::filesystem;
using heaplab::testing::read;
using heaplab::testing::shell;

using nlohmann::json;

/// Unpacks a zip; returns each entry's permission bits by name.
std::map<std::string, int> unzip(const fs::path &zip, const fs::path &into) {
    std::map<std::string, int> modes;
    archive *reader = archive_read_new();
    archive_read_support_format_zip(reader);
    EXPECT_EQ(archive_read_open_filename(reader, zip.c_str(), 65536), ARCHIVE_OK);
    archive_entry *entry = nullptr;
    while (archive_read_next_header(reader, &entry) == ARCHIVE_OK) {
        std::string name = archive_entry_pathname(entry);
        modes[name] = static_cast<int>(archive_entry_perm(entry));
        fs::path path = into / name;
        fs::create_directories(path.parent_path());
        std::ofstream out(path, std::ios::binary);
        char buffer[65536];
        for (la_ssize_t n; (n = archive_read_data(reader, buffer, sizeof buffer)) > 0;) out.write(buffer, n);
        out.close();
        fs::permissions(path, static_cast<fs::perms>(modes[name]));
    }
    archive_read_free(reader);
    return modes;
}

json read_json(const fs::path &path) {
    std::ifstream in(path);
    return json::parse(in, nullptr, false);
}

/// Checks a results.json against Gradescope's schema; returns what is wrong ("" if nothing).
std::string schema_problems(const json &results) {
    std::string problems;
    auto need = [&](const json &object, const char *key, bool (json::*is)() const noexcept, const std::string &where) {
        if (!object.contains(key) || !(object[key].*is)()) problems += where + "." + key + " missing or of the wrong type\n";
    };
    if (!results.is_object()) return "not a JSON object";
    need(results, "score", &json::is_number, "results");
    need(results, "execution_time", &json::is_number, "results");
    need(results, "output", &json::is_string, "results");
    need(results, "visibility", &json::is_string, "results");
    need(results, "stdout_visibility", &json::is_string, "results");
    need(results, "tests", &json::is_array, "results");
    if (!results.contains("tests") || !results["tests"].is_array()) return problems;
    for (const json &test : results["tests"]) {
        need(test, "name", &json::is_string, "test");
        need(test, "number", &json::is_string, "test");
        need(test, "score", &json::is_number, "test");
        need(test, "max_score", &json::is_number, "test");
        need(test, "status", &json::is_string, "test");
        need(test, "output", &json::is_string, "test");
        need(test, "output_format", &json::is_string, "test");
        need(test, "visibility", &json::is_string, "test");
        if (test.contains("status") && test["status"] != "passed" && test["status"] != "failed")
            problems += "test.status must be passed or failed\n";
        if (test.contains("visibility")) {
            std::string v = test["visibility"];
            if (v != "visible" && v != "hidden" && v != "after_due_date" && v != "after_published")
                problems += "test.visibility '" + v + "' is not one of Gradescope's\n";
        }
    }
    return problems;
}

class Gradescope : public ::testing::Test {
protected:
    void SetUp() override {
        root_ = fs::temp_directory_path() / ("heaplab_autograder_" + std::to_string(getpid()));
        fs::remove_all(root_);
        fs::create_directories(root_);
        std::string output;
        ASSERT_EQ(shell(std::string(HEAPLAB_BIN) + " package --lab 01 --gradescope " + (root_ / "ag.zip").string(), &output), 0)
            << output;
        modes_ = unzip(root_ / "ag.zip", root_ / "source-zip");
        // Gradescope unpacks the zip into /autograder/source; its setup.sh would build the
        // grader there: this test borrows the build it runs from instead (same sources).
        fs::rename(root_ / "source-zip" / "source", root_ / "source");
        fs::copy_file(root_ / "source-zip" / "run_autograder", root_ / "run_autograder");
        fs::permissions(root_ / "run_autograder", fs::perms::owner_all);
        fs::create_directory_symlink(BUILD_DIR, root_ / "source" / "build");
        fs::create_directories(root_ / "submission");
    }
    void TearDown() override { fs::remove_all(root_); }
    json run_autograder() {
        std::string output;
        int status = shell("HEAPLAB_AUTOGRADER_ROOT=" + root_.string() + " HEAPLAB_STUDENT_USER=nobody " +
                               (root_ / "run_autograder").string(),
                           &output);
        EXPECT_EQ(status, 0) << output;
        return read_json(root_ / "results" / "results.json");
    }
    fs::path root_;
    std::map<std::string, int> modes_;
};

TEST_F(Gradescope, ThePackageHasTheScriptsAtItsRoot) {
    ASSERT_TRUE(modes_.contains("setup.sh"));
    ASSERT_TRUE(modes_.contains("run_autograder"));
    EXPECT_EQ(modes_["setup.sh"] & 0111, 0111) << "setup.sh must be executable";
    EXPECT_EQ(modes_["run_autograder"] & 0111, 0111) << "run_autograder must be executable";
    EXPECT_TRUE(modes_.contains("source/common/include/heaplab/mm.h"));
    EXPECT_TRUE(modes_.contains("source/labs/01-bump/lab.toml"));
    for (const auto &[name, mode] : modes_)
        EXPECT_EQ(name.find("/build/"), std::string::npos) << "build output must not be packaged: " << name;
    std::string output;
    EXPECT_EQ(shell("bash -n " + (root_ / "source-zip" / "setup.sh").string(), &output), 0) << output;
}

TEST_F(Gradescope, ACorrectSubmissionGetsFullMarksInGradescopesSchema) {
    std::string output;
    ASSERT_EQ(shell(std::string(HEAPLAB_BIN) + " lab strip " + SOURCE_DIR + "/solutions/01-bump/mm.cpp -o " +
                        (root_ / "submission" / "mm.cpp").string(),
                    &output),
              0)
        << output;
    json results = run_autograder();
    EXPECT_EQ(schema_problems(results), "") << results.dump(2);
    EXPECT_EQ(results["score"], 100.0) << results.dump(2);
    bool has_hidden = false;
    for (const json &test : results["tests"]) has_hidden = has_hidden || test["visibility"] == "hidden";
    EXPECT_TRUE(has_hidden) << "the lab's hidden part is marked hidden";
}

TEST_F(Gradescope, AMissingSubmissionStillGetsAValidResultsJson) {
    json results = run_autograder();
    EXPECT_EQ(schema_problems(results), "") << results.dump(2);
    EXPECT_EQ(results["score"], 0.0);
    EXPECT_NE(results["output"].get<std::string>().find("no mm.cpp"), std::string::npos) << results.dump(2);
}

TEST_F(Gradescope, ABrokenArchiveStillGetsAValidResultsJson) {
    std::ofstream(root_ / "submission" / "handin.zip") << "PK not really";
    json results = run_autograder();
    EXPECT_EQ(schema_problems(results), "") << results.dump(2);
    EXPECT_EQ(results["score"], 0.0);
    EXPECT_NE(results["output"].get<std::string>().find("archive"), std::string::npos) << results.dump(2);
}

}  // namespace
