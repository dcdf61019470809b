/**
 * @file replay.cpp
 * @brief The replay checker (see replay.h for the passes and what each checks).
 *
 * Bookkeeping for the check pass lives in `CheckedHeap`: the live blocks by id and by address.
 * A block's contents are a pattern derived from a per-block key, so a byte can be verified
 * without keeping a copy: byte i of a block is byte (i % 8) of mix(key + i / 8). A realloc keeps
 * the key, so the old prefix must still match after it and only the new tail is written.
 */
#include "heaplab/replay.h"

#include "heaplab/memlib.h"
#include "payload_pattern.h"
#include "shared_object.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <map>
#include <poll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace heaplab {
namespace {

using namespace payload;

std::string hex(std::uintptr_t value) {
    char text[24];
    std::snprintf(text, sizeof text, "%#llx", static_cast<unsigned long long>(value));
    return text;
}

std::string byte_hex(unsigned value) {
    char text[8];
    std::snprintf(text, sizeof text, "0x%02x", value);
    return text;
}

std::string call_text(const TraceOp &op) {
    switch (op.kind) {
    case TraceOp::Kind::Alloc: return "mm_malloc(" + std::to_string(op.size) + ")";
    case TraceOp::Kind::Calloc:
        return "mm_calloc(" + std::to_string(op.nmemb) + ", " + std::to_string(op.size) + ")";
    case TraceOp::Kind::Realloc:
        return "mm_realloc(block " + std::to_string(op.id) + ", " + std::to_string(op.size) + ")";
    case TraceOp::Kind::Free: return "mm_free(block " + std::to_string(op.id) + ")";
    }
    return "?";
}

/// Thrown inside the check pass to stop at the first failure.
struct CheckFailed {
    std::string reason;
    std::string heap_map;
};

/// One live block, as the replay knows it.
struct Block {
    unsigned char *ptr = nullptr;  ///< null: the allocator returned NULL (size 0) for it
    std::size_t size = 0;          ///< bytes asked for
    std::uint64_t key = 0;         ///< pattern key
    std::size_t op_index = 0;      ///< the request that last placed it
    bool live = false;
};

/// The live blocks of the check pass, by id and by address; the checks themselves.
class CheckedHeap {
public:
    CheckedHeap(const Allocator &allocator, const Trace &trace, const ReplayOptions &options)
        : allocator_(allocator), trace_(trace), options_(options), blocks_(trace.num_ids) {}

    void run(ReplayProgress *progress) {
        observe(0);
        for (std::size_t i = 0; i < trace_.ops.size(); ++i) {
            if (progress != nullptr) progress->op_index.store(i, std::memory_order_relaxed);
            index_ = i;
            step(trace_.ops[i]);
            observe(i + 1);
        }
        index_ = trace_.ops.size();
        for (std::size_t id = 0; id < blocks_.size(); ++id)
            if (blocks_[id].live) verify_whole(static_cast<std::uint32_t>(id), "at the end of the trace");
    }

    [[nodiscard]] std::size_t peak_live() const { return peak_live_; }
    [[nodiscard]] std::size_t current_index() const { return index_; }

private:
    /// Shows the live payloads to ReplayOptions::on_step, if anyone asked.
    void observe(std::size_t done) {
        if (!options_.on_step) return;
        std::vector<LivePayload> live;
        live.reserve(by_address_.size());
        for (const auto &[address, id] : by_address_) {
            const Block &block = blocks_[id];
            live.push_back(LivePayload{id, block.ptr, block.size, block.op_index});
        }
        options_.on_step(done, live);
    }

    void step(const TraceOp &op) {
        switch (op.kind) {
        case TraceOp::Kind::Alloc:
        case TraceOp::Kind::Calloc: allocate(op); break;
        case TraceOp::Kind::Realloc: reallocate(op); break;
        case TraceOp::Kind::Free: release(op); break;
        }
        peak_live_ = std::max(peak_live_, live_bytes_);
    }

