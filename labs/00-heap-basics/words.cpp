/*
 * words.cpp — Exercise 3: leaks.
 *
 * Every block from malloc must be freed exactly once, by whoever owns it, on every path out of
 * the function that owns it. A block nobody frees is a leak: the program never gets that memory
 * back, and a long-running program that leaks a little on every request eventually runs out.
 *
 * Memcheck sorts leaked blocks by how it finds them at exit:
 *   definitely lost  nothing points to the block any more;
 *   indirectly lost  only other lost blocks point to it (the nodes behind a lost list head).
 * Both are bugs, and the grader counts both.
 */
#include "exercises.h"

#include <cstdlib>
#include <cstring>

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n'; }

/* The start of the first word at or after p, or the end of the string. */
const char *word_start(const char *p) {
    while (*p != '\0' && is_space(*p)) ++p;
    return p;
}

/* Just past the word that starts at p. */
const char *word_end(const char *p) {
    while (*p != '\0' && !is_space(*p)) ++p;
    return p;
}

/* A copy of the length bytes at text, as a string of its own (the caller frees it). */
char *copy_of(const char *text, size_t length) {
    char *copy = static_cast<char *>(malloc(length + 1));
    if (copy == NULL) return NULL;
    memcpy(copy, text, length);
    copy[length] = '\0';
    return copy;
}

}  // namespace

size_t count_words(const char *text) {
    /* strtok_r writes '\0' into the string it splits, and text is not ours to change: split a
     * copy of it instead. */
    char *copy = copy_of(text, strlen(text));
    if (copy == NULL) return 0;
    size_t words = 0;
    char *rest = NULL;
    for (char *word = strtok_r(copy, " \t\n", &rest); word != NULL; word = strtok_r(NULL, " \t\n", &rest)) ++words;
    return words;
}

WordList *split_words(const char *text) {
    size_t count = 0;
    for (const char *p = word_start(text); *p != '\0'; p = word_start(word_end(p))) ++count;

    WordList *list = static_cast<WordList *>(malloc(sizeof *list));
    if (list == NULL) return NULL;
    list->count = 0;
    list->words = static_cast<char **>(calloc(count + 1, sizeof *list->words));
    if (list->words == NULL) {
        free(list);
        return NULL;
    }
    for (const char *p = word_start(text); *p != '\0'; p = word_start(word_end(p))) {
        char *word = copy_of(p, static_cast<size_t>(word_end(p) - p));
        if (word == NULL) {
            free_word_list(list); /* frees the words made so far, and the list */
            return NULL;
        }
        list->words[list->count++] = word;
    }
    return list;
}

void free_word_list(WordList *list) {
    if (list == NULL) return;
    free(list);
}
