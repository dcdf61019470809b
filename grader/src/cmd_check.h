/**
 * @file cmd_check.h
 * @brief `heaplab check [LAB_DIR]`: a student's self-check of the lab folder they stand in.
 */
#ifndef HEAPLAB_CMD_CHECK_H
#define HEAPLAB_CMD_CHECK_H

#include <CLI/CLI.hpp>

namespace heaplab {

/** @brief Adds `heaplab check`. */
void add_check_command(CLI::App &app);

}  // namespace heaplab

#endif  // HEAPLAB_CMD_CHECK_H