    void allocate(const TraceOp &op) {
        std::size_t bytes = op.bytes();
        errno = 0;
        void *p;
        if (op.kind == TraceOp::Kind::Calloc && allocator_.calloc != nullptr) {
            p = allocator_.calloc(op.nmemb, op.size);
        } else if (op.kind == TraceOp::Kind::Calloc) {  // a classic allocator: no mm_calloc
            p = allocator_.malloc(bytes);
            if (p != nullptr) std::memset(p, 0, bytes);
        } else {
            p = allocator_.malloc(bytes);
        }
        if (p == nullptr) {
            if (bytes == 0) {  // mm_malloc(0) may return NULL
                blocks_[op.id] = Block{nullptr, 0, 0, index_, true};
                return;
            }
            fail_null(op);
        }
        auto *ptr = static_cast<unsigned char *>(p);
        check_placement(op, ptr, bytes);
        if (op.kind == TraceOp::Kind::Calloc) {
            for (std::size_t i = 0; i < bytes; ++i)
                if (ptr[i] != 0)
                    fail(call_text(op) + " returned memory that is not zeroed: byte " +
                             std::to_string(i) + " of " + std::to_string(bytes) + " is " +
                             byte_hex(ptr[i]) + " (expected 0x00)",
                         ptr, bytes);
        }
        std::uint64_t key = mix(index_ ^ 0x5eed5eed5eedULL);
        fill_pattern(ptr, 0, bytes, key);
        insert(op.id, Block{ptr, bytes, key, index_, true});
        check_neighbours(ptr);
    }

    void reallocate(const TraceOp &op) {
        Block old = blocks_[op.id];
        if (old.ptr != nullptr) verify_whole(op.id, "before this mm_realloc");
        errno = 0;
        void *p = allocator_.realloc(old.ptr, op.size);
        if (p == nullptr) {
            if (op.size == 0) {  // realloc(p, 0) frees the block and returns NULL
                erase(op.id);
                blocks_[op.id] = Block{nullptr, 0, 0, index_, true};
                return;
            }
            fail_null(op);
        }
        auto *ptr = static_cast<unsigned char *>(p);
        erase(op.id);
        check_placement(op, ptr, op.size);
        std::uint64_t key = old.ptr != nullptr ? old.key : mix(index_ ^ 0x5eed5eed5eedULL);
        std::size_t kept = std::min(old.size, op.size);
        std::size_t bad = find_mismatch(ptr, 0, kept, key);
        if (bad != kept) {
            std::string moved = ptr == old.ptr ? "in place" : "from " + hex(reinterpret_cast<std::uintptr_t>(old.ptr)) +
                                                                  " to " + hex(reinterpret_cast<std::uintptr_t>(ptr));
            fail(call_text(op) + " (moved " + moved + ") lost the old contents: byte " +
                     std::to_string(bad) + " of the " + std::to_string(kept) +
                     " bytes it must keep is " + byte_hex(ptr[bad]) + ", expected " +
                     byte_hex(pattern_byte(key, bad)),
                 ptr, op.size);
        }
        fill_pattern(ptr, kept, op.size, key);
        insert(op.id, Block{ptr, op.size, key, index_, true});
        check_neighbours(ptr);
    }

    void release(const TraceOp &op) {
        Block old = blocks_[op.id];
        if (old.ptr != nullptr) verify_whole(op.id, "before this mm_free");
        erase(op.id);
        blocks_[op.id].live = false;
        allocator_.free(old.ptr);
        if (old.ptr != nullptr) check_neighbours(old.ptr);
    }

    [[noreturn]] void fail_null(const TraceOp &op) {
        std::string heap;
        if (allocator_.uses_memlib)
            heap = " (the heap is " + std::to_string(mem_heapsize()) + " bytes, capped at " +
                   std::to_string(mem_cap()) + ")";
        throw CheckFailed{call_text(op) + " returned NULL" +
                              (errno == ENOMEM ? std::string(" with errno ENOMEM") : std::string()) +
                              heap + "; the trace expects it to succeed",
                          ""};
    }

    /// Stops the pass; the map shows the live blocks around [around, around + size).
    [[noreturn]] void fail(const std::string &reason, const void *around, std::size_t size = 0) {
        throw CheckFailed{reason, heap_map(around, size)};
    }

