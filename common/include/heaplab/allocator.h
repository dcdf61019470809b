/**
 * @file heaplab/allocator.h
 * @brief An allocator as the harness sees it: the six mm.h functions behind one name.
 *
 * Every allocator defines the same C names (mm_malloc, ...), so two of them cannot be linked
 * into one program. The `heaplab` command therefore loads each one as a plug-in: a shared
 * object built from the allocator's sources (`mm_NAME.so`, see `heaplab_add_allocator()` in
 * CMake) opened with `dlopen(RTLD_LOCAL)`, whose mem_sbrk() calls land in the one simulated
 * break of the process. glibc's malloc is built in under the name `libc`.
 */
#ifndef HEAPLAB_ALLOCATOR_H
#define HEAPLAB_ALLOCATOR_H

#include "heaplab/heap_walk.h"

#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

/**
 * @brief Everything HeapLab's C++ code defines: the trace format, the replay, the allocator
 *        plug-ins and the grader. The labs' own code is C-style and outside it (mm.h, memlib.h).
 */
namespace heaplab {

/** @brief The mm.h functions of one allocator, plus what the harness needs to measure it. */
struct Allocator {
    std::string name;    ///< e.g. "libc", "reference", "01-bump"
    std::string origin;  ///< "built in" or the plug-in's path
    /// mm_init(): called on an empty heap before every trace (returns 0, or -1 on failure)
    int (*init)() = nullptr;
    /// mm_malloc(); every replayed `a` request goes here
    void *(*malloc)(std::size_t) = nullptr;
    /// mm_free(); every replayed `f` request goes here
    void (*free)(void *) = nullptr;
    /// mm_realloc(); every replayed `r` request goes here
    void *(*realloc)(void *, std::size_t) = nullptr;
    /// may be null for classic submissions; the replay then uses malloc + memset
    void *(*calloc)(std::size_t, std::size_t) = nullptr;
    /// may be null; the replay never calls it, tests do
    int (*checkheap)(int) = nullptr;
    /// may be null: the optional mm_heap_walk() hook (heap_walk.h), for heap pictures only
    int (*heap_walk)(mm_block_visitor, void *) = nullptr;
    /// true when it grows its heap with mem_sbrk (every allocator but libc): then the replay
    /// checks that payloads lie inside the heap and measures the heap with memlib
    bool uses_memlib = true;
    /// for an allocator that does not use memlib: bytes it holds from the system right now
    std::size_t (*heap_bytes)() = nullptr;
    /// frees whatever the allocator needs to forget between traces (libc: nothing)
    void (*reset)() = nullptr;
};

/** @brief glibc's malloc behind the mm.h interface (heap size from mallinfo2()). */
const Allocator &libc_allocator();

/** @brief Thrown when an allocator cannot be found or loaded; what() says why. */
class AllocatorError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/**
 * @brief Finds an allocator by name: `libc`, the name of a built plug-in (`reference`,
 *        `01-bump`, ...), or a path to a shared object that defines the mm.h functions.
 * @throws AllocatorError naming what was tried.
 */
std::shared_ptr<const Allocator> load_allocator(const std::string &name_or_path);

/** @brief The names of every allocator this build has: `libc` first, then the plug-ins. */
std::vector<std::string> available_allocators();

}  // namespace heaplab

#endif  // HEAPLAB_ALLOCATOR_H
