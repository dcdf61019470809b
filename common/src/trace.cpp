/**
 * @file trace.cpp
 * @brief The trace reader: every line is understood or reported, never skipped.
 *
 * The reader is a single pass over the lines with a small state machine:
 * `Start` (nothing significant yet) -> `Header` (HeapLab key lines, or the four classic number
 * lines) -> `Requests`. Besides syntax it follows each id's life (never used, live, freed),
 * because a trace that frees an id twice or reallocs a freed one cannot be replayed: the replay
 * would hand the allocator a dangling pointer and blame it for the crash.
 */
#include "heaplab/trace.h"

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>
#include <unordered_map>

namespace heaplab {

TraceError::TraceError(const std::string &file, std::size_t line, const std::string &message)
    : std::runtime_error(file + ":" + std::to_string(line) + ": " + message),
      file_(file), line_(line), message_(message) {}

namespace {

/// Splits a line into whitespace-separated tokens (a comment has already been cut off).
std::vector<std::string_view> tokenize(std::string_view line) {
    std::vector<std::string_view> tokens;
    std::size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
        std::size_t start = i;
        while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
        if (i > start) tokens.push_back(line.substr(start, i - start));
    }
    return tokens;
}

std::string quoted(std::string_view token) {
    constexpr std::size_t kShown = 24;
    std::string text(token.substr(0, kShown));
    if (token.size() > kShown) text += "...";
    return "'" + text + "'";
}

/// Where a line's comment starts ('#'), or its length.
std::size_t comment_start(std::string_view line) {
    std::size_t hash = line.find('#');
    return hash == std::string_view::npos ? line.size() : hash;
}

class Parser {
public:
    Parser(std::string_view text, const std::string &file) : text_(text), file_(file) {
        trace_.path = file;
    }

    Trace run() {
        std::size_t pos = 0;
        while (pos < text_.size()) {
            std::size_t end = text_.find('\n', pos);
            if (end == std::string_view::npos) end = text_.size();
            ++line_no_;
            handle_line(text_.substr(pos, end - pos));
            pos = end + 1;
        }
        finish();
        return std::move(trace_);
    }

private:
    enum class State { Start, ClassicHeader, Header, Requests };
    enum class Life : std::uint8_t { Unused, Live, Freed };
    struct IdState {
        Life life = Life::Unused;
        std::uint32_t line = 0;  // where it was last allocated or freed
    };

    [[noreturn]] void fail(const std::string &message) const {
        throw TraceError(file_, line_no_, message);
    }

    void check_bytes(std::string_view line) const {
        for (std::size_t i = 0; i < line.size(); ++i) {
            auto byte = static_cast<unsigned char>(line[i]);
            bool control = byte < 0x20 && byte != '\t' && byte != '\r';
            if (control || byte == 0x7f) {
                char hex[8];
                std::snprintf(hex, sizeof hex, "0x%02x", byte);
                fail("binary data (byte " + std::string(hex) + " at column " +
                     std::to_string(i + 1) + "); is this a trace file?");
            }
        }
    }

    /// A whole number in [0, max]; `what` names it in the message.
    std::size_t number(std::string_view token, const char *what, std::size_t max) const {
        if (!token.empty() && token[0] == '-')
            fail(std::string(what) + " must not be negative, got " + quoted(token));
        std::size_t value = 0;
        auto [end, error] = std::from_chars(token.data(), token.data() + token.size(), value);
        if (error == std::errc::result_out_of_range)
            fail(std::string(what) + " " + quoted(token) + " is absurdly large (the limit is " +
                 std::to_string(max) + ")");
        if (error != std::errc{} || end != token.data() + token.size())
            fail(std::string(what) + " must be a whole number, got " + quoted(token));
        if (value > max)
            fail(std::string(what) + " " + std::to_string(value) +
                 " is absurdly large (the limit is " + std::to_string(max) + ")");
        return value;
    }

    void handle_line(std::string_view raw) {
        check_bytes(raw);
        if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
        std::string_view line = raw.substr(0, comment_start(raw));
        std::vector<std::string_view> tokens = tokenize(line);
        if (tokens.empty()) return;  // blank or comment

        switch (state_) {
        case State::Start: start(tokens); return;
        case State::ClassicHeader: classic_header(tokens); return;
        case State::Header:
            if (is_request(tokens[0])) {
                end_header();
                request(tokens);
            } else {
                header_key(tokens, line);
            }
            return;
        case State::Requests: request(tokens); return;
        }
    }

    static bool is_request(std::string_view word) {
        return word == "a" || word == "c" || word == "r" || word == "f";
    }

    void start(const std::vector<std::string_view> &tokens) {
        if (tokens[0] == "heaplab-trace") {
            if (tokens.size() != 2 || tokens[1] != "1")
                fail("unsupported trace version: expected 'heaplab-trace 1'");
            state_ = State::Header;
            return;
        }
        if (!tokens[0].empty() && (std::isdigit(static_cast<unsigned char>(tokens[0][0])) ||
                                   tokens[0][0] == '-')) {
            trace_.classic = true;
            state_ = State::ClassicHeader;
            classic_header(tokens);
            return;
        }
        fail("expected the header: 'heaplab-trace 1', or the classic header's first number "
             "(suggested heap size); got " + quoted(tokens[0]));
    }

