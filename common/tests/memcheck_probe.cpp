// A tiny program for memcheck_test.cpp: it touches the simulated heap in one of three ways,
// chosen by its argument, so that the test can see what Memcheck reports for each.
//   uninit     reads heap memory that was never written and branches on it
//   written    writes the memory first, then reads it (must be clean)
//   past-break reads the byte just past the break, inside the same open page
//   shrunk     reads a byte that the break has given back (also inside an open page)
#include "heaplab/memlib.h"

#include <cstdio>
#include <cstring>

int main(int argc, char **argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: memcheck_probe uninit|written|past-break|shrunk\n");
        return 2;
    }
    const char *mode = argv[1];
    auto *heap = static_cast<volatile unsigned char *>(mem_sbrk(64));
    int result = 0;
    if (std::strcmp(mode, "uninit") == 0) {
        if (heap[10] == 42) result = 1;  // the branch Memcheck must flag
    } else if (std::strcmp(mode, "written") == 0) {
        heap[10] = 42;
        if (heap[10] == 42) result = 1;
    } else if (std::strcmp(mode, "past-break") == 0) {
        heap[64] = 1;  // one byte past the break: same page, so natively no fault
    } else if (std::strcmp(mode, "shrunk") == 0) {
        heap[40] = 1;
        mem_sbrk(-32);
        result = heap[40];  // no longer part of the heap
    } else {
        std::fprintf(stderr, "unknown mode %s\n", mode);
        return 2;
    }
    std::printf("probe %s done (%d)\n", mode, result);
    return 0;
}
