/**
 * @file trace_gen.h
 * @brief The seeded, deterministic generator behind the committed trace suite.
 *
 * Every trace in `traces/` is the output of this generator: a named workload *shape* (many
 * small objects, LIFO lifetimes, growing buffers, coalescing runs, ...), a seed and a number of
 * requests. Generating traces instead of hand-writing them (or copying the CS:APP ones, which
 * are not ours to ship) means the suite can be re-made, resized and explained: each shape says
 * in one line what it stresses, and the code that makes it is the precise description.
 *
 * The same shape, seed and request count give the same trace byte for byte on every compiler
 * and standard library: the generator uses its own PRNG (xoshiro256** seeded by splitmix64)
 * and integer arithmetic only — no `std::*_distribution`, whose algorithms are unspecified,
 * and no floating-point `log`/`exp`, whose last bits vary between libm versions. A test checks
 * that the committed files still equal the generator's output.
 *
 * Generated traces always obey the reader's rules (see `traces/README.md`): ids are reused
 * after a free, so `ids` stays small; an `a`/`c` only names a free id; `r`/`f` only a live
 * one; no `r id 0`; and the trace has exactly the requested number of requests.
 */
#ifndef HEAPLAB_TRACE_GEN_H
#define HEAPLAB_TRACE_GEN_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "heaplab/trace.h"

namespace heaplab {

/** @brief One workload shape the generator knows, with the defaults the suite uses. */
struct TraceShape {
    std::string name;            ///< e.g. `small-lifo`; also the trace's `name` header
    std::string stresses;        ///< one line: what the shape stresses (the `stresses` header)
    std::uint64_t default_seed;  ///< the seed of the committed trace
    std::size_t default_ops;     ///< the request count of the committed trace
};

/**
 * @brief Every shape, in suite order.
 *
 * The position is part of the suite: shape *i* (from 0) is committed as
 * `traces/NN-name.rep` with NN = i + 1, written with two digits.
 */
const std::vector<TraceShape> &trace_shapes();

/**
 * @brief Generates one trace.
 *
 * The result has `name` = @p shape, `stresses` = the shape's description, `seed` = @p seed,
 * `num_ids` = one more than the largest id used, and exactly @p ops requests (`line` = 0).
 * The size limits the suite promises (peak live bytes, total bytes requested) hold for the
 * default request counts; a much larger @p ops scales the workload and may exceed them.
 *
 * @param shape a name from trace_shapes().
 * @param seed any value; 0 is as good as any other.
 * @param ops the number of requests, 1 .. kMaxTraceOps (what the reader accepts).
 * @throws std::invalid_argument for an unknown shape (`unknown trace shape 'x'; known: ...`)
 *         or a request count out of range.
 */
Trace generate_trace(const std::string &shape, std::uint64_t seed, std::size_t ops);

/**
 * @brief The suite file name of a shape: `NN-name.rep`.
 * @throws std::invalid_argument for an unknown shape.
 */
std::string trace_file_name(const std::string &shape);

}  // namespace heaplab

#endif  // HEAPLAB_TRACE_GEN_H
