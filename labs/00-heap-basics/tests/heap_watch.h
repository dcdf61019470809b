/*
 * heap_watch.h — how the tests of Lab 00 see what your code does with the heap.
 *
 * The test program is linked with `-Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=free`:
 * the linker sends every call to malloc in your files (and in the tests) to __wrap_malloc in
 * heap_watch.cpp, which calls the real malloc (__real_malloc) and takes notes; the same for
 * calloc, realloc and free. You write plain malloc and free; nothing in your files changes.
 *
 * While a HeapWatch object lives (one per test), the wrappers
 *   - record every block handed out and every block freed, so a test can ask "was everything
 *     freed?" (NoLeaks) and "was anything freed twice, or freed that malloc never gave?"
 *     (NoBadFrees);
 *   - can make the Nth malloc/calloc or the Nth realloc fail (return NULL with errno = ENOMEM),
 *     which a real program rarely sees in testing but must survive (fail_malloc, fail_realloc);
 *   - run natively, behave like a debugging allocator, so that a bug shows up as a wrong answer
 *     with a message instead of as luck or a crash: a new block from malloc is filled with 0xAA
 *     bytes (what "uninitialised" may hold), a freed block is filled with zeros and kept aside
 *     until the test ends (so a read after free sees 0 and NULL, and a second free is noticed
 *     instead of corrupting glibc's heap), and realloc always moves the block;
 *   - run under Valgrind, step aside: they only count and forward each call, and Memcheck does
 *     the checking (filling memory would hide uninitialised reads from it).
 *
 * What the wrappers cannot see: memory that libc allocates for you inside its own functions
 * (strdup, getline, fopen, ...): the linker only redirects calls made from the test program's
 * own files. Memcheck sees those too.
 */
#ifndef HEAP_BASICS_HEAP_WATCH_H
#define HEAP_BASICS_HEAP_WATCH_H

#include <gtest/gtest.h>

#include <cstddef>
#include <string>

namespace heap_watch {

/* Watches the heap for as long as it lives. One at a time. */
class HeapWatch {
public:
    HeapWatch();
    ~HeapWatch();
    HeapWatch(const HeapWatch &) = delete;
    HeapWatch &operator=(const HeapWatch &) = delete;

    /* The nth call (1 = the next one) to malloc or calloc from now on fails. */
    void fail_malloc(int nth);
    /* The nth call to realloc from now on fails; the block passed to it is left alone. */
    void fail_realloc(int nth);

    /* p is the start of a block allocated while watching, and not freed. */
    bool is_block(const void *p) const;
    /* The size asked for that block (0 if p is not one). */
    std::size_t block_size(const void *p) const;
    /* Blocks allocated while watching and not freed, and their bytes. */
    std::size_t live_blocks() const;
    std::size_t live_bytes() const;

    /* p is a live block from this watch; the message says what p is instead. */
    ::testing::AssertionResult IsBlock(const void *p) const;
    /* Every block allocated while watching has been freed; the message lists those left. */
    ::testing::AssertionResult NoLeaks() const;
    /* No free of a freed block, of a stack address, or of anything malloc did not return. */
    ::testing::AssertionResult NoBadFrees() const;

    /* What p points to, in words: "NULL", "a live block of 12 bytes", "the stack", ... */
    std::string describe(const void *p) const;

    /* True under Valgrind: the wrappers then only count, and Memcheck checks. */
    static bool under_valgrind();
};

/* p is an address in the current thread's stack. */
bool on_stack(const void *p);

/* Overwrites the stack below the caller's frame, as the next function calls would. */
void scribble_on_stack();

/* Up to max characters of the string at p, quoted, for messages (p may point at garbage). */
std::string peek_string(const char *p, std::size_t max = 40);

}  // namespace heap_watch

#endif  // HEAP_BASICS_HEAP_WATCH_H
