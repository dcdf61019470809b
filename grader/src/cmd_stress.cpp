/**
 * @file cmd_stress.cpp
 * @brief `heaplab stress --allocator NAME [--threads N|N,M,...] [--ops N] [--seed S] ...`
 *
 * For each thread count: one checked run (the verdict), then `--runs` timing runs with the
 * checks off (throughput: their median). Each run is a forked child (stress_isolated()), so an
 * allocator that crashes, deadlocks or loops costs a verdict naming where every thread was;
 * `--in-process` runs them in heaplab itself, for Valgrind and gdb.
 *
 * An allocator that is not thread-safe is run all the same: its failure with two threads is
 * the lesson of Lab 05. Only a built-in lab stage is known to be unsafe (its lab.toml has no
 * `thread_safe = true`), and for one heaplab says so first, on stderr.
 */
#include "cmd_stress.h"

#include "check.h"
#include "cli_error.h"
#include "heaplab/allocator.h"
#include "heaplab/stress.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <regex>
#include <unistd.h>

namespace heaplab {
namespace {

struct StressSettings {
    std::string allocator;
    std::string threads = "2";
    std::size_t ops = 20000;
    std::uint64_t seed = 1;
    std::size_t alignment = 16;
    unsigned handoff = 10;
    int runs = 3;
    bool no_time = false;
    bool in_process = false;
    double timeout = 60;
    bool json = false;
};

/// The outcome for one thread count.
struct CountOutcome {
    unsigned threads = 0;
    StressResult checked;              ///< the checked run: the verdict
    std::vector<double> samples;       ///< ops/s of each timing run
    std::optional<StressResult> failed_timing;  ///< a timing run that crashed or got stuck
    [[nodiscard]] bool ok() const { return checked.ok && !failed_timing; }
    [[nodiscard]] double ops_per_second() const {
        if (samples.empty()) return checked.ops_per_second;
        std::vector<double> sorted = samples;
        std::sort(sorted.begin(), sorted.end());
        return sorted[sorted.size() / 2];
    }
};

std::string verdict_text(const CountOutcome &outcome) {
    const StressResult &bad = outcome.failed_timing ? *outcome.failed_timing : outcome.checked;
    const StressFailure &f = *bad.failure;
    std::string where = fmt::format("FAIL with {} thread{}", outcome.threads, outcome.threads == 1 ? "" : "s");
    if (outcome.failed_timing) where += " (in a timing run, checks off)";
    if (f.thread >= 0) {
        where += fmt::format(": thread {} at its request {}", f.thread, f.op);
        if (!f.request.empty()) where += " (" + f.request + ")";
    } else if (!f.request.empty()) {
        where += ": at " + f.request;
    }
    return where + ":\n    " + f.reason + "\n";
}

void print_text(const Allocator &allocator, const StressSettings &settings, const std::vector<CountOutcome> &outcomes) {
    fmt::print("stress {} ({})\n", allocator.name, allocator.origin);
    fmt::print("  {} requests per thread (seed {}): malloc, calloc, realloc and free of 1 to 4096 bytes; "
               "{}% of new blocks freed by the next thread\n",
               settings.ops, settings.seed, settings.handoff);
    fmt::print("  {:>7}  {:>10}  {:>18}  {}\n", "threads", "Kops/s", "cross-thread frees", "verdict");
    for (const CountOutcome &o : outcomes) {
        std::string rate = o.ok() ? fmt::format("{:.0f}", o.ops_per_second() / 1000) : "-";
        fmt::print("  {:>7}  {:>10}  {:>18}  {}\n", o.threads, rate, o.checked.cross_thread_frees,
                   o.ok() ? "ok" : o.checked.failure && o.checked.failure->stuck ? "FAIL (did not finish)" : "FAIL");
    }
    bool all_ok = std::all_of(outcomes.begin(), outcomes.end(), [](const CountOutcome &o) { return o.ok(); });
    if (all_ok && outcomes.size() > 1) {
        for (std::size_t i = 1; i < outcomes.size(); ++i)
            fmt::print("  throughput with {} threads / with {}: {:.2f}x ({})\n", outcomes[i].threads,
                       outcomes[0].threads, outcomes[i].ops_per_second() / outcomes[0].ops_per_second(),
                       settings.no_time ? "checked runs, checks on" : fmt::format("medians of {} timing runs", settings.runs));
    } else if (all_ok && settings.no_time) {
        fmt::print("  (throughput of the checked run, checks on: --no-time)\n");
    }
    for (const CountOutcome &o : outcomes)
        if (!o.ok()) fmt::print("\n  {}", verdict_text(o));
}

nlohmann::json to_json_report(const Allocator &allocator, const StressSettings &settings,
                              const std::vector<CountOutcome> &outcomes) {
    nlohmann::json runs = nlohmann::json::array();
    for (const CountOutcome &o : outcomes) {
        nlohmann::json entry = {{"threads", o.threads},
                                {"ok", o.ok()},
                                {"checked", nlohmann::json::parse(to_json(o.checked))},
                                {"timing_samples", o.samples},
                                {"ops_per_second", o.ok() ? o.ops_per_second() : 0.0}};
        if (o.failed_timing) entry["failed_timing_run"] = nlohmann::json::parse(to_json(*o.failed_timing));
        if (!o.ok()) entry["verdict"] = verdict_text(o);
        runs.push_back(entry);
    }
    nlohmann::json report = {{"allocator", allocator.name},   {"origin", allocator.origin},
                             {"ops_per_thread", settings.ops}, {"seed", settings.seed},
                             {"handoff_percent", settings.handoff}, {"runs", runs}};
    bool all_ok = std::all_of(outcomes.begin(), outcomes.end(), [](const CountOutcome &o) { return o.ok(); });
    nlohmann::json ratios = nlohmann::json::array();
    if (all_ok)
        for (std::size_t i = 1; i < outcomes.size(); ++i)
            ratios.push_back({{"threads", outcomes[i].threads},
                              {"over_threads", outcomes[0].threads},
                              {"ratio", outcomes[i].ops_per_second() / outcomes[0].ops_per_second()}});
    report["ratios"] = ratios;
    report["ok"] = all_ok;
    return report;
}

/// In --in-process mode a stuck run's threads cannot be joined: report and leave at once.
[[noreturn]] void abandon(const Allocator &allocator, const StressSettings &settings,
                          const std::vector<CountOutcome> &outcomes) {
    if (settings.json) {
        std::cout << to_json_report(allocator, settings, outcomes).dump(2) << "\n";
    } else {
        print_text(allocator, settings, outcomes);
    }
    std::cout.flush();
    std::fflush(nullptr);
    _exit(kExitFailed);
}

int run_stress(const StressSettings &settings) {
    if (settings.alignment == 0 || (settings.alignment & (settings.alignment - 1)) != 0)
        throw UsageError("--alignment must be a power of two, got " + std::to_string(settings.alignment));
    std::vector<unsigned> counts = parse_thread_counts(settings.threads);
    std::shared_ptr<const Allocator> allocator = load_allocator(settings.allocator);
    unsigned most = *std::max_element(counts.begin(), counts.end());
    if (most > 1 && is_unsafe_lab_stage(settings.allocator, heaplab_root().string()))
        std::cerr << "heaplab stress: note: " << settings.allocator
                  << " is not thread-safe (its lab.toml does not say thread_safe = true); with " << most
                  << " threads expect it to fail: making it safe is Lab 05\n";

    StressOptions options;
    options.ops = settings.ops;
    options.seed = settings.seed;
    options.alignment = settings.alignment;
    options.handoff_percent = settings.handoff;
    options.timeout_seconds = settings.timeout;
    auto one_run = [&](const StressOptions &run_options) {
        return settings.in_process ? stress(*allocator, run_options) : stress_isolated(*allocator, run_options);
    };

    std::vector<CountOutcome> outcomes;
    for (unsigned count : counts) {
        CountOutcome outcome;
        outcome.threads = count;
        options.threads = count;
        options.check = true;
        outcome.checked = one_run(options);
        outcomes.push_back(outcome);
        if (settings.in_process && !outcome.checked.ok && outcome.checked.failure->stuck)
            abandon(*allocator, settings, outcomes);
        if (!outcome.checked.ok) break;  // a larger count would fail again (and a stuck run cost its timeout again)
        if (settings.no_time) continue;
        options.check = false;
        for (int r = 0; r < settings.runs; ++r) {
            StressResult timed = one_run(options);
            if (!timed.ok) {
                outcomes.back().failed_timing = timed;
                if (settings.in_process && timed.failure->stuck) abandon(*allocator, settings, outcomes);
                break;
            }
            outcomes.back().samples.push_back(timed.ops_per_second);
        }
        if (outcomes.back().failed_timing) break;
    }
    if (settings.json) {
        std::cout << to_json_report(*allocator, settings, outcomes).dump(2) << "\n";
    } else {
        print_text(*allocator, settings, outcomes);
    }
    bool all_ok = std::all_of(outcomes.begin(), outcomes.end(), [](const CountOutcome &o) { return o.ok(); });
    return all_ok ? 0 : kExitFailed;
}

}  // namespace

std::vector<unsigned> parse_thread_counts(const std::string &text) {
    std::vector<unsigned> counts;
    auto bad = [&] {
        return UsageError(fmt::format("--threads: expected a thread count or a list such as 1,2 (each 1 to {}), got '{}'",
                                      kMaxStressThreads, text));
    };
    std::size_t start = 0;
    while (start <= text.size()) {
        std::size_t comma = text.find(',', start);
        std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        if (item.empty() || item.size() > 3 || item.find_first_not_of("0123456789") != std::string::npos) throw bad();
        unsigned count = static_cast<unsigned>(std::stoul(item));
        if (count == 0 || count > kMaxStressThreads) throw bad();
        counts.push_back(count);
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    if (counts.empty()) throw bad();
    return counts;
}

bool is_unsafe_lab_stage(const std::string &allocator, const std::string &root) {
    if (allocator.find('/') != std::string::npos || allocator.ends_with(".so")) return false;
    std::filesystem::path toml = std::filesystem::path(root) / "labs" / allocator / "lab.toml";
    std::ifstream in(toml);
    if (!in) return false;  // not a lab stage (libc, reference)
    static const std::regex safe(R"(^\s*thread_safe\s*=\s*true)");
    for (std::string line; std::getline(in, line);)
        if (std::regex_search(line, safe)) return false;
    return true;
}

void add_stress_command(CLI::App &app) {
    auto settings = std::make_shared<StressSettings>();
    CLI::App *command = app.add_subcommand(
        "stress", "Call an allocator from many threads at once, check every answer, measure the throughput");
    command->add_option("--allocator,-a", settings->allocator,
                        "libc, reference, a lab stage such as 05-threads, or a path to an mm_*.so")
        ->required();
    command->add_option("--threads,-t", settings->threads,
                        "threads, or a list such as 1,2: each count is run and their throughputs compared")
        ->capture_default_str();
    command->add_option("--ops", settings->ops, "requests per thread")
        ->capture_default_str()->check(CLI::Range(std::size_t{1}, std::size_t{100000000}));
    command->add_option("--seed", settings->seed, "seed of the requests (the same seed makes the same requests)")
        ->capture_default_str();
    command->add_option("--alignment", settings->alignment, "required payload alignment in bytes")
        ->capture_default_str();
    command->add_option("--handoff", settings->handoff, "percent of new blocks handed to the next thread and freed there")
        ->capture_default_str()->check(CLI::Range(0U, 100U));
    command->add_option("--runs", settings->runs, "timing runs per thread count (throughput is their median)")
        ->capture_default_str()->check(CLI::Range(1, 101));
    command->add_flag("--no-time", settings->no_time, "the checked run only (its throughput has the checks on)");
    command->add_option("--timeout", settings->timeout,
                        "seconds before a run is called stuck (a deadlock or an endless loop); 0: never")
        ->capture_default_str()->check(CLI::NonNegativeNumber);
    command->add_flag("--in-process", settings->in_process,
                      "run in this process instead of a child (for Valgrind and gdb); a crash then ends heaplab");
    command->add_flag("--json", settings->json, "print the results as JSON on stdout");
    command->callback([settings] {
        int status = run_stress(*settings);
        if (status != 0) throw CLI::RuntimeError(status);
    });
}

}  // namespace heaplab
