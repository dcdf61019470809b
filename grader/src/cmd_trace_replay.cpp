/**
 * @file cmd_trace_replay.cpp
 * @brief `heaplab trace replay --allocator NAME[,NAME...] [--json] TRACE...`
 *
 * Every trace is read (and rejected with `file:line` when malformed) before anything runs, so a
 * typo in the tenth file does not waste the first nine replays. Each replay runs in a child
 * process (replay_isolated()), so an allocator that crashes costs one verdict, not the run.
 */
#include "cmd_trace_replay.h"

#include "check.h"
#include "cli_error.h"
#include "journey.h"
#include "suite_replay.h"
#include "heaplab/allocator.h"
#include "heaplab/replay.h"
#include "heaplab/trace.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <sstream>
#include <unistd.h>

namespace heaplab {
namespace {

struct ReplaySettings {
    std::vector<std::string> allocators{"libc"};
    std::vector<std::string> traces;
    bool json = false;
    bool no_time = false;
    bool in_process = false;
    std::size_t alignment = 16;
    std::string cap;
    int runs = 3;
    double timeout = 120;
    double budget = 0;  ///< seconds for the whole run; traces after it are failed, not replayed
};

/// "64M" -> 67108864. Accepts K, M, G (powers of 1024).
std::size_t parse_bytes(const std::string &text) {
    std::size_t value = 0;
    std::size_t used = 0;
    try {
        value = std::stoull(text, &used);
    } catch (const std::exception &) {
        throw UsageError("--cap: expected a size such as 64M, got '" + text + "'");
    }
    std::string suffix = text.substr(used);
    std::size_t scale = suffix.empty() ? 1
                        : suffix == "K" || suffix == "k" ? std::size_t{1} << 10
                        : suffix == "M" || suffix == "m" ? std::size_t{1} << 20
                        : suffix == "G" || suffix == "g" ? std::size_t{1} << 30
                                                         : 0;
    if (scale == 0 || text[0] == '-') throw UsageError("--cap: expected a size such as 64M, got '" + text + "'");
    return value * scale;
}

void print_table(const Allocator &allocator, const std::vector<ReplayResult> &results,
                 const SuiteTotals &totals) {
    std::string title = fmt::format("allocator {} ({})", allocator.name, allocator.origin);
    fmt::print("\n{}\n", title);
    std::size_t width = 5;
    for (const ReplayResult &r : results) width = std::max(width, r.trace.size());
    fmt::print("  {:<{}}  {:>8}  {:>7}  {:>10}  {}\n", "trace", width, "ops", "util", "Kops/s", "verdict");
    for (const ReplayResult &r : results) {
        fmt::print("  {:<{}}  {:>8}  {:>7}  {:>10}  {}\n", r.trace, width, r.ops, percent(r.utilization),
                   kops(r.ops_per_second), r.ok ? "ok" : "FAIL");
    }
    fmt::print("  {:<{}}  {:>8}  {:>7}  {:>10}  {}/{} ok\n", "total", width, totals.ops,
               percent(totals.mean_utilization()), kops(totals.ops_per_second()), totals.passed,
               totals.passed + totals.failed);
    for (const ReplayResult &r : results) {
        if (r.ok || !r.failure) continue;
        const ReplayFailure &f = *r.failure;
        fmt::print("\n  FAIL {} at request {}", r.trace, f.op_index);
        if (!f.op.empty()) fmt::print(" ({}{})", f.op, f.line > 0 ? fmt::format(", {}:{}", r.path, f.line) : "");
        fmt::print(":\n    {}\n", f.reason);
        if (!f.heap_map.empty()) {
            std::istringstream lines(f.heap_map);
            for (std::string line; std::getline(lines, line);) fmt::print("    {}\n", line);
        }
    }
}

/// With several allocators, the journey table: each beside glibc, with what it adds.
void print_comparison(const std::vector<std::pair<std::string, SuiteTotals>> &all) {
    if (all.size() < 2) return;
    std::string root = heaplab_root().string();
    std::vector<JourneyRow> rows;
    for (const auto &[name, totals] : all) rows.push_back({name, allocator_idea(name, root), totals});
    fmt::print("\nside by side (utilization: mean over traces; throughput: all requests / all time; "
               "vs glibc: the ratio to libc)\n{}",
               journey_table(rows, JourneyFormat::text));
}

int run_replay(const ReplaySettings &settings) {
    if (settings.traces.empty()) throw UsageError("trace replay: no trace files given");
    if (settings.alignment == 0 || (settings.alignment & (settings.alignment - 1)) != 0)
        throw UsageError("--alignment must be a power of two, got " + std::to_string(settings.alignment));

    std::vector<std::shared_ptr<const Allocator>> allocators = load_allocators(settings.allocators);
    std::vector<Trace> traces;
    for (const std::string &path : settings.traces) traces.push_back(read_trace(path));

    SuiteSettings suite;
    suite.options.alignment = settings.alignment;
    suite.options.time = !settings.no_time;
    suite.options.timing_runs = settings.runs;
    suite.options.timeout_seconds = settings.timeout;
    if (!settings.cap.empty()) suite.options.heap_cap = parse_bytes(settings.cap);
    suite.in_process = settings.in_process;
    suite.budget = settings.budget;
    // A progress line only where a person watches: not in --json output, not in a log file.
    suite.show_progress = !settings.json && isatty(STDERR_FILENO);

    // Several allocators timed take turns, trace by trace (replay_suites()).
    std::vector<SuiteRun> runs = replay_suites(allocators, traces, suite, std::chrono::steady_clock::now());

    nlohmann::json report = nlohmann::json::array();
    std::vector<std::pair<std::string, SuiteTotals>> all_totals;
    bool all_ok = true;
    for (std::size_t a = 0; a < allocators.size(); ++a) {
        const auto &allocator = allocators[a];
        const SuiteRun &run = runs[a];
        const std::vector<ReplayResult> &results = run.results;
        const SuiteTotals &totals = run.totals;
        all_ok = all_ok && totals.failed == 0;
        all_totals.emplace_back(allocator->name, totals);
        if (settings.json) {
            nlohmann::json entry;
            entry["allocator"] = allocator->name;
            entry["origin"] = allocator->origin;
            entry["traces"] = nlohmann::json::array();
            for (const ReplayResult &r : results) entry["traces"].push_back(nlohmann::json::parse(to_json(r)));
            entry["totals"] = {{"traces", results.size()},
                               {"passed", totals.passed},
                               {"failed", totals.failed},
                               {"ops", totals.ops},
                               {"mean_utilization", totals.mean_utilization()},
                               {"ops_per_second", totals.ops_per_second()}};
            report.push_back(entry);
        } else {
            print_table(*allocator, results, totals);
        }
    }
    if (settings.json) {
        std::cout << nlohmann::json{{"allocators", report}}.dump(2) << "\n";
    } else {
        print_comparison(all_totals);
    }
    return all_ok ? 0 : kExitFailed;
}

}  // namespace

void add_trace_replay_command(CLI::App &trace_command) {
    auto settings = std::make_shared<ReplaySettings>();
    CLI::App *replay = trace_command.add_subcommand(
        "replay", "Replay traces on allocators, check every request, measure utilization and throughput");
    replay->add_option("--allocator,-a", settings->allocators,
                       "libc, reference, a lab stage such as 03-coalescing, a path to an mm_*.so, "
                       "or all (comma-separated for several)")
        ->delimiter(',')
        ->allow_extra_args(false);  // one value per --allocator; the rest are trace files
    replay->add_option("traces", settings->traces, "trace files")->required();
    replay->add_flag("--json", settings->json, "print the results as JSON on stdout");
    replay->add_option("--alignment", settings->alignment, "required payload alignment in bytes")
        ->capture_default_str();
    replay->add_option("--cap", settings->cap, "heap cap, e.g. 512M (mem_sbrk fails beyond it)");
    replay->add_option("--runs", settings->runs,
                       "timing runs per trace (throughput is the median; several allocators take turns)")
        ->capture_default_str()->check(CLI::Range(1, 101));
    replay->add_flag("--no-time", settings->no_time, "skip the timing pass (correctness and utilization only)");
    replay->add_option("--timeout", settings->timeout, "seconds before a replay is stopped")
        ->capture_default_str()->check(CLI::PositiveNumber);
    replay->add_option("--budget", settings->budget,
                       "seconds for the whole run: traces not started by then fail as not replayed")
        ->check(CLI::PositiveNumber);
    replay->add_flag("--in-process", settings->in_process,
                     "replay in this process instead of a child (for gdb); a crash then ends heaplab");
    replay->callback([settings] {
        int status = run_replay(*settings);
        if (status != 0) throw CLI::RuntimeError(status);
    });
}

}  // namespace heaplab
