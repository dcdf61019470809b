/**
 * @file mm_preload.cpp
 * @brief Any mm.h allocator — a lab stage's solution, a student's mm.cpp — as glibc's malloc,
 *        for `LD_PRELOAD` into real programs, on the real program break.
 *
 * Linked with the allocator's mm.cpp and memlib's real break (memlib_real.cpp) into one shared
 * library: `heaplab_add_preload()` in cmake/HeapLabLabs.cmake builds
 * build/lib/heaplab/preload/libmm_NN-name.so for every stage, and `make preload` in a lab
 * folder builds the student's own. glibc's rules for each entry point are heaplab/malloc_abi.h's;
 * this file is the backend, with three decisions:
 *
 * - **One lock.** Labs 01-04 are written for one thread; real programs (python3, anything
 *   using a thread pool) call malloc from several. So every call into mm_* holds one mutex.
 *   Fork handlers take it before fork() and release it after, so a child never inherits it
 *   held by a thread that does not exist there. A stage that is thread-safe itself, with fork
 *   handlers of its own (05: `thread_safe = true` in lab.toml), must be built with
 *   HEAPLAB_PRELOAD_LOCKED=0: no lock here. (With both, the stage's prepare handler, registered
 *   later, runs first and takes its locks before ours: the reverse of the order malloc takes
 *   them, a deadlock waiting for a fork.)
 * - **Lazy mm_init.** The first malloc of the process calls mm_init(), once (pthread_once:
 *   works before any constructor has run, costs one load afterwards). If it fails, every
 *   allocation fails with ENOMEM.
 * - **A 16-byte prefix on every block.** mm.h has no aligned allocation and no way to ask how
 *   large a block is, and every stage lays its blocks out differently (01 records the size
 *   asked for, 02-04 a block size with flag bits). So each request asks mm_malloc for 16 bytes
 *   more, and those first 16 bytes say what free, realloc and malloc_usable_size need:
 *
 *       raw (from mm_malloc)                p (what the program gets, 16-byte aligned)
 *       v                                   v
 *       | (alignment slack) | size | offset tag | payload: size bytes ...
 *
 *   `size` is the bytes asked for (malloc_usable_size returns it: every one is the program's);
 *   `offset` is p - raw, 16 for an ordinary block, up to the alignment for an aligned one (its
 *   raw block is over-allocated by the alignment, so that an aligned p with 16 bytes before it
 *   always fits); `tag` marks a live block, so that free() of a pointer we never returned, or
 *   of a block already freed, is reported and aborts instead of corrupting the student's heap.
 *   The alternatives were worse: a side table needs memory of its own outside the heap and a
 *   lookup on every free; a per-stage "block size" function would be one more thing each
 *   student writes. 16 bytes a block is what real programs pay; the trace replay and
 *   `heaplab journey` measure the allocator through mm.h, without the prefix.
 *   Freed blocks are also checked to lie inside the heap and be 16-byte aligned, and every
 *   block mm_malloc returns to be so: a student's bug is named where it happens.
 *
 * `HEAPLAB_STATS=1` prints at exit the calls served, the peak heap and the heap now (memlib's
 * break), the bytes in use and their peak (from the prefixes), and the allocator's name: proof
 * that the lab, not glibc, served the program.
 */
#include "heaplab/malloc_abi.h"
#include "heaplab/memlib.h"
#include "heaplab/mm.h"

#include <atomic>
#include <cstring>
#include <pthread.h>

#ifndef HEAPLAB_PRELOAD_NAME
#define HEAPLAB_PRELOAD_NAME "mm.cpp"
#endif
#ifndef HEAPLAB_PRELOAD_LOCKED
#define HEAPLAB_PRELOAD_LOCKED 1
#endif

