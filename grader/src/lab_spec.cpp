/**
 * @file lab_spec.cpp
 * @brief Reading and checking lab.toml (see lab_spec.h), and the handout's point table.
 */
#include "lab_spec.h"

#include "cli_error.h"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cstdint>
#include <regex>
#include <set>

namespace heaplab {
namespace {

const std::set<std::string> kKinds = {"tests",       "traces",     "memcheck", "stress", "helgrind",
                                      "utilization", "throughput", "warnings"};
const std::set<std::string> kVisibilities = {"visible", "hidden", "after_due_date"};

std::string at(const std::string &path, const toml::node &node) {
    return path + ":" + std::to_string(node.source().begin.line);
}

}  // namespace

double LabSpec::total_points() const {
    double total = 0;
    for (const LabPart &part : parts) total += part.points;
    return total;
}

LabSpec read_lab_spec(const std::string &path) {
    toml::table table;
    try {
        table = toml::parse_file(path);
    } catch (const toml::parse_error &error) {
        throw UsageError(path + ":" + std::to_string(error.source().begin.line) + ": " +
                         std::string(error.description()));
    }
    LabSpec spec;
    spec.path = path;
    auto need_string = [&](const toml::table &from, const char *key, const std::string &where) {
        std::optional<std::string> value = from[key].value<std::string>();
        if (!value || value->empty()) throw UsageError(where + ": '" + key + "' must be a non-empty string");
        return *value;
    };

    const toml::table *lab = table["lab"].as_table();
    if (lab == nullptr) throw UsageError(path + ":1: lab.toml needs a [lab] table");
    std::string lab_at = at(path, *lab);
    spec.id = need_string(*lab, "id", lab_at);
    spec.title = need_string(*lab, "title", lab_at);
    if (const toml::array *submit = (*lab)["submit"].as_array()) {
        for (const toml::node &file : *submit) {
            std::optional<std::string> name = file.value<std::string>();
            if (!name || name->empty() || name->find('/') != std::string::npos)
                throw UsageError(at(path, file) + ": 'submit' lists plain file names such as \"mm.cpp\"");
            spec.submit.push_back(*name);
        }
    }
    if (spec.submit.empty()) throw UsageError(lab_at + ": [lab] needs 'submit', the files a student hands in");
    spec.alignment = (*lab)["alignment"].value_or(std::size_t{16});
    if (spec.alignment == 0 || (spec.alignment & (spec.alignment - 1)) != 0)
        throw UsageError(lab_at + ": 'alignment' must be a power of two");

    if (const toml::table *limits = table["limits"].as_table()) {
        spec.test_seconds = (*limits)["test_seconds"].value_or(spec.test_seconds);
        spec.replay_seconds = (*limits)["replay_seconds"].value_or(spec.replay_seconds);
        spec.output_kib = (*limits)["output_kib"].value_or(spec.output_kib);
        if (spec.test_seconds <= 0 || spec.replay_seconds <= 0)
            throw UsageError(at(path, *limits) + ": time limits must be positive");
    }
    if (const toml::table *symbols = table["symbols"].as_table()) {
        if (const toml::array *allowed = (*symbols)["allowed"].as_array())
            for (const toml::node &symbol : *allowed)
                if (auto name = symbol.value<std::string>()) spec.allowed_symbols.push_back(*name);
    }

    if (const toml::table *build = table["build"].as_table()) {
        spec.build_kind = (*build)["kind"].value_or(std::string("allocator"));
        if (spec.build_kind != "allocator" && spec.build_kind != "programs")
            throw UsageError(at(path, *build) + ": [build] kind must be allocator or programs");
        auto strings = [&](const char *key, std::vector<std::string> &into) {
            if (const toml::array *list = (*build)[key].as_array())
                for (const toml::node &item : *list)
                    if (auto text = item.value<std::string>()) into.push_back(*text);
        };
        strings("include", spec.build_include);
        strings("cxxflags", spec.cxxflags);
        strings("ldflags", spec.ldflags);
        strings("valgrind", spec.valgrind);
    }

    const toml::array *parts = table["part"].as_array();
    if (parts == nullptr || parts->empty()) throw UsageError(path + ":1: lab.toml needs at least one [[part]]");
    for (const toml::node &node : *parts) {
        const toml::table *entry = node.as_table();
        std::string where = at(path, node);
        if (entry == nullptr) throw UsageError(where + ": [[part]] must be a table");
        LabPart part;
        part.name = need_string(*entry, "name", where);
        part.kind = need_string(*entry, "kind", where);
        if (!kKinds.contains(part.kind))
            throw UsageError(where + ": unknown part kind '" + part.kind +
                             "' (tests, traces, memcheck, stress, helgrind, utilization, throughput, warnings)");
        part.points = (*entry)["points"].value_or(-1.0);
        if (part.points < 0) throw UsageError(where + ": part '" + part.name + "' needs 'points' >= 0");
        part.visibility = (*entry)["visibility"].value_or(std::string("visible"));
        if (!kVisibilities.contains(part.visibility))
            throw UsageError(where + ": visibility must be visible, hidden or after_due_date, not '" +
                             part.visibility + "'");
        part.description = (*entry)["description"].value_or(std::string());
        part.tests = (*entry)["tests"].value_or(std::string());
        if (part.kind == "tests" && part.tests.empty())
            throw UsageError(where + ": a 'tests' part needs 'tests', a gtest filter such as \"Bump.*\"");
        part.cap = (*entry)["cap"].value_or(std::string());
        if (part.kind == "utilization" || part.kind == "throughput") {
            part.zero_at = (*entry)["zero_at"].value_or(-1.0);
            part.full_at = (*entry)["full_at"].value_or(-1.0);
            if (part.zero_at < 0 || part.full_at <= part.zero_at)
                throw UsageError(where + ": a " + part.kind + " part needs 0 <= zero_at < full_at");
        }
        if (part.kind == "stress" || part.kind == "helgrind") {
            part.threads = (*entry)["threads"].value_or(std::string());
            static const std::regex counts(R"(^[1-9][0-9]?(,[1-9][0-9]?)*$)");
            if (!part.threads.empty() && !std::regex_match(part.threads, counts))
                throw UsageError(where + ": 'threads' is a thread count or a list such as \"2,4\", not '" +
                                 part.threads + "'");
            std::int64_t ops = (*entry)["ops"].value_or(std::int64_t{0});
            part.seconds = (*entry)["seconds"].value_or(0.0);
            if (ops < 0 || part.seconds < 0)
                throw UsageError(where + ": 'ops' and 'seconds' must be positive");
            part.ops = static_cast<std::size_t>(ops);
        }
        for (const LabPart &other : spec.parts)
            if (other.name == part.name) throw UsageError(where + ": two parts are named '" + part.name + "'");
        spec.parts.push_back(part);
    }
    return spec;
}

std::string points_table(const LabSpec &spec) {
    auto number = [](double points) {
        return points == static_cast<long long>(points) ? fmt::format("{}", static_cast<long long>(points))
                                                         : fmt::format("{:.1f}", points);
    };
    auto when = [](const std::string &visibility) {
        if (visibility == "visible") return "`make check`";
        if (visibility == "hidden") return "at grading only";
        return "after the due date";
    };
    std::string table = "<!-- points: generated from lab.toml by `heaplab lab points`; edit lab.toml, not this table -->\n";
    table += "| Part | What it checks | Points | You see it |\n|---|---|---:|---|\n";
    for (const LabPart &part : spec.parts) {
        std::string what = part.description;
        if (what.empty() && part.kind == "tests") what = "tests `" + part.tests + "`";
        table += fmt::format("| {} | {} | {} | {} |\n", part.name, what, number(part.points), when(part.visibility));
    }
    table += fmt::format("| **Total** | | **{}** | |\n", number(spec.total_points()));
    table += "<!-- end of points -->\n";
    return table;
}

}  // namespace heaplab
