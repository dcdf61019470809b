/**
 * @file stress.cpp
 * @brief The threaded stress driver (see heaplab/stress.h for what a run does and checks).
 *
 * Synchronisation, and why it looks like this. Helgrind decides what is a race from the
 * happens-before edges it sees; every lock or barrier the driver takes between two allocator
 * calls of different threads is an edge that could hide a race of the allocator. So:
 *  - between pause points a thread touches only its own state, except its inbox and the next
 *    thread's, locked once per batch of handed-over blocks;
 *  - the only other shared words are the stop flag and the progress counters, atomics that
 *    Helgrind is told not to track (it would call them races, and they order nothing);
 *  - threads start together at a pthread barrier, meet at one for each pause point, and the
 *    main thread waits for them with pthread_cond_timedwait: primitives Helgrind understands
 *    (std::barrier spins on atomics, and glibc's pthread_cond_clockwait, behind
 *    std::condition_variable, is not intercepted by Valgrind 3.19).
 */
#include "heaplab/stress.h"

#include "heaplab/memlib.h"
#include "heaplab/replay.h"
#include "payload_pattern.h"
#include "shared_object.h"

#include <nlohmann/json.hpp>
#include <valgrind/helgrind.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <mutex>
#include <pthread.h>
#include <sys/resource.h>
#include <thread>

namespace heaplab {
namespace {

using namespace payload;

/// Blocks handed over in one batch: few enough that a receiver sees them soon, many enough
/// that the inbox lock (a happens-before edge) is rare.
constexpr std::size_t kBatch = 8;
/// A thread looks into its inbox once every this many requests.
constexpr std::size_t kInboxEvery = 16;

std::string hex(const void *address) {
    char text[24];
    std::snprintf(text, sizeof text, "%#llx",
                  static_cast<unsigned long long>(reinterpret_cast<std::uintptr_t>(address)));
    return text;
}

std::string byte_hex(unsigned value) {
    char text[8];
    std::snprintf(text, sizeof text, "0x%02x", value);
    return text;
}

double cpu_seconds() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
           static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

/// The worker this thread is (-1: not a worker), for the fatal-signal handler.
thread_local int current_worker = -1;
StressProgress *crash_progress = nullptr;

void note_crashed_thread(int) {
    // Async-signal-safe: one atomic store. SA_RESETHAND restored the default action, so the
    // fault happens again on return and kills the child with the same signal.
    if (crash_progress != nullptr && current_worker >= 0) crash_progress->crashed_thread.store(current_worker);
}

/// In a stress_isolated() child: a fatal signal records which worker it hit.
void catch_fatal_signals(StressProgress *progress) {
    crash_progress = progress;
    struct sigaction action {};
    action.sa_handler = note_crashed_thread;
    action.sa_flags = SA_RESETHAND | SA_NODEFER;
    sigemptyset(&action.sa_mask);
    for (int signal : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT}) sigaction(signal, &action, nullptr);
}

/// A live block as the driver knows it.
struct Block {
    unsigned char *ptr = nullptr;
    std::size_t size = 0;
    std::uint64_t key = 0;   ///< pattern key (kept across realloc)
    int owner = 0;           ///< the thread that allocated it
    std::size_t op = 0;      ///< the owner's request that placed it
    const char *by = "";     ///< "mm_malloc", "mm_calloc" or "mm_realloc"
};

std::string describe_block(const Block &block) {
    return std::to_string(block.size) + "-byte block at " + hex(block.ptr) + " (" + block.by + " in thread " +
           std::to_string(block.owner) + ", its request " + std::to_string(block.op) + ")";
}

struct Inbox {
    std::mutex lock;
    std::vector<Block> blocks;
};

/// A pthread barrier (Helgrind understands it; see the file comment).
class Barrier {
public:
    explicit Barrier(unsigned count) { pthread_barrier_init(&barrier_, nullptr, count); }
    ~Barrier() { pthread_barrier_destroy(&barrier_); }
    Barrier(const Barrier &) = delete;
    Barrier &operator=(const Barrier &) = delete;
    void wait() { pthread_barrier_wait(&barrier_); }

private:
    pthread_barrier_t barrier_{};
};

struct Run;

/// One thread of a run: its random stream, its live blocks, its outgoing batch.
class Worker {
public:
    Worker(Run &run, int id);
    void main();

private:
    std::uint64_t random() { return mix(stream_ + ++draws_); }
    std::size_t below(std::size_t n) { return static_cast<std::size_t>(random() % n); }
    std::size_t draw_size();
    void step();
    void allocate();
    void reallocate(Block block, bool handed_over);
    void free_block(const Block &block, bool handed_over);
    void take_inbox();
    void hand_over(const Block &block);
    void flush_outbox();
    bool verify(const Block &block, const std::string &request, const char *when);
    bool placed(const void *ptr, std::size_t size, const std::string &request);
    void set_call(StressCall call, std::size_t size = 0, int from = -1);
    void fail(const std::string &request, const std::string &reason);
    std::string request_text(const char *call, std::size_t size, const Block *block) const;

