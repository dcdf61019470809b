/**
 * @file cli_error.h
 * @brief How a `heaplab` command reports a usage problem: one line, exit status 2.
 */
#ifndef HEAPLAB_CLI_ERROR_H
#define HEAPLAB_CLI_ERROR_H

#include <CLI/CLI.hpp>

#include <string>

namespace heaplab {

/** @brief Exit status for bad arguments, unreadable files and malformed traces. */
inline constexpr int kExitUsage = 2;
/** @brief Exit status when every input was fine but a verdict failed. */
inline constexpr int kExitFailed = 1;

/** @brief Thrown from a command's callback: main() prints `heaplab: MESSAGE` and exits 2. */
class UsageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

}  // namespace heaplab

#endif  // HEAPLAB_CLI_ERROR_H
