/**
 * @file process.cpp
 * @brief run(): a child in its own process group, with limits (see process.h).
 */
#include "process.h"

#include <fmt/format.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <optional>
#include <poll.h>
#include <sstream>
#include <stdexcept>
#include <sys/resource.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace heaplab {
namespace {

void set_limit(int resource, rlim_t value) {
    rlimit limit{value, value};
    setrlimit(resource, &limit);
}

/// The pids-controlled cgroup this process is in, as a folder under /sys/fs/cgroup ("" if none):
/// cgroup v1's pids hierarchy, or cgroup v2's when it delegates the pids controller below.
std::string own_pids_cgroup() {
    std::ifstream in("/proc/self/cgroup");
    for (std::string line; std::getline(in, line);) {
        std::size_t first = line.find(':'), second = line.find(':', first + 1);
        if (first == std::string::npos || second == std::string::npos) continue;
        std::string controllers = "," + line.substr(first + 1, second - first - 1) + ",";
        std::string path = line.substr(second + 1);
        if (path == "/") path.clear();
        if (controllers.find(",pids,") != std::string::npos) {
            std::string dir = "/sys/fs/cgroup/pids" + path;
            if (access((dir + "/cgroup.procs").c_str(), W_OK) == 0) return dir;
        } else if (controllers == ",,") {  // v2: "0::/path"
            for (const char *mount : {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"}) {
                std::string dir = mount + path;
                std::ifstream subtree(dir + "/cgroup.subtree_control");
                std::string enabled;
                std::getline(subtree, enabled);
                if ((" " + enabled + " ").find(" pids ") != std::string::npos) return dir;
            }
        }
    }
    return "";
}

/// Removes the cgroups that graders killed with SIGKILL left behind (`heaplab-PID-N` of a PID
/// that is gone), killing anything still in them: their destructors never ran.
void sweep_stale_cgroups(const std::string &parent) {
    std::error_code error;
    for (const auto &entry : std::filesystem::directory_iterator(parent, error)) {
        std::string name = entry.path().filename().string();
        if (!name.starts_with("heaplab-") || !entry.is_directory(error)) continue;
        pid_t owner = static_cast<pid_t>(std::strtol(name.c_str() + 8, nullptr, 10));
        if (owner <= 0 || owner == getpid() || kill(owner, 0) == 0 || errno != ESRCH) continue;
        for (int attempt = 0; attempt < 100 && rmdir(entry.path().c_str()) != 0 && errno == EBUSY; ++attempt) {
            std::ifstream tasks(entry.path() / "cgroup.procs");
            for (pid_t pid; tasks >> pid;) kill(pid, SIGKILL);
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
    }
}

/// A cgroup of its own for one run, with `pids.max`: the cap binds every user, root included
/// (RLIMIT_NPROC does not bind root), and everything left in it at the end is killed, also what
/// left the run's process group.
class PidsCgroup {
public:
    /// Makes the cgroup; ok() says whether it worked.
    explicit PidsCgroup(std::size_t max_tasks) {
        static const std::string parent = [] {
            std::string found = own_pids_cgroup();
            if (!found.empty()) sweep_stale_cgroups(found);
            return found;
        }();
        static std::atomic<unsigned> counter{0};
        if (parent.empty()) return;
        dir_ = parent + "/heaplab-" + std::to_string(getpid()) + "-" + std::to_string(counter.fetch_add(1));
        if (mkdir(dir_.c_str(), 0755) != 0) {
            dir_.clear();
            return;
        }
        std::ofstream max(dir_ + "/pids.max");
        max << max_tasks << "\n";
        max.close();
        if (!max) return;
        procs_ = open((dir_ + "/cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC);
    }
    PidsCgroup(const PidsCgroup &) = delete;
    PidsCgroup &operator=(const PidsCgroup &) = delete;
    ~PidsCgroup() {
        if (procs_ >= 0) close(procs_);
        if (dir_.empty()) return;
        // Kill what is still in it (a child that left the process group), then remove it; a
        // killed task leaves the cgroup once it is reaped, so try for a while.
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (rmdir(dir_.c_str()) != 0 && errno == EBUSY && std::chrono::steady_clock::now() < deadline) {
            std::ifstream tasks(dir_ + "/cgroup.procs");
            for (pid_t pid; tasks >> pid;) kill(pid, SIGKILL);
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
    }
    [[nodiscard]] bool ok() const { return procs_ >= 0; }
    /// For the child, after fork: moves itself in. Only async-signal-safe calls.
    [[nodiscard]] bool enter() const {
        char digits[24];
        char *end = digits + sizeof digits, *at = end;
        for (auto pid = static_cast<unsigned long>(getpid()); at == end || pid != 0; pid /= 10) *--at = static_cast<char>('0' + pid % 10);
        return write(procs_, at, static_cast<std::size_t>(end - at)) == end - at;
    }

private:
    std::string dir_;
    int procs_ = -1;
};

bool pids_cgroups_work() {
    static const bool works = [] { return PidsCgroup(1).ok(); }();
    return works;
}

/// Tasks (processes and threads) owned by @p uid now: what RLIMIT_NPROC counts for it.
std::size_t tasks_of(uid_t uid) {
    std::size_t count = 0;
    DIR *proc = opendir("/proc");
    if (proc == nullptr) return 0;
    while (dirent *entry = readdir(proc)) {
        if (entry->d_name[0] < '1' || entry->d_name[0] > '9') continue;
        std::string dir = std::string("/proc/") + entry->d_name;
        struct stat info {};
        if (stat(dir.c_str(), &info) != 0 || info.st_uid != uid) continue;
        struct stat task {};
        count += stat((dir + "/task").c_str(), &task) == 0 && task.st_nlink > 2 ? task.st_nlink - 2 : 1;
    }
    closedir(proc);
    return count;
}

/// The user a run's processes belong to.
uid_t run_uid(const Sandbox &sandbox) { return sandbox.uid != 0 ? sandbox.uid : geteuid(); }

/// The bwrap command line that confines @p argv as @p sandbox says.
std::vector<std::string> confined(const std::vector<std::string> &argv, const Sandbox &sandbox,
                                  const std::string &working_directory) {
    // The whole file system read-only (the lab's tree may itself live under /tmp, so /tmp is not
    // replaced); temporary files go to a folder inside the first writable one.
    std::vector<std::string> command = {"bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
                                        "--unshare-net", "--unshare-pid", "--unshare-ipc",
                                        "--die-with-parent", "--new-session"};
    if (!sandbox.writable.empty()) {
        std::string tmp = sandbox.writable.front() + "/tmp";
        ::mkdir(tmp.c_str(), 0700);
        if (sandbox.uid != 0) (void)!::chown(tmp.c_str(), sandbox.uid, sandbox.gid);
        command.insert(command.end(), {"--setenv", "TMPDIR", tmp});
    }
    for (const std::string &dir : sandbox.hidden) command.insert(command.end(), {"--tmpfs", dir});
    for (const std::string &dir : sandbox.writable) command.insert(command.end(), {"--bind", dir, dir});
    if (!working_directory.empty()) command.insert(command.end(), {"--chdir", working_directory});
    command.push_back("--");
    command.insert(command.end(), argv.begin(), argv.end());
    return command;
}

}  // namespace

bool bubblewrap_works() {
    static const bool works = [] {
        RunLimits limits;
        limits.seconds = 10;
        try {
            return run({"bwrap", "--ro-bind", "/", "/", "--unshare-net", "--", "true"}, limits).ok();
        } catch (const std::exception &) {
            return false;
        }
    }();
    return works;
}

ProcessCap process_cap(const Sandbox &sandbox) {
    if (sandbox.max_processes == 0) return ProcessCap::none;
    if (pids_cgroups_work()) return ProcessCap::pids_cgroup;
    if (run_uid(sandbox) != 0) return ProcessCap::rlimit_nproc;
    return ProcessCap::none;
}

std::string isolation_description(const Sandbox &sandbox) {
    std::string description =
        sandbox.enabled && bubblewrap_works()
            ? "bubblewrap (read-only file system, no network, writable scratch folder only, hidden tests covered), "
              "own process group, time and resource limits"
            : "own process group, time and resource limits (no bubblewrap: the file system and network are not "
              "confined)";
    if (sandbox.uid != 0) description += fmt::format(", run as uid {}", sandbox.uid);
    if (sandbox.max_processes == 0) return description;
    switch (process_cap(sandbox)) {
    case ProcessCap::pids_cgroup:
        return description + fmt::format(", at most {} processes (a pids cgroup)", sandbox.max_processes);
    case ProcessCap::rlimit_nproc:
        return description + fmt::format(", at most {} more processes (RLIMIT_NPROC)", sandbox.max_processes);
    case ProcessCap::none: break;
    }
    return description + ", processes NOT capped (run as root without a pids cgroup: set HEAPLAB_STUDENT_USER)";
}

std::string RunResult::describe(double limit_seconds) const {
    if (timed_out) return fmt::format("timed out after {:g} s (an endless loop or a deadlock?)", limit_seconds);
    if (signal != 0) return fmt::format("killed by SIG{} ({})", sigabbrev_np(signal), strsignal(signal));
    return fmt::format("exit status {}", exit_code);
}

RunResult run(const std::vector<std::string> &plain_argv, const RunLimits &limits) {
    if (plain_argv.empty()) throw std::runtime_error("run: no command");
    bool confine = limits.sandbox.enabled && bubblewrap_works();
    std::vector<std::string> argv = confine ? confined(plain_argv, limits.sandbox, limits.working_directory) : plain_argv;
    // The process cap (Sandbox::max_processes), set up before the fork: the child only enters it.
    std::optional<PidsCgroup> cgroup;
    rlim_t nproc = 0;
    if (process_cap(limits.sandbox) == ProcessCap::pids_cgroup) {
        cgroup.emplace(limits.sandbox.max_processes);
        if (!cgroup->ok()) throw std::runtime_error("cannot make a pids cgroup for the run");
    } else if (process_cap(limits.sandbox) == ProcessCap::rlimit_nproc) {
        nproc = static_cast<rlim_t>(tasks_of(run_uid(limits.sandbox)) + limits.sandbox.max_processes);
    }
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
    auto started = std::chrono::steady_clock::now();
    pid_t child = fork();
    if (child < 0) {
        close(fds[0]);
        close(fds[1]);
        throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
    }
    if (child == 0) {
        setpgid(0, 0);  // its own group: a timeout kills everything it started
        dup2(fds[1], STDOUT_FILENO);
        dup2(fds[1], STDERR_FILENO);
        int null = open("/dev/null", O_RDONLY);
        if (null >= 0) dup2(null, STDIN_FILENO);
        auto cpu = static_cast<rlim_t>(limits.seconds + 1);
        set_limit(RLIMIT_CPU, cpu);
        set_limit(RLIMIT_FSIZE, limits.file_size_limit);
        set_limit(RLIMIT_NOFILE, limits.open_files);
        set_limit(RLIMIT_CORE, 0);
        if (nproc > 0) set_limit(RLIMIT_NPROC, nproc);
        if (cgroup && !cgroup->enter()) {
            const char message[] = "cannot enter the pids cgroup: not started\n";
            (void)!write(STDERR_FILENO, message, sizeof message - 1);
            _exit(124);
        }
        if (!limits.working_directory.empty() && chdir(limits.working_directory.c_str()) != 0) _exit(126);
        if (limits.sandbox.uid != 0) {  // drop root for good before running student code
            if (setgroups(0, nullptr) != 0 || setgid(limits.sandbox.gid) != 0 || setuid(limits.sandbox.uid) != 0) _exit(125);
        }
        std::vector<char *> args;
        for (const std::string &arg : argv) args.push_back(const_cast<char *>(arg.c_str()));
        args.push_back(nullptr);
        execvp(args[0], args.data());
        const char message[] = "cannot start the program\n";
        (void)!write(STDERR_FILENO, message, sizeof message - 1);
        _exit(127);
    }
    setpgid(child, child);  // also from here: no race with the child's own call
    close(fds[1]);

    RunResult result;
    auto deadline = started + std::chrono::duration<double>(limits.seconds);
    char buffer[65536];
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            result.timed_out = true;
            break;
        }
        pollfd fd{fds[0], POLLIN, 0};
        int ready = poll(&fd, 1, static_cast<int>(std::min<long long>(left.count(), 500)));
        if (ready < 0 && errno != EINTR) break;
        if (ready <= 0) continue;
        ssize_t n = read(fds[0], buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;  // every writer closed: the child (and its children) are done writing
        auto count = static_cast<std::size_t>(n);
        std::size_t room = limits.output_limit > result.output.size() ? limits.output_limit - result.output.size() : 0;
        result.output.append(buffer, std::min(room, count));
        if (count > room) result.output_dropped += count - room;
    }
    if (result.timed_out) kill(-child, SIGKILL);
    close(fds[0]);
    int status = 0;
    if (!result.timed_out) {
        // The pipe closed; the child may still be exiting, or may have closed its output and
        // gone on running: wait for it, but not past the deadline.
        while (true) {
            pid_t done = waitpid(child, &status, WNOHANG);
            if (done == child) break;
            if (std::chrono::steady_clock::now() >= deadline) {
                result.timed_out = true;
                kill(-child, SIGKILL);
                waitpid(child, &status, 0);
                break;
            }
            usleep(2000);
        }
    } else {
        waitpid(child, &status, 0);
    }
    kill(-child, SIGKILL);  // anything it left behind in its group
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (!result.timed_out) {
        if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
        if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);
        // bubblewrap passes on a child killed by signal N as exit status 128 + N.
        if (confine && result.exit_code > 128 && result.exit_code < 128 + 65) {
            result.signal = result.exit_code - 128;
            result.exit_code = -1;
        }
    }
    if (result.output_dropped > 0)
        result.output += fmt::format("\n[... {} more bytes of output cut by the grader]\n", result.output_dropped);
    return result;
}

}  // namespace heaplab
