/*
 * mm.cpp — Lab 04: realloc in place, and giving memory back.
 *
 * This file starts from the Lab 03 allocator: blocks with a header and a footer (boundary
 * tags), a prologue and an epilogue, immediate coalescing, and an explicit doubly linked list
 * of the free blocks. What is new here is mm_realloc, which tries hard not to move a block:
 *
 *   1. shrink in place: keep the front of the block, cut the tail off as a free block;
 *   2. grow into the next block when that block is free and big enough;
 *   3. grow at the top of the heap: when the block is the last one, move the break up by just
 *      the bytes that are missing;
 *   4. only then, allocate elsewhere, copy the old payload and free the old block.
 *
 * and mm_free, which gives memory back to the system (a negative mem_sbrk) when the free
 * block at the top of the heap grows to TRIM_THRESHOLD bytes or more.
 *
 * The heap, with W = an 8-byte word:
 *
 *   mem_heap_lo()
 *   |   prologue                                                         epilogue
 *   v   +----+----+                                                      +----+
 *   | W |hdr |ftr | hdr | payload ...          | ftr | hdr | ... | ftr  | hdr |   the break
 *   +---+----+----+-----+----------------------+-----+-----+-----+------+----+
 *       16 / alloc       ^ payload: 16-byte aligned                       0 / alloc
 *
 * A block is a header word, the payload, and a footer word that repeats the header. Both hold
 * the block's size (a multiple of 16, so its low four bits are free) with bit 0 set when the
 * block is allocated. A free block keeps two pointers in its payload, to the previous and the
 * next free block:
 *
 *   allocated:  | size|1 | payload ...................... | size|1 |
 *   free:       | size|0 | prev free | next free | ...... | size|0 |
 *
 * so the smallest block is 8 + 16 + 8 = 32 bytes.
 */
#include "heaplab/memlib.h"
#include "heaplab/mm.h"

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>

