// Run one command and report its wall time and peak RSS, for `make bench`.
//
//   bench_runcmd PRELOAD -- CMD ARGS...
//
// PRELOAD ("-" for none) is set as LD_PRELOAD in the child only, so this wrapper always runs on
// glibc's malloc. The child's stdout goes to /dev/null (stderr is kept). Prints "<wall_seconds> <max_rss_kib> <exit_status>" on stdout. The peak RSS
// is wait4()'s ru_maxrss: the largest of the child and of the descendants it waited for (for
// `sh -c 'a | b'`, the larger of a and b).
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

int main(int argc, char **argv) {
  if (argc < 4 || std::strcmp(argv[2], "--") != 0) {
    std::fprintf(stderr, "usage: %s PRELOAD|- -- CMD ARGS...\n", argv[0]);
    return 2;
  }
  auto t0 = std::chrono::steady_clock::now();
  pid_t pid = fork();
  if (pid < 0) {
    std::perror("fork");
    return 2;
  }
  if (pid == 0) {
    if (std::strcmp(argv[1], "-") == 0)
      unsetenv("LD_PRELOAD");
    else
      setenv("LD_PRELOAD", argv[1], 1);
    int devnull = open("/dev/null", O_WRONLY);
    if (devnull >= 0) dup2(devnull, STDOUT_FILENO);  // our stdout carries only the result
    execvp(argv[3], argv + 3);
    std::perror("execvp");
    _exit(127);
  }
  int status = 0;
  struct rusage ru {};
  if (wait4(pid, &status, 0, &ru) < 0) {
    std::perror("wait4");
    return 2;
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  std::printf("%.4f %ld %d\n", secs, ru.ru_maxrss, code);
  return 0;
}
