/**
 * @file suite_replay.h
 * @brief A trace suite replayed on one allocator, and its totals: what `heaplab trace replay`
 *        prints per allocator and `heaplab journey` puts side by side.
 */
#ifndef HEAPLAB_SUITE_REPLAY_H
#define HEAPLAB_SUITE_REPLAY_H

#include "heaplab/allocator.h"
#include "heaplab/replay.h"
#include "heaplab/trace.h"

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace heaplab {

/** @brief The totals of one allocator over a suite. */
struct SuiteTotals {
    std::size_t ops = 0;          ///< requests in every trace
    std::size_t passed = 0;       ///< traces replayed correctly
    std::size_t failed = 0;       ///< traces that failed (or were not replayed)
    double utilization_sum = 0;   ///< sum of the passed traces' utilizations
    std::size_t utilization_count = 0;  ///< how many utilizations the sum holds
    double seconds = 0;  ///< total time of the timed requests (ops / ops_per_second, summed)

    /** @brief Counts one trace's result in. */
    void add(const ReplayResult &result);
    /** @brief The mean utilization over the traces that passed (0 when none). */
    [[nodiscard]] double mean_utilization() const;
    /** @brief All requests / all time (0 when not timed, or when a trace failed). */
    [[nodiscard]] double ops_per_second() const;
};

/** @brief How to replay a suite. */
struct SuiteSettings {
    ReplayOptions options;       ///< per trace
    bool in_process = false;     ///< replay() instead of replay_isolated() (for gdb)
    double budget = 0;           ///< seconds for the whole run (0: none); later traces fail unplayed
    bool show_progress = false;  ///< a "replaying NAME" line on stderr, rewritten in place
};

/** @brief One allocator's results over a suite. */
struct SuiteRun {
    std::vector<ReplayResult> results;  ///< one per trace, in the suite's order
    SuiteTotals totals;                 ///< their totals
};

/**
 * @brief Replays every trace of @p traces on @p allocator. The budget counts from @p started
 *        (the start of the whole run, over every allocator): a trace not started in time gets
 *        a failed result saying so.
 */
SuiteRun replay_suite(const Allocator &allocator, const std::vector<Trace> &traces, const SuiteSettings &settings,
                      std::chrono::steady_clock::time_point started);

/**
 * @brief Replays every trace of @p traces on each of @p allocators (replay_suite()). With
 *        timing on and several allocators, each is checked first with its timing off, and then
 *        they are timed in turn (time_in_turn()): for every trace, the allocators that replayed
 *        it correctly run round after round in one child process, and each result's throughput
 *        becomes the median of its rounds — a load that changes during the run falls on all of
 *        them alike. A timing child that crashes or runs out of time is retried one allocator
 *        at a time; an allocator that fails alone fails the trace.
 * @return one run per allocator, in the order of @p allocators.
 */
std::vector<SuiteRun> replay_suites(const std::vector<std::shared_ptr<const Allocator>> &allocators,
                                    const std::vector<Trace> &traces, const SuiteSettings &settings,
                                    std::chrono::steady_clock::time_point started);

/** @brief Loads allocators by name or path; `all` stands for every one this build has. */
std::vector<std::shared_ptr<const Allocator>> load_allocators(const std::vector<std::string> &names);

/** @brief A utilization as "71.2%", or "-" when unknown (0). */
std::string percent(double fraction);

/** @brief A throughput in thousands of requests per second, or "-" when unknown (0). */
std::string kops(double ops_per_second);

}  // namespace heaplab

#endif  // HEAPLAB_SUITE_REPLAY_H
