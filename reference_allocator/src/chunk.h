/**
 * @file chunk.h
 * @brief Chunks mapped on their own (Scudo's "secondary"): the last resort of the preload
 *        build for a large request when the break cannot grow.
 *
 * ## Spec
 * A chunk is one anonymous mapping. Its payload starts at least 16 bytes in, at the requested
 * alignment; the word before the header records that offset, so free() finds the mapping:
 * ```
 * mapping start                               payload (aligned)
 * | ... | offset (8 B) | header: tag | mapping length | kMmapped|kAlloc | payload ... |
 * ```
 * The header's size field is the length of the whole mapping, so the usable size is
 * `length - offset`. free() unmaps it (the memory goes straight back to the kernel);
 * realloc() uses mremap(), which moves pages instead of copying bytes.
 */
#ifndef HEAPLAB_REF_CHUNK_H
#define HEAPLAB_REF_CHUNK_H

#include "block.h"

#include <cstddef>

namespace heaplab::ref {

/// A payload of at least @p n bytes aligned to @p align (a power of two), or null.
void *chunk_alloc(std::size_t n, std::size_t align);
/// Unmaps the chunk whose (already validated) header is @p header.
void chunk_free(void *p, Word header);
/// Resizes a chunk to @p n bytes, possibly moving it; null (chunk unchanged) on failure.
void *chunk_realloc(void *p, Word header, std::size_t n);
/// Bytes usable at @p p.
std::size_t chunk_usable(const void *p, Word header);
/// Bytes currently mapped as chunks (for statistics).
std::size_t chunk_bytes();

}  // namespace heaplab::ref

#endif  // HEAPLAB_REF_CHUNK_H
