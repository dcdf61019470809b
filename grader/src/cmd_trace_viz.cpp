/**
 * @file cmd_trace_viz.cpp
 * @brief `heaplab trace viz TRACE --allocator NAME --out FILE.svg [--step N | --steps A,B,... |
 *        --timeline]`
 *
 * The trace is replayed with every check of `heaplab trace replay`, in a child process (an
 * allocator that crashes costs a message, not heaplab), up to the last request the picture
 * needs. Between requests the replay hands over the live payloads and the allocator's optional
 * mm_heap_walk() describes its blocks (heap_picture.h); the child draws the SVG and sends it
 * back. When a request fails its check, the picture shows the heap just before that request,
 * the failure is printed as `trace replay` prints it, and the exit status is 1. A walk that
 * disagrees with the heap, or crashes, is set aside with a note: the picture is then drawn from
 * the live payloads alone.
 *
 * Everything that can be wrong with the arguments (the trace, the allocator, a step past the
 * end, an --out that cannot be written) is found before anything runs: one line, exit 2.
 */
#include "cmd_trace_viz.h"

#include "cli_error.h"
#include "heap_picture.h"
#include "heap_svg.h"
#include "heaplab/allocator.h"
#include "heaplab/replay.h"
#include "heaplab/trace.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <set>
#include <unistd.h>

