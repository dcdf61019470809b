/**
 * @file cmd_check.cpp
 * @brief `heaplab check [LAB_DIR] [--hidden]`: grades the lab folder's own files, prints the
 *        xv6-style report, exits 0 only on full marks (of the parts it ran).
 */
#include "cmd_check.h"

#include "check.h"
#include "cli_error.h"
#include "lab_spec.h"

#include <fmt/format.h>

#include <filesystem>
#include <iostream>

namespace heaplab {
namespace fs = std::filesystem;
namespace {

/// The HeapLab tree a lab folder belongs to: two levels up (labs/NN-name), else this build's.
fs::path find_root(const fs::path &lab_dir) {
    fs::path candidate = fs::weakly_canonical(lab_dir / ".." / "..");
    if (fs::exists(candidate / "common" / "include" / "heaplab" / "mm.h")) return candidate;
    return heaplab_root();
}

}  // namespace

void add_check_command(CLI::App &app) {
    struct Settings {
        std::string lab_dir = ".";
        bool hidden = false;
    };
    auto settings = std::make_shared<Settings>();
    CLI::App *check = app.add_subcommand("check", "Self-check the lab folder you stand in (public parts, with points)");
    check->add_option("lab_dir", settings->lab_dir, "the lab folder (default: here)");
    check->add_flag("--hidden", settings->hidden, "also grade the hidden parts (instructors)");
    check->callback([settings] {
        fs::path lab_dir = fs::absolute(settings->lab_dir);
        fs::path toml = lab_dir / "lab.toml";
        if (!fs::exists(toml)) throw UsageError(lab_dir.string() + " is not a lab folder: it has no lab.toml");
        LabSpec spec = read_lab_spec(toml.string());
        CheckSetup setup;
        setup.root = find_root(lab_dir);
        setup.heaplab = fs::read_symlink("/proc/self/exe");
        setup.include_hidden = settings->hidden;
        CheckReport report;
        try {
            report = check_submission(spec, lab_dir, lab_dir, lab_dir / "build" / "check", setup);
        } catch (const std::exception &error) {
            throw UsageError(std::string("grader error: ") + error.what());
        }
        std::cout << format_report(report);
        if (report.score() + 1e-9 < report.max_score(false)) throw CLI::RuntimeError(kExitFailed);
    });
}

}  // namespace heaplab
