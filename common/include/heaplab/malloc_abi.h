/**
 * @file malloc_abi.h
 * @brief glibc's malloc ABI — every entry point a program or library may call, with glibc's
 *        rules — over any allocator, for a shared library preloaded into real programs.
 *
 * Used by libheaplab.so (the reference, reference_allocator/src/malloc_shim.cpp) and by every
 * mm.h allocator built for LD_PRELOAD (common/src/mm_preload.cpp: each lab stage, and a
 * student's `make preload`). A library writes, in one source file, a backend — a struct with
 *
 *     static void *allocate(size_t n);                         // malloc(n)
 *     static void deallocate(void *p);                         // free(p): p may be NULL
 *     static void *allocate_zeroed(size_t nmemb, size_t size); // calloc, overflow included
 *     static void *reallocate(void *p, size_t n);              // realloc
 *     static void *allocate_aligned(size_t align, size_t n);   // align: any power of two
 *     static size_t usable_size(void *p);                      // p may be NULL: 0
 *     static const char *name();                               // "reference", "01-bump"
 *     static void describe(heaplab::Line &line);               // "calls N peak_heap N ..."
 *
 * each failing with NULL and errno = ENOMEM — and then `HEAPLAB_MALLOC_ABI(Backend)` once.
 * That defines the exported functions, with these rules (each checked for the reference by
 * reference_allocator/tests/abi_test.cpp, and for the lab stages by their `preload-abi` test):
 * - malloc(0) is the backend's answer (a unique pointer for every allocator here).
 * - realloc(NULL, n) is malloc(n); realloc(p, 0) frees p and returns NULL (glibc's choice, and
 *   mm.h's): both are the backend's, as glibc's rules for them belong to its realloc.
 * - reallocarray detects `nmemb * size` overflow: NULL, ENOMEM, the block untouched.
 * - posix_memalign returns EINVAL (alignment not a power of two multiple of sizeof(void *))
 *   or ENOMEM, leaves *memptr untouched on failure, and leaves errno alone.
 * - aligned_alloc requires a power-of-two alignment (EINVAL otherwise, as glibc 2.38 does);
 *   memalign rounds a non-power-of-two alignment up, as glibc does (EINVAL beyond
 *   SIZE_MAX / 2 + 1); valloc aligns to a page; pvalloc also rounds the size up to whole pages
 *   (pvalloc(0) is one page).
 * - `HEAPLAB_STATS` set (and not "0") in the environment prints, at exit, one line with
 *   write(2): `heaplab stats: pid P calls N peak_heap N ... allocator NAME`. It goes to a
 *   duplicate of stderr taken at start-up, because many programs (coreutils' close_stdout)
 *   close stderr before exit.
 * - `heaplab_preload_name()` is exported too: a program (a test) asks with dlsym which
 *   allocator serves it.
 * The library exports only these names (common/src/malloc_abi.map, its version script).
 *
 * Header-only and inline on purpose: malloc and free are one call into the backend, which
 * the compiler inlines (the reference's fast paths stay fast).
 */
#ifndef HEAPLAB_MALLOC_ABI_H
#define HEAPLAB_MALLOC_ABI_H

#include "heaplab/write_line.h"

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fcntl.h>
#include <unistd.h>

/// glibc's rules for the malloc entry points, over a backend (see the file comment).
namespace heaplab::malloc_abi {

/// True when @p x is a power of two (0 is not).
inline bool is_pow2(std::size_t x) { return x != 0 && (x & (x - 1)) == 0; }

/// The system's page size (valloc's and pvalloc's alignment).
inline std::size_t page_size() { return static_cast<std::size_t>(sysconf(_SC_PAGESIZE)); }

/// The alignment every malloc block has anyway: asking for less needs no aligned allocation.
constexpr std::size_t kMallocAlign = alignof(std::max_align_t);

/// reallocarray(p, nmemb, size): realloc with the product checked for overflow (ENOMEM).
template <class Backend>
void *reallocarray(void *p, std::size_t nmemb, std::size_t size) {
    std::size_t n;
    if (__builtin_mul_overflow(nmemb, size, &n)) {
        errno = ENOMEM;
        return nullptr;
    }
    return Backend::reallocate(p, n);
}

/// posix_memalign(): EINVAL or ENOMEM returned, never in errno; *@p memptr set only on success.
template <class Backend>
int posix_memalign(void **memptr, std::size_t align, std::size_t n) {
    if (!is_pow2(align) || align % sizeof(void *) != 0) return EINVAL;
    int saved_errno = errno;
    void *p = Backend::allocate_aligned(align, n);
    errno = saved_errno;
    if (p == nullptr) return ENOMEM;
    *memptr = p;
    return 0;
}

/// aligned_alloc(): a power-of-two alignment, or EINVAL.
template <class Backend>
void *aligned_alloc(std::size_t align, std::size_t n) {
    if (!is_pow2(align)) {
        errno = EINVAL;
        return nullptr;
    }
    return Backend::allocate_aligned(align, n);
}

/// memalign(): a non-power-of-two alignment is rounded up, as glibc does.
template <class Backend>
void *memalign(std::size_t align, std::size_t n) {
    if (align > SIZE_MAX / 2 + 1) {  // no power of two at or above it fits in a size_t
        errno = EINVAL;
        return nullptr;
    }
    if (align <= kMallocAlign) return Backend::allocate(n);
    if (!is_pow2(align)) align = std::size_t{1} << (64 - __builtin_clzl(align));  // round up
    return Backend::allocate_aligned(align, n);
}

/// pvalloc(): page-aligned, the size rounded up to whole pages (pvalloc(0) is one page).
template <class Backend>
void *pvalloc(std::size_t n) {
    std::size_t page = page_size();
    if (n > SIZE_MAX - page) {
        errno = ENOMEM;
        return nullptr;
    }
    std::size_t rounded = n == 0 ? page : (n + page - 1) / page * page;
    return Backend::allocate_aligned(page, rounded);
}

/// Where the statistics go (-1: nowhere, HEAPLAB_STATS is not set).
inline int g_stats_fd = -1;

/// Opens the statistics stream when HEAPLAB_STATS asks for it: a library constructor calls it.
inline void open_stats_stream() {
    const char *env = getenv("HEAPLAB_STATS");
    if (env == nullptr || env[0] == '\0' || (env[0] == '0' && env[1] == '\0')) return;
    // A high number keeps out of the way of programs that dup2() onto low descriptors;
    // close-on-exec: every child process that preloads us takes its own.
    g_stats_fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 500);
    if (g_stats_fd < 0) g_stats_fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);  // low fd limit
    if (g_stats_fd < 0) g_stats_fd = STDERR_FILENO;
}

