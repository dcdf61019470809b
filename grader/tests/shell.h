// What the grader's end-to-end tests share: run a shell command the way a user would, and
// read a file whole.
#ifndef HEAPLAB_GRADER_TESTS_SHELL_H
#define HEAPLAB_GRADER_TESTS_SHELL_H

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/wait.h>

namespace heaplab::testing {

/** @brief How a command ended: its exit status (-1 if killed) and its stdout and stderr. */
struct Outcome {
    int status = -1;
    std::string out;
};

/** @brief Runs @p command with sh, stderr folded into stdout. */
inline Outcome shell(const std::string &command) {
    Outcome outcome;
    FILE *pipe = popen((command + " 2>&1").c_str(), "r");
    if (pipe == nullptr) return outcome;
    std::array<char, 4096> buffer{};
    while (std::fgets(buffer.data(), buffer.size(), pipe) != nullptr) outcome.out += buffer.data();
    int status = pclose(pipe);
    outcome.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return outcome;
}

/** @brief Runs @p command; its exit status, and its output into @p output when given. */
inline int shell(const std::string &command, std::string *output) {
    Outcome outcome = shell(command);
    if (output != nullptr) *output = outcome.out;
    return outcome.status;
}

/** @brief A file's whole contents ("" if it cannot be read). */
inline std::string read(const std::filesystem::path &path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

}  // namespace heaplab::testing

#endif
