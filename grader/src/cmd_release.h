/**
 * @file cmd_release.h
 * @brief `heaplab release --out DIR`: the student repository.
 */
#ifndef HEAPLAB_CMD_RELEASE_H
#define HEAPLAB_CMD_RELEASE_H

#include <CLI/CLI.hpp>

namespace heaplab {

/** @brief Adds `heaplab release`. */
void add_release_command(CLI::App &app);

}  // namespace heaplab

#endif  // HEAPLAB_CMD_RELEASE_H
