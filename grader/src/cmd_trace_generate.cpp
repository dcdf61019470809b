/**
 * @file cmd_trace_generate.cpp
 * @brief `heaplab trace generate (--all | --shape NAME...) [--seed N] [--ops N] [--out DIR | --stdout]`
 *
 * The committed suite is exactly what `heaplab trace generate --all --out traces/` writes, and
 * a test holds the two together: change a shape, regenerate, commit both. The same command
 * makes variations for experiments — a bigger or differently seeded trace of one shape —
 * without touching the generator.
 *
 * All checks happen before anything is written, so a bad argument leaves no half-made suite.
 */
#include "cmd_trace_generate.h"

#include "cli_error.h"
#include "heaplab/trace.h"
#include "heaplab/trace_gen.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace heaplab {
namespace {

struct GenerateSettings {
    std::vector<std::string> shapes;
    bool all = false;
    std::string seed;  // parsed by parse_count(): strict decimal, unlike CLI11's strtoull
    std::string ops;
    std::string out = ".";
    bool to_stdout = false;
    bool list = false;
};

/// A plain decimal number ("12000"); no sign, no hex, no suffix.
std::uint64_t parse_count(const std::string &option, const std::string &text) {
    std::uint64_t value = 0;
    const char *end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (text.empty() || ec != std::errc() || ptr != end) {
        throw UsageError(option + ": expected a non-negative decimal number, got '" + text + "'");
    }
    return value;
}

void print_list() {
    // The name first (it is what --shape takes), then the suite file, then what it stresses.
    std::size_t width = 0;
    for (const TraceShape &shape : trace_shapes()) width = std::max(width, shape.name.size());
    for (const TraceShape &shape : trace_shapes()) {
        std::cout << shape.name << std::string(width + 2 - shape.name.size(), ' ') << trace_file_name(shape.name)
                  << ", " << shape.default_ops << " requests, seed " << shape.default_seed << "\n"
                  << "    " << shape.stresses << "\n";
    }
}

/// Writes @p text to @p path through a temporary file, so a failure never leaves a torn trace.
void write_file(const std::filesystem::path &path, const std::string &text) {
    const std::filesystem::path temp = path.string() + ".tmp";
    {
        std::ofstream file(temp, std::ios::binary | std::ios::trunc);
        if (!file) throw UsageError("cannot write " + temp.string() + ": " + std::strerror(errno));
        file.write(text.data(), static_cast<std::streamsize>(text.size()));
        file.close();
        if (!file) {
            const std::string reason = std::strerror(errno);
            std::error_code ignored;
            std::filesystem::remove(temp, ignored);
            throw UsageError("cannot write " + temp.string() + ": " + reason);
        }
    }
    std::error_code error;
    std::filesystem::rename(temp, path, error);
    if (error) {
        std::error_code ignored;
        std::filesystem::remove(temp, ignored);
        throw UsageError("cannot write " + path.string() + ": " + error.message());
    }
}

void run(const GenerateSettings &settings, const CLI::App &command) {
    const bool seed_given = command.count("--seed") > 0;
    const bool ops_given = command.count("--ops") > 0;
    const bool out_given = command.count("--out") > 0;

    if (settings.list) {
        if (settings.all || !settings.shapes.empty() || seed_given || ops_given || out_given ||
            settings.to_stdout) {
            throw UsageError("trace generate: --list takes no other option");
        }
        print_list();
        return;
    }
    if (settings.all && !settings.shapes.empty()) {
        throw UsageError("trace generate: give --all or --shape, not both");
    }
    if (!settings.all && settings.shapes.empty()) {
        throw UsageError("trace generate: nothing to generate; give --shape NAME (repeatable), --all, "
                         "or --list to see the shapes");
    }
    if ((seed_given || ops_given) && settings.shapes.size() != 1) {
        throw UsageError("trace generate: --seed and --ops apply to a single --shape");
    }
    if (settings.to_stdout && settings.shapes.size() != 1) {
        throw UsageError("trace generate: --stdout writes a single --shape");
    }
    if (settings.to_stdout && out_given) {
        throw UsageError("trace generate: give --out or --stdout, not both");
    }

    // Resolve every name (and number) before writing anything.
    std::vector<std::string> names;
    if (settings.all) {
        for (const TraceShape &shape : trace_shapes()) names.push_back(shape.name);
    } else {
        for (const std::string &name : settings.shapes) {
            bool seen = false;
            for (const std::string &earlier : names) seen = seen || earlier == name;
            if (!seen) names.push_back(name);
        }
    }
    std::vector<std::string> files;
    for (const std::string &name : names) {
        try {
            files.push_back(trace_file_name(name));
        } catch (const std::invalid_argument &error) {
            throw UsageError(error.what());
        }
    }
    // (Plain values plus the *_given flags: GCC 12 warns wrongly about std::optional here.)
    const std::uint64_t seed = seed_given ? parse_count("--seed", settings.seed) : 0;
    const std::uint64_t ops = ops_given ? parse_count("--ops", settings.ops) : 0;
    if (ops_given && (ops == 0 || ops > kMaxTraceOps)) {
        throw UsageError("--ops: must be 1 .. " + std::to_string(kMaxTraceOps) + ", got " + settings.ops);
    }

    const std::filesystem::path out_dir = settings.out;
    if (!settings.to_stdout) {
        std::error_code error;
        std::filesystem::create_directories(out_dir, error);
        if (error || !std::filesystem::is_directory(out_dir)) {
            throw UsageError("cannot create directory " + out_dir.string() + ": " +
                             (error ? error.message() : std::string("a file of that name exists")));
        }
    }

    for (std::size_t i = 0; i < names.size(); ++i) {
        const TraceShape *shape = nullptr;
        for (const TraceShape &candidate : trace_shapes()) {
            if (candidate.name == names[i]) shape = &candidate;
        }
        Trace trace;
        try {
            trace = generate_trace(names[i], seed_given ? seed : shape->default_seed,
                                   ops_given ? static_cast<std::size_t>(ops) : shape->default_ops);
        } catch (const std::invalid_argument &error) {
            throw UsageError(error.what());
        }
        const std::string text = format_trace(trace);
        if (settings.to_stdout) {
            std::cout << text << std::flush;
            continue;
        }
        const std::filesystem::path path = out_dir / files[i];
        write_file(path, text);
        std::cout << "wrote " << path.string() << " (" << trace.ops.size() << " requests, "
                  << trace.num_ids << " ids)\n";
    }
}

}  // namespace

void add_trace_generate_command(CLI::App &trace_command) {
    auto settings = std::make_shared<GenerateSettings>();
    CLI::App *generate = trace_command.add_subcommand(
        "generate", "Write generated traces: the whole suite (--all) or chosen shapes");
    generate->add_option("--shape", settings->shapes, "a workload shape to generate (repeatable; see --list)")
        ->type_name("NAME");
    generate->add_flag("--all", settings->all, "every shape, with its default seed and size (the committed suite)");
    generate->add_option("--seed", settings->seed, "seed instead of the shape's default (one --shape only)")
        ->type_name("N");
    generate->add_option("--ops", settings->ops, "number of requests instead of the default (one --shape only)")
        ->type_name("N");
    generate->add_option("--out", settings->out, "directory for the NN-name.rep files (created if missing)")
        ->type_name("DIR")
        ->capture_default_str();
    generate->add_flag("--stdout", settings->to_stdout, "print the trace instead of writing a file (one --shape only)");
    generate->add_flag("--list", settings->list, "list the shapes and what each stresses");
    generate->callback([settings, generate] { run(*settings, *generate); });
}

}  // namespace heaplab
