/**
 * @file process.cpp
 * @brief run(): a child in its own process group, with limits (see process.h).
 */
#include "process.h"

#include <fmt/format.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <stdexcept>
#include <sys/resource.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace heaplab {
namespace {

void set_limit(int resource, rlim_t value) {
    rlimit limit{value, value};
    setrlimit(resource, &limit);
}

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

std::string isolation_description(const Sandbox &sandbox) {
    if (sandbox.enabled && bubblewrap_works())
        return "bubblewrap (read-only file system, no network, writable scratch folder only, hidden tests covered), "
               "own process group, time and resource limits";
    return "own process group, time and resource limits (no bubblewrap: the file system and network are not "
           "confined)";
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
        if (limits.max_processes > 0) set_limit(RLIMIT_NPROC, limits.max_processes);
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
