// Exercise 1 (greeting.cpp): make_greeting must return a string that outlives it.
#include "exercises.h"
#include "heap_watch.h"

#include <cstdlib>
#include <cstring>
#include <string>

namespace {

using heap_watch::HeapWatch;

/* Why a pointer is not a block the caller can keep, in words. */
std::string why_not_a_block(const HeapWatch &watch, const char *greeting) {
    std::string why = "make_greeting must return a block from malloc, which lives until the caller frees it; it "
                      "returned " + watch.describe(greeting);
    /* Natively, show what the bytes hold now; under Valgrind, reading them would only add
     * reports about this test's own code. */
    if (greeting != nullptr && !HeapWatch::under_valgrind()) why += ", which holds " + heap_watch::peek_string(greeting) + " now";
    why += ".";
    if (heap_watch::on_stack(greeting))
        why += " An array declared inside make_greeting lives in its stack frame, and dies when make_greeting "
               "returns: the next function call reuses those bytes.";
    return why;
}

TEST(Greeting, ReturnsAHeapStringTheCallerOwns) {
    HeapWatch watch;
    char *greeting = make_greeting("Ada");
    /* Read the greeting at once, before any other call can reuse make_greeting's stack frame:
     * if it points into that dead frame, Memcheck reports this read ("... bytes below stack
     * pointer"). */
    char first = greeting == nullptr ? '\0' : *static_cast<volatile char *>(greeting);
    ASSERT_NE(greeting, nullptr) << "make_greeting(\"Ada\") returned NULL";
    ASSERT_TRUE(watch.is_block(greeting)) << why_not_a_block(watch, greeting);
    EXPECT_EQ(first, 'H');
    heap_watch::scribble_on_stack();
    EXPECT_STREQ(greeting, "Hello, Ada!") << "the greeting changed after other functions ran";
    free(greeting);
    EXPECT_TRUE(watch.NoLeaks());
}

TEST(Greeting, TwoGreetingsLiveSideBySide) {
    HeapWatch watch;
    char *first = make_greeting("Ada");
    ASSERT_TRUE(watch.is_block(first)) << why_not_a_block(watch, first);
    char *second = make_greeting("Grace");
    ASSERT_TRUE(watch.is_block(second)) << why_not_a_block(watch, second);
    EXPECT_STREQ(first, "Hello, Ada!") << "the first greeting changed when make_greeting was called again";
    EXPECT_STREQ(second, "Hello, Grace!");
    free(first);
    free(second);
    EXPECT_TRUE(watch.NoLeaks());
}

TEST(Greeting, HasRoomForTheTerminatingNul) {
    HeapWatch watch;
    char *greeting = make_greeting("Ada");
    ASSERT_TRUE(watch.is_block(greeting)) << why_not_a_block(watch, greeting);
    EXPECT_GE(watch.block_size(greeting), strlen("Hello, Ada!") + 1)
        << "a string of n characters needs n + 1 bytes: the last holds the '\\0' that ends it";
    free(greeting);
}

TEST(Greeting, KeepsLongNamesWhole) {
    HeapWatch watch;
    std::string name(300, 'x');
    char *greeting = make_greeting(name.c_str());
    ASSERT_TRUE(watch.is_block(greeting)) << why_not_a_block(watch, greeting);
    EXPECT_EQ(std::string(greeting), "Hello, " + name + "!")
        << "a greeting must hold the whole name, however long: size the block from strlen(name)";
    free(greeting);
    EXPECT_TRUE(watch.NoLeaks());
}

TEST(Greeting, ReturnsNullWhenMallocFails) {
    HeapWatch watch;
    watch.fail_malloc(1);
    char *greeting = make_greeting("Ada");
    EXPECT_EQ(greeting, nullptr) << "when malloc returns NULL, make_greeting must return NULL; it returned "
                                 << watch.describe(greeting);
    if (watch.is_block(greeting)) free(greeting);
    EXPECT_TRUE(watch.NoLeaks());
}

}  // namespace
