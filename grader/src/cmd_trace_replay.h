/**
 * @file cmd_trace_replay.h
 * @brief `heaplab trace replay`: replays traces on allocators and prints the verdicts.
 */
#ifndef HEAPLAB_CMD_TRACE_REPLAY_H
#define HEAPLAB_CMD_TRACE_REPLAY_H

#include <CLI/CLI.hpp>

namespace heaplab {

/** @brief Adds the `replay` subcommand to `heaplab trace`. */
void add_trace_replay_command(CLI::App &trace_command);

}  // namespace heaplab

#endif  // HEAPLAB_CMD_TRACE_REPLAY_H
