/*
 * mm.cpp — Lab 01: a bump allocator.
 *
 * The simplest allocator that works: every mm_malloc moves the program break up by the size of
 * a new block and hands out that block. Nothing is ever reused, so mm_free does nothing. It is
 * wasteful, but it is correct, and it is the first step: later labs keep this file's shape and
 * make it reuse memory.
 *
 * Each block is a 16-byte header followed by the payload, rounded up to 16 bytes:
 *
 *     mem_heap_lo()                                                   the break
 *     |                                                               |
 *     v                                                               v
 *     +--------+------------------+--------+------------+--------+----+
 *     | header | payload ...  pad | header | payload    | header |    |
 *     +--------+------------------+--------+------------+--------+----+
 *              ^ 16-byte aligned           ^ aligned             ^ aligned
 *
 * The header holds the size the caller asked for: mm_realloc needs it to know how many bytes
 * to copy, and mm_checkheap needs it to walk from one block to the next.
 */
#include "heaplab/memlib.h"
#include "heaplab/mm.h"

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>

namespace {

constexpr size_t ALIGNMENT = 16;

/* The header in front of every payload. It is 16 bytes, not 8, so that the payload after it
 * starts on a 16-byte boundary whenever the header does. */
struct Header {
    size_t size;     /* bytes the caller asked for */
    size_t padding;  /* unused: keeps the payload aligned */
};
static_assert(sizeof(Header) == ALIGNMENT, "the header must keep payloads aligned");

/* The largest request we even try: anything bigger cannot fit in the address space, and
 * rejecting it early keeps the arithmetic below from overflowing. */
constexpr size_t MAX_REQUEST = PTRDIFF_MAX / 2;

/* Rounds n up to the next multiple of ALIGNMENT (a power of two). */
size_t align_up(size_t n) {
    return n;  // TODO: round n up to a multiple of ALIGNMENT
}

Header *header_of(void *payload) { return static_cast<Header *>(payload) - 1; }

}  // namespace

/* Nothing to set up: the heap starts empty, and every block is made on demand. */
int mm_init(void) { return 0; }

void *mm_malloc(size_t size) {
    (void)size;  // TODO: ask mem_sbrk for a header plus the aligned payload,
    return NULL; //       record the size in the header, return the payload
}

/* A bump allocator never reuses memory, so there is nothing to do. */
void mm_free(void *ptr) { (void)ptr; }

void *mm_realloc(void *ptr, size_t size) {
    (void)ptr;   // TODO: NULL means mm_malloc; size 0 means mm_free and return NULL;
    (void)size;  //       otherwise a new block, copy min(old, new) bytes, free the old one
    return NULL;
}

void *mm_calloc(size_t nmemb, size_t size) {
    (void)nmemb;  // TODO: refuse nmemb * size if it overflows (NULL, errno = ENOMEM),
    (void)size;   //       else mm_malloc it and zero it
    return NULL;
}

/*
 * Walks the heap block by block, from mem_heap_lo() to the break, and checks that every header
 * makes sense: each payload is aligned and each block ends inside the heap. Returns 1 when the
 * heap is consistent, 0 (after printing what is wrong) when it is not.
 */
int mm_checkheap(int verbose) {
    (void)verbose;  // TODO: walk the blocks from mem_heap_lo() to the break
    return 1;
}
