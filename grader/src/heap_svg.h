/**
 * @file heap_svg.h
 * @brief Heap pictures as SVG: the heap after chosen requests (a memory map, one panel per
 *        request, all on one byte scale), or a timeline (requests across, addresses up).
 *
 * Every kind of byte has its own fill *and* texture, so a picture reads in grey print or for a
 * reader who does not see colour: live payloads solid, free blocks hatched, the unused end of an
 * allocated block dotted, headers, footers and other overhead near-black, bytes the allocator did
 * not describe cross-hatched; a legend names each, and every block carries a tooltip. Block
 * groups carry `class="block KIND"` and `data-offset`/`data-size` for scripts (and tests).
 */
#ifndef HEAPLAB_HEAP_SVG_H
#define HEAPLAB_HEAP_SVG_H

#include "heap_picture.h"
#include "heaplab/trace.h"

#include <cstddef>
#include <map>
#include <string>
#include <vector>

namespace heaplab {

/** @brief What a picture is of, for its captions. */
struct PictureContext {
    std::string title;              ///< the first line
    const Trace *trace = nullptr;   ///< the whole trace (for the text of each request)
    std::string failure;            ///< the replay stopped here, and why ("" if it did not)
    std::size_t row_bytes = 0;      ///< step pictures: bytes per row (0: chosen to fit)
};

/** @brief The heap after each of @p snapshots (at least one), one panel each, one scale. */
std::string render_steps(const std::vector<HeapSnapshot> &snapshots, const PictureContext &context);

/**
 * @brief Snapshots, one per column of a timeline, merged: a block that stays the same from one
 *        column to the next is one run. Memory grows with the changes, not the columns.
 */
class Timeline {
public:
    /** @brief A block unchanged over columns [first, last]. */
    struct Run {
        PictureBlock block;     ///< the block
        std::size_t first = 0;  ///< the first column it is in
        std::size_t last = 0;   ///< the last column it is in
    };

    /** @brief Appends the next column. */
    void add(const HeapSnapshot &snapshot);

    /** @brief Every run, in the order they started. */
    [[nodiscard]] const std::vector<Run> &runs() const { return runs_; }
    /** @brief Requests made at each column. */
    [[nodiscard]] const std::vector<std::size_t> &done() const { return done_; }
    /** @brief The heap size (the break) at each column. */
    [[nodiscard]] const std::vector<std::size_t> &heap_sizes() const { return heap_sizes_; }
    /** @brief The last snapshot added (its totals go in the caption). */
    [[nodiscard]] const HeapSnapshot &last() const { return last_; }
    /** @brief How many columns are drawn without the allocator's walk. */
    [[nodiscard]] std::size_t undescribed() const { return undescribed_; }
    /** @brief The first reason a walk the allocator has was not believed ("" if none). */
    [[nodiscard]] const std::string &walk_problem() const { return walk_problem_; }

private:
    std::vector<Run> runs_;
    std::map<std::size_t, std::size_t> open_;  ///< offset -> index in runs_ of a run still going
    std::vector<std::size_t> done_;
    std::vector<std::size_t> heap_sizes_;
    HeapSnapshot last_;
    std::size_t undescribed_ = 0;
    std::string walk_problem_;
};

/** @brief The timeline as SVG: requests across, heap offsets up, the break as a line. */
std::string render_timeline(const Timeline &timeline, const PictureContext &context);

}  // namespace heaplab

#endif  // HEAPLAB_HEAP_SVG_H
