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
 * Classes 63..82, four per power of two up to 32 KiB, are cached by the preload build only:
 * a program's threads allocate buffers of a few KiB too, and each one that missed the cache
 * would queue on the one heap lock.
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

// [bin_of]
/// The bin of a free block of @p size bytes (a multiple of 16, at least kMinBlock).
constexpr unsigned bin_of(std::size_t size) {
    if (size < kExactLimit) return static_cast<unsigned>(size / kAlign);
    unsigned log2 = static_cast<unsigned>(std::bit_width(size)) - 1;
    unsigned sub = static_cast<unsigned>(size >> (log2 - 2)) & 3;
    return kExactBins + (log2 - 10) * kRangeBinsPerPow2 + sub;
}
// [bin_of]

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

/// @name Thread-cache classes
/// Classes 0..62 are the exact bins shifted down by two: blocks of 32..1024 bytes, one class
/// per multiple of 16. Above that, four classes per power of two, as the range bins (1280,
/// 1536, 1792, 2048, 2560, ...), up to kCacheClassLimit: 83 classes in all. A build caches
/// blocks up to kCacheMaxBlock: 1 KiB in the mm.h build (a cached block is heap the replay
/// counts as used), 32 KiB in the preload build (so two threads allocating a few KiB each
/// rarely meet on the heap lock).
///
/// A class holds blocks of *at least* its size and smaller than the next class's: malloc takes
/// the class at or above the block size it needs (cache_class_for()), free puts a block into
/// the class at or below its size (cache_class_of()). Blocks split from the heap for a refill
/// have exactly their class's size; others (a block grown by realloc in place, a single-block
/// refill of the exact size asked for) have any size in the class's range.
/// @{
inline constexpr std::size_t kSmallCacheMax = 1024;  ///< the last exact (16-byte step) class
inline constexpr unsigned kSmallCacheClasses = kSmallCacheMax / kAlign - 1;  ///< 63: 32..1024
inline constexpr std::size_t kCacheClassLimit = 32 * KiB;  ///< the largest class defined

/// The class of a free()d block of @p size bytes: the largest class size at or below it
/// (kMinBlock <= size <= kCacheClassLimit).
constexpr unsigned cache_class_of(std::size_t size) {
    if (size <= kSmallCacheMax) return static_cast<unsigned>(size / kAlign) - 2;
    unsigned log2 = static_cast<unsigned>(std::bit_width(size)) - 1;
    unsigned sub = static_cast<unsigned>(size >> (log2 - 2)) & 3;
    return kSmallCacheClasses - 1 + (log2 - 10) * 4 + sub;
}

/// The class that serves a request for a block of @p size bytes: the smallest class size at or
/// above it (kMinBlock <= size <= kCacheClassLimit).
constexpr unsigned cache_class_for(std::size_t size) {
    if (size <= kSmallCacheMax) return static_cast<unsigned>(size / kAlign) - 2;
    std::size_t x = size - 1;
    unsigned log2 = static_cast<unsigned>(std::bit_width(x)) - 1;
    unsigned sub = static_cast<unsigned>(x >> (log2 - 2)) & 3;
    return kSmallCacheClasses + (log2 - 10) * 4 + sub;
}

/// The (smallest) block size of cache class @p c.
constexpr std::size_t cache_class_size(unsigned c) {
    if (c < kSmallCacheClasses) return (std::size_t{c} + 2) * kAlign;
    unsigned r = c - kSmallCacheClasses;
    return (std::size_t{5} + r % 4) << (10 + r / 4 - 2);
}

/// Largest block a thread cache holds in this build.
inline constexpr std::size_t kCacheMaxBlock = kPreload ? kCacheClassLimit : kSmallCacheMax;
/// The number of cache classes this build uses: the mm.h build stops at the small classes,
/// because a block parked in a cache is heap the replay counts as used.
inline constexpr unsigned kCacheClasses = cache_class_of(kCacheMaxBlock) + 1;  // 83 or 63
/// Largest request served from a thread cache.
inline constexpr std::size_t kCacheMaxRequest = kCacheMaxBlock - kHeaderSize;
/// @}

static_assert(cache_class_of(32) == 0 && cache_class_of(kSmallCacheMax) == kSmallCacheClasses - 1);
static_assert(cache_class_of(1279) == 62 && cache_class_of(1280) == 63 && cache_class_of(2048) == 66);
static_assert(cache_class_for(1040) == 63 && cache_class_for(1280) == 63 && cache_class_for(1296) == 64);
static_assert(cache_class_size(63) == 1280 && cache_class_size(66) == 2048 && cache_class_size(67) == 2560);
static_assert(cache_class_size(cache_class_of(kCacheClassLimit)) == kCacheClassLimit);

/// How many blocks of @p c a thread cache keeps at most: kCacheBytesPerClass worth (for the
/// classes above 1 KiB, kCacheBytesPerLargeClass), within [2, kCacheMaxCount]. Small blocks
/// are cheap to hoard and the most frequent.
constexpr unsigned cache_capacity(unsigned c) {
    std::size_t budget = c < kSmallCacheClasses ? kCacheBytesPerClass : kCacheBytesPerLargeClass;
    std::size_t n = budget / cache_class_size(c);
    if (n < 2) n = 2;
    if (n > kCacheMaxCount) n = kCacheMaxCount;
    return static_cast<unsigned>(n);
}

/// The most bytes one thread cache can hold (every class full, at its classes' sizes).
constexpr std::size_t cache_max_bytes() {
    std::size_t n = 0;
    for (unsigned c = 0; c < kCacheClasses; ++c) n += cache_capacity(c) * cache_class_size(c);
    return n;
}

}  // namespace heaplab::ref

#endif  // HEAPLAB_REF_SIZE_CLASS_H