namespace {

using heaplab::fatal_pointer;

constexpr std::size_t kAlign = 16;
/// Larger requests fail at once (ENOMEM): no arithmetic below can overflow.
constexpr std::size_t kMaxRequest = SIZE_MAX / 4;
/// Larger alignments fail (ENOMEM): the offset is kept in 32 bits.
constexpr std::size_t kMaxAlign = std::size_t{1} << 30;
constexpr std::uint32_t kLiveTag = 0x6c69766bu;   // "kvil"
constexpr std::uint32_t kFreedTag = 0x65657266u;  // "free"

struct Prefix {
    std::size_t size;      ///< bytes the program asked for
    std::uint32_t offset;  ///< payload - raw block
    std::uint32_t tag;     ///< kLiveTag while the program holds the block
};
static_assert(sizeof(Prefix) == kAlign, "the prefix keeps payloads 16-byte aligned");

Prefix *prefix_of(void *p) { return static_cast<Prefix *>(p) - 1; }

// --- the lock, mm_init, the statistics --------------------------------------------------------

pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;

/// Holds the lock for one call into the allocator (nothing at all when it is thread-safe).
class Guard {
public:
    Guard() {
        if (HEAPLAB_PRELOAD_LOCKED) pthread_mutex_lock(&g_lock);
    }
    ~Guard() {
        if (HEAPLAB_PRELOAD_LOCKED) pthread_mutex_unlock(&g_lock);
    }
    Guard(const Guard &) = delete;
    Guard &operator=(const Guard &) = delete;
};

pthread_once_t g_init_once = PTHREAD_ONCE_INIT;
bool g_init_ok = false;

void init_once() { g_init_ok = mm_init() == 0; }

/// mm_init() before the first request; false when it failed (errno = ENOMEM then).
bool ready() {
    pthread_once(&g_init_once, init_once);
    if (!g_init_ok) errno = ENOMEM;
    return g_init_ok;
}

// Relaxed atomics: under the lock they cost what a plain add does, and without it (a
// thread-safe stage) they stay exact.
std::atomic<std::uint64_t> g_calls{0};
std::atomic<std::size_t> g_in_use{0};
std::atomic<std::size_t> g_peak_in_use{0};

void count_call() { g_calls.fetch_add(1, std::memory_order_relaxed); }

void count_live(std::size_t added, std::size_t removed) {
    std::size_t now = g_in_use.fetch_add(added - removed, std::memory_order_relaxed) + added - removed;
    std::size_t peak = g_peak_in_use.load(std::memory_order_relaxed);
    while (now > peak && !g_peak_in_use.compare_exchange_weak(peak, now, std::memory_order_relaxed)) {
    }
}

// The lock alone is enough: every mem_sbrk (and every other memlib call) is made under it, so
// while the forking thread holds it no thread is inside memlib. (Taking memlib's break lock here
// too would deadlock with a stage that takes it in fork handlers of its own, as 05 does.)
void prepare_fork() { pthread_mutex_lock(&g_lock); }
void release_after_fork() { pthread_mutex_unlock(&g_lock); }

__attribute__((constructor)) void register_fork_handlers() {
    if (HEAPLAB_PRELOAD_LOCKED) pthread_atfork(prepare_fork, release_after_fork, release_after_fork);
}

// --- blocks ------------------------------------------------------------------------------------

bool inside_heap(const void *p) {
    return p >= mem_heap_lo() && p <= mem_heap_hi();
}

/// The block mm_malloc (or mm_realloc, mm_calloc) returned, checked, with its prefix written.
void *hand_out(void *raw, std::size_t offset, std::size_t size, const char *from) {
    if (reinterpret_cast<std::uintptr_t>(raw) % kAlign != 0)
        fatal_pointer(from, "returned a block that is not 16-byte aligned", raw);
    // The last byte the program may use (for malloc(0), the prefix's last) is in the heap.
    if (!inside_heap(raw) || !inside_heap(static_cast<char *>(raw) + offset + size - 1))
        fatal_pointer(from, "returned a block that is not inside the heap [mem_heap_lo(), mem_heap_hi()]", raw);
    void *p = static_cast<char *>(raw) + offset;
    *prefix_of(p) = Prefix{size, static_cast<std::uint32_t>(offset), kLiveTag};
    return p;
}

/// The prefix of a block the program hands back, after checking that we handed it out.
Prefix *checked_prefix(void *p, const char *op) {
    if (reinterpret_cast<std::uintptr_t>(p) % kAlign != 0) fatal_pointer(op, "invalid pointer (misaligned)", p);
    if (!inside_heap(prefix_of(p)) || !inside_heap(static_cast<char *>(p) - 1))
        fatal_pointer(op, "invalid pointer (not inside the heap)", p);
    Prefix *prefix = prefix_of(p);
    if (prefix->tag == kFreedTag) fatal_pointer(op, "double free", p);
    if (prefix->tag != kLiveTag) fatal_pointer(op, "invalid pointer (not a block malloc returned)", p);
    return prefix;
}

void *raw_of(void *p, const Prefix *prefix) { return static_cast<char *>(p) - prefix->offset; }

void *fail_enomem() {
    errno = ENOMEM;
    return nullptr;
}

struct MmBackend {
    static void *allocate(std::size_t n) {
        if (n > kMaxRequest) return fail_enomem();
        Guard guard;
        if (!ready()) return nullptr;
        count_call();
        void *raw = mm_malloc(n + kAlign);
        if (raw == nullptr) return fail_enomem();
        count_live(n, 0);
        return hand_out(raw, kAlign, n, "mm_malloc");
    }