    void check_placement(const TraceOp &op, unsigned char *ptr, std::size_t bytes) {
        auto address = reinterpret_cast<std::uintptr_t>(ptr);
        std::string returned = call_text(op) + " returned " + hex(address);
        if (address % options_.alignment != 0)
            fail(returned + ", which is not " + std::to_string(options_.alignment) +
                     "-byte aligned (it is " + std::to_string(address % options_.alignment) +
                     " bytes past a multiple of " + std::to_string(options_.alignment) + ")",
                 ptr, bytes);
        std::size_t extent = std::max<std::size_t>(bytes, 1);
        if (allocator_.uses_memlib) {
            auto lo = reinterpret_cast<std::uintptr_t>(mem_heap_lo());
            auto end = reinterpret_cast<std::uintptr_t>(mem_heap_hi()) + 1;
            // A 0-byte payload may sit at the very end (nothing in it can be touched).
            if (address < lo || address > end || (bytes > 0 && address == end))
                fail(returned + ", which is not inside the heap [" + hex(lo) + ", " + hex(end) +
                         ") (mem_heap_lo() to mem_heap_hi()+1): every payload must come from "
                         "memory obtained with mem_sbrk",
                     ptr, bytes);
            if (bytes > end - address)
                fail(returned + " for " + std::to_string(bytes) + " bytes, but the payload [" +
                         hex(address) + ", " + hex(address + bytes) + ") runs " +
                         std::to_string(address + bytes - end) +
                         " bytes past the end of the heap: is the block smaller than asked?",
                     ptr, bytes);
        }
        // Overlap with a live block: the nearest block starting below the new block's end.
        auto after = by_address_.lower_bound(address + extent);
        if (after != by_address_.begin()) {
            const Block &other = blocks_[std::prev(after)->second];
            auto other_start = reinterpret_cast<std::uintptr_t>(other.ptr);
            std::size_t other_extent = std::max<std::size_t>(other.size, 1);
            if (other_start + other_extent > address) {
                std::uint32_t other_id = std::prev(after)->second;
                fail(returned + " for " + std::to_string(bytes) + " bytes, overlapping live block " +
                         std::to_string(other_id) + " [" + hex(other_start) + ", " +
                         hex(other_start + other_extent) + "), placed by request " +
                         std::to_string(other.op_index) + " (" +
                         format_op(trace_.ops[other.op_index]) + ")",
                     ptr, bytes);
            }
        }
    }

    void verify_whole(std::uint32_t id, const char *when) {
        const Block &block = blocks_[id];
        std::size_t bad = find_mismatch(block.ptr, 0, block.size, block.key);
        if (bad != block.size) corrupted(id, bad, when);
    }

    [[noreturn]] void corrupted(std::uint32_t id, std::size_t bad, const char *when) {
        const Block &block = blocks_[id];
        fail("block " + std::to_string(id) + " (" + std::to_string(block.size) + " bytes at " +
                 hex(reinterpret_cast<std::uintptr_t>(block.ptr)) + ", placed by request " +
                 std::to_string(block.op_index) + ": " + format_op(trace_.ops[block.op_index]) +
                 ") was overwritten " + when + ": its byte " + std::to_string(bad) + " is " +
                 byte_hex(block.ptr[bad]) + ", expected " + byte_hex(pattern_byte(block.key, bad)) +
                 ". Something wrote into a live payload: a header or footer placed inside it, a "
                 "block handed out smaller than asked, or a split that cut it",
             block.ptr);
    }

    /// Verifies both ends of the live blocks just below and above @p ptr.
    void check_neighbours(const void *ptr) {
        auto address = reinterpret_cast<std::uintptr_t>(ptr);
        auto above = by_address_.upper_bound(address);
        auto below = by_address_.lower_bound(address);
        if (above != by_address_.end()) check_edges(above->second);
        if (below != by_address_.begin()) check_edges(std::prev(below)->second);
        if (below != by_address_.end() && below->first == address) check_edges(below->second);
    }

    void check_edges(std::uint32_t id) {
        const Block &block = blocks_[id];
        std::size_t edge = std::min(options_.edge_bytes, block.size);
        std::size_t bad = find_mismatch(block.ptr, 0, edge, block.key);
        if (bad == edge) {
            std::size_t from = block.size - edge;
            bad = find_mismatch(block.ptr, from, block.size, block.key);
            if (bad == block.size) return;
        }
        corrupted(id, bad, "by this request");
    }

    void insert(std::uint32_t id, const Block &block) {
        blocks_[id] = block;
        by_address_.emplace(reinterpret_cast<std::uintptr_t>(block.ptr), id);
        live_bytes_ += block.size;
    }

    void erase(std::uint32_t id) {
        Block &block = blocks_[id];
        if (block.live && block.ptr != nullptr) {
            by_address_.erase(reinterpret_cast<std::uintptr_t>(block.ptr));
            live_bytes_ -= block.size;
        }
        block.live = false;
    }

