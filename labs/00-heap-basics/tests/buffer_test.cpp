// Exercise 6 (buffer.cpp): grow with realloc without losing the buffer when it fails.
#include "exercises.h"
#include "heap_watch.h"

#include <cstring>
#include <string>

namespace {

using heap_watch::HeapWatch;

std::string contents(const Buffer &buffer) { return std::string(buffer.data, buffer.length); }

TEST(Buffer, AppendsAndGrows) {
    HeapWatch watch;
    Buffer buffer = {NULL, 0, 0};
    ASSERT_EQ(buffer_append(&buffer, "hello", 5), 0);
    ASSERT_EQ(buffer_append(&buffer, ", ", 2), 0);
    ASSERT_EQ(buffer_append(&buffer, "world", 5), 0);
    ASSERT_TRUE(watch.IsBlock(buffer.data));
    EXPECT_EQ(contents(buffer), "hello, world");
    EXPECT_GE(buffer.capacity, buffer.length) << "capacity must say how many bytes data has room for";
    buffer_free(&buffer);
    EXPECT_EQ(buffer.data, nullptr);
    EXPECT_TRUE(watch.NoLeaks());
}

TEST(Buffer, ManyAppendsKeepEveryByte) {
    HeapWatch watch;
    Buffer buffer = {NULL, 0, 0};
    std::string expected;
    for (int i = 0; i < 1000; ++i) {
        char byte = static_cast<char>('a' + i % 26);
        ASSERT_EQ(buffer_append(&buffer, &byte, 1), 0);
        expected += byte;
    }
    EXPECT_EQ(contents(buffer), expected);
    EXPECT_LE(watch.live_blocks(), 1u) << "a buffer is one block: realloc frees the old one when it moves";
    buffer_free(&buffer);
    EXPECT_TRUE(watch.NoLeaks());
}

TEST(Buffer, KeepsTheDataWhenReallocFails) {
    HeapWatch watch;
    Buffer buffer = {NULL, 0, 0};
    ASSERT_EQ(buffer_append(&buffer, "hello", 5), 0);
    std::string big(100, '!');
    watch.fail_realloc(1);
    EXPECT_EQ(buffer_append(&buffer, big.data(), big.size()), -1) << "buffer_append must return -1 when realloc fails";
    ASSERT_NE(buffer.data, nullptr)
        << "buffer_append lost the buffer when realloc failed: data is NULL now, and \"hello\" is gone. A failed "
           "realloc leaves the old block as it was, valid and still yours; `data = realloc(data, n)` overwrites "
           "the only pointer to it with NULL (and the block leaks). Keep realloc's result in a variable of its own, "
           "and check it before you replace data";
    EXPECT_EQ(contents(buffer), "hello") << "a failed append must leave the buffer as it was";
    EXPECT_EQ(buffer.length, 5u);
    EXPECT_GE(buffer.capacity, 5u);
    ASSERT_EQ(buffer_append(&buffer, " again", 6), 0) << "the buffer must still work after a failed append";
    EXPECT_EQ(contents(buffer), "hello again");
    buffer_free(&buffer);
    EXPECT_TRUE(watch.NoLeaks());
}

TEST(Buffer, FirstAppendFailingLeavesItEmpty) {
    HeapWatch watch;
    Buffer buffer = {NULL, 0, 0};
    watch.fail_realloc(1);
    EXPECT_EQ(buffer_append(&buffer, "hello", 5), -1);
    EXPECT_EQ(buffer.data, nullptr);
    EXPECT_EQ(buffer.length, 0u);
    EXPECT_EQ(buffer.capacity, 0u) << "capacity must say how many bytes data really has: none";
    buffer_free(&buffer);
    EXPECT_TRUE(watch.NoLeaks());
}

}  // namespace
