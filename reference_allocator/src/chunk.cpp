/** @file chunk.cpp @brief Chunks mapped on their own (see chunk.h). */
#include "chunk.h"

#include <atomic>
#include <cstdint>
#include <sys/mman.h>
#include <unistd.h>

namespace heaplab::ref {

namespace {

std::atomic<std::size_t> mapped_chunk_bytes{0};

std::size_t offset_of(const void *p) { return load(static_cast<const char *>(p) - 2 * kHeaderSize); }

std::size_t page() { return static_cast<std::size_t>(sysconf(_SC_PAGESIZE)); }

}  // namespace

void *chunk_alloc(std::size_t n, std::size_t align) {
    if (align < kAlign) align = kAlign;
    if (n > kMaxRequest || align > kMaxRequest) return nullptr;
    // Mapping starts are page-aligned: only alignments above a page need slack.
    std::size_t slack = align > page() ? align : 0;
    std::size_t len = round_up(n + 2 * kHeaderSize + slack, page());
    void *mem = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) return nullptr;
    auto start = reinterpret_cast<std::uintptr_t>(mem);
    std::uintptr_t p = round_up(start + 2 * kHeaderSize, align);
    auto *payload = reinterpret_cast<char *>(p);
    store(payload - 2 * kHeaderSize, p - start);
    store(header_of(payload), len | kMmapped | kAlloc | tag_of(header_of(payload), len));
    mapped_chunk_bytes.fetch_add(len, std::memory_order_relaxed);
    return payload;
}

void chunk_free(void *p, Word header) {
    std::size_t len = size_of(header);
    std::size_t off = offset_of(p);
    mapped_chunk_bytes.fetch_sub(len, std::memory_order_relaxed);
    munmap(static_cast<char *>(p) - off, len);
}

void *chunk_realloc(void *p, Word header, std::size_t n) {
    std::size_t len = size_of(header);
    std::size_t off = offset_of(p);
    if (n > kMaxRequest) return nullptr;
    std::size_t new_len = round_up(n + off, page());
    if (new_len == len) return p;
    char *start = static_cast<char *>(p) - off;
    // MREMAP_MAYMOVE keeps the offset within the page, hence the payload's alignment, only for
    // alignments up to a page; larger ones are served by chunk_alloc + copy in the caller.
    void *mem = mremap(start, len, new_len, MREMAP_MAYMOVE);
    if (mem == MAP_FAILED) return nullptr;
    char *payload = static_cast<char *>(mem) + off;
    store(header_of(payload), new_len | kMmapped | kAlloc | tag_of(header_of(payload), new_len));
    if (new_len > len)
        mapped_chunk_bytes.fetch_add(new_len - len, std::memory_order_relaxed);
    else
        mapped_chunk_bytes.fetch_sub(len - new_len, std::memory_order_relaxed);
    return payload;
}

std::size_t chunk_usable(const void *p, Word header) { return size_of(header) - offset_of(p); }

std::size_t chunk_bytes() { return mapped_chunk_bytes.load(std::memory_order_relaxed); }

}  // namespace heaplab::ref