    Run &run_;
    int id_;
    std::uint64_t stream_;
    std::uint64_t draws_ = 0;
    std::size_t op_ = 0;
    std::size_t serial_ = 0;

public:
    std::vector<Block> live;     ///< its own live blocks (read by thread 0 at pause points)
    std::vector<Block> outbox;   ///< blocks for the next thread, not handed over yet
    std::size_t cross_frees = 0; ///< blocks of other threads it freed or reallocated
    /// when it left the start barrier and when it finished: the run's time is measured by the
    /// threads themselves (the main thread may wake up late on a busy machine)
    std::chrono::steady_clock::time_point started, finished;
};

/// Everything the threads of one run share.
struct Run {
    Run(const Allocator &a, const StressOptions &o, StressProgress &p)
        : allocator(a), options(o), progress(p), inboxes(o.threads), start(o.threads + 1), pause(o.threads) {}

    const Allocator &allocator;
    StressOptions options;
    StressProgress &progress;
    std::vector<Inbox> inboxes;
    std::vector<std::unique_ptr<Worker>> workers;
    Barrier start;   ///< the threads and the main thread: everyone starts at once
    Barrier pause;   ///< the threads: pause points and the end of the requests
    std::atomic<bool> stop{false};
    std::mutex failure_lock;
    std::optional<StressFailure> failure;
    const char *heap_lo = nullptr;
    const char *heap_end = nullptr;  ///< the end of the reservation (heap_lo + mem_cap())
    pthread_mutex_t done_lock = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t done_signal = PTHREAD_COND_INITIALIZER;
    unsigned done = 0;

