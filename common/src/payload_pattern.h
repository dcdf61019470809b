// The pattern every checked payload is filled with (the replay and the stress driver): byte i of
// a block is byte (i % 8) of mix(key + i / 8), so a byte can be verified without keeping a copy.
// Internal to common/src.
#ifndef HEAPLAB_PAYLOAD_PATTERN_H
#define HEAPLAB_PAYLOAD_PATTERN_H

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace heaplab::payload {

inline std::uint64_t mix(std::uint64_t x) {  // splitmix64's finaliser: a cheap, good 64-bit hash
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

inline unsigned char pattern_byte(std::uint64_t key, std::size_t i) {
    return static_cast<unsigned char>(mix(key + i / 8) >> (8 * (i % 8)));
}

/// Writes the pattern of @p key into bytes [from, to) of the block at @p base.
inline void fill_pattern(unsigned char *base, std::size_t from, std::size_t to, std::uint64_t key) {
    std::size_t i = from;
    for (; i < to && i % 8 != 0; ++i) base[i] = pattern_byte(key, i);
    for (; i + 8 <= to; i += 8) {
        std::uint64_t word = mix(key + i / 8);
        std::memcpy(base + i, &word, 8);
    }
    for (; i < to; ++i) base[i] = pattern_byte(key, i);
}

/// The first byte in [from, to) that does not hold the pattern, or `to` if all do.
inline std::size_t find_mismatch(const unsigned char *base, std::size_t from, std::size_t to,
                          std::uint64_t key) {
    std::size_t i = from;
    for (; i < to && i % 8 != 0; ++i)
        if (base[i] != pattern_byte(key, i)) return i;
    for (; i + 8 <= to; i += 8) {
        std::uint64_t word = mix(key + i / 8);
        if (std::memcmp(base + i, &word, 8) != 0) break;
    }
    for (; i < to; ++i)
        if (base[i] != pattern_byte(key, i)) return i;
    return to;
}

}  // namespace heaplab::payload

#endif
