// Helpers for the Lab 05 tests (public and hidden): threads that share the heap, a way to see
// whether a thread is waiting for a lock, and a way to make one thread wait inside mem_sbrk
// while it holds your heap lock.
//
// Every threaded test runs its threads in a child process (run_in_child, lab_testing.h): an
// allocator without a lock may crash when two threads meet in it, and one that forgets to
// release its lock makes the threads wait forever. Either way the test fails with a message,
// and the tests after it still run.
#ifndef HEAPLAB_LAB05_THREADS_TESTING_H
#define HEAPLAB_LAB05_THREADS_TESTING_H

#include "heaplab/lab_testing.h"

#include <valgrind/valgrind.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <functional>
#include <latch>
#include <mutex>
#include <source_location>
#include <string>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace heaplab::testing::threads_lab {

/**
 * @brief How many times slower than natively the tests run: 30 under Valgrind (Helgrind,
 *        Memcheck), 1 otherwise. Every time limit below is multiplied by it.
 */
inline unsigned slowdown() { return RUNNING_ON_VALGRIND ? 30 : 1; }

/** @brief Seconds a test's child process may run: the tests take well under one. */
inline unsigned child_seconds() { return 10 * slowdown(); }

/** @brief What a crash of a test's child process most likely means. */
inline const char *const kRaceCrash =
    "threads crashed inside the allocator. Two threads changed the heap or the free list at once: every "
    "entry point must hold heap_lock while it uses them";
/** @brief What a hang of a test's child process most likely means. */
inline const char *const kHang =
    "a thread waited forever for a lock: is there a way out of a function that holds heap_lock without "
    "pthread_mutex_unlock (an early return)?";

/**
 * @brief Runs @p body in a child process (run_in_child) and fails the calling test, at the
 *        caller's line, if the child crashed, hung, or had a failure of its own.
 */
template <typename Body>
void expect_in_child(Body body, const char *on_hang = kHang, const char *on_crash = kRaceCrash,
                     std::source_location caller = std::source_location::current()) {
    ::testing::AssertionResult result = PassesInChild(child_seconds(), on_hang, on_crash, body);
    if (!result) ADD_FAILURE_AT(caller.file_name(), static_cast<int>(caller.line())) << result.message();
}

/** @brief The kernel's id of the calling thread (for /proc/self/task/ID). */
inline pid_t thread_id() { return static_cast<pid_t>(syscall(SYS_gettid)); }

/**
 * @brief The state letter of thread @p tid from /proc/self/task/TID/stat: 'R' running, 'S'
 *        asleep (waiting, for example for a mutex), ...; '?' when it cannot be read.
 *
 * Read with open/read into a buffer on the stack: no malloc (a thread inside glibc's malloc
 * would hold a lock that fork() waits for, and that would look like a waiting allocator).
 */
inline char thread_state(pid_t tid) {
    char path[64];
    std::snprintf(path, sizeof path, "/proc/self/task/%d/stat", static_cast<int>(tid));
    int fd = open(path, O_RDONLY);
    if (fd < 0) return '?';
    char text[512];
    ssize_t n = read(fd, text, sizeof text - 1);
    close(fd);
    if (n <= 0) return '?';
    text[n] = '\0';
    // "TID (name) S ...": the state follows the last ')' (a name may contain one).
    const char *end = nullptr;
    for (const char *c = text; *c != '\0'; ++c)
        if (*c == ')') end = c;
    return end != nullptr && end[1] == ' ' ? end[2] : '?';
}

/** @brief Waits until @p done() is true; false if it is still false after @p seconds (times slowdown()). */
inline bool wait_until(const std::function<bool()> &done, double seconds) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds * slowdown());
    while (!done()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    return true;
}

/**
 * @brief What thread @p tid is blocked in, from /proc/self/task/TID/syscall: the system call's
 *        number (and its first argument in @p argument), -2 when it is running, -1 when that
 *        cannot be read. A thread waiting for a mutex is in futex(), the mutex's address first.
 */
inline long blocked_in(pid_t tid, std::uintptr_t *argument) {
    char path[64];
    std::snprintf(path, sizeof path, "/proc/self/task/%d/syscall", static_cast<int>(tid));
    int fd = open(path, O_RDONLY);
    if (fd < 0) return -1;
    char text[256];
    ssize_t n = read(fd, text, sizeof text - 1);
    close(fd);
    if (n <= 0) return -1;
    text[n] = '\0';
    char *rest = nullptr;
    long number = std::strtol(text, &rest, 10);  // "202 0x5605f71b30c0 0x80 ...", or "running"
    if (rest == text) return -2;
    *argument = static_cast<std::uintptr_t>(std::strtoull(rest, nullptr, 16));
    return number;
}

