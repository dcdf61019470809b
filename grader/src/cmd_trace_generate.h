/**
 * @file cmd_trace_generate.h
 * @brief `heaplab trace generate`: writes the generated trace suite, or some of its traces.
 */
#ifndef HEAPLAB_CMD_TRACE_GENERATE_H
#define HEAPLAB_CMD_TRACE_GENERATE_H

#include <CLI/CLI.hpp>

namespace heaplab {

/**
 * @brief Adds the `generate` subcommand to `heaplab trace`.
 *
 * `--all --out traces/` re-makes the committed suite (`traces/NN-name.rep`); `--shape NAME`
 * (repeatable) picks shapes, `--seed`/`--ops` vary a single one, `--stdout` prints it, and
 * `--list` names every shape with what it stresses. A usage problem is reported by throwing
 * UsageError (see cli_error.h): main() prints `heaplab: MESSAGE` and exits 2.
 */
void add_trace_generate_command(CLI::App &trace_command);

}  // namespace heaplab

#endif  // HEAPLAB_CMD_TRACE_GENERATE_H