/// Prints the statistics line, if asked for. Runs late at exit: a destructor of the preloaded
/// library, which was the first constructed.
template <class Backend>
void print_stats() {
    if (g_stats_fd < 0) return;
    Line line;
    line.str("heaplab stats: pid ").num(static_cast<std::uint64_t>(getpid())).str(" ");
    Backend::describe(line);
    line.str(" allocator ").str(Backend::name()).write_to(g_stats_fd);
}

}  // namespace heaplab::malloc_abi

/// Exported from the library (everything else is compiled -fvisibility=hidden).
#define HEAPLAB_ABI_EXPORT __attribute__((visibility("default")))

/// Defines glibc's malloc ABI over @p Backend (see the file comment). Use once per library.
#define HEAPLAB_MALLOC_ABI(Backend)                                                                     \
    extern "C" {                                                                                        \
    HEAPLAB_ABI_EXPORT void *malloc(size_t n) { return Backend::allocate(n); }                          \
    HEAPLAB_ABI_EXPORT void free(void *p) { Backend::deallocate(p); }                                   \
    HEAPLAB_ABI_EXPORT void *calloc(size_t nmemb, size_t size) { return Backend::allocate_zeroed(nmemb, size); } \
    HEAPLAB_ABI_EXPORT void *realloc(void *p, size_t n) { return Backend::reallocate(p, n); }           \
    HEAPLAB_ABI_EXPORT void *reallocarray(void *p, size_t nmemb, size_t size) {                         \
        return heaplab::malloc_abi::reallocarray<Backend>(p, nmemb, size);                              \
    }                                                                                                   \
    HEAPLAB_ABI_EXPORT int posix_memalign(void **memptr, size_t align, size_t n) {                      \
        return heaplab::malloc_abi::posix_memalign<Backend>(memptr, align, n);                          \
    }                                                                                                   \
    HEAPLAB_ABI_EXPORT void *aligned_alloc(size_t align, size_t n) {                                    \
        return heaplab::malloc_abi::aligned_alloc<Backend>(align, n);                                   \
    }                                                                                                   \
    HEAPLAB_ABI_EXPORT void *memalign(size_t align, size_t n) {                                         \
        return heaplab::malloc_abi::memalign<Backend>(align, n);                                        \
    }                                                                                                   \
    HEAPLAB_ABI_EXPORT void *valloc(size_t n) {                                                         \
        return Backend::allocate_aligned(heaplab::malloc_abi::page_size(), n);                          \
    }                                                                                                   \
    HEAPLAB_ABI_EXPORT void *pvalloc(size_t n) { return heaplab::malloc_abi::pvalloc<Backend>(n); }     \
    HEAPLAB_ABI_EXPORT size_t malloc_usable_size(void *p) { return Backend::usable_size(p); }           \
    HEAPLAB_ABI_EXPORT const char *heaplab_preload_name(void) { return Backend::name(); }               \
    }                                                                                                   \
    __attribute__((constructor)) static void heaplab_open_stats_stream() {                              \
        heaplab::malloc_abi::open_stats_stream();                                                       \
    }                                                                                                   \
    __attribute__((destructor)) static void heaplab_print_stats_at_exit() {                             \
        heaplab::malloc_abi::print_stats<Backend>();                                                    \
    }

#endif  // HEAPLAB_MALLOC_ABI_H
