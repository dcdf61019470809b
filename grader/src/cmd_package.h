/**
 * @file cmd_package.h
 * @brief `heaplab package --lab NN --gradescope OUT.zip`: a lab as a Gradescope autograder.
 */
#ifndef HEAPLAB_CMD_PACKAGE_H
#define HEAPLAB_CMD_PACKAGE_H

#include <CLI/CLI.hpp>

namespace heaplab {

/** @brief Adds `heaplab package`. */
void add_package_command(CLI::App &app);

}  // namespace heaplab

#endif  // HEAPLAB_CMD_PACKAGE_H