    /// Up to four live blocks on each side of @p around, with the gaps between them.
    std::string heap_map(const void *around, std::size_t size) const {
        auto address = reinterpret_cast<std::uintptr_t>(around);
        std::uintptr_t base = allocator_.uses_memlib ? reinterpret_cast<std::uintptr_t>(mem_heap_lo()) : 0;
        std::uintptr_t heap_end = base == 0 ? 0 : reinterpret_cast<std::uintptr_t>(mem_heap_hi()) + 1;
        auto offset = [&](std::uintptr_t a) {
            if (base == 0 || a < base || a > heap_end) return hex(a);
            char text[32];
            if (a >= base)
                std::snprintf(text, sizeof text, "+%#llx", static_cast<unsigned long long>(a - base));
            else
                std::snprintf(text, sizeof text, "-%#llx", static_cast<unsigned long long>(base - a));
            return std::string(text);
        };
        std::string map;
        if (base != 0)
            map += "heap [" + hex(base) + ", " +
                   hex(reinterpret_cast<std::uintptr_t>(mem_heap_hi()) + 1) + "), " +
                   std::to_string(mem_heapsize()) + " bytes; offsets from mem_heap_lo():\n";
        auto first = by_address_.lower_bound(address);
        for (int i = 0; i < 4 && first != by_address_.begin(); ++i) --first;
        std::uintptr_t previous_end = 0;
        bool marked = false;
        auto mark_here = [&] {
            char line[160];
            std::snprintf(line, sizeof line, "  >> %-12s .. %-12s %9zu bytes  the block of this request\n",
                          offset(address).c_str(), offset(address + size).c_str(), size);
            map += line;
            marked = true;
        };
        int shown = 0;
        for (auto it = first; it != by_address_.end() && shown < 9; ++it, ++shown) {
            const Block &block = blocks_[it->second];
            auto start = it->first;
            if (!marked && start > address) mark_here();
            if (previous_end != 0 && start > previous_end)
                map += "     (" + std::to_string(start - previous_end) + " bytes not in any live payload)\n";
            std::uintptr_t end = start + std::max<std::size_t>(block.size, 1);
            char line[160];
            std::snprintf(line, sizeof line, "  %s %-12s .. %-12s %9zu bytes  block %u (request %zu: %s)\n",
                          start == address ? ">>" : "  ", offset(start).c_str(), offset(end).c_str(),
                          block.size, it->second, block.op_index,
                          format_op(trace_.ops[block.op_index]).c_str());
            map += line;
            if (start == address) marked = true;
            previous_end = std::max(previous_end, end);
        }
        if (!marked) mark_here();
        return map;
    }

    const Allocator &allocator_;
    const Trace &trace_;
    const ReplayOptions &options_;
    std::vector<Block> blocks_;
    std::map<std::uintptr_t, std::uint32_t> by_address_;
    std::size_t live_bytes_ = 0;
    std::size_t peak_live_ = 0;
    std::size_t index_ = 0;
};

/// Starts a pass: an empty heap and a fresh allocator. False when mm_init fails.
bool start_pass(const Allocator &allocator, const ReplayOptions &options) {
    if (allocator.uses_memlib) {
        mem_reset();
        mem_set_cap(options.heap_cap);
    }
    if (allocator.reset != nullptr) allocator.reset();
    return allocator.init() == 0;
}

/// Makes the trace's requests with no checks; `on_step` runs after each one.
template <typename OnStep>
void run_plain(const Allocator &allocator, const Trace &trace, std::vector<void *> &ptrs,
               OnStep on_step) {
    for (const TraceOp &op : trace.ops) {
        switch (op.kind) {
        case TraceOp::Kind::Alloc: ptrs[op.id] = allocator.malloc(op.size); break;
        case TraceOp::Kind::Calloc:
            if (allocator.calloc != nullptr) {
                ptrs[op.id] = allocator.calloc(op.nmemb, op.size);
            } else {
                ptrs[op.id] = allocator.malloc(op.bytes());
                if (ptrs[op.id] != nullptr) std::memset(ptrs[op.id], 0, op.bytes());
            }
            break;
        case TraceOp::Kind::Realloc: ptrs[op.id] = allocator.realloc(ptrs[op.id], op.size); break;
        case TraceOp::Kind::Free:
            allocator.free(ptrs[op.id]);
            ptrs[op.id] = nullptr;
            break;
        }
        on_step(op);
    }
}

void free_leftovers(const Allocator &allocator, std::vector<void *> &ptrs) {
    for (void *&p : ptrs) {
        if (p != nullptr) allocator.free(p);
        p = nullptr;
    }
}

}  // namespace

