/**
 * @file report.h
 * @brief Diagnostics that never allocate: messages assembled on the stack and written with
 *        write(2), then (for heap corruption and misuse) abort().
 *
 * Inside malloc there is no printf: printf may call malloc, which would re-enter the
 * allocator while it holds its lock, or while its state is the very thing being reported.
 */
#ifndef HEAPLAB_REF_REPORT_H
#define HEAPLAB_REF_REPORT_H

#include <cstddef>
#include <cstdint>

namespace heaplab::ref {

/// A fixed-capacity line buffer on the stack; text beyond its capacity is dropped.
class Line {
public:
    Line &str(const char *s);    ///< appends a NUL-terminated string
    Line &num(std::uint64_t v);  ///< decimal
    Line &hex(std::uint64_t v);  ///< 0x...
    Line &ptr(const void *p) { return hex(reinterpret_cast<std::uintptr_t>(p)); }  ///< an address, as hex()
    void write_to(int fd);       ///< writes the line (with a final newline) to @p fd
private:
    char buf_[256];
    std::size_t len_ = 0;
};

/// Reports "heaplab: <op>: <what>: <address>" on stderr and aborts. For misuse the program
/// cannot recover from: a double free, or freeing a pointer the allocator never returned.
[[noreturn]] void fatal_pointer(const char *op, const char *what, const void *p);

}  // namespace heaplab::ref

#endif  // HEAPLAB_REF_REPORT_H
