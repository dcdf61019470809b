/*
 * brk_count.cpp — how often does malloc ask the kernel for memory?
 *
 * Makes 100,000 calls to malloc(32), keeps every block, and counts how many times the program
 * break moved. The "Heap memory in Linux" page of the HeapLab site shows a run.
 *
 *     g++ -std=c++20 -O0 -fno-builtin -o brk_count docs/examples/brk_count.cpp && ./brk_count
 *
 * -fno-builtin: otherwise GCC may remove a malloc whose block is never used.
 */
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace {
constexpr int kCalls = 100000;
void *blocks[kCalls];  // keeps every block alive (and is in .bss, not on the heap)
}  // namespace

int main() {
    // [count]
    void *last_break = sbrk(0);
    int moves = 0;
    for (int i = 0; i < kCalls; ++i) {
        blocks[i] = malloc(32);
        void *now = sbrk(0);
        if (now != last_break) {  // this malloc had to grow the heap: a brk system call
            ++moves;
            last_break = now;
        }
    }
    // [count]
    long heap_kib = (static_cast<char *>(sbrk(0)) - static_cast<char *>(blocks[0])) / 1024;
    printf("%d calls to malloc(32): the break moved %d times; the blocks span %ld KiB\n", kCalls, moves, heap_kib);
    for (void *b : blocks) free(b);
    return 0;
}
