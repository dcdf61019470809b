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
    char buffer[256];
    snprintf(buffer, sizeof buffer, "Hello, %s!", name);
    char *greeting = buffer;
    return greeting;
}
