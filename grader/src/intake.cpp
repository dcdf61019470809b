/**
 * @file intake.cpp
 * @brief Directories and archives (libarchive) into a scratch folder (see intake.h).
 */
#include "intake.h"

#include "process.h"

#include <archive.h>
#include <archive_entry.h>
#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <stdexcept>

namespace heaplab {
namespace fs = std::filesystem;
namespace {

/// What `make handin` puts beside the submitted files: `sha256sum` lines.
const std::string kManifest = "MANIFEST.sha256";

bool is_archive(const fs::path &path) {
    std::string name = path.filename().string();
    return name.ends_with(".zip") || name.ends_with(".tar.gz") || name.ends_with(".tgz") || name.ends_with(".tar");
}

std::string stem_of(const fs::path &path) {
    std::string name = path.filename().string();
    for (const char *extension : {".tar.gz", ".tgz", ".zip", ".tar"})
        if (name.ends_with(extension)) return name.substr(0, name.size() - std::string(extension).size());
    return name;
}

bool holds_a_submitted_file(const fs::path &dir, const std::vector<std::string> &submit_files) {
    for (const std::string &file : submit_files)
        if (fs::exists(dir / file)) return true;
    return false;
}

IntakeResult from_directory(const fs::path &dir, const std::vector<std::string> &submit_files, const fs::path &to) {
    IntakeResult result;
    if (fs::is_regular_file(dir / kManifest) && !fs::is_symlink(dir / kManifest) &&
        fs::file_size(dir / kManifest) < kMaxSubmittedFile)
        fs::copy_file(dir / kManifest, to / kManifest, fs::copy_options::overwrite_existing);
    for (const std::string &file : submit_files) {
        fs::path from = dir / file;
        std::error_code error;
        auto status = fs::symlink_status(from, error);
        if (error || !fs::exists(status)) {
            result.problem = "the submission has no " + file;
            return result;
        }
        if (fs::is_symlink(status)) {
            result.problem = file + " is a link, not a file: refused";
            return result;
        }
        if (!fs::is_regular_file(status)) {
            result.problem = file + " is not a regular file: refused";
            return result;
        }
        if (fs::file_size(from) > kMaxSubmittedFile) {
            result.problem = fmt::format("{} is larger than {} bytes: refused", file, kMaxSubmittedFile);
            return result;
        }
        fs::copy_file(from, to / file, fs::copy_options::overwrite_existing);
    }
    result.ok = true;
    return result;
}

IntakeResult from_archive(const fs::path &path, const std::vector<std::string> &submit_files, const fs::path &to) {
    IntakeResult result;
    archive *reader = archive_read_new();
    archive_read_support_format_zip(reader);
    archive_read_support_format_tar(reader);
    archive_read_support_filter_gzip(reader);
    struct Closer {
        archive *a;
        ~Closer() { archive_read_free(a); }
    } closer{reader};
    if (archive_read_open_filename(reader, path.c_str(), 65536) != ARCHIVE_OK) {
        result.problem = std::string("not a readable archive: ") + archive_error_string(reader);
        return result;
    }
    // For each file to submit: the depth at which it was taken (the shallowest copy wins).
    std::map<std::string, std::size_t> taken;
    std::size_t entries = 0;
    archive_entry *entry = nullptr;
    for (;;) {
        int status = archive_read_next_header(reader, &entry);
        if (status == ARCHIVE_EOF) break;
        if (status != ARCHIVE_OK && status != ARCHIVE_WARN) {
            result.notes.push_back(std::string("the archive is damaged: ") + archive_error_string(reader));
            break;
        }
        if (++entries > kMaxArchiveEntries) {
            result.notes.push_back(fmt::format("the archive has more than {} entries: the rest were ignored",
                                               kMaxArchiveEntries));
            break;
        }
        const char *raw = archive_entry_pathname(entry);
        std::string name = raw != nullptr ? raw : "";
        std::string shown = safe_name(name);
        fs::path entry_path(name);
        std::string base = entry_path.filename().string();
        bool wanted = std::find(submit_files.begin(), submit_files.end(), base) != submit_files.end() ||
                      base == kManifest;
        if (!wanted) {
            archive_read_data_skip(reader);
            continue;
        }
        auto refuse = [&](const std::string &why) {
            result.notes.push_back("refused " + shown + ": " + why);
            archive_read_data_skip(reader);
        };
        if (entry_path.is_absolute()) {
            refuse("an absolute path");
            continue;
        }
        bool climbs = false;
        for (const auto &part : entry_path)
            if (part == "..") climbs = true;
        if (climbs) {
            refuse("a path with '..'");
            continue;
        }
        if (archive_entry_filetype(entry) != AE_IFREG) {
            refuse("not a regular file (a link or a device)");
            continue;
        }
        if (archive_entry_size_is_set(entry) && archive_entry_size(entry) > static_cast<la_int64_t>(kMaxSubmittedFile)) {
            refuse(fmt::format("larger than {} bytes", kMaxSubmittedFile));
            continue;
        }
        std::size_t depth = static_cast<std::size_t>(std::distance(entry_path.begin(), entry_path.end()));
        if (taken.contains(base) && taken[base] <= depth) {
            result.notes.push_back("ignored " + shown + ": another " + base + " nearer the top was taken");
            archive_read_data_skip(reader);
            continue;
        }
        // Read at most the limit: a zip bomb's size field may lie.
        std::string data;
        char buffer[65536];
        bool too_big = false;
        for (la_ssize_t n; (n = archive_read_data(reader, buffer, sizeof buffer)) != 0;) {
            if (n < 0) {
                result.notes.push_back("could not read " + shown + ": " + archive_error_string(reader));
                break;
            }
            data.append(buffer, static_cast<std::size_t>(n));
            if (data.size() > kMaxSubmittedFile) {
                too_big = true;
                break;
            }
        }
        if (too_big) {
            result.notes.push_back(fmt::format("refused {}: it unpacks to more than {} bytes", shown, kMaxSubmittedFile));
            continue;
        }
        if (taken.contains(base)) result.notes.push_back("took " + shown + " over a deeper copy of " + base);
        std::ofstream(to / base, std::ios::binary) << data;
        taken[base] = depth;
    }
    for (const std::string &file : submit_files) {
        if (!taken.contains(file)) {
            result.problem = "the archive has no usable " + file;
            return result;
        }
    }
    result.ok = true;
    return result;
}

}  // namespace

std::string safe_name(const std::string &name) {
    std::string out;
    for (unsigned char c : name) out += (c >= 0x20 && c < 0x7f && c != '/' && c != '\\') ? static_cast<char>(c) : '_';
    if (out.empty() || out == "." || out == "..") out = "_" + out;
    return out;
}

std::vector<Submission> find_submissions(const std::vector<std::string> &paths,
                                         const std::vector<std::string> &submit_files) {
    std::vector<Submission> found;
    for (const std::string &arg : paths) {
        fs::path path(arg);
        std::error_code error;
        if (!fs::exists(path, error)) throw std::runtime_error(arg + ": no such file or folder");
        if (fs::is_regular_file(path)) {
            if (!is_archive(path)) throw std::runtime_error(arg + ": not a folder, .zip, .tar.gz or .tar");
            found.push_back({safe_name(stem_of(path)), path});
            continue;
        }
        if (!fs::is_directory(path)) throw std::runtime_error(arg + ": not a folder or an archive");
        if (holds_a_submitted_file(path, submit_files)) {
            found.push_back({safe_name(fs::absolute(path).lexically_normal().filename().string()), path});
            continue;
        }
        std::vector<fs::path> children;
        for (const auto &entry : fs::directory_iterator(path, error))
            if (entry.is_directory() || (entry.is_regular_file() && is_archive(entry.path()))) children.push_back(entry.path());
        std::sort(children.begin(), children.end());
        for (const fs::path &child : children) found.push_back({safe_name(stem_of(child)), child});
    }
    // Two submissions must not share a name: their records would overwrite each other.
    std::map<std::string, int> seen;
    for (Submission &submission : found) {
        int count = seen[submission.name]++;
        if (count > 0) submission.name += fmt::format("-{}", count + 1);
    }
    return found;
}

/// Compares the taken files with the hand-in's manifest, when it has one; a mismatch is a note.
void verify_manifest(const std::vector<std::string> &submit_files, const fs::path &destination, IntakeResult &result) {
    fs::path manifest = destination / kManifest;
    if (!fs::exists(manifest)) return;
    std::ifstream in(manifest);
    std::map<std::string, std::string> listed;
    for (std::string line; std::getline(in, line);) {
        std::size_t space = line.find("  ");
        if (space == std::string::npos) continue;
        listed[line.substr(space + 2)] = line.substr(0, space);
    }
    fs::remove(manifest);
    for (const std::string &file : submit_files) {
        if (!fs::exists(destination / file)) continue;
        RunLimits limits;
        limits.seconds = 30;
        RunResult sum = run({"sha256sum", (destination / file).string()}, limits);
        std::string actual = sum.output.substr(0, sum.output.find(' '));
        if (!listed.contains(file)) {
            result.notes.push_back(file + " is not listed in the hand-in's " + kManifest);
        } else if (listed[file] != actual) {
            result.notes.push_back(file + " does not match the hand-in's " + kManifest +
                                   " (it changed after make handin, or the archive was edited)");
        }
    }
}

IntakeResult take_in(const Submission &submission, const std::vector<std::string> &submit_files,
                     const fs::path &destination) {
    try {
        fs::create_directories(destination);
        IntakeResult result = fs::is_directory(submission.source)
                                  ? from_directory(submission.source, submit_files, destination)
                                  : from_archive(submission.source, submit_files, destination);
        verify_manifest(submit_files, destination, result);
        return result;
    } catch (const std::exception &error) {
        IntakeResult result;
        result.problem = std::string("could not take the submission in: ") + error.what();
        return result;
    }
}

}  // namespace heaplab
