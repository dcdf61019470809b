/**
 * @file trace.h
 * @brief Workload traces: the text format, its reader, and the in-memory form.
 *
 * A trace is a list of requests to an allocator, each naming a block by a small integer id.
 * The format is a superset of the classic malloc-lab traces, which replay unchanged.
 * `traces/README.md` is the full specification; in short:
 *
 * ```
 * # comments start with '#' and run to the end of the line
 * heaplab-trace 1                 # the magic line: this is the HeapLab header
 * name     small-lifo             # header keys, one per line, before the first request
 * stresses many small objects freed in LIFO order
 * ids      1000                   # ids are 0 .. ids-1
 * ops      20000                  # how many requests follow (a shorter file is truncated)
 * a 0 24                          # a ID SIZE         mm_malloc(SIZE)
 * c 1 4 16                        # c ID NMEMB SIZE   mm_calloc(NMEMB, SIZE)
 * r 0 100                         # r ID SIZE         mm_realloc(block ID, SIZE)
 * f 0                             # f ID              mm_free(block ID)
 * ```
 *
 * A classic trace starts with four numbers instead of the magic line (suggested heap size,
 * number of ids, number of requests, weight) and then the same `a`/`r`/`f` lines.
 *
 * The reader never skips anything silently: every line is a header line, a request, a comment
 * or blank, and anything else is an error reported as `file:line: what is wrong`.
 */
#ifndef HEAPLAB_TRACE_H
#define HEAPLAB_TRACE_H

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace heaplab {

/** @brief One request of a trace. */
struct TraceOp {
    /** @brief What the request asks the allocator to do. */
    enum class Kind : std::uint8_t {
        Alloc,    ///< `a id size`: mm_malloc(size)
        Calloc,   ///< `c id nmemb size`: mm_calloc(nmemb, size)
        Realloc,  ///< `r id size`: mm_realloc(block id, size)
        Free,     ///< `f id`: mm_free(block id)
    };
    Kind kind;             ///< which mm_* function the request calls
    std::uint32_t id;      ///< the block's id, below Trace::num_ids
    std::size_t size;      ///< bytes asked (for Calloc: the size of one member); 0 for Free
    std::size_t nmemb;     ///< Calloc only: the number of members; 1 otherwise
    std::uint32_t line;    ///< the line of the trace file this request came from

    /** @brief The bytes the request asks for: size, or nmemb * size for Calloc. */
    [[nodiscard]] std::size_t bytes() const { return kind == Kind::Calloc ? nmemb * size : size; }
};

/** @brief A whole trace, checked and ready to replay. */
struct Trace {
    std::string path;                ///< the file it was read from ("" when built in memory)
    std::string name;                ///< short name (header `name`, else the file name)
    std::string stresses;            ///< what it stresses (header `stresses`), may be empty
    bool classic = false;            ///< true when it has the classic four-number header
    std::size_t num_ids = 0;         ///< ids are 0 .. num_ids-1
    std::size_t suggested_heap = 0;  ///< classic header's first number (0 when absent)
    std::size_t weight = 1;          ///< classic header's fourth number
    std::uint64_t seed = 0;          ///< header `seed`: the generator seed, 0 when absent
    std::vector<TraceOp> ops;        ///< the requests, in order
};

/** @brief The one error a malformed trace raises; what() is `file:line: what is wrong`. */
class TraceError : public std::runtime_error {
public:
    /// @p line is 1-based (0: the error is about the file as a whole, e.g. it cannot be read);
    /// what() becomes `file:line: message`, the form editors and terminals turn into a link.
    TraceError(const std::string &file, std::size_t line, const std::string &message);
    /// The trace file the error is in.
    [[nodiscard]] const std::string &file() const { return file_; }
    /// The 1-based line of the bad request or header (0: the whole file).
    [[nodiscard]] std::size_t line() const { return line_; }
    /// What is wrong, without the file and line (for callers that print those themselves).
    [[nodiscard]] const std::string &message() const { return message_; }

private:
    std::string file_;
    std::size_t line_;
    std::string message_;
};

/** @brief The largest request size a trace may contain (1 GiB): anything larger is absurd. */
inline constexpr std::size_t kMaxTraceRequest = std::size_t{1} << 30;
/** @brief The most ids a trace may declare. */
inline constexpr std::size_t kMaxTraceIds = std::size_t{1} << 22;
/** @brief The most requests a trace may declare. */
inline constexpr std::size_t kMaxTraceOps = std::size_t{1} << 26;

/**
 * @brief Parses a trace from text.
 * @param text the whole file.
 * @param file the name used in error messages.
 * @throws TraceError on the first problem, naming its line.
 */
Trace parse_trace(std::string_view text, const std::string &file);

/** @brief Reads and parses a trace file. @throws TraceError, also when it cannot be read. */
Trace read_trace(const std::string &path);

/** @brief Writes @p trace in the HeapLab format (with its header); parse_trace() reads it back. */
std::string format_trace(const Trace &trace);

/** @brief One request as a trace line, e.g. `a 7 40` (for messages). */
std::string format_op(const TraceOp &op);

}  // namespace heaplab

#endif  // HEAPLAB_TRACE_H