/// Whether thread @p tid sleeps waiting for a lock: asleep, and in futex() when /proc says
/// (under Valgrind a thread also sleeps while another one runs, in another system call).
/// @p futex gets the lock's address, 0 when unknown.
inline bool waits_for_a_lock(pid_t tid, std::uintptr_t *futex) {
    *futex = 0;
    if (thread_state(tid) != 'S') return false;
    std::uintptr_t argument = 0;
    long call = blocked_in(tid, &argument);
    if (call == -1) return true;  // no /proc/.../syscall: asleep is the best we know
    if (call != SYS_futex) return false;
    *futex = argument;
    return true;
}

/// The futex of memlib's break lock, once a GrowingThread has been seen waiting on it.
inline std::atomic<std::uintptr_t> break_lock_futex{0};

/**
 * @brief Waits until thread @p tid is asleep waiting for a lock other than memlib's break lock
 *        (here: the heap lock), or has got past the point where the heap lock should have
 *        stopped it — @p finished() is true, or it is waiting for the break lock, which only
 *        code running without the heap lock (or holding it) can reach.
 * @return 'S' asleep on another lock, 'F' finished or past the heap lock, 'T' neither within
 *         @p seconds.
 */
inline char wait_until_asleep_or_finished(pid_t tid, const std::function<bool()> &finished, double seconds) {
    char result = 'T';
    wait_until(
        [&] {
            std::uintptr_t futex = 0;
            if (finished()) {
                result = 'F';
            } else if (waits_for_a_lock(tid, &futex)) {
                result = futex != 0 && futex == break_lock_futex.load() ? 'F' : 'S';
            }
            return result != 'T';
        },
        seconds);
    return result;
}

/**
 * @brief Holds memlib's break lock while it exists (or until release()): every mem_sbrk call,
 *        from any thread, waits until then. mem_fork_prepare() is how a harness takes it.
 */
class BreakHeld {
public:
    BreakHeld() { mem_fork_prepare(); }
    ~BreakHeld() { release(); }
    BreakHeld(const BreakHeld &) = delete;
    BreakHeld &operator=(const BreakHeld &) = delete;
    /// Lets mem_sbrk run again (from the thread that made this object).
    void release() {
        if (held_) mem_fork_release();
        held_ = false;
    }

private:
    bool held_ = true;
};

/**
 * @brief A thread whose mm_malloc(@p size) must grow the heap: while the break is held
 *        (BreakHeld), it waits inside memlib (mem_sbrk, or mem_heap_hi on its way there: every
 *        memlib call takes the break lock) — holding your heap lock, if mm_malloc takes it and
 *        holds it around the heap's growth, as it must.
 */
class GrowingThread {
public:
    explicit GrowingThread(std::size_t size) : size_(size) {
        thread_ = std::thread([this] {
            tid_ = thread_id();
            result_ = mm_malloc(size_);
            done_ = true;
        });
    }
    ~GrowingThread() {
        if (thread_.joinable()) thread_.join();
    }
    GrowingThread(const GrowingThread &) = delete;
    GrowingThread &operator=(const GrowingThread &) = delete;

    /// Waits until the thread is asleep inside mm_malloc (in memlib, while the break is held),
    /// and notes which lock that is; false if it finished instead or did not get there in time.
    bool wait_inside_sbrk() {
        if (!wait_until([this] { return tid_.load() != 0; }, 5)) return false;
        std::uintptr_t futex = 0;
        bool asleep = wait_until([&] { return done_.load() || waits_for_a_lock(tid_, &futex); }, 5) && !done_;
        if (asleep) break_lock_futex = futex;
        return asleep;
    }
    /// Waits for mm_malloc to return; its result.
    void *join() {
        if (thread_.joinable()) thread_.join();
        return result_;
    }
    /// How many bytes it asked for.
    std::size_t size() const { return size_; }

private:
    std::size_t size_;
    std::atomic<pid_t> tid_{0};
    std::atomic<bool> done_{false};
    void *result_ = nullptr;
    std::thread thread_;
};

/**
 * @brief A thread running one call into the allocator, observed from outside: whether it has
 *        returned yet, or is asleep waiting (for the heap lock).
 */
class CallInThread {
public:
    explicit CallInThread(std::function<void()> call) : call_(std::move(call)) {
        thread_ = std::thread([this] {
            tid_ = thread_id();
            call_();
            done_ = true;
        });
    }
    ~CallInThread() {
        if (thread_.joinable()) thread_.join();
    }
    CallInThread(const CallInThread &) = delete;
    CallInThread &operator=(const CallInThread &) = delete;