    static void deallocate(void *p) {
        if (p == nullptr) return;
        int saved_errno = errno;  // free() never changes errno; a trimming mem_sbrk might
        {
            Guard guard;
            count_call();
            Prefix *prefix = checked_prefix(p, "free()");
            count_live(0, prefix->size);
            prefix->tag = kFreedTag;
            mm_free(raw_of(p, prefix));
        }
        errno = saved_errno;
    }

    static void *allocate_zeroed(std::size_t nmemb, std::size_t size) {
        std::size_t n;
        if (__builtin_mul_overflow(nmemb, size, &n) || n > kMaxRequest) return fail_enomem();
        Guard guard;
        if (!ready()) return nullptr;
        count_call();
        void *raw = mm_calloc(1, n + kAlign);
        if (raw == nullptr) return fail_enomem();
        count_live(n, 0);
        return hand_out(raw, kAlign, n, "mm_calloc");
    }

    static void *reallocate(void *p, std::size_t n) {
        if (p == nullptr) return allocate(n);
        if (n == 0) {  // glibc's realloc(p, 0): frees p, returns NULL
            deallocate(p);
            return nullptr;
        }
        if (n > kMaxRequest) return fail_enomem();
        std::size_t old_size;
        {
            Guard guard;
            count_call();
            Prefix *prefix = checked_prefix(p, "realloc()");
            old_size = prefix->size;
            if (prefix->offset == kAlign) {
                // An ordinary block: the allocator's own realloc (in place, when the stage can).
                // The old prefix reads "freed" meanwhile, so a stale copy of it left behind when
                // the block moves is never taken for a live block.
                prefix->tag = kFreedTag;
                void *raw = mm_realloc(raw_of(p, prefix), n + kAlign);
                if (raw == nullptr) {
                    prefix->tag = kLiveTag;  // failed: the old block is the program's, unchanged
                    return fail_enomem();
                }
                count_live(n, old_size);
                return hand_out(raw, kAlign, n, "mm_realloc");
            }
        }
        // An aligned block: realloc keeps no alignment beyond malloc's, so a new ordinary block.
        void *fresh = allocate(n);
        if (fresh == nullptr) return nullptr;
        std::memcpy(fresh, p, old_size < n ? old_size : n);
        deallocate(p);
        return fresh;
    }

    static void *allocate_aligned(std::size_t align, std::size_t n) {
        if (align <= kAlign) return allocate(n);
        if (n > kMaxRequest || align > kMaxAlign) return fail_enomem();
        Guard guard;
        if (!ready()) return nullptr;
        count_call();
        // raw is 16-byte aligned, so the first aligned address at least 16 bytes into it is at
        // most `align` bytes in, and n bytes from there end inside n + align.
        void *raw = mm_malloc(n + align);
        if (raw == nullptr) return fail_enomem();
        std::uintptr_t at = reinterpret_cast<std::uintptr_t>(raw);
        std::uintptr_t payload = (at + kAlign + align - 1) & ~(static_cast<std::uintptr_t>(align) - 1);
        count_live(n, 0);
        return hand_out(raw, payload - at, n, "mm_malloc");
    }

    static std::size_t usable_size(void *p) {
        if (p == nullptr) return 0;
        Guard guard;
        return checked_prefix(p, "malloc_usable_size()")->size;
    }

    static const char *name() { return HEAPLAB_PRELOAD_NAME; }

    static void describe(heaplab::Line &line) {
        line.str("calls ")
            .num(g_calls.load(std::memory_order_relaxed))
            .str(" peak_heap ")
            .num(mem_peak_heapsize())
            .str(" heap ")
            .num(mem_heapsize())
            .str(" in_use ")
            .num(g_in_use.load(std::memory_order_relaxed))
            .str(" peak_in_use ")
            .num(g_peak_in_use.load(std::memory_order_relaxed));
    }
};

}  // namespace

HEAPLAB_MALLOC_ABI(MmBackend)
