/**
 * @file malloc_shim.cpp
 * @brief The C ABI of glibc's malloc, for `LD_PRELOAD=libheaplab.so`: every entry point a
 *        program or library may call, with glibc's semantics, over the reference allocator on
 *        the real program break.
 *
 * Rules, each tested in tests/abi_test.cpp:
 * - malloc(0) returns a unique pointer (a minimum block), never NULL.
 * - Every failure returns NULL with errno = ENOMEM (requests above 64 TiB fail at once).
 * - calloc and reallocarray detect `nmemb * size` overflow: ENOMEM.
 * - realloc(NULL, n) is malloc(n); realloc(p, 0) frees p and returns NULL (glibc's choice,
 *   and mm.h's; C23 leaves it undefined, so portable programs do not rely on either).
 * - posix_memalign returns EINVAL (alignment not a power of two multiple of sizeof(void *))
 *   or ENOMEM, leaves *memptr untouched on failure, and leaves errno alone.
 * - aligned_alloc requires a power-of-two alignment (EINVAL otherwise, as glibc 2.38 does);
 *   memalign rounds a non-power-of-two alignment up, as glibc does; valloc aligns to a page;
 *   pvalloc also rounds the size up to whole pages (pvalloc(0) is one page).
 * - free never changes errno. A double free or a pointer we never returned is reported on
 *   stderr and aborts.
 * - `HEAPLAB_STATS=1` in the environment prints, at exit, the calls served, the peak heap
 *   and the bytes in use, with write(2).
 *
 * Only these symbols are exported (see libheaplab.map): the rest of the allocator, memlib
 * included, stays private, so a program that links its own memlib is not disturbed.
 */
#include "allocator.h"
#include "report.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

using namespace heaplab::ref;

namespace {

bool is_pow2(std::size_t x) { return x != 0 && (x & (x - 1)) == 0; }

std::size_t page() { return static_cast<std::size_t>(sysconf(_SC_PAGESIZE)); }

void *memalign_impl(std::size_t align, std::size_t n) {
    if (align > kMaxRequest) {
        errno = EINVAL;
        return nullptr;
    }
    if (align <= kAlign) return allocate(n);
    if (!is_pow2(align)) align = std::size_t{1} << (64 - __builtin_clzl(align));  // round up
    return allocate_aligned(align, n);
}

/// Where the statistics go: a duplicate of stderr taken at start-up, because many programs
/// close their standard streams before exit (coreutils' close_stdout closes stderr too).
/// Close-on-exec: every child process that preloads us takes its own.
int g_stats_fd = -1;

__attribute__((constructor)) void open_stats_stream() {
    const char *env = getenv("HEAPLAB_STATS");
    if (env == nullptr || env[0] == '\0' || (env[0] == '0' && env[1] == '\0')) return;
    // A high number keeps out of the way of programs that dup2() onto low descriptors.
    g_stats_fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 500);
    if (g_stats_fd < 0) g_stats_fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);  // low fd limit
    if (g_stats_fd < 0) g_stats_fd = STDERR_FILENO;
}

/// Prints the statistics when HEAPLAB_STATS is set (and not "0"). Runs late at exit: a
/// destructor of the preloaded library, which was the first to be constructed.
__attribute__((destructor)) void print_stats_at_exit() {
    if (g_stats_fd < 0) return;
    Stats s = stats();
    Line()
        .str("heaplab stats: pid ")
        .num(static_cast<std::uint64_t>(getpid()))
        .str(" calls ")
        .num(s.calls)
        .str(" peak_heap ")
        .num(s.peak_heap)
        .str(" heap ")
        .num(s.heap_size)
        .str(" in_use ")
        .num(s.in_use)
        .str(" cached ")
        .num(s.cached)
        .write_to(g_stats_fd);
}

}  // namespace

extern "C" {

// [shim]
HEAPLAB_EXPORT void *malloc(size_t n) { return allocate(n); }

HEAPLAB_EXPORT void free(void *p) { deallocate(p); }

HEAPLAB_EXPORT void *calloc(size_t nmemb, size_t size) { return allocate_zeroed(nmemb, size); }

HEAPLAB_EXPORT void *realloc(void *p, size_t n) { return reallocate(p, n); }
// [shim]

HEAPLAB_EXPORT void *reallocarray(void *p, size_t nmemb, size_t size) {
    size_t n;
    if (__builtin_mul_overflow(nmemb, size, &n)) {
        errno = ENOMEM;
        return nullptr;
    }
    return reallocate(p, n);
}

HEAPLAB_EXPORT int posix_memalign(void **memptr, size_t align, size_t n) {
    if (!is_pow2(align) || align % sizeof(void *) != 0) return EINVAL;
    int saved_errno = errno;
    void *p = allocate_aligned(align, n);
    errno = saved_errno;
    if (p == nullptr) return ENOMEM;
    *memptr = p;
    return 0;
}

HEAPLAB_EXPORT void *aligned_alloc(size_t align, size_t n) {
    if (!is_pow2(align)) {
        errno = EINVAL;
        return nullptr;
    }
    return allocate_aligned(align, n);
}

HEAPLAB_EXPORT void *memalign(size_t align, size_t n) { return memalign_impl(align, n); }

HEAPLAB_EXPORT void *valloc(size_t n) { return allocate_aligned(page(), n); }

HEAPLAB_EXPORT void *pvalloc(size_t n) {
    std::size_t pg = page();
    if (n > kMaxRequest) {
        errno = ENOMEM;
        return nullptr;
    }
    std::size_t rounded = n == 0 ? pg : round_up(n, pg);
    return allocate_aligned(pg, rounded);
}

HEAPLAB_EXPORT size_t malloc_usable_size(void *p) { return usable_size(p); }

/// Lets a test ask "is the reference allocator the one serving this process?" with dlsym.
HEAPLAB_EXPORT int heaplab_reference_active(void) { return 1; }

}  // extern "C"
