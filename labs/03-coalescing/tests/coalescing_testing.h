// What the tests of Lab 03 share: they read your headers, footers and free-list links through
// the layout the handout fixes (8-byte header before each payload, 8-byte footer at the end of
// every block, a free block's `next` and `prev` at the start of its payload; a prologue at
// mem_heap_lo() + 8, the epilogue in the heap's last word), run mm_checkheap in a child process
// (a checker that walks forever or crashes fails its own test only), and put a watchdog on every
// test. Every read is checked to be inside the heap first, so a wrong layout fails, not crashes.
#ifndef HEAPLAB_LAB03_COALESCING_TESTING_H
#define HEAPLAB_LAB03_COALESCING_TESTING_H

#include "heaplab/lab_testing.h"

#include <csignal>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <string>

#include <sys/wait.h>
#include <unistd.h>

namespace heaplab::coalescing {

constexpr std::size_t kWord = 8;
constexpr std::size_t kMinBlock = 32;       // header, next, prev, footer
constexpr std::size_t kPrologue = 8;        // the prologue's header: mem_heap_lo() + 8
constexpr std::size_t kFirstPayload = 32;   // pad, prologue header and footer, first header

inline char *heap_lo() { return static_cast<char *>(mem_heap_lo()); }
inline char *heap_end() { return heap_lo() + mem_heapsize(); }

/** True when the @p n bytes at @p p are inside the heap (so a test may read them). */
inline bool in_heap(const void *p, std::size_t n = kWord) {
    auto *c = static_cast<const char *>(p);
    return c >= heap_lo() && n <= static_cast<std::size_t>(heap_end() - heap_lo()) && c <= heap_end() - n;
}

/** The word at @p p, or ~0 when it is not inside the heap. */
inline std::size_t word_at(const void *p) {
    return in_heap(p) ? *static_cast<const std::size_t *>(p) : ~std::size_t{0};
}

inline std::size_t &header_of(void *payload) { return static_cast<std::size_t *>(payload)[-1]; }
inline std::size_t header_word(const void *payload) { return word_at(static_cast<const char *>(payload) - kWord); }
inline std::size_t block_size_of(const void *payload) { return header_word(payload) & ~std::size_t{1}; }
/** Where the footer of the block whose payload is @p payload is, according to its header. */
inline std::size_t *footer_address(void *payload) {
    return reinterpret_cast<std::size_t *>(static_cast<char *>(payload) - kWord + block_size_of(payload) - kWord);
}
inline std::size_t footer_word(void *payload) { return word_at(footer_address(payload)); }
/** The free-list links at the start of a free block's payload. */
inline void *&next_link(void *payload) { return static_cast<void **>(payload)[0]; }
inline void *&prev_link(void *payload) { return static_cast<void **>(payload)[1]; }

/** The size of the block that must hold a payload of @p size bytes: header + payload + footer, rounded up. */
constexpr std::size_t block_for(std::size_t size) {
    std::size_t block = (size + 2 * kWord + 15) & ~std::size_t{15};
    return block < kMinBlock ? kMinBlock : block;
}

/** The heap as the walk sees it, "[48 A][32 f]", for failure messages; stops at the first bad header. */
inline std::string heap_picture() {
    std::ostringstream text;
    char *block = heap_lo() + kPrologue + 2 * kWord;  // after the prologue
    for (int shown = 0; in_heap(block); ++shown) {
        std::size_t header = word_at(block);
        std::size_t size = header & ~std::size_t{1};
        if (size == 0) {
            text << (header == 1 && block + kWord == heap_end() ? "[epilogue]" : "[bad header 0]");
            return text.str();
        }
        if (shown == 24) return text.str() + "...";
        if (size % 16 != 0 || !in_heap(block, size)) {
            text << "[bad header " << header << "]";
            return text.str();
        }
        std::size_t footer = word_at(block + size - kWord);
        text << "[" << size << (header & 1 ? " A" : " f") << (footer == header ? "" : " footer!=header") << "]";
        block += size;
    }
    return text.str().empty() ? "(empty)" : text.str() + "(no epilogue)";
}

/** A fresh heap (an empty simulated heap and mm_init()), under the watchdog. */
class LabHeap : public heaplab::testing::WatchedHeap {
protected:
    LabHeap() : WatchedHeap("a header or a footer of size 0, or a free-list cycle?") {}
};

/** mm_checkheap must find the heap consistent (the message draws the heap). */
inline ::testing::AssertionResult CheckheapAccepts() { return heaplab::testing::CheckheapAccepts(heap_picture); }

using heaplab::testing::CheckheapRejects;
using heaplab::testing::run_checkheap;

}  // namespace heaplab::coalescing

#endif  // HEAPLAB_LAB03_COALESCING_TESTING_H
