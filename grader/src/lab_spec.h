/**
 * @file lab_spec.h
 * @brief `lab.toml`: what a lab hands in, how it is graded, and within which limits.
 *
 * Every lab folder has a lab.toml; the grader reads nothing else to know how to grade it, and the
 * handout's point table is generated from it. The full reference is in docs (for instructors);
 * in short:
 *
 * ```toml
 * [lab]
 * id = "01-bump"                 # the folder name
 * title = "A bump allocator"
 * submit = ["mm.cpp"]            # the only files taken from a submission ("mm.c": compiled as C)
 * alignment = 16                 # payload alignment the replay checks
 *
 * [limits]
 * test_seconds = 10              # one test process
 * replay_seconds = 60            # one trace replay
 * output_kib = 256               # captured output per process, cut beyond
 *
 * [symbols]                      # what the student object may call (nm -u)
 * allowed = ["mem_sbrk", "memcpy", "memset"]
 *
 * [[part]]
 * name = "Alignment"
 * kind = "tests"                 # tests | traces | memcheck | stress | helgrind | utilization | throughput | warnings
 * tests = "BumpAlignment.*"      # gtest filter (kind = "tests")
 * points = 10
 * visibility = "visible"         # visible | hidden | after_due_date
 * description = "every payload is 16-byte aligned"
 * ```
 *
 * `utilization` and `throughput` parts score on a straight line from `zero_at` (no points) to
 * `full_at` (all points): utilization as a fraction, throughput as a ratio to the reference
 * measured in the same run.
 *
 * `stress` (the threaded stress driver, natively) and `helgrind` (the same driver under Valgrind's
 * Helgrind) parts may set `threads` ("2" or a list such as "2,4"), `ops` (requests per thread)
 * and `seconds` (a run still going after it is called stuck: a deadlock or an endless loop);
 * the defaults are "2,4", 20000 and 20 for `stress`, "2", 2000 and 30 for `helgrind`.
 */
#ifndef HEAPLAB_LAB_SPEC_H
#define HEAPLAB_LAB_SPEC_H

#include <string>
#include <vector>

namespace heaplab {

/** @brief One graded part of a lab. */
struct LabPart {
    std::string name;         ///< shown in reports and on Gradescope, e.g. "Alignment"
    std::string kind;         ///< tests, traces, memcheck, stress, helgrind, utilization, throughput, warnings
    std::string tests;        ///< gtest filter, for kind = tests
    std::string description;  ///< what it checks, for the handout
    double points = 0;        ///< what the part is worth; partial credit scales within it
    std::string visibility = "visible";  ///< visible, hidden, after_due_date
    std::string cap;          ///< traces: heap cap such as "512M" ("" = default)
    double zero_at = 0;       ///< utilization / throughput: no points at or below
    double full_at = 0;       ///< utilization / throughput: all points at or above
    std::string threads;      ///< stress / helgrind: thread counts such as "2,4" ("" = the kind's default)
    std::size_t ops = 0;      ///< stress / helgrind: requests per thread (0 = the kind's default)
    double seconds = 0;       ///< stress / helgrind: a run still going after this is stuck (0 = default)
};

/** @brief A whole lab.toml. */
struct LabSpec {
    std::string path;                       ///< the lab.toml it was read from, for messages
    std::string id;                         ///< [lab] id: the lab folder's name, e.g. "01-bump"
    std::string title;                      ///< [lab] title, for report headings
    std::vector<std::string> submit;        ///< [lab] submit: the only files taken from a submission
    std::size_t alignment = 16;             ///< [lab] alignment: what the trace replay checks
    double test_seconds = 10;               ///< [limits]: one test process is killed after this
    double replay_seconds = 60;             ///< [limits]: one trace replay is killed after this
    std::size_t output_kib = 256;           ///< [limits]: captured output per process, cut beyond
    std::vector<std::string> allowed_symbols;  ///< [symbols] allowed: what the student object may call
    std::vector<LabPart> parts;             ///< the [[part]] tables, in order

    /// [build]: how the lab is built. "allocator" (the default: mm.cpp, a plug-in, traces) or
    /// "programs" (Lab 00: every submitted file compiled and linked with the tests, Memcheck
    /// over the test program itself).
    std::string build_kind = "allocator";
    std::vector<std::string> build_include;  ///< lab folders (relative) searched for headers
    std::vector<std::string> cxxflags;       ///< extra flags for the submitted files and the tests
    std::vector<std::string> ldflags;        ///< extra flags for linking the test program
    std::vector<std::string> valgrind;       ///< programs: Valgrind's options for the memcheck part

    /// The sum of every part's points, hidden ones included: the lab's full marks.
    [[nodiscard]] double total_points() const;
};

/** @brief Reads and validates a lab.toml. @throws UsageError with `file:line: what is wrong`. */
LabSpec read_lab_spec(const std::string &path);

/** @brief The handout's point table (Markdown), between `<!-- points -->` marker comments. */
std::string points_table(const LabSpec &spec);

}  // namespace heaplab

#endif  // HEAPLAB_LAB_SPEC_H