double median(std::vector<double> samples) {
    if (samples.empty()) return 0;
    std::sort(samples.begin(), samples.end());
    std::size_t n = samples.size();
    return n % 2 == 1 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2;
}

std::vector<std::vector<double>> time_in_turn(const std::vector<const Allocator *> &allocators, const Trace &trace,
                                              const ReplayOptions &options) {
    std::vector<std::vector<double>> samples(allocators.size());
    if (trace.ops.empty()) return samples;
    std::vector<void *> ptrs(trace.num_ids, nullptr);
    std::vector<bool> init_failed(allocators.size(), false);
    for (int round = 0; round < options.timing_runs; ++round) {
        // A B C, then C B A: a load that rises through a round weighs on every allocator alike.
        for (std::size_t k = 0; k < allocators.size(); ++k) {
            std::size_t i = round % 2 == 0 ? k : allocators.size() - 1 - k;
            const Allocator &allocator = *allocators[i];
            if (init_failed[i]) continue;
            if (!start_pass(allocator, options)) {
                init_failed[i] = true;
                samples[i].clear();
                continue;
            }
            auto started = std::chrono::steady_clock::now();
            run_plain(allocator, trace, ptrs, [](const TraceOp &) {});
            std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - started;
            free_leftovers(allocator, ptrs);
            samples[i].push_back(static_cast<double>(trace.ops.size()) / std::max(elapsed.count(), 1e-9));
        }
    }
    // Each pass started on an empty heap of its own; the last one's is emptied for what comes next.
    for (const Allocator *allocator : allocators)
        if (allocator->uses_memlib) {
            mem_reset();
            break;
        }
    return samples;
}

ReplayResult replay(const Allocator &allocator, const Trace &trace, const ReplayOptions &options,
                    ReplayProgress *progress) {
    ReplayResult result;
    result.allocator = allocator.name;
    result.trace = trace.name;
    result.path = trace.path;
    result.ops = trace.ops.size();

    auto fail_init = [&] {
        result.ok = false;
        result.failure = ReplayFailure{0, "", 0, "mm_init() failed (returned non-zero) on an empty heap", ""};
        return result;
    };

    if (options.check) {
        if (progress != nullptr) progress->pass.store(1);
        if (!start_pass(allocator, options)) return fail_init();
        CheckedHeap heap(allocator, trace, options);
        try {
            heap.run(progress);
        } catch (const CheckFailed &failed) {
            std::size_t at = heap.current_index();
            ReplayFailure failure;
            failure.op_index = at;
            if (at < trace.ops.size()) {
                failure.op = format_op(trace.ops[at]);
                failure.line = trace.ops[at].line;
            } else {
                failure.op = "(end of trace)";
            }
            failure.reason = failed.reason;
            failure.heap_map = failed.heap_map;
            result.failure = failure;
            result.ok = false;
            return result;  // no metrics for a wrong allocator
        }
        result.ok = true;
        result.peak_live_bytes = heap.peak_live();
        if (allocator.uses_memlib) result.peak_heap_bytes = mem_peak_heapsize();
    } else {
        result.ok = true;
    }

    std::vector<void *> ptrs(trace.num_ids, nullptr);  // allocated before any measured pass
    if (!allocator.uses_memlib && allocator.heap_bytes != nullptr) {
        if (progress != nullptr) progress->pass.store(2);
        // glibc's heap also holds this program's own data, free chunks included, which the trace
        // would reuse without growing anything. So the requests run on a new thread: glibc gives
        // a new thread a fresh arena, and what the process holds from the system grows exactly
        // by what the trace costs (in a fresh process, as replay_isolated() runs it).
        if (!start_pass(allocator, options)) return fail_init();
        std::vector<std::size_t> sizes(trace.num_ids, 0);
        std::thread measure([&] {
            std::size_t baseline = allocator.heap_bytes();
            std::size_t live = 0, peak_live = 0, peak_heap = 0;
            run_plain(allocator, trace, ptrs, [&](const TraceOp &op) {
                live -= sizes[op.id];
                sizes[op.id] = op.kind == TraceOp::Kind::Free ? 0 : op.bytes();
                live += sizes[op.id];
                peak_live = std::max(peak_live, live);
                std::size_t heap = allocator.heap_bytes();
                peak_heap = std::max(peak_heap, heap > baseline ? heap - baseline : 0);
            });
            free_leftovers(allocator, ptrs);
            result.peak_live_bytes = peak_live;
            result.peak_heap_bytes = peak_heap;
        });
        measure.join();
    }
    if (result.peak_heap_bytes > 0)
        result.utilization = static_cast<double>(result.peak_live_bytes) /
                             static_cast<double>(result.peak_heap_bytes);

    if (options.time && options.timing_runs > 0 && !trace.ops.empty()) {
        if (progress != nullptr) progress->pass.store(3);
        result.timing_samples = time_in_turn({&allocator}, trace, options).front();
        if (result.timing_samples.empty()) return fail_init();
        result.ops_per_second = median(result.timing_samples);
    }
    if (allocator.uses_memlib) mem_reset();
    return result;
}

