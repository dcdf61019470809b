/**
 * @file cmd_package.cpp
 * @brief The Gradescope autograder zip: `setup.sh` and `run_autograder` at its root, the HeapLab
 *        tree under `source/`.
 *
 * Gradescope unpacks the zip into /autograder/source and runs setup.sh once, as root, when it
 * builds the image; then run_autograder for every submission, which must leave
 * /autograder/results/results.json. setup.sh installs the Debian/Ubuntu packages, builds the
 * grader, creates an unprivileged user for student code, and closes the source tree to it
 * (solutions and hidden tests stay unreadable); run_autograder runs `heaplab gradescope`.
 */
#include "cmd_package.h"

#include "check.h"
#include "cli_error.h"

#include <archive.h>
#include <archive_entry.h>
#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace heaplab {
namespace fs = std::filesystem;
namespace {

std::string setup_script(const std::string &lab) {
    return fmt::format(R"SH(#!/usr/bin/env bash
# Gradescope runs this once, as root, while it builds the autograder image (HeapLab, lab {0}).
set -euo pipefail
source_dir=/autograder/source
cd "$source_dir"
apt-get update -qq
scripts/install-deps --core
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j"$(nproc)" --target heaplab
# The yardstick for throughput parts, when this tree has the reference allocator.
cmake --build build -j"$(nproc)" --target mm_reference || true

# Student code runs as this user: it can run the grader's programs and read the headers and
# traces it compiles and replays with, but not the solutions, the hidden tests or results.json.
id heaplab-student >/dev/null 2>&1 ||
    useradd --system --no-create-home --shell /usr/sbin/nologin heaplab-student
chmod -R go-rwx "$source_dir"
for dir in "$source_dir" "$source_dir/build" "$source_dir/common" "$source_dir/labs" "$source_dir/labs/{0}"; do
    if [ -d "$dir" ]; then chmod go+x "$dir"; fi
done
for dir in build/bin build/lib common/include traces labs/{0}/include; do
    if [ -d "$source_dir/$dir" ]; then chmod -R go+rX "$source_dir/$dir"; fi
done
mkdir -p /autograder/results && chmod 700 /autograder/results
)SH", lab);
}

std::string run_script(const std::string &lab) {
    return fmt::format(R"SH(#!/usr/bin/env bash
# Gradescope runs this for every submission (HeapLab, lab {0}); it writes
# /autograder/results/results.json, also when the submission is missing or broken.
# HEAPLAB_AUTOGRADER_ROOT moves /autograder (tests run this script in a temporary folder).
root=${{HEAPLAB_AUTOGRADER_ROOT:-/autograder}}
export HEAPLAB_AUTOGRADER_ROOT=$root
export HEAPLAB_STUDENT_USER=${{HEAPLAB_STUDENT_USER-heaplab-student}}
exec "$root/source/build/bin/heaplab" gradescope --lab {0}
)SH", lab);
}

/// Paths of the tree that go into the package: everything but builds, VCS data and scratch.
bool packaged(const fs::path &relative) {
    for (const auto &part : relative) {
        std::string name = part.string();
        if (name == ".git" || name == "build" || name.starts_with("build-") || name.ends_with(".configure.log") ||
            name == "handin.tar.gz")
            return false;
    }
    return true;
}

class ZipWriter {
public:
    explicit ZipWriter(const fs::path &path) : archive_(archive_write_new()) {
        archive_write_set_format_zip(archive_);
        if (archive_write_open_filename(archive_, path.c_str()) != ARCHIVE_OK)
            throw UsageError("cannot write " + path.string() + ": " + archive_error_string(archive_));
    }
    ~ZipWriter() {
        archive_write_close(archive_);
        archive_write_free(archive_);
    }
    ZipWriter(const ZipWriter &) = delete;
    ZipWriter &operator=(const ZipWriter &) = delete;
    void add(const std::string &name, const std::string &data, int mode) {
        archive_entry *entry = archive_entry_new();
        archive_entry_set_pathname(entry, name.c_str());
        archive_entry_set_filetype(entry, AE_IFREG);
        archive_entry_set_perm(entry, mode);
        archive_entry_set_size(entry, static_cast<la_int64_t>(data.size()));
        archive_write_header(archive_, entry);
        archive_write_data(archive_, data.data(), data.size());
        archive_entry_free(entry);
    }

private:
    archive *archive_;
};

}  // namespace

void add_package_command(CLI::App &app) {
    struct Settings {
        std::string lab;
        std::string gradescope;
    };
    auto settings = std::make_shared<Settings>();
    CLI::App *package = app.add_subcommand("package", "Package a lab for a grading platform");
    package->add_option("--lab", settings->lab, "the lab: 01, 01-bump")->required();
    package->add_option("--gradescope", settings->gradescope, "write a Gradescope autograder zip here")->required();
    package->callback([settings] {
        fs::path root = heaplab_root();
        std::string lab;
        std::error_code error;
        for (const auto &entry : fs::directory_iterator(root / "labs", error)) {
            std::string name = entry.path().filename().string();
            if ((name == settings->lab || name.starts_with(settings->lab + "-")) && fs::exists(entry.path() / "lab.toml"))
                lab = name;
        }
        if (lab.empty()) throw UsageError("no lab '" + settings->lab + "' in " + (root / "labs").string());
        ZipWriter zip(settings->gradescope);
        zip.add("setup.sh", setup_script(lab), 0755);
        zip.add("run_autograder", run_script(lab), 0755);
        std::size_t files = 0;
        for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it) {
            fs::path relative = fs::relative(it->path(), root);
            if (!packaged(relative)) {
                if (it->is_directory()) it.disable_recursion_pending();
                continue;
            }
            if (!it->is_regular_file() || it->is_symlink()) continue;
            std::ifstream in(it->path(), std::ios::binary);
            std::ostringstream data;
            data << in.rdbuf();
            auto perms = fs::status(it->path()).permissions();
            bool executable = (perms & fs::perms::owner_exec) != fs::perms::none;
            zip.add("source/" + relative.string(), data.str(), executable ? 0755 : 0644);
            ++files;
        }
        fmt::print("wrote {}: setup.sh, run_autograder and {} files of the HeapLab tree (lab {})\n",
                   settings->gradescope, files, lab);
    });
}

}  // namespace heaplab
