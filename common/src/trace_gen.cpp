/**
 * @file trace_gen.cpp
 * @brief The workload shapes behind `traces/`, and the small machinery they share.
 *
 * How a shape is written. Each shape is a function that drives a Builder: it asks for blocks
 * (`alloc`, `calloc`), resizes them (`realloc`) and releases them (`free`), keeping whatever
 * structure the workload has (a stack for LIFO lifetimes, a queue for FIFO, a tree, ...).
 * The Builder turns those calls into trace requests and owns three jobs so that no shape has
 * to get them right on its own:
 *
 *  - **Ids.** A freed id is reused (smallest first), so `ids` stays near the peak number of
 *    live blocks, and an `a`/`c` can never name a live id nor an `f`/`r` a dead one.
 *  - **The request budget.** A trace has exactly the number of requests asked for. Once the
 *    budget is spent, `alloc` returns kNone and `realloc`/`free` do nothing; `free(kNone)` is
 *    harmless, so a shape can finish its current round without checking every call. A shape
 *    that promises to free everything ("free-all") gets one request reserved per live block,
 *    and finish() spends the reserve freeing them.
 *  - **Accounting.** Live bytes (and their peak) and the total of bytes ever requested, which
 *    a shape may consult to stay inside the suite's limits.
 *
 * Determinism. All randomness comes from Rng (xoshiro256**, seeded through splitmix64), and
 * every draw is integer arithmetic, so the output is the same on every platform. One trap:
 * never make two draws in the arguments of one call (`f(rng.range(..), rng.pick(..))`) —
 * C++ leaves their order unspecified, and GCC and Clang really do differ. Draw into named
 * variables first; `?:`, `&&`, `||` and braced lists are sequenced and safe. Changing a
 * shape changes its committed trace: regenerate the suite (`heaplab trace generate --all
 * --out traces/`) in the same commit, or the trace_gen test fails.
 */
#include "heaplab/trace_gen.h"

#include <algorithm>
#include <deque>
#include <functional>
#include <limits>
#include <queue>
#include <stdexcept>
#include <utility>

namespace heaplab {
namespace {

constexpr std::size_t KiB = 1024;
constexpr std::size_t MiB = 1024 * KiB;

/**
 * @brief xoshiro256** (Blackman & Vigna), seeded with splitmix64.
 *
 * Ours rather than <random>: std::mt19937_64 would be reproducible, but the distributions
 * built on it are not (their algorithms are left to each library), and a trace must not
 * change when the compiler does. Only integer operations are used below.
 */
class Rng {
public:
    explicit Rng(std::uint64_t seed) {
        // splitmix64 spreads any seed (even 0) over the 256-bit state, which must not be all 0.
        std::uint64_t x = seed;
        for (std::uint64_t &word : state_) {
            x += 0x9e3779b97f4a7c15ULL;
            std::uint64_t z = x;
            z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
            z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
            word = z ^ (z >> 31);
        }
    }

    /** @brief The next 64 random bits. */
    std::uint64_t next() {
        const std::uint64_t result = rotl(state_[1] * 5, 7) * 9;
        const std::uint64_t t = state_[1] << 17;
        state_[2] ^= state_[0];
        state_[3] ^= state_[1];
        state_[1] ^= state_[2];
        state_[0] ^= state_[3];
        state_[2] ^= t;
        state_[3] = rotl(state_[3], 45);
        return result;
    }

    /** @brief Uniform in [0, n), n > 0, without modulo bias (rejects the short last range). */
    std::uint64_t below(std::uint64_t n) {
        const std::uint64_t threshold = (0 - n) % n;  // 2^64 mod n
        for (;;) {
            const std::uint64_t r = next();
            if (r >= threshold) return r % n;
        }
    }

    /** @brief Uniform in [lo, hi], inclusive. */
    std::size_t range(std::size_t lo, std::size_t hi) { return lo + below(hi - lo + 1); }

    /** @brief True with probability p/100. */
    bool percent(unsigned p) { return below(100) < p; }

    /** @brief True with probability p/1000. */
    bool permille(unsigned p) { return below(1000) < p; }

    /**
     * @brief A size in [lo, hi] spread evenly over the powers of two in between.
     *
     * A uniform draw over 64 KiB .. 4 MiB would almost never give a block under 1 MiB; real
     * programs ask for sizes roughly log-uniformly. Pick the octave first, then a size in it.
     */
    std::size_t log_size(std::size_t lo, std::size_t hi) {
        const int lo_bit = floor_log2(lo);
        const int hi_bit = floor_log2(hi);
        const int bit = lo_bit + static_cast<int>(below(static_cast<std::uint64_t>(hi_bit - lo_bit + 1)));
        const std::size_t first = std::max(lo, std::size_t{1} << bit);
        const std::size_t last = std::min(hi, (std::size_t{2} << bit) - 1);
        return range(first, last);
    }

    /** @brief One element of a non-empty list, uniformly. */
    template <typename T> const T &pick(const std::vector<T> &items) {
        return items[static_cast<std::size_t>(below(items.size()))];
    }

    /** @brief Fisher-Yates, with our own draws (std::shuffle's algorithm is unspecified). */
    template <typename T> void shuffle(std::vector<T> &items) {
        for (std::size_t i = items.size(); i > 1; --i) {
            std::swap(items[i - 1], items[static_cast<std::size_t>(below(i))]);
        }
    }

private:
    static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
    static int floor_log2(std::size_t x) {
        int bit = 0;
        while (x >>= 1) ++bit;
        return bit;
    }

    std::uint64_t state_[4];
};

/** @brief A block as the shapes see it: its trace id, or kNone when it was never made. */
using Id = std::uint32_t;
constexpr Id kNone = std::numeric_limits<Id>::max();

/** @brief Turns a shape's allocator calls into a valid trace of exactly the requested length. */
class Builder {
public:
    Builder(std::size_t ops, std::uint64_t seed, bool free_all)
        : rng(seed), target_(ops), free_all_(free_all) {
        ops_.reserve(ops);
    }

