/**
 * @file lab_sources.cpp
 * @brief Skeletons from solutions, and buggy variants from bugs.toml (see lab_sources.h).
 */
#include "lab_sources.h"

#include <toml++/toml.h>

#include <algorithm>

#include <sstream>

namespace heaplab {
namespace {

std::vector<std::string> split_lines(const std::string &text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

std::string trimmed(const std::string &line) {
    std::size_t start = line.find_first_not_of(" \t");
    if (start == std::string::npos) return "";
    std::size_t end = line.find_last_not_of(" \t\r");
    return line.substr(start, end - start + 1);
}

std::string indentation(const std::string &line) { return line.substr(0, line.find_first_not_of(" \t")); }

enum class Keep { Skeleton, Solution };

/// Walks the regions; Keep says which side of each region survives.
std::string transform(const std::string &solution, const std::string &file, Keep keep) {
    std::string out;
    enum class Where { Outside, Solution, Stub } where = Where::Outside;
    std::size_t region_line = 0;
    bool region_has_stub = false;
    std::string region_indent;
    std::vector<std::string> lines = split_lines(solution);
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const std::string &line = lines[i];
        std::string marker = trimmed(line);
        auto fail = [&](const std::string &message) {
            throw LabSourceError(file + ":" + std::to_string(i + 1) + ": " + message);
        };
        if (marker == "// BEGIN SOLUTION") {
            if (where != Where::Outside)
                fail("BEGIN SOLUTION inside the region opened at line " + std::to_string(region_line));
            where = Where::Solution;
            region_line = i + 1;
            region_has_stub = false;
            region_indent = indentation(line);
            continue;
        }
        if (marker == "// STUB") {
            if (where != Where::Solution) fail("STUB outside a BEGIN SOLUTION region");
            where = Where::Stub;
            region_has_stub = true;
            continue;
        }
        if (marker == "// END SOLUTION") {
            if (where == Where::Outside) fail("END SOLUTION without a BEGIN SOLUTION");
            if (keep == Keep::Skeleton && !region_has_stub) out += region_indent + "// TODO: your code here\n";
            where = Where::Outside;
            continue;
        }
        switch (where) {
        case Where::Outside: out += line + "\n"; break;
        case Where::Solution:
            if (keep == Keep::Solution) out += line + "\n";
            break;
        case Where::Stub:
            if (keep == Keep::Skeleton) {
                std::string indent = indentation(line);
                std::string rest = line.substr(indent.size());
                if (rest.rfind("// ", 0) == 0) {
                    rest = rest.substr(3);
                } else if (rest == "//") {
                    rest.clear();
                } else {
                    fail("a stub line must be a comment ('// code'), so that the solution compiles");
                }
                out += indent + rest + "\n";
            }
            break;
        }
    }
    if (where != Where::Outside)
        throw LabSourceError(file + ":" + std::to_string(region_line) +
                             ": BEGIN SOLUTION is never closed by END SOLUTION");
    return out;
}

}  // namespace

std::string make_skeleton(const std::string &solution, const std::string &file) {
    return transform(solution, file, Keep::Skeleton);
}

std::string strip_markers(const std::string &solution, const std::string &file) {
    return transform(solution, file, Keep::Solution);
}

std::vector<Bug> read_bugs(const std::string &path) {
    toml::table table;
    try {
        table = toml::parse_file(path);
    } catch (const toml::parse_error &error) {
        throw LabSourceError(path + ":" + std::to_string(error.source().begin.line) + ": " +
                             std::string(error.description()));
    }
    std::vector<Bug> bugs;
    const toml::array *entries = table["bug"].as_array();
    if (entries == nullptr) throw LabSourceError(path + ": no [[bug]] entries");
    for (const toml::node &node : *entries) {
        const toml::table *entry = node.as_table();
        std::string where = path + ":" + std::to_string(node.source().begin.line);
        if (entry == nullptr) throw LabSourceError(where + ": a [[bug]] entry must be a table");
        auto text = [&](const char *key) {
            std::optional<std::string> value = (*entry)[key].value<std::string>();
            if (!value || value->empty()) throw LabSourceError(where + ": [[bug]] needs a non-empty '" + key + "'");
            return *value;
        };
        Bug bug{text("name"), text("mistake"), text("find"), (*entry)["replace"].value_or(std::string()),
                text("expect"), (*entry)["file"].value_or(std::string()), {}, {}, (*entry)["slow"].value_or(false)};
        // A list of lab.toml part names, non-empty when given.
        auto part_names = [&](const char *key, std::vector<std::string> &names) {
            const toml::node *value = entry->get(key);
            if (value == nullptr) return;
            const toml::array *parts = value->as_array();
            if (parts == nullptr || parts->empty())
                throw LabSourceError(where + ": bug '" + bug.name + "': '" + key +
                                     "' must be a non-empty list of lab.toml part names");
            for (const toml::node &part : *parts) {
                std::optional<std::string> name = part.value<std::string>();
                if (!name || name->empty())
                    throw LabSourceError(where + ": bug '" + bug.name + "': '" + key +
                                         "' holds something that is not a part name");
                names.push_back(*name);
            }
        };
        part_names("loses", bug.loses);
        part_names("may_lose", bug.may_lose);
        for (const std::string &name : bug.may_lose)
            if (std::find(bug.loses.begin(), bug.loses.end(), name) != bug.loses.end())
                throw LabSourceError(where + ": bug '" + bug.name + "': part '" + name +
                                     "' is in both 'loses' and 'may_lose'");
        if (!bug.may_lose.empty() && bug.loses.empty())
            throw LabSourceError(where + ": bug '" + bug.name + "': 'may_lose' needs a 'loses' (the parts that always catch it)");
        for (const Bug &other : bugs)
            if (other.name == bug.name) throw LabSourceError(where + ": bug '" + bug.name + "' is listed twice");
        bugs.push_back(bug);
    }
    return bugs;
}

std::string apply_bug(const std::string &solution, const Bug &bug) {
    std::size_t at = solution.find(bug.find);
    if (at == std::string::npos)
        throw LabSourceError("bug '" + bug.name + "': its 'find' text does not occur in the solution (did the solution change?)");
    if (solution.find(bug.find, at + 1) != std::string::npos)
        throw LabSourceError("bug '" + bug.name + "': its 'find' text occurs more than once; make it unique");
    return solution.substr(0, at) + bug.replace + solution.substr(at + bug.find.size());
}

}  // namespace heaplab
