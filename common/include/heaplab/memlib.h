/**
 * @file memlib.h
 * @brief The heap an allocator grows: a program break it moves with mem_sbrk().
 *
 * Two backends implement this header; a program links exactly one of them.
 *
 * - **Simulated break** (`heaplab_memlib_sim`, used by the tests, the replay and the grader):
 *   one large reservation mapped `PROT_NONE`; mem_sbrk() opens pages with `mprotect`, so a
 *   read or write past the last page of the break faults exactly as it would past the real heap
 *   end. The heap can be reset between tests, capped so that mem_sbrk() fails with ENOMEM on
 *   purpose, and measured: mem_peak_heapsize() is the denominator of utilization. Under
 *   Valgrind the whole reservation is marked no-access and every newly grown range undefined,
 *   so reading a header the allocator never wrote is reported at its line, and so is any access
 *   past the break, to the byte.
 * - **Real break** (`heaplab_memlib_real`, used when an allocator is preloaded into real
 *   programs): sbrk() itself under a lock, because glibc's sbrk() is not thread-safe.
 *
 * Every function has C linkage, so submissions written in C use the same library.
 */
#ifndef HEAPLAB_MEMLIB_H
#define HEAPLAB_MEMLIB_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief Moves the break by @p incr bytes, like sbrk(2).
 *
 * A positive increment grows the heap, a negative one shrinks it (giving memory back), zero
 * asks where the break is.
 * @return the old break, which is the start of the new memory when growing; or `(void *)-1`
 *         with errno set to ENOMEM when the heap cannot grow that far or would shrink below its
 *         start. A failed call changes nothing.
 */
void *mem_sbrk(intptr_t incr);

/** @brief The first byte of the heap. */
void *mem_heap_lo(void);

/** @brief The last byte of the heap: mem_heap_lo() + mem_heapsize() - 1. */
void *mem_heap_hi(void);

/** @brief Bytes between the start of the heap and the break. */
size_t mem_heapsize(void);

/** @brief The system's page size. */
size_t mem_pagesize(void);

/**
 * @name Control of the heap, for harnesses (tests, replay, grader)
 * Allocators do not call these.
 * @{
 */

/** @brief Sets the heap up; called by the first mem_sbrk() if nobody called it before. */
void mem_init(void);

/** @brief Releases the heap (simulated break: unmaps the reservation). */
void mem_deinit(void);

/**
 * @brief Empties the heap: the break goes back to mem_heap_lo() and every page is closed
 *        again. Call mm_init() afterwards. Also clears the peak and the call count.
 *
 * Simulated break only; the real break cannot be reset (the call does nothing there).
 */
void mem_reset(void);

/**
 * @brief Caps the heap at @p max_bytes: a mem_sbrk() that would grow past it fails with ENOMEM.
 *        0 restores the default cap (the whole reservation). Simulated break only.
 */
void mem_set_cap(size_t max_bytes);

/** @brief The current cap in bytes. */
size_t mem_cap(void);

/** @brief The largest heap size since the last mem_reset(). */
size_t mem_peak_heapsize(void);

/** @brief How many mem_sbrk() calls succeeded since the last mem_reset(). */
size_t mem_sbrk_calls(void);

/**
 * @brief Fork safety: takes the break lock before fork() (call from a `pthread_atfork`
 *        prepare handler, after the allocator's own locks), so the child never inherits it
 *        held by a thread that does not exist there.
 */
void mem_fork_prepare(void);

/** @brief Releases the break lock after fork(), in the parent and in the child alike. */
void mem_fork_release(void);

/** @brief Non-zero when this program links the simulated break, 0 for the real one. */
int mem_is_simulated(void);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* HEAPLAB_MEMLIB_H */