    Rng rng;  ///< the shape's only source of randomness

    /** @brief Requests not yet emitted. */
    [[nodiscard]] std::size_t remaining() const { return target_ - ops_.size(); }

    /**
     * @brief Requests the shape may still spend: the rest, less (for a free-all shape) one
     * reserved per live block for the final frees.
     */
    [[nodiscard]] std::size_t room() const {
        const std::size_t reserve = free_all_ ? live() : 0;
        return remaining() > reserve ? remaining() - reserve : 0;
    }

    /**
     * @brief Whether one more block fits the budget: an allocation costs one request, plus
     * the free it will need when the shape frees everything at the end. Shapes loop on this.
     */
    [[nodiscard]] bool can_alloc() const { return room() >= (free_all_ ? 2U : 1U); }

    [[nodiscard]] std::size_t live() const { return live_ids_.size(); }
    [[nodiscard]] bool is_live(Id id) const {
        return id < live_pos_.size() && live_pos_[id] != kNotLive;
    }
    /** @brief The bytes block @p id holds now (nmemb * size for a calloc). */
    [[nodiscard]] std::size_t size_of(Id id) const { return sizes_.at(id); }
    /** @brief A live block chosen uniformly; the shape must check live() > 0 first. */
    Id random_live() { return live_ids_[static_cast<std::size_t>(rng.below(live_ids_.size()))]; }

    [[nodiscard]] std::size_t live_bytes() const { return live_bytes_; }
    [[nodiscard]] std::size_t peak_live_bytes() const { return peak_live_bytes_; }
    [[nodiscard]] std::size_t total_requested() const { return total_requested_; }

    /** @brief `a ID SIZE`; kNone when the budget is spent. */
    Id alloc(std::size_t size) {
        if (!can_alloc()) return kNone;
        const Id id = take_id();
        emit(TraceOp::Kind::Alloc, id, size, 1);
        make_live(id, size);
        return id;
    }

    /** @brief `c ID NMEMB SIZE`; kNone when the budget is spent. */
    Id calloc(std::size_t nmemb, std::size_t size) {
        if (!can_alloc()) return kNone;
        if (nmemb == 0 || size == 0) throw std::logic_error("trace_gen: calloc of 0 bytes");
        const Id id = take_id();
        emit(TraceOp::Kind::Calloc, id, size, nmemb);
        make_live(id, nmemb * size);
        return id;
    }

    /**
     * @brief `r ID SIZE`; false (and nothing emitted) for kNone or when the budget is spent.
     * Never `r id 0` (legal but a free in disguise), and never on a block of 0 bytes, whose
     * pointer may be null.
     */
    bool realloc(Id id, std::size_t size) {
        if (id == kNone || room() < 1) return false;
        check_live(id, "realloc");
        if (size == 0 || sizes_[id] == 0) throw std::logic_error("trace_gen: realloc to or from 0 bytes");
        emit(TraceOp::Kind::Realloc, id, size, 1);
        live_bytes_ = live_bytes_ - sizes_[id] + size;
        peak_live_bytes_ = std::max(peak_live_bytes_, live_bytes_);
        total_requested_ += size;
        sizes_[id] = size;
        return true;
    }

    /** @brief `f ID`; false for kNone or when the budget is spent (the block stays live). */
    bool free(Id id) {
        if (id == kNone || remaining() == 0) return false;
        check_live(id, "free");
        emit(TraceOp::Kind::Free, id, 0, 1);
        live_bytes_ -= sizes_[id];
        const std::size_t pos = live_pos_[id];
        live_pos_[live_ids_.back()] = pos;
        live_ids_[pos] = live_ids_.back();
        live_ids_.pop_back();
        live_pos_[id] = kNotLive;
        free_ids_.push(id);
        return true;
    }

    /**
     * @brief Ends the trace: spends what is left of the budget and, for a free-all shape,
     * frees the blocks in @p order first (ids no longer live are skipped), then the rest in
     * random order.
     */
    Trace finish(const TraceShape &shape, std::uint64_t seed, const std::vector<Id> &order = {}) {
        if (free_all_) {
            // The shape stopped with room() 0 or 1; usually nothing is left to pad.
            while (room() >= 2) alloc(rng.range(16, 64));
            if (room() == 1) pad_one();
            for (Id id : order) {
                if (id != kNone && is_live(id)) free(id);
            }
            while (live() > 0 && remaining() > 0) free(random_live());
        }
        while (remaining() > 0) {
            if (alloc(rng.range(16, 64)) == kNone) throw std::logic_error("trace_gen: cannot fill the budget");
        }

        if (next_fresh_id_ > kMaxTraceIds) {
            throw std::invalid_argument("trace shape '" + shape.name + "' with " + std::to_string(target_) +
                                        " requests needs " + std::to_string(next_fresh_id_) +
                                        " ids, more than a trace may declare; ask for fewer requests");
        }
        Trace trace;
        trace.name = shape.name;
        trace.stresses = shape.stresses;
        trace.seed = seed;
        trace.num_ids = next_fresh_id_;
        trace.ops = std::move(ops_);
        return trace;
    }

private:
    static constexpr std::size_t kNotLive = std::numeric_limits<std::size_t>::max();

    Id take_id() {
        if (!free_ids_.empty()) {
            const Id id = free_ids_.top();
            free_ids_.pop();
            return id;
        }
        const Id id = next_fresh_id_++;
        sizes_.push_back(0);
        live_pos_.push_back(kNotLive);
        return id;
    }

    void make_live(Id id, std::size_t bytes) {
        sizes_[id] = bytes;
        live_pos_[id] = live_ids_.size();
        live_ids_.push_back(id);
        live_bytes_ += bytes;
        peak_live_bytes_ = std::max(peak_live_bytes_, live_bytes_);
        total_requested_ += bytes;
    }

