// Exercise 5 (int_stack.cpp): never touch a block after freeing it.
#include "exercises.h"
#include "heap_watch.h"

namespace {

using heap_watch::HeapWatch;

TEST(IntStack, PopsInReverseOrder) {
    HeapWatch watch;
    IntStack stack = {NULL, 0};
    for (int value = 1; value <= 3; ++value) ASSERT_EQ(stack_push(&stack, value), 0);
    EXPECT_EQ(stack.size, 3u);
    for (int expected = 3; expected >= 1; --expected) {
        int value = 0;
        ASSERT_EQ(stack_pop(&stack, &value), 0);
        EXPECT_EQ(value, expected);
    }
    int value = 0;
    EXPECT_EQ(stack_pop(&stack, &value), -1) << "popping an empty stack must fail";
    EXPECT_TRUE(watch.NoLeaks());
}

TEST(IntStack, ClearFreesEveryNode) {
    HeapWatch watch;
    IntStack stack = {NULL, 0};
    for (int value = 1; value <= 5; ++value) ASSERT_EQ(stack_push(&stack, value), 0);
    ASSERT_EQ(watch.live_blocks(), 5u);
    stack_clear(&stack);
    EXPECT_EQ(stack.top, nullptr) << "after stack_clear the stack is empty: top must be NULL, or it dangles (it "
                                     "points at a freed node)";
    EXPECT_EQ(stack.size, 0u);
    EXPECT_TRUE(watch.NoLeaks())
        << "stack_clear must free all 5 nodes. A loop that reads node->below after free(node) reads a freed "
           "block: here freed blocks are zeroed, so such a loop stops after the first node (with glibc alone it "
           "may seem to work, until the day it crashes). Read the link first, then free the node";
    EXPECT_TRUE(watch.NoBadFrees());
}

TEST(IntStack, UsableAfterClear) {
    HeapWatch watch;
    IntStack stack = {NULL, 0};
    ASSERT_EQ(stack_push(&stack, 1), 0);
    ASSERT_EQ(stack_push(&stack, 2), 0);
    stack_clear(&stack);
    ASSERT_EQ(stack_push(&stack, 7), 0);
    int value = 0;
    ASSERT_EQ(stack_pop(&stack, &value), 0);
    EXPECT_EQ(value, 7);
    EXPECT_EQ(stack.size, 0u);
    stack_clear(&stack);
    EXPECT_TRUE(watch.NoLeaks()) << "stack_clear must free every node, however many times the stack is used";
    EXPECT_TRUE(watch.NoBadFrees());
}

TEST(IntStack, PushFailsCleanlyWhenMallocFails) {
    HeapWatch watch;
    IntStack stack = {NULL, 0};
    ASSERT_EQ(stack_push(&stack, 1), 0);
    watch.fail_malloc(1);
    EXPECT_EQ(stack_push(&stack, 2), -1);
    EXPECT_EQ(stack.size, 1u);
    stack_clear(&stack);
    EXPECT_TRUE(watch.NoLeaks());
}

}  // namespace
