// What the tests of Lab 02 share: they read your headers through the layout the handout fixes
// (an 8-byte header just before each payload: the block size | 1 when allocated), switch the
// fit policy, and run mm_checkheap in a child process, so that a checker that walks forever
// or crashes on a corrupted heap fails its test instead of taking the others down with it.
// A watchdog turns a test that never ends (a heap walk stuck on a block of size 0) into a
// failure that says so.
#ifndef HEAPLAB_LAB02_FREE_LIST_TESTING_H
#define HEAPLAB_LAB02_FREE_LIST_TESTING_H

#include "heaplab/lab_testing.h"

#include <csignal>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <string>

#include <sys/wait.h>
#include <unistd.h>

/* Defined in your mm.cpp: 0 = first fit, 1 = next fit. */
extern "C" void mm_set_fit_policy(int policy);

namespace heaplab::free_list {

constexpr int kFirstFit = 0;
constexpr int kNextFit = 1;
constexpr std::size_t kHeader = 8;     // bytes of header in front of every payload
constexpr std::size_t kFirstBlock = 8;  // the first header: after the 8-byte pad at mem_heap_lo()

/** The header word in front of a payload. */
inline std::size_t &header_of(void *payload) { return static_cast<std::size_t *>(payload)[-1]; }
inline std::size_t header_of(const void *payload) { return static_cast<const std::size_t *>(payload)[-1]; }
inline std::size_t block_size_of(const void *payload) { return header_of(payload) & ~std::size_t{1}; }
inline bool allocated_bit(const void *payload) { return (header_of(payload) & 1) != 0; }

/** The size of the block that must hold a payload of @p size bytes: header + payload, rounded up to 16. */
constexpr std::size_t block_for(std::size_t size) {
    std::size_t block = (size + kHeader + 15) & ~std::size_t{15};
    return block < 16 ? 16 : block;
}

/** The heap as the walk sees it, "[48 A][32 f][64 A]", for failure messages; it stops at the first bad header. */
inline std::string heap_picture() {
    auto *lo = static_cast<char *>(mem_heap_lo());
    char *end = lo + mem_heapsize();
    std::ostringstream text;
    char *block = lo + kFirstBlock;
    for (int shown = 0; block + kHeader <= end; ++shown) {
        std::size_t header = *reinterpret_cast<std::size_t *>(block);
        std::size_t size = header & ~std::size_t{1};
        if (shown == 24) {
            text << "...";
            return text.str();
        }
        if (size == 0 || size % 16 != 0 || size > static_cast<std::size_t>(end - block)) {
            text << "[bad header " << header << "]";
            return text.str();
        }
        text << "[" << size << (header & 1 ? " A]" : " f]");
        block += size;
    }
    return text.str().empty() ? "(empty)" : text.str();
}

/** A fresh heap (an empty simulated heap and mm_init()), under the watchdog. */
class LabHeap : public heaplab::testing::WatchedHeap {
protected:
    LabHeap() : WatchedHeap("did mm_free or place() write a header of size 0?") {}
};

/** Sets the fit policy for one test and puts first fit back afterwards. */
class PolicyHeap : public LabHeap {
protected:
    explicit PolicyHeap(int policy) : policy_(policy) {}
    void SetUp() override {
        LabHeap::SetUp();
        mm_set_fit_policy(policy_);
    }
    void TearDown() override {
        mm_set_fit_policy(kFirstFit);
        LabHeap::TearDown();
    }

private:
    int policy_;
};

/** mm_checkheap must find the heap consistent (the message draws the heap). */
inline ::testing::AssertionResult CheckheapAccepts() { return heaplab::testing::CheckheapAccepts(heap_picture); }

using heaplab::testing::CheckheapRejects;
using heaplab::testing::run_checkheap;

}  // namespace heaplab::free_list

#endif  // HEAPLAB_LAB02_FREE_LIST_TESTING_H
