/**
 * @file cmd_trace_bound.cpp
 * @brief `heaplab trace bound [--header B] [--min-block B] [--alignment B] [--zero-block B] [--json] TRACE...`
 *
 * Reads every trace first (a malformed one is reported with `file:line` before any output),
 * then computes packing_bound() for each: no allocator run, no timing, milliseconds per trace.
 */
#include "cmd_trace_bound.h"

#include "cli_error.h"
#include "heaplab/trace.h"
#include "heaplab/trace_bound.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace heaplab {
namespace {

struct BoundSettings {
    std::vector<std::string> traces;
    BlockLayout layout;
    bool json = false;
};

std::string layout_text(const BlockLayout &layout) {
    return fmt::format("header {} B, minimum block {} B, alignment {} B, malloc(0) {} B", layout.header,
                       layout.min_block, layout.alignment, layout.zero_block);
}

void run_bound(const BoundSettings &settings) {
    std::vector<Trace> traces;
    for (const std::string &path : settings.traces) traces.push_back(read_trace(path));
    std::vector<PackingBound> bounds;
    try {
        for (const Trace &trace : traces) bounds.push_back(packing_bound(trace, settings.layout));
    } catch (const std::invalid_argument &bad_layout) {
        throw UsageError(std::string("trace bound: ") + bad_layout.what());
    }
    double sum = 0;
    for (const PackingBound &b : bounds) sum += b.utilization;
    double mean = bounds.empty() ? 0 : sum / static_cast<double>(bounds.size());

    if (settings.json) {
        nlohmann::json rows = nlohmann::json::array();
        for (std::size_t i = 0; i < traces.size(); ++i) {
            rows.push_back({{"trace", traces[i].name},
                            {"path", traces[i].path},
                            {"ops", traces[i].ops.size()},
                            {"peak_live_bytes", bounds[i].peak_live},
                            {"peak_footprint_bytes", bounds[i].peak_footprint},
                            {"peak_at", bounds[i].peak_at},
                            {"bound", bounds[i].utilization}});
        }
        const BlockLayout &l = settings.layout;
        nlohmann::json layout = {{"header", l.header}, {"min_block", l.min_block}, {"alignment", l.alignment},
                                 {"zero_block", l.zero_block}};
        std::cout << nlohmann::json{{"layout", layout}, {"traces", rows}, {"mean_bound", mean}}.dump(2) << "\n";
        return;
    }
    fmt::print("utilization bound (peak live / peak of the live blocks' footprints; {})\n",
               layout_text(settings.layout));
    std::size_t width = 5;
    for (const Trace &t : traces) width = std::max(width, t.name.size());
    fmt::print("  {:<{}}  {:>8}  {:>12}  {:>15}  {:>7}\n", "trace", width, "ops", "peak live B", "peak footprint B",
               "bound");
    for (std::size_t i = 0; i < traces.size(); ++i) {
        fmt::print("  {:<{}}  {:>8}  {:>12}  {:>15}  {:>6.1f}%\n", traces[i].name, width, traces[i].ops.size(),
                   bounds[i].peak_live, bounds[i].peak_footprint, 100 * bounds[i].utilization);
    }
    fmt::print("  {:<{}}  {:>8}  {:>12}  {:>15}  {:>6.1f}%\n", "mean", width, "", "", "", 100 * mean);
}

}  // namespace

void add_trace_bound_command(CLI::App &trace_command) {
    auto settings = std::make_shared<BoundSettings>();
    CLI::App *bound = trace_command.add_subcommand(
        "bound", "The best utilization each trace allows any allocator (or a given block layout): perfect packing");
    bound->add_option("traces", settings->traces, "trace files")->required();
    bound->add_option("--header", settings->layout.header, "bytes of header before each payload")
        ->capture_default_str();
    bound->add_option("--min-block", settings->layout.min_block, "smallest block, in bytes")->capture_default_str();
    bound->add_option("--alignment", settings->layout.alignment, "payload alignment in bytes")
        ->capture_default_str();
    bound->add_option("--zero-block", settings->layout.zero_block,
                      "bytes a malloc(0) costs (0: the allocator may return NULL)")
        ->capture_default_str();
    bound->add_flag("--json", settings->json, "print the results as JSON on stdout");
    bound->callback([settings] { run_bound(*settings); });
}

}  // namespace heaplab
