// Hidden tests of Lab 00 (instructors only): the same contracts as the public tests, on cases
// the students have not seen. Suites start with "Hidden" (lab.toml's "hidden tests" part).
#include "exercises.h"
#include "heap_watch.h"

#include <cstdlib>
#include <cstring>
#include <string>

namespace {

using heap_watch::HeapWatch;

TEST(HiddenGreeting, EmptyAndVeryLongNames) {
    HeapWatch watch;
    char *empty = make_greeting("");
    ASSERT_TRUE(watch.IsBlock(empty)) << "make_greeting(\"\") must return a block from malloc";
    EXPECT_STREQ(empty, "Hello, !");
    std::string name(5000, 'n');
    char *long_one = make_greeting(name.c_str());
    ASSERT_TRUE(watch.IsBlock(long_one)) << "make_greeting of a 5000-character name must return a block from malloc";
    EXPECT_EQ(std::string(long_one), "Hello, " + name + "!");
    free(empty);
    free(long_one);
    EXPECT_TRUE(watch.NoLeaks());
}

TEST(HiddenHistogram, EveryByteValue) {
    HeapWatch watch;
    unsigned char data[256 * 3];
    for (std::size_t i = 0; i < sizeof data; ++i) data[i] = static_cast<unsigned char>(i);
    unsigned *counts = histogram(data, sizeof data);
    ASSERT_TRUE(watch.IsBlock(counts));
    for (int byte = 0; byte < 256; ++byte) ASSERT_EQ(counts[byte], 3u) << "for byte " << byte;
    free(counts);
    EXPECT_TRUE(watch.NoLeaks());
}

TEST(HiddenHistogram, TwoHistogramsAreIndependent) {
    HeapWatch watch;
    unsigned *first = histogram(reinterpret_cast<const unsigned char *>("aaa"), 3);
    unsigned *second = histogram(reinterpret_cast<const unsigned char *>("b"), 1);
    ASSERT_TRUE(watch.IsBlock(first));
    ASSERT_TRUE(watch.IsBlock(second));
    EXPECT_EQ(first['a'], 3u);
    EXPECT_EQ(second['a'], 0u);
    EXPECT_EQ(second['b'], 1u);
    free(first);
    free(second);
}

TEST(HiddenWords, OnlySpacesAndOneLongWord) {
    HeapWatch watch;
    EXPECT_EQ(count_words(" \t\n \t\n"), 0u);
    std::string word(10000, 'w');
    EXPECT_EQ(count_words(word.c_str()), 1u);
    WordList *list = split_words(("\n" + word + "\t").c_str());
    ASSERT_TRUE(watch.IsBlock(list));
    ASSERT_EQ(list->count, 1u);
    EXPECT_EQ(std::string(list->words[0]), word);
    free_word_list(list);
    EXPECT_TRUE(watch.NoLeaks());
}

TEST(HiddenWords, EmptyListIsFreedToo) {
    HeapWatch watch;
    WordList *list = split_words("   ");
    ASSERT_TRUE(watch.IsBlock(list));
    EXPECT_EQ(list->count, 0u);
    free_word_list(list);
    EXPECT_TRUE(watch.NoLeaks());
}

TEST(HiddenWords, ManyWords) {
    HeapWatch watch;
    std::string text;
    for (int i = 0; i < 500; ++i) text += "word" + std::to_string(i) + " ";
    EXPECT_EQ(count_words(text.c_str()), 500u);
    WordList *list = split_words(text.c_str());
    ASSERT_TRUE(watch.IsBlock(list));
    ASSERT_EQ(list->count, 500u);
    EXPECT_STREQ(list->words[499], "word499");
    free_word_list(list);
    EXPECT_TRUE(watch.NoLeaks());
}

TEST(HiddenContact, ManyEmailChanges) {
    HeapWatch watch;
    Contact *contact = contact_new("Grace");
    ASSERT_TRUE(watch.IsBlock(contact));
    for (int i = 0; i < 20; ++i) {
        std::string email = "grace" + std::to_string(i) + "@example.org";
        ASSERT_EQ(contact_set_email(contact, email.c_str()), 0);
        if (i % 3 == 0) contact_clear_email(contact);
    }
    contact_clear_email(contact);
    contact_clear_email(contact);
    EXPECT_EQ(contact->email, nullptr);
    contact_destroy(contact);
    EXPECT_TRUE(watch.NoBadFrees());
    EXPECT_TRUE(watch.NoLeaks());
}

TEST(HiddenContact, DestroyNullAndNewWhenMallocFails) {
    HeapWatch watch;
    contact_destroy(NULL);
    watch.fail_malloc(2); /* the copy of the name */
    EXPECT_EQ(contact_new("Ada"), nullptr);
    EXPECT_TRUE(watch.NoLeaks());
    EXPECT_TRUE(watch.NoBadFrees());
}

TEST(HiddenIntStack, ClearAThousandNodes) {
    HeapWatch watch;
    IntStack stack = {NULL, 0};
    for (int value = 0; value < 1000; ++value) ASSERT_EQ(stack_push(&stack, value), 0);
    stack_clear(&stack);
    EXPECT_EQ(stack.size, 0u);
    EXPECT_TRUE(watch.NoLeaks());
    EXPECT_TRUE(watch.NoBadFrees());
}

TEST(HiddenIntStack, ClearAnEmptyStackAndPushAgain) {
    HeapWatch watch;
    IntStack stack = {NULL, 0};
    stack_clear(&stack);
    for (int round = 0; round < 3; ++round) {
        for (int value = 0; value < 10; ++value) ASSERT_EQ(stack_push(&stack, value), 0);
        int top = -1;
        ASSERT_EQ(stack_pop(&stack, &top), 0);
        EXPECT_EQ(top, 9);
        stack_clear(&stack);
        EXPECT_EQ(stack.top, nullptr);
    }
    EXPECT_TRUE(watch.NoLeaks());
}

TEST(HiddenBuffer, ReallocFailsOnTheThirdGrowth) {
    HeapWatch watch;
    Buffer buffer = {NULL, 0, 0};
    std::string expected;
    watch.fail_realloc(3);
    int failures = 0;
    for (int i = 0; i < 100; ++i) {
        std::string piece = "piece" + std::to_string(i) + ";";
        if (buffer_append(&buffer, piece.data(), piece.size()) == 0) {
            expected += piece;
        } else {
            ++failures;
            ASSERT_NE(buffer.data, nullptr) << "a failed realloc must not lose the buffer";
        }
        ASSERT_EQ(std::string(buffer.data, buffer.length), expected);
    }
    EXPECT_EQ(failures, 1);
    buffer_free(&buffer);
    EXPECT_TRUE(watch.NoLeaks());
}

TEST(HiddenBuffer, OneBigAppend) {
    HeapWatch watch;
    Buffer buffer = {NULL, 0, 0};
    std::string big(100000, 'b');
    ASSERT_EQ(buffer_append(&buffer, big.data(), big.size()), 0);
    ASSERT_EQ(buffer_append(&buffer, "", 0), 0);
    EXPECT_EQ(std::string(buffer.data, buffer.length), big);
    buffer_free(&buffer);
    buffer_free(&buffer);
    EXPECT_TRUE(watch.NoLeaks());
    EXPECT_TRUE(watch.NoBadFrees());
}

}  // namespace
