// Runs a command in a child process, optionally with libheaplab.so (or a lab stage's
// preloadable build) preloaded, and captures its exit status, stdout and stderr (through
// files, so a chatty child never blocks on a pipe).
#ifndef HEAPLAB_REF_TESTS_RUN_CHILD_H
#define HEAPLAB_REF_TESTS_RUN_CHILD_H

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace heaplab::ref::test {

struct ChildResult {
    int status = -1;  ///< raw waitpid() status
    std::string out;
    std::string err;
    bool exited_ok() const { return WIFEXITED(status) && WEXITSTATUS(status) == 0; }
    bool aborted() const { return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT; }
    std::string describe() const {
        std::ostringstream s;
        if (WIFEXITED(status)) s << "exit " << WEXITSTATUS(status);
        else if (WIFSIGNALED(status)) s << "signal " << WTERMSIG(status);
        s << "\nstderr:\n" << err.substr(0, 4000);
        return s.str();
    }
};

inline std::string slurp(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

/// Runs @p argv (argv[0] looked up in PATH) in @p dir (empty: the current one) with extra
/// environment entries @p env ("NAME=value"); stdin from @p input ("" for /dev/null).
inline ChildResult run_child(const std::vector<std::string> &argv, const std::vector<std::string> &env = {},
                             const std::string &dir = "", const std::string &input = "") {
    char tmpl[] = "/tmp/heaplab-ref-child-XXXXXX";
    std::string tmp = mkdtemp(tmpl);
    std::string out_path = tmp + "/out", err_path = tmp + "/err";
    pid_t pid = fork();
    if (pid == 0) {
        int in = open(input.empty() ? "/dev/null" : input.c_str(), O_RDONLY);
        int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(in, 0);
        dup2(out, 1);
        dup2(err, 2);
        if (!dir.empty() && chdir(dir.c_str()) != 0) _exit(126);
        for (const auto &e : env) putenv(const_cast<char *>(e.c_str()));
        std::vector<char *> args;
        for (const auto &a : argv) args.push_back(const_cast<char *>(a.c_str()));
        args.push_back(nullptr);
        execvp(args[0], args.data());
        _exit(127);
    }
    ChildResult r;
    waitpid(pid, &r.status, 0);
    r.out = slurp(out_path);
    r.err = slurp(err_path);
    std::remove(out_path.c_str());
    std::remove(err_path.c_str());
    rmdir(tmp.c_str());
    return r;
}

/// LD_PRELOAD of libheaplab.so, or of the library HEAPLAB_TEST_PRELOAD names: the lab stages'
/// `preload-runs-*` tests run these same programs on their own preloadable builds.
inline std::string preload_env() {
    const char *other = std::getenv("HEAPLAB_TEST_PRELOAD");
    return std::string("LD_PRELOAD=") + (other != nullptr && *other != '\0' ? other : HEAPLAB_PRELOAD_LIB);
}

/// The allocator the preload must report serving (HEAPLAB_EXPECT_ALLOCATOR, else the reference).
inline std::string expected_allocator() {
    const char *name = std::getenv("HEAPLAB_EXPECT_ALLOCATOR");
    return name != nullptr && *name != '\0' ? name : "reference";
}

}  // namespace heaplab::ref::test

#endif
