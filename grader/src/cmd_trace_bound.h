/**
 * @file cmd_trace_bound.h
 * @brief `heaplab trace bound`: the best utilization a trace allows (perfect packing).
 */
#ifndef HEAPLAB_CMD_TRACE_BOUND_H
#define HEAPLAB_CMD_TRACE_BOUND_H

#include <CLI/CLI.hpp>

namespace heaplab {

/**
 * @brief Adds the `bound` subcommand to `heaplab trace`.
 *
 * For each trace, the utilization no allocator with the given block layout can exceed
 * (heaplab/trace_bound.h): by default any allocator returning 16-byte aligned blocks;
 * `--header`, `--min-block` and `--zero-block` describe a design (the reference:
 * `--header 8 --min-block 32 --zero-block 32`). Prints a table and the mean over the traces,
 * or JSON with `--json`. Bad arguments and malformed traces are reported in one line (exit 2).
 */
void add_trace_bound_command(CLI::App &trace_command);

}  // namespace heaplab

#endif  // HEAPLAB_CMD_TRACE_BOUND_H
