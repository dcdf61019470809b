/**
 * @file heaplab/stress.h
 * @brief The threaded stress driver: many threads calling one allocator at once, every answer
 *        checked (`heaplab stress`, and the `stress` and `helgrind` parts of Lab 05).
 *
 * One run: mem_reset() and mm_init() once, then StressOptions::threads threads, each doing its
 * own seeded random mix of mm_malloc, mm_calloc, mm_realloc and mm_free (sizes from 1 byte to
 * StressOptions::max_size, most of them small). A share of the new blocks is handed to the next
 * thread through a mutex-protected inbox and freed (or reallocated) there: the cross-thread
 * frees a per-thread design gets wrong.
 *
 * A checked run verifies every answer: the payload is aligned, lies inside the heap's
 * reservation, and keeps what was written into it (each payload is filled with a pattern unique
 * to the block and verified before it is freed or reallocated, by whichever thread does it);
 * mm_realloc keeps the old prefix and mm_calloc returns zeroes. At a few pause points (every
 * thread waits at a barrier) and at the end, one thread checks that no two live blocks overlap
 * and that every live block lies below the break.
 *
 * The driver's own synchronisation is kept away from the allocator calls, so that it never
 * hides an allocator's race from Helgrind: between pause points, the only driver locks are the
 * inboxes, taken once per batch of handed-over blocks. The allocator calls themselves are
 * concurrent.
 *
 * A run that does not finish within StressOptions::timeout_seconds is abandoned (its threads
 * are left where they are) and reported as stuck, with where each thread was and whether the
 * threads were blocked (a deadlock) or busy (an endless loop).
 */
#ifndef HEAPLAB_STRESS_H
#define HEAPLAB_STRESS_H

#include "heaplab/allocator.h"

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace heaplab {

/** @brief The most threads one stress run may use. */
inline constexpr unsigned kMaxStressThreads = 64;

/** @brief How to stress an allocator. */
struct StressOptions {
    unsigned threads = 2;           ///< threads calling the allocator at once (1 .. kMaxStressThreads)
    std::size_t ops = 20000;        ///< requests per thread
    std::uint64_t seed = 1;         ///< thread t draws from seed and t: the same requests every run
    std::size_t alignment = 16;     ///< every payload must be aligned to this
    std::size_t max_size = 4096;    ///< largest request in bytes
    unsigned handoff_percent = 10;  ///< share of new blocks handed to the next thread and freed there
    std::size_t max_live = 128;     ///< live blocks per thread at most
    bool check = true;              ///< check every answer (false: a timing run; payloads only touched)
    unsigned pauses = 4;            ///< checked runs: pause points for the overlap and break checks
    double timeout_seconds = 60;    ///< a run still going after this is abandoned as stuck (0: never)
};

/** @brief What a thread is doing, for the report of a run that crashed or got stuck. */
enum class StressCall : int {
    between = 0,  ///< in the driver, between two requests
    malloc,       ///< inside mm_malloc
    calloc,       ///< inside mm_calloc
    realloc,      ///< inside mm_realloc
    free,         ///< inside mm_free
    payload,      ///< the driver writing or verifying a payload the allocator returned
    inbox,        ///< handing blocks over, or taking them
    pause,        ///< at a pause point
    done,         ///< finished its requests
};

/** @brief Where one thread is; written by that thread only. */
struct StressThreadProgress {
    std::atomic<std::size_t> op{0};     ///< its request being made (0-based)
    std::atomic<int> call{0};           ///< a StressCall
    std::atomic<std::size_t> size{0};   ///< the request's size, or the size of the block it frees
    std::atomic<int> from_thread{-1};   ///< for a free or realloc: the thread that allocated the block
};

/**
 * @brief Where every thread of a run is, readable after the run crashed (stress_isolated() keeps
 *        it in memory shared with the parent).
 */
struct StressProgress {
    std::array<StressThreadProgress, kMaxStressThreads> threads;  ///< one per thread
    std::atomic<int> crashed_thread{-1};  ///< stress_isolated(): the thread a fatal signal hit (-1: none)
};

/** @brief The first thing that went wrong in a run. */
struct StressFailure {
    int thread = -1;       ///< the thread that saw it (-1: the run as a whole, e.g. a pause-point check)
    std::size_t op = 0;    ///< that thread's request (0-based)
    std::string request;   ///< the request, e.g. "mm_free of a 40-byte block from thread 0"
    std::string reason;    ///< what was wrong, what was expected and what came back
    bool stuck = false;    ///< the run did not finish in time (a deadlock or an endless loop)
};

/** @brief The outcome of one run. */
struct StressResult {
    unsigned threads = 0;                  ///< threads used
    std::size_t ops = 0;                   ///< requests made, all threads together
    bool ok = false;                       ///< every check passed
    std::optional<StressFailure> failure;  ///< set when !ok
    double seconds = 0;                    ///< wall time from the start of the threads to the last one's end
    double ops_per_second = 0;             ///< ops / seconds
    std::size_t cross_thread_frees = 0;    ///< blocks freed or reallocated by a thread that did not allocate them
    std::size_t peak_heap_bytes = 0;       ///< memlib's peak break (0 for allocators not on memlib)
};

/**
 * @brief One run in this process, its threads' whereabouts kept in @p progress (nullptr: inside
 *        the run). When it gets stuck, its threads are abandoned where they are (and the
 *        driver's memory with them): the caller must end the process with `_exit` soon after,
 *        as `heaplab stress --in-process` does.
 * @throws std::invalid_argument for options out of range (no threads, or more than kMaxStressThreads).
 */
StressResult stress(const Allocator &allocator, const StressOptions &options, StressProgress *progress = nullptr);

/**
 * @brief One run in a forked child (run_in_child()): a crash, an exit() or a stuck run of the
 *        allocator becomes a failed result naming where each thread was.
 */
StressResult stress_isolated(const Allocator &allocator, const StressOptions &options);

/** @brief "thread 0 in mm_realloc (its request 17, 300 bytes); thread 1 between requests (...)". */
std::string describe_threads(const StressProgress &progress, unsigned threads);

/** @brief One thread of describe_threads(), without its number: "in mm_realloc (its request 17, 300 bytes)". */
std::string describe_thread(const StressProgress &progress, unsigned thread);

/** @brief A result as JSON text (`heaplab stress --json` prints these, one per run). */
std::string to_json(const StressResult &result);

/** @brief Reads back what to_json(const StressResult &) wrote. @throws std::runtime_error on malformed input. */
StressResult stress_result_from_json(const std::string &json);

}  // namespace heaplab

#endif  // HEAPLAB_STRESS_H
