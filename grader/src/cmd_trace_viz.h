/**
 * @file cmd_trace_viz.h
 * @brief `heaplab trace viz`: draws an allocator's heap while it replays a trace, as SVG.
 */
#ifndef HEAPLAB_CMD_TRACE_VIZ_H
#define HEAPLAB_CMD_TRACE_VIZ_H

#include <CLI/CLI.hpp>

namespace heaplab {

/** @brief Adds the `viz` subcommand to `heaplab trace`. */
void add_trace_viz_command(CLI::App &trace_command);

}  // namespace heaplab

#endif  // HEAPLAB_CMD_TRACE_VIZ_H