namespace heaplab {
namespace {

namespace fs = std::filesystem;

struct VizSettings {
    std::string trace;
    std::string allocator;
    std::string out;
    std::vector<std::size_t> steps;  ///< --step N or --steps A,B,...; empty: the last
    bool timeline = false;
    std::string title;
    std::size_t row_bytes = 0;
    std::size_t alignment = 16;
    double timeout = 60;
    bool in_process = false;
};

/// The most columns a timeline gets; longer traces are sampled evenly.
constexpr std::size_t kMaxColumns = 800;
/// The most panels a step picture gets.
constexpr std::size_t kMaxPanels = 12;
/// What run_isolated() says of a crash between requests, inside mm_heap_walk().
constexpr const char *kInTheWalk = "in the allocator's mm_heap_walk()";

/// Fails now, with the reason, if @p path cannot be written (before the replay runs).
void check_writable(const std::string &path) {
    fs::path out(path);
    std::error_code error;
    if (fs::is_directory(out, error)) throw UsageError("--out " + path + ": is a folder, not a file");
    fs::path folder = out.parent_path().empty() ? fs::path(".") : out.parent_path();
    if (!fs::is_directory(folder, error)) throw UsageError("--out " + path + ": there is no folder " + folder.string());
    const fs::path &target = fs::exists(out, error) ? out : folder;
    if (access(target.c_str(), W_OK) != 0)
        throw UsageError("--out " + path + ": cannot write " + target.string() + " (" + std::strerror(errno) + ")");
}

/// What the child sends back.
struct Drawn {
    std::string svg;
    std::string failure;      ///< "request 7 (f 3, line 10) failed: ..." or ""
    std::string report;       ///< the failure as `trace replay` prints it, with the heap map
    std::string walk_problem; ///< the first reason the allocator's walk was not used
    std::size_t drawn_until = 0;  ///< the last step drawn
};

std::string to_json(const Drawn &drawn) {
    return nlohmann::json{{"svg", drawn.svg},
                          {"failure", drawn.failure},
                          {"report", drawn.report},
                          {"walk_problem", drawn.walk_problem},
                          {"drawn_until", drawn.drawn_until}}
        .dump();
}

Drawn drawn_from_json(const std::string &text) {
    nlohmann::json json = nlohmann::json::parse(text);
    return Drawn{json.at("svg").get<std::string>(), json.at("failure").get<std::string>(),
                 json.at("report").get<std::string>(), json.at("walk_problem").get<std::string>(),
                 json.at("drawn_until").get<std::size_t>()};
}

/**
 * @brief Replays the first @p count requests of @p trace with every check, and hands
 *        @p keep a snapshot of the heap after each number of requests @p wanted accepts.
 */
ReplayResult replay_snapshots(const Allocator &allocator, const Trace &trace, std::size_t count,
                              const VizSettings &settings, ReplayProgress &progress,
                              const std::function<bool(std::size_t)> &wanted,
                              const std::function<void(HeapSnapshot &&)> &keep) {
    Trace replayed = trace;  // no request past the last picture needs to run
    replayed.ops.resize(count);
    ReplayOptions options;
    options.alignment = settings.alignment;
    options.time = false;
    options.on_step = [&](std::size_t done, const std::vector<LivePayload> &live) {
        if (!wanted(done)) return;
        progress.pass.store(4);  // a crash in the walk is blamed on the walk
        progress.op_index.store(done);
        keep(take_snapshot(allocator, done, live));
        progress.pass.store(1);
    };
    return replay(allocator, replayed, options, &progress);
}

/// Replays @p trace up to the last step wanted, snapshots the heap, draws it (in the child).
Drawn draw(const Allocator &allocator, const Trace &trace, const VizSettings &settings,
           const std::vector<std::size_t> &steps, std::size_t stride, ReplayProgress &progress) {
    std::size_t ops = trace.ops.size();
    std::vector<HeapSnapshot> snapshots;
    Timeline timeline;
    auto keep = [&](HeapSnapshot &&snapshot) {
        if (settings.timeline) {
            timeline.add(snapshot);
        } else {
            snapshots.push_back(std::move(snapshot));
        }
    };
    std::set<std::size_t> wanted(steps.begin(), steps.end());
    ReplayResult result =
        settings.timeline
            ? replay_snapshots(allocator, trace, ops, settings, progress,
                               [&](std::size_t done) { return done % stride == 0 || done == ops; }, keep)
            : replay_snapshots(allocator, trace, steps.back(), settings, progress,
                               [&](std::size_t done) { return wanted.contains(done); }, keep);

    Drawn drawn;
    PictureContext context;
    context.trace = &trace;
    context.row_bytes = settings.row_bytes;
    context.title = settings.title.empty() ? fmt::format("Heap of {}, replaying {}", allocator.name, trace.name)
                                           : settings.title;
    if (!result.ok && result.failure) {
        const ReplayFailure &f = *result.failure;
        drawn.failure = fmt::format("request {} ({}{}) failed: {}", f.op_index, f.op,
                                    f.line > 0 ? fmt::format(", line {}", f.line) : "", f.reason);
        drawn.report = fmt::format("FAIL {} at request {} ({}{}):\n  {}\n", trace.name, f.op_index, f.op,
                                   f.line > 0 ? fmt::format(", {}:{}", trace.path, f.line) : "", f.reason);
        std::istringstream lines(f.heap_map);
        for (std::string line; std::getline(lines, line);) drawn.report += "  " + line + "\n";
        context.failure = drawn.failure;
        // The heap just before the failing request, in place of the steps never reached: the
        // same requests on a fresh heap make the same heap again.
        std::size_t before = f.op_index;
        bool have = settings.timeline ? !timeline.done().empty() && timeline.done().back() == before
                                      : !snapshots.empty() && snapshots.back().done == before;
        if (!have && before <= ops)
            replay_snapshots(allocator, trace, before, settings, progress,
                             [&](std::size_t done) { return done == before; }, keep);
    }
    drawn.drawn_until = settings.timeline ? (timeline.done().empty() ? 0 : timeline.done().back())
                                          : (snapshots.empty() ? 0 : snapshots.back().done);
    if (settings.timeline ? timeline.done().empty() : snapshots.empty()) return drawn;  // mm_init failed: nothing to draw
    if (settings.timeline) {
        drawn.walk_problem = timeline.walk_problem();
        drawn.svg = render_timeline(timeline, context);
    } else {
        for (const HeapSnapshot &s : snapshots)
            if (drawn.walk_problem.empty()) drawn.walk_problem = s.walk_problem;
        drawn.svg = render_steps(snapshots, context);
    }
    return drawn;
}

int run_viz(const VizSettings &settings) {
    if (settings.alignment == 0 || (settings.alignment & (settings.alignment - 1)) != 0)
        throw UsageError("--alignment must be a power of two, got " + std::to_string(settings.alignment));
    check_writable(settings.out);
    Trace trace = read_trace(settings.trace);
    std::shared_ptr<const Allocator> allocator = load_allocator(settings.allocator);
    if (!allocator->uses_memlib)
        throw UsageError("trace viz draws allocators whose heap comes from mem_sbrk; " + allocator->name +
                         " does not use it (try reference or a lab stage such as 03-coalescing)");

    std::size_t ops = trace.ops.size();
    std::vector<std::size_t> steps = settings.steps;
    if (steps.empty()) steps.push_back(ops);
    std::sort(steps.begin(), steps.end());
    steps.erase(std::unique(steps.begin(), steps.end()), steps.end());
    if (steps.back() > ops)
        throw UsageError(fmt::format("step {} is past the end of {}: it has {} requests, so a step is 0 (right "
                                     "after mm_init) to {} (after all of them)",
                                     steps.back(), trace.path, ops, ops));
    if (steps.size() > kMaxPanels)
        throw UsageError(fmt::format("--steps: at most {} steps in one picture, got {} (try --timeline)", kMaxPanels,
                                     steps.size()));
    std::size_t stride = std::max<std::size_t>(1, (ops + kMaxColumns) / kMaxColumns);

    // A walk that crashes is the walk's fault, not the allocator's: the picture is drawn again
    // without it, from the payloads alone, as for an allocator that has no walk.
    Allocator without_walk = *allocator;
    without_walk.heap_walk = nullptr;
    std::string walk_crash;
    auto work = [&](ReplayProgress &progress) {
        return to_json(draw(walk_crash.empty() ? *allocator : without_walk, trace, settings, steps, stride, progress));
    };
    std::string output;
    if (settings.in_process) {
        ReplayProgress progress;
        output = work(progress);
    } else {
        ReplayFailure failure;
        std::optional<std::string> result = run_isolated(trace, settings.timeout, work, failure);
        if (!result && allocator->heap_walk != nullptr && failure.reason.find(kInTheWalk) != std::string::npos) {
            walk_crash = failure.reason;
            result = run_isolated(trace, settings.timeout, work, failure);
        }
        if (!result) {
            std::cerr << fmt::format("FAIL {} on {}: {}\n", trace.name, allocator->name, failure.reason);
            return kExitFailed;
        }
        output = *result;
    }
    Drawn drawn;
    try {
        drawn = drawn_from_json(output);
    } catch (const std::exception &error) {
        std::cerr << "heaplab: the picture did not come back whole from the replay: " << error.what() << "\n";
        return kExitFailed;
    }
    if (!walk_crash.empty()) drawn.walk_problem = "its mm_heap_walk() crashed: " + walk_crash;

    if (drawn.svg.empty()) {
        std::cerr << drawn.report << "heaplab: no picture: the heap never existed\n";
        return kExitFailed;
    }
    std::ofstream file(settings.out, std::ios::binary | std::ios::trunc);
    file << drawn.svg;
    file.close();
    if (!file) throw UsageError("--out " + settings.out + ": cannot write it (" + std::strerror(errno) + ")");
    if (!drawn.walk_problem.empty())
        std::cerr << fmt::format("heaplab: note: {} drawn without its block description: {}\n", allocator->name,
                                 drawn.walk_problem);
    if (!drawn.failure.empty()) {
        std::cerr << drawn.report;
        std::cerr << fmt::format("heaplab: wrote {}: the heap up to the failing request (after {} requests)\n",
                                 settings.out, drawn.drawn_until);
        return kExitFailed;
    }
    std::cout << fmt::format("wrote {}\n", settings.out);
    return 0;
}

}  // namespace

void add_trace_viz_command(CLI::App &trace_command) {
    auto settings = std::make_shared<VizSettings>();
    CLI::App *viz = trace_command.add_subcommand(
        "viz", "Draw an allocator's heap (live, free, overhead) while it replays a trace, as SVG");
    viz->add_option("trace", settings->trace, "the trace file")->required();
    viz->add_option("--allocator,-a", settings->allocator,
                    "reference, a lab stage such as 03-coalescing, or a path to an mm_*.so")
        ->required();
    viz->add_option("--out,-o", settings->out, "the SVG file to write")->required();
    CLI::Option *step = viz->add_option("--step", settings->steps,
                                        "draw the heap after the first N requests (0: right after mm_init; "
                                        "default: after all of them)");
    step->expected(1);
    CLI::Option *steps = viz->add_option("--steps", settings->steps,
                                         "draw the heap after each of these step counts, e.g. 4,6,8, one "
                                         "above the other on one scale")
                             ->delimiter(',');
    CLI::Option *timeline = viz->add_flag("--timeline", settings->timeline,
                                          "draw every step: requests across, heap addresses up");
    step->excludes(steps)->excludes(timeline);
    steps->excludes(timeline);
    viz->add_option("--title", settings->title, "the picture's first line (default: the allocator and trace)");
    viz->add_option("--row-bytes", settings->row_bytes, "step pictures: bytes per row (default: chosen to fit)")
        ->check(CLI::Range(std::size_t{16}, std::size_t{1} << 30));
    viz->add_option("--alignment", settings->alignment, "required payload alignment in bytes")->capture_default_str();
    viz->add_option("--timeout", settings->timeout, "seconds before the replay is stopped")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    viz->add_flag("--in-process", settings->in_process,
                  "replay in this process instead of a child (for gdb); a crash then ends heaplab");
    viz->callback([settings] {
        int status = run_viz(*settings);
        if (status != 0) throw CLI::RuntimeError(status);
    });
}

}  // namespace heaplab
