/** @file suite_replay.cpp @brief A trace suite on one allocator (see suite_replay.h). */
#include "suite_replay.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <optional>

namespace heaplab {

void SuiteTotals::add(const ReplayResult &result) {
    ops += result.ops;
    (result.ok ? passed : failed) += 1;
    if (result.ok && result.utilization > 0) {
        utilization_sum += result.utilization;
        ++utilization_count;
    }
    if (result.ok && result.ops_per_second > 0) seconds += static_cast<double>(result.ops) / result.ops_per_second;
}

double SuiteTotals::mean_utilization() const {
    return utilization_count == 0 ? 0 : utilization_sum / static_cast<double>(utilization_count);
}

double SuiteTotals::ops_per_second() const {
    return seconds <= 0 || failed > 0 ? 0 : static_cast<double>(ops) / seconds;
}

namespace {

ReplayResult not_replayed(const Allocator &allocator, const Trace &trace, double budget) {
    ReplayResult skipped;
    skipped.allocator = allocator.name;
    skipped.trace = trace.name;
    skipped.path = trace.path;
    skipped.ops = trace.ops.size();
    skipped.failure =
        ReplayFailure{0, "", 0, fmt::format("not replayed: the time budget of {:g} s ran out on earlier traces", budget), ""};
    return skipped;
}

}  // namespace

SuiteRun replay_suite(const Allocator &allocator, const std::vector<Trace> &traces, const SuiteSettings &settings,
                      std::chrono::steady_clock::time_point started) {
    SuiteRun run;
    for (const Trace &trace : traces) {
        double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        if (settings.budget > 0 && elapsed > settings.budget) {
            run.results.push_back(not_replayed(allocator, trace, settings.budget));
        } else {
            if (settings.show_progress) {
                std::fprintf(stderr, "\r  replaying %-16s %-40s", allocator.name.c_str(), trace.name.c_str());
                std::fflush(stderr);
            }
            run.results.push_back(settings.in_process ? replay(allocator, trace, settings.options)
                                                      : replay_isolated(allocator, trace, settings.options));
        }
        run.totals.add(run.results.back());
    }
    if (settings.show_progress) std::fprintf(stderr, "\r%80s\r", "");
    return run;
}

namespace {

/// Times @p timed on @p trace in turn, in a child process unless in_process; nullopt when the
/// child crashed or ran out of time (@p why says how).
std::optional<std::vector<std::vector<double>>> time_trace(const std::vector<const Allocator *> &timed,
                                                           const Trace &trace, const SuiteSettings &settings,
                                                           std::string &why) {
    if (settings.in_process) return time_in_turn(timed, trace, settings.options);
    auto work = [&](ReplayProgress &progress) {
        progress.pass.store(3);
        return nlohmann::json(time_in_turn(timed, trace, settings.options)).dump();
    };
    ReplayFailure failure;
    std::optional<std::string> output =
        run_isolated(trace, settings.options.timeout_seconds * static_cast<double>(timed.size()), work, failure);
    if (!output) {
        why = failure.reason;
        return std::nullopt;
    }
    nlohmann::json json = nlohmann::json::parse(*output, nullptr, false);
    if (json.is_discarded() || !json.is_array() || json.size() != timed.size()) {
        why = "the timing run's report was unreadable";
        return std::nullopt;
    }
    return json.get<std::vector<std::vector<double>>>();
}

/// The timing step of replay_suites(): @p runs were checked with the timing off.
void time_suites_in_turn(const std::vector<std::shared_ptr<const Allocator>> &allocators,
                         const std::vector<Trace> &traces, const SuiteSettings &settings, std::vector<SuiteRun> &runs) {
    for (std::size_t t = 0; t < traces.size(); ++t) {
        std::vector<const Allocator *> timed;
        std::vector<ReplayResult *> results;
        for (std::size_t a = 0; a < allocators.size(); ++a) {
            if (!runs[a].results[t].ok) continue;
            timed.push_back(allocators[a].get());
            results.push_back(&runs[a].results[t]);
        }
        if (timed.empty()) continue;
        if (settings.show_progress) {
            std::fprintf(stderr, "\r  timing %-16s in turn%-40s", traces[t].name.c_str(), "");
            std::fflush(stderr);
        }
        std::string why;
        std::optional<std::vector<std::vector<double>>> samples = time_trace(timed, traces[t], settings, why);
        if (!samples) {
            // One of them crashed (or looped) where its checked replay did not: find which.
            samples.emplace(timed.size());
            for (std::size_t i = 0; i < timed.size(); ++i) {
                std::optional<std::vector<std::vector<double>>> alone = time_trace({timed[i]}, traces[t], settings, why);
                if (alone) {
                    (*samples)[i] = alone->front();
                } else {
                    results[i]->ok = false;
                    results[i]->failure = ReplayFailure{0, "", 0, "in the timing pass, after a correct replay: " + why, ""};
                }
            }
        }
        for (std::size_t i = 0; i < timed.size(); ++i) {
            results[i]->timing_samples = (*samples)[i];
            results[i]->ops_per_second = median((*samples)[i]);
        }
    }
    if (settings.show_progress) std::fprintf(stderr, "\r%80s\r", "");
    for (SuiteRun &run : runs) {
        run.totals = SuiteTotals{};
        for (const ReplayResult &result : run.results) run.totals.add(result);
    }
}

}  // namespace

std::vector<SuiteRun> replay_suites(const std::vector<std::shared_ptr<const Allocator>> &allocators,
                                    const std::vector<Trace> &traces, const SuiteSettings &settings,
                                    std::chrono::steady_clock::time_point started) {
    bool in_turn = settings.options.time && allocators.size() >= 2;
    SuiteSettings checking = settings;
    if (in_turn) checking.options.time = false;
    std::vector<SuiteRun> runs;
    for (const auto &allocator : allocators) runs.push_back(replay_suite(*allocator, traces, checking, started));
    if (in_turn) time_suites_in_turn(allocators, traces, settings, runs);
    return runs;
}

std::vector<std::shared_ptr<const Allocator>> load_allocators(const std::vector<std::string> &names) {
    std::vector<std::shared_ptr<const Allocator>> allocators;
    for (const std::string &spec : names) {
        if (spec == "all") {
            for (const std::string &name : available_allocators()) allocators.push_back(load_allocator(name));
        } else {
            allocators.push_back(load_allocator(spec));
        }
    }
    return allocators;
}

std::string percent(double fraction) { return fraction > 0 ? fmt::format("{:.1f}%", 100 * fraction) : "-"; }

std::string kops(double ops_per_second) {
    return ops_per_second > 0 ? fmt::format("{:.0f}", ops_per_second / 1000) : "-";
}

}  // namespace heaplab