    /// 'S' when the call is asleep (waiting for a lock), 'F' when it returned first, 'T' when
    /// neither happened within @p seconds.
    char wait_asleep_or_finished(double seconds = 5) {
        if (!wait_until([this] { return tid_.load() != 0; }, seconds)) return 'T';
        return wait_until_asleep_or_finished(tid_, [this] { return done_.load(); }, seconds);
    }
    /// Whether the call has returned.
    bool finished() const { return done_; }
    /// Waits for the call to return.
    void join() {
        if (thread_.joinable()) thread_.join();
    }
    /// Gives up on the call (it is stuck): the child process exits without waiting for it.
    void abandon() {
        if (thread_.joinable()) thread_.detach();
    }

private:
    std::function<void()> call_;
    std::atomic<pid_t> tid_{0};
    std::atomic<bool> done_{false};
    std::thread thread_;
};

/**
 * @brief Runs @p body(0) ... @p body(count - 1), each in its own thread, all starting at once
 *        (so that they really overlap), and waits for all.
 */
inline void run_threads(int count, const std::function<void(int)> &body) {
    std::latch start(count);
    std::vector<std::thread> threads;
    for (int i = 0; i < count; ++i)
        threads.emplace_back([&, i] {
            start.arrive_and_wait();
            body(i);
        });
    for (std::thread &thread : threads) thread.join();
}

/**
 * @brief The first problem any thread noticed, in words. Threads note what they find instead
 *        of asserting, and the test reports it once they have all finished.
 */
class FirstProblem {
public:
    /// Records @p text unless a problem was noted before.
    void note(const std::string &text) {
        std::lock_guard<std::mutex> guard(mutex_);
        if (text_.empty()) text_ = text;
        noted_ = true;
    }
    /// Whether any thread noted a problem (cheap enough to poll in a loop).
    bool any() const { return noted_.load(); }
    /// What was noted first; empty if nothing was.
    std::string text() const {
        std::lock_guard<std::mutex> guard(mutex_);
        return text_;
    }

private:
    mutable std::mutex mutex_;
    std::string text_;
    std::atomic<bool> noted_{false};
};

/** @brief A small deterministic generator, one per thread (std::rand shares state). */
class Random {
public:
    /// A generator for thread (or test) @p seed.
    explicit Random(unsigned seed) : state_(0x9e3779b97f4a7c15ULL * (seed + 1)) {}
    /// A number in [0, n).
    std::size_t below(std::size_t n) {
        state_ ^= state_ << 13;
        state_ ^= state_ >> 7;
        state_ ^= state_ << 17;
        return static_cast<std::size_t>(state_ % n);
    }

private:
    std::uint64_t state_;
};

/** @brief "thread N", for messages. */
inline std::string thread_name(int thread) { return "thread " + std::to_string(thread); }

/** @brief mm_checkheap(0), from the calling thread, must return 1; @p after says what just happened. */
inline ::testing::AssertionResult HeapIsConsistent(const std::string &after) {
    if (mm_checkheap(0) == 1) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "mm_checkheap(0) found the heap inconsistent after " << after
                                         << " (its message is printed above)";
}

/** @brief Whether the @p size bytes at @p p all hold fill_pattern(@p seed); no message. */
inline bool holds_pattern(const void *p, std::size_t size, unsigned seed) {
    return static_cast<bool>(HoldsPattern(p, size, seed));
}

