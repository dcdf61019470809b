/**
 * @file memlib_sim.cpp
 * @brief The simulated program break: memlib.h over one private reservation.
 *
 * How it works. mem_init() reserves kReserveBytes of address space with `PROT_NONE` (no memory
 * is committed for it). The break starts at the first byte; mem_sbrk() moves it and opens the
 * pages it crosses with `mprotect(PROT_READ | PROT_WRITE)`. So:
 *  - natively, any access beyond the last open page faults like an access past the real heap
 *    end (a SIGSEGV the tests can see);
 *  - under Valgrind, the reservation is marked no-access and every byte the break uncovers is
 *    marked undefined, so Memcheck reports a read of memory the allocator never wrote (fresh
 *    pages are zero natively, which hides that bug), and an access past the break to the byte.
 *
 * Shrinking closes the pages above the new break again and drops their contents
 * (`MADV_DONTNEED`), as the kernel does for the real break. mem_reset() does that for the whole
 * heap; the peak heap size since the last reset is the denominator of utilization.
 *
 * Not thread-safe by itself beyond one lock around the break: allocators in the threads lab
 * call mem_sbrk() from many threads, so every state change happens under `break_lock`.
 */
#include "heaplab/memlib.h"

#include <valgrind/memcheck.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <sys/mman.h>
#include <unistd.h>