    void check_live(Id id, const char *what) const {
        if (!is_live(id)) {
            throw std::logic_error(std::string("trace_gen: ") + what + " of block " +
                                   std::to_string(id) + ", which is not live");
        }
    }

    void emit(TraceOp::Kind kind, Id id, std::size_t size, std::size_t nmemb) {
        if (ops_.size() >= target_) throw std::logic_error("trace_gen: request budget overrun");
        if (nmemb * size > kMaxTraceRequest) throw std::logic_error("trace_gen: request over 1 GiB");
        ops_.push_back(TraceOp{kind, id, size, nmemb, 0});
    }

    /** @brief Spends exactly one request without changing which blocks are live. */
    void pad_one() {
        for (Id id : live_ids_) {
            if (sizes_[id] > 0) {
                realloc(id, sizes_[id] + 16);
                return;
            }
        }
        // Only reached when every live block has 0 bytes (or none is live): one block stays.
        const bool saved = free_all_;
        free_all_ = false;
        alloc(16);
        free_all_ = saved;
    }

    std::size_t target_;
    bool free_all_;
    std::vector<TraceOp> ops_;
    std::vector<std::size_t> sizes_;     // by id: bytes of the block now (or last) holding it
    std::vector<std::size_t> live_pos_;  // by id: index in live_ids_, or kNotLive
    std::vector<Id> live_ids_;           // the live blocks, in no particular order
    std::priority_queue<Id, std::vector<Id>, std::greater<>> free_ids_;  // smallest id first
    Id next_fresh_id_ = 0;
    std::size_t live_bytes_ = 0;
    std::size_t peak_live_bytes_ = 0;
    std::size_t total_requested_ = 0;
};

/** @brief Removes element @p i of @p items in O(1), not keeping the order. */
template <typename T> T take_at(std::vector<T> &items, std::size_t i) {
    T item = items[i];
    items[i] = items.back();
    items.pop_back();
    return item;
}

/** @brief Removes and returns a uniformly chosen element of a non-empty list. */
template <typename T> T take_random(Builder &b, std::vector<T> &items) {
    return take_at(items, static_cast<std::size_t>(b.rng.below(items.size())));
}

/** @brief A slowly wandering working-set size: jumps to a new value in [lo, hi] now and then. */
class Target {
public:
    Target(Builder &b, std::size_t lo, std::size_t hi, unsigned change_permille)
        : b_(b), lo_(lo), hi_(hi), change_(change_permille), value_(b.rng.range(lo, hi)) {}
    std::size_t next() {
        if (b_.rng.permille(change_)) value_ = b_.rng.range(lo_, hi_);
        return value_;
    }

private:
    Builder &b_;
    std::size_t lo_, hi_;
    unsigned change_;
    std::size_t value_;
};

// ---------------------------------------------------------------------------------------------
// The shapes. Each comment says what an allocator must do well to score on it.
// ---------------------------------------------------------------------------------------------

/** @brief A small object, 8..128 bytes, mostly at the small end (as in real programs). */
std::size_t small_size(Rng &rng) {
    const auto p = rng.below(100);
    if (p < 60) return rng.range(8, 32);
    if (p < 85) return rng.range(33, 64);
    return rng.range(65, 128);
}

/**
 * many small objects: a working set that grows from a few hundred to a few thousand small
 * blocks, with random frees all along. Rewards low per-block overhead and quick reuse of
 * small free blocks; exposes search cost in a long free list.
 */
std::vector<Id> shape_small_objects(Builder &b) {
    const std::size_t total = b.remaining();
    while (b.can_alloc()) {
        const std::size_t done = total - b.remaining();
        const std::size_t target = 200 + 3800 * done / total;
        const bool grow = b.live() == 0 || b.rng.percent(b.live() < target ? 70 : 30);
        if (grow) {
            b.alloc(small_size(b.rng));
        } else {
            b.free(b.random_live());
        }
    }
    return {};
}

/**
 * small objects freed LIFO: bursts of same-ish-size blocks pushed and popped like a stack.
 * The most recently freed block is always at the top of the heap or next to the previous
 * one: an allocator that coalesces with its neighbour (or keeps a LIFO free list) reuses it at
 * once.
 */
std::vector<Id> shape_small_lifo(Builder &b) {
    std::vector<Id> stack;
    Target depth(b, 20, 2000, 15);  // the stack wanders towards a depth that changes now and then
    while (b.can_alloc()) {
        const std::size_t push = b.rng.range(1, 64);
        const std::size_t base = b.rng.range(16, 96);
        for (std::size_t i = 0; i < push; ++i) {
            const Id id = b.alloc(base + b.rng.range(0, 16));
            if (id == kNone) break;
            stack.push_back(id);
        }
        std::size_t pop = stack.size() > depth.next() ? b.rng.range(push, 2 * push) : b.rng.range(0, push);
        if (b.rng.percent(3)) pop = b.rng.range(stack.size() / 2, stack.size());  // unwind deeply
        pop = std::min(pop, stack.size());
        for (std::size_t i = 0; i < pop; ++i) {
            b.free(stack.back());
            stack.pop_back();
        }
    }
    return {stack.rbegin(), stack.rend()};  // and at the end, the rest of the stack, top first
}

/**
 * FIFO lifetimes: a message queue whose length wanders between a hundred and a few thousand;
 * the oldest block is always the next freed. Freed space is at the *start* of the live region
 * while new requests arrive at its end: an allocator must reuse old space, not only grow.
 */
std::vector<Id> shape_fifo_queue(Builder &b) {
    std::deque<Id> queue;
    Target target(b, 100, 2500, 2);
    while (b.can_alloc()) {
        const std::size_t want = target.next();
        const bool enqueue = queue.empty() || b.rng.percent(queue.size() < want ? 65 : 35);
        if (enqueue) {
            const std::size_t size = b.rng.percent(95) ? b.rng.range(16, 512) : b.rng.range(1024, 4096);
            const Id id = b.alloc(size);
            if (id != kNone) queue.push_back(id);
        } else {
            b.free(queue.front());
            queue.pop_front();
        }
    }
    return {};
}

/**
 * bimodal sizes that punish splitting: small (16..64) and large (2..8 KiB) blocks allocated
 * side by side, then one population freed and the holes refilled with the other kind. Small
 * requests carved out of large holes leave no room for the large requests that follow; small
 * holes between large blocks are useless to them. A few blocks of every round survive for a
 * while, so the heap never becomes clean again.
 */
std::vector<Id> shape_bimodal_split(Builder &b) {
    auto small = [&b] { return b.rng.range(16, 64); };
    auto large = [&b] { return b.rng.range(2 * KiB, 8 * KiB); };
    std::vector<Id> survivors;
    bool free_large = true;
    while (b.can_alloc()) {
        const std::size_t n = b.rng.range(100, 300);
        std::vector<Id> smalls;
        std::vector<Id> larges;
        for (std::size_t i = 0; i < n; ++i) {
            smalls.push_back(b.alloc(small()));
            larges.push_back(b.alloc(large()));
        }
        std::vector<Id> kept = free_large ? smalls : larges;
        for (Id id : free_large ? larges : smalls) b.free(id);
        if (free_large) {
            // Small requests into the large holes, then large ones that no longer fit there.
            for (std::size_t i = 0; i < 2 * n; ++i) kept.push_back(b.alloc(small()));
            for (std::size_t i = 0; i < n / 2; ++i) kept.push_back(b.alloc(large()));
        } else {
            // Large requests that the small holes cannot hold, then small ones that can.
            for (std::size_t i = 0; i < n / 2; ++i) kept.push_back(b.alloc(large()));
            for (std::size_t i = 0; i < n; ++i) kept.push_back(b.alloc(small()));
        }
        b.rng.shuffle(kept);
        for (Id id : kept) {
            if (b.rng.percent(10)) {
                if (id != kNone) survivors.push_back(id);
            } else {
                b.free(id);
            }
        }
        if (survivors.size() > 600) {
            // The oldest half of the survivors go now.
            const std::size_t half = survivors.size() / 2;
            for (std::size_t i = 0; i < half; ++i) b.free(survivors[i]);
            survivors.erase(survivors.begin(), survivors.begin() + static_cast<std::ptrdiff_t>(half));
        }
        free_large = !free_large;
    }
    return survivors;
}

/**
 * vector-style growth: a handful of buffers grown by realloc to twice (or 1.5 times) their
 * size, up to 4 KiB .. 1 MiB each, with small element allocations in between that sit right
 * after a buffer and block growing it in place. Rewards in-place growth into a free neighbour
 * or the top of the heap; punishes leaving every outgrown copy behind as an unusable hole.
 */
std::vector<Id> shape_realloc_double(Builder &b) {
    struct Buffer {
        Id id;
        std::size_t cap;
        bool doubling;
    };
    std::vector<Buffer> buffers;
    std::vector<Id> elements;
    const std::size_t active = b.rng.range(4, 12);
    while (b.can_alloc()) {
        while (buffers.size() < active) {
            const Id id = b.alloc(b.rng.range(16, 64));
            if (id == kNone) break;
            buffers.push_back({id, std::size_t{1} << b.rng.range(12, 20), b.rng.percent(70)});
        }
        if (buffers.empty()) break;
        const std::size_t i = static_cast<std::size_t>(b.rng.below(buffers.size()));
        const Buffer buffer = buffers[i];
        const std::size_t cur = b.size_of(buffer.id);
        if (cur >= buffer.cap) {
            if (b.rng.percent(80)) b.free(buffer.id);  // else it stays: a long-lived table
            take_at(buffers, i);
            continue;
        }
        const std::size_t grown = buffer.doubling ? 2 * cur : cur + cur / 2;
        b.realloc(buffer.id, std::min(grown, buffer.cap));
        for (std::size_t n = b.rng.range(0, 3); n > 0; --n) {
            const Id id = b.alloc(b.rng.range(16, 128));
            if (id != kNone) elements.push_back(id);
        }
        if (!elements.empty() && (elements.size() > 300 || b.rng.percent(40))) {
            b.free(take_random(b, elements));
        }
    }
    return {};
}

/**
 * string-builder growth: buffers grown a few bytes at a time (+1 .. +64) by realloc, as a
 * line reader or string builder does, among short-lived allocations. Thousands of reallocs
 * that each need only a little more room: copying every time is slow, and an allocator that
 * can extend in place (or rounds sizes up) wins.
 */
std::vector<Id> shape_realloc_append(Builder &b) {
    struct Buffer {
        Id id;
        std::size_t cap;
    };
    std::vector<Buffer> buffers;
    std::vector<Id> temps;
    while (b.can_alloc()) {
        const std::size_t active = b.rng.range(2, 6);
        while (buffers.size() < active) {
            const Id id = b.alloc(b.rng.range(1, 32));
            if (id == kNone) break;
            buffers.push_back({id, b.rng.range(4 * KiB, 48 * KiB)});
        }
        if (buffers.empty()) break;
        const std::size_t i = static_cast<std::size_t>(b.rng.below(buffers.size()));
        const Buffer buffer = buffers[i];
        const std::size_t cur = b.size_of(buffer.id);
        if (cur >= buffer.cap) {
            b.free(buffer.id);
            take_at(buffers, i);
            continue;
        }
        b.realloc(buffer.id, cur + (b.rng.percent(20) ? 1 : b.rng.range(2, 64)));
        if (b.rng.percent(30)) {
            const Id id = b.alloc(b.rng.range(8, 200));
            if (id != kNone) temps.push_back(id);
        }
        if (!temps.empty() && (temps.size() > 200 || b.rng.percent(25))) b.free(take_random(b, temps));
    }
    std::vector<Id> order;
    for (const Buffer &buffer : buffers) order.push_back(buffer.id);
    return order;
}

/**
 * shrinking realloc: buffers allocated at 4..128 KiB and shrunk step by step (to 40..90 % each
 * time, now and then growing back), with small allocations in between. An allocator that
 * splits off the released tail and reuses it keeps the heap small; one that ignores shrinking
 * (or copies every time) does not.
 */
std::vector<Id> shape_realloc_shrink(Builder &b) {
    struct Buffer {
        Id id;
        std::size_t steps;
    };
    std::vector<Buffer> buffers;
    std::vector<Id> fillers;
    while (b.can_alloc()) {
        if (buffers.empty() || (buffers.size() < 24 && b.rng.percent(15))) {
            const Id id = b.alloc(b.rng.range(4 * KiB, 128 * KiB));
            if (id != kNone) buffers.push_back({id, b.rng.range(3, 12)});
            continue;
        }
        const std::size_t i = static_cast<std::size_t>(b.rng.below(buffers.size()));
        Buffer &buffer = buffers[i];
        if (buffer.steps == 0) {
            if (b.rng.percent(90)) b.free(buffer.id);
            take_at(buffers, i);
            continue;
        }
        --buffer.steps;
        const std::size_t cur = b.size_of(buffer.id);
        const std::size_t next = b.rng.percent(8) ? cur + cur / 4
                                                  : std::max<std::size_t>(16, cur * b.rng.range(40, 90) / 100);
        b.realloc(buffer.id, next);
        for (std::size_t n = b.rng.range(0, 2); n > 0; --n) {
            const Id id = b.alloc(b.rng.range(16, 1024));
            if (id != kNone) fillers.push_back(id);
        }
        if (!fillers.empty() && (fillers.size() > 200 || b.rng.percent(40))) {
            b.free(take_random(b, fillers));
        }
    }
    return {};
}

/**
 * coalescing: a run of 8..64 neighbouring blocks is freed in alternate order (odd ones, then
 * even ones; or backwards; or at random), then one block as large as the whole run is asked
 * for. Only an allocator that merged the freed neighbours can place it in the run; the others
 * grow the heap every round. A pinned block after each run keeps runs apart.
 */
std::vector<Id> shape_coalesce_runs(Builder &b) {
    std::deque<Id> pins;
    std::vector<Id> bigs;
    while (b.can_alloc()) {
        const std::size_t n = b.rng.range(8, 64);
        const bool uniform = b.rng.percent(50);
        const std::size_t size0 = b.rng.range(32, 512);
        std::vector<Id> run;
        std::size_t total = 0;
        for (std::size_t i = 0; i < n; ++i) {
            const std::size_t size = uniform ? size0 : b.rng.range(32, 512);
            const Id id = b.alloc(size);
            if (id == kNone) break;
            run.push_back(id);
            total += size;
        }
        const Id pin = b.alloc(b.rng.range(16, 48));
        if (pin != kNone) pins.push_back(pin);

        std::vector<Id> order;
        switch (b.rng.below(4)) {
        case 0:  // odd ones, then even ones, left to right
            for (std::size_t i = 1; i < run.size(); i += 2) order.push_back(run[i]);
            for (std::size_t i = 0; i < run.size(); i += 2) order.push_back(run[i]);
            break;
        case 1:  // even ones, then odd ones, right to left
            for (std::size_t i = run.size(); i-- > 0;) {
                if (i % 2 == 0) order.push_back(run[i]);
            }
            for (std::size_t i = run.size(); i-- > 0;) {
                if (i % 2 == 1) order.push_back(run[i]);
            }
            break;
        case 2:  // every third, then the rest from the right: holes that grow both ways
            for (std::size_t i = 0; i < run.size(); i += 3) order.push_back(run[i]);
            for (std::size_t i = run.size(); i-- > 0;) {
                if (i % 3 != 0) order.push_back(run[i]);
            }
            break;
        default:  // any order
            order = run;
            b.rng.shuffle(order);
            break;
        }
        for (Id id : order) b.free(id);
        if (total > 0) {
            const Id big = b.alloc(total);
            if (big != kNone) bigs.push_back(big);
        }
        if (!bigs.empty() && (bigs.size() > 8 || b.rng.percent(30))) b.free(take_random(b, bigs));
        if (pins.size() > 40) {
            b.free(pins.front());
            pins.pop_front();
        }
    }
    return {pins.begin(), pins.end()};
}

/**
 * external fragmentation: a run of equal blocks with every other one freed leaves holes of
 * exactly that size between live neighbours; the next requests are slightly larger, so no
 * hole fits them and the heap must grow. Then requests that do fit, then the rest of the run
 * is freed (now the holes can merge). Measures utilization under the classic worst case for
 * a non-moving allocator.
 */
std::vector<Id> shape_interleaved_holes(Builder &b) {
    std::deque<std::vector<Id>> older;
    while (b.can_alloc()) {
        const std::size_t n = b.rng.range(100, 600);
        const std::size_t size = b.rng.percent(70) ? 16 * b.rng.range(2, 64) : b.rng.range(24, 1024);
        std::vector<Id> run;
        for (std::size_t i = 0; i < n; ++i) run.push_back(b.alloc(size));
        for (std::size_t i = 1; i < run.size(); i += 2) b.free(run[i]);
        std::vector<Id> later;
        for (std::size_t i = 0; i < n / 2; ++i) later.push_back(b.alloc(size + b.rng.range(8, 64)));
        for (std::size_t i = 0; i < n / 4; ++i) later.push_back(b.alloc(b.rng.range(size / 2, size)));
        for (std::size_t i = 0; i < run.size(); i += 2) b.free(run[i]);
        older.push_back(std::move(later));
        if (older.size() > 3) {
            for (Id id : older.front()) b.free(id);
            older.pop_front();
        }
    }
    return {};
}

/** @brief Sizes of a general-purpose program: mostly small, some medium, a few large. */
std::size_t mixed_size(Rng &rng) {
    const auto p = rng.below(100);
    if (p < 70) return rng.range(1, 256);
    if (p < 95) return rng.range(257, 8 * KiB);
    return rng.log_size(8 * KiB, 128 * KiB);
}

const std::vector<std::size_t> kElementSizes = {1, 2, 4, 8, 12, 16, 24, 32, 40, 48, 64, 100};

/**
 * random mix: malloc, calloc, realloc and free in random order over a working set that
 * wanders between a few hundred and a few thousand blocks of mixed sizes, with a few
 * malloc(0). No pattern to exploit: the general case every allocator must handle.
 */
std::vector<Id> shape_random_mix(Builder &b) {
    Target target(b, 300, 3000, 1);
    while (b.can_alloc()) {
        const bool grow = b.live() < target.next();
        const auto r = b.rng.below(100);
        if (b.live() == 0 || r < (grow ? 45U : 25U)) {
            b.alloc(b.rng.permille(5) ? 0 : mixed_size(b.rng));
        } else if (r < (grow ? 55U : 35U)) {
            const std::size_t nmemb = b.rng.range(1, 64);
            b.calloc(nmemb, b.rng.pick(kElementSizes));
        } else if (r < (grow ? 70U : 50U)) {
            const Id id = b.random_live();
            const std::size_t cur = b.size_of(id);
            if (cur == 0) {
                b.free(id);
            } else if (b.rng.percent(50)) {
                b.realloc(id, std::max<std::size_t>(1, mixed_size(b.rng)));
            } else {
                const std::size_t delta = b.rng.range(0, cur / 2);
                b.realloc(id, b.rng.percent(50) ? std::min(cur + delta, MiB) : std::max<std::size_t>(1, cur - delta));
            }
        } else {
            b.free(b.random_live());
        }
    }
    return {};
}

/**
 * calloc-heavy: mostly calloc (arrays of 1..256 elements, some of thousands of bytes-wide
 * elements) among mallocs and frees. Freed blocks are dirty (the replay fills every payload),
 * so an allocator must really zero what it hands out again; clearing more than asked is slow.
 */
std::vector<Id> shape_calloc_heavy(Builder &b) {
    static const std::vector<std::size_t> kWide = {1, 2, 4, 8};
    Target target(b, 200, 1500, 2);
    while (b.can_alloc()) {
        const bool grow = b.live() < target.next();
        const auto r = b.rng.below(100);
        if (b.live() == 0 || r < (grow ? 60U : 40U)) {
            const bool narrow = b.rng.percent(85);
            const std::size_t nmemb = narrow ? b.rng.range(1, 256) : b.rng.range(1024, 16384);
            b.calloc(nmemb, b.rng.pick(narrow ? kElementSizes : kWide));
        } else if (r < (grow ? 68U : 48U)) {
            b.alloc(b.rng.range(16, 1024));
        } else {
            b.free(b.random_live());
        }
    }
    return {};
}

/**
 * large blocks: a few hundred blocks of 64 KiB .. 4 MiB (some resized) among small traffic,
 * at most 40 MiB of them live at once. Tests heap growth in big steps, reuse of big freed
 * areas (and merging them), and that small blocks do not get stranded between large ones.
 */
std::vector<Id> shape_large_blocks(Builder &b) {
    constexpr std::size_t kLiveCap = 40 * MiB;
    constexpr std::size_t kTotalBudget = 400 * MiB;
    std::vector<Id> larges;
    std::vector<Id> smalls;
    std::size_t large_bytes = 0;
    auto free_large = [&](std::size_t i) {
        const Id id = larges[i];
        const std::size_t size = b.size_of(id);
        if (b.free(id)) {
            large_bytes -= size;
            take_at(larges, i);
        }
    };
    auto large_size = [&b] {
        // Past the budget, fall back to the smallest large blocks (never hit with the defaults).
        return b.total_requested() < kTotalBudget ? b.rng.log_size(64 * KiB, 4 * MiB)
                                                  : b.rng.range(64 * KiB, 128 * KiB);
    };
    while (b.can_alloc()) {
        const auto r = b.rng.below(1000);
        if (r < 50) {
            const std::size_t size = large_size();
            while (!larges.empty() && large_bytes + size > kLiveCap) {
                free_large(static_cast<std::size_t>(b.rng.below(larges.size())));
            }
            const Id id = b.alloc(size);
            if (id != kNone) {
                larges.push_back(id);
                large_bytes += size;
            }
        } else if (r < 65 && !larges.empty()) {
            const Id id = b.rng.pick(larges);
            const std::size_t cur = b.size_of(id);
            std::size_t next = std::clamp(cur * b.rng.range(50, 150) / 100, 64 * KiB, 4 * MiB);
            if (large_bytes - cur + next > kLiveCap) next = std::max(64 * KiB, cur / 2);
            if (b.realloc(id, next)) large_bytes = large_bytes - cur + next;
        } else if (r < 95 && !larges.empty()) {
            free_large(static_cast<std::size_t>(b.rng.below(larges.size())));
        } else if (smalls.empty() || (smalls.size() < 400 && b.rng.percent(60))) {
            const Id id = b.alloc(b.rng.range(16, 512));
            if (id != kNone) smalls.push_back(id);
        } else {
            b.free(take_random(b, smalls));
        }
    }
    return larges;  // the large blocks go first at the end, then the small ones
}

/**
 * powers of two: every size is exactly 8 B .. 16 KiB, mostly small. With a header in front
 * of each block, a size-class allocator that rounds up to powers of two wastes nearly half
 * of every block; reallocs move blocks to the next power.
 */
std::vector<Id> shape_power_of_two(Builder &b) {
    auto pow2 = [&b] {
        const auto k1 = b.rng.below(12);
        const auto k2 = b.rng.below(12);
        const auto k = std::min(k1, k2);  // 0..11, small ones likelier
        return std::size_t{8} << k;
    };
    Target target(b, 500, 3000, 2);
    while (b.can_alloc()) {
        const bool grow = b.live() < target.next();
        const auto r = b.rng.below(100);
        if (b.live() == 0 || r < (grow ? 55U : 35U)) {
            b.alloc(pow2());
        } else if (r < (grow ? 65U : 45U)) {
            const Id id = b.random_live();
            const std::size_t cur = b.size_of(id);
            b.realloc(id, cur < 16 * KiB ? 2 * cur : cur / 2);
        } else {
            b.free(b.random_live());
        }
    }
    return {};
}

/**
 * odd sizes: requests of 1..33 bytes (and a few of 0) by malloc, calloc and realloc. Every
 * payload must still be 16-byte aligned and every block at least the allocator's minimum;
 * headers and footers must not be overwritten by a 1-byte payload rounded wrongly.
 */
std::vector<Id> shape_odd_sizes(Builder &b) {
    Target target(b, 500, 2500, 2);
    while (b.can_alloc()) {
        const bool grow = b.live() < target.next();
        const auto r = b.rng.below(100);
        if (b.live() == 0 || r < (grow ? 50U : 30U)) {
            b.alloc(b.rng.permille(10) ? 0 : b.rng.range(1, 33));
        } else if (r < (grow ? 55U : 35U)) {
            const std::size_t nmemb = b.rng.range(1, 11);
            b.calloc(nmemb, b.rng.range(1, 3));
        } else if (r < (grow ? 65U : 45U)) {
            const Id id = b.random_live();
            if (b.size_of(id) == 0) {
                b.free(id);
            } else {
                b.realloc(id, b.rng.range(1, 33));
            }
        } else {
            b.free(b.random_live());
        }
    }
    return {};
}

/** @brief What a server allocates: headers, bodies, buffers, and small bookkeeping. */
std::size_t server_size(Rng &rng) {
    const auto p = rng.below(100);
    if (p < 50) return rng.range(32, 256);
    if (p < 85) return rng.range(257, 4 * KiB);
    if (p < 95) return rng.log_size(4 * KiB, 64 * KiB);
    return rng.range(8, 32);
}

/**
 * server churn: a steady state. About two thousand long-lived objects (sessions, cache
 * entries) replaced at random, while short requests allocate a few blocks each and release
 * them together a little later, in any order. The heap should reach a plateau and stay there:
 * growth over time means free space is not being reused.
 */
std::vector<Id> shape_server_churn(Builder &b) {
    std::vector<Id> sessions;
    std::vector<std::vector<Id>> inflight;
    auto finish_request = [&](std::size_t i) {
        std::vector<Id> blocks = take_at(inflight, i);
        b.rng.shuffle(blocks);
        for (Id id : blocks) b.free(id);
    };
    const std::size_t working_set = 2000;
    while (b.can_alloc()) {
        const auto r = b.rng.below(100);
        if (sessions.size() < working_set && (sessions.size() < working_set / 2 || r < 30)) {
            const Id id = b.alloc(server_size(b.rng));
            if (id != kNone) sessions.push_back(id);
        } else if (r < 35) {
            std::vector<Id> blocks{b.alloc(b.rng.range(32, 256))};
            for (std::size_t n = b.rng.range(1, 5); n > 0; --n) blocks.push_back(b.alloc(server_size(b.rng)));
            inflight.push_back(std::move(blocks));
            if (inflight.size() > 64) finish_request(0);
        } else if (r < 70) {
            if (!inflight.empty()) finish_request(static_cast<std::size_t>(b.rng.below(inflight.size())));
        } else if (r < 92) {
            if (!sessions.empty()) b.free(take_random(b, sessions));
            const Id id = b.alloc(server_size(b.rng));
            if (id != kNone) sessions.push_back(id);
        } else if (!sessions.empty()) {
            const Id id = b.rng.pick(sessions);
            const std::size_t cur = b.size_of(id);
            b.realloc(id, b.rng.percent(70) ? std::min(64 * KiB, cur + b.rng.range(cur / 4, cur))
                                            : std::max<std::size_t>(8, cur / 2));
        }
    }
    return {};
}

/**
 * binary trees: random search trees of 100..1000 nodes built by insertion (a fixed-size node
 * plus a key string of 6..40 bytes each) and dropped in post-order, sometimes two trees alive
 * at once. Many same-size short-lived blocks freed in an order unrelated to allocation order:
 * good for segregated free lists, hard on address-ordered ones.
 */
std::vector<Id> shape_binary_tree(Builder &b) {
    struct Tree {
        std::vector<Id> post_order;  // node and key blocks in the order a destructor frees them
    };
    std::deque<Tree> trees;
    static const std::vector<std::size_t> kNodeSizes = {24, 32, 40, 48};
    auto drop_oldest = [&] {
        for (Id id : trees.front().post_order) b.free(id);
        trees.pop_front();
    };
    while (b.can_alloc()) {
        const std::size_t n = b.rng.range(100, 1000);
        const std::size_t node_size = b.rng.pick(kNodeSizes);
        // Insert random keys into a search tree; each new node allocates its node, then its key.
        std::vector<std::uint64_t> keys;
        std::vector<std::size_t> left, right;
        std::vector<Id> node_ids, key_ids;
        constexpr std::size_t kNil = std::numeric_limits<std::size_t>::max();
        for (std::size_t i = 0; i < n; ++i) {
            const Id node = b.alloc(node_size);
            const Id key = b.alloc(b.rng.range(6, 40));
            if (node == kNone || key == kNone) {
                b.free(node);
                b.free(key);
                break;
            }
            const std::uint64_t k = b.rng.next();
            keys.push_back(k);
            left.push_back(kNil);
            right.push_back(kNil);
            node_ids.push_back(node);
            key_ids.push_back(key);
            const std::size_t me = keys.size() - 1;
            for (std::size_t at = 0; me != 0;) {
                std::size_t &child = k < keys[at] ? left[at] : right[at];
                if (child == kNil) {
                    child = me;
                    break;
                }
                at = child;
            }
        }
        Tree tree;
        // Iterative post-order: a node is freed (key first) after both of its subtrees.
        std::vector<std::pair<std::size_t, bool>> stack;
        if (!keys.empty()) stack.emplace_back(0, false);
        while (!stack.empty()) {
            auto [node, expanded] = stack.back();
            stack.pop_back();
            if (expanded) {
                tree.post_order.push_back(key_ids[node]);
                tree.post_order.push_back(node_ids[node]);
                continue;
            }
            stack.emplace_back(node, true);
            if (right[node] != kNil) stack.emplace_back(right[node], false);
            if (left[node] != kNil) stack.emplace_back(left[node], false);
        }
        trees.push_back(std::move(tree));
        if (trees.size() >= 2 || b.rng.percent(60)) drop_oldest();
    }
    std::vector<Id> order;
    for (const Tree &tree : trees) order.insert(order.end(), tree.post_order.begin(), tree.post_order.end());
    return order;
}

/** @brief A shape's public description plus how to make it. */
struct ShapeDef {
    TraceShape info;
    /// runs the workload; returns the order in which a free-all shape's leftovers are freed
    std::vector<Id> (*run)(Builder &);
    /// true: every block is freed by the end; false: the working set is left live
    bool free_all;
};

const std::vector<ShapeDef> &shape_defs() {
    static const std::vector<ShapeDef> defs = {
        {{"small-objects", "many small objects (8-128 bytes) in a growing working set, freed at random",
          101, 12000}, shape_small_objects, false},
        {{"small-lifo", "small objects allocated in bursts and freed in LIFO (stack) order",
          202, 12000}, shape_small_lifo, true},
        {{"fifo-queue", "FIFO (queue-like) lifetimes: the oldest block is always freed first",
          303, 12000}, shape_fifo_queue, false},
        {{"bimodal-split",
          "small and large blocks interleaved, then one population freed: splitting large holes "
          "for small requests strands later large requests",
          404, 12000}, shape_bimodal_split, true},
        {{"realloc-double",
          "vector-style growth: buffers doubled by realloc up to 4 KiB-1 MiB, with small blocks "
          "in between that block growing in place",
          505, 10000}, shape_realloc_double, false},
        {{"realloc-append",
          "string-builder growth: buffers grown by realloc a few bytes (+1..+64) at a time",
          606, 12000}, shape_realloc_append, true},
        {{"realloc-shrink",
          "buffers of 4-128 KiB shrunk step by step with realloc; the released tails should be "
          "reused",
          707, 8000}, shape_realloc_shrink, false},
        {{"coalesce-runs",
          "runs of neighbours freed in alternate order, then one request as big as the whole "
          "run: needs coalescing",
          808, 12000}, shape_coalesce_runs, true},
        {{"interleaved-holes",
          "external fragmentation: every other block freed, then requests slightly larger than "
          "the holes",
          909, 12000}, shape_interleaved_holes, false},
        {{"random-mix",
          "random malloc/calloc/realloc/free over a wandering working set of mixed sizes, "
          "including malloc(0)",
          1010, 18000}, shape_random_mix, false},
        {{"calloc-heavy",
          "mostly calloc arrays among mallocs and frees: reused (dirty) blocks must come back "
          "zeroed",
          1111, 10000}, shape_calloc_heavy, true},
        {{"large-blocks",
          "a few hundred large blocks (64 KiB-4 MiB, some resized) among small traffic",
          1212, 5000}, shape_large_blocks, true},
        {{"power-of-two",
          "sizes that are exact powers of two (8 B-16 KiB): the worst case for headers plus "
          "rounding",
          1313, 12000}, shape_power_of_two, false},
        {{"odd-sizes",
          "odd sizes of 1-33 bytes (and a few 0) by malloc, calloc and realloc: alignment and "
          "minimum block size",
          1414, 12000}, shape_odd_sizes, true},
        {{"server-churn",
          "steady-state server: long-lived objects replaced at random, short requests allocated "
          "and released together",
          1515, 18000}, shape_server_churn, false},
        {{"binary-tree",
          "binary search trees built node by node and dropped in post-order: many same-size "
          "short-lived blocks",
          1616, 14000}, shape_binary_tree, true},
    };
    return defs;
}

const ShapeDef &find_shape(const std::string &name) {
    for (const ShapeDef &def : shape_defs()) {
        if (def.info.name == name) return def;
    }
    std::string known;
    for (const ShapeDef &def : shape_defs()) known += (known.empty() ? "" : ", ") + def.info.name;
    throw std::invalid_argument("unknown trace shape '" + name + "'; known: " + known);
}

}  // namespace

const std::vector<TraceShape> &trace_shapes() {
    static const std::vector<TraceShape> shapes = [] {
        std::vector<TraceShape> out;
        for (const ShapeDef &def : shape_defs()) out.push_back(def.info);
        return out;
    }();
    return shapes;
}

Trace generate_trace(const std::string &shape, std::uint64_t seed, std::size_t ops) {
    const ShapeDef &def = find_shape(shape);
    if (ops == 0 || ops > kMaxTraceOps) {
        throw std::invalid_argument("trace shape '" + shape + "': ops must be 1 .. " +
                                    std::to_string(kMaxTraceOps) + ", not " + std::to_string(ops));
    }
    Builder builder(ops, seed, def.free_all);
    const std::vector<Id> order = def.run(builder);
    return builder.finish(def.info, seed, order);
}

std::string trace_file_name(const std::string &shape) {
    const std::vector<ShapeDef> &defs = shape_defs();
    for (std::size_t i = 0; i < defs.size(); ++i) {
        if (defs[i].info.name == shape) {
            const std::string number = std::to_string(i + 1);
            return (number.size() < 2 ? "0" : "") + number + "-" + shape + ".rep";
        }
    }
    find_shape(shape);  // throws the usual message
    return {};
}

}  // namespace heaplab
