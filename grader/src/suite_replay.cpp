/** @file suite_replay.cpp @brief A trace suite on one allocator (see suite_replay.h). */
#include "suite_replay.h"

#include <fmt/format.h>

#include <cstdio>

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