    void record(const StressFailure &found) {
        std::lock_guard guard(failure_lock);
        if (!failure) failure = found;
        stop.store(true, std::memory_order_relaxed);
    }
    [[nodiscard]] bool stopped() const { return stop.load(std::memory_order_relaxed); }
    void pause_check(unsigned point);
};

Worker::Worker(Run &run, int id) : run_(run), id_(id), stream_(mix(run.options.seed * 0x100000001b3ULL + static_cast<std::uint64_t>(id))) {
    live.reserve(run.options.max_live + kBatch);
}

void Worker::set_call(StressCall call, std::size_t size, int from) {
    StressThreadProgress &mine = run_.progress.threads[static_cast<std::size_t>(id_)];
    mine.op.store(op_, std::memory_order_relaxed);
    mine.size.store(size, std::memory_order_relaxed);
    mine.from_thread.store(from, std::memory_order_relaxed);
    mine.call.store(static_cast<int>(call), std::memory_order_relaxed);
}

void Worker::fail(const std::string &request, const std::string &reason) {
    run_.record(StressFailure{id_, op_, request, reason, false});
}

std::string Worker::request_text(const char *call, std::size_t size, const Block *block) const {
    if (block == nullptr) return std::string(call) + "(" + std::to_string(size) + ")";
    std::string text = std::string(call) + " of a " + std::to_string(block->size) + "-byte block";
    if (block->owner != id_) text += " from thread " + std::to_string(block->owner);
    if (size > 0) text += " to " + std::to_string(size) + " bytes";
    return text;
}

/// Most requests small, some up to 1 KiB, a few up to max_size: the shape of real programs.
std::size_t Worker::draw_size() {
    std::size_t max = run_.options.max_size;
    std::size_t pick = below(100);
    std::size_t limit = pick < 70 ? std::min<std::size_t>(128, max) : pick < 95 ? std::min<std::size_t>(1024, max) : max;
    return 1 + below(limit);
}

bool Worker::placed(const void *ptr, std::size_t size, const std::string &request) {
    auto address = reinterpret_cast<std::uintptr_t>(ptr);
    if (address % run_.options.alignment != 0) {
        fail(request, request + " returned " + hex(ptr) + ", which is not " + std::to_string(run_.options.alignment) +
                          "-byte aligned");
        return false;
    }
    if (run_.heap_lo != nullptr) {
        const char *bytes = static_cast<const char *>(ptr);
        if (bytes < run_.heap_lo || bytes > run_.heap_end || size > static_cast<std::size_t>(run_.heap_end - bytes)) {
            fail(request, request + " returned " + hex(ptr) + ", outside the simulated heap (which starts at " +
                              hex(run_.heap_lo) + "): memory mem_sbrk() never gave the allocator");
            return false;
        }
    }
    return true;
}

bool Worker::verify(const Block &block, const std::string &request, const char *when) {
    if (!run_.options.check) return true;
    set_call(StressCall::payload, block.size, block.owner);
    std::size_t bad = find_mismatch(block.ptr, 0, block.size, block.key);
    if (bad == block.size) return true;
    fail(request, "before " + std::string(when) + ", the " + describe_block(block) +
                      " no longer held what was written into it: its byte " + std::to_string(bad) + " is " +
                      byte_hex(block.ptr[bad]) + ", expected " + byte_hex(pattern_byte(block.key, bad)) +
                      ". The allocator gave part of it to another block, or wrote into it, while it was live" +
                      (block.owner != id_ ? " (it was allocated by another thread: a cross-thread free is where "
                                            "per-thread designs go wrong)"
                                          : ""));
    return false;
}

void Worker::allocate() {
    std::size_t size = draw_size();
    bool zeroed = below(100) < 20;
    std::size_t count = 1;
    std::size_t each = size;
    if (zeroed) {
        count = 1 + below(8);
        each = std::max<std::size_t>(1, size / count);
        size = count * each;
    }
    std::string request;
    void *ptr = nullptr;
    if (zeroed && run_.allocator.calloc != nullptr) {
        set_call(StressCall::calloc, size);
        ptr = run_.allocator.calloc(count, each);
        if (run_.options.check) request = "mm_calloc(" + std::to_string(count) + ", " + std::to_string(each) + ")";
    } else {
        set_call(StressCall::malloc, size);
        ptr = run_.allocator.malloc(size);
        if (ptr != nullptr && zeroed) std::memset(ptr, 0, size);
        if (run_.options.check) request = request_text("mm_malloc", size, nullptr);
    }
    set_call(StressCall::payload, size);
    if (ptr == nullptr) {
        fail(request_text(zeroed ? "mm_calloc" : "mm_malloc", size, nullptr),
             "returned NULL, with the heap far from its limit (mem_sbrk() would have grown it)");
        return;
    }
    Block block{static_cast<unsigned char *>(ptr), size, mix(random()), id_, op_, zeroed ? "mm_calloc" : "mm_malloc"};
    if (run_.options.check) {
        if (!placed(ptr, size, request)) return;
        if (zeroed) {
            const auto *bytes = static_cast<const unsigned char *>(ptr);
            std::size_t i = 0;
            while (i < size && bytes[i] == 0) ++i;
            if (i < size) {
                fail(request, request + " returned a block whose byte " + std::to_string(i) + " is " +
                                  byte_hex(bytes[i]) + ", not 0: mm_calloc must zero the whole payload");
                return;
            }
        }
        fill_pattern(block.ptr, 0, size, block.key);
    } else {
        std::memset(ptr, 0x5a, std::min<std::size_t>(size, 16));  // touched, as a program would
    }
    if (run_.options.threads > 0 && below(100) < run_.options.handoff_percent) {
        hand_over(block);
    } else {
        live.push_back(block);
    }
}

void Worker::reallocate(Block block, bool handed_over) {
    std::size_t size = draw_size();
    std::string request = run_.options.check ? request_text("mm_realloc", size, &block) : std::string();
    if (!verify(block, request, "the call")) return;
    set_call(StressCall::realloc, size, block.owner);
    void *ptr = run_.allocator.realloc(block.ptr, size);
    set_call(StressCall::payload, size);
    if (handed_over && block.owner != id_) ++cross_frees;
    if (ptr == nullptr) {
        fail(request_text("mm_realloc", size, &block),
             "returned NULL, with the heap far from its limit (mem_sbrk() would have grown it)");
        return;
    }
    std::size_t kept = std::min(size, block.size);
    block.ptr = static_cast<unsigned char *>(ptr);
    if (run_.options.check) {
        if (!placed(ptr, size, request)) return;
        std::size_t bad = find_mismatch(block.ptr, 0, kept, block.key);
        if (bad < kept) {
            fail(request, request + " returned " + hex(ptr) + " without the old contents: its byte " +
                              std::to_string(bad) + " is " + byte_hex(block.ptr[bad]) + ", expected " +
                              byte_hex(pattern_byte(block.key, bad)) + " (the first " + std::to_string(kept) +
                              " bytes must be kept)");
            return;
        }
        fill_pattern(block.ptr, kept, size, block.key);
    } else {
        std::memset(ptr, 0x5a, std::min<std::size_t>(size, 16));
    }
    block.size = size;
    block.owner = id_;
    block.op = op_;
    block.by = "mm_realloc";
    live.push_back(block);
}

void Worker::free_block(const Block &block, bool handed_over) {
    std::string request = run_.options.check ? request_text("mm_free", 0, &block) : std::string();
    if (!verify(block, request, "the call")) return;
    set_call(StressCall::free, block.size, block.owner);
    run_.allocator.free(block.ptr);
    set_call(StressCall::between);
    if (handed_over && block.owner != id_) ++cross_frees;
}

void Worker::hand_over(const Block &block) {
    outbox.push_back(block);
    if (outbox.size() >= kBatch) flush_outbox();
}

void Worker::flush_outbox() {
    if (outbox.empty()) return;
    set_call(StressCall::inbox);
    Inbox &next = run_.inboxes[static_cast<std::size_t>(id_ + 1) % run_.inboxes.size()];
    {
        std::lock_guard guard(next.lock);
        next.blocks.insert(next.blocks.end(), outbox.begin(), outbox.end());
    }
    outbox.clear();
}

void Worker::take_inbox() {
    set_call(StressCall::inbox);
    std::vector<Block> taken;
    {
        Inbox &mine = run_.inboxes[static_cast<std::size_t>(id_)];
        std::lock_guard guard(mine.lock);
        taken.swap(mine.blocks);
    }
    for (const Block &block : taken) {
        if (run_.stopped()) return;
        // Most are freed here, some grown or shrunk and kept: mm_realloc across threads too.
        if (below(100) < 75 || live.size() >= run_.options.max_live) {
            free_block(block, true);
        } else {
            reallocate(block, true);
        }
    }
}

void Worker::step() {
    if (op_ % kInboxEvery == kInboxEvery - 1) take_inbox();
    if (run_.stopped()) return;
    std::size_t pick = below(100);
    if (live.empty() || (live.size() < run_.options.max_live && pick < 50)) {
        allocate();
        return;
    }
    std::size_t index = below(live.size());
    Block block = live[index];
    live[index] = live.back();
    live.pop_back();
    if (pick < 70) {
        reallocate(block, false);
    } else {
        free_block(block, false);
    }
}

void Worker::main() {
    current_worker = id_;
    run_.start.wait();
    started = std::chrono::steady_clock::now();
    const StressOptions &options = run_.options;
    unsigned points = options.check ? std::max(1U, options.pauses) : 0;
    for (unsigned point = 0; point < std::max(1U, points); ++point) {
        std::size_t end = points == 0 ? options.ops : options.ops * (point + 1) / points;
        for (; op_ < end; ++op_) {
            if (run_.stopped()) {
                op_ = end;
                break;
            }
            step();
        }
        if (points == 0) break;
        flush_outbox();
        set_call(StressCall::pause);
        run_.pause.wait();
        if (id_ == 0 && !run_.stopped()) run_.pause_check(point);
        run_.pause.wait();
    }
    // The end: every block handed over, then every thread frees what it holds (the last
    // cross-thread frees included).
    flush_outbox();
    set_call(StressCall::pause);
    run_.pause.wait();
    if (!run_.stopped()) take_inbox();
    while (!live.empty() && !run_.stopped()) {
        Block block = live.back();
        live.pop_back();
        free_block(block, false);
    }
    set_call(StressCall::done);
    finished = std::chrono::steady_clock::now();
    pthread_mutex_lock(&run_.done_lock);
    ++run_.done;
    pthread_cond_signal(&run_.done_signal);
    pthread_mutex_unlock(&run_.done_lock);
}

/// Every thread waits at the pause barrier: no two live blocks may overlap, and every one must
/// lie below the break.
void Run::pause_check(unsigned point) {
    std::vector<Block> all;
    for (const auto &worker : workers) all.insert(all.end(), worker->live.begin(), worker->live.end());
    for (const Inbox &inbox : inboxes) all.insert(all.end(), inbox.blocks.begin(), inbox.blocks.end());
    std::sort(all.begin(), all.end(), [](const Block &a, const Block &b) { return a.ptr < b.ptr; });
    std::string where = "pause point " + std::to_string(point + 1) + " (every thread stopped after its request " +
                        std::to_string(options.ops * (point + 1) / std::max(1U, options.pauses)) + ")";
    const char *top = heap_lo != nullptr ? static_cast<const char *>(mem_heap_hi()) : nullptr;
    for (std::size_t i = 0; i < all.size(); ++i) {
        const Block &block = all[i];
        if (top != nullptr && reinterpret_cast<const char *>(block.ptr) + block.size - 1 > top) {
            record({-1, 0, where,
                    "the live " + describe_block(block) + " reaches past the break (the heap's last byte is " +
                        hex(top) + "): the allocator handed out memory it never got from mem_sbrk(), or gave back",
                    false});
            return;
        }
        if (i + 1 < all.size() && block.ptr + block.size > all[i + 1].ptr) {
            record({-1, 0, where,
                    "two live blocks overlap: the " + describe_block(block) + " and the " + describe_block(all[i + 1]),
                    false});
            return;
        }
    }
}

const char *call_name(int call) {
    switch (static_cast<StressCall>(call)) {
        case StressCall::malloc: return "in mm_malloc";
        case StressCall::calloc: return "in mm_calloc";
        case StressCall::realloc: return "in mm_realloc";
        case StressCall::free: return "in mm_free";
        case StressCall::payload: return "in the driver, using a payload the allocator returned";
        case StressCall::inbox: return "handing blocks to another thread";
        case StressCall::pause: return "waiting for the other threads (a pause point, or the end)";
        case StressCall::done: return "finished";
        case StressCall::between: break;
    }
    return "between requests";
}

bool in_allocator(int call) {
    auto what = static_cast<StressCall>(call);
    return what == StressCall::malloc || what == StressCall::calloc || what == StressCall::realloc ||
           what == StressCall::free;
}

/// Why a run did not finish: blocked threads are a deadlock, busy ones an endless loop.
std::string stuck_reason(double wall, double cpu, const StressProgress &progress, unsigned threads) {
    // A deadlock sleeps in the kernel; an endless loop or a spin lock burns CPU all along.
    bool blocked = cpu < 0.3 * wall;
    char cpu_text[64];
    std::snprintf(cpu_text, sizeof cpu_text, "%.1f s of CPU in %.0f s", cpu, wall);
    std::string why = "did not finish: the stress run was still running after " +
                      std::to_string(static_cast<long long>(wall + 0.5)) + " s";
    if (blocked) {
        why += " — a deadlock? (a lock taken twice, or not released on a return path); its threads were blocked (" +
               std::string(cpu_text) + ")";
    } else {
        why += " — an endless loop, or a spin lock never released? Its threads were busy (" + std::string(cpu_text) +
               ")";
    }
    return why + ". Where they were: " + describe_threads(progress, threads);
}

StressResult failed_result(const StressOptions &options, StressFailure failure) {
    StressResult result;
    result.threads = options.threads;
    result.failure = std::move(failure);
    return result;
}

}  // namespace

