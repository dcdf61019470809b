/**
 * @file lab_testing.h
 * @brief What every lab's GoogleTest tests share: a fresh heap per test, and helpers whose
 *        failure messages tell a student what was expected and what came back.
 */
#ifndef HEAPLAB_LAB_TESTING_H
#define HEAPLAB_LAB_TESTING_H

#include "heaplab/memlib.h"
#include "heaplab/mm.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

namespace heaplab::testing {

/** @brief A test fixture: an empty simulated heap and a fresh mm_init() for every test. */
class FreshHeap : public ::testing::Test {
protected:
    void SetUp() override {
        mem_reset();
        mem_set_cap(0);
        ASSERT_EQ(mm_init(), 0) << "mm_init() must return 0 on an empty heap";
    }
    void TearDown() override { mem_set_cap(0); }
};

/** @brief Where a pointer is, in words: "mem_heap_lo() + 48" or an absolute address. */
inline std::string where(const void *p) {
    auto address = reinterpret_cast<std::uintptr_t>(p);
    auto lo = reinterpret_cast<std::uintptr_t>(mem_heap_lo());
    std::ostringstream text;
    if (p == nullptr) {
        text << "NULL";
    } else if (address >= lo && address <= lo + mem_heapsize()) {
        text << "mem_heap_lo() + " << address - lo;
    } else {
        text << p << " (outside the heap)";
    }
    return text.str();
}

/** @brief Checks that [p, p + size) is a usable payload: not NULL, aligned, inside the heap. */
inline ::testing::AssertionResult IsGoodPayload(const void *p, std::size_t size, std::size_t alignment = 16) {
    if (p == nullptr) return ::testing::AssertionFailure() << "expected a payload of " << size << " bytes, got NULL";
    auto address = reinterpret_cast<std::uintptr_t>(p);
    if (address % alignment != 0)
        return ::testing::AssertionFailure() << "the payload at " << where(p) << " is not " << alignment
                                             << "-byte aligned (address % " << alignment << " = " << address % alignment
                                             << ")";
    auto lo = reinterpret_cast<std::uintptr_t>(mem_heap_lo());
    auto end = lo + mem_heapsize();
    if (address < lo || address > end)
        return ::testing::AssertionFailure() << "the payload at " << where(p)
                                             << " is not inside the heap: it must come from mem_sbrk";
    if (address + size > end)
        return ::testing::AssertionFailure() << "the payload of " << size << " bytes at " << where(p) << " ends "
                                             << address + size - end
                                             << " bytes past the break: the block is smaller than asked (is the "
                                                "header counted in what you ask mem_sbrk for?)";
    return ::testing::AssertionSuccess();
}

/** @brief Fills @p size bytes with a pattern that depends on @p seed. */
inline void fill_pattern(void *p, std::size_t size, unsigned seed) {
    auto *bytes = static_cast<unsigned char *>(p);
    for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<unsigned char>(seed * 131 + i * 7 + 1);
}

/** @brief Checks that the first @p size bytes still hold fill_pattern(seed). */
inline ::testing::AssertionResult HoldsPattern(const void *p, std::size_t size, unsigned seed) {
    auto *bytes = static_cast<const unsigned char *>(p);
    for (std::size_t i = 0; i < size; ++i) {
        auto expected = static_cast<unsigned char>(seed * 131 + i * 7 + 1);
        if (bytes[i] != expected)
            return ::testing::AssertionFailure() << "byte " << i << " of the block at " << where(p) << " is "
                                                 << static_cast<unsigned>(bytes[i]) << ", expected "
                                                 << static_cast<unsigned>(expected)
                                                 << ": something overwrote the block, or did not copy it";
    }
    return ::testing::AssertionSuccess();
}

}  // namespace heaplab::testing

#endif  // HEAPLAB_LAB_TESTING_H
