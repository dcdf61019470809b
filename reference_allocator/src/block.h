/**
 * @file block.h
 * @brief Block layout: the one-word header, the boundary tag of a free block, and the tag that
 *        tells a pointer we returned from any other address.
 *
 * ## Spec
 * The heap is a sequence of blocks, each a multiple of 16 bytes, ending in an *epilogue* (a
 * header of size 0 marked allocated, so nothing ever coalesces past the end).
 *
 * ```
 *  allocated block                          free block
 *  +--------------------+ <- header (8 B)   +--------------------+ <- header
 *  | tag | size | flags |                   |   0 | size | flags |
 *  +--------------------+ <- payload,       +--------------------+
 *  | payload ...        |    16-aligned     | next free (8 B)    |
 *  |                    |                   | prev free (8 B)    |
 *  |                    |                   | ...                |
 *  |                    |                   +--------------------+
 *  |                    |                   | footer = size      | <- last 8 bytes
 *  +--------------------+                   +--------------------+
 * ```
 *
 * The header word packs:
 * - bits 0..3, flags: kAlloc (in use), kPrevAlloc (the block just below is in use: an
 *   allocated block needs no footer, which saves 8 bytes on every allocation), kMmapped (a
 *   chunk mapped on its own, not part of a heap region); bit 3 is unused;
 * - bits 4..47, the block size in bytes (a multiple of 16, so its low four bits are the flags);
 * - bits 48..63, for an allocated block, a 16-bit *tag* hashed from the block's address and
 *   size (Scudo's chunk checksum, simplified). free() recomputes it: a pointer we never
 *   returned, or one whose header was overwritten, fails the check with probability
 *   1 - 2^-16 and is reported instead of corrupting the heap. A free block's tag is 0.
 *
 * **Only the heap lock's holder writes a header.** Freeing a block rewrites the
 * kPrevAlloc bit of the block above it, which may belong to another thread at that moment;
 * so a thread cache never writes headers. It marks a block it holds in the block's payload
 * instead (cache_key(), like glibc's tcache key), which only the holder of the block touches.
 * Header words are read and written as relaxed atomics: the fast path of free() reads its
 * own block's header without the lock while a neighbour's free may be updating a flag there
 * (the bits it uses — size, kAlloc, tag — cannot change under it). Relaxed atomics compile
 * to plain moves, and make that benign race well-defined (and ThreadSanitizer-clean).
 *
 * Payloads are 16-byte aligned, so headers sit at addresses that are 8 mod 16. The smallest
 * block is 32 bytes: a free block needs its header, two list links and its footer.
 */
#ifndef HEAPLAB_REF_BLOCK_H
#define HEAPLAB_REF_BLOCK_H

#include <cstddef>
#include <cstdint>

