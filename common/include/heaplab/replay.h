/**
 * @file replay.h
 * @brief Replays a trace on an allocator and checks every request.
 *
 * A replay runs in up to three passes over the same trace, each starting from an empty heap
 * (mem_reset() then the allocator's mm_init()):
 *
 * 1. **Check.** Every request is made and its answer checked: the payload is aligned, lies
 *    inside [mem_heap_lo(), mem_heap_hi()], overlaps no live block, and is as large as asked
 *    (every payload is filled with a pattern unique to the block, verified before it is freed
 *    or reallocated and at the end; the first and last bytes of the neighbouring blocks are
 *    verified after every request, so a request that writes into a neighbour is caught at
 *    once). mm_realloc must keep the old prefix and mm_calloc must return zeroes. The first
 *    failure stops the pass and is reported with the request, the reason and a map of the heap
 *    around the bad block. The same pass measures utilization for allocators on memlib.
 * 2. **Measure** (allocators not on memlib, i.e. glibc): the requests alone, sampling the
 *    allocator's own heap size after each, for utilization.
 * 3. **Time.** The requests alone, checks off, repeated; throughput is the median.
 *
 * replay_isolated() runs all of it in a child process, so an allocator that crashes or loops
 * forever costs a verdict ("crashed with SIGSEGV at request 120"), never the caller.
 */
#ifndef HEAPLAB_REPLAY_H
#define HEAPLAB_REPLAY_H

#include "heaplab/allocator.h"
#include "heaplab/trace.h"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace heaplab {

/** @brief A live payload as the check pass knows it (what heap pictures are drawn from). */
struct LivePayload {
    std::uint32_t id = 0;          ///< the trace's id of the block
    const void *address = nullptr; ///< where the allocator put it
    std::size_t size = 0;          ///< bytes asked for
    std::size_t op_index = 0;      ///< the request that placed it (0-based index in Trace::ops)
};

/**
 * @brief Called by the check pass after mm_init() with @p done = 0, then after each request
 *        with the number of requests made so far, with every live payload in address order
 *        (payloads of 0 bytes for which the allocator returned NULL are left out).
 */
using ReplayStepObserver = std::function<void(std::size_t done, const std::vector<LivePayload> &live)>;

/** @brief How to replay. */
struct ReplayOptions {
    std::size_t alignment = 16;     ///< every payload must be aligned to this (8 for classic labs)
    bool check = true;              ///< run the check pass
    bool time = true;               ///< run the timing pass
    int timing_runs = 3;            ///< timing pass repetitions; throughput is their median
    std::size_t heap_cap = 0;       ///< cap for mem_sbrk (0: the default, the whole reservation)
    std::size_t edge_bytes = 64;    ///< bytes at each end of a neighbour verified after a request
    double timeout_seconds = 120;   ///< replay_isolated(): the child is killed after this
    ReplayStepObserver on_step;     ///< heap pictures only (unset: no cost); see the type
};

/** @brief The first thing that went wrong. */
struct ReplayFailure {
    std::size_t op_index = 0;  ///< 0-based index of the request in Trace::ops
    std::string op;            ///< the request as a trace line, e.g. "a 7 40" ("" before any)
    std::size_t line = 0;      ///< its line in the trace file (0 if unknown)
    std::string reason;        ///< what was wrong, what was expected and what came back
    std::string heap_map;      ///< live blocks around the bad one ("" when not relevant)
};

/** @brief The outcome of replaying one trace on one allocator. */
struct ReplayResult {
    std::string allocator;                 ///< the allocator's name (Allocator::name)
    std::string trace;                     ///< the trace's name
    std::string path;                      ///< the trace's file
    std::size_t ops = 0;                   ///< requests in the trace
    bool ok = false;                       ///< every check passed
    std::optional<ReplayFailure> failure;  ///< set when !ok
    std::size_t peak_live_bytes = 0;       ///< the most payload bytes live at once
    std::size_t peak_heap_bytes = 0;       ///< the largest heap (memlib's peak break, or libc's)
    double utilization = 0;                ///< peak_live_bytes / peak_heap_bytes (0 if unknown)
    double ops_per_second = 0;             ///< median throughput of the timing runs (0: not timed)
    std::vector<double> timing_samples;    ///< ops per second of each timing run
};

