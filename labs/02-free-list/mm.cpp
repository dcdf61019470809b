/*
 * mm.cpp — Lab 02: an implicit free list.
 *
 * Lab 01's bump allocator never reused a byte. This one does: mm_free marks a block free, and
 * mm_malloc looks for a free block that is big enough before it grows the heap. To find one it
 * walks the heap from the first block to the break: each header holds its block's size, so the
 * next block starts `size` bytes further on. The sizes link the blocks into a list without a
 * single pointer: an *implicit* free list.
 *
 *     mem_heap_lo()                                                              the break
 *     |                                                                          |
 *     v                                                                          v
 *     +-----+--------+----------------+--------+----------+--------+-------------+
 *     | pad | 48 | 1 | payload        | 32 | 0 | (free)   | 64 | 1 | payload     |
 *     +-----+--------+----------------+--------+----------+--------+-------------+
 *           ^ heap_start              ^ heap_start + 48    ^ heap_start + 80
 *             (first block)             (next block)
 *
 * A block is an 8-byte header followed by its payload. Block sizes are multiples of 16, so:
 *   - every payload is 16-byte aligned: the 8-byte pad puts the first payload on a 16-byte
 *     boundary, and each block moves the next one by a multiple of 16;
 *   - the low four bits of every size are zero, and bit 0 of the header is free to say whether
 *     the block is allocated (1) or free (0).
 *
 * mm_malloc finds a free block by first fit or next fit (mm_set_fit_policy), splits off the
 * rest when it is big enough to be a block of its own, and grows the heap only when no free
 * block fits. Free blocks are never merged with their neighbours: that is Lab 03.
 */
#include "heaplab/heap_walk.h"
#include "heaplab/memlib.h"
#include "heaplab/mm.h"

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>

namespace {

constexpr size_t ALIGNMENT = 16;
constexpr size_t HEADER_SIZE = sizeof(size_t); /* one word: size and allocated bit */
constexpr size_t MIN_BLOCK_SIZE = ALIGNMENT;   /* a header and 8 bytes of payload */
constexpr size_t ALLOCATED = 1;                /* bit 0 of the header */

/* The largest request we even try: anything bigger cannot fit in the address space, and
 * rejecting it early keeps the arithmetic below from overflowing. */
constexpr size_t MAX_REQUEST = PTRDIFF_MAX / 2;

/* The placement policies; mm_set_fit_policy() switches between them. */
constexpr int FIRST_FIT = 0;
constexpr int NEXT_FIT = 1;

/* A block starts with its header; the payload follows it. A Block * always points at a header. */
struct Block {
    size_t header; /* the block's size in bytes (a multiple of 16) | ALLOCATED when in use */
};
static_assert(sizeof(Block) == HEADER_SIZE, "the header is one word");

/* Where the heap is. */
Block *heap_start;    /* the first block, just after the pad */
Block *rover;         /* next fit: the block where the previous search stopped */
size_t live_blocks;   /* blocks handed out by mm_malloc and not freed yet (mm_checkheap counts them) */
int fit_policy = FIRST_FIT;

/* Rounds n up to the next multiple of ALIGNMENT (a power of two). */
size_t align_up(size_t n) { return (n + ALIGNMENT - 1) & ~(ALIGNMENT - 1); }

/* The header's two fields. Only the allocated bit is masked off, so a corrupted header with bits
 * 1..3 set shows up as a size that is not a multiple of 16, which mm_checkheap reports. */
size_t block_size(const Block *block) { return block->header & ~ALLOCATED; }
bool is_allocated(const Block *block) { return (block->header & ALLOCATED) != 0; }
void set_header(Block *block, size_t size, bool allocated) { block->header = size | (allocated ? ALLOCATED : 0); }

void *payload_of(Block *block) { return reinterpret_cast<char *>(block) + HEADER_SIZE; }
Block *block_of(void *payload) { return reinterpret_cast<Block *>(static_cast<char *>(payload) - HEADER_SIZE); }
Block *next_block(Block *block) { return reinterpret_cast<Block *>(reinterpret_cast<char *>(block) + block_size(block)); }

/* One past the last block: the break. A walk over the heap stops here. */
Block *heap_end() { return reinterpret_cast<Block *>(static_cast<char *>(mem_heap_hi()) + 1); }

/* The size of the block that holds a payload of `size` bytes. */
size_t block_size_for(size_t size) {
    return ALIGNMENT + align_up(size);  // TODO: Lab 01's 16-byte header; the header is 8 bytes now
}

/* Grows the heap by one free block of `size` bytes (a multiple of 16) and returns it, or NULL
 * when the break cannot move (mem_sbrk has set errno to ENOMEM). */
Block *extend_heap(size_t size) {
    void *old_break = mem_sbrk(static_cast<intptr_t>(size));
    if (old_break == reinterpret_cast<void *>(-1)) return NULL;
    Block *block = static_cast<Block *>(old_break); /* the new block starts at the old break */
    set_header(block, size, false);
    return block;
}

/* First fit: the first free block of at least `size` bytes, from the start of the heap. */
Block *first_fit(size_t size) {
    (void)size;   // TODO: walk the blocks from heap_start to heap_end(); return the first
    return NULL;  //       free one of at least `size` bytes, or NULL if there is none
}

/* Next fit: the same search, but it starts at the rover (where the previous search stopped) and
 * wraps around to the start of the heap when it reaches the end. */
Block *next_fit(size_t size) {
    (void)size;   // TODO: search from the rover to the end, then from heap_start up to the
    return NULL;  //       rover; return the first free block of at least `size` bytes
}

Block *find_fit(size_t size) { return fit_policy == NEXT_FIT ? next_fit(size) : first_fit(size); }

/* Allocates the first `size` bytes of the free block `block`. When the rest is big enough to be
 * a block of its own, it becomes a new free block; otherwise the whole block is allocated. */
void place(Block *block, size_t size) {
    (void)size;  // TODO: split off the rest as a free block when it is at least MIN_BLOCK_SIZE
    set_header(block, block_size(block), true);
}

}  // namespace

