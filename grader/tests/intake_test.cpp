// Taking in archives: everything that does not belong in a submission is refused and named,
// and nothing is ever written outside the destination.
#include "intake.h"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

namespace {

namespace fs = std::filesystem;
using heaplab::Submission;

/// Writes a .tar.gz (or .zip) whose entries are given by the callback.
class ArchiveWriter {
public:
    explicit ArchiveWriter(const fs::path &path) : archive_(archive_write_new()) {
        if (path.extension() == ".zip") {
            archive_write_set_format_zip(archive_);
        } else {
            archive_write_add_filter_gzip(archive_);
            archive_write_set_format_pax_restricted(archive_);
        }
        archive_write_open_filename(archive_, path.c_str());
    }
    ~ArchiveWriter() {
        archive_write_close(archive_);
        archive_write_free(archive_);
    }
    void file(const std::string &name, const std::string &data) {
        archive_entry *entry = archive_entry_new();
        archive_entry_set_pathname(entry, name.c_str());
        archive_entry_set_filetype(entry, AE_IFREG);
        archive_entry_set_perm(entry, 0644);
        archive_entry_set_size(entry, static_cast<la_int64_t>(data.size()));
        archive_write_header(archive_, entry);
        archive_write_data(archive_, data.data(), data.size());
        archive_entry_free(entry);
    }
    void symlink(const std::string &name, const std::string &target) {
        archive_entry *entry = archive_entry_new();
        archive_entry_set_pathname(entry, name.c_str());
        archive_entry_set_filetype(entry, AE_IFLNK);
        archive_entry_set_symlink(entry, target.c_str());
        archive_entry_set_perm(entry, 0777);
        archive_write_header(archive_, entry);
        archive_entry_free(entry);
    }

private:
    archive *archive_;
};

class Intake : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / ("heaplab_intake_" + std::to_string(getpid()));
        fs::remove_all(dir_);
        fs::create_directories(dir_ / "in");
    }
    void TearDown() override { fs::remove_all(dir_); }
    heaplab::IntakeResult take(const fs::path &archive) {
        return heaplab::take_in(Submission{"s", archive}, {"mm.cpp"}, dir_ / "out");
    }
    std::string notes(const heaplab::IntakeResult &result) {
        std::string all;
        for (const std::string &note : result.notes) all += note + "\n";
        return all + result.problem;
    }
    fs::path dir_;
};

TEST_F(Intake, TakesTheFileFromASubfolderOfAZip) {
    fs::path zip = dir_ / "in" / "a.zip";
    {
        ArchiveWriter writer(zip);
        writer.file("handin/mm.cpp", "int x;\n");
        writer.file("handin/notes.txt", "extra files are ignored\n");
    }
    auto result = take(zip);
    ASSERT_TRUE(result.ok) << notes(result);
    EXPECT_TRUE(fs::exists(dir_ / "out" / "mm.cpp"));
    EXPECT_FALSE(fs::exists(dir_ / "out" / "notes.txt")) << "only the files lab.toml names are taken";
}

TEST_F(Intake, RefusesAbsolutePathsAndDotDot) {
    fs::path tar = dir_ / "in" / "b.tar.gz";
    {
        ArchiveWriter writer(tar);
        writer.file((dir_ / "escaped" / "mm.cpp").string(), "absolute\n");
        writer.file("../../mm.cpp", "climbing\n");
    }
    auto result = take(tar);
    EXPECT_FALSE(result.ok);
    EXPECT_NE(notes(result).find("an absolute path"), std::string::npos) << notes(result);
    EXPECT_NE(notes(result).find("a path with '..'"), std::string::npos) << notes(result);
    EXPECT_FALSE(fs::exists(dir_ / "escaped")) << "nothing may be written outside the destination";
    EXPECT_EQ(result.problem, "the archive has no usable mm.cpp");
}

TEST_F(Intake, RefusesLinks) {
    fs::path tar = dir_ / "in" / "c.tar.gz";
    {
        ArchiveWriter writer(tar);
        writer.symlink("mm.cpp", "/etc/passwd");
    }
    auto result = take(tar);
    EXPECT_FALSE(result.ok);
    EXPECT_NE(notes(result).find("not a regular file"), std::string::npos) << notes(result);
}

TEST_F(Intake, RefusesAZipBomb) {
    fs::path tar = dir_ / "in" / "d.tar.gz";
    {
        ArchiveWriter writer(tar);
        writer.file("mm.cpp", std::string(64 << 20, '\0'));  // 64 MiB of zeros, a few KiB packed
    }
    EXPECT_LT(fs::file_size(tar), 1u << 20);
    auto result = take(tar);
    EXPECT_FALSE(result.ok);
    EXPECT_NE(notes(result).find("larger than"), std::string::npos) << notes(result);
}

TEST_F(Intake, StopsAtTenThousandFiles) {
    fs::path tar = dir_ / "in" / "e.tar.gz";
    {
        ArchiveWriter writer(tar);
        for (int i = 0; i < 10000; ++i) writer.file("junk/" + std::to_string(i), "x");
        writer.file("mm.cpp", "int x;\n");
    }
    auto result = take(tar);
    EXPECT_FALSE(result.ok) << "the file after the limit is not reached";
    EXPECT_NE(notes(result).find("more than 5000 entries"), std::string::npos) << notes(result);
}

TEST_F(Intake, NamesThatAreNotUtf8AreShownSafely) {
    fs::path tar = dir_ / "in" / "f.tar.gz";
    {
        ArchiveWriter writer(tar);
        writer.file("dir\xff\xfe/mm.cpp", "int x;\n");
    }
    auto result = take(tar);
    EXPECT_TRUE(result.ok) << notes(result);
    EXPECT_EQ(heaplab::safe_name("caf\xc3\xa9\n/x"), "caf____x") << "each odd byte becomes one _";
}

TEST_F(Intake, ADamagedArchiveIsAClearProblem) {
    std::ofstream(dir_ / "in" / "g.zip") << "PK\x03\x04 garbage";
    auto result = take(dir_ / "in" / "g.zip");
    EXPECT_FALSE(result.ok);
    EXPECT_FALSE(result.problem.empty());
}

TEST_F(Intake, AFolderOfManyIsSplitIntoSubmissions) {
    fs::create_directories(dir_ / "class" / "alice");
    std::ofstream(dir_ / "class" / "alice" / "mm.cpp") << "int x;\n";
    std::ofstream(dir_ / "class" / "bob.tar.gz") << "";
    std::ofstream(dir_ / "class" / "readme.txt") << "not a submission";
    auto found = heaplab::find_submissions({(dir_ / "class").string()}, {"mm.cpp"});
    ASSERT_EQ(found.size(), 2u);
    EXPECT_EQ(found[0].name, "alice");
    EXPECT_EQ(found[1].name, "bob");
    auto one = heaplab::find_submissions({(dir_ / "class" / "alice").string()}, {"mm.cpp"});
    ASSERT_EQ(one.size(), 1u) << "a folder holding mm.cpp is one submission";
    EXPECT_THROW(heaplab::find_submissions({(dir_ / "nope").string()}, {"mm.cpp"}), std::runtime_error);
}

}  // namespace
