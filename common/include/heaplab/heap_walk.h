/**
 * @file heap_walk.h
 * @brief An optional hook through which an allocator describes its heap, block by block, so
 *        that `heaplab trace viz` can draw it exactly: free blocks, headers, footers.
 *
 * Without the hook, `heaplab trace viz` still knows every live payload (it made the requests),
 * but not what the other bytes of the heap are: a free block, a header, a footer and padding
 * all look the same from outside. An allocator that defines mm_heap_walk() tells it.
 *
 * The hook is never graded and never required: the replay, the tests and the grader do not
 * call it, and the plug-in loader looks it up only if it is there.
 *
 * A walk visits the blocks in address order, lowest first, from the first block to the last
 * one before the break. Bytes it does not visit — an alignment pad, a prologue or an epilogue —
 * are drawn as the allocator's overhead. For each block it reports:
 *
 * - `block`: the address of the block's first byte (its header, if it has one);
 * - `size`: the whole block in bytes, header and footer included;
 * - `state`: ::MM_BLOCK_FREE, ::MM_BLOCK_ALLOCATED, or ::MM_BLOCK_CACHED for a block the
 *   program freed but the allocator keeps aside marked in use (a thread cache, a quick list);
 * - `header_bytes`: bytes at the start of the block that are bookkeeping (the header);
 * - `footer_bytes`: bytes at the end of the block that are bookkeeping (a boundary tag), 0
 *   when the block has none.
 *
 * For an allocated block the payload starts `header_bytes` into the block.
 *
 * Example (an allocator with a one-word header, a one-word footer on every block, and its
 * blocks between a prologue and an epilogue):
 * ```
 * int mm_heap_walk(mm_block_visitor visit, void *context) {
 *     for (Block *b = next_block(prologue); block_size(b) > 0; b = next_block(b))
 *         visit(b, block_size(b), is_allocated(b) ? MM_BLOCK_ALLOCATED : MM_BLOCK_FREE,
 *               HEADER_SIZE, FOOTER_SIZE, context);
 *     return 0;
 * }
 * ```
 */
#ifndef HEAPLAB_HEAP_WALK_H
#define HEAPLAB_HEAP_WALK_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @brief What a block is, as mm_heap_walk() reports it. */
enum mm_block_state {
    MM_BLOCK_FREE = 0,       /**< free: the allocator may hand it out */
    MM_BLOCK_ALLOCATED = 1,  /**< in use by the program */
    MM_BLOCK_CACHED = 2,     /**< freed by the program, kept aside by the allocator (a cache) */
};

/** @brief The function mm_heap_walk() calls once per block (see the file's description). */
typedef void (*mm_block_visitor)(const void *block, size_t size, int state, size_t header_bytes,
                                 size_t footer_bytes, void *context);

/**
 * @brief Calls @p visit for every block of the heap, in address order, passing @p context on.
 * @return 0 when every block was visited; -1 when this allocator does not describe its heap
 *         (or found it inconsistent half-way): whatever was visited is then ignored.
 */
int mm_heap_walk(mm_block_visitor visit, void *context);

#ifdef __cplusplus
}
#endif

#endif /* HEAPLAB_HEAP_WALK_H */
