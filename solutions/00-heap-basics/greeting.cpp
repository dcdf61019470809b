/*
 * greeting.cpp — Exercise 1: stack versus heap lifetimes.
 *
 * make_greeting builds "Hello, NAME!" and hands it to its caller. Where the string lives
 * decides how long it lives:
 *
 *   - an array declared inside a function lives in that function's stack frame, and dies when
 *     the function returns: the next call reuses the same bytes for its own frame;
 *   - a block from malloc lives until someone calls free on it, whichever function that is.
 *
 * A string that must outlive the function that made it has to live on the heap, and then the
 * caller owns it: "the caller must free()" is part of the function's contract (exercises.h).
 */
#include "exercises.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

char *make_greeting(const char *name) {
    // BEGIN SOLUTION
    /* Exactly as many bytes as the greeting needs, plus one for the terminating '\0'. */
    size_t size = strlen("Hello, !") + strlen(name) + 1;
    char *greeting = static_cast<char *>(malloc(size));
    if (greeting == NULL) return NULL;
    snprintf(greeting, size, "Hello, %s!", name);
    return greeting; /* the caller frees it */
    // STUB
    // char buffer[256];
    // snprintf(buffer, sizeof buffer, "Hello, %s!", name);
    // char *greeting = buffer;
    // return greeting;
    // END SOLUTION
}