namespace {

constexpr size_t ALIGNMENT = 16;
constexpr size_t WORD = 8;                       /* a header or a footer */
constexpr size_t OVERHEAD = 2 * WORD;            /* header + footer of every block */
constexpr size_t MIN_BLOCK = 32;                 /* header + two list pointers + footer */
constexpr size_t CHUNK = 4096;                   /* the least mm_malloc grows the heap by */
constexpr size_t MAX_REQUEST = PTRDIFF_MAX / 2;  /* larger requests cannot succeed */

/*
 * Trimming. When a free block at the top of the heap reaches TRIM_THRESHOLD bytes, mm_free
 * gives all of it but TRIM_KEEP bytes back with a negative mem_sbrk. 128 KiB is glibc's
 * default M_TRIM_THRESHOLD. Keeping TRIM_KEEP bytes at the top, and trimming only well above
 * it, means a program that frees and mallocs a block of about the same size in a loop does not
 * move the break back and forth on every call.
 */
constexpr size_t TRIM_THRESHOLD = 128 * 1024;
constexpr size_t TRIM_KEEP = 32 * 1024;
static_assert(TRIM_KEEP >= MIN_BLOCK && TRIM_KEEP % ALIGNMENT == 0 && TRIM_THRESHOLD > TRIM_KEEP);

/* The links a free block keeps in its payload. */
struct FreeLinks {
    char *prev;
    char *next;
};

char *heap_start = NULL; /* the first real block (just after the prologue) */
char *free_list = NULL;  /* the first free block, or NULL */

size_t align_up(size_t n) { return (n + ALIGNMENT - 1) & ~(ALIGNMENT - 1); }

/* Reading and writing the boundary tags. A block is named by the address of its header. */
size_t read_word(const char *at) { return *reinterpret_cast<const size_t *>(at); }
void write_word(char *at, size_t value) { *reinterpret_cast<size_t *>(at) = value; }

size_t size_of(const char *block) { return read_word(block) & ~(ALIGNMENT - 1); }
bool is_allocated(const char *block) { return (read_word(block) & 1) != 0; }
char *footer_of(char *block) { return block + size_of(block) - WORD; }
char *payload_of(char *block) { return block + WORD; }
char *block_of(void *payload) { return static_cast<char *>(payload) - WORD; }
char *next_block(char *block) { return block + size_of(block); }
/* The block before: its footer is the word just before our header. */
char *prev_block(char *block) { return block - (read_word(block - WORD) & ~(ALIGNMENT - 1)); }
FreeLinks *links_of(char *block) { return reinterpret_cast<FreeLinks *>(payload_of(block)); }

/* Writes the header and the footer of a block: both tags must always agree. */
void set_block(char *block, size_t size, bool allocated) {
    write_word(block, size | (allocated ? 1 : 0));
    write_word(block + size - WORD, size | (allocated ? 1 : 0));
}

/* The block size that holds a payload of `size` bytes: overhead added, rounded up to 16. */
size_t block_size_for(size_t size) {
    size_t need = align_up(size + OVERHEAD);
    return need < MIN_BLOCK ? MIN_BLOCK : need;
}

/* The explicit free list: a doubly linked list, newest block first (LIFO). */
void insert_free(char *block) {
    links_of(block)->prev = NULL;
    links_of(block)->next = free_list;
    if (free_list != NULL) links_of(free_list)->prev = block;
    free_list = block;
}

void remove_free(char *block) {
    FreeLinks *links = links_of(block);
    if (links->prev != NULL)
        links_of(links->prev)->next = links->next;
    else
        free_list = links->next;
    if (links->next != NULL) links_of(links->next)->prev = links->prev;
}

/*
 * Merges a free block (not yet in the list) with its free neighbours, puts the result in the
 * free list and returns it. The four cases: neither, only the next, only the previous, or both
 * neighbours free. The prologue and the epilogue are allocated, so there is always a neighbour.
 */
char *coalesce(char *block) {
    char *prev = prev_block(block);
    char *next = next_block(block);
    size_t size = size_of(block);
    if (!is_allocated(next)) {
        remove_free(next);
        size += size_of(next);
    }
    if (!is_allocated(prev)) {
        remove_free(prev);
        size += size_of(prev);
        block = prev;
    }
    set_block(block, size, false);
    insert_free(block);
    return block;
}

/* The epilogue: a header of size 0, allocated, just below the break. */
char *epilogue() { return static_cast<char *>(mem_heap_hi()) + 1 - WORD; }

/* Grows the heap by `bytes` (a multiple of 16): the new memory becomes one free block. */
char *extend_heap(size_t bytes) {
    void *old_break = mem_sbrk(static_cast<intptr_t>(bytes));
    if (old_break == reinterpret_cast<void *>(-1)) return NULL;
    /* The old epilogue becomes the header of the new block. */
    char *block = static_cast<char *>(old_break) - WORD;
    set_block(block, bytes, false);
    write_word(next_block(block), 1); /* the new epilogue */
    return coalesce(block);
}

/* First fit: the first free block big enough. */
char *find_fit(size_t need) {
    for (char *block = free_list; block != NULL; block = links_of(block)->next)
        if (size_of(block) >= need) return block;
    return NULL;
}

/* Allocates `need` bytes at the start of a free block, and frees the rest if it can be a block. */
void place(char *block, size_t need) {
    size_t have = size_of(block);
    remove_free(block);
    if (have - need >= MIN_BLOCK) {
        set_block(block, need, true);
        char *rest = next_block(block);
        set_block(rest, have - need, false);
        insert_free(rest);
    } else {
        set_block(block, have, true);
    }
}

void trim_top(char *block) {
    (void)block;  // TODO: if block is the last block and at least TRIM_THRESHOLD bytes, keep
}                 //       TRIM_KEEP bytes of it and give the rest back with a negative mem_sbrk

/*
 * Cuts an allocated block down to `need` bytes when the rest is big enough to be a block of
 * its own; the rest is freed (so it merges with a free block after it, and may be trimmed).
 */
void split_tail(char *block, size_t need) {
    (void)block;  // TODO: if the bytes past `need` can be a block of their own (MIN_BLOCK),
    (void)need;   //       shrink the block to `need` and free the tail
}

/* Grows an allocated block to `need` bytes into the next block, if that one is free and
 * big enough. Returns whether it did. */
bool grow_into_next(char *block, size_t need) {
    (void)block;   // TODO: if the next block is free and both together hold `need` bytes,
    (void)need;    //       take it out of the free list, merge, and split off what is left
    return false;
}

/* Grows the last block of the heap (or the block just below a free last block) to `need`
 * bytes by moving the break up by what is missing. Returns whether it did. */
bool grow_at_top(char *block, size_t need) {
    (void)block;   // TODO: if the block is the last one (perhaps followed by a small free
    (void)need;    //       block), move the break up by just what is missing
    return false;
}

}  // namespace