namespace detail {

/// Exit statuses of a probe's child process.
enum Probe { kProbeYes = 0, kProbeNoLock = 2, kProbeWaited = 3, kProbeNoGrowth = 4, kProbeUnclear = 5 };

/// Runs @p probe in a child process with a time limit: its exit status, or 128 + the signal.
inline int run_probe(int (*probe)()) {
    std::fflush(stdout);
    std::fflush(stderr);
    pid_t child = fork();
    if (child == 0) {
        std::signal(SIGALRM, SIG_DFL);
        alarm(child_seconds());
        _exit(probe());
    }
    int status = 0;
    if (child < 0 || waitpid(child, &status, 0) != child) return kProbeUnclear;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/// A free block of 1000 bytes, so that a mm_malloc(1000) needs no mem_sbrk.
inline void make_room_for_1000() {
    void *room = mm_malloc(1000);
    void *guard = mm_malloc(1000);
    (void)guard;
    mm_free(room);
}

/// What a call's state says about the lock: asleep, it waits for it; finished, there is none.
inline int lock_answer(char state) { return state == 'S' ? kProbeYes : state == 'F' ? kProbeNoLock : kProbeUnclear; }

/// The lock probe: while one thread grows the heap, another's mm_malloc must wait. (The break is
/// let go before any thread is joined: they may be waiting for it.)
inline int probe_lock() {
    make_room_for_1000();
    BreakHeld brk;
    GrowingThread grower(64 * 1024);
    if (!grower.wait_inside_sbrk()) return kProbeNoGrowth;
    CallInThread control([] { (void)mm_malloc(1000); });
    int answer = lock_answer(control.wait_asleep_or_finished());
    brk.release();
    return answer;
}

/// The cache probe: the lock exists, and a thread's mm_malloc(48) right after its own free of
/// a 48-byte block returns while another thread holds the lock.
inline int probe_cache() {
    make_room_for_1000();
    std::atomic<int> stage{0};
    CallInThread user([&] {
        mm_free(mm_malloc(48));
        stage = 1;
        while (stage.load() < 2) std::this_thread::yield();  // spinning, not asleep
        (void)mm_malloc(48);
    });
    if (!wait_until([&] { return stage.load() == 1; }, 5)) return kProbeUnclear;
    BreakHeld brk;
    GrowingThread grower(64 * 1024);
    if (!grower.wait_inside_sbrk()) {
        stage = 2;
        return kProbeNoGrowth;
    }
    CallInThread control([] { (void)mm_malloc(1000); });
    int answer = lock_answer(control.wait_asleep_or_finished());
    stage = 2;
    char state = answer == kProbeYes ? user.wait_asleep_or_finished() : 'T';
    brk.release();
    if (answer != kProbeYes) return answer;
    return state == 'F' ? kProbeYes : state == 'S' ? kProbeWaited : kProbeUnclear;
}

/// The probe's answer in words.
inline ::testing::AssertionResult probe_result(int status) {
    switch (status) {
    case kProbeYes: return ::testing::AssertionSuccess();
    case kProbeNoLock:
        return ::testing::AssertionFailure()
               << "a mm_malloc(1000) returned while another thread's mm_malloc(65536) was inside mem_sbrk, growing "
                  "the heap: either there is no heap lock yet (step 1), or mm_malloc does not hold it there — the "
                  "heap lock must be held around mem_sbrk (extend_heap reads the last block before the break moves "
                  "and writes the new block after it; no other thread may change the heap in between)";
    case kProbeWaited:
        return ::testing::AssertionFailure()
               << "a thread freed a 48-byte block and then called mm_malloc(48), which waited for the heap lock "
                  "(another thread held it): this test needs the thread cache of step 2 — the block should come "
                  "back from the thread's own cache, without the lock (is cache_pop called before the lock is "
                  "taken?)";
    case kProbeNoGrowth:
        return ::testing::AssertionFailure()
               << "mm_malloc(65536) on a heap of a few KiB returned without waiting in mem_sbrk (the test held the "
                  "break): it must grow the heap with mem_sbrk";
    case 128 + SIGALRM:
        return ::testing::AssertionFailure() << "the probe of the heap lock did not finish within " << child_seconds()
                                             << " seconds: " << kHang;
    default:
        if (status > 128)
            return ::testing::AssertionFailure() << "the probe of the heap lock crashed (" << strsignal(status - 128)
                                                 << "): " << kRaceCrash;
        return ::testing::AssertionFailure() << "the probe of the heap lock could not tell whether a thread waited "
                                                "for it (no thread state in /proc?)";
    }
}

}  // namespace detail

/**
 * @brief Whether the allocator has a heap lock, held around mem_sbrk: while one thread's
 *        mm_malloc grows the heap (the test holds the break), another thread's mm_malloc of a
 *        block that needs no growth must wait. Probed in a child process: the heap is untouched.
 */
inline ::testing::AssertionResult HeapLockIsTaken() { return detail::probe_result(detail::run_probe(detail::probe_lock)); }

/**
 * @brief Whether the allocator has thread caches: HeapLockIsTaken(), and a thread's
 *        mm_malloc(48) right after its own free of a 48-byte block returns while another thread
 *        holds the heap lock. Probed in a child process: the heap is untouched.
 */
inline ::testing::AssertionResult CacheServesWithoutTheLock() {
    return detail::probe_result(detail::run_probe(detail::probe_cache));
}

}  // namespace heaplab::testing::threads_lab

#endif  // HEAPLAB_LAB05_THREADS_TESTING_H