    void classic_header(const std::vector<std::string_view> &tokens) {
        static const char *const kFields[] = {"suggested heap size", "number of ids",
                                              "number of requests", "weight"};
        const char *what = kFields[classic_fields_];
        if (tokens.size() != 1)
            fail(std::string("classic header: expected one number (") + what + "), got " +
                 std::to_string(tokens.size()) + " words");
        switch (classic_fields_) {
        case 0: trace_.suggested_heap = number(tokens[0], what, std::numeric_limits<std::size_t>::max()); break;
        case 1: declare_ids(number(tokens[0], what, kMaxTraceIds)); break;
        case 2: declare_ops(number(tokens[0], what, kMaxTraceOps)); break;
        case 3: trace_.weight = number(tokens[0], what, std::numeric_limits<std::size_t>::max()); break;
        }
        if (++classic_fields_ == 4) state_ = State::Requests;
    }

    void declare_ids(std::size_t ids) {
        trace_.num_ids = ids;
        ids_.assign(ids, IdState{});
        have_ids_ = true;
    }

    void declare_ops(std::size_t ops) {
        declared_ops_ = ops;
        ops_line_ = line_no_;
        have_ops_ = true;
        trace_.ops.reserve(ops);
    }

    void header_key(const std::vector<std::string_view> &tokens, std::string_view line) {
        std::string_view key = tokens[0];
        if (!seen_keys_.emplace(std::string(key), line_no_).second)
            fail("header key '" + std::string(key) + "' given twice (first at line " +
                 std::to_string(seen_keys_[std::string(key)]) + ")");
        auto rest = [&] {
            std::size_t at = line.find(key) + key.size();
            std::string_view value = line.substr(at);
            while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
            while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
            return std::string(value);
        };
        auto one_number = [&](std::size_t max) {
            if (tokens.size() != 2)
                fail("header key '" + std::string(key) + "' takes one number");
            return number(tokens[1], std::string(key).c_str(), max);
        };
        if (key == "name") {
            if (tokens.size() != 2) fail("header key 'name' takes one word");
            trace_.name = std::string(tokens[1]);
        } else if (key == "stresses") {
            trace_.stresses = rest();
        } else if (key == "ids") {
            declare_ids(one_number(kMaxTraceIds));
        } else if (key == "ops") {
            declare_ops(one_number(kMaxTraceOps));
        } else if (key == "seed") {
            trace_.seed = one_number(std::numeric_limits<std::uint64_t>::max());
        } else if (key == "heap") {
            trace_.suggested_heap = one_number(std::numeric_limits<std::size_t>::max());
        } else if (key == "weight") {
            trace_.weight = one_number(std::numeric_limits<std::size_t>::max());
        } else {
            fail("unknown header key " + quoted(key) +
                 " (known: name, stresses, ids, ops, seed, heap, weight; requests are a, c, r, f)");
        }
    }

    void end_header() {
        if (!have_ids_) fail("the header has no 'ids N' line before the first request");
        if (!have_ops_) fail("the header has no 'ops N' line before the first request");
        state_ = State::Requests;
    }

    std::uint32_t id_of(std::string_view token) const {
        if (!have_ids_ || trace_.num_ids == 0)
            fail("id " + quoted(token) + " is out of range: the header declares no ids");
        std::size_t id = number(token, "id", std::numeric_limits<std::size_t>::max());
        if (id >= trace_.num_ids)
            fail("id " + std::to_string(id) + " is out of range: the header declares ids 0.." +
                 std::to_string(trace_.num_ids - 1));
        return static_cast<std::uint32_t>(id);
    }

    void expect_args(const std::vector<std::string_view> &tokens, std::size_t args,
                     const char *usage) const {
        if (tokens.size() != args + 1)
            fail("'" + std::string(tokens[0]) + "' takes " + std::to_string(args) +
                 (args == 1 ? " argument (" : " arguments (") + usage + "), got " +
                 std::to_string(tokens.size() - 1));
    }

