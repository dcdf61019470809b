/*
 * mm.cpp — Lab 05: the allocator under many threads.
 *
 * This file starts from the Lab 04 allocator: boundary tags, an explicit free list in address
 * order, immediate coalescing, realloc in place, trimming. Everything that allocator does is
 * still here and still right — for one thread. What is new is that many threads call it at once:
 *
 *   1. one lock: a pthread mutex, `heap_lock`, held by every entry point while it reads or
 *      writes the heap or the free list — including around mem_sbrk, because growing the heap
 *      reads the last block before the break moves and writes a new one after;
 *   2. per-thread caches: each thread keeps up to CACHE_LIMIT freed blocks of each small size
 *      (CACHE_MAX_BLOCK bytes or less) and hands them out again itself, without the lock, so
 *      threads that allocate and free small blocks rarely wait for each other; a full cache
 *      gives half a size back to the heap under the lock, and an exiting thread all of it;
 *   3. fork: handlers registered with pthread_atfork take the lock before fork() and release it
 *      after, in the parent and in the child, so the child never starts with a lock held by a
 *      thread that does not exist in it.
 *
 *     thread 1            thread 2            thread 3
 *   +-----------+       +-----------+       +-----------+
 *   | cache     |       | cache     |       | cache     |    thread_local: no lock
 *   | 32: o-o   |       | 32:       |       | 32: o     |    (a stack per size, linked
 *   | 48: o     |       | 48: o-o-o |       | 48:       |     through the blocks' payloads)
 *   +-----+-----+       +-----+-----+       +-----+-----+
 *         | miss, full bin, large block, exit     |
 *         v                   v                   v
 *   +---------------------------------------------------------+
 *   | heap_lock | the heap and its free list (Lab 04), mem_sbrk |
 *   +---------------------------------------------------------+
 *
 * A cached block is still marked allocated in the heap: no neighbour coalesces with it, and no
 * other thread can find it. To the program it is free; to the heap it is in use.
 */
#include "heaplab/heap_walk.h"
#include "heaplab/memlib.h"
#include "heaplab/mm.h"

#include <pthread.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>