namespace {

/// Address space reserved for the heap. Only what the break uncovers is ever committed, so
/// this costs nothing but virtual addresses; it bounds the largest heap any trace can build.
constexpr std::size_t kReserveBytes = std::size_t{4} << 30;

struct SimulatedBreak {
    char *start = nullptr;        ///< first byte of the reservation (the heap's first byte)
    char *brk = nullptr;          ///< current break: start <= brk <= start + cap
    char *open_end = nullptr;     ///< end of the pages opened read/write (page aligned, >= brk)
    std::size_t cap = kReserveBytes;
    std::size_t peak = 0;         ///< largest brk - start since the last reset
    std::size_t calls = 0;        ///< successful mem_sbrk calls since the last reset
    std::size_t page = 0;
};

SimulatedBreak heap;
std::mutex break_lock;

std::size_t round_up(std::size_t n, std::size_t to) { return (n + to - 1) / to * to; }

[[noreturn]] void fatal(const char *what) {
    // memlib is used inside allocators: report without allocating.
    const char prefix[] = "memlib: ";
    (void)!write(STDERR_FILENO, prefix, sizeof prefix - 1);
    std::size_t len = 0;
    while (what[len] != '\0') ++len;
    (void)!write(STDERR_FILENO, what, len);
    (void)!write(STDERR_FILENO, "\n", 1);
    std::abort();
}

void init_locked() {
    if (heap.start != nullptr) return;
    heap.page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    void *reservation = mmap(nullptr, kReserveBytes, PROT_NONE,
                             MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (reservation == MAP_FAILED) fatal("cannot reserve address space for the simulated heap");
    heap.start = static_cast<char *>(reservation);
    heap.brk = heap.start;
    heap.open_end = heap.start;
    heap.cap = kReserveBytes;
    heap.peak = 0;
    heap.calls = 0;
    VALGRIND_MAKE_MEM_NOACCESS(heap.start, kReserveBytes);
}

/// Closes the pages from @p from (page aligned) up to open_end and forgets their contents.
void close_pages_from(char *from) {
    if (from >= heap.open_end) return;
    std::size_t len = static_cast<std::size_t>(heap.open_end - from);
    madvise(from, len, MADV_DONTNEED);
    if (mprotect(from, len, PROT_NONE) != 0) fatal("mprotect failed while shrinking the heap");
    heap.open_end = from;
}

}  // namespace

extern "C" {

void mem_init(void) {
    std::lock_guard guard(break_lock);
    init_locked();
}

void mem_deinit(void) {
    std::lock_guard guard(break_lock);
    if (heap.start == nullptr) return;
    munmap(heap.start, kReserveBytes);
    heap = SimulatedBreak{};
}

void mem_reset(void) {
    std::lock_guard guard(break_lock);
    init_locked();
    // Only the pages ever opened can be anything but no-access: marking the whole 4 GiB again
    // costs seconds per reset under Memcheck with --track-origins.
    std::size_t opened = static_cast<std::size_t>(heap.open_end - heap.start);
    close_pages_from(heap.start);
    VALGRIND_MAKE_MEM_NOACCESS(heap.start, opened);
    heap.brk = heap.start;
    heap.peak = 0;
    heap.calls = 0;
}

void mem_set_cap(size_t max_bytes) {
    std::lock_guard guard(break_lock);
    init_locked();
    heap.cap = (max_bytes == 0 || max_bytes > kReserveBytes) ? kReserveBytes : max_bytes;
}

size_t mem_cap(void) {
    std::lock_guard guard(break_lock);
    init_locked();
    return heap.cap;
}

void *mem_sbrk(intptr_t incr) {
    std::lock_guard guard(break_lock);
    init_locked();
    char *old_brk = heap.brk;
    std::size_t size = static_cast<std::size_t>(old_brk - heap.start);

    if (incr < 0) {
        std::size_t shrink = static_cast<std::size_t>(-(incr + 1)) + 1;  // no overflow at INTPTR_MIN
        if (shrink > size) {
            errno = ENOMEM;
            return reinterpret_cast<void *>(-1);
        }
        heap.brk = old_brk - shrink;
        VALGRIND_MAKE_MEM_NOACCESS(heap.brk, shrink);
        close_pages_from(heap.start + round_up(size - shrink, heap.page));
    } else if (incr > 0) {
        std::size_t grow = static_cast<std::size_t>(incr);
        if (grow > heap.cap - size) {
            errno = ENOMEM;
            return reinterpret_cast<void *>(-1);
        }
        char *new_brk = old_brk + grow;
        char *new_open_end = heap.start + round_up(size + grow, heap.page);
        if (new_open_end > heap.open_end) {
            if (mprotect(heap.open_end, static_cast<std::size_t>(new_open_end - heap.open_end),
                         PROT_READ | PROT_WRITE) != 0) {
                errno = ENOMEM;
                return reinterpret_cast<void *>(-1);
            }
            heap.open_end = new_open_end;
        }
        heap.brk = new_brk;
        // Fresh memory holds garbage as far as the allocator may assume. Valgrind makes a page
        // accessible when mprotect opens it, so the rest of the last page is closed again:
        // the break, not the page, is where the heap ends.
        VALGRIND_MAKE_MEM_UNDEFINED(old_brk, grow);
        VALGRIND_MAKE_MEM_NOACCESS(new_brk, static_cast<std::size_t>(heap.open_end - new_brk));
        if (size + grow > heap.peak) heap.peak = size + grow;
    }
    ++heap.calls;
    return old_brk;
}

void *mem_heap_lo(void) {
    std::lock_guard guard(break_lock);
    init_locked();
    return heap.start;
}

void *mem_heap_hi(void) {
    std::lock_guard guard(break_lock);
    init_locked();
    return heap.brk - 1;
}

size_t mem_heapsize(void) {
    std::lock_guard guard(break_lock);
    init_locked();
    return static_cast<std::size_t>(heap.brk - heap.start);
}

size_t mem_pagesize(void) { return static_cast<std::size_t>(sysconf(_SC_PAGESIZE)); }

size_t mem_peak_heapsize(void) {
    std::lock_guard guard(break_lock);
    return heap.peak;
}

size_t mem_sbrk_calls(void) {
    std::lock_guard guard(break_lock);
    return heap.calls;
}

void mem_fork_prepare(void) { break_lock.lock(); }
void mem_fork_release(void) { break_lock.unlock(); }

int mem_is_simulated(void) { return 1; }

}  // extern "C"
