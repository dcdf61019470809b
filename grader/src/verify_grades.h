/**
 * @file verify_grades.h
 * @brief `heaplab lab verify-grades`: proves, through the real grader, that a lab's grades are
 *        right.
 *
 * Three promises of the grader issue, checked by grading variants of the lab's own solution with
 * check_submission() — the function `heaplab grade` and `heaplab check` use — hidden parts
 * included:
 * - the solution (`solutions/NN-name/`, markers stripped) scores full marks on every part, run
 *   after run, with the same points each time (no flaky test);
 * - the skeleton (`labs/NN-name/`, what a student starts from) builds, scores at most a stated
 *   fraction of the marks, and meets no grader error (a test filter that matches nothing, a
 *   test program that does not list its tests, a replay or a Valgrind run that did not finish);
 * - every classic mistake of `solutions/NN-name/bugs.toml` loses exactly the parts its `loses`
 *   list names: each of those scores below its full points, every other part scores full.
 *
 * The lab's tests are compiled once into a shared objects cache, so a variant costs the compile
 * of its one file, a link, and its parts.
 */
#ifndef HEAPLAB_VERIFY_GRADES_H
#define HEAPLAB_VERIFY_GRADES_H

#include <filesystem>
#include <string>
#include <vector>

namespace heaplab {

/** @brief What to verify, and how. */
struct VerifyGradesSettings {
    std::filesystem::path lab_dir;      ///< labs/NN-name of an instructor tree (solutions/ beside labs/)
    int runs = 1;                       ///< how many times the solution is graded
    int jobs = 1;                       ///< gradings at once
    double skeleton_at_most = 0.6;      ///< the skeleton's score may be at most this fraction of the marks (below a pass)
    bool skeleton = true;               ///< grade the skeleton
    bool bugs = true;                   ///< grade the variants of bugs.toml
    std::vector<std::string> only_bugs; ///< only these bugs ("" = all)
    std::filesystem::path work;         ///< scratch folder ("" = a fresh one in the temporary folder, removed after)
    std::filesystem::path bugs_toml;    ///< the bugs to grade ("" = solutions/NN-name/bugs.toml)
    /// `make test`'s cheap form: no solution run and no skeleton, only the bugs whose `loses`
    /// names a traces part (the grader skips Memcheck on those, so each costs seconds) and that
    /// are not marked `slow`, and the bugs with no `loses` (they fail, printing what to declare)
    bool quick = false;
};

/**
 * @brief Grades the variants and prints one line per grading (and what went wrong, when
 *        something did) and a summary to stdout.
 * @return true when every promise held.
 * @throws UsageError when the lab, its solution or its bugs.toml cannot be read, or a `loses`
 *         names a part lab.toml does not have. (A bug with no `loses` is graded and fails, with
 *         the declaration it would need.)
 */
bool verify_grades(const VerifyGradesSettings &settings);

}  // namespace heaplab

#endif  // HEAPLAB_VERIFY_GRADES_H
