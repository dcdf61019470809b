/**
 * @file check.cpp
 * @brief Build, integrity, and the parts of a lab (see check.h).
 */
#include "check.h"

#include "cli_error.h"
#include "heaplab/replay.h"
#include "process.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <unistd.h>
#include <cmath>
#include <fstream>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

namespace heaplab {
namespace fs = std::filesystem;
namespace {

constexpr double kCompileSeconds = 180;
/// Processes and threads one student run may have at once: the compiler, Valgrind and the
/// threaded tests need a few dozen; a fork bomb stops here instead of filling the machine.
constexpr std::size_t kStudentProcesses = 256;

/// What a student process may touch: write only its scratch folder; the hidden tests' sources
/// are covered.
Sandbox sandbox_for(const fs::path &scratch, const CheckSetup &setup) {
    Sandbox sandbox;
    sandbox.enabled = setup.sandbox;
    sandbox.uid = setup.student_uid;
    sandbox.gid = setup.student_gid;
    sandbox.max_processes = kStudentProcesses;
    sandbox.writable.push_back(fs::absolute(scratch).string());
    fs::path hidden = setup.root / "grader" / "hidden";
    if (fs::is_directory(hidden)) sandbox.hidden.push_back(fs::canonical(hidden).string());
    return sandbox;
}

std::string read_text(const fs::path &path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

/// The first @p count lines of @p text.
std::string first_lines(const std::string &text, std::size_t count) {
    std::istringstream in(text);
    std::string out;
    std::size_t n = 0;
    for (std::string line; n < count && std::getline(in, line); ++n) out += line + "\n";
    return out;
}

bool is_c(const std::string &file) { return file.ends_with(".c"); }

/// Compiles one source to an object; the compiler's output goes to @p log.
bool compile(const fs::path &source, const fs::path &object, const fs::path &root, bool as_c,
             const std::vector<std::string> &extra, std::string &log, const Sandbox &sandbox = {}) {
    std::vector<std::string> argv = {as_c ? "gcc" : "g++", as_c ? "-std=gnu11" : "-std=c++20", "-g", "-O1", "-fPIC",
                                     "-Wall", "-Wextra"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back("-I" + (root / "common" / "include").string());
    // Compiled from its own folder, so that messages say "mm.cpp:12:3", not a scratch path.
    argv.insert(argv.end(), {"-c", source.filename().string(), "-o", fs::absolute(object).string()});
    RunLimits limits;
    limits.seconds = kCompileSeconds;
    limits.working_directory = fs::absolute(source).parent_path().string();
    limits.sandbox = sandbox;
    RunResult result = run(argv, limits);
    log += result.output;
    return result.ok();
}

/// Whether @p object is newer than every file it was made from, as the compiler listed them in
/// @p deps (`-MMD`), the source @p source among them. Relative names are relative to the source's
/// folder, where compile() runs the compiler.
bool up_to_date(const fs::path &source, const fs::path &object, const fs::path &deps) {
    std::error_code error;
    fs::file_time_type built = fs::last_write_time(object, error);
    if (error) return false;
    std::ifstream in(deps);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::size_t colon = text.find(": ");
    if (colon == std::string::npos) return false;
    std::istringstream words(text.substr(colon + 2));
    fs::path folder = fs::absolute(source).parent_path();
    bool has_source = false;
    for (std::string word; words >> word;) {
        if (word == "\\") continue;  // a line continuation
        fs::path dependency = fs::path(word).is_absolute() ? fs::path(word) : folder / word;
        fs::file_time_type changed = fs::last_write_time(dependency, error);
        if (error || changed > built) return false;
        if (fs::equivalent(dependency, source, error)) has_source = true;
    }
    return has_source;
}

/// Compiles unless the object is newer than its source and every header it includes (the lab's
/// tests: built once, reused by every submission and every batch). The object appears by a
/// rename, whole: another grader sharing the cache never links half of one.
bool compile_cached(const fs::path &source, const fs::path &object, const fs::path &root,
                    const std::vector<std::string> &extra, std::string &log) {
    fs::path deps = object;
    deps += ".d";
    if (up_to_date(source, object, deps)) return true;
    std::string unique = fmt::format(".{}-{}.tmp", getpid(), std::hash<std::thread::id>{}(std::this_thread::get_id()));
    fs::path new_object = object.string() + unique, new_deps = deps.string() + unique;
    std::vector<std::string> flags = extra;
    flags.insert(flags.end(), {"-MMD", "-MF", fs::absolute(new_deps).string()});
    bool ok = compile(source, new_object, root, false, flags, log);
    std::error_code error;
    if (ok) {
        fs::rename(new_deps, deps, error);
        fs::rename(new_object, object, error);
        ok = !error;
    }
    fs::remove(new_object, error);
    fs::remove(new_deps, error);
    return ok;
}

int count_warnings(const std::string &compiler_output) {
    int warnings = 0;
    std::istringstream in(compiler_output);
    for (std::string line; std::getline(in, line);)
        if (line.find(": warning: ") != std::string::npos) ++warnings;
    return warnings;
}

/// Undefined symbols of the student object that the lab does not allow.
std::vector<std::string> forbidden_symbols(const fs::path &object, const LabSpec &spec) {
    RunLimits limits;
    limits.seconds = 30;
    RunResult nm = run({"nm", "-u", "--format=posix", object.string()}, limits);
    std::set<std::string> allowed(spec.allowed_symbols.begin(), spec.allowed_symbols.end());
    std::vector<std::string> bad;
    std::istringstream in(nm.output);
    for (std::string line; std::getline(in, line);) {
        std::string symbol = line.substr(0, line.find(' '));
        if (symbol.empty() || symbol.starts_with("mm_") || symbol.starts_with("mem_") ||
            symbol == "_GLOBAL_OFFSET_TABLE_")
            continue;
        if (!allowed.contains(symbol)) bad.push_back(symbol);
    }
    return bad;
}

/// Inline assembly can do anything a forbidden call can (a raw syscall): refused outright.
bool uses_inline_asm(const std::string &source) {
    static const std::regex asm_word(R"((^|[^A-Za-z0-9_])(asm|__asm__|__asm)\s*(volatile|__volatile__)?\s*[({])");
    return std::regex_search(source, asm_word);
}

/// The lines of a test's output between its RUN line and its verdict: the assertion messages.
std::string failure_text(const std::string &output) {
    std::istringstream in(output);
    std::string text;
    bool inside = false;
    for (std::string line; std::getline(in, line);) {
        if (line.starts_with("[ RUN      ]")) {
            inside = true;
            continue;
        }
        if (line.starts_with("[  FAILED  ]") || line.starts_with("[       OK ]")) break;
        if (inside) text += line + "\n";
    }
    return first_lines(text, 12);
}

PartResult run_tests_part(const LabPart &part, const LabSpec &spec, const fs::path &binary, const fs::path &scratch,
                          const Sandbox &sandbox) {
    PartResult result{part.name, part.kind, part.visibility, 0, part.points, false, "", ""};
    std::vector<std::string> tests = list_tests(binary, part.tests, spec.test_seconds, sandbox);
    if (tests.empty()) {
        result.summary = "no tests";
        result.explanation = "no test matches '" + part.tests + "' (or the test program does not start)";
        return result;
    }
    std::size_t passed = 0;
    for (const std::string &test : tests) {
        fs::path report = scratch / "test-report.json";
        fs::remove(report);
        RunLimits limits;
        limits.seconds = spec.test_seconds;
        limits.output_limit = spec.output_kib * 1024;
        limits.sandbox = sandbox;
        RunResult outcome = run({binary.string(), "--gtest_filter=" + test, "--gtest_output=json:" + report.string()},
                                limits);
        // Passed only if the process exited 0 AND GoogleTest's own report says this one test
        // passed: exit(0) from inside mm_init leaves no report, and printing "[  PASSED  ]" is
        // not enough either.
        bool reported_pass = false;
        try {
            nlohmann::json json = nlohmann::json::parse(read_text(report));
            reported_pass = json.at("tests").get<int>() == 1 && json.at("failures").get<int>() == 0;
        } catch (const std::exception &) {
            reported_pass = false;
        }
        if (outcome.ok() && reported_pass) {
            ++passed;
            continue;
        }
        if (result.explanation.empty()) {
            std::string why;
            if (outcome.ok()) {
                why = "the test program exited 0 without GoogleTest's report (exit() called inside the allocator?)";
            } else if (outcome.timed_out || outcome.signal != 0) {
                why = outcome.describe(spec.test_seconds);
            }
            std::string messages = failure_text(outcome.output);
            result.explanation = test + (why.empty() ? "" : ": " + why) + "\n" + messages;
        }
    }
    result.points = part.points * static_cast<double>(passed) / static_cast<double>(tests.size());
    result.summary = fmt::format("{}/{} tests", passed, tests.size());
    return result;
}

/// One replay of the suite, shared by the traces, utilization and throughput parts.
struct SuiteReplay {
    bool finished = false;
    std::string problem;   ///< why it did not finish
    nlohmann::json json;   ///< `heaplab trace replay --json` output
};

/// The allocator the student is measured against: the reference when this build has it
/// (instructors), glibc otherwise (the student release has no reference source).
std::string yardstick(const CheckSetup &setup) {
    fs::path reference = setup.heaplab.parent_path().parent_path() / "lib" / "heaplab" / "allocators" / "mm_reference.so";
    return fs::exists(reference) ? "reference" : "libc";
}

SuiteReplay replay_suite(const LabSpec &spec, const fs::path &plugin, const CheckSetup &setup, const Sandbox &sandbox,
                         bool timed) {
    SuiteReplay replay;
    std::vector<std::string> traces = suite_traces(setup.root);
    std::string allocators = plugin.string() + (timed ? "," + yardstick(setup) : "");
    // One trace gets at most 10 s (a correct allocator needs well under one), the whole suite
    // twice replay_seconds: an allocator looping on every trace costs two minutes, not the sum
    // of all their limits; traces past the budget fail as not replayed.
    std::vector<std::string> argv = {setup.heaplab.string(), "trace", "replay", "--json", "--allocator", allocators,
                                     "--alignment", std::to_string(spec.alignment), "--timeout",
                                     fmt::format("{:g}", std::min(spec.replay_seconds, 10.0)), "--budget",
                                     fmt::format("{:g}", spec.replay_seconds * 2)};
    if (timed) {
        argv.insert(argv.end(), {"--runs", "5"});
    } else {
        argv.push_back("--no-time");
    }
    for (const LabPart &part : spec.parts)
        if (!part.cap.empty()) {
            argv.insert(argv.end(), {"--cap", part.cap});
            break;
        }
    argv.insert(argv.end(), traces.begin(), traces.end());
    RunLimits limits;
    limits.seconds = spec.replay_seconds * 2 + 60 + (timed ? spec.replay_seconds * static_cast<double>(traces.size()) : 0);
    limits.output_limit = 8 << 20;
    limits.sandbox = sandbox;
    RunResult outcome = run(argv, limits);
    // stdout is the JSON report; the run's output interleaves stderr, so take the JSON object.
    std::size_t start = outcome.output.find("{\n  \"allocators\"");
    replay.json = start == std::string::npos ? nlohmann::json()
                                             : nlohmann::json::parse(outcome.output.substr(start), nullptr, false);
    if (replay.json.is_discarded() || !replay.json.contains("allocators")) {
        replay.problem = "the replay did not finish (" + outcome.describe(limits.seconds) + "):\n" +
                         first_lines(outcome.output, 10);
        return replay;
    }
    replay.finished = true;
    return replay;
}

PartResult run_traces_part(const LabPart &part, const SuiteReplay &replay) {
    PartResult result{part.name, part.kind, part.visibility, 0, part.points, false, "", ""};
    if (!replay.finished) {
        result.summary = "replay failed";
        result.explanation = replay.problem;
        return result;
    }
    std::size_t passed = 0, total = 0;
    for (const auto &trace : replay.json["allocators"][0]["traces"]) {
        ++total;
        if (trace["ok"].get<bool>()) {
            ++passed;
        } else if (result.explanation.empty()) {
            const auto &failure = trace["failure"];
            result.explanation = fmt::format("trace {} failed at request {} ({}):\n{}\n{}", trace["trace"].get<std::string>(),
                                             failure["op_index"].get<std::size_t>(), failure["op"].get<std::string>(),
                                             failure["reason"].get<std::string>(),
                                             first_lines(failure["heap_map"].get<std::string>(), 12));
        }
    }
    if (total > 0) result.points = part.points * static_cast<double>(passed) / static_cast<double>(total);
    result.summary = fmt::format("{}/{} traces", passed, total);
    return result;
}

/// Points on a straight line from zero_at (none) to full_at (all).
double on_curve(const LabPart &part, double value) {
    double fraction = (value - part.zero_at) / (part.full_at - part.zero_at);
    return part.points * std::clamp(fraction, 0.0, 1.0);
}

/// Utilization: the mean over the traces, a failed trace counting as 0.
PartResult run_utilization_part(const LabPart &part, const SuiteReplay &replay) {
    PartResult result{part.name, part.kind, part.visibility, 0, part.points, false, "", ""};
    if (!replay.finished) {
        result.summary = "replay failed";
        result.explanation = replay.problem;
        return result;
    }
    double sum = 0;
    std::size_t count = 0;
    for (const auto &trace : replay.json["allocators"][0]["traces"]) {
        sum += trace["ok"].get<bool>() ? trace["utilization"].get<double>() : 0.0;
        ++count;
    }
    double mean = count == 0 ? 0 : sum / static_cast<double>(count);
    result.points = on_curve(part, mean);
    result.summary = fmt::format("mean utilization {:.1f}% (full points from {:.0f}%)", 100 * mean, 100 * part.full_at);
    if (result.points < part.points)
        result.explanation = fmt::format("mean utilization {:.1f}%: no points at {:.0f}% or below, all at {:.0f}% or above",
                                         100 * mean, 100 * part.zero_at, 100 * part.full_at);
    return result;
}

/// One trace's throughput ratio, student / yardstick: the median of the ratios of the rounds in
/// which both were timed in turn (time_in_turn(): a load that changes from round to round
/// cancels out, which halved the spread of the suite's ratio over repeated gradings under an
/// on-and-off load), else the ratio of their medians.
double trace_ratio(const nlohmann::json &ours, const nlohmann::json &theirs) {
    const auto &mine = ours["timing_samples"];
    const auto &yours = theirs["timing_samples"];
    if (mine.is_array() && yours.is_array() && !mine.empty() && mine.size() == yours.size()) {
        std::vector<double> ratios;
        for (std::size_t round = 0; round < mine.size(); ++round)
            if (yours[round].get<double>() > 0) ratios.push_back(mine[round].get<double>() / yours[round].get<double>());
        if (!ratios.empty()) return median(ratios);
    }
    return ours["ops_per_second"].get<double>() / theirs["ops_per_second"].get<double>();
}

/// Throughput: the geometric mean over the traces of (student ops/s) / (yardstick ops/s),
/// both measured in the same run, in turn, over several timing rounds (trace_ratio()).
PartResult run_throughput_part(const LabPart &part, const SuiteReplay &replay) {
    PartResult result{part.name, part.kind, part.visibility, 0, part.points, false, "", ""};
    if (!replay.finished || replay.json["allocators"].size() < 2) {
        result.summary = "replay failed";
        result.explanation = replay.problem;
        return result;
    }
    const auto &student = replay.json["allocators"][0]["traces"];
    const auto &yard = replay.json["allocators"][1]["traces"];
    double log_sum = 0;
    std::size_t count = 0;
    for (std::size_t i = 0; i < student.size() && i < yard.size(); ++i) {
        if (yard[i]["ops_per_second"].get<double>() <= 0) continue;
        double ratio = student[i]["ok"].get<bool>() ? trace_ratio(student[i], yard[i]) : 0.0;
        log_sum += std::log(std::max(ratio, 1e-6));
        ++count;
    }
    double ratio = count == 0 ? 0 : std::exp(log_sum / static_cast<double>(count));
    std::string against = replay.json["allocators"][1]["allocator"].get<std::string>();
    result.points = on_curve(part, ratio);
    result.summary = fmt::format("{:.2f}x {} (full points from {:.2f}x)", ratio, against, part.full_at);
    if (result.points < part.points)
        result.explanation = fmt::format("throughput {:.2f}x {} (geometric mean over the traces): no points at {:.2f}x "
                                         "or below, all at {:.2f}x or above",
                                         ratio, against, part.zero_at, part.full_at);
    return result;
}

/// Which Valgrind tool wrote the output first_valgrind_error() reads.
enum class ValgrindTool { memcheck, helgrind };

/// "heaplab::(anonymous namespace)::take(unsigned long)" -> "take": the function as a student
/// knows it.
std::string short_function(std::string name) {
    if (name.ends_with(")")) {
        int depth = 0;
        for (std::size_t i = name.size(); i-- > 0;) {
            if (name[i] == ')') ++depth;
            if (name[i] == '(' && --depth == 0) {
                name.resize(i);
                break;
            }
        }
    }
    std::size_t scope = name.rfind("::");
    return scope == std::string::npos ? name : name.substr(scope + 2);
}

/// Whether a line (without its ==PID== prefix) starts an error report of @p tool.
bool starts_error(const std::string &text, ValgrindTool tool) {
    if (tool == ValgrindTool::memcheck)
        return text.starts_with("Invalid ") || text.starts_with("Conditional jump") ||
               text.starts_with("Use of uninitialised") || text.starts_with("Syscall param") ||
               text.starts_with("Source and destination overlap") || text.find(" is uninitialised") != std::string::npos;
    // Helgrind: "Possible data race ...", "Thread #3: lock order ... violated", "Thread #2 unlocked
    // a not-locked lock ...", "Thread #1's call to pthread_mutex_unlock failed", ... but not
    // the announcements of threads ("Thread #2 was created").
    static const std::regex thread_error(R"(^Thread #\d+(?! was created| is the program's root thread))");
    return text.starts_with("Possible data race") || std::regex_search(text, thread_error);
}

/**
 * The first Valgrind error: its kind, the first stack frame in the student's file, and the first
 * lines of its stack; for Helgrind also the other access or lock it conflicts with (the next
 * section of the same report). @p errors gets the ERROR SUMMARY's count.
 */
std::string first_valgrind_error(const std::string &output, const std::vector<std::string> &student_files,
                                 ValgrindTool tool, int &errors) {
    static const std::regex summary(R"(ERROR SUMMARY: (\d+) errors)");
    static const std::regex prefix(R"(^==\d+== ?)");
    static const std::regex frame(R"(^\s*(?:at|by) 0x[0-9A-Fa-f]+: (.+) \(([^():]+):(\d+)\)$)");
    std::smatch match;
    errors = std::regex_search(output, match, summary) ? std::stoi(match[1]) : 0;
    auto student_frame = [&](const std::string &text) -> std::string {
        std::smatch found;
        if (!std::regex_search(text, found, frame)) return "";
        for (const std::string &student_file : student_files)
            if (found[2].str() == student_file || found[2].str().ends_with("/" + student_file))
                return fmt::format("{}:{} in {}()", student_file, found[3].str(), short_function(found[1].str()));
        return "";
    };
    // Helgrind's second section: the access or lock the error conflicts with.
    static const std::regex other(R"(^\s*(This conflicts with|followed by|Required order|Lock was|Lock at))");
    std::istringstream in(output);
    std::string kind, where, stack;
    std::size_t section = 0;  // 0: the error's own stack; 1: what it conflicts with (Helgrind)
    std::size_t section_lines = 0;
    bool in_student = false;  // the last frame was in the student's file
    for (std::string line; std::getline(in, line);) {
        std::string text = std::regex_replace(line, prefix, "");
        if (kind.empty()) {
            if (starts_error(text, tool)) kind = text;
            continue;
        }
        if (text.empty() && section_lines == 0) continue;  // Helgrind: "lock order violated", then a blank line
        if (text.empty() || text.starts_with("----")) {
            if (tool == ValgrindTool::memcheck || section == 1 || text.starts_with("----")) break;
            ++section;
            section_lines = 0;
            in_student = false;
            continue;
        }
        bool is_frame = std::regex_search(text, frame);
        std::string mine = is_frame ? student_frame(text) : "";
        if (section == 0) {
            if (tool == ValgrindTool::helgrind && is_frame && mine.empty() && in_student) {
                section_lines = 99;  // past the student's frames: the rest is the driver
                continue;
            }
            in_student = !mine.empty();
            if (section_lines++ < 8) stack += "    " + text + "\n";
            if (where.empty()) where = mine;
        } else if (section_lines == 0) {
            if (!std::regex_search(text, other)) break;
            stack += "    " + text + "\n";
            ++section_lines;
        } else if (section_lines < 4 && (!mine.empty() || text.find("Locks held") != std::string::npos)) {
            stack += "    " + text + "\n";
            ++section_lines;
        }
    }
    if (kind.empty()) return "";
    if (tool == ValgrindTool::helgrind) {
        // Addresses mean nothing to a reader: "lock order "0x1 before 0x2" violated" -> "lock order violated".
        static const std::regex address(R"( "?0x[0-9A-Fa-f]+ before 0x[0-9A-Fa-f]+"?| at 0x[0-9A-Fa-f]+)");
        kind = std::regex_replace(kind, address, "");
    }
    return kind + (where.empty() ? "" : " at " + where) + "\n" + stack;
}

PartResult run_memcheck_part(const LabPart &part, const LabSpec &spec, const fs::path &plugin, const CheckSetup &setup,
                             const Sandbox &sandbox, const fs::path &test_binary) {
    PartResult result{part.name, part.kind, part.visibility, 0, part.points, false, "", ""};
    std::vector<std::string> argv;
    if (spec.build_kind == "programs") {
        // The test program itself, once, under the lab's own Valgrind options (leaks included).
        argv = {"valgrind"};
        if (spec.valgrind.empty()) {
            argv.insert(argv.end(), {"--error-exitcode=99", "--leak-check=full", "--errors-for-leak-kinds=definite,indirect"});
        } else {
            argv.insert(argv.end(), spec.valgrind.begin(), spec.valgrind.end());
        }
        argv.push_back(test_binary.string());
    } else {
        argv = {"valgrind", "--error-exitcode=99", "--num-callers=12",
                setup.heaplab.string(), "trace", "replay", "--in-process", "--no-time",
                "--allocator", plugin.string(), "--alignment", std::to_string(spec.alignment)};
        if (!part.cap.empty()) argv.insert(argv.end(), {"--cap", part.cap});
        std::vector<std::string> traces = suite_traces(setup.root);
        argv.insert(argv.end(), traces.begin(), traces.end());
    }
    RunLimits limits;
    limits.seconds = std::max(300.0, spec.replay_seconds * 10);
    limits.output_limit = 4 << 20;
    limits.sandbox = sandbox;
    RunResult outcome = run(argv, limits);
    int errors = 0;
    std::string first = first_valgrind_error(outcome.output, spec.submit, ValgrindTool::memcheck, errors);
    if (outcome.exit_code == 0 && errors == 0) {
        result.points = part.points;
        result.summary = "no errors";
        return result;
    }
    if (errors == 0 && outcome.exit_code == 1 && spec.build_kind != "programs") {
        // No Memcheck error, but the replay itself failed: a memory-clean allocator that does
        // not work earns nothing here.
        result.summary = "replay failed";
        result.explanation = "Memcheck found no error, but the trace replay failed under it; fix the traces part first";
        return result;
    }
    result.summary = errors > 0 ? fmt::format("{} errors", errors) : "did not finish";
    result.explanation = !first.empty() ? "Memcheck: " + first
                                        : "Valgrind run ended with " + outcome.describe(limits.seconds) + ":\n" +
                                              first_lines(outcome.output, 12);
    return result;
}

/// Times one part of check_submission(): whatever way the part's branch ends, the seconds land
/// in report.part_seconds beside the verdict it pushed.
class PartTimer {
public:
    explicit PartTimer(CheckReport &report) : report_(report), started_(std::chrono::steady_clock::now()) {}
    PartTimer(const PartTimer &) = delete;
    PartTimer &operator=(const PartTimer &) = delete;
    ~PartTimer() {
        report_.part_seconds.resize(report_.parts.size(), 0.0);
        if (!report_.part_seconds.empty())
            report_.part_seconds.back() =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    }

private:
    CheckReport &report_;
    std::chrono::steady_clock::time_point started_;
};

/// What a stress or helgrind part runs: its thread counts, requests per thread and time limit.
struct StressPlan {
    std::string threads;
    std::size_t ops = 0;
    double seconds = 0;
    std::size_t counts = 1;  ///< how many thread counts (each is a run of up to `seconds`)
};

StressPlan stress_plan(const LabPart &part) {
    bool helgrind = part.kind == "helgrind";
    StressPlan plan;
    plan.threads = !part.threads.empty() ? part.threads : helgrind ? "2" : "2,4";
    plan.ops = part.ops > 0 ? part.ops : helgrind ? 2000 : 20000;
    plan.seconds = part.seconds > 0 ? part.seconds : helgrind ? 30 : 20;
    plan.counts = static_cast<std::size_t>(std::count(plan.threads.begin(), plan.threads.end(), ',')) + 1;
    return plan;
}

std::vector<std::string> stress_arguments(const LabSpec &spec, const fs::path &plugin, const CheckSetup &setup,
                                          const StressPlan &plan) {
    return {setup.heaplab.string(), "stress", "--no-time", "--allocator", plugin.string(),
            "--alignment", std::to_string(spec.alignment), "--threads", plan.threads,
            "--ops", std::to_string(plan.ops), "--timeout", fmt::format("{:g}", plan.seconds)};
}

/// The stress driver's verdict in its output: the lines from "FAIL with" on ("" when none).
std::string stress_verdict(const std::string &output) {
    std::size_t at = output.find("FAIL with ");
    if (at == std::string::npos) return "";
    // Valgrind's own lines (under Helgrind) may come between the driver's.
    std::istringstream in(output.substr(at));
    std::string verdict;
    std::size_t kept = 0;
    for (std::string line; kept < 4 && std::getline(in, line);)
        if (!line.starts_with("==")) verdict += line + "\n", ++kept;
    // The driver indents its reason; here it stands under the part's own heading.
    return std::regex_replace(verdict, std::regex(R"((^|\n)    )"), "$1");
}

/// `stress`: the threaded stress driver, natively, with every check on.
PartResult run_stress_part(const LabPart &part, const LabSpec &spec, const fs::path &plugin, const CheckSetup &setup,
                           const Sandbox &sandbox) {
    PartResult result{part.name, part.kind, part.visibility, 0, part.points, false, "", ""};
    StressPlan plan = stress_plan(part);
    RunLimits limits;
    // The driver stops a stuck run itself after plan.seconds; this is the safety net.
    limits.seconds = plan.seconds * static_cast<double>(plan.counts) + 30;
    limits.sandbox = sandbox;
    RunResult outcome = run(stress_arguments(spec, plugin, setup, plan), limits);
    if (outcome.ok()) {
        result.points = part.points;
        result.summary = fmt::format("ok with {} threads", plan.threads);
        return result;
    }
    std::string verdict = stress_verdict(outcome.output);
    if (outcome.exit_code == kExitFailed && !verdict.empty()) {
        bool stuck = verdict.find("did not finish") != std::string::npos;
        result.summary = stuck ? "did not finish" : "wrong under threads";
        result.explanation = verdict;
        return result;
    }
    result.summary = "did not finish";
    result.explanation = outcome.timed_out
                             ? fmt::format("did not finish: the stress run was still running after {:g} s — a deadlock? "
                                           "(a lock taken twice, or not released on a return path)",
                                           limits.seconds)
                             : "the stress driver ended with " + outcome.describe(limits.seconds) + ":\n" +
                                   first_lines(outcome.output, 12);
    return result;
}

/// `helgrind`: the stress driver in-process under Helgrind, which reports data races and misuse
/// of locks with their lines, whether or not this run happened to go wrong.
PartResult run_helgrind_part(const LabPart &part, const LabSpec &spec, const fs::path &plugin, const CheckSetup &setup,
                             const Sandbox &sandbox) {
    PartResult result{part.name, part.kind, part.visibility, 0, part.points, false, "", ""};
    StressPlan plan = stress_plan(part);
    std::vector<std::string> argv = {"valgrind", "--tool=helgrind", "--error-exitcode=99", "--num-callers=12"};
    std::vector<std::string> stress = stress_arguments(spec, plugin, setup, plan);
    argv.insert(argv.end(), stress.begin(), stress.end());
    argv.insert(argv.end(), "--in-process");
    RunLimits limits;
    // The driver stops a stuck run itself after plan.seconds (and Valgrind then reports the
    // errors it found); this limit also covers Valgrind's start and its summary.
    limits.seconds = plan.seconds * static_cast<double>(plan.counts) + 60;
    limits.output_limit = 4 << 20;
    limits.sandbox = sandbox;
    RunResult outcome = run(argv, limits);
    int errors = 0;
    std::string first = first_valgrind_error(outcome.output, spec.submit, ValgrindTool::helgrind, errors);
    // Thousands of races can fill the output limit before Valgrind's summary: an error seen counts.
    bool summary_cut = errors == 0 && !first.empty();
    if (summary_cut) errors = 1;
    std::string verdict = stress_verdict(outcome.output);
    bool stuck = outcome.timed_out || verdict.find("did not finish") != std::string::npos;
    if (outcome.exit_code == 0 && errors == 0) {
        result.points = part.points;
        result.summary = "no errors";
        return result;
    }
    std::string deadlock;
    if (stuck) {
        deadlock = outcome.timed_out
                       ? fmt::format("did not finish: the stress run was still running after {:g} s — a deadlock? "
                                     "(a lock taken twice, or not released on a return path)\n",
                                     limits.seconds)
                       : verdict;
        // When the stuck run was stopped, Helgrind reports every thread that still held a lock
        // as "exiting": it was where its stack says, waiting.
        static const std::regex exiting(R"(Thread #(\d+): Exiting thread still holds (\d+) locks?)");
        first = std::regex_replace(first, exiting, "Thread #$1 held $2 lock(s) when the run was stopped, waiting");
    }
    if (errors > 0) {
        result.summary = summary_cut ? "errors (output cut)"
                                     : fmt::format("{} error{}", errors, errors == 1 ? "" : "s");
        if (stuck) result.summary += ", did not finish";
        result.explanation = deadlock + "Helgrind: " + first;
    } else if (stuck) {
        result.summary = "did not finish";
        result.explanation = deadlock;
    } else if (outcome.exit_code == kExitFailed && !verdict.empty()) {
        // No race found in this run, but the driver's checks failed under Helgrind.
        result.summary = "wrong under threads";
        result.explanation = "Helgrind found no error, but the stress driver's checks failed:\n" + verdict;
    } else {
        result.summary = "did not finish";
        result.explanation = "the Helgrind run ended with " + outcome.describe(limits.seconds) + ":\n" +
                             first_lines(outcome.output, 12);
    }
    return result;
}

}  // namespace

std::vector<std::string> list_tests(const fs::path &binary, const std::string &filter, double seconds,
                                    const Sandbox &sandbox, std::string *problem) {
    RunLimits limits;
    limits.seconds = seconds;
    limits.sandbox = sandbox;
    RunResult listed = run({binary.string(), "--gtest_list_tests", "--gtest_filter=" + filter}, limits);
    std::vector<std::string> tests;
    if (!listed.ok()) {
        if (problem != nullptr)
            *problem = binary.string() + " --gtest_list_tests failed (" + listed.describe(seconds) + "):\n" + listed.output;
        return tests;
    }
    std::istringstream in(listed.output);
    std::string suite;
    for (std::string line; std::getline(in, line);) {
        if (line.empty()) continue;
        if (line[0] != ' ') {
            suite = line.substr(0, line.find_first_of(" #"));  // "Suite." (with its dot)
        } else {
            tests.push_back(suite + line.substr(2, line.find_first_of(" #", 2) - 2));
        }
    }
    return tests;
}

std::vector<std::string> build_lab_objects(const fs::path &lab_dir, const std::string &lab_id, const fs::path &cache,
                                           const CheckSetup &setup, const std::vector<std::string> &flags) {
    fs::create_directories(cache);
    std::vector<fs::path> test_sources;
    for (const fs::path &dir : {lab_dir / "tests", setup.root / "grader" / "hidden" / lab_id}) {
        if (dir.filename() != "tests" && !setup.include_hidden) continue;
        std::error_code error;
        for (const auto &entry : fs::directory_iterator(dir, error))
            if (entry.path().extension() == ".cpp") test_sources.push_back(entry.path());
    }
    std::sort(test_sources.begin(), test_sources.end());
    std::vector<std::string> objects;
    std::string log;
    bool ok = true;
    for (const fs::path &source : test_sources) {
        fs::path object = cache / (source.parent_path().filename().string() + "-" + source.stem().string() + ".o");
        std::vector<std::string> extra = {"-I" + (lab_dir / "tests").string()};
        extra.insert(extra.end(), flags.begin(), flags.end());
        ok = compile_cached(source, object, setup.root, extra, log) && ok;
        objects.push_back(object.string());
    }
    fs::path memlib_object = cache / "memlib_sim.o";
    ok = compile_cached(setup.root / "common" / "src" / "memlib_sim.cpp", memlib_object, setup.root, {}, log) && ok;
    objects.push_back(memlib_object.string());
    if (!ok) throw std::runtime_error("the lab's own tests do not compile:\n" + first_lines(log, 30));
    return objects;
}

std::vector<std::string> lab_flags(const LabSpec &spec, const fs::path &lab_dir) {
    std::vector<std::string> flags;
    if (fs::is_directory(lab_dir / "include")) flags.push_back("-I" + (lab_dir / "include").string());
    for (const std::string &dir : spec.build_include) flags.push_back("-I" + (lab_dir / dir).string());
    flags.insert(flags.end(), spec.cxxflags.begin(), spec.cxxflags.end());
    return flags;
}

fs::path lab_objects_cache(const CheckSetup &setup, const fs::path &lab_dir, const LabSpec &spec, const fs::path &fallback) {
    std::string key = lab_dir.string() + (setup.include_hidden ? " with hidden tests" : " public tests");
    for (const std::string &flag : lab_flags(spec, lab_dir)) key += " " + flag;
    fs::path cache = setup.heaplab.parent_path().parent_path() / "cache" / "lab-objects" /
                     fmt::format("{}-{:016x}", spec.id, std::hash<std::string>{}(key));
    std::error_code error;
    fs::create_directories(cache, error);
    if (error || access(cache.c_str(), W_OK) != 0) return fallback;
    return cache;
}

std::vector<std::string> suite_traces(const fs::path &root) {
    std::vector<std::string> traces;
    std::error_code error;
    for (const auto &entry : fs::directory_iterator(root / "traces", error))
        if (entry.path().extension() == ".rep") traces.push_back(entry.path().string());
    std::sort(traces.begin(), traces.end());
    return traces;
}

fs::path heaplab_root() {
    std::error_code error;
    fs::path exe = fs::read_symlink("/proc/self/exe", error);
    for (fs::path candidate : {exe.parent_path().parent_path().parent_path(), fs::path(HEAPLAB_SOURCE_DIR)})
        if (fs::exists(candidate / "common" / "include" / "heaplab" / "mm.h")) return candidate;
    return HEAPLAB_SOURCE_DIR;
}

double CheckReport::score() const {
    double total = 0;
    for (const PartResult &part : parts)
        if (!part.skipped) total += part.points;
    return total;
}

double CheckReport::max_score(bool include_skipped) const {
    double total = 0;
    for (const PartResult &part : parts)
        if (include_skipped || !part.skipped) total += part.max_points;
    return total;
}

CheckReport check_submission(const LabSpec &spec, const fs::path &lab_dir, const fs::path &submission_dir,
                             const fs::path &scratch, const CheckSetup &setup) {
    CheckReport report;
    report.lab_id = spec.id;
    report.lab_title = spec.title;
    fs::create_directories(scratch);
    auto started = std::chrono::steady_clock::now();

    auto skip_all = [&](const std::string &why) {
        for (const LabPart &part : spec.parts) {
            bool hidden = part.visibility != "visible" && !setup.include_hidden;
            report.parts.push_back({part.name, part.kind, part.visibility, 0, part.points, hidden, "not run", why});
        }
        return report;
    };

    // Take in only the files lab.toml names.
    for (const std::string &file : spec.submit) {
        fs::path from = submission_dir / file;
        if (!fs::is_regular_file(from)) return skip_all("the submission has no " + file);
        fs::copy_file(from, scratch / file, fs::copy_options::overwrite_existing);
    }
    const std::string &student_file = spec.submit.front();
    // An unprivileged student user must be able to write its scratch folder, and nothing else.
    if (setup.student_uid != 0) {
        for (const auto &entry : fs::recursive_directory_iterator(scratch))
            (void)!lchown(entry.path().c_str(), setup.student_uid, setup.student_gid);
        (void)!chown(scratch.c_str(), setup.student_uid, setup.student_gid);
    }
    fs::path student_source = scratch / student_file;
    if (uses_inline_asm(read_text(student_source))) report.forbidden.push_back("inline assembly (asm)");

    // Build: each student file alone first (its warnings and symbols are its own).
    std::string log;
    Sandbox sandbox = sandbox_for(scratch, setup);
    report.isolation = isolation_description(sandbox);
    // A lab may bring headers of its own (the classic lab's mm.h and memlib.h; Lab 00's
    // exercises.h), found first, and flags of its own ([build] in lab.toml).
    std::vector<std::string> flags = lab_flags(spec, lab_dir);
    bool programs = spec.build_kind == "programs";
    std::vector<std::string> objects;
    report.built = true;
    for (std::size_t i = 0; i < (programs ? spec.submit.size() : 1); ++i) {
        fs::path source = scratch / spec.submit[i];
        fs::path object = scratch / (fs::path(spec.submit[i]).stem().string() + ".student.o");
        report.built = compile(source, object, setup.root, is_c(spec.submit[i]), flags, log, sandbox) && report.built;
        if (report.built)
            for (const std::string &symbol : forbidden_symbols(object, spec))
                if (std::find(report.forbidden.begin(), report.forbidden.end(), symbol) == report.forbidden.end())
                    report.forbidden.push_back(symbol);
        objects.push_back(object.string());
    }
    fs::path student_object = objects.front();
    report.build_output = first_lines(log, 40);
    report.warnings = count_warnings(log);
    if (!report.built) return skip_all("the submission does not compile; the compiler said:\n" + first_lines(log, 20));

    // The lab's tests (public, and hidden when grading), compiled once per lab and reused.
    fs::path cache = setup.objects_cache.empty() ? scratch / "lab-objects" : setup.objects_cache;
    for (const std::string &object : build_lab_objects(lab_dir, spec.id, cache, setup, flags)) objects.push_back(object);

    // The test program (only when the lab has tests parts: the classic lab has none) and the
    // allocator plug-in for the replays (not for a programs lab).
    bool has_tests = std::any_of(spec.parts.begin(), spec.parts.end(), [](const LabPart &p) { return p.kind == "tests"; });
    fs::path test_binary = scratch / "lab_tests";
    RunLimits link_limits;
    link_limits.seconds = kCompileSeconds;
    RunResult linked;
    linked.exit_code = 0;
    if (has_tests) {
        std::vector<std::string> link = {"g++"};
        link.insert(link.end(), objects.begin(), objects.end());
        link.insert(link.end(), spec.ldflags.begin(), spec.ldflags.end());
        link.insert(link.end(), {"-lgtest_main", "-lgtest", "-pthread", "-o", test_binary.string()});
        linked = run(link, link_limits);
    }
    fs::path plugin = scratch / "mm_submission.so";
    RunResult plugin_built;
    plugin_built.exit_code = 0;
    if (!programs) plugin_built = run({"g++", "-shared", student_object.string(), "-o", plugin.string()}, link_limits);
    if (!linked.ok() || !plugin_built.ok()) {
        report.built = false;
        std::string why = "the submission compiles but does not link (a missing function?):\n" +
                          first_lines(linked.output + plugin_built.output, 20);
        report.build_output = why;
        return skip_all(why);
    }

    report.build_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

    // The suite is replayed once for every part that needs it; timed only if one scores speed.
    std::optional<SuiteReplay> suite;
    bool timed = std::any_of(spec.parts.begin(), spec.parts.end(), [&](const LabPart &part) {
        return part.kind == "throughput" && (part.visibility == "visible" || setup.include_hidden);
    });
    for (const LabPart &part : spec.parts) {
        PartTimer timer(report);
        bool hidden = part.visibility != "visible" && !setup.include_hidden;
        if (hidden) {
            report.parts.push_back({part.name, part.kind, part.visibility, 0, part.points, true, "graded later", ""});
            continue;
        }
        if (!report.forbidden.empty() && part.kind != "warnings") {
            std::string names;
            for (const std::string &symbol : report.forbidden) names += (names.empty() ? "" : ", ") + symbol;
            report.parts.push_back({part.name, part.kind, part.visibility, 0, part.points, false, "refused",
                                    "mm code may not use: " + names + " (lab.toml [symbols] allowed lists what it may call)"});
            continue;
        }
        if (part.kind == "tests") {
            report.parts.push_back(run_tests_part(part, spec, test_binary, scratch, sandbox));
        } else if (part.kind == "traces" || part.kind == "utilization" || part.kind == "throughput") {
            if (!suite) suite = replay_suite(spec, plugin, setup, sandbox, timed);
            if (part.kind == "traces") report.parts.push_back(run_traces_part(part, *suite));
            if (part.kind == "utilization") report.parts.push_back(run_utilization_part(part, *suite));
            if (part.kind == "throughput") report.parts.push_back(run_throughput_part(part, *suite));
        } else if (part.kind == "memcheck") {
            // Memcheck is 20-60 times slower than the replay: over an allocator that already
            // fails the traces (or loops) it would cost minutes and find nothing to grade.
            auto traces_part = std::find_if(report.parts.begin(), report.parts.end(),
                                            [](const PartResult &p) { return p.kind == "traces" && !p.skipped; });
            if (!programs && traces_part != report.parts.end() && traces_part->points < traces_part->max_points) {
                report.parts.push_back({part.name, part.kind, part.visibility, 0, part.points, false, "not run",
                                        "Memcheck runs once every trace replays correctly; fix the traces part first"});
            } else {
                report.parts.push_back(run_memcheck_part(part, spec, plugin, setup, sandbox, test_binary));
            }
        } else if (part.kind == "stress" && !programs) {
            report.parts.push_back(run_stress_part(part, spec, plugin, setup, sandbox));
        } else if (part.kind == "helgrind" && !programs) {
            report.parts.push_back(run_helgrind_part(part, spec, plugin, setup, sandbox));
        } else if (part.kind == "warnings") {
            PartResult result{part.name, part.kind, part.visibility, report.warnings == 0 ? part.points : 0, part.points,
                              false, fmt::format("{} warnings", report.warnings), ""};
            if (report.warnings > 0) result.explanation = first_lines(report.build_output, 12);
            report.parts.push_back(result);
        } else {
            report.parts.push_back({part.name, part.kind, part.visibility, 0, part.points, true,
                                    "not yet graded by this version", ""});
        }
    }
    return report;
}

std::string format_report(const CheckReport &report) {
    auto number = [](double points) {
        double rounded = std::round(points * 10) / 10;
        return rounded == std::floor(rounded) ? fmt::format("{:g}", rounded) : fmt::format("{:.1f}", rounded);
    };
    std::string out = fmt::format("== {}: {}\n", report.lab_id, report.lab_title);
    if (report.built)
        out += fmt::format("build: ok ({} warning{})\n", report.warnings, report.warnings == 1 ? "" : "s");
    else
        out += "build: FAILED\n";
    if (!report.forbidden.empty()) {
        std::string names;
        for (const std::string &symbol : report.forbidden) names += (names.empty() ? "" : ", ") + symbol;
        out += "integrity: refused: " + names + "\n";
    }
    if (!report.isolation.empty()) out += "isolation: " + report.isolation + "\n";
    std::string first_failure;
    for (const PartResult &part : report.parts) {
        std::string verdict = part.skipped ? "--  " : part.points >= part.max_points ? "OK  " : "FAIL";
        std::string dots(std::max<std::size_t>(3, 28 - part.name.size()), '.');
        out += fmt::format("{} {} {} {:>5}/{:<3}  {}\n", part.name, dots, verdict,
                           part.skipped ? "-" : number(part.points), number(part.max_points), part.summary);
        if (first_failure.empty() && !part.skipped && !part.explanation.empty())
            first_failure = "first failure, in part '" + part.name + "':\n" + part.explanation;
    }
    if (!first_failure.empty()) {
        out += "\n";
        std::istringstream in(first_failure);
        for (std::string line; std::getline(in, line);) out += "  " + line + "\n";
        out += "\n";
    }
    double skipped = report.max_score(true) - report.max_score(false);
    out += fmt::format("Score: {}/{}", number(report.score()), number(report.max_score(false)));
    if (skipped > 0) out += fmt::format("  (+{} points graded later: hidden parts)", number(skipped));
    out += "\n";
    return out;
}

}  // namespace heaplab
