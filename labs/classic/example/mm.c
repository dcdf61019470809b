/*
 * An example classic hand-in, for trying the classic lab: a first-fit allocator with an
 * implicit free list and 8-byte alignment, written in C against the classic interface (no
 * mm_calloc, no mm_checkheap), as malloc-lab submissions were.
 */
#include <string.h>

#include "memlib.h"
#include "mm.h"

team_t team = {"example", "Ada Example", "ada@example.edu", "", ""};

#define ALIGNMENT 8
#define HEADER sizeof(size_t)
#define ALIGN(n) (((n) + (ALIGNMENT - 1)) & ~(size_t)(ALIGNMENT - 1))
#define SIZE(h) (*(size_t *)(h) & ~(size_t)1)
#define USED(h) (*(size_t *)(h) & 1)

/* The heap is a run of blocks; each starts with a header holding its size and a used bit. */
int mm_init(void) { return 0; }

void *mm_malloc(size_t size) {
    size_t need = ALIGN(size + HEADER);
    if (need < 2 * HEADER) need = 2 * HEADER;
    char *block = mem_heap_lo();
    char *end = (char *)mem_heap_hi() + 1;
    while (block < end) { /* first fit */
        if (!USED(block) && SIZE(block) >= need) {
            *(size_t *)block = SIZE(block) | 1;
            return block + HEADER;
        }
        block += SIZE(block);
    }
    block = mem_sbrk((intptr_t)need);
    if (block == (void *)-1) return NULL;
    *(size_t *)block = need | 1;
    return block + HEADER;
}

void mm_free(void *ptr) {
    if (ptr != NULL) *(size_t *)((char *)ptr - HEADER) &= ~(size_t)1;
}

void *mm_realloc(void *ptr, size_t size) {
    if (ptr == NULL) return mm_malloc(size);
    if (size == 0) {
        mm_free(ptr);
        return NULL;
    }
    size_t old = SIZE((char *)ptr - HEADER) - HEADER;
    if (size <= old) return ptr;
    void *fresh = mm_malloc(size);
    if (fresh != NULL) {
        memcpy(fresh, ptr, old);
        mm_free(ptr);
    }
    return fresh;
}