    void request(const std::vector<std::string_view> &tokens) {
        std::string_view op = tokens[0];
        if (!is_request(op))
            fail("unknown request " + quoted(op) + " (expected a, c, r or f)");
        if (trace_.ops.size() == declared_ops_)
            fail("more requests than the header's 'ops " + std::to_string(declared_ops_) +
                 "' (line " + std::to_string(ops_line_) + ")");

        TraceOp entry{};
        entry.line = static_cast<std::uint32_t>(line_no_);
        entry.nmemb = 1;
        if (op == "a" || op == "c") {
            bool calloc = op == "c";
            expect_args(tokens, calloc ? 3 : 2, calloc ? "c ID NMEMB SIZE" : "a ID SIZE");
            entry.kind = calloc ? TraceOp::Kind::Calloc : TraceOp::Kind::Alloc;
            entry.id = id_of(tokens[1]);
            if (calloc) {
                entry.nmemb = number(tokens[2], "nmemb", kMaxTraceRequest);
                entry.size = number(tokens[3], "size", kMaxTraceRequest);
                if (entry.nmemb != 0 && entry.size > kMaxTraceRequest / entry.nmemb)
                    fail("nmemb * size = " + std::to_string(entry.nmemb) + " * " +
                         std::to_string(entry.size) + " is absurdly large (the limit is " +
                         std::to_string(kMaxTraceRequest) + " bytes)");
            } else {
                entry.size = number(tokens[2], "size", kMaxTraceRequest);
            }
            IdState &state = ids_[entry.id];
            if (state.life == Life::Live)
                fail("id " + std::to_string(entry.id) + " is still allocated (line " +
                     std::to_string(state.line) + "); free it before allocating it again");
            state = {Life::Live, entry.line};
        } else {
            bool is_free = op == "f";
            expect_args(tokens, is_free ? 1 : 2, is_free ? "f ID" : "r ID SIZE");
            entry.kind = is_free ? TraceOp::Kind::Free : TraceOp::Kind::Realloc;
            entry.id = id_of(tokens[1]);
            if (!is_free) entry.size = number(tokens[2], "size", kMaxTraceRequest);
            IdState &state = ids_[entry.id];
            const char *verb = is_free ? "free" : "realloc";
            if (state.life == Life::Unused)
                fail(std::string(verb) + " of id " + std::to_string(entry.id) +
                     ", which was never allocated");
            if (state.life == Life::Freed)
                fail(std::string(verb) + " of id " + std::to_string(entry.id) +
                     ", which was already freed at line " + std::to_string(state.line));
            if (is_free) state = {Life::Freed, entry.line};
        }
        trace_.ops.push_back(entry);
    }

    void finish() {
        if (state_ == State::Start) fail("empty trace: no header and no requests");
        if (state_ == State::ClassicHeader)
            fail("truncated classic header: it ends after " + std::to_string(classic_fields_) +
                 " of its 4 numbers");
        if (state_ == State::Header) end_header();
        if (trace_.ops.size() < declared_ops_)
            fail("truncated: the header promises " + std::to_string(declared_ops_) +
                 " requests (line " + std::to_string(ops_line_) + ") but the file ends after " +
                 std::to_string(trace_.ops.size()));
        if (trace_.name.empty()) {
            std::string base = file_.substr(file_.find_last_of('/') + 1);
            std::size_t dot = base.rfind('.');
            trace_.name = dot == std::string::npos || dot == 0 ? base : base.substr(0, dot);
        }
    }

    std::string_view text_;
    std::string file_;
    Trace trace_;
    State state_ = State::Start;
    std::size_t line_no_ = 0;
    int classic_fields_ = 0;
    bool have_ids_ = false;
    bool have_ops_ = false;
    std::size_t declared_ops_ = 0;
    std::size_t ops_line_ = 0;
    std::vector<IdState> ids_;
    std::unordered_map<std::string, std::size_t> seen_keys_;
};

}  // namespace

Trace parse_trace(std::string_view text, const std::string &file) {
    return Parser(text, file).run();
}

Trace read_trace(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw TraceError(path, 0, "cannot open the file: " + std::string(std::strerror(errno)));
    std::ostringstream buffer;
    buffer << in.rdbuf();
    if (in.bad()) throw TraceError(path, 0, "cannot read the file");
    return parse_trace(buffer.str(), path);
}

std::string format_op(const TraceOp &op) {
    std::string id = std::to_string(op.id);
    switch (op.kind) {
    case TraceOp::Kind::Alloc: return "a " + id + " " + std::to_string(op.size);
    case TraceOp::Kind::Calloc:
        return "c " + id + " " + std::to_string(op.nmemb) + " " + std::to_string(op.size);
    case TraceOp::Kind::Realloc: return "r " + id + " " + std::to_string(op.size);
    case TraceOp::Kind::Free: return "f " + id;
    }
    return "?";
}

std::string format_trace(const Trace &trace) {
    std::string out = "heaplab-trace 1\n";
    if (!trace.name.empty()) out += "name " + trace.name + "\n";
    if (!trace.stresses.empty()) out += "stresses " + trace.stresses + "\n";
    if (trace.seed != 0) out += "seed " + std::to_string(trace.seed) + "\n";
    if (trace.suggested_heap != 0) out += "heap " + std::to_string(trace.suggested_heap) + "\n";
    if (trace.weight != 1) out += "weight " + std::to_string(trace.weight) + "\n";
    out += "ids " + std::to_string(trace.num_ids) + "\n";
    out += "ops " + std::to_string(trace.ops.size()) + "\n";
    out.reserve(out.size() + trace.ops.size() * 12);
    for (const TraceOp &op : trace.ops) {
        out += format_op(op);
        out += '\n';
    }
    return out;
}

}  // namespace heaplab
