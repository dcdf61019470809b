/**
 * @file verify_grades.cpp
 * @brief The solution, the skeleton and every bug variant graded by the real grader, each verdict
 *        checked against what it must be (see verify_grades.h).
 */
#include "verify_grades.h"

#include "check.h"
#include "cli_error.h"
#include "lab_sources.h"
#include "lab_spec.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

namespace heaplab {
namespace fs = std::filesystem;
namespace {

/// Points are sums of fractions: compare them with a little room.
constexpr double kEpsilon = 1e-6;

std::string read_text(const fs::path &path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw UsageError("cannot read " + path.string());
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

void write_text(const fs::path &path, const std::string &text) {
    fs::create_directories(path.parent_path());
    std::ofstream out(path, std::ios::binary);
    out << text;
    if (!out) throw UsageError("cannot write " + path.string());
}

std::string number(double points) {
    double rounded = std::round(points * 100) / 100;
    return fmt::format("{:g}", rounded);
}

std::string first_lines(const std::string &text, std::size_t count, const std::string &indent) {
    std::istringstream in(text);
    std::string out;
    std::size_t n = 0;
    for (std::string line; n < count && std::getline(in, line); ++n) out += indent + line + "\n";
    return out;
}

std::string joined(const std::vector<std::string> &names) {
    std::string out;
    for (const std::string &name : names) out += (out.empty() ? "" : ", ") + name;
    return out;
}

/// The instructor tree a lab folder belongs to (labs/NN-name: two levels up), else this build's.
fs::path tree_of(const fs::path &lab_dir) {
    fs::path candidate = fs::weakly_canonical(lab_dir / ".." / "..");
    if (fs::exists(candidate / "common" / "include" / "heaplab" / "mm.h")) return candidate;
    return heaplab_root();
}

/// One thing to grade.
struct Variant {
    enum class Kind { Solution, Skeleton, Bug } kind;
    std::string label;   ///< "solution, run 3/10", "skeleton", "bug footer-not-counted"
    fs::path files;      ///< the folder holding the submitted files
    const Bug *bug = nullptr;
    int run = 0;         ///< the solution's run, from 1
};

/// What one grading found, and what is wrong with it.
struct Outcome {
    CheckReport report;
    bool graded = false;            ///< false: check_submission() threw (a grader error)
    std::vector<std::string> problems;
    double seconds = 0;
};

bool full(const PartResult &part) { return part.points + kEpsilon >= part.max_points; }

/// The part's verdict, one line: "2.5/5 (8/16 traces)".
std::string verdict(const PartResult &part) {
    return fmt::format("{}/{} ({})", number(part.points), number(part.max_points), part.summary);
}

std::string explained(const PartResult &part) {
    return part.explanation.empty() ? "" : "\n" + first_lines(part.explanation, 4, "          ");
}

/// What no variant may meet, because it is the grader failing rather than the submission: a
/// part not graded although hidden parts are on, a test filter matching no test of a program
/// that starts, a replay or a Valgrind run that ended without a verdict.
std::vector<std::string> grader_errors(const CheckReport &report) {
    std::vector<std::string> errors;
    for (const PartResult &part : report.parts) {
        if (part.skipped) {
            errors.push_back(fmt::format("part '{}' was not graded ({})", part.name, part.summary));
        } else if (part.summary == "no tests") {
            errors.push_back(fmt::format("part '{}' ran no test: {}", part.name, part.explanation));
        } else if (part.summary == "replay failed" && part.explanation.starts_with("the replay did not finish")) {
            errors.push_back(fmt::format("part '{}': {}", part.name, first_lines(part.explanation, 3, "")));
        } else if (part.kind == "memcheck" && part.summary == "did not finish") {
            errors.push_back(fmt::format("part '{}': Valgrind did not finish: {}", part.name,
                                         first_lines(part.explanation, 3, "")));
        }
    }
    return errors;
}

/// The problems of one graded variant (none: it is graded as it must be).
std::vector<std::string> judge(const Variant &variant, const Outcome &outcome, double skeleton_at_most) {
    std::vector<std::string> problems;
    const CheckReport &report = outcome.report;
    if (!report.built) {
        problems.push_back("it does not build: " + first_lines(report.build_output, 6, ""));
        return problems;
    }
    if (!report.forbidden.empty()) problems.push_back("the grader refused what it uses: " + joined(report.forbidden));
    switch (variant.kind) {
    case Variant::Kind::Solution:
        for (const PartResult &part : report.parts)
            if (!full(part)) problems.push_back(fmt::format("part '{}' scored {}{}", part.name, verdict(part), explained(part)));
        for (const std::string &error : grader_errors(report)) problems.push_back(error);
        break;
    case Variant::Kind::Skeleton: {
        double fraction = report.score() / std::max(1.0, report.max_score(true));
        if (fraction > skeleton_at_most + kEpsilon)
            problems.push_back(fmt::format("it scores {}/{} ({:.0f}%), more than the {:.0f}% a skeleton may",
                                           number(report.score()), number(report.max_score(true)), 100 * fraction,
                                           100 * skeleton_at_most));
        for (const std::string &error : grader_errors(report)) problems.push_back("grader error: " + error);
        break;
    }
    case Variant::Kind::Bug: {
        if (variant.bug->loses.empty()) {
            // Graded anyway, so that the instructor sees what to declare.
            std::string lost;
            for (const PartResult &part : report.parts)
                if (!full(part)) lost += (lost.empty() ? "\"" : ", \"") + part.name + "\"";
            problems.push_back("bugs.toml gives it no `loses`; what it loses now would be declared as: loses = [" + lost + "]");
            break;
        }
        std::set<std::string> declared(variant.bug->loses.begin(), variant.bug->loses.end());
        std::set<std::string> racy(variant.bug->may_lose.begin(), variant.bug->may_lose.end());
        for (const PartResult &part : report.parts) {
            bool lost = !full(part);
            if (racy.contains(part.name)) continue;  // a race decides: either verdict is right
            if (lost && !declared.contains(part.name))
                problems.push_back(fmt::format("part '{}' scored {}, but `loses` does not name it{}", part.name,
                                               verdict(part), explained(part)));
            if (!lost && declared.contains(part.name))
                problems.push_back(fmt::format("part '{}' scored full marks, {}, but `loses` says it must catch this bug",
                                               part.name, verdict(part)));
        }
        break;
    }
    }
    return problems;
}

/// "build 2.1 s, tests 6.0 s, traces 1.2 s, memcheck 14.3 s": where the time of a grading went.
std::string timing(const CheckReport &report) {
    std::vector<std::pair<std::string, double>> kinds;
    for (std::size_t i = 0; i < report.parts.size() && i < report.part_seconds.size(); ++i) {
        const std::string &kind = report.parts[i].kind;
        auto found = std::find_if(kinds.begin(), kinds.end(), [&](const auto &entry) { return entry.first == kind; });
        if (found == kinds.end()) {
            kinds.emplace_back(kind, report.part_seconds[i]);
        } else {
            found->second += report.part_seconds[i];
        }
    }
    std::string out = fmt::format("build {:.1f} s", report.build_seconds);
    for (const auto &[kind, seconds] : kinds) out += fmt::format(", {} {:.1f} s", kind, seconds);
    return out;
}

/// The stripped solution files of the lab, by submitted name.
std::map<std::string, std::string> solution_files(const LabSpec &spec, const fs::path &solution_dir) {
    std::map<std::string, std::string> files;
    for (const std::string &name : spec.submit) {
        fs::path source = solution_dir / name;
        if (!fs::exists(source))
            throw UsageError(fmt::format("{} has no {}: the solution of every submitted file is needed", solution_dir.string(), name));
        try {
            files[name] = strip_markers(read_text(source), source.string());
        } catch (const LabSourceError &error) {
            throw UsageError(error.what());
        }
    }
    return files;
}

}  // namespace

bool verify_grades(const VerifyGradesSettings &settings) {
    auto started = std::chrono::steady_clock::now();
    if (settings.runs < 1) throw UsageError("--runs must be at least 1");
    int runs = settings.quick ? 0 : settings.runs;
    if (settings.jobs < 1) throw UsageError("--jobs must be at least 1");
    fs::path lab_dir = fs::absolute(settings.lab_dir);
    if (!fs::exists(lab_dir / "lab.toml")) throw UsageError(lab_dir.string() + " is not a lab folder: it has no lab.toml");
    LabSpec spec = read_lab_spec((lab_dir / "lab.toml").string());
    CheckSetup setup;
    setup.root = tree_of(lab_dir);
    setup.heaplab = fs::read_symlink("/proc/self/exe");
    setup.include_hidden = true;
    fs::path solution_dir = setup.root / "solutions" / spec.id;
    if (!fs::is_directory(solution_dir))
        throw UsageError("no " + solution_dir.string() + ": verify-grades needs the instructor's tree, with the solutions");
    std::map<std::string, std::string> solution = solution_files(spec, solution_dir);

    // The bugs, each with an exact `loses` naming parts this lab has.
    std::vector<Bug> bugs;
    fs::path bugs_toml = settings.bugs_toml.empty() ? solution_dir / "bugs.toml" : settings.bugs_toml;
    if (!settings.bugs_toml.empty() && !fs::exists(bugs_toml)) throw UsageError("no " + bugs_toml.string());
    if (settings.bugs && fs::exists(bugs_toml)) {
        try {
            bugs = read_bugs(bugs_toml.string());
        } catch (const LabSourceError &error) {
            throw UsageError(error.what());
        }
        std::vector<std::string> part_names;
        for (const LabPart &part : spec.parts) part_names.push_back("'" + part.name + "'");
        for (const Bug &bug : bugs) {
            std::vector<std::string> named = bug.loses;
            named.insert(named.end(), bug.may_lose.begin(), bug.may_lose.end());
            for (const std::string &name : named)
                if (std::none_of(spec.parts.begin(), spec.parts.end(), [&](const LabPart &p) { return p.name == name; }))
                    throw UsageError(fmt::format("{}: bug '{}' loses '{}', which is not a part of {} (its parts: {})",
                                                 bugs_toml.string(), bug.name, name, spec.path, joined(part_names)));
            if (!bug.file.empty() && !solution.contains(bug.file))
                throw UsageError(fmt::format("{}: bug '{}' changes {}, which the lab does not take in", bugs_toml.string(),
                                             bug.name, bug.file));
        }
        for (const std::string &name : settings.only_bugs)
            if (std::none_of(bugs.begin(), bugs.end(), [&](const Bug &bug) { return bug.name == name; }))
                throw UsageError("no bug named '" + name + "' in " + bugs_toml.string());
        if (!settings.only_bugs.empty())
            std::erase_if(bugs, [&](const Bug &bug) {
                return std::find(settings.only_bugs.begin(), settings.only_bugs.end(), bug.name) == settings.only_bugs.end();
            });
    }
    // The quick form grades only what is cheap (a bug that fails the traces is spared Memcheck),
    // and every bug without a declaration, which fails, printing the `loses` it would need.
    if (settings.quick) {
        auto loses_traces = [&](const Bug &bug) {
            return std::any_of(bug.loses.begin(), bug.loses.end(), [&](const std::string &name) {
                return std::any_of(spec.parts.begin(), spec.parts.end(),
                                   [&](const LabPart &part) { return part.name == name && part.kind == "traces"; });
            });
        };
        std::erase_if(bugs, [&](const Bug &bug) { return !bug.loses.empty() && (bug.slow || !loses_traces(bug)); });
    }

    // A scratch folder: the variants' files, their builds, and the lab's tests compiled once.
    bool own_work = settings.work.empty();
    fs::path work = settings.work;
    if (own_work) {
        std::string pattern = (fs::temp_directory_path() / "heaplab-verify-XXXXXX").string();
        if (mkdtemp(pattern.data()) == nullptr) throw UsageError("cannot make a scratch folder in " + fs::temp_directory_path().string());
        work = pattern;
    }
    work = fs::absolute(work);
    fs::create_directories(work);
    setup.objects_cache = lab_objects_cache(setup, lab_dir, spec, work / "lab-objects");

    std::vector<Variant> variants;
    fs::path solution_files_dir = work / "variants" / "solution";
    for (const auto &[name, text] : solution) write_text(solution_files_dir / name, text);
    for (int run = 1; run <= runs; ++run)
        variants.push_back({Variant::Kind::Solution, fmt::format("solution, run {}/{}", run, runs),
                            solution_files_dir, nullptr, run});
    if (settings.skeleton && !settings.quick) variants.push_back({Variant::Kind::Skeleton, "skeleton", lab_dir, nullptr, 0});
    for (const Bug &bug : bugs) {
        fs::path dir = work / "variants" / ("bug-" + bug.name);
        std::string changed = bug.file.empty() ? spec.submit.front() : bug.file;
        for (const auto &[name, text] : solution) {
            try {
                write_text(dir / name, name == changed ? apply_bug(text, bug) : text);
            } catch (const LabSourceError &error) {
                throw UsageError(bugs_toml.string() + ": " + error.what());
            }
        }
        variants.push_back({Variant::Kind::Bug, "bug " + bug.name, dir, &bug, 0});
    }

    if (settings.quick) {
        fmt::print("verify-grades {} (quick): the {} bug variant{} that lose the traces part and are not slow, or declare "
                   "nothing; the solution, the skeleton and the other bugs are left to the full run; {} job{}\n",
                   spec.id, bugs.size(), bugs.size() == 1 ? "" : "s", settings.jobs, settings.jobs == 1 ? "" : "s");
    } else {
        fmt::print("verify-grades {}: the solution {} time{}{}, {} bug variant{}; {} job{}\n", spec.id, runs,
                   runs == 1 ? "" : "s", settings.skeleton ? ", the skeleton" : "", bugs.size(), bugs.size() == 1 ? "" : "s",
                   settings.jobs, settings.jobs == 1 ? "" : "s");
    }

    std::fflush(stdout);
    try {
        build_lab_objects(lab_dir, spec.id, setup.objects_cache, setup, lab_flags(spec, lab_dir));
    } catch (const std::exception &error) {
        throw UsageError(std::string("grader error: ") + error.what());
    }

    std::vector<Outcome> outcomes(variants.size());
    std::atomic<std::size_t> next{0};
    std::mutex print;
    std::size_t width = 0;
    for (const Variant &variant : variants) width = std::max(width, variant.label.size());
    auto worker = [&] {
        for (std::size_t i; (i = next.fetch_add(1)) < variants.size();) {
            const Variant &variant = variants[i];
            Outcome &outcome = outcomes[i];
            auto began = std::chrono::steady_clock::now();
            fs::path scratch = work / "grading" / fmt::format("{}-{}", i, variant.kind == Variant::Kind::Bug ? variant.bug->name : "lab");
            try {
                outcome.report = check_submission(spec, lab_dir, variant.files, scratch, setup);
                outcome.graded = true;
                outcome.problems = judge(variant, outcome, settings.skeleton_at_most);
            } catch (const std::exception &error) {
                outcome.problems.push_back(std::string("grader error: ") + error.what());
            }
            outcome.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
            std::error_code ignored;
            fs::remove_all(scratch, ignored);

            std::string line;
            if (outcome.graded) {
                const CheckReport &report = outcome.report;
                std::string what = fmt::format("{}/{}", number(report.score()), number(report.max_score(true)));
                if (variant.kind == Variant::Kind::Bug) {
                    std::vector<std::string> lost;
                    for (const PartResult &part : report.parts)
                        if (!full(part)) lost.push_back(part.name);
                    what += lost.empty() ? ", loses nothing" : ", loses " + joined(lost);
                }
                line = fmt::format("{:<4}  {:<{}}  {}   [{:.1f} s: {}]\n", outcome.problems.empty() ? "ok" : "FAIL",
                                   variant.label, width, what, outcome.seconds, timing(report));
            } else {
                line = fmt::format("FAIL  {:<{}}  not graded   [{:.1f} s]\n", variant.label, width, outcome.seconds);
            }
            for (const std::string &problem : outcome.problems) line += first_lines(problem, 12, "      - ");
            std::lock_guard lock(print);
            fmt::print("{}", line);
            std::fflush(stdout);
        }
    };
    std::vector<std::thread> workers;
    for (int j = 0; j < std::min<int>(settings.jobs, static_cast<int>(variants.size())); ++j) workers.emplace_back(worker);
    for (std::thread &thread : workers) thread.join();

    // The solution must score the same in every run, part by part: any difference is a flaky test.
    std::vector<std::string> flaky;
    const Outcome *first_run = nullptr;
    for (std::size_t i = 0; i < variants.size(); ++i) {
        if (variants[i].kind != Variant::Kind::Solution || !outcomes[i].graded) continue;
        if (first_run == nullptr) {
            first_run = &outcomes[i];
            continue;
        }
        const CheckReport &a = first_run->report, &b = outcomes[i].report;
        for (std::size_t p = 0; p < a.parts.size() && p < b.parts.size(); ++p)
            if (std::abs(a.parts[p].points - b.parts[p].points) > kEpsilon)
                flaky.push_back(fmt::format("part '{}' scored {} in run 1 but {} in run {}", a.parts[p].name,
                                            number(a.parts[p].points), number(b.parts[p].points), variants[i].run));
    }
    for (const std::string &problem : flaky) fmt::print("FAIL  the solution's runs differ: {}\n", problem);

    std::size_t failed = 0;
    for (const Outcome &outcome : outcomes)
        if (!outcome.problems.empty()) ++failed;
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    bool ok = failed == 0 && flaky.empty();
    fmt::print("verify-grades {}: {} gradings, {} as they must be, {} not{}; {:.0f} s\n", spec.id, outcomes.size(),
               outcomes.size() - failed, failed, flaky.empty() ? "" : fmt::format(", {} flaky part scores", flaky.size()),
               seconds);
    if (own_work) {
        std::error_code ignored;
        fs::remove_all(work, ignored);
    }
    return ok;
}

}  // namespace heaplab