/**
 * @brief Where a replay is, shared with a watching parent process so that a crash can be
 *        blamed on the request that caused it.
 */
struct ReplayProgress {
    std::atomic<std::size_t> op_index{0};  ///< the request being made (index in Trace::ops)
    std::atomic<int> pass{0};  ///< 1 check, 2 measure, 3 time, 4 mm_heap_walk() (op_index: requests made)
};

/** @brief Replays @p trace on @p allocator in this process. */
ReplayResult replay(const Allocator &allocator, const Trace &trace, const ReplayOptions &options,
                    ReplayProgress *progress = nullptr);

/**
 * @brief Times @p allocators on @p trace in turn: options.timing_runs rounds, each running every
 *        allocator once (A B, then B A, ...), so that a change in the machine's load falls on
 *        all of them alike and their ratio holds steadier than when one allocator's runs all
 *        come before the other's. No checks: only for allocators that replayed @p trace
 *        correctly (replay()).
 * @return per allocator, its ops/s in each round; empty for one whose mm_init() failed.
 */
std::vector<std::vector<double>> time_in_turn(const std::vector<const Allocator *> &allocators, const Trace &trace,
                                              const ReplayOptions &options);

/** @brief The median of @p samples (the mean of the middle two for an even count; 0 when empty). */
double median(std::vector<double> samples);

/**
 * @brief Replays in a forked child: a crash, a signal or a timeout of the allocator becomes a
 *        failed result naming the request it happened in.
 */
ReplayResult replay_isolated(const Allocator &allocator, const Trace &trace,
                             const ReplayOptions &options);

/** @brief How a forked child ended when it did not hand back its text (run_in_child()). */
struct ChildEnd {
    bool timed_out = false;    ///< still running at the deadline: killed
    int signal = 0;            ///< the signal that killed it (0: none)
    int exit_status = 0;       ///< it exited with this status instead of returning (or -1)
    double cpu_seconds = 0;    ///< CPU time it used, user and system, all its threads
    double wall_seconds = 0;   ///< how long it ran
    /** @brief "still running after 10 s", "crashed with SIGSEGV (Segmentation fault)", "exited with status 3". */
    [[nodiscard]] std::string describe() const;
};

/**
 * @brief The fork harness under run_isolated() and the stress driver: runs @p work in a forked
 *        child (its stdout goes to stderr; it ends with `_exit`, so threads it leaves behind run
 *        no destructors) and returns the text @p work returned.
 * @return the text; or nullopt, with @p end saying how the child ended, when it crashed, was
 *         killed, exited, or ran past @p timeout_seconds (then it is killed).
 * @throws std::runtime_error when no pipe or child can be made.
 */
std::optional<std::string> run_in_child(double timeout_seconds, const std::function<std::string()> &work,
                                        ChildEnd &end);

/**
 * @brief The harness of replay_isolated(), for any work on an allocator: runs @p work in a
 *        forked child (its stdout goes to stderr) and returns the text it returned.
 * @return the text; or nullopt, with @p failure naming the request @p work's progress was at,
 *         when the child crashed, was killed, exited, or ran past @p timeout_seconds.
 */
std::optional<std::string> run_isolated(const Trace &trace, double timeout_seconds,
                                        const std::function<std::string(ReplayProgress &)> &work,
                                        ReplayFailure &failure);

/** @brief A result as JSON text (the `--json` output of `heaplab trace replay`, per trace). */
std::string to_json(const ReplayResult &result);

/** @brief Reads back what to_json() wrote. @throws std::runtime_error on malformed input. */
ReplayResult result_from_json(const std::string &json);

}  // namespace heaplab

#endif  // HEAPLAB_REPLAY_H
