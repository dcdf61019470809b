// Exercise 3 (words.cpp): free everything you allocate, and everything a structure owns.
#include "exercises.h"
#include "heap_watch.h"

#include <cstdlib>

namespace {

using heap_watch::HeapWatch;

TEST(Words, CountsWords) {
    HeapWatch watch;
    EXPECT_EQ(count_words("the quick brown fox"), 4u);
    EXPECT_EQ(count_words("  leading\tand\ntrailing  "), 3u);
    EXPECT_EQ(count_words(""), 0u);
    EXPECT_EQ(count_words("   "), 0u);
}

TEST(Words, CountWordsFreesItsCopy) {
    HeapWatch watch;
    ASSERT_EQ(count_words("the quick brown fox"), 4u);
    EXPECT_TRUE(watch.NoLeaks()) << "count_words must free the copy it makes before it returns: nothing else "
                                    "knows that block exists, so nobody else can free it";
}

TEST(Words, CountWordsReturnsZeroWhenMallocFails) {
    HeapWatch watch;
    watch.fail_malloc(1);
    EXPECT_EQ(count_words("two words"), 0u);
    EXPECT_TRUE(watch.NoLeaks());
}

TEST(Words, SplitsIntoWords) {
    HeapWatch watch;
    WordList *list = split_words(" the quick\tbrown fox ");
    ASSERT_TRUE(watch.IsBlock(list)) << "split_words must return a list from malloc";
    ASSERT_EQ(list->count, 4u);
    EXPECT_STREQ(list->words[0], "the");
    EXPECT_STREQ(list->words[1], "quick");
    EXPECT_STREQ(list->words[2], "brown");
    EXPECT_STREQ(list->words[3], "fox");
    free_word_list(list);
}

TEST(Words, FreeWordListFreesEveryBlock) {
    HeapWatch watch;
    WordList *list = split_words("one two three");
    ASSERT_TRUE(watch.IsBlock(list)) << "split_words must return a list from malloc";
    ASSERT_EQ(watch.live_blocks(), 5u) << "split_words(\"one two three\") makes 5 blocks: the list, its array and "
                                          "3 words";
    free_word_list(list);
    EXPECT_TRUE(watch.NoLeaks()) << "free_word_list must free every block the list owns: each word, then the array "
                                    "of words, then the list itself (in that order: once the list is freed, you "
                                    "may no longer read list->words)";
}

TEST(Words, FreeWordListOfNullDoesNothing) {
    HeapWatch watch;
    free_word_list(NULL);
    EXPECT_TRUE(watch.NoBadFrees());
}

TEST(Words, SplitFreesWhatItMadeWhenMallocFails) {
    for (int nth = 1; nth <= 5; ++nth) {
        HeapWatch watch;
        watch.fail_malloc(nth);
        WordList *list = split_words("one two three");
        EXPECT_EQ(list, nullptr) << "when malloc call #" << nth << " fails, split_words must return NULL";
        EXPECT_TRUE(watch.NoLeaks()) << "when malloc call #" << nth << " of split_words fails, it must free the "
                                        "blocks it already made (it calls free_word_list to do that)";
        if (watch.is_block(list)) free_word_list(list);
    }
}

}  // namespace
