/**
 * @file process.h
 * @brief Running a student's program: its own process group, a time limit, resource limits,
 *        and output captured and cut at a limit.
 *
 * Everything the grader runs of a student's work goes through run(): a test binary, a trace
 * replay, Valgrind. The child gets a process group of its own, so that on a timeout the whole
 * group (including anything it forked) is killed; rlimits on CPU time, file size, open files,
 * and core dumps; a cap on its processes (Sandbox::max_processes); and its stdout and stderr are
 * read through one pipe and kept up to `output_limit` bytes (the rest is counted, not stored),
 * so gigabytes of output cost nothing.
 * `RLIMIT_AS` is deliberately not set: it breaks Valgrind and sanitizers.
 */
#ifndef HEAPLAB_PROCESS_H
#define HEAPLAB_PROCESS_H

#include <cstddef>
#include <string>
#include <vector>

namespace heaplab {

/**
 * @brief Confinement with bubblewrap, when it is installed: a read-only view of the whole
 *        file system, no network, its own PID namespace, and write access only to the listed
 *        folders (TMPDIR points into the first). Folders in `hidden` are covered by an empty tmpfs.
 */
struct Sandbox {
    bool enabled = false;               ///< false: run unconfined (no bubblewrap, or not asked)
    std::vector<std::string> writable;  ///< e.g. the submission's scratch folder
    std::vector<std::string> hidden;    ///< e.g. grader/hidden
    unsigned uid = 0;                   ///< run as this user and group (0: as the grader); e.g.
    unsigned gid = 0;                   ///< Gradescope's student code runs unprivileged
    /// Processes and threads the run may have at once (0: no cap): a fork bomb fails its forks
    /// instead of filling the machine. Enforced, whether or not bubblewrap is enabled, by a
    /// cgroup of its own with `pids.max` when the grader can make one (as root, usually), else
    /// by RLIMIT_NPROC, which binds only a user other than root; see process_cap().
    std::size_t max_processes = 0;
};

/** @brief How run() caps a sandbox's processes here. */
enum class ProcessCap {
    none,          ///< not at all: the run is root and no pids cgroup can be made
    pids_cgroup,   ///< a cgroup of its own, `pids.max` = the cap (binds root too)
    rlimit_nproc,  ///< RLIMIT_NPROC = the user's tasks now + the cap (binds a user other than root)
};

/** @brief How run() would cap the processes of a run confined by @p sandbox on this machine. */
ProcessCap process_cap(const Sandbox &sandbox);

/** @brief Whether bubblewrap can run here (found and allowed to make namespaces); cached. */
bool bubblewrap_works();

/** @brief One line for reports: which isolation a sandboxed run gets on this machine. */
std::string isolation_description(const Sandbox &sandbox);

/** @brief Limits for one child process. */
struct RunLimits {
    double seconds = 10;                       ///< wall-clock limit; the group is killed after it
    std::size_t output_limit = 256 * 1024;     ///< bytes of output kept
    std::size_t file_size_limit = 64 << 20;    ///< RLIMIT_FSIZE
    std::size_t open_files = 256;              ///< RLIMIT_NOFILE
    std::string working_directory;             ///< "" = the grader's
    Sandbox sandbox;                           ///< bubblewrap confinement, when enabled and available
};

/** @brief How a child ended. */
struct RunResult {
    int exit_code = -1;        ///< when it exited normally, else -1
    int signal = 0;            ///< the signal that killed it, 0 if none
    bool timed_out = false;    ///< killed by the grader at the time limit
    std::string output;        ///< stdout and stderr, interleaved, cut at the limit
    std::size_t output_dropped = 0;  ///< bytes beyond the limit, not kept
    double seconds = 0;        ///< wall-clock time

    /** @brief Exited normally with status 0. */
    [[nodiscard]] bool ok() const { return exit_code == 0 && !timed_out && signal == 0; }
    /** @brief "exit status 1", "killed by SIGSEGV (Segmentation fault)", "timed out after 10 s". */
    [[nodiscard]] std::string describe(double limit_seconds) const;
};

/** @brief Runs @p argv (argv[0] looked up in PATH) within @p limits. Never throws for the
 *         child's misbehaviour; throws std::runtime_error only if it cannot start at all. */
RunResult run(const std::vector<std::string> &argv, const RunLimits &limits);

}  // namespace heaplab

#endif  // HEAPLAB_PROCESS_H
