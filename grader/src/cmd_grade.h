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

/** @brief Adds `heaplab gradescope --lab NN`: one submission, Gradescope's folders. The
 *         `/autograder` root moves with HEAPLAB_AUTOGRADER_ROOT (for tests); with
 *         HEAPLAB_STUDENT_USER set (and run as root), student processes run as that user. */
void add_gradescope_command(CLI::App &app);

}  // namespace heaplab

#endif  // HEAPLAB_CMD_GRADE_H
