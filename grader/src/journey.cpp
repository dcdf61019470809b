/**
 * @file journey.cpp
 * @brief `heaplab journey [--runs N] [--format text|markdown] [--timeout S] [TRACE...]`
 *
 * The allocators are glibc's malloc (`libc`), every lab stage this build has (the plug-ins named
 * NN-name, in order) and the reference; each replays the suite exactly as `heaplab trace
 * replay` does (replay_suite(): every request checked, in a child process, throughput the
 * median of --runs timed passes). Exit status 0 when every trace replayed correctly on every
 * allocator, 1 otherwise (the table is printed either way, with the first failure of each).
 */
#include "journey.h"

#include "check.h"
#include "cli_error.h"
#include "lab_spec.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <memory>
#include <unistd.h>

namespace heaplab {
namespace fs = std::filesystem;

std::string allocator_idea(const std::string &allocator, const std::string &root) {
    if (allocator == "libc") return "glibc's malloc (ptmalloc2): the yardstick";
    if (allocator == "reference") return "the reference: segregated fits, thread caches";
    fs::path toml = fs::path(root) / "labs" / allocator / "lab.toml";
    if (allocator.find('/') != std::string::npos || !fs::exists(toml)) return "";
    try {
        return read_lab_spec(toml.string()).title;
    } catch (const UsageError &) {
        return "";  // a broken lab.toml is `heaplab check`'s to report, not the table's
    }
}

namespace {

std::string ratio(double value, double base) {
    return value > 0 && base > 0 ? fmt::format("{:.2f}x", value / base) : "-";
}

std::string traces_ok(const SuiteTotals &t) { return fmt::format("{}/{}", t.passed, t.passed + t.failed); }

}  // namespace

std::string journey_table(const std::vector<JourneyRow> &rows, JourneyFormat format) {
    const SuiteTotals *glibc = nullptr;
    for (const JourneyRow &row : rows)
        if (row.allocator == "libc") glibc = &row.totals;
    double base_util = glibc != nullptr ? glibc->mean_utilization() : 0;
    double base_ops = glibc != nullptr ? glibc->ops_per_second() : 0;

    std::string out;
    if (format == JourneyFormat::markdown) {
        out += "| allocator | the idea | utilization | vs glibc | throughput (Kops/s) | vs glibc | traces ok |\n";
        out += "| --- | --- | ---: | ---: | ---: | ---: | ---: |\n";
        for (const JourneyRow &row : rows) {
            const SuiteTotals &t = row.totals;
            out += fmt::format("| `{}` | {} | {} | {} | {} | {} | {} |\n", row.allocator, row.idea,
                               percent(t.mean_utilization()), ratio(t.mean_utilization(), base_util),
                               kops(t.ops_per_second()), ratio(t.ops_per_second(), base_ops), traces_ok(t));
        }
        return out;
    }
    std::size_t width = 9;
    for (const JourneyRow &row : rows) width = std::max(width, row.allocator.size());
    out += fmt::format("  {:<{}}  {:>7}  {:>8}  {:>8}  {:>8}  {:>6}  {}\n", "allocator", width, "util", "vs glibc",
                       "Kops/s", "vs glibc", "traces", "the idea");
    for (const JourneyRow &row : rows) {
        const SuiteTotals &t = row.totals;
        out += fmt::format("  {:<{}}  {:>7}  {:>8}  {:>8}  {:>8}  {:>6}  {}\n", row.allocator, width,
                           percent(t.mean_utilization()), ratio(t.mean_utilization(), base_util),
                           kops(t.ops_per_second()), ratio(t.ops_per_second(), base_ops), traces_ok(t), row.idea);
    }
    return out;
}

namespace {

struct JourneySettings {
    std::vector<std::string> traces;  ///< empty: every trace in traces/ of the HeapLab tree
    std::string format = "text";
    int runs = 3;
    double timeout = 120;
};

bool is_stage(const std::string &name) {
    return name.size() > 3 && std::isdigit(static_cast<unsigned char>(name[0])) &&
           std::isdigit(static_cast<unsigned char>(name[1])) && name[2] == '-';
}

/// libc, the stages in order, the reference: what this build has of them.
std::vector<std::string> journey_allocators() {
    std::vector<std::string> stages;
    bool reference = false;
    for (const std::string &name : available_allocators()) {
        if (is_stage(name)) stages.push_back(name);
        if (name == "reference") reference = true;
    }
    std::sort(stages.begin(), stages.end());
    std::vector<std::string> names{"libc"};
    names.insert(names.end(), stages.begin(), stages.end());
    if (reference) names.push_back("reference");
    return names;
}

int run_journey(const JourneySettings &settings) {
    if (settings.format != "text" && settings.format != "markdown")
        throw UsageError("--format: expected text or markdown, got '" + settings.format + "'");
    fs::path root = heaplab_root();
    std::vector<Trace> traces;
    std::vector<std::string> paths = settings.traces.empty() ? suite_traces(root) : settings.traces;
    if (paths.empty()) throw UsageError("journey: no traces (*.rep) in " + (root / "traces").string());
    for (const std::string &path : paths) traces.push_back(read_trace(path));

    SuiteSettings suite;
    suite.options.timing_runs = settings.runs;
    suite.options.timeout_seconds = settings.timeout;
    suite.show_progress = isatty(STDERR_FILENO) != 0;
    std::vector<std::shared_ptr<const Allocator>> allocators;
    for (const std::string &name : journey_allocators()) allocators.push_back(load_allocator(name));
    // Each allocator checked, then all of them timed taking turns, trace by trace.
    std::vector<SuiteRun> runs = replay_suites(allocators, traces, suite, std::chrono::steady_clock::now());
    std::vector<JourneyRow> rows;
    std::vector<std::string> failures;
    for (std::size_t a = 0; a < allocators.size(); ++a) {
        const std::string &name = allocators[a]->name;
        rows.push_back({name, allocator_idea(name, root.string()), runs[a].totals});
        for (const ReplayResult &r : runs[a].results) {
            if (r.ok) continue;
            failures.push_back(fmt::format("{}: {} failed: {}", name, r.trace, r.failure ? r.failure->reason : "?"));
            break;  // the first failure of each allocator; `trace replay` shows them all
        }
    }

    bool markdown = settings.format == "markdown";
    std::string how_many = fmt::format("{} trace{}", traces.size(), traces.size() == 1 ? "" : "s");
    std::string timed = fmt::format("{} timed run{}", settings.runs, settings.runs == 1 ? "" : "s");
    if (!markdown)
        fmt::print("the journey in numbers: {}, throughput the median of {} each, the allocators taking turns\n"
                   "(utilization: peak live payload / peak heap, mean over the traces; throughput: all requests /"
                   " all time;\n vs glibc: the ratio to libc)\n",
                   how_many, timed);
    fmt::print("{}", journey_table(rows, markdown ? JourneyFormat::markdown : JourneyFormat::text));
    if (markdown)
        fmt::print("\nUtilization is peak live payload / peak heap, the mean over {}; throughput is all requests / "
                   "all time, the median of {} of each trace (the allocators taking turns), on the machine that built this page: only the ratios "
                   "carry over. Made by `heaplab journey --format markdown`.\n",
                   how_many, timed);
    for (const std::string &failure : failures) fmt::print("{}{}\n", markdown ? "\n" : "  FAIL ", failure);
    return failures.empty() ? 0 : kExitFailed;
}

}  // namespace

void add_journey_command(CLI::App &app) {
    auto settings = std::make_shared<JourneySettings>();
    CLI::App *journey = app.add_subcommand(
        "journey", "Every lab stage on the trace suite beside glibc and the reference: what each idea buys");
    journey->add_option("traces", settings->traces, "trace files (default: every trace in traces/)");
    journey->add_option("--format", settings->format, "text or markdown (for the docs site)")->capture_default_str();
    journey->add_option("--runs", settings->runs, "timing runs per trace (throughput is the median)")
        ->capture_default_str()
        ->check(CLI::Range(1, 101));
    journey->add_option("--timeout", settings->timeout, "seconds before one replay is stopped")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    journey->callback([settings] {
        int status = run_journey(*settings);
        if (status != 0) throw CLI::RuntimeError(status);
    });
}

}  // namespace heaplab
