/*
 * buffer.cpp — Exercise 6: growing a buffer with realloc.
 *
 * realloc(p, n) returns a block of n bytes that starts with the old contents of p. It may grow
 * p where it is, or move: allocate a new block, copy, and free p. When it cannot get n bytes it
 * returns NULL and leaves p alone: p is still valid, still holds the data, and is still yours
 * to free. Write `p = realloc(p, n)` and a failure overwrites your only pointer to that block
 * with NULL: the data is lost and the block leaks.
 */
#include "exercises.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>

int buffer_append(Buffer *buffer, const void *bytes, size_t count) {
    if (count == 0) return 0;
    if (count > SIZE_MAX / 2 - buffer->length) return -1; /* the new length would overflow */
    size_t needed = buffer->length + count;
    if (needed > buffer->capacity) {
        /* Grow by doubling: n appends then cost O(n) copying in all, not O(n^2). */
        size_t capacity = buffer->capacity == 0 ? 16 : buffer->capacity;
        while (capacity < needed) capacity *= 2;
        buffer->data = static_cast<char *>(realloc(buffer->data, capacity));
        if (buffer->data == NULL) return -1;
        buffer->capacity = capacity;
    }
    memcpy(buffer->data + buffer->length, bytes, count);
    buffer->length += count;
    return 0;
}

void buffer_free(Buffer *buffer) {
    free(buffer->data);
    buffer->data = NULL;
    buffer->length = 0;
    buffer->capacity = 0;
}