std::string to_json(const ReplayResult &result) {
    nlohmann::json json = {
        {"allocator", result.allocator},
        {"trace", result.trace},
        {"path", result.path},
        {"ops", result.ops},
        {"ok", result.ok},
        {"peak_live_bytes", result.peak_live_bytes},
        {"peak_heap_bytes", result.peak_heap_bytes},
        {"utilization", result.utilization},
        {"ops_per_second", result.ops_per_second},
        {"timing_samples", result.timing_samples},
    };
    if (result.failure) {
        const ReplayFailure &f = *result.failure;
        json["failure"] = {{"op_index", f.op_index}, {"op", f.op},       {"line", f.line},
                           {"reason", f.reason},     {"heap_map", f.heap_map}};
    } else {
        json["failure"] = nullptr;
    }
    return json.dump();
}

ReplayResult result_from_json(const std::string &text) {
    try {
        nlohmann::json json = nlohmann::json::parse(text);
        ReplayResult result;
        result.allocator = json.at("allocator").get<std::string>();
        result.trace = json.at("trace").get<std::string>();
        result.path = json.at("path").get<std::string>();
        result.ops = json.at("ops").get<std::size_t>();
        result.ok = json.at("ok").get<bool>();
        result.peak_live_bytes = json.at("peak_live_bytes").get<std::size_t>();
        result.peak_heap_bytes = json.at("peak_heap_bytes").get<std::size_t>();
        result.utilization = json.at("utilization").get<double>();
        result.ops_per_second = json.at("ops_per_second").get<double>();
        result.timing_samples = json.at("timing_samples").get<std::vector<double>>();
        if (!json.at("failure").is_null()) {
            const auto &f = json.at("failure");
            result.failure = ReplayFailure{f.at("op_index").get<std::size_t>(), f.at("op").get<std::string>(),
                                           f.at("line").get<std::size_t>(), f.at("reason").get<std::string>(),
                                           f.at("heap_map").get<std::string>()};
        }
        return result;
    } catch (const nlohmann::json::exception &error) {
        throw std::runtime_error(std::string("malformed replay result: ") + error.what());
    }
}

std::string ChildEnd::describe() const {
    if (timed_out) return "still running after " + std::to_string(static_cast<long long>(wall_seconds + 0.5)) + " s";
    if (signal != 0) return std::string("crashed with SIG") + sigabbrev_np(signal) + " (" + strsignal(signal) + ")";
    return "exited with status " + std::to_string(exit_status);
}

