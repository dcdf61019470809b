/**
 * @file report.h
 * @brief Diagnostics that never allocate: the reference's names for heaplab/write_line.h
 *        (a line assembled on the stack and written with write(2); report-and-abort for
 *        heap misuse), shared with every other preloadable allocator of the kit.
 */
#ifndef HEAPLAB_REF_REPORT_H
#define HEAPLAB_REF_REPORT_H

#include "heaplab/write_line.h"

namespace heaplab::ref {

using heaplab::fatal_pointer;
using heaplab::Line;

}  // namespace heaplab::ref

#endif  // HEAPLAB_REF_REPORT_H
