/** @file report.cpp @brief write(2)-only diagnostics (see report.h). */
#include "report.h"

#include <cstdlib>
#include <unistd.h>

namespace heaplab::ref {

Line &Line::str(const char *s) {
    while (*s != '\0' && len_ < sizeof buf_ - 1) buf_[len_++] = *s++;
    return *this;
}

Line &Line::num(std::uint64_t v) {
    char digits[24];
    int n = 0;
    do {
        digits[n++] = static_cast<char>('0' + v % 10);
        v /= 10;
    } while (v != 0);
    while (n > 0 && len_ < sizeof buf_ - 1) buf_[len_++] = digits[--n];
    return *this;
}

Line &Line::hex(std::uint64_t v) {
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

void Line::write_to(int fd) {
    buf_[len_++] = '\n';  // len_ <= sizeof buf_ - 1 always leaves room for it
    std::size_t done = 0;
    while (done < len_) {
        ssize_t n = ::write(fd, buf_ + done, len_ - done);
        if (n <= 0) break;
        done += static_cast<std::size_t>(n);
    }
    len_ = 0;
}

void fatal_pointer(const char *op, const char *what, const void *p) {
    Line().str("heaplab: ").str(op).str(": ").str(what).str(": ").ptr(p).write_to(STDERR_FILENO);
    std::abort();
}

}  // namespace heaplab::ref
