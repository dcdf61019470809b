/**
 * @file size_class.h
 * @brief Size classes: which free list a block size belongs to, and which thread-cache slot.
 *
 * ## Spec
 * **Free-list bins** (216 of them) cover every block size:
 * - *exact bins* 2..63 for blocks of 32..1008 bytes, one bin per multiple of 16 — every block
 *   in such a bin has exactly the bin's size, so the head of the list is a perfect fit;
 * - *range bins* 64..215 for 1024 bytes and up, four per power of two (TLSF's second-level
 *   split): bin `64 + 4 * (log2(size) - 10) + the two bits below the top one`. A range bin
 *   spans sizes within 25% of each other.
 *
 * **Thread-cache classes** 0..62 are the exact bins shifted down by two: blocks of 32..1024
 * bytes (payloads up to 1016 bytes). Small requests are most requests in real programs.
 */
#ifndef HEAPLAB_REF_SIZE_CLASS_H
#define HEAPLAB_REF_SIZE_CLASS_H

#include "block.h"
#include "config.h"

#include <bit>
#include <cstddef>

namespace heaplab::ref {

inline constexpr std::size_t kExactLimit = 1024;  ///< first size served by a range bin
inline constexpr unsigned kExactBins = kExactLimit / kAlign;  ///< 64 (bins 0 and 1 stay empty)
/// Range bins per power of two: four keeps every block in a bin within 25% of the others,
/// so the first fit found there wastes little; more bins would mean more empty lists to skip.
inline constexpr unsigned kRangeBinsPerPow2 = 4;
inline constexpr unsigned kMaxLog2 = 47;  ///< sizes below 2^48 (the header's size field)
/// Exact bins plus the range bins up to the largest size a header can hold.
inline constexpr unsigned kNumBins =
    kExactBins + (kMaxLog2 - 10 + 1) * kRangeBinsPerPow2;  // 216
static_assert(std::size_t{1} << 10 == kExactLimit);

/// The bin of a free block of @p size bytes (a multiple of 16, at least kMinBlock).
constexpr unsigned bin_of(std::size_t size) {
    if (size < kExactLimit) return static_cast<unsigned>(size / kAlign);
    unsigned log2 = static_cast<unsigned>(std::bit_width(size)) - 1;
    unsigned sub = static_cast<unsigned>(size >> (log2 - 2)) & 3;
    return kExactBins + (log2 - 10) * kRangeBinsPerPow2 + sub;
}

/// The smallest block size a bin holds (the inverse of bin_of() on bin boundaries).
constexpr std::size_t bin_min_size(unsigned bin) {
    if (bin < kExactBins) return std::size_t{bin} * kAlign;
    unsigned r = bin - kExactBins;
    unsigned log2 = 10 + r / kRangeBinsPerPow2;
    return (std::size_t{4} + r % kRangeBinsPerPow2) << (log2 - 2);
}

static_assert(bin_of(32) == 2 && bin_of(1008) == 63 && bin_of(1024) == 64);
static_assert(bin_of(1279) == 64 && bin_of(1280) == 65 && bin_of(2047) == 67 && bin_of(2048) == 68);
static_assert(bin_min_size(65) == 1280 && bin_min_size(68) == 2048);
static_assert(bin_of((std::size_t{1} << 48) - 16) == kNumBins - 1);

/// Largest block a thread cache holds.
inline constexpr std::size_t kCacheMaxBlock = 1024;
/// The number of thread-cache classes: one per block size 32, 48, ... 1024.
inline constexpr unsigned kCacheClasses = kCacheMaxBlock / kAlign - 1;  // 63: 32..1024
/// Largest request served from a thread cache.
inline constexpr std::size_t kCacheMaxRequest = kCacheMaxBlock - kHeaderSize;

/// The cache class of a block of @p size bytes (kMinBlock <= size <= kCacheMaxBlock).
constexpr unsigned cache_class_of(std::size_t size) { return static_cast<unsigned>(size / kAlign) - 2; }
/// The block size of cache class @p c.
constexpr std::size_t cache_class_size(unsigned c) { return (std::size_t{c} + 2) * kAlign; }
static_assert(cache_class_of(32) == 0 && cache_class_of(kCacheMaxBlock) == kCacheClasses - 1);

/// How many blocks of @p c a thread cache keeps at most: kCacheBytesPerClass worth, within
/// [2, kCacheMaxCount]. Small blocks are cheap to hoard and the most frequent.
constexpr unsigned cache_capacity(unsigned c) {
    std::size_t n = kCacheBytesPerClass / cache_class_size(c);
    if (n < 2) n = 2;
    if (n > kCacheMaxCount) n = kCacheMaxCount;
    return static_cast<unsigned>(n);
}

}  // namespace heaplab::ref

#endif  // HEAPLAB_REF_SIZE_CLASS_H