namespace {

/// "in mm_free, 114 bytes, a block from thread 0": what a thread was doing.
std::string activity(const StressProgress &progress, unsigned thread) {
    const StressThreadProgress &p = progress.threads[thread];
    int call = p.call.load();
    std::string text = call_name(call);
    if (in_allocator(call) && p.size.load() > 0) text += ", " + std::to_string(p.size.load()) + " bytes";
    if (in_allocator(call) && p.from_thread.load() >= 0 && p.from_thread.load() != static_cast<int>(thread))
        text += ", a block from thread " + std::to_string(p.from_thread.load());
    return text;
}

}  // namespace

std::string describe_thread(const StressProgress &progress, unsigned thread) {
    std::string text = activity(progress, thread);
    std::size_t comma = text.find(", ");
    std::string request = "its request " + std::to_string(progress.threads[thread].op.load());
    if (comma == std::string::npos) return text + " (" + request + ")";
    return text.substr(0, comma) + " (" + request + text.substr(comma) + ")";
}

std::string describe_threads(const StressProgress &progress, unsigned threads) {
    std::string text;
    unsigned shown = std::min(threads, 8U);
    for (unsigned t = 0; t < shown; ++t)
        text += (t == 0 ? "" : "; ") + std::string("thread ") + std::to_string(t) + " " + describe_thread(progress, t);
    if (threads > shown) text += "; and " + std::to_string(threads - shown) + " more threads";
    return text;
}

