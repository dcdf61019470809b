// Helpers for the Lab 04 tests (public and hidden): where a block is, whether two blocks
// overlap, and a guard that turns a fault (a read or write past the break) into a clean test
// failure instead of a crash that would stop every test after it.
#ifndef HEAPLAB_LAB04_REALLOC_TESTING_H
#define HEAPLAB_LAB04_REALLOC_TESTING_H

#include "heaplab/lab_testing.h"

#include <csetjmp>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

namespace heaplab::testing::realloc_lab {

/** @brief Whether [a, a + a_size) and [b, b + b_size) share a byte. */
inline bool overlap(const void *a, std::size_t a_size, const void *b, std::size_t b_size) {
    auto x = reinterpret_cast<std::uintptr_t>(a);
    auto y = reinterpret_cast<std::uintptr_t>(b);
    return x < y + b_size && y < x + a_size;
}

/** @brief Whether the address @p p lies in [block, block + size). */
inline bool lies_in(const void *p, const void *block, std::size_t size) { return overlap(p, 1, block, size); }

/** @brief Checks that the payload [p, p + size) does not overlap [other, other + other_size). */
inline ::testing::AssertionResult Apart(const void *p, std::size_t size, const void *other, std::size_t other_size) {
    if (!overlap(p, size, other, other_size)) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "the " << size << " bytes at " << where(p) << " overlap the "
                                         << other_size << " bytes at " << where(other);
}

/** @brief Checks that mm_checkheap(0) returns 1; @p after says what just happened. */
inline ::testing::AssertionResult HeapIsConsistent(const std::string &after) {
    if (mm_checkheap(0) == 1) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "mm_checkheap(0) found the heap inconsistent after " << after
                                         << " (its message is printed above)";
}

namespace detail {
inline sigjmp_buf fault_exit;
inline void on_fault(int) { siglongjmp(fault_exit, 1); }
}  // namespace detail

/**
 * @brief Runs @p action; returns false if it faulted (SIGSEGV or SIGBUS), true otherwise.
 *
 * The simulated heap faults on any access past the break, like the real one. A test that
 * expects such a fault from a classic mistake wraps the call, so the mistake is reported as a
 * failed expectation with a message, and the other tests still run.
 */
template <typename Action>
bool runs_without_fault(Action action) {
    struct sigaction catcher {};
    struct sigaction old_segv {};
    struct sigaction old_bus {};
    catcher.sa_handler = detail::on_fault;
    sigemptyset(&catcher.sa_mask);
    sigaction(SIGSEGV, &catcher, &old_segv);
    sigaction(SIGBUS, &catcher, &old_bus);
    bool ok = false;
    if (sigsetjmp(detail::fault_exit, 1) == 0) {
        action();
        ok = true;
    }
    sigaction(SIGSEGV, &old_segv, nullptr);
    sigaction(SIGBUS, &old_bus, nullptr);
    return ok;
}

}  // namespace heaplab::testing::realloc_lab

#endif  // HEAPLAB_LAB04_REALLOC_TESTING_H
