/**
 * @file memlib_real.cpp
 * @brief The real program break: memlib.h over sbrk(2), for allocators preloaded into programs.
 *
 * Three things make this more than a call to sbrk():
 *  - **A lock.** glibc's sbrk() reads and writes a global without any lock, so two threads
 *    growing the heap at once can both get the same memory. Every call here holds
 *    `break_lock`, a plain pthread mutex (statically initialised: it must work before any
 *    constructor has run, because malloc is called that early).
 *  - **A foreign brk user.** Something else in the process (another allocator, a library
 *    calling sbrk() directly) may move the break behind our back. Our heap is only the range
 *    we were given, [heap_start, heap_end): before every change we check that the break is
 *    still where we left it. If it is not, growing would hand out memory that is not adjacent
 *    to our heap, and shrinking would give away somebody else's memory, so the call fails with
 *    ENOMEM and the heap bounds stay as they were. (An allocator that can live with a
 *    non-contiguous heap falls back to mmap, as the reference allocator does.)
 *  - **brk failure.** sbrk() fails when the data segment limit or the address space runs out;
 *    the failure is passed on as `(void *)-1` with errno = ENOMEM, and nothing changes.
 */
#include "heaplab/memlib.h"

#include <cerrno>
#include <cstdint>
#include <pthread.h>
#include <unistd.h>

namespace {

pthread_mutex_t break_lock = PTHREAD_MUTEX_INITIALIZER;
char *heap_start = nullptr;  ///< the break when the heap was first used
char *heap_end = nullptr;    ///< where our heap ends: the break as we last left it
std::size_t peak = 0;
std::size_t calls = 0;

struct Locked {
    Locked() { pthread_mutex_lock(&break_lock); }
    ~Locked() { pthread_mutex_unlock(&break_lock); }
    Locked(const Locked &) = delete;
    Locked &operator=(const Locked &) = delete;
};

void init_locked() {
    if (heap_start != nullptr) return;
    // The heap starts 16-byte aligned, as the simulated one does: every lab allocator lays its
    // blocks out from mem_heap_lo() and counts on it. The kernel's initial break usually is
    // aligned; when it is not, the few bytes below the next boundary are skipped.
    char *start = static_cast<char *>(sbrk(0));
    std::size_t pad = (16 - reinterpret_cast<std::uintptr_t>(start) % 16) % 16;
    if (pad != 0 && sbrk(static_cast<intptr_t>(pad)) != reinterpret_cast<void *>(-1)) start += pad;
    heap_start = start;
    heap_end = heap_start;
}

void *fail_with_enomem() {
    errno = ENOMEM;
    return reinterpret_cast<void *>(-1);
}

}  // namespace

extern "C" {

void mem_init(void) {
    Locked guard;
    init_locked();
}

void mem_deinit(void) {}
void mem_reset(void) {}
void mem_set_cap(size_t) {}
size_t mem_cap(void) { return SIZE_MAX; }

void *mem_sbrk(intptr_t incr) {
    Locked guard;
    init_locked();
    if (incr == 0) return heap_end;
    if (sbrk(0) != heap_end) return fail_with_enomem();  // a foreign brk user moved it
    std::size_t size = static_cast<std::size_t>(heap_end - heap_start);
    if (incr < 0 && static_cast<std::size_t>(-(incr + 1)) + 1 > size) return fail_with_enomem();
    void *old_break = sbrk(incr);
    if (old_break == reinterpret_cast<void *>(-1)) return fail_with_enomem();
    heap_end = static_cast<char *>(old_break) + incr;
    size = static_cast<std::size_t>(heap_end - heap_start);
    if (size > peak) peak = size;
    ++calls;
    return old_break;
}

void *mem_heap_lo(void) {
    Locked guard;
    init_locked();
    return heap_start;
}

void *mem_heap_hi(void) {
    Locked guard;
    init_locked();
    return heap_end - 1;
}

size_t mem_heapsize(void) {
    Locked guard;
    init_locked();
    return static_cast<std::size_t>(heap_end - heap_start);
}

size_t mem_pagesize(void) { return static_cast<std::size_t>(sysconf(_SC_PAGESIZE)); }

size_t mem_peak_heapsize(void) {
    Locked guard;
    return peak;
}

size_t mem_sbrk_calls(void) {
    Locked guard;
    return calls;
}

void mem_fork_prepare(void) { pthread_mutex_lock(&break_lock); }
void mem_fork_release(void) { pthread_mutex_unlock(&break_lock); }

int mem_is_simulated(void) { return 0; }

}  // extern "C"