StressResult stress(const Allocator &allocator, const StressOptions &options, StressProgress *progress) {
    if (options.threads == 0 || options.threads > kMaxStressThreads)
        throw std::invalid_argument("stress: threads must be 1 to " + std::to_string(kMaxStressThreads));
    if (options.alignment == 0 || options.max_size == 0 || options.max_live == 0)
        throw std::invalid_argument("stress: alignment, max_size and max_live must be positive");
    // The run's state lives on the heap: a stuck run is abandoned with it (threads still use it).
    auto own_progress = std::make_unique<StressProgress>();
    StressProgress &where = progress != nullptr ? *progress : *own_progress;
    for (StressThreadProgress &p : where.threads) {
        p.op = 0;
        p.call = 0;
        p.size = 0;
        p.from_thread = -1;
    }
    where.crashed_thread = -1;
    auto run = std::make_unique<Run>(allocator, options, where);
    // Atomics that order nothing: Helgrind would report them as races of the driver.
    VALGRIND_HG_DISABLE_CHECKING(&where, sizeof where);
    VALGRIND_HG_DISABLE_CHECKING(&run->stop, sizeof run->stop);

    if (allocator.uses_memlib) {
        mem_reset();
        run->heap_lo = static_cast<const char *>(mem_heap_lo());
        run->heap_end = run->heap_lo + mem_cap();
    } else if (allocator.reset != nullptr) {
        allocator.reset();
    }
    if (allocator.init() != 0)
        return failed_result(options, {-1, 0, "mm_init()", "mm_init returned -1 on an empty heap", false});

    for (unsigned t = 0; t < options.threads; ++t) run->workers.push_back(std::make_unique<Worker>(*run, static_cast<int>(t)));
    std::vector<std::thread> threads;
    for (unsigned t = 0; t < options.threads; ++t) threads.emplace_back([worker = run->workers[t].get()] { worker->main(); });

    double cpu_before = cpu_seconds();
    run->start.wait();
    auto started = std::chrono::steady_clock::now();
    bool finished = true;
    pthread_mutex_lock(&run->done_lock);
    timespec deadline{};
    clock_gettime(CLOCK_REALTIME, &deadline);
    auto whole = static_cast<time_t>(options.timeout_seconds);
    deadline.tv_sec += whole;
    deadline.tv_nsec += static_cast<long>((options.timeout_seconds - static_cast<double>(whole)) * 1e9);
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec += 1;
        deadline.tv_nsec -= 1000000000L;
    }
    while (run->done < options.threads) {
        if (options.timeout_seconds <= 0) {
            pthread_cond_wait(&run->done_signal, &run->done_lock);
        } else if (pthread_cond_timedwait(&run->done_signal, &run->done_lock, &deadline) == ETIMEDOUT) {
            finished = run->done == options.threads;
            break;
        }
    }
    pthread_mutex_unlock(&run->done_lock);
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

    if (!finished) {
        StressFailure stuck;
        {
            std::lock_guard guard(run->failure_lock);
            if (run->failure) stuck = *run->failure;
        }
        if (stuck.reason.empty()) {
            // No thread is blamed: in a deadlock the one holding the lock is rarely the one named first.
            stuck.reason = stuck_reason(seconds, cpu_seconds() - cpu_before, where, options.threads);
            stuck.stuck = true;
        }
        // Abandoned: the threads may still be inside the allocator, using the run.
        for (std::thread &thread : threads) thread.detach();
        (void)run.release();
        (void)own_progress.release();
        return failed_result(options, stuck);
    }
    for (std::thread &thread : threads) thread.join();
    auto first = run->workers.front()->started;
    auto last = run->workers.front()->finished;
    for (const auto &worker : run->workers) {
        first = std::min(first, worker->started);
        last = std::max(last, worker->finished);
    }
    seconds = std::chrono::duration<double>(last - first).count();

    StressResult result;
    result.threads = options.threads;
    result.ops = options.ops * options.threads;
    result.seconds = seconds;
    result.ops_per_second = seconds > 0 ? static_cast<double>(result.ops) / seconds : 0;
    for (const auto &worker : run->workers) result.cross_thread_frees += worker->cross_frees;
    if (allocator.uses_memlib) result.peak_heap_bytes = mem_peak_heapsize();
    result.failure = run->failure;
    result.ok = !result.failure.has_value();
    return result;
}