namespace heaplab::ref {

/// One header or footer word. 64 bits: the size field, the flags and the tag all fit in one
/// load, and a header never straddles two words.
using Word = std::uint64_t;

// [constants]
inline constexpr std::size_t kAlign = 16;       ///< payload alignment (glibc's on x86-64)
inline constexpr std::size_t kHeaderSize = 8;   ///< one header word before every payload
inline constexpr std::size_t kMinBlock = 32;    ///< header + next + prev + footer

inline constexpr Word kAlloc = 1;      ///< the block is in use (or cached)
inline constexpr Word kPrevAlloc = 2;  ///< the block just below is in use: no footer to read
inline constexpr Word kMmapped = 4;    ///< a chunk mapped on its own (the mmap fallback)
inline constexpr Word kFlagMask = 0xF;  ///< flags, including the unused bit 3
inline constexpr Word kSizeMask = 0x0000'FFFF'FFFF'FFF0;  ///< bits 4..47: the block size
inline constexpr Word kTagMask = 0xFFFF'0000'0000'0000;   ///< bits 48..63: the tag (tag_of())
// [constants]

/// The largest request any function accepts. Above it, the block size arithmetic could
/// overflow the 44-bit size field; glibc likewise refuses anything above PTRDIFF_MAX.
inline constexpr std::size_t kMaxRequest = (std::size_t{1} << 46);

// [free_block]
/**
 * @brief A free block, as the free lists see it. An allocated block is just its header word.
 *
 * Invariant (checked by mm_checkheap): the footer, the last word of the block, equals the
 * header with its flags; the next block's header has kPrevAlloc clear; neither neighbour is
 * free (coalescing is immediate).
 */
struct FreeBlock {
    Word header;      ///< size | flags, tag 0 (the footer at the block's end repeats it)
    FreeBlock *next;  ///< next block in the same free list, or null
    FreeBlock *prev;  ///< previous block in the same free list, or null
};
static_assert(sizeof(FreeBlock) + sizeof(Word) <= kMinBlock, "a free block must fit the minimum");
static_assert(kMinBlock % kAlign == 0 && kHeaderSize < kAlign);
static_assert((kSizeMask & kFlagMask) == 0 && (kSizeMask & kTagMask) == 0);
static_assert(kMaxRequest * 2 < kSizeMask, "block sizes of any request fit the size field");
// [free_block]

/// @name Reading and writing words at arbitrary heap addresses
/// The heap is raw bytes; we compile with -fno-strict-aliasing so these are plain loads and
/// stores, made relaxed atomics for the benign race described in the file's spec.
/// @{

/// The word at @p at (a header or a footer).
inline Word load(const void *at) { return __atomic_load_n(static_cast<const Word *>(at), __ATOMIC_RELAXED); }
/// Writes @p w at @p at (only the heap lock's holder writes headers and footers).
inline void store(void *at, Word w) { __atomic_store_n(static_cast<Word *>(at), w, __ATOMIC_RELAXED); }
/// @}

/// @name Moving between a block, its header and its payload
/// A block is addressed by its header; the program sees only payloads, 8 bytes further on.
/// @{

/// The block size in a header word (flags and tag masked off).
inline std::size_t size_of(Word header) { return header & kSizeMask; }
/// The header of the block whose payload the program holds: how free(p) finds its block.
inline char *header_of(void *payload) { return static_cast<char *>(payload) - kHeaderSize; }
/// The payload of @p block: what malloc() returns.
inline void *payload_of(char *block) { return block + kHeaderSize; }
/// The block just above @p block: every block knows its size, so the heap is a list in place
/// (the epilogue, of size 0, ends the walk).
inline char *next_block(char *block) { return block + size_of(load(block)); }
/// @}

/// Secret-ish constant mixed into every tag, so a header is not a simple function of its
/// address alone. HeapLab detects mistakes, not attacks: a constant is enough.
inline constexpr Word kTagCookie = 0x5eed'4ea9'1ab0'c0deULL;

// [tag]
/// The 16-bit tag of an allocated block at @p block of @p size bytes, in bits 48..63.
inline Word tag_of(const void *block, std::size_t size) {
    Word x = (reinterpret_cast<std::uintptr_t>(block) ^ (Word{size} << 20) ^ kTagCookie) *
             0x9E37'79B9'7F4A'7C15ULL;
    return x & kTagMask;
}
// [tag]

/// The mark a thread cache leaves in the second payload word of a block it holds. A free()
/// that finds it there is a double free. malloc() clears it when it hands the block out, so
/// a block the program never wrote cannot carry a stale mark.
inline Word cache_key(const void *block) {
    return (reinterpret_cast<std::uintptr_t>(block) ^ 0xcac4'e0ff'0bad'f00dULL) * 0xD6E8'FEB8'6659'FD93ULL;
}

/// Header of an allocated block: size, kAlloc, the caller's kPrevAlloc and its tag.
inline Word alloc_header(const void *block, std::size_t size, Word prev_alloc) {
    return size | kAlloc | prev_alloc | tag_of(block, size);
}

/// True when @p header is a well-formed header of an allocated block living at @p block.
inline bool tag_ok(const void *block, Word header) {
    return (header & kTagMask) == tag_of(block, size_of(header));
}

/// Writes a free block's header and footer (its tag is 0).
inline void write_free(char *block, std::size_t size, Word prev_alloc) {
    store(block, size | prev_alloc);
    store(block + size - kHeaderSize, size);
}

/// Rounds @p n up to a multiple of @p to, a power of two.
constexpr std::size_t round_up(std::size_t n, std::size_t to) { return (n + to - 1) & ~(to - 1); }

// [block_size_for]
/**
 * @brief The block size that serves a request of @p n payload bytes: n plus the header,
 *        rounded up to 16, at least kMinBlock. @p n must be at most kMaxRequest.
 */
constexpr std::size_t block_size_for(std::size_t n) {
    std::size_t b = round_up(n + kHeaderSize, kAlign);
    return b < kMinBlock ? kMinBlock : b;
}
static_assert(block_size_for(0) == 32 && block_size_for(24) == 32 && block_size_for(25) == 48);
// [block_size_for]

/// The bytes a program may use in an allocated heap block of @p size bytes.
constexpr std::size_t usable_of(std::size_t size) { return size - kHeaderSize; }

}  // namespace heaplab::ref

#endif  // HEAPLAB_REF_BLOCK_H
