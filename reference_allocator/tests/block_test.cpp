// Block layout (block.h): header packing, sizes, tags, free-block boundary tags.
#include "block.h"

#include <gtest/gtest.h>

#include <cstring>

namespace heaplab::ref {
namespace {

alignas(16) char arena[4096];

TEST(Block, BlockSizeCoversRequestAndHeaderRoundedTo16) {
    for (std::size_t n = 0; n < 5000; ++n) {
        std::size_t b = block_size_for(n);
        EXPECT_EQ(b % kAlign, 0u);
        EXPECT_GE(b, kMinBlock);
        EXPECT_GE(usable_of(b), n);
        EXPECT_LT(usable_of(b), n + kAlign + kMinBlock);
    }
    EXPECT_EQ(block_size_for(24), 32u);  // 24 + 8 = 32: no waste at the boundary
    EXPECT_EQ(block_size_for(40), 48u);
}

TEST(Block, HeaderPacksSizeFlagsAndTagWithoutOverlap) {
    char *b = arena + 8;
    Word h = alloc_header(b, 4096 - 16, kPrevAlloc);
    EXPECT_EQ(size_of(h), 4096u - 16);
    EXPECT_TRUE(h & kAlloc);
    EXPECT_TRUE(h & kPrevAlloc);
    EXPECT_FALSE(h & kMmapped);
    EXPECT_TRUE(tag_ok(b, h));
}

TEST(Block, TagRejectsOtherAddressesAndSizes) {
    char *b = arena + 8;
    Word h = alloc_header(b, 64, 0);
    int accepted_elsewhere = 0;
    for (int i = 1; i < 200; ++i) accepted_elsewhere += tag_ok(b + 16 * i, h);
    EXPECT_LE(accepted_elsewhere, 1);  // 16-bit tags: a match elsewhere is a 1-in-65536 event
    EXPECT_FALSE(tag_ok(b, (h & ~kSizeMask) | 80));
}

TEST(Block, FreeBlockHasMatchingFooterAndNoTag) {
    char *b = arena + 8;
    write_free(b, 256, kPrevAlloc);
    EXPECT_EQ(load(b), 256u | kPrevAlloc);
    EXPECT_EQ(load(b + 256 - kHeaderSize), 256u);
    EXPECT_EQ(load(b) & (kAlloc | kTagMask), 0u);
    EXPECT_EQ(next_block(b), b + 256);
}

TEST(Block, PayloadIs16AlignedWhenTheHeaderIs8Mod16) {
    char *b = arena + 8;
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(payload_of(b)) % kAlign, 0u);
    EXPECT_EQ(header_of(payload_of(b)), b);
}

TEST(Block, CacheKeyDependsOnTheAddress) {
    EXPECT_NE(cache_key(arena + 8), cache_key(arena + 24));
    EXPECT_NE(cache_key(arena + 8), 0u);
}

}  // namespace
}  // namespace heaplab::ref
