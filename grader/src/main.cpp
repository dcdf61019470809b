/**
 * @file main.cpp
 * @brief The `heaplab` command: one front door for traces, allocators and (later) grading.
 *
 * Exit status: 0 when everything passed, 1 when a verdict failed, 2 for a usage problem (bad
 * arguments, an unreadable file, a malformed trace, an unknown allocator), with a one-line
 * message on stderr.
 */
#include "cli_error.h"
#include "cmd_check.h"
#include "cmd_grade.h"
#include "cmd_lab.h"
#include "cmd_package.h"
#include "cmd_release.h"
#include "cmd_stress.h"
#include "cmd_trace_bound.h"
#include "cmd_trace_generate.h"
#include "cmd_trace_replay.h"
#include "cmd_trace_viz.h"
#include "journey.h"
#include "heaplab/allocator.h"
#include "heaplab/trace.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <iostream>

int main(int argc, char **argv) {
    CLI::App app{"HeapLab: build a malloc, replay traces, grade allocators"};
    app.name("heaplab");
    app.require_subcommand(1);

    CLI::App *trace = app.add_subcommand("trace", "Work with allocation traces");
    trace->require_subcommand(1);
    heaplab::add_trace_replay_command(*trace);
    heaplab::add_trace_generate_command(*trace);
    heaplab::add_trace_bound_command(*trace);
    heaplab::add_trace_viz_command(*trace);

    heaplab::add_journey_command(app);
    heaplab::add_lab_command(app);
    heaplab::add_check_command(app);
    heaplab::add_grade_command(app);
    heaplab::add_gradescope_command(app);
    heaplab::add_package_command(app);
    heaplab::add_release_command(app);
    heaplab::add_stress_command(app);

    CLI::App *allocators = app.add_subcommand("allocators", "List the allocators this build can load");
    allocators->callback([] {
        for (const std::string &name : heaplab::available_allocators()) {
            auto allocator = heaplab::load_allocator(name);
            fmt::print("{:<20} {}\n", allocator->name, allocator->origin);
        }
    });

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp &help) {
        return app.exit(help);
    } catch (const CLI::CallForAllHelp &help) {
        return app.exit(help);
    } catch (const CLI::RuntimeError &error) {
        return error.get_exit_code();
    } catch (const CLI::ParseError &error) {
        std::cerr << "heaplab: " << error.what() << "\n"
                  << "Run 'heaplab --help' (or 'heaplab trace replay --help') for usage.\n";
        return heaplab::kExitUsage;
    } catch (const heaplab::TraceError &error) {
        std::cerr << error.what() << "\n";
        return heaplab::kExitUsage;
    } catch (const heaplab::AllocatorError &error) {
        std::cerr << "heaplab: " << error.what() << "\n";
        return heaplab::kExitUsage;
    } catch (const heaplab::UsageError &error) {
        std::cerr << "heaplab: " << error.what() << "\n";
        return heaplab::kExitUsage;
    }
    return 0;
}
