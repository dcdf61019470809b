/**
 * @file journey.h
 * @brief The journey in numbers: every lab stage on the trace suite beside glibc and the
 *        reference — utilization, throughput, their ratios to glibc, and the one idea each
 *        stage adds. `heaplab journey` prints it (text, or Markdown for the docs site), and
 *        `heaplab trace replay` ends with the same table when it replays several allocators
 *        (so `make grade`, which replays them all, shows it without replaying anything twice).
 */
#ifndef HEAPLAB_JOURNEY_H
#define HEAPLAB_JOURNEY_H

#include "suite_replay.h"

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace heaplab {

/** @brief One allocator's line of the table. */
struct JourneyRow {
    std::string allocator;  ///< libc, 01-bump, ..., reference
    std::string idea;       ///< what it adds (a stage's lab.toml title)
    SuiteTotals totals;     ///< its results over the suite
};

/** @brief How the table is written. */
enum class JourneyFormat {
    text,      ///< aligned columns, for a terminal
    markdown,  ///< a Markdown table, for the docs site
};

/**
 * @brief The idea an allocator stands for: a lab stage's `title` from labs/NAME/lab.toml under
 *        @p root; a fixed line for `libc` and `reference`; "" for anything else.
 */
std::string allocator_idea(const std::string &allocator, const std::string &root);

/** @brief The table, ratios to the `libc` row ("-" without one). */
std::string journey_table(const std::vector<JourneyRow> &rows, JourneyFormat format);

/** @brief Adds `heaplab journey`. */
void add_journey_command(CLI::App &app);

}  // namespace heaplab

#endif  // HEAPLAB_JOURNEY_H
