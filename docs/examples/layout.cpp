/*
 * layout.cpp — where each kind of object lives in a Linux process.
 *
 * Prints the address of a function, a string literal, an initialised global, a zeroed global,
 * a small and a large malloc block and a local variable, each with the permissions and name of
 * the mapping in /proc/self/maps (the kernel's list of this process's memory) that holds it,
 * and the program break. The "Heap memory in Linux" page of the HeapLab site shows a run.
 *
 *     g++ -std=c++20 -O0 -o layout docs/examples/layout.cpp && ./layout
 *
 * Like labs/00-heap-basics/heapmap.cpp it prints with write(2) and reads /proc/self/maps with
 * read(2): printf and fopen allocate their buffers with malloc, and would add heap blocks of
 * their own to the picture.
 */
#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

char maps[1 << 16];  // zero at start: .bss
char line[640];

void say(const char *text) {
    for (size_t left = strlen(text); left > 0;) {
        ssize_t n = write(STDOUT_FILENO, text, left);
        if (n <= 0) return;
        text += n;
        left -= static_cast<size_t>(n);
    }
}

void read_maps() {
    int fd = open("/proc/self/maps", O_RDONLY);
    size_t used = 0;
    if (fd >= 0) {
        for (ssize_t n; used < sizeof maps - 1 && (n = read(fd, maps + used, sizeof maps - 1 - used)) > 0;)
            used += static_cast<size_t>(n);
        close(fd);
    }
    maps[used] = '\0';
}

/* The permissions and name of the line of /proc/self/maps whose address range holds
 * `address`, such as "rw-p [heap]". */
const char *mapping_of(const void *address) {
    static char found[256];
    auto where = reinterpret_cast<uintptr_t>(address);
    for (char *start = maps; *start != '\0';) {
        char *end = strchr(start, '\n');
        if (end == nullptr) end = start + strlen(start);
        unsigned long low = 0, high = 0;
        char perms[5] = "";
        int name_at = 0;
        sscanf(start, "%lx-%lx %4s %*s %*s %*s %n", &low, &high, perms, &name_at);
        if (where >= low && where < high) {
            const char *name = name_at > 0 && start + name_at < end ? start + name_at : "";
            int name_len = static_cast<int>(end - name);
            if (name_len <= 0 || *name == '\0') {
                name = "(anonymous)";
                name_len = static_cast<int>(strlen(name));
            }
            snprintf(found, sizeof found, "%s %.*s", perms, name_len, name);
            return found;
        }
        start = *end == '\0' ? end : end + 1;
    }
    return "(no mapping)";
}

}  // namespace

// [objects]
int counter = 42;                // initialised global: .data
int zeroed[1024];                // starts at zero: .bss
const char *greeting = "hello";  // literal: read-only data

int main() {
    int local = 7;                  // local variable: the stack
    void *small = malloc(100);      // small block: the heap
    void *large = malloc(1 << 20);  // 1 MiB: a mapping of its own
    // [objects]
    read_maps();
    struct {
        const char *what;
        const void *address;
    } objects[] = {
        {"main (code)", reinterpret_cast<const void *>(&main)},
        {"\"hello\" (literal)", greeting},
        {"counter (global)", &counter},
        {"zeroed (global)", zeroed},
        {"malloc(100)", small},
        {"malloc(1 MiB)", large},
        {"local (stack)", &local},
    };
    for (const auto &o : objects) {
        snprintf(line, sizeof line, "%-18s %14p   %s\n", o.what, o.address, mapping_of(o.address));
        say(line);
    }
    snprintf(line, sizeof line, "%-18s %14p   (the end of [heap])\n", "program break", sbrk(0));
    say(line);
    free(large);
    free(small);
    return 0;
}
