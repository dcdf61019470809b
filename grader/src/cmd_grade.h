/**
 * @file cmd_grade.h
 * @brief `heaplab grade --lab NN [--jobs N] [--out DIR] SUBMISSION...`: a whole class.
 */
#ifndef HEAPLAB_CMD_GRADE_H
#define HEAPLAB_CMD_GRADE_H

#include <CLI/CLI.hpp>

namespace heaplab {

/** @brief Adds `heaplab grade`. */
void add_grade_command(CLI::App &app);

}  // namespace heaplab

#endif  // HEAPLAB_CMD_GRADE_H