StressResult stress_isolated(const Allocator &allocator, const StressOptions &options) {
    SharedObject<StressProgress> shared;
    StressProgress *progress = shared.get();
    if (progress == nullptr)
        return failed_result(options, {-1, 0, "", std::string("cannot map shared memory: ") + std::strerror(errno), false});

    ChildEnd end;
    std::optional<std::string> output;
    // The child's own watchdog reports a stuck run; the parent's limit is the safety net.
    double limit = options.timeout_seconds <= 0 ? 0 : options.timeout_seconds + 15;
    try {
        output = run_in_child(
            limit <= 0 ? 1e9 : limit,
            [&] {
                catch_fatal_signals(progress);
                return to_json(stress(allocator, options, progress));
            },
            end);
    } catch (const std::runtime_error &error) {
        return failed_result(options, {-1, 0, "", error.what(), false});
    }
    if (output) {
        try {
            return stress_result_from_json(*output);
        } catch (const std::exception &error) {
            return failed_result(options, {-1, 0, "", std::string("the stress run's report was unreadable: ") + error.what(), false});
        }
    }
    StressFailure failure;
    // A fatal signal names its thread; otherwise nobody is blamed (see stress()).
    int crashed = progress->crashed_thread.load();
    if (end.signal != 0 && crashed >= 0 && crashed < static_cast<int>(options.threads)) {
        failure.thread = crashed;
        failure.op = progress->threads[static_cast<std::size_t>(crashed)].op.load();
        failure.request = activity(*progress, static_cast<unsigned>(crashed));
    }
    if (end.timed_out) {
        failure.stuck = true;
        failure.reason = stuck_reason(end.wall_seconds, end.cpu_seconds, *progress, options.threads);
    } else if (end.signal != 0) {
        failure.reason = "the stress run " + end.describe() + ". Where the threads were: " +
                         describe_threads(*progress, options.threads);
    } else {
        failure.reason = "the stress run " + end.describe() + " (did the allocator call exit()?). Where the threads were: " +
                         describe_threads(*progress, options.threads);
    }
    return failed_result(options, failure);
}

