/*
 * histogram.cpp — Exercise 2: malloc versus calloc.
 *
 * malloc(n) gives n bytes holding whatever was there before: leftovers of an earlier block, or
 * anything at all. calloc(count, size) gives count * size bytes that are all zero (and refuses,
 * with NULL, a count * size that would overflow). Counters must start at zero.
 */
#include "exercises.h"

#include <cstdlib>

unsigned *histogram(const unsigned char *data, size_t size) {
    unsigned *counts = static_cast<unsigned *>(malloc(256 * sizeof *counts));
    if (counts == NULL) return NULL;
    for (size_t i = 0; i < size; ++i) counts[data[i]]++;
    return counts; /* the caller frees it */
}