int mm_init(void) {
    /* Padding, prologue header and footer, epilogue: 4 words. The padding puts the first
     * payload (just after the epilogue's place, which becomes the first header) on 16. */
    char *start = static_cast<char *>(mem_sbrk(4 * WORD));
    if (start == reinterpret_cast<void *>(-1)) return -1;
    write_word(start, 0);                     /* padding */
    set_block(start + WORD, OVERHEAD, true);  /* prologue: an allocated block with no payload */
    write_word(start + 3 * WORD, 1);          /* epilogue */
    heap_start = start + 3 * WORD;
    free_list = NULL;
    return 0;
}

void *mm_malloc(size_t size) {
    if (size > MAX_REQUEST) {
        errno = ENOMEM;
        return NULL;
    }
    size_t need = block_size_for(size);
    char *block = find_fit(need);
    if (block == NULL) {
        block = extend_heap(need > CHUNK ? need : CHUNK);
        if (block == NULL) return NULL; /* mem_sbrk has set errno = ENOMEM */
    }
    place(block, need);
    return payload_of(block);
}

void mm_free(void *ptr) {
    if (ptr == NULL) return;
    char *block = block_of(ptr);
    set_block(block, size_of(block), false);
    block = coalesce(block);
    (void)block;  // TODO (step 5): give a large free block at the top back: trim_top(block)
}

void *mm_realloc(void *ptr, size_t size) {
    /* Lab 03's mm_realloc: correct, but it always moves the block. TODO: shrink in place
     * (split_tail), grow in place (grow_into_next, grow_at_top), and move only when neither
     * works. */
    if (ptr == NULL) return mm_malloc(size);
    if (size == 0) {
        mm_free(ptr);
        return NULL;
    }
    void *fresh = mm_malloc(size);
    if (fresh == NULL) return NULL;
    size_t old_size = size_of(block_of(ptr)) - OVERHEAD;
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
 * Checks the heap: every block aligned, inside the heap, at least MIN_BLOCK bytes, its header
 * equal to its footer, no two free blocks side by side; the epilogue exactly at the break; and
 * the free list holding exactly the free blocks, with consistent links. Returns 1 when all is
 * well, else prints the first problem and returns 0.
 */
int mm_checkheap(int verbose) {
    if (heap_start == NULL) return 1;
    char *end = epilogue();
    size_t free_blocks = 0;
    bool prev_free = false;
    char *block = heap_start;
    for (; block < end; block = next_block(block)) {
        size_t size = size_of(block);
        if (reinterpret_cast<uintptr_t>(payload_of(block)) % ALIGNMENT != 0) {
            fprintf(stderr, "mm_checkheap: the payload of block %p is not aligned\n", static_cast<void *>(block));
            return 0;
        }
        if (size < MIN_BLOCK || size > static_cast<size_t>(end - block)) {
            fprintf(stderr, "mm_checkheap: block %p has size %zu: below the minimum %zu or past the epilogue\n",
                    static_cast<void *>(block), size, MIN_BLOCK);
            return 0;
        }
        if (read_word(block) != read_word(footer_of(block))) {
            fprintf(stderr, "mm_checkheap: block %p: header %#zx but footer %#zx\n", static_cast<void *>(block),
                    read_word(block), read_word(footer_of(block)));
            return 0;
        }
        bool free_now = !is_allocated(block);
        if (free_now && prev_free) {
            fprintf(stderr, "mm_checkheap: blocks before %p and %p are both free: not coalesced\n",
                    static_cast<void *>(block), static_cast<void *>(block));
            return 0;
        }
        if (free_now) ++free_blocks;
        prev_free = free_now;
        if (verbose)
            printf("block %p: %zu bytes, %s\n", static_cast<void *>(block), size, free_now ? "free" : "allocated");
    }
    if (block != end || read_word(end) != 1) {
        fprintf(stderr, "mm_checkheap: the blocks do not end at the epilogue just below the break\n");
        return 0;
    }
    size_t listed = 0;
    char *prev = NULL;
    for (char *b = free_list; b != NULL; b = links_of(b)->next) {
        if (b < heap_start || b >= end || is_allocated(b)) {
            fprintf(stderr, "mm_checkheap: the free list holds %p, which is not a free block\n", static_cast<void *>(b));
            return 0;
        }
        if (links_of(b)->prev != prev) {
            fprintf(stderr, "mm_checkheap: free block %p: its prev link is wrong\n", static_cast<void *>(b));
            return 0;
        }
        if (++listed > free_blocks) break;
        prev = b;
    }
    if (listed != free_blocks) {
        fprintf(stderr, "mm_checkheap: %zu free blocks in the heap but %zu%s in the free list\n", free_blocks, listed,
                listed > free_blocks ? " or more" : "");
        return 0;
    }
    return 1;
}
