/**
 * @file check.h
 * @brief Grading one submission against a lab.toml: build, integrity, parts, verdicts.
 *
 * The path of a submission (DESIGN.md): its files are copied into a scratch folder; the
 * student file is compiled alone, its undefined symbols checked against the lab's allow-list;
 * it is linked with the lab's tests (one process per test) and built as an allocator plug-in
 * for the trace replay and Memcheck. Every run goes through run() (process.h): own process
 * group, time limit, rlimits, output cut.
 */
#ifndef HEAPLAB_CHECK_H
#define HEAPLAB_CHECK_H

#include "lab_spec.h"
#include "process.h"

#include <filesystem>
#include <string>
#include <vector>

namespace heaplab {

/** @brief The verdict on one part of a lab. */
struct PartResult {
    std::string name;           ///< the part's name from lab.toml (LabPart::name)
    std::string kind;           ///< the part's kind from lab.toml (LabPart::kind)
    std::string visibility;     ///< visible, hidden or after_due_date: what feedback may show
    double points = 0;          ///< points earned (partial credit for tests, traces and scales)
    double max_points = 0;      ///< points the part is worth (LabPart::points)
    bool skipped = false;       ///< not run (hidden part in a self-check)
    std::string summary;        ///< one line: "23/23 tests", "16/16 traces", "no errors"
    std::string explanation;    ///< the first failure, explained ("" when all passed)
};

/** @brief Everything a grading run found. */
struct CheckReport {
    std::string lab_id;         ///< LabSpec::id, e.g. "01-bump"
    std::string lab_title;      ///< LabSpec::title, for report headings
    bool built = false;         ///< false: the submission did not compile or link; every part scores 0
    std::string build_output;   ///< compiler output (errors or warnings), cut
    int warnings = 0;           ///< compiler warnings counted (the `warnings` part scores them)
    std::vector<std::string> forbidden;  ///< symbols or constructs the submission may not use
    std::vector<PartResult> parts;       ///< one verdict per lab.toml part, in lab.toml's order
    std::string isolation;      ///< how student processes were confined (process.h)
    double build_seconds = 0;   ///< compiling, checking and linking the submission (the lab's tests included)
    std::vector<double> part_seconds;  ///< wall-clock seconds each part took, parallel to `parts`
    /// Points earned over the parts that ran (skipped hidden parts count nothing).
    [[nodiscard]] double score() const;
    /// Points available: with @p include_skipped false, only over the parts that ran, so a
    /// student's self-check shows `Score: X/Y` out of what it could judge.
    [[nodiscard]] double max_score(bool include_skipped) const;
};

/** @brief Where the grader finds its own things. */
struct CheckSetup {
    std::filesystem::path root;      ///< the HeapLab tree (common/, traces/, labs/, grader/hidden)
    std::filesystem::path heaplab;   ///< this program, for replays in a child
    bool include_hidden = false;     ///< grade hidden parts too (instructors), else skip them
    /// where the lab's compiled tests are kept and reused ("" = inside the scratch folder);
    /// shared by every submission of a batch
    std::filesystem::path objects_cache;
    bool sandbox = true;             ///< confine student processes with bubblewrap when available
    unsigned student_uid = 0;        ///< run student processes as this user (0: as the grader)
    unsigned student_gid = 0;        ///< ... and this group (0: the grader's)
};

/** @brief The trace suite: every `*.rep` in @p root / traces, sorted by name (none: empty). */
std::vector<std::string> suite_traces(const std::filesystem::path &root);

/** @brief The HeapLab tree of this program: bin/heaplab's build folder's source, when it is one,
 *         else the tree it was built from. */
std::filesystem::path heaplab_root();

/**
 * @brief Compiles the lab's tests (public, and hidden ones if @p setup says so) and memlib into
 *        the objects cache, if they are not there yet. check_submission() does it too; a batch
 *        calls it once before its workers start, so they never compile the same file at once.
 * @return the object files to link with a submission.
 * @throws std::runtime_error when the lab's own tests do not compile.
 */
std::vector<std::string> build_lab_objects(const std::filesystem::path &lab_dir, const std::string &lab_id,
                                           const std::filesystem::path &cache, const CheckSetup &setup,
                                           const std::vector<std::string> &flags);

/**
 * @brief The tests of a GoogleTest program that match @p filter, as `Suite.Name`, from its
 *        `--gtest_list_tests`, run within @p seconds (and @p sandbox). Empty when the program
 *        does not list them; then @p problem, when given, says why.
 */
std::vector<std::string> list_tests(const std::filesystem::path &binary, const std::string &filter, double seconds,
                                    const Sandbox &sandbox, std::string *problem = nullptr);

/** @brief The compiler flags a lab asks for: its include folders and [build] cxxflags. */
std::vector<std::string> lab_flags(const LabSpec &spec, const std::filesystem::path &lab_dir);

/**
 * @brief Where a lab's compiled tests are kept between batches, so that grading a class (or one
 *        submission) costs only the compile of the student's files: beside this build
 *        (`build/cache/lab-objects/`), one folder per lab folder, set of tests and flags;
 *        @p fallback (a scratch folder) when that is not writable.
 */
std::filesystem::path lab_objects_cache(const CheckSetup &setup, const std::filesystem::path &lab_dir,
                                        const LabSpec &spec, const std::filesystem::path &fallback);

/**
 * @brief Grades the submission in @p submission_dir (its files named by lab.toml's `submit`)
 *        for @p spec, building in @p scratch.
 */
CheckReport check_submission(const LabSpec &spec, const std::filesystem::path &lab_dir,
                             const std::filesystem::path &submission_dir, const std::filesystem::path &scratch,
                             const CheckSetup &setup);

/** @brief The xv6-style terminal report: one line per part, the first failure, the score. */
std::string format_report(const CheckReport &report);

}  // namespace heaplab

#endif  // HEAPLAB_CHECK_H
