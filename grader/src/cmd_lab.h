/**
 * @file cmd_lab.h
 * @brief `heaplab lab ...`: the tools that keep a lab's files made from one source.
 */
#ifndef HEAPLAB_CMD_LAB_H
#define HEAPLAB_CMD_LAB_H

#include <CLI/CLI.hpp>

namespace heaplab {

/** @brief Adds `heaplab lab` with skeleton, strip, bugs, mutate, expect-fail, points and verify-grades. */
void add_lab_command(CLI::App &app);

}  // namespace heaplab

#endif  // HEAPLAB_CMD_LAB_H