/* Chooses how mm_malloc looks for a free block: 0 = first fit (the default), 1 = next fit.
 * It is not part of mm.h: the tests call it to try both policies. */
extern "C" void mm_set_fit_policy(int policy) { fit_policy = policy == NEXT_FIT ? NEXT_FIT : FIRST_FIT; }

/* Starts an empty heap: only the pad, which puts the first payload on a 16-byte boundary. */
int mm_init(void) {
    void *start = mem_sbrk(static_cast<intptr_t>(ALIGNMENT - HEADER_SIZE));
    if (start == reinterpret_cast<void *>(-1)) return -1;
    memset(start, 0, ALIGNMENT - HEADER_SIZE);
    heap_start = reinterpret_cast<Block *>(static_cast<char *>(start) + ALIGNMENT - HEADER_SIZE);
    rover = heap_start;
    live_blocks = 0;
    return 0;
}

/* A free block that fits if there is one, else a new block at the top of the heap. */
void *mm_malloc(size_t size) {
    if (size > MAX_REQUEST) {
        errno = ENOMEM;
        return NULL;
    }
    size_t needed = block_size_for(size);
    Block *block = find_fit(needed);
    if (block == NULL) block = extend_heap(needed);
    if (block == NULL) return NULL; /* mem_sbrk has set errno = ENOMEM */
    place(block, needed);
    rover = block; /* next fit resumes here */
    live_blocks++;
    return payload_of(block);
}

void mm_free(void *ptr) {
    (void)ptr;  // TODO: mark the block free (mm_free(NULL) does nothing), one live block fewer
}

/* Lab 01's realloc: a new block, the old contents copied, the old block freed. Lab 04 grows
 * blocks in place. */
void *mm_realloc(void *ptr, size_t size) {
    if (ptr == NULL) return mm_malloc(size);
    if (size == 0) {
        mm_free(ptr);
        return NULL;
    }
    void *fresh = mm_malloc(size);
    if (fresh == NULL) return NULL; /* the old block stays as it was */
    size_t old_size = block_size(block_of(ptr)) - HEADER_SIZE; /* the old payload, all of it */
    memcpy(fresh, ptr, old_size < size ? old_size : size);
    mm_free(ptr);
    return fresh;
}

void *mm_calloc(size_t nmemb, size_t size) {
    if (nmemb != 0 && size > SIZE_MAX / nmemb) { /* nmemb * size would overflow */
        errno = ENOMEM;
        return NULL;
    }
    void *payload = mm_malloc(nmemb * size);
    if (payload != NULL) memset(payload, 0, nmemb * size);
    return payload;
}

/*
 * Walks the heap block by block, from heap_start to the break, and checks every header before
 * trusting it: a size that is a multiple of 16 and at least MIN_BLOCK_SIZE, a block that ends
 * inside the heap, an aligned payload. Then it checks two facts the walk alone cannot see: the
 * number of allocated blocks is the number mm_malloc handed out and mm_free did not take back
 * (a wrong allocated bit changes it), and the next-fit rover points at a block. Returns 1 when
 * the heap is consistent, 0 (after printing what is wrong) when it is not.
 */
int mm_checkheap(int verbose) {
    (void)verbose;  // TODO: walk the blocks from heap_start to the break, checking each header
    return 1;       //       before you use it; then count the allocated blocks
}

/*
 * Optional, never graded: describes the heap to `heaplab trace viz`, which then draws your free
 * blocks and headers too, not just the live payloads (heaplab/heap_walk.h). Visits every block
 * from heap_start to the break, lowest first, with its one-word header; returns 0, or -1 when
 * there is nothing to describe.
 */
int mm_heap_walk(mm_block_visitor visit, void *context) {
    (void)visit;    // optional: call visit(block, size, MM_BLOCK_ALLOCATED or MM_BLOCK_FREE,
    (void)context;  //           HEADER_SIZE, 0, context) for every block, lowest first,
    return -1;      //           then return 0 (see heaplab/heap_walk.h)
}
