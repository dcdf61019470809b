/*
 * heapmap.cpp — watch the program break move while a program allocates.
 *
 * `make heapmap` runs it. At each step it prints sbrk(0), the program break (the end of the
 * heap), and the [heap] line of /proc/self/maps, the kernel's own list of this process's
 * memory. Small blocks come from the heap, and glibc moves the break up to make room for them;
 * a large block (128 KiB or more, by default) gets a mapping of its own from mmap instead, and
 * the break does not move at all.
 *
 * This program prints with write(2) and reads /proc/self/maps with read(2): printf and fopen
 * would call malloc themselves (for their buffers) and move the break behind our back.
 */
#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

char line[512];

void say(const char *text) {
    size_t length = strlen(text);
    while (length > 0) {
        ssize_t written = write(STDOUT_FILENO, text, length);
        if (written <= 0) return;
        text += written;
        length -= static_cast<size_t>(written);
    }
}

/* Every line of /proc/self/maps, read into a static buffer (no malloc). */
char maps[1 << 16];

void read_maps() {
    maps[0] = '\0';
    int fd = open("/proc/self/maps", O_RDONLY);
    if (fd < 0) return;
    size_t used = 0;
    for (ssize_t n; used < sizeof maps - 1 && (n = read(fd, maps + used, sizeof maps - 1 - used)) > 0;)
        used += static_cast<size_t>(n);
    maps[used] = '\0';
    close(fd);
}

/* Prints the line of /proc/self/maps that ends with name, or that holds address. */
void show_mapping(const char *name, const void *address) {
    read_maps();
    for (char *start = maps; *start != '\0';) {
        char *end = strchr(start, '\n');
        if (end == NULL) end = start + strlen(start);
        char saved = *end;
        *end = '\0';
        unsigned long low = 0, high = 0;
        sscanf(start, "%lx-%lx", &low, &high);
        auto where = reinterpret_cast<uintptr_t>(address);
        bool wanted = name != NULL ? strstr(start, name) != NULL : (where >= low && where < high);
        if (wanted) {
            /* The address range and permissions, then the size in KiB. */
            snprintf(line, sizeof line, "   %-26.26s %.4s   %6lu KiB   %s\n", start, strchr(start, ' ') + 1,
                     (high - low) / 1024, name != NULL ? name : "(an anonymous mapping of its own)");
            say(line);
            *end = saved;
            return;
        }
        *end = saved;
        start = *end == '\0' ? end : end + 1;
    }
    say(name != NULL ? "   no [heap] mapping yet\n" : "   (no mapping holds it)\n");
}

void *last_break = NULL;

void show_break() {
    void *now = sbrk(0);
    long moved = static_cast<char *>(now) - static_cast<char *>(last_break);
    if (last_break == NULL || moved == 0) {
        snprintf(line, sizeof line, "   sbrk(0) = %p%s\n", now, last_break == NULL ? "" : "   (did not move)");
    } else {
        snprintf(line, sizeof line, "   sbrk(0) = %p   (moved %s %ld KiB)\n", now, moved > 0 ? "up" : "down",
                 (moved > 0 ? moved : -moved) / 1024);
    }
    say(line);
    last_break = now;
}

constexpr int kSmallBlocks = 1000;
constexpr size_t kSmallSize = 1000;
constexpr size_t kLargeSize = 8 << 20; /* 8 MiB: far above glibc's mmap threshold (128 KiB) */

/* volatile: the compiler must not drop allocations whose blocks we never use. */
void *volatile small[kSmallBlocks];
void *volatile large;

}  // namespace

int main() {
    say("1. At the start of main (the C and C++ runtimes may already have used the heap)\n");
    show_break();
    show_mapping("[heap]", NULL);

    void *first = malloc(100);
    small[0] = first;
    snprintf(line, sizeof line, "\n2. After malloc(100), which returned %p: inside the heap\n", first);
    say(line);
    show_break();
    show_mapping("[heap]", NULL);

    for (int i = 1; i < kSmallBlocks; ++i) small[i] = malloc(kSmallSize);
    snprintf(line, sizeof line, "\n3. After %d more malloc(%zu): about %zu KiB in small blocks\n", kSmallBlocks - 1,
             kSmallSize, (kSmallBlocks - 1) * kSmallSize / 1024);
    say(line);
    show_break();
    show_mapping("[heap]", NULL);

    large = malloc(kLargeSize);
    snprintf(line, sizeof line, "\n4. After malloc(%zu MiB), which returned %p: not in the heap\n", kLargeSize >> 20,
             large);
    say(line);
    show_break();
    show_mapping("[heap]", NULL);
    show_mapping(NULL, large);

    for (int i = 0; i < kSmallBlocks; ++i) free(small[i]);
    say("\n5. After free() of every small block: glibc gave the free top of the heap back\n");
    show_break();
    show_mapping("[heap]", NULL);

    void *gone = large;
    free(large);
    say("\n6. After free() of the large block: glibc gave its whole mapping back with munmap\n");
    show_break();
    show_mapping(NULL, gone);
    return 0;
}