namespace {

constexpr size_t ALIGNMENT = 16;
constexpr size_t WORD = sizeof(size_t);           /* 8: a header, a footer, a pointer */
constexpr size_t HEADER_SIZE = WORD;
constexpr size_t FOOTER_SIZE = WORD;
constexpr size_t MIN_BLOCK_SIZE = 4 * WORD;       /* 32: header, next, prev, footer */
constexpr size_t ALLOCATED = 1;                   /* bit 0 of a header or footer */

/* The largest request we even try: anything bigger cannot fit in the address space, and
 * rejecting it early keeps the arithmetic below from overflowing. */
constexpr size_t MAX_REQUEST = PTRDIFF_MAX / 2;

/* Trimming. When the free block at the top of the heap reaches TRIM_THRESHOLD bytes, mm_free
 * gives all of it but TRIM_KEEP bytes back with a negative mem_sbrk. 128 KiB is glibc's default
 * M_TRIM_THRESHOLD. Trimming only well above what is kept means that a program that frees and
 * allocates a block of about the same size in a loop does not move the break on every call. */
constexpr size_t TRIM_THRESHOLD = 128 * 1024;
constexpr size_t TRIM_KEEP = 32 * 1024;
static_assert(TRIM_KEEP >= 4 * sizeof(size_t) && TRIM_KEEP % 16 == 0 && TRIM_THRESHOLD > TRIM_KEEP,
              "what a trim keeps must be a block, and less than the threshold");

/* A block starts with its header. When it is free, its payload holds the free-list links; when
 * it sits in a thread's cache, `next` links it to the next cached block of its size. */
struct Block {
    size_t header;  /* the block's size in bytes (a multiple of 16) | ALLOCATED when in use */
    Block *next;    /* free or cached blocks only: the next block of the list, or NULL */
    Block *prev;    /* free blocks only: the previous free block, or NULL */
};
static_assert(sizeof(Block) + FOOTER_SIZE == MIN_BLOCK_SIZE, "a free block must fit in the smallest block");

/* Where the heap is. Shared by every thread: read and written only with heap_lock held. */
Block *prologue;     /* the prologue block: the walk over the heap starts after it */
Block *free_list;    /* the free block lowest in memory, or NULL; the list is in address order */
size_t live_blocks;  /* blocks marked allocated: handed out, or kept in a thread's cache */

/* Rounds n up to the next multiple of ALIGNMENT (a power of two). */
size_t align_up(size_t n) { return (n + ALIGNMENT - 1) & ~(ALIGNMENT - 1); }

/* The header's two fields (Lab 02). */
size_t block_size(const Block *block) { return block->header & ~ALLOCATED; }
bool is_allocated(const Block *block) { return (block->header & ALLOCATED) != 0; }

void *payload_of(Block *block) { return reinterpret_cast<char *>(block) + HEADER_SIZE; }
Block *block_of(void *payload) { return reinterpret_cast<Block *>(static_cast<char *>(payload) - HEADER_SIZE); }

/* The footer is the last word of the block; it repeats the header. */
size_t *footer_of(Block *block) {
    return reinterpret_cast<size_t *>(reinterpret_cast<char *>(block) + block_size(block) - FOOTER_SIZE);
}

/* Writes a block's header and its footer: both, always, so that they never disagree. */
void set_block(Block *block, size_t size, bool allocated) {
    block->header = size | (allocated ? ALLOCATED : 0);
    *footer_of(block) = block->header;
}

/* The neighbours in memory. The block before is found through its footer, the word just
 * before this block's header: that is what the footers are for. */
Block *next_block(Block *block) { return reinterpret_cast<Block *>(reinterpret_cast<char *>(block) + block_size(block)); }
size_t *footer_before(Block *block) { return reinterpret_cast<size_t *>(block) - 1; }
Block *prev_block(Block *block) {
    return reinterpret_cast<Block *>(reinterpret_cast<char *>(block) - (*footer_before(block) & ~ALLOCATED));
}

/* The epilogue: the header of size 0 in the last word of the heap. */
Block *epilogue() { return reinterpret_cast<Block *>(static_cast<char *>(mem_heap_hi()) + 1 - HEADER_SIZE); }

/* The size of the block that holds a payload of `size` bytes. */
size_t block_size_for(size_t size) {
    size_t needed = align_up(HEADER_SIZE + size + FOOTER_SIZE); /* header, payload, footer */
    return needed < MIN_BLOCK_SIZE ? MIN_BLOCK_SIZE : needed;
}

/* The explicit free list: a doubly linked list of the free blocks, in address order. */

/* Links a free block into the list, between the free blocks below and above it in memory.
 * Keeping the list in address order costs a walk here, but first fit on it then takes the
 * lowest block that fits, which packs the bottom of the heap and leaves the large free space at
 * the top (the handout compares it with LIFO order). */
void insert_free(Block *block) {
    Block *prev = NULL;
    Block *next = free_list;
    while (next != NULL && next < block) { /* find the first free block above this one */
        prev = next;
        next = next->next;
    }
    block->prev = prev;
    block->next = next;
    if (prev != NULL) {
        prev->next = block;
    } else {
        free_list = block; /* the lowest free block */
    }
    if (next != NULL) next->prev = block;
}

/* Takes a block off the list: its neighbours in the list are linked to each other. */
void remove_free(Block *block) {
    if (block->prev != NULL) {
        block->prev->next = block->next;
    } else {
        free_list = block->next; /* it was the first */
    }
    if (block->next != NULL) block->next->prev = block->prev;
}

/*
 * Merges the free block `block` with its free neighbours, puts the result on the free list and
 * returns it. The block is not on the list yet; a free neighbour is, and must come off it.
 *
 *   1. prev allocated, next allocated:  [A][block][A]  -> nothing to merge
 *   2. prev allocated, next free:       [A][block][f]  -> block grows over next
 *   3. prev free, next allocated:       [f][block][A]  -> prev grows over block
 *   4. prev free, next free:            [f][block][f]  -> prev grows over block and next
 */
Block *coalesce(Block *block) {
    bool prev_allocated = (*footer_before(block) & ALLOCATED) != 0;
    Block *next = next_block(block);
    bool next_allocated = is_allocated(next);
    size_t size = block_size(block);

    if (!next_allocated) {           /* cases 2 and 4 */
        remove_free(next);
        size += block_size(next);
    }
    if (!prev_allocated) {           /* cases 3 and 4 */
        Block *prev = prev_block(block);
        remove_free(prev);
        size += block_size(prev);
        block = prev;
    }
    set_block(block, size, false);   /* header at the front, footer at the new end */
    insert_free(block);
    return block;
}

/* Makes a free block of at least `size` bytes (a multiple of 16) at the top of the heap and
 * returns it, on the free list; NULL when the break cannot move. When the last block is free,
 * the new space merges with it, so the heap grows only by what that block lacks. */
Block *extend_heap(size_t size) {
    size_t last_footer = *footer_before(epilogue());
    if ((last_footer & ALLOCATED) == 0) size -= last_footer; /* the free last block has the rest */
    void *old_break = mem_sbrk(static_cast<intptr_t>(size));
    if (old_break == reinterpret_cast<void *>(-1)) return NULL;
    /* The new block starts where the old epilogue was, and a new epilogue ends the heap. */
    Block *block = reinterpret_cast<Block *>(static_cast<char *>(old_break) - HEADER_SIZE);
    set_block(block, size, false);
    next_block(block)->header = 0 | ALLOCATED;
    return coalesce(block);
}

/* First fit on the free list: the first (so, in address order, the lowest) free block of at least
 * `size` bytes, or NULL. */
Block *find_fit(size_t size) {
    for (Block *block = free_list; block != NULL; block = block->next)
        if (block_size(block) >= size) return block;
    return NULL;
}

/* Allocates the first `size` bytes of the free block `block`, which comes off the free list.
 * A rest of at least MIN_BLOCK_SIZE becomes a free block of its own, on the list. */
void place(Block *block, size_t size) {
    remove_free(block);
    size_t rest = block_size(block) - size;
    if (rest >= MIN_BLOCK_SIZE) {
        set_block(block, size, true);
        Block *remainder = next_block(block);
        set_block(remainder, rest, false);
        insert_free(remainder); /* its next neighbour is allocated (the block was coalesced) */
    } else {
        set_block(block, block_size(block), true); /* too small to split: the caller gets it all */
    }
}

/*
 * Gives memory back: if `block`, a free block on the free list, is the last block of the heap
 * and at least TRIM_THRESHOLD bytes, shrinks it to TRIM_KEEP bytes and moves the break down by
 * the rest. Only the top can go: below a block in use, the break cannot move.
 */
void trim_top(Block *block) {
    if (next_block(block) != epilogue() || block_size(block) < TRIM_THRESHOLD) return;
    size_t release = block_size(block) - TRIM_KEEP;
    if (mem_sbrk(-static_cast<intptr_t>(release)) == reinterpret_cast<void *>(-1)) return;
    set_block(block, TRIM_KEEP, false);  /* still on the free list, in the same place: just smaller */
    next_block(block)->header = 0 | ALLOCATED; /* the new epilogue, just below the lowered break */
}

/*
 * Cuts an allocated block down to `size` bytes when the rest can be a block of its own
 * (MIN_BLOCK_SIZE); the rest becomes a free block, merged with a free block after it, and the
 * top of the heap is trimmed if it became large. A smaller rest stays inside the block.
 */
void split_tail(Block *block, size_t size) {
    size_t have = block_size(block);
    if (have - size < MIN_BLOCK_SIZE) return; /* too small to be a block: it stays in this one */
    set_block(block, size, true);
    Block *tail = next_block(block);
    set_block(tail, have - size, false);
    trim_top(coalesce(tail));
}

/* Grows an allocated block to `size` bytes into the next block, if that one is free and both
 * together are big enough; what is not needed is split off again. Returns whether it did. */
bool grow_into_next(Block *block, size_t size) {
    Block *next = next_block(block);
    if (is_allocated(next) || block_size(block) + block_size(next) < size) return false;
    remove_free(next);
    set_block(block, block_size(block) + block_size(next), true);
    split_tail(block, size);
    return true;
}

/* Grows the last block of the heap (or the block just below a free last block) to `size` bytes
 * by moving the break up by just what is missing. Returns whether it did. */
bool grow_at_top(Block *block, size_t size) {
    Block *next = next_block(block);
    size_t top_free = 0; /* a free last block after ours: too small on its own, but it counts */
    if (!is_allocated(next) && next_block(next) == epilogue()) top_free = block_size(next);
    if (reinterpret_cast<char *>(next) + top_free != reinterpret_cast<char *>(epilogue())) return false;
    size_t missing = size - block_size(block) - top_free;
    if (mem_sbrk(static_cast<intptr_t>(missing)) == reinterpret_cast<void *>(-1)) return false;
    if (top_free != 0) remove_free(next);
    set_block(block, size, true);             /* over the free last block and the new memory */
    next_block(block)->header = 0 | ALLOCATED; /* the new epilogue, in the last word below the break */
    return true;
}


/* Lab 04's mm_realloc, cases 1 to 3: changes the block's size where it is, if it can. */
bool resize_in_place(Block *block, size_t size) {
    if (size <= block_size(block)) { /* 1. shrink (or stay as it is, when the tail is too small) */
        split_tail(block, size);
        return true;
    }
    return grow_into_next(block, size) || grow_at_top(block, size); /* 2. and 3. */
}

/* Lab 04's mm_free: the block is free again, merged with its free neighbours, and the top of the
 * heap given back if it became large. */
void release_block(Block *block) {
    set_block(block, block_size(block), false);
    live_blocks--;
    trim_top(coalesce(block));
}

/* Lab 04's mm_init: the pad, the prologue and the epilogue of an empty heap. */
int init_heap() {
    char *start = static_cast<char *>(mem_sbrk(4 * WORD));
    if (start == reinterpret_cast<char *>(-1)) return -1;
    memset(start, 0, WORD);                                /* the pad */
    prologue = reinterpret_cast<Block *>(start + WORD);
    set_block(prologue, 2 * WORD, true);                   /* header and footer, no payload */
    next_block(prologue)->header = 0 | ALLOCATED;          /* the epilogue */
    free_list = NULL;
    live_blocks = 0;
    return 0;
}

/* ---- Step 1: one lock ------------------------------------------------------------------------
 *
 * Every function above reads and writes shared data: the free list, the headers and footers of
 * free blocks and of the neighbours it coalesces with, the epilogue, the break. Two threads in
 * them at once lose blocks or hand one block out twice (the handout draws such an interleaving).
 * So whoever calls them holds heap_lock. It is held around mem_sbrk too: extend_heap reads the
 * last block before the break moves and writes the new block after; a thread that slipped in
 * between could take or merge that last block.
 *
 * What needs no lock: the header of a block the calling thread owns (allocated and not yet
 * freed). Only its owner writes it, so mm_free and mm_realloc may read its size first.
 */
pthread_mutex_t heap_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- Step 2: per-thread caches ---------------------------------------------------------------
 *
 * Programs free and allocate small blocks of the same few sizes over and over. Each thread
 * keeps the small blocks it frees in a cache of its own — a stack per block size — and its next
 * mm_malloc of that size pops one: no lock, no search, no coalescing. The rules:
 *
 * - A cached block stays marked allocated in the heap (its header is not touched: other
 *   threads read headers when they coalesce). Only the cache's own thread uses its lists.
 * - The cache is bounded: CACHE_LIMIT blocks of each size. A free into a full list first gives
 *   half of it back to the heap, under the lock (one lock for CACHE_LIMIT / 2 blocks), so a
 *   thread that only frees (a consumer of another thread's blocks) does not hoard memory the
 *   others need.
 * - Any thread may free any block into its own cache: a block belongs to the heap, not to the
 *   thread that allocated it, so a block freed by another thread needs no message back.
 * - A thread that exits gives its cache back (flush_at_thread_exit, a pthread key destructor).
 * - mm_init starts a new heap: every cache still holds blocks of the old one. Rather than
 *   visit other threads' caches, mm_init bumps heap_generation, and a cache whose generation
 *   differs empties itself the next time its thread uses it (current_cache).
 *
 * The cache lives in thread_local storage, in the "initial-exec" model: one load relative to
 * the thread pointer, no call (the default model of a shared library calls __tls_get_addr).
 * It is small on purpose: a library loaded with dlopen (the grader's plug-in) gets its
 * initial-exec TLS from a reserve of a few hundred bytes.
 *
 * ([[maybe_unused]] below: until you call them, the compiler would warn that they are unused.)
 */
constexpr size_t CACHE_MAX_BLOCK = 256;  /* blocks of at most this size are cached */
constexpr size_t CACHE_CLASSES = (CACHE_MAX_BLOCK - MIN_BLOCK_SIZE) / ALIGNMENT + 1; /* 32, 48, ..., 256 */
constexpr unsigned CACHE_LIMIT = 16;     /* blocks per size in one thread's cache */

struct ThreadCache {
    Block *bins[CACHE_CLASSES];               /* a stack of cached blocks per size, linked by next */
    unsigned short counts[CACHE_CLASSES];     /* blocks on each stack, at most CACHE_LIMIT */
    unsigned generation;                      /* the heap_generation its blocks belong to */
    bool registered;                          /* on the list `caches`, emptied at thread exit */
    ThreadCache *next_cache;                  /* the next cache on that list */
};
static_assert(sizeof(ThreadCache) <= 192, "initial-exec TLS of a dlopen'ed library must stay small");

thread_local ThreadCache thread_cache __attribute__((tls_model("initial-exec")));

/* Shared, under heap_lock (heap_generation changes only in mm_init, which no other thread runs
 * at the same time: a thread reads it without the lock). */
unsigned heap_generation;    /* incremented by every mm_init: a cache of an older heap is stale */
ThreadCache *caches;         /* every registered cache of this heap (mm_checkheap, mm_heap_walk) */
pthread_key_t cache_key;     /* its destructor, flush_at_thread_exit, runs when a thread exits */

/* The index of a block size in a cache: 32 -> 0, 48 -> 1, ..., 256 -> 14. */
[[maybe_unused]] size_t class_of(size_t size) { return (size - MIN_BLOCK_SIZE) / ALIGNMENT; }

/* The calling thread's cache, emptied first if its blocks belong to an older heap (mm_init
 * ran since the thread last used it: those blocks are gone with that heap). A new thread's
 * cache is all zeros, generation 0, which no heap has: it starts empty the same way. */
ThreadCache *current_cache() {
    ThreadCache *cache = &thread_cache;
    if (cache->generation != heap_generation) {
        memset(cache, 0, sizeof *cache);
        cache->generation = heap_generation;
    }
    return cache;
}

/* Puts the calling thread's cache on the list `caches` and arms its exit destructor. */
[[maybe_unused]] void register_cache(ThreadCache *cache) {
    pthread_mutex_lock(&heap_lock);
    cache->next_cache = caches;
    caches = cache;
    cache->registered = true;
    pthread_mutex_unlock(&heap_lock);
    pthread_setspecific(cache_key, cache); /* a non-NULL value: the destructor will run */
}

/* Gives up to `count` blocks of size class `c` back to the heap, from the top of the stack.
 * The caller holds heap_lock. */
[[maybe_unused]] void flush_bin(ThreadCache *cache, size_t c, unsigned count) {
    // BEGIN SOLUTION
    Block *block = cache->bins[c];
    unsigned flushed = 0;
    while (block != NULL && flushed < count) {
        Block *next = block->next; /* read it first: release_block reuses the payload */
        release_block(block);
        block = next;
        flushed++;
    }
    cache->bins[c] = block;        /* what is left; the flushed blocks are the heap's again */
    cache->counts[c] -= flushed;
    // STUB
    // (void)cache;  // TODO (step 2): release_block up to `count` blocks from the top of bin c,
    // (void)c;      //       then make the bin start after them and lower its count
    // (void)count;
    // END SOLUTION
}

/* A block of exactly `size` bytes from the calling thread's cache, or NULL. No lock. */
[[maybe_unused]] Block *cache_pop(size_t size) {
    // BEGIN SOLUTION
    if (size > CACHE_MAX_BLOCK) return NULL;
    ThreadCache *cache = current_cache();
    size_t c = class_of(size);
    Block *block = cache->bins[c];
    if (block == NULL) return NULL;
    cache->bins[c] = block->next;
    cache->counts[c]--;
    return block;
    // STUB
    // (void)size;   // TODO (step 2): if size is small enough to be cached, pop the top block of
    // return NULL;  //       its bin in current_cache(); NULL when there is none
    // END SOLUTION
}

/* Keeps the allocated block `block` in the calling thread's cache, if it is small enough;
 * returns whether it did. Takes the lock only to register the cache or to flush a full bin. */
[[maybe_unused]] bool cache_push(Block *block) {
    // BEGIN SOLUTION
    size_t size = block_size(block); /* our block: no other thread writes its header */
    if (size > CACHE_MAX_BLOCK) return false;
    ThreadCache *cache = current_cache();
    if (!cache->registered) register_cache(cache);
    size_t c = class_of(size);
    if (cache->counts[c] == CACHE_LIMIT) { /* full: half of it goes back, in one visit */
        pthread_mutex_lock(&heap_lock);
        flush_bin(cache, c, CACHE_LIMIT / 2);
        pthread_mutex_unlock(&heap_lock);
    }
    block->next = cache->bins[c];
    cache->bins[c] = block;
    cache->counts[c]++;
    return true;
    // STUB
    // (void)block;   // TODO (step 2): push a small block on its bin in current_cache()
    // return false;  //       (register the cache first; flush half of a full bin under the lock)
    // END SOLUTION
}

/* The destructor of cache_key: a thread is exiting, and its cache goes back to the heap. */
[[maybe_unused]] void flush_at_thread_exit(void *value) {
    // BEGIN SOLUTION
    ThreadCache *cache = static_cast<ThreadCache *>(value);
    pthread_mutex_lock(&heap_lock);
    if (cache->registered && cache->generation == heap_generation) { /* else: an older heap's */
        for (size_t c = 0; c < CACHE_CLASSES; c++) flush_bin(cache, c, CACHE_LIMIT);
        ThreadCache **link = &caches;
        while (*link != NULL && *link != cache) link = &(*link)->next_cache;
        if (*link == cache) *link = cache->next_cache; /* off the list */
    }
    cache->registered = false;     /* a later free (another destructor) registers it again */
    pthread_mutex_unlock(&heap_lock);
    // STUB
    // (void)value;  // TODO (step 2): under the lock, flush every bin of this cache (a
    //               //       ThreadCache *) and take it off the list `caches`
    // END SOLUTION
}

/* ---- Step 3: fork ----------------------------------------------------------------------------
 *
 * fork() copies the whole address space but only the thread that called it. If another thread
 * held heap_lock at that moment, the child's copy of the lock is held by a thread that does not
 * exist there: the child's first mm_malloc waits forever. So before fork() the forking thread
 * takes every lock the allocator uses — heap_lock, then memlib's break lock — and after it
 * releases them, in the parent and in the child. (pthread_atfork runs these around every fork.)
 */
[[maybe_unused]] void prepare_fork() {
    // BEGIN SOLUTION
    pthread_mutex_lock(&heap_lock);
    mem_fork_prepare();
    // STUB
    // // TODO (step 3): take heap_lock, then memlib's break lock (mem_fork_prepare)
    // END SOLUTION
}

[[maybe_unused]] void after_fork_in_parent() {
    // BEGIN SOLUTION
    mem_fork_release();
    pthread_mutex_unlock(&heap_lock);
    // STUB
    // // TODO (step 3): release both, in the reverse order
    // END SOLUTION
}

/* In the child only the forking thread exists: the other threads' caches are gone with them.
 * Their blocks stay marked allocated, lost like a leak; the list keeps only this thread's cache. */
[[maybe_unused]] void after_fork_in_child() {
    // BEGIN SOLUTION
    ThreadCache *mine = &thread_cache;
    caches = NULL;
    if (mine->registered && mine->generation == heap_generation) {
        mine->next_cache = NULL;
        caches = mine;
    }
    mem_fork_release();
    pthread_mutex_unlock(&heap_lock);
    // STUB
    // // TODO (step 3): release both; keep only this thread's cache on the list `caches`
    // END SOLUTION
}

/* Once per process, from the first mm_init: the exit destructor and the fork handlers. */
pthread_once_t process_once = PTHREAD_ONCE_INIT;
void setup_process() {
    // BEGIN SOLUTION
    pthread_key_create(&cache_key, flush_at_thread_exit);
    pthread_atfork(prepare_fork, after_fork_in_parent, after_fork_in_child);
    // STUB
    // // TODO (step 2): pthread_key_create(&cache_key, flush_at_thread_exit)
    // // TODO (step 3): pthread_atfork(prepare_fork, after_fork_in_parent, after_fork_in_child)
    // END SOLUTION
}

}  // namespace

/* Starts an empty heap. Called when no other thread is inside the allocator (a test, a trace
 * replay, the first malloc of a program). */
int mm_init(void) {
    pthread_once(&process_once, setup_process);
    // BEGIN SOLUTION
    pthread_mutex_lock(&heap_lock);
    int result = init_heap();
    heap_generation++; /* every cache now holds blocks of the old heap: each empties itself */
    caches = NULL;
    pthread_mutex_unlock(&heap_lock);
    return result;
    // STUB
    // return init_heap(); // TODO (step 1): under the lock; (step 2): make every cache stale
    // END SOLUTION
}

/* A block from the thread's cache if it has one of this size; else, under the lock, a free
 * block that fits, else new space at the top of the heap. */
void *mm_malloc(size_t size) {
    if (size > MAX_REQUEST) {
        errno = ENOMEM;
        return NULL;
    }
    size_t needed = block_size_for(size);
    // BEGIN SOLUTION
    Block *block = cache_pop(needed);
    if (block != NULL) return payload_of(block); /* no lock needed */
    pthread_mutex_lock(&heap_lock);
    block = find_fit(needed);
    if (block == NULL) block = extend_heap(needed);
    if (block == NULL) {
        pthread_mutex_unlock(&heap_lock); /* every way out releases the lock */
        return NULL; /* mem_sbrk has set errno = ENOMEM */
    }
    place(block, needed);
    live_blocks++;
    pthread_mutex_unlock(&heap_lock);
    return payload_of(block);
    // STUB
    // /* Lab 04's mm_malloc. TODO (step 1): hold heap_lock while you use the heap (and let go of
    //  * it on every way out); (step 2): try cache_pop(needed) first, without the lock. */
    // Block *block = find_fit(needed);
    // if (block == NULL) block = extend_heap(needed);
    // if (block == NULL) return NULL; /* mem_sbrk has set errno = ENOMEM */
    // place(block, needed);
    // live_blocks++;
    // return payload_of(block);
    // END SOLUTION
}

/* Into the thread's cache if the block is small, else back to the heap under the lock. */
void mm_free(void *ptr) {
    if (ptr == NULL) return;
    Block *block = block_of(ptr);
    // BEGIN SOLUTION
    if (cache_push(block)) return;
    pthread_mutex_lock(&heap_lock);
    release_block(block);
    pthread_mutex_unlock(&heap_lock);
    // STUB
    // release_block(block); // TODO (step 1): under the lock; (step 2): cache_push(block) first
    // END SOLUTION
}

/* Lab 04's realloc: in place under the lock when it can; else mm_malloc, copy, mm_free, each of
 * which takes the lock itself (the copy needs none: both blocks are ours). */
void *mm_realloc(void *ptr, size_t size) {
    if (ptr == NULL) return mm_malloc(size);
    if (size == 0) {
        mm_free(ptr);
        return NULL;
    }
    if (size > MAX_REQUEST) {
        errno = ENOMEM;
        return NULL;
    }
    Block *block = block_of(ptr);
    size_t needed = block_size_for(size);
    size_t have = block_size(block);
    // BEGIN SOLUTION
    pthread_mutex_lock(&heap_lock);
    bool in_place = resize_in_place(block, needed);
    pthread_mutex_unlock(&heap_lock);
    // STUB
    // bool in_place = resize_in_place(block, needed); // TODO (step 1): under the lock
    // END SOLUTION
    if (in_place) return ptr;
    void *fresh = mm_malloc(size); /* 4. move; on failure the old block stays as it was */
    if (fresh == NULL) return NULL;
    memcpy(fresh, ptr, have - HEADER_SIZE - FOOTER_SIZE); /* the whole old payload: shorter than size */
    mm_free(ptr);
    return fresh;
}

void *mm_calloc(size_t nmemb, size_t size) {
    if (nmemb != 0 && size > SIZE_MAX / nmemb) { /* nmemb * size would overflow */
        errno = ENOMEM;
        return NULL;
    }
    void *payload = mm_malloc(nmemb * size);
    if (payload != NULL) memset(payload, 0, nmemb * size); /* outside the lock: the block is ours */
    return payload;
}

namespace {

/*
 * Lab 04's checker of the heap and the free list. The heap: a prologue, then blocks whose
 * headers are sane (Lab 02's checks), each footer equal to its header, never two free blocks in
 * a row (they would have been coalesced), and an epilogue in the last word. The free list: every
 * node a free block inside the heap, in address order, linked both ways, and exactly as many
 * nodes as the walk found free blocks. The caller holds heap_lock.
 */
int check_heap(int verbose) {
    char *lo = static_cast<char *>(mem_heap_lo());
    char *end = static_cast<char *>(mem_heap_hi()) + 1;
    if (static_cast<size_t>(end - lo) < 4 * WORD || prologue != reinterpret_cast<Block *>(lo + WORD)) {
        fprintf(stderr, "mm_checkheap: no room for the pad, the prologue and the epilogue\n");
        return 0;
    }
    if (prologue->header != (2 * WORD | ALLOCATED) || *footer_of(prologue) != prologue->header) {
        fprintf(stderr, "mm_checkheap: the prologue is damaged (header %#zx)\n", prologue->header);
        return 0;
    }
    size_t allocated = 0, free_blocks = 0;
    bool previous_free = false;
    Block *block = next_block(prologue);
    while (reinterpret_cast<char *>(block) < end - HEADER_SIZE) {
        char *here = reinterpret_cast<char *>(block);
        long offset = static_cast<long>(here - lo);
        size_t size = block_size(block);
        if (size % ALIGNMENT != 0 || size < MIN_BLOCK_SIZE) {
            fprintf(stderr, "mm_checkheap: block at mem_heap_lo() + %ld: bad size %zu (header %#zx)\n", offset, size,
                    block->header);
            return 0;
        }
        if (size > static_cast<size_t>(end - HEADER_SIZE - here)) {
            fprintf(stderr, "mm_checkheap: block at mem_heap_lo() + %ld: size %zu runs over the epilogue\n", offset,
                    size);
            return 0;
        }
        if (*footer_of(block) != block->header) {
            fprintf(stderr, "mm_checkheap: block at mem_heap_lo() + %ld: footer %#zx differs from header %#zx\n",
                    offset, *footer_of(block), block->header);
            return 0;
        }
        if (!is_allocated(block) && previous_free) {
            fprintf(stderr, "mm_checkheap: block at mem_heap_lo() + %ld: two free blocks in a row (not coalesced)\n",
                    offset);
            return 0;
        }
        if (verbose) printf("block at mem_heap_lo() + %ld: %zu bytes, %s\n", offset, size,
                            is_allocated(block) ? "allocated" : "free");
        previous_free = !is_allocated(block);
        if (is_allocated(block)) {
            allocated++;
        } else {
            free_blocks++;
        }
        block = next_block(block);
    }
    if (block != epilogue() || block->header != (0 | ALLOCATED)) {
        fprintf(stderr, "mm_checkheap: the blocks do not end with the epilogue (0 | 1) in the heap's last word\n");
        return 0;
    }
    if (allocated != live_blocks) {
        fprintf(stderr, "mm_checkheap: %zu blocks are marked allocated, but %zu are in use or cached: an allocated "
                "bit is wrong\n", allocated, live_blocks);
        return 0;
    }
    size_t listed = 0;
    Block *previous = NULL;
    for (Block *node = free_list; node != NULL; previous = node, node = node->next) {
        char *here = reinterpret_cast<char *>(node);
        if (here < lo || here >= end) {
            fprintf(stderr, "mm_checkheap: free list: node %p is outside the heap\n", static_cast<void *>(node));
            return 0;
        }
        if (is_allocated(node)) {
            fprintf(stderr, "mm_checkheap: free list: the block at mem_heap_lo() + %ld is allocated (not unlinked?)\n",
                    static_cast<long>(here - lo));
            return 0;
        }
        if (previous != NULL && node <= previous) {
            fprintf(stderr, "mm_checkheap: free list: the block at mem_heap_lo() + %ld is out of address order\n",
                    static_cast<long>(here - lo));
            return 0;
        }
        if (node->prev != previous) {
            fprintf(stderr, "mm_checkheap: free list: the block at mem_heap_lo() + %ld has a wrong prev link\n",
                    static_cast<long>(here - lo));
            return 0;
        }
        if (++listed > free_blocks) {
            fprintf(stderr, "mm_checkheap: free list: more nodes than the %zu free blocks in the heap (a block "
                    "merged or allocated but not unlinked, or a cycle)\n", free_blocks);
            return 0;
        }
    }
    if (listed != free_blocks) {
        fprintf(stderr, "mm_checkheap: free list: %zu nodes, but the heap has %zu free blocks (one was not "
                "inserted)\n", listed, free_blocks);
        return 0;
    }
    return 1;
}

/*
 * Checks the calling thread's cache (the only one this thread may read while others run):
 * each stack holds exactly its count of blocks, at most CACHE_LIMIT, each inside the heap,
 * marked allocated (a cached block is never on the free list) and of its stack's size.
 */
int check_my_cache() {
    ThreadCache *cache = current_cache();
    char *lo = static_cast<char *>(mem_heap_lo());
    char *end = static_cast<char *>(mem_heap_hi()) + 1;
    for (size_t c = 0; c < CACHE_CLASSES; c++) {
        size_t size = MIN_BLOCK_SIZE + c * ALIGNMENT;
        if (cache->counts[c] > CACHE_LIMIT) {
            fprintf(stderr, "mm_checkheap: cache of %zu-byte blocks: %u blocks, more than CACHE_LIMIT (%u): a cache "
                    "must be bounded, a full one flushed back to the heap\n", size, cache->counts[c], CACHE_LIMIT);
            return 0;
        }
        unsigned listed = 0;
        for (Block *block = cache->bins[c]; block != NULL; block = block->next) {
            char *here = reinterpret_cast<char *>(block);
            if (++listed > cache->counts[c]) {
                fprintf(stderr, "mm_checkheap: cache of %zu-byte blocks: more blocks than its count %u (a cycle?)\n",
                        size, cache->counts[c]);
                return 0;
            }
            if (here < lo || here + MIN_BLOCK_SIZE > end) {
                fprintf(stderr, "mm_checkheap: cache of %zu-byte blocks: block %p is outside the heap\n", size,
                        static_cast<void *>(block));
                return 0;
            }
            if (!is_allocated(block)) {
                fprintf(stderr, "mm_checkheap: cache of %zu-byte blocks: the block at mem_heap_lo() + %ld is free in "
                        "the heap: a block flushed back to the heap must leave the cache\n", size,
                        static_cast<long>(here - lo));
                return 0;
            }
            if (block_size(block) != size) {
                fprintf(stderr, "mm_checkheap: cache of %zu-byte blocks: the block at mem_heap_lo() + %ld has %zu "
                        "bytes\n", size, static_cast<long>(here - lo), block_size(block));
                return 0;
            }
        }
        if (listed != cache->counts[c]) {
            fprintf(stderr, "mm_checkheap: cache of %zu-byte blocks: %u blocks, but its count says %u\n", size,
                    listed, cache->counts[c]);
            return 0;
        }
    }
    return 1;
}

/* Whether `block` sits in some thread's cache. Reads other threads' caches: only for
 * mm_heap_walk, which runs while no other thread allocates. */
bool is_cached(const Block *block) {
    for (ThreadCache *cache = caches; cache != NULL; cache = cache->next_cache)
        for (size_t c = 0; c < CACHE_CLASSES; c++)
            for (Block *cached = cache->bins[c]; cached != NULL; cached = cached->next)
                if (cached == block) return true;
    return false;
}

}  // namespace

/* Checks the heap, the free list and this thread's cache; 1 when all holds, else prints what is
 * wrong and returns 0. Under the lock: other threads may be changing the heap meanwhile. */
int mm_checkheap(int verbose) {
    pthread_mutex_lock(&heap_lock);
    int ok = check_heap(verbose) && check_my_cache();
    pthread_mutex_unlock(&heap_lock);
    return ok;
}

/*
 * Optional, never graded: describes the heap to `heaplab trace viz` (heaplab/heap_walk.h).
 * Visits every block between the prologue and the epilogue, lowest first; a block in a thread's
 * cache is reported as cached. Returns 0, or -1 when there is nothing to describe.
 */
int mm_heap_walk(mm_block_visitor visit, void *context) {
    pthread_mutex_lock(&heap_lock);
    int result = prologue == NULL ? -1 : 0; /* -1: mm_init has not run */
    for (Block *block = prologue == NULL ? NULL : next_block(prologue); block != NULL && block_size(block) > 0;
         block = next_block(block)) {
        int state = !is_allocated(block) ? MM_BLOCK_FREE : is_cached(block) ? MM_BLOCK_CACHED : MM_BLOCK_ALLOCATED;
        visit(block, block_size(block), state, HEADER_SIZE, FOOTER_SIZE, context);
    }
    pthread_mutex_unlock(&heap_lock);
    return result;
}