std::optional<std::string> run_in_child(double timeout_seconds, const std::function<std::string()> &work,
                                        ChildEnd &end) {
    end = ChildEnd{};
    int pipe_fds[2];
    if (pipe(pipe_fds) != 0) throw std::runtime_error(std::string("cannot create a pipe: ") + std::strerror(errno));
    std::fflush(nullptr);
    auto started = std::chrono::steady_clock::now();
    pid_t child = fork();
    if (child < 0) {
        close(pipe_fds[0]);
        close(pipe_fds[1]);
        throw std::runtime_error(std::string("cannot fork: ") + std::strerror(errno));
    }
    if (child == 0) {
        close(pipe_fds[0]);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        // Whatever the allocator prints goes to stderr: stdout belongs to the caller's report
        // (heaplab trace replay --json), which a stray printf must not corrupt.
        std::fflush(stdout);
        dup2(STDERR_FILENO, STDOUT_FILENO);
        std::string output = work();
        const char *data = output.data();
        std::size_t left = output.size();
        while (left > 0) {
            ssize_t n = write(pipe_fds[1], data, left);
            if (n <= 0) _exit(3);
            data += n;
            left -= static_cast<std::size_t>(n);
        }
        // _exit: threads the work left behind (a stuck stress run) must not run destructors.
        _exit(0);
    }
    close(pipe_fds[1]);
    std::string output;
    auto deadline = started + std::chrono::duration<double>(timeout_seconds);
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            end.timed_out = true;
            break;
        }
        pollfd fd{pipe_fds[0], POLLIN, 0};
        int ready = poll(&fd, 1, static_cast<int>(std::min<long long>(left.count(), 1000)));
        if (ready < 0 && errno == EINTR) continue;
        if (ready <= 0) continue;
        char buffer[65536];
        ssize_t n = read(pipe_fds[0], buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        output.append(buffer, static_cast<std::size_t>(n));
    }
    close(pipe_fds[0]);
    if (end.timed_out) kill(child, SIGKILL);
    int status = 0;
    rusage usage{};
    while (wait4(child, &status, 0, &usage) < 0 && errno == EINTR) {}
    end.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    end.cpu_seconds = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                      static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
    if (end.timed_out) return std::nullopt;
    if (WIFSIGNALED(status)) {
        end.signal = WTERMSIG(status);
        return std::nullopt;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        end.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        return std::nullopt;
    }
    return output;
}

std::optional<std::string> run_isolated(const Trace &trace, double timeout_seconds,
                                        const std::function<std::string(ReplayProgress &)> &work,
                                        ReplayFailure &failure) {
    auto fail = [&](std::size_t at, const std::string &reason) {
        failure = ReplayFailure{};
        failure.op_index = at;
        if (at < trace.ops.size()) {
            failure.op = format_op(trace.ops[at]);
            failure.line = trace.ops[at].line;
        }
        failure.reason = reason;
        return std::nullopt;
    };

    // Where the child is, readable after it dies.
    SharedObject<ReplayProgress> shared;
    ReplayProgress *progress = shared.get();
    if (progress == nullptr) return fail(0, std::string("cannot map shared memory: ") + std::strerror(errno));

    ChildEnd end;
    std::optional<std::string> output;
    try {
        output = run_in_child(timeout_seconds, [&] { return work(*progress); }, end);
    } catch (const std::runtime_error &error) {
        return fail(0, error.what());
    }
    if (output) return output;

    static const char *const kPass[] = {"", "check", "utilization", "timing"};
    int pass = progress->pass.load();
    std::size_t at = progress->op_index.load();
    // Pass 4 is a heap walk between requests; its op_index is the number of requests made.
    std::string where = pass == 4 ? " in the allocator's mm_heap_walk(), called after the first " +
                                        std::to_string(at) + " requests"
                                  : " during request " + std::to_string(at) +
                                        (at < trace.ops.size() ? " (" + format_op(trace.ops[at]) + ")" : "") +
                                        " of the " + kPass[pass >= 0 && pass <= 3 ? pass : 0] + " pass";
    if (end.timed_out)
        return fail(at, "timed out after " + std::to_string(static_cast<int>(timeout_seconds)) + " s" + where +
                            ": an endless loop in the allocator?");
    if (end.signal != 0)
        return fail(at, std::string("the allocator crashed with ") + sigabbrev_np(end.signal) + " (" +
                            strsignal(end.signal) + ")" + where);
    return fail(at, "the replay exited with status " + std::to_string(end.exit_status) + where +
                        " (did the allocator call exit()?)");
}

ReplayResult replay_isolated(const Allocator &allocator, const Trace &trace,
                             const ReplayOptions &options) {
    ReplayResult failed;
    failed.allocator = allocator.name;
    failed.trace = trace.name;
    failed.path = trace.path;
    failed.ops = trace.ops.size();
    ReplayFailure failure;
    std::optional<std::string> output = run_isolated(
        trace, options.timeout_seconds,
        [&](ReplayProgress &progress) { return to_json(replay(allocator, trace, options, &progress)); }, failure);
    if (output) {
        try {
            return result_from_json(*output);
        } catch (const std::exception &error) {
            failure.op_index = 0;
            failure.reason = std::string("the replay's report was unreadable: ") + error.what();
        }
    }
    failed.failure = failure;
    return failed;
}

}  // namespace heaplab
