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

#include <nlohmann/json.hpp>

#include <cmath>
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

/// The result of one "runner" as GitHub Classroom's grading reporter reads it (base64-encoded
/// in the step's `result` output): points per part, so a step can earn part of its points.
std::string classroom_json(const CheckReport &report) {
    nlohmann::json tests = nlohmann::json::array();
    bool all = true;
    for (const PartResult &part : report.parts) {
        if (part.skipped) continue;
        bool passed = part.points + 1e-9 >= part.max_points;
        all = all && passed;
        std::string message = part.summary + (part.explanation.empty() ? "" : "\n" + part.explanation);
        tests.push_back({{"name", part.name},
                         {"status", passed ? "pass" : "fail"},
                         {"score", std::round(part.points * 100) / 100},
                         {"message", message},
                         {"test_code", "heaplab check --part '" + part.name + "'"},
                         {"filename", ""},
                         {"line_no", 0},
                         {"execution_time", "0s"}});
    }
    return nlohmann::json{{"version", 1}, {"status", all ? "pass" : "fail"},
                          {"max_score", report.max_score(false)}, {"tests", tests}}
        .dump();
}

}  // namespace

void add_check_command(CLI::App &app) {
    struct Settings {
        std::string lab_dir = ".";
        bool hidden = false;
        std::string part;
        std::string format = "text";
    };
    auto settings = std::make_shared<Settings>();
    CLI::App *check = app.add_subcommand("check", "Self-check the lab folder you stand in (public parts, with points)");
    check->add_option("lab_dir", settings->lab_dir, "the lab folder (default: here)");
    check->add_flag("--hidden", settings->hidden, "also grade the hidden parts (instructors)");
    check->add_option("--part", settings->part, "grade only this part of lab.toml");
    check->add_option("--format", settings->format,
                      "text (the report), or classroom (the JSON GitHub Classroom's grading reporter reads)")
        ->check(CLI::IsMember({"text", "classroom"}));
    check->callback([settings] {
        fs::path lab_dir = fs::absolute(settings->lab_dir);
        fs::path toml = lab_dir / "lab.toml";
        if (!fs::exists(toml)) throw UsageError(lab_dir.string() + " is not a lab folder: it has no lab.toml");
        LabSpec spec = read_lab_spec(toml.string());
        if (!settings->part.empty()) {
            std::erase_if(spec.parts, [&](const LabPart &part) { return part.name != settings->part; });
            if (spec.parts.empty()) throw UsageError("lab.toml has no part named '" + settings->part + "'");
        }
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
        if (settings->format == "classroom") {
            std::cout << classroom_json(report) << "\n";
        } else {
            std::cout << format_report(report);
        }
        if (report.score() + 1e-9 < report.max_score(false)) throw CLI::RuntimeError(kExitFailed);
    });
}

}  // namespace heaplab