std::string to_json(const StressResult &result) {
    nlohmann::json json = {{"threads", result.threads},
                           {"ops", result.ops},
                           {"ok", result.ok},
                           {"seconds", result.seconds},
                           {"ops_per_second", result.ops_per_second},
                           {"cross_thread_frees", result.cross_thread_frees},
                           {"peak_heap_bytes", result.peak_heap_bytes}};
    if (result.failure) {
        const StressFailure &f = *result.failure;
        json["failure"] = {{"thread", f.thread}, {"op", f.op}, {"request", f.request}, {"reason", f.reason}, {"stuck", f.stuck}};
    } else {
        json["failure"] = nullptr;
    }
    return json.dump();
}

StressResult stress_result_from_json(const std::string &text) {
    try {
        nlohmann::json json = nlohmann::json::parse(text);
        StressResult result;
        result.threads = json.at("threads").get<unsigned>();
        result.ops = json.at("ops").get<std::size_t>();
        result.ok = json.at("ok").get<bool>();
        result.seconds = json.at("seconds").get<double>();
        result.ops_per_second = json.at("ops_per_second").get<double>();
        result.cross_thread_frees = json.at("cross_thread_frees").get<std::size_t>();
        result.peak_heap_bytes = json.at("peak_heap_bytes").get<std::size_t>();
        if (!json.at("failure").is_null()) {
            const auto &f = json.at("failure");
            result.failure = StressFailure{f.at("thread").get<int>(), f.at("op").get<std::size_t>(),
                                           f.at("request").get<std::string>(), f.at("reason").get<std::string>(),
                                           f.at("stuck").get<bool>()};
        }
        return result;
    } catch (const nlohmann::json::exception &error) {
        throw std::runtime_error(std::string("malformed stress result: ") + error.what());
    }
}

}  // namespace heaplab
