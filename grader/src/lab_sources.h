/**
 * @file lab_sources.h
 * @brief One source per stage: skeletons and buggy variants are made from the solution.
 *
 * `solutions/NN-name/mm.cpp` is the only place a stage's code is written. Regions of it
 * between a `// BEGIN SOLUTION` line and an `// END SOLUTION` line are what the student writes:
 *
 * ```cpp
 * void *mm_malloc(size_t size) {
 *     // BEGIN SOLUTION
 *     ...the solution...
 *     // STUB
 *     // (void)size;   // TODO: ask mem_sbrk for a block and return its payload
 *     // return NULL;
 *     // END SOLUTION
 * }
 * ```
 *
 * make_skeleton() replaces each region by its stub: the lines after `// STUB`, uncommented
 * (their first `// ` after the indentation removed), or `// TODO: your code here` when the
 * region has no stub. The stub lines are comments in the solution, so the solution compiles
 * as it is; the skeleton compiles too, because the stub makes every function return.
 *
 * A stage's classic mistakes are kept as mutations of the solution (`bugs.toml`: find this
 * text, replace it with that), so a buggy variant never drifts from the code it breaks.
 */
#ifndef HEAPLAB_LAB_SOURCES_H
#define HEAPLAB_LAB_SOURCES_H

#include <stdexcept>
#include <string>
#include <vector>

namespace heaplab {

/** @brief A malformed solution or bug file; what() is `file:line: what is wrong`. */
class LabSourceError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/** @brief The skeleton a student starts from. @throws LabSourceError on unbalanced markers. */
std::string make_skeleton(const std::string &solution, const std::string &file);

/** @brief Removes the markers and stubs, keeping the solution code (what the graders build). */
std::string strip_markers(const std::string &solution, const std::string &file);

/** @brief One classic mistake, as a change to the solution. */
struct Bug {
    std::string name;     ///< e.g. "header-not-counted"
    std::string mistake;  ///< what a student got wrong, in a sentence
    std::string find;     ///< text that occurs exactly once in the solution
    std::string replace;  ///< what the student wrote instead
    std::string expect;   ///< words the failing tests' output must contain
    /// the submitted file it changes, for a lab that hands in several (Lab 00); "" = the one
    std::string file;
    /// the lab.toml parts that must score below full marks on this variant, and no other
    /// (`heaplab lab verify-grades` grades it through the real grader and checks it)
    std::vector<std::string> loses;
    /// parts that may or may not lose points, as a race decides (a bug only some thread
    /// interleavings show, Lab 05): verify-grades accepts either verdict for them
    std::vector<std::string> may_lose;
    /// it loops until the grader's time limits (minutes a grading): left out of `make test`'s
    /// quick check, graded by `make verify-grades`
    bool slow = false;
};

/** @brief Reads bugs.toml. @throws LabSourceError naming the file (and line where known). */
std::vector<Bug> read_bugs(const std::string &path);

/** @brief The solution with @p bug applied. @throws LabSourceError unless `find` occurs once. */
std::string apply_bug(const std::string &solution, const Bug &bug);

}  // namespace heaplab

#endif  // HEAPLAB_LAB_SOURCES_H
