/**
 * @file write_line.h
 * @brief Messages from inside malloc: a line assembled on the stack and written with write(2),
 *        and the report-and-abort for a pointer a program must never have passed.
 *
 * Inside malloc there is no printf: printf may call malloc, which would re-enter the
 * allocator while it holds its lock, or while its state is the very thing being reported.
 * Header-only, so that every allocator build (the reference, each lab's preloadable library,
 * a student's `make preload`) takes it without another library to link.
 */
#ifndef HEAPLAB_WRITE_LINE_H
#define HEAPLAB_WRITE_LINE_H

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <unistd.h>

namespace heaplab {

/// A fixed-capacity line buffer on the stack; text beyond its capacity is dropped.
class Line {
public:
    /// Appends a NUL-terminated string.
    Line &str(const char *s) {
        while (*s != '\0' && len_ < sizeof buf_ - 1) buf_[len_++] = *s++;
        return *this;
    }

    /// Appends @p v in decimal.
    Line &num(std::uint64_t v) {
        char digits[24];
        int n = 0;
        do {
            digits[n++] = static_cast<char>('0' + v % 10);
            v /= 10;
        } while (v != 0);
        while (n > 0 && len_ < sizeof buf_ - 1) buf_[len_++] = digits[--n];
        return *this;
    }

    /// Appends @p v in hexadecimal, as 0x...
    Line &hex(std::uint64_t v) {
        str("0x");
        char digits[16];
        int n = 0;
        do {
            digits[n++] = "0123456789abcdef"[v & 15];
            v >>= 4;
        } while (v != 0);
        while (n > 0 && len_ < sizeof buf_ - 1) buf_[len_++] = digits[--n];
        return *this;
    }

    /// Appends an address, as hex().
    Line &ptr(const void *p) { return hex(reinterpret_cast<std::uintptr_t>(p)); }

    /// Writes the line, with a final newline, to @p fd, and empties the buffer.
    void write_to(int fd) {
        buf_[len_++] = '\n';  // len_ <= sizeof buf_ - 1 always leaves room for it
        std::size_t done = 0;
        while (done < len_) {
            ssize_t n = ::write(fd, buf_ + done, len_ - done);
            if (n <= 0) break;
            done += static_cast<std::size_t>(n);
        }
        len_ = 0;
    }

private:
    char buf_[256];
    std::size_t len_ = 0;
};

/// Reports "heaplab: <op>: <what>: <address>" on stderr and aborts. For misuse the program
/// cannot recover from: a double free, or freeing a pointer the allocator never returned.
[[noreturn]] inline void fatal_pointer(const char *op, const char *what, const void *p) {
    Line().str("heaplab: ").str(op).str(": ").str(what).str(": ").ptr(p).write_to(STDERR_FILENO);
    std::abort();
}

}  // namespace heaplab

#endif  // HEAPLAB_WRITE_LINE_H
