/**
 * @file mm.h
 * @brief The one interface every HeapLab allocator implements.
 *
 * Each lab skeleton, each stage's solution and the reference allocator provide these six
 * functions, over a heap they grow with mem_sbrk() from memlib.h. The names are the classic
 * malloc-lab names on purpose: an instructor's existing malloc-lab submissions and traces work
 * with HeapLab unchanged.
 *
 * The functions have C linkage so that a submission written in C (`mm.c`) links against the
 * same harness as one written in C++ (`mm.cpp`).
 */
#ifndef HEAPLAB_MM_H
#define HEAPLAB_MM_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief Prepares a fresh, empty heap.
 *
 * Called once before the first request, and again after every mem_reset() (each trace and
 * each test starts from an empty heap). It must forget everything it knew about the old heap.
 * @return 0 on success, -1 if the heap could not be set up (for example mem_sbrk() failed).
 */
int mm_init(void);

/**
 * @brief Allocates at least @p size bytes, aligned to 16 bytes.
 * @return the payload's address, or NULL with errno set to ENOMEM when the heap cannot grow.
 *         mm_malloc(0) returns either NULL or a unique pointer that may be passed to mm_free().
 */
void *mm_malloc(size_t size);

/** @brief Gives back a block from mm_malloc(), mm_calloc() or mm_realloc(); NULL is ignored. */
void mm_free(void *ptr);

/**
 * @brief Resizes a block, keeping the first min(old, new) bytes of its contents.
 *
 * mm_realloc(NULL, size) is mm_malloc(size). mm_realloc(ptr, 0) frees @p ptr and returns NULL.
 * On failure it returns NULL, sets errno to ENOMEM, and leaves the old block untouched.
 */
void *mm_realloc(void *ptr, size_t size);

/**
 * @brief Allocates @p nmemb * @p size zeroed bytes.
 * @return NULL with errno set to ENOMEM when the product overflows or the heap cannot grow.
 */
void *mm_calloc(size_t nmemb, size_t size);

/**
 * @brief The allocator's own consistency check of its heap.
 * @param verbose non-zero to print every block while checking.
 * @return non-zero when the heap is consistent, 0 when a problem was found (and reported).
 */
int mm_checkheap(int verbose);

#ifdef __cplusplus
}
#endif

#endif /* HEAPLAB_MM_H */
