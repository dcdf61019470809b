/**
 * @file cmd_stress.h
 * @brief `heaplab stress`: many threads calling one allocator at once, every answer checked,
 *        and the throughput with each thread count (heaplab/stress.h is the driver).
 */
#ifndef HEAPLAB_CMD_STRESS_H
#define HEAPLAB_CMD_STRESS_H

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace heaplab {

/** @brief Adds the `stress` subcommand to `heaplab`. */
void add_stress_command(CLI::App &app);

/**
 * @brief "2" or "1,2,4" as thread counts.
 * @throws UsageError naming the bad text when a count is not a number from 1 to kMaxStressThreads.
 */
std::vector<unsigned> parse_thread_counts(const std::string &text);

/**
 * @brief Whether @p allocator is a lab stage of the HeapLab tree at @p root whose lab.toml does
 *        not say `thread_safe = true` (the stages before Lab 05): `heaplab stress` warns before
 *        running one with several threads.
 */
bool is_unsafe_lab_stage(const std::string &allocator, const std::string &root);

}  // namespace heaplab

#endif  // HEAPLAB_CMD_STRESS_H
