/**
 * @file cmd_lab.cpp
 * @brief `heaplab lab skeleton|strip|bugs|mutate|expect-fail|points|verify-grades`.
 *
 * These are build tools: CMake calls them to make each stage's skeleton and buggy variants from
 * its solution, and to run the tests that prove the tests catch each variant. Instructors call
 * them when they change a solution (`make skeletons`). `verify-grades` grades the solution, the
 * skeleton and every variant through the real grader (verify_grades.h).
 */
#include "cmd_lab.h"

#include "check.h"
#include "cli_error.h"
#include "lab_spec.h"
#include "lab_sources.h"
#include "process.h"
#include "verify_grades.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <unistd.h>

namespace heaplab {
namespace {

std::string read_file(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw UsageError("cannot read " + path + ": " + std::strerror(errno));
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

/// Writes @p text to @p path, or to stdout when @p path is empty or "-". Leaves an existing
/// file untouched when its contents are already right (so make does not rebuild).
void write_output(const std::string &path, const std::string &text) {
    if (path.empty() || path == "-") {
        std::cout << text;
        return;
    }
    {
        std::ifstream existing(path, std::ios::binary);
        if (existing) {
            std::ostringstream old;
            old << existing.rdbuf();
            if (old.str() == text) return;
        }
    }
    std::ofstream out(path, std::ios::binary);
    out << text;
    if (!out) throw UsageError("cannot write " + path + ": " + std::strerror(errno));
}

/// Wraps a source-file error as a usage error (one line, exit 2).
template <typename Function>
auto guarded(Function function) {
    try {
        return function();
    } catch (const LabSourceError &error) {
        throw UsageError(error.what());
    }
}

struct ExpectFail {
    std::string contains;
    std::string bugs;  ///< alternatively: take `contains` from this bugs.toml's entry ...
    std::string bug;   ///< ... named this
    bool no_crash = false;
    double test_seconds = 30;
    std::vector<std::string> command;
};

/// Runs every test of a GoogleTest binary in a process of its own (a crash in one test must
/// not hide the messages of the others); passes when some test fails and the output of the
/// failing tests contains @p contains.
///
/// Without --no-crash (a bug variant), the verdict is settled by the first failing test whose
/// output holds the words: the rest are not run. A variant that loops costs each test that
/// meets it its whole time limit, and those tests are often the later ones.
int expect_fail(const ExpectFail &settings) {
    if (settings.command.empty()) throw UsageError("expect-fail: no command given");
    std::string problem;
    std::vector<std::string> tests = list_tests(settings.command[0], "*", settings.test_seconds, Sandbox{}, &problem);
    if (!problem.empty()) throw UsageError(problem);
    std::string failures;
    std::size_t failed = 0, crashed = 0, ran = 0;
    std::string settled_by;
    for (const std::string &test : tests) {
        std::vector<std::string> args = settings.command;
        args.push_back("--gtest_filter=" + test);
        // A variant may loop forever: each test gets a time limit, as the grader gives it.
        RunLimits limits;
        limits.seconds = settings.test_seconds;
        RunResult outcome = run(args, limits);
        ++ran;
        if (outcome.ok()) continue;
        ++failed;
        failures += outcome.output;
        if (outcome.signal != 0) {
            ++crashed;
            failures += fmt::format("{} crashed ({})\n", test, strsignal(outcome.signal));
        } else if (outcome.timed_out) {
            failures += fmt::format("{} {}\n", test, outcome.describe(limits.seconds));
        } else if (outcome.exit_code != 1) {
            failures += fmt::format("{} ended with status {}\n", test, outcome.exit_code);
        }
        if (!settings.no_crash && !settings.contains.empty() && failures.find(settings.contains) != std::string::npos) {
            settled_by = test;
            break;
        }
    }
    std::cout << failures;
    fmt::print("\nexpect-fail: {} of {} tests failed ({} crashed)\n", failed, ran, crashed);
    if (ran < tests.size())
        fmt::print("expect-fail: {} caught it; the other {} tests were not run (they cannot change the verdict)\n",
                   settled_by, tests.size() - ran);
    if (failed == 0) {
        fmt::print("expect-fail: every test PASSED on this variant, but they must catch it\n");
        return kExitFailed;
    }
    if (settings.no_crash && crashed > 0) {
        fmt::print("expect-fail: tests crashed instead of failing cleanly: a test must ASSERT that a pointer is "
                   "not NULL before using it\n");
        return kExitFailed;
    }
    if (failures.find(settings.contains) == std::string::npos) {
        fmt::print("expect-fail: the tests failed, but no message says \"{}\": the failure must point at the "
                   "mistake\n",
                   settings.contains);
        return kExitFailed;
    }
    fmt::print("expect-fail: caught, and the output says \"{}\"\n", settings.contains);
    return 0;
}

}  // namespace

void add_lab_command(CLI::App &app) {
    CLI::App *lab = app.add_subcommand("lab", "Tools that make a lab's files from its solution");
    lab->require_subcommand(1);

    struct Paths {
        std::string input, output, bugs, bug, compare;
    };
    auto paths = std::make_shared<Paths>();

    CLI::App *skeleton = lab->add_subcommand("skeleton", "Print the skeleton made from a solution");
    skeleton->add_option("solution", paths->input, "solutions/NN-name/mm.cpp")->required();
    skeleton->add_option("-o,--out", paths->output, "write here instead of stdout");
    skeleton->add_option("--compare", paths->compare, "exit 1 unless this file equals the skeleton");
    skeleton->callback([paths] {
        std::string text = guarded([&] { return make_skeleton(read_file(paths->input), paths->input); });
        if (!paths->compare.empty()) {
            std::ifstream committed(paths->compare, std::ios::binary);
            std::ostringstream old;
            old << committed.rdbuf();
            if (!committed || old.str() != text) {
                fmt::print(stderr,
                           "{} is not the skeleton generated from {}: edit the solution, then run "
                           "`make skeletons` to regenerate it\n",
                           paths->compare, paths->input);
                throw CLI::RuntimeError(kExitFailed);
            }
            fmt::print("{} matches its solution\n", paths->compare);
            return;
        }
        write_output(paths->output, text);
    });

    CLI::App *strip = lab->add_subcommand("strip", "Print a solution without its markers and stubs");
    strip->add_option("solution", paths->input, "solutions/NN-name/mm.cpp")->required();
    strip->add_option("-o,--out", paths->output, "write here instead of stdout");
    strip->callback([paths] {
        write_output(paths->output, guarded([&] { return strip_markers(read_file(paths->input), paths->input); }));
    });

    CLI::App *bugs = lab->add_subcommand("bugs", "List the bug names of a bugs.toml, one per line");
    bugs->add_option("bugs", paths->bugs, "solutions/NN-name/bugs.toml")->required();
    bugs->callback([paths] {
        for (const Bug &bug : guarded([&] { return read_bugs(paths->bugs); })) fmt::print("{}\n", bug.name);
    });

    CLI::App *mutate = lab->add_subcommand("mutate", "Print the solution with one classic mistake applied");
    mutate->add_option("solution", paths->input, "solutions/NN-name/mm.cpp")->required();
    mutate->add_option("--bugs", paths->bugs, "solutions/NN-name/bugs.toml")->required();
    mutate->add_option("--bug", paths->bug, "the bug's name")->required();
    mutate->add_option("-o,--out", paths->output, "write here instead of stdout");
    mutate->callback([paths] {
        guarded([&] {
            std::string solution = strip_markers(read_file(paths->input), paths->input);
            for (const Bug &bug : read_bugs(paths->bugs)) {
                if (bug.name != paths->bug) continue;
                std::string banner = "// Buggy variant '" + bug.name + "' of " + paths->input + ":\n// " +
                                     bug.mistake + "\n";
                write_output(paths->output, banner + apply_bug(solution, bug));
                return 0;
            }
            throw UsageError("no bug named '" + paths->bug + "' in " + paths->bugs);
        });
    });

    auto expect = std::make_shared<ExpectFail>();
    CLI::App *expect_fail_command = lab->add_subcommand(
        "expect-fail", "Run a test binary that must fail, with output containing the given words");
    expect_fail_command->add_option("--contains", expect->contains, "words the output must contain");
    expect_fail_command->add_option("--bugs", expect->bugs, "take the words from this bugs.toml ...");
    expect_fail_command->add_option("--bug", expect->bug, "... from the entry of this bug");
    expect_fail_command->add_flag("--no-crash", expect->no_crash, "a crash (signal) is not a clean failure");
    expect_fail_command->add_option("--test-seconds", expect->test_seconds, "time limit of each test")->capture_default_str();
    expect_fail_command->add_option("command", expect->command, "the command, after --")->required();
    expect_fail_command->callback([expect] {
        if (!expect->bugs.empty()) {
            guarded([&] {
                for (const Bug &bug : read_bugs(expect->bugs))
                    if (bug.name == expect->bug) expect->contains = bug.expect;
                return 0;
            });
            if (expect->contains.empty()) throw UsageError("no bug named '" + expect->bug + "' in " + expect->bugs);
        }
        if (expect->contains.empty()) throw UsageError("expect-fail needs --contains, or --bugs and --bug");
        int status = expect_fail(*expect);
        if (status != 0) throw CLI::RuntimeError(status);
    });

    auto verify = std::make_shared<VerifyGradesSettings>();
    CLI::App *verify_command = lab->add_subcommand(
        "verify-grades",
        "Grade a lab's solution, skeleton and bugs.toml variants with the real grader: the solution full marks "
        "every run, the skeleton low, each bug losing exactly the parts its `loses` names");
    verify_command->add_option("lab_dir", verify->lab_dir, "labs/NN-name (solutions/NN-name beside it)")->required();
    verify_command->add_option("--runs", verify->runs, "grade the solution this many times")->capture_default_str();
    verify_command->add_option("--jobs,-j", verify->jobs, "gradings at once")->capture_default_str();
    verify_command->add_option("--skeleton-at-most", verify->skeleton_at_most,
                               "the skeleton may score at most this fraction of the marks")
        ->capture_default_str();
    verify_command->add_option("--bug", verify->only_bugs, "only this bug (repeatable)");
    verify_command->add_flag("--no-bugs{false}", verify->bugs, "skip the bugs.toml variants");
    verify_command->add_flag("--no-skeleton{false}", verify->skeleton, "skip the skeleton");
    verify_command->add_flag("--quick", verify->quick,
                             "make test's form: only the bugs that lose the traces part (no Memcheck run) and are "
                             "not slow, and any bug without a `loses` (it fails)");
    verify_command->add_option("--bugs", verify->bugs_toml, "grade the bugs of this file (default: solutions/NN-name/bugs.toml)");
    verify_command->add_option("--work", verify->work, "scratch folder, kept (default: a temporary one, removed)");
    verify_command->callback([verify] {
        if (!verify_grades(*verify)) throw CLI::RuntimeError(kExitFailed);
    });

    CLI::App *points = lab->add_subcommand("points", "Print a lab's point table (Markdown) from its lab.toml");
    points->add_option("lab_toml", paths->input, "labs/NN-name/lab.toml")->required();
    points->add_option("--check", paths->compare, "exit 1 unless this handout contains the table");
    points->callback([paths] {
        LabSpec spec = read_lab_spec(paths->input);
        std::string table = points_table(spec);
        if (!paths->compare.empty()) {
            std::string handout = read_file(paths->compare);
            if (handout.find(table) == std::string::npos) {
                fmt::print(stderr,
                           "{} does not contain the point table generated from {}; put this between its "
                           "<!-- points --> markers (or run `make handouts`):\n{}",
                           paths->compare, paths->input, table);
                throw CLI::RuntimeError(kExitFailed);
            }
            fmt::print("{} shows the points of {}\n", paths->compare, paths->input);
            return;
        }
        std::cout << table;
    });
}

}  // namespace heaplab
