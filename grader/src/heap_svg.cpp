/**
 * @file heap_svg.cpp
 * @brief Draws heap snapshots as SVG (see heap_svg.h for what the pictures show).
 *
 * Layout of a step picture, top to bottom: the title and any notes (no walk, a walk that
 * disagreed, a replay that stopped), then one panel per snapshot — its caption, its totals, the
 * heap as rows of `row_bytes` bytes each, an offset axis — and the legend. All panels share one
 * byte scale, so a heap that grows looks longer. A timeline has the same header and legend
 * around a plot of requests (x) against heap offsets (y, growing upwards, like the break).
 *
 * Text is sized by an estimate (0.6 em per character), which is conservative for the sans-serif
 * fonts browsers and rsvg pick: a label is drawn only where its estimate fits its block.
 */
#include "heap_svg.h"

#include <fmt/format.h>
#include <pugixml.hpp>

#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>

namespace heaplab {
namespace {

constexpr const char *kFont = "DejaVu Sans, Verdana, Helvetica, Arial, sans-serif";
constexpr double kCharWidth = 0.6;  ///< estimated glyph width, in ems
constexpr const char *kInk = "#1a1a1a";
constexpr const char *kGrey = "#555555";
constexpr const char *kBreakColour = "#b03a2e";

/// What a stretch of bytes is, as drawn.
enum class Part { Payload, Unused, Overhead, Free, Cached, Unknown, Beyond };

const char *fill_of(Part part) {
    switch (part) {
    case Part::Payload: return "#8fb8ea";
    case Part::Unused: return "url(#unused)";
    case Part::Overhead: return "#4a4a4a";
    case Part::Free: return "url(#free)";
    case Part::Cached: return "url(#cached)";
    case Part::Unknown: return "url(#unknown)";
    case Part::Beyond: return "#ffffff";
    }
    return "none";
}

const char *legend_of(Part part, bool described) {
    switch (part) {
    case Part::Payload: return described ? "live payload (the bytes asked for)" : "live payload";
    case Part::Unused: return "unused end of an allocated block";
    case Part::Overhead: return "header, footer, other overhead";
    case Part::Free: return "free block";
    case Part::Cached: return "freed, kept in the allocator's cache";
    case Part::Unknown: return "not a live payload (free or overhead; this allocator does not describe its blocks)";
    case Part::Beyond: return "beyond the break";
    }
    return "";
}

const char *kind_name(PictureBlock::Kind kind) {
    switch (kind) {
    case PictureBlock::Kind::Allocated: return "allocated";
    case PictureBlock::Kind::Free: return "free";
    case PictureBlock::Kind::Cached: return "cached";
    case PictureBlock::Kind::Overhead: return "overhead";
    case PictureBlock::Kind::Live: return "live";
    case PictureBlock::Kind::Unknown: return "unknown";
    }
    return "";
}

struct Segment {
    std::size_t offset;
    std::size_t size;
    Part part;
};

/// A block's parts, lowest address first (empty parts left out).
std::vector<Segment> segments_of(const PictureBlock &b) {
    std::vector<Segment> parts;
    auto add = [&](std::size_t offset, std::size_t size, Part part) {
        if (size > 0) parts.push_back({offset, size, part});
    };
    std::size_t body = b.offset + b.header;
    std::size_t body_end = b.offset + b.size - b.footer;
    switch (b.kind) {
    case PictureBlock::Kind::Allocated:
        add(b.offset, b.header, Part::Overhead);
        if (b.has_payload) {
            std::size_t payload_end = b.payload_offset + b.payload_size;
            add(body, b.payload_offset - body, Part::Unused);
            add(b.payload_offset, b.payload_size, Part::Payload);
            add(payload_end, body_end - payload_end, Part::Unused);
        } else {
            add(body, body_end - body, Part::Unused);
        }
        add(body_end, b.footer, Part::Overhead);
        break;
    case PictureBlock::Kind::Free:
    case PictureBlock::Kind::Cached:
        add(b.offset, b.header, Part::Overhead);
        add(body, body_end - body, b.kind == PictureBlock::Kind::Free ? Part::Free : Part::Cached);
        add(body_end, b.footer, Part::Overhead);
        break;
    case PictureBlock::Kind::Overhead: add(b.offset, b.size, Part::Overhead); break;
    case PictureBlock::Kind::Live: add(b.offset, b.size, Part::Payload); break;
    case PictureBlock::Kind::Unknown: add(b.offset, b.size, Part::Unknown); break;
    }
    return parts;
}

/// "64 B", with a no-break space: a wrapped line never splits a number from its unit.
std::string bytes(std::size_t n) { return fmt::format("{}\u00a0B", n); }

/// Labels for a block, richest first; the first that fits is drawn.
std::vector<std::vector<std::string>> labels_of(const PictureBlock &b) {
    std::string id = fmt::format("#{}", b.id);
    switch (b.kind) {
    case PictureBlock::Kind::Allocated:
        if (!b.has_payload) return {{"allocated", "block " + bytes(b.size)}, {"alloc"}};
        return {{id + " · " + bytes(b.payload_size), "block " + bytes(b.size)},
                {id, bytes(b.payload_size)},
                {id}};
    case PictureBlock::Kind::Free: return {{"free", "block " + bytes(b.size)}, {"free", bytes(b.size)}, {"free"}};
    case PictureBlock::Kind::Cached: return {{"cached", "block " + bytes(b.size)}, {"cached"}};
    case PictureBlock::Kind::Overhead: return {{"overhead", bytes(b.size)}};
    case PictureBlock::Kind::Live: return {{id + " · " + bytes(b.payload_size)}, {id, bytes(b.payload_size)}, {id}};
    case PictureBlock::Kind::Unknown: return {{"not a live payload", bytes(b.size)}, {"not live", bytes(b.size)}, {"?"}};
    }
    return {};
}

/// The tooltip of a block: everything about it in one sentence.
std::string tooltip_of(const PictureBlock &b) {
    std::string where = fmt::format("at +{}, {} bytes", b.offset, b.size);
    std::string tags = b.footer > 0 ? fmt::format(" ({}-byte header, {}-byte footer)", b.header, b.footer)
                                    : fmt::format(" ({}-byte header)", b.header);
    switch (b.kind) {
    case PictureBlock::Kind::Allocated:
        if (!b.has_payload) return "allocated block " + where + tags + ", no live payload in it";
        return fmt::format("allocated block {}{}: payload of id {} at +{}, {} bytes asked, {} bytes unused", where,
                           tags, b.id, b.payload_offset, b.payload_size,
                           b.size - b.header - b.footer - b.payload_size);
    case PictureBlock::Kind::Free: return "free block " + where + tags;
    case PictureBlock::Kind::Cached: return "cached block " + where + tags + ": freed, kept aside by the allocator";
    case PictureBlock::Kind::Overhead: return "overhead " + where + ": in no block (pad, prologue, epilogue)";
    case PictureBlock::Kind::Live: return fmt::format("live payload of id {} {}", b.id, where);
    case PictureBlock::Kind::Unknown: return "not a live payload " + where + ": free or overhead, not described";
    }
    return where;
}

/// An offset on an axis whose labels are @p step bytes apart: "+640", "+64 KiB", "+9 MiB". One
/// unit for the whole axis, chosen from the step, so every label is exact.
std::string offset_text(std::size_t n, std::size_t step) {
    if (n > 0 && step % (std::size_t{1} << 20) == 0) return fmt::format("+{}\u00a0MiB", n >> 20);
    if (n > 0 && step >= (std::size_t{1} << 14) && step % 1024 == 0) return fmt::format("+{}\u00a0KiB", n >> 10);
    return fmt::format("+{}", n);
}

/// A round number near @p n: 1, 2 or 5 times a power of ten.
std::size_t nice_number(double n) {
    std::size_t p = 1;
    for (;;) {
        for (std::size_t m : {1, 2, 5})
            if (static_cast<double>(p * m) >= n) return p * m;
        p *= 10;
    }
}

/// Numbers in attributes: at most two decimals, no trailing zeros.
std::string num(double value) {
    std::string text = fmt::format("{:.2f}", value);
    while (text.back() == '0') text.pop_back();
    if (text.back() == '.') text.pop_back();
    return text == "-0" ? "0" : text;
}

double text_width(const std::string &text, double size) {
    std::size_t glyphs = 0;
    for (unsigned char c : text)
        if ((c & 0xC0) != 0x80) ++glyphs;  // count UTF-8 lead bytes only
    return static_cast<double>(glyphs) * size * kCharWidth;
}

/// Splits @p text into lines of at most @p width pixels at @p size. Prose is mostly lower
/// case, narrower than the labels' estimate: it is measured at 0.9 of it.
std::vector<std::string> wrap(const std::string &text, double width, double size) {
    width /= 0.9;
    std::vector<std::string> lines;
    std::istringstream words(text);
    std::string line;
    for (std::string word; words >> word;) {
        std::string longer = line.empty() ? word : line + " " + word;
        if (!line.empty() && text_width(longer, size) > width) {
            lines.push_back(line);
            line = word;
        } else {
            line = longer;
        }
    }
    if (!line.empty()) lines.push_back(line);
    return lines;
}

/// The smallest power of two >= @p n (n >= 1).
std::size_t pow2_at_least(double n) {
    std::size_t p = 1;
    while (static_cast<double>(p) < n) p *= 2;
    return p;
}

std::size_t round_up(std::size_t n, std::size_t to) { return (n + to - 1) / to * to; }

/// An SVG document under construction.
class Svg {
public:
    Svg() {
        auto declaration = doc_.append_child(pugi::node_declaration);
        declaration.append_attribute("version") = "1.0";
        declaration.append_attribute("encoding") = "UTF-8";
        root_ = doc_.append_child("svg");
        root_.append_attribute("xmlns") = "http://www.w3.org/2000/svg";
        root_.append_attribute("version") = "1.1";
        root_.append_attribute("role") = "img";
        root_.append_attribute("aria-labelledby") = "picture-title picture-desc";
        root_.append_attribute("font-family") = kFont;
        title_ = root_.append_child("title");
        title_.append_attribute("id") = "picture-title";
        desc_ = root_.append_child("desc");
        desc_.append_attribute("id") = "picture-desc";
        define_patterns();
        background_ = rect(root_, 0, 0, 0, 0, "#ffffff");
    }

    pugi::xml_node root() { return root_; }

    pugi::xml_node group(pugi::xml_node parent, const std::string &css_class) {
        pugi::xml_node g = parent.append_child("g");
        if (!css_class.empty()) g.append_attribute("class") = css_class.c_str();
        return g;
    }

    pugi::xml_node rect(pugi::xml_node parent, double x, double y, double w, double h, const char *fill) {
        pugi::xml_node r = parent.append_child("rect");
        r.append_attribute("x") = num(x).c_str();
        r.append_attribute("y") = num(y).c_str();
        r.append_attribute("width") = num(w).c_str();
        r.append_attribute("height") = num(h).c_str();
        r.append_attribute("fill") = fill;
        return r;
    }

    /// An outline only.
    pugi::xml_node frame(pugi::xml_node parent, double x, double y, double w, double h, double stroke_width,
                         const char *dash = nullptr) {
        pugi::xml_node r = rect(parent, x, y, w, h, "none");
        r.append_attribute("stroke") = kInk;
        r.append_attribute("stroke-width") = num(stroke_width).c_str();
        if (dash != nullptr) r.append_attribute("stroke-dasharray") = dash;
        return r;
    }

    pugi::xml_node line(pugi::xml_node parent, double x1, double y1, double x2, double y2, const char *stroke,
                        double width) {
        pugi::xml_node l = parent.append_child("line");
        l.append_attribute("x1") = num(x1).c_str();
        l.append_attribute("y1") = num(y1).c_str();
        l.append_attribute("x2") = num(x2).c_str();
        l.append_attribute("y2") = num(y2).c_str();
        l.append_attribute("stroke") = stroke;
        l.append_attribute("stroke-width") = num(width).c_str();
        return l;
    }

    pugi::xml_node text(pugi::xml_node parent, double x, double y, const std::string &content, double size,
                        const char *anchor = "start", const char *fill = kInk, bool bold = false) {
        pugi::xml_node t = parent.append_child("text");
        t.append_attribute("x") = num(x).c_str();
        t.append_attribute("y") = num(y).c_str();
        t.append_attribute("font-size") = num(size).c_str();
        t.append_attribute("fill") = fill;
        if (std::string(anchor) != "start") t.append_attribute("text-anchor") = anchor;
        if (bold) t.append_attribute("font-weight") = "bold";
        t.text().set(content.c_str());
        return t;
    }

    /// Text with a white halo, readable on any light fill; white on a dark one.
    pugi::xml_node label(pugi::xml_node parent, double x, double y, const std::string &content, double size,
                         bool on_dark) {
        if (on_dark) return text(parent, x, y, content, size, "middle", "#ffffff");
        pugi::xml_node t = text(parent, x, y, content, size, "middle");
        t.append_attribute("stroke") = "#ffffff";
        t.append_attribute("stroke-width") = "3";
        t.append_attribute("stroke-linejoin") = "round";
        t.append_attribute("paint-order") = "stroke";
        return t;
    }

    void tooltip(pugi::xml_node parent, const std::string &content) {
        parent.append_child("title").text().set(content.c_str());
    }

    std::string finish(double width, double height, const std::string &title, const std::string &description) {
        root_.prepend_attribute("height") = num(std::ceil(height)).c_str();
        root_.prepend_attribute("width") = num(std::ceil(width)).c_str();
        root_.append_attribute("viewBox") = fmt::format("0 0 {} {}", num(std::ceil(width)), num(std::ceil(height))).c_str();
        background_.attribute("width") = num(std::ceil(width)).c_str();
        background_.attribute("height") = num(std::ceil(height)).c_str();
        title_.text().set(title.c_str());
        desc_.text().set(description.c_str());
        std::ostringstream out;
        doc_.save(out, "  ", pugi::format_default, pugi::encoding_utf8);
        return out.str();
    }

private:
    /// Hatching (free), dots (unused), back-hatching (cached), cross-hatching (unknown): each
    /// texture stays distinct without its colour.
    void define_patterns() {
        pugi::xml_node defs = root_.append_child("defs");
        auto pattern = [&](const char *id, double size, const char *background, double angle) {
            pugi::xml_node p = defs.append_child("pattern");
            p.append_attribute("id") = id;
            p.append_attribute("patternUnits") = "userSpaceOnUse";
            p.append_attribute("width") = num(size).c_str();
            p.append_attribute("height") = num(size).c_str();
            if (angle != 0) p.append_attribute("patternTransform") = fmt::format("rotate({})", num(angle)).c_str();
            rect(p, 0, 0, size, size, background);
            return p;
        };
        pugi::xml_node free = pattern("free", 7, "#eaf6e6", 45);
        line(free, 0, 0, 0, 7, "#3f8f35", 2.2);
        pugi::xml_node cached = pattern("cached", 7, "#fdf0dc", -45);
        line(cached, 0, 0, 0, 7, "#c46f00", 1.6);
        pugi::xml_node unknown = pattern("unknown", 8, "#f2f2f2", 45);
        line(unknown, 0, 0, 0, 8, "#8a8a8a", 1);
        line(unknown, 0, 0, 8, 0, "#8a8a8a", 1);
        pugi::xml_node unused = pattern("unused", 6, "#e3eefb", 0);
        pugi::xml_node dot = unused.append_child("circle");
        dot.append_attribute("cx") = "3";
        dot.append_attribute("cy") = "3";
        dot.append_attribute("r") = "1.3";
        dot.append_attribute("fill") = "#2f6fb5";
    }

    pugi::xml_document doc_;
    pugi::xml_node root_;
    pugi::xml_node title_;
    pugi::xml_node desc_;
    pugi::xml_node background_;
};

/// "after 5 of 9 requests; the last: f 1 (line 9)".
std::string step_caption(const HeapSnapshot &s, const Trace &trace) {
    if (s.done == 0) return fmt::format("right after mm_init (0 of {} requests)", trace.ops.size());
    const TraceOp &op = trace.ops[s.done - 1];
    return fmt::format("after {} of {} requests; the last: {}{}", s.done, trace.ops.size(), format_op(op),
                       op.line > 0 ? fmt::format(" (line {})", op.line) : "");
}

std::string plural(std::size_t n, const char *word) { return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s"); }

/// "heap 352 B · live payload 120 B in 3 blocks · free ..."
std::string totals_line(const HeapSnapshot &s) {
    HeapTotals t = s.totals();
    std::string line = fmt::format("heap {}\u00a0B", s.heap_size);
    if (t.live_blocks == 0) line += " · no live payload";
    else line += fmt::format(" · live payload {}\u00a0B in {}", t.live_bytes, plural(t.live_blocks, "block"));
    if (s.heap_size > 0 && t.live_blocks > 0) line += fmt::format(" ({:.0f}% of the heap)", 100.0 * static_cast<double>(t.live_bytes) / static_cast<double>(s.heap_size));
    if (!s.described) return line + fmt::format(" · not a live payload {}\u00a0B", t.unknown_bytes);
    line += t.free_blocks == 0 ? std::string(" · no free block")
                               : fmt::format(" · free {}\u00a0B in {}", t.free_bytes, plural(t.free_blocks, "block"));
    if (t.free_blocks > 1) line += fmt::format(", the largest {}\u00a0B", t.largest_free);
    if (t.cached_blocks > 0) line += fmt::format(" · cached {}\u00a0B in {}", t.cached_bytes, plural(t.cached_blocks, "block"));
    line += fmt::format(" · overhead {}\u00a0B · unused in allocated blocks {}\u00a0B", t.overhead_bytes, t.unused_bytes);
    return line;
}

/// The picture's frame: title, notes, and (at the end) the legend and the document.
class Page {
public:
    explicit Page(double width) : width_(width) {}

    Svg &svg() { return svg_; }
    double &y() { return y_; }
    [[nodiscard]] double width() const { return width_; }

    void title(const std::string &text) {
        y_ += 20;
        svg_.text(svg_.root(), kMargin, y_, text, 16, "start", kInk, true);
        y_ += 6;
    }

    /// A paragraph under the title, wrapped to the width.
    void note(const std::string &text, const char *fill = kGrey) {
        for (const std::string &line : wrap(text, width_ - 2 * kMargin, 12)) {
            y_ += 16;
            svg_.text(svg_.root(), kMargin, y_, line, 12, "start", fill);
        }
    }

    void use(Part part) { used_.insert(part); }

    /// The legend: a swatch and a name for every part drawn, flowing over lines.
    void legend(bool described, bool break_line) {
        pugi::xml_node g = svg_.group(svg_.root(), "legend");
        y_ += 18;
        double x = kMargin;
        auto place = [&](double item_width) {
            if (x + item_width > width_ - kMargin && x > kMargin) {
                x = kMargin;
                y_ += 20;
            }
            double at = x;
            x += item_width + 18;
            return at;
        };
        for (Part part : {Part::Payload, Part::Unused, Part::Overhead, Part::Free, Part::Cached, Part::Unknown,
                          Part::Beyond}) {
            if (!used_.contains(part)) continue;
            std::string name = legend_of(part, described);
            double at = place(34 + text_width(name, 11.5));
            svg_.rect(g, at, y_ - 11, 26, 14, fill_of(part));
            svg_.frame(g, at, y_ - 11, 26, 14, 0.8, part == Part::Beyond ? "3 2" : nullptr);
            svg_.text(g, at + 33, y_, name, 11.5);
        }
        if (break_line) {
            std::string name = "the break (end of the heap)";
            double at = place(34 + text_width(name, 11.5));
            svg_.line(g, at + 13, y_ - 13, at + 13, y_ + 5, kBreakColour, 2);
            svg_.text(g, at + 33, y_, name, 11.5);
        }
        y_ += 14;
    }

    std::string finish(const std::string &title, const std::string &description) {
        return svg_.finish(width_, y_ + 8, title, description);
    }

    static constexpr double kMargin = 16;

private:
    double width_;
    double y_ = 0;
    Svg svg_;
    std::set<Part> used_;
};

/// The title and notes both kinds of picture start with.
void header(Page &page, const PictureContext &context, bool all_described, const std::string &walk_problem) {
    page.title(context.title);
    if (!walk_problem.empty()) {
        page.note("Drawn without the allocator's description: " + walk_problem +
                  ". Live payloads are exact; the other bytes are shown as not a live payload.");
    } else if (!all_described) {
        page.note("This allocator does not describe its blocks (its mm_heap_walk is missing or returns -1, see "
                  "heaplab/heap_walk.h): live payloads are exact; every other byte is shown as not a live payload.");
    }
    if (!context.failure.empty()) page.note("The replay stopped: " + context.failure, kBreakColour);
}

/// Chooses a label from @p choices that fits a box of @p w x @p h, and draws it centred.
void fit_label(Svg &svg, pugi::xml_node parent, const PictureBlock &block, double cx, double cy, double w, double h,
               double size) {
    const std::vector<std::vector<std::string>> choices = labels_of(block);
    bool on_dark = block.kind == PictureBlock::Kind::Overhead;
    for (const std::vector<std::string> &lines : choices) {
        double line_height = size * 1.2;
        if (static_cast<double>(lines.size()) * line_height + 2 > h) continue;
        double widest = 0;
        for (const std::string &line : lines) widest = std::max(widest, text_width(line, size));
        if (widest + 10 > w) continue;
        double first = cy - line_height * static_cast<double>(lines.size() - 1) / 2 + size * 0.35;
        for (std::size_t i = 0; i < lines.size(); ++i)
            svg.label(parent, cx, first + line_height * static_cast<double>(i), lines[i], size, on_dark);
        return;
    }
}

/// Starts a block's group, with its class, data attributes and tooltip.
pugi::xml_node block_group(Svg &svg, pugi::xml_node parent, const PictureBlock &b) {
    pugi::xml_node g = svg.group(parent, std::string("block ") + kind_name(b.kind));
    g.append_attribute("data-offset") = b.offset;
    g.append_attribute("data-size") = b.size;
    if (b.has_payload) {
        g.append_attribute("data-id") = b.id;
        g.append_attribute("data-payload-offset") = b.payload_offset;
        g.append_attribute("data-payload-size") = b.payload_size;
    }
    svg.tooltip(g, tooltip_of(b));
    return g;
}

/// The most rows a step picture's panel gets, whatever --row-bytes says.
constexpr std::size_t kMaxRows = 256;

/// The byte scale of a step picture: rows of row_bytes, ticks every tick bytes.
struct RowScale {
    std::size_t row_bytes = 0;
    std::size_t tick = 0;
    double px_per_byte = 0;
};

RowScale choose_rows(std::size_t largest_heap, std::size_t wanted_row_bytes, double plot_width) {
    RowScale scale;
    std::size_t heap = std::max<std::size_t>(largest_heap, 16);
    constexpr double kTickSpacing = 56;  // pixels between labelled ticks, at least
    if (wanted_row_bytes > 0) {
        // As asked, unless that makes an absurd picture: then rows twice, four times... as long.
        scale.row_bytes = wanted_row_bytes;
        while (heap / scale.row_bytes > kMaxRows) scale.row_bytes *= 2;
    } else if (heap <= 1024) {
        // One row: the heap fills the width, rounded up to a tick.
        std::size_t tick = pow2_at_least(kTickSpacing * static_cast<double>(heap) / plot_width);
        scale.row_bytes = round_up(heap, tick);
    } else {
        scale.row_bytes = std::max<std::size_t>(512, pow2_at_least(static_cast<double>(heap) / 24));
    }
    scale.px_per_byte = plot_width / static_cast<double>(scale.row_bytes);
    scale.tick = pow2_at_least(kTickSpacing / scale.px_per_byte);
    return scale;
}

}  // namespace

std::string render_steps(const std::vector<HeapSnapshot> &snapshots, const PictureContext &context) {
    constexpr double kWidth = 960;
    constexpr double kLeft = 72;
    constexpr double kRight = 20;
    constexpr double kRowHeight = 42;
    constexpr double kRowGap = 8;
    const double plot_width = kWidth - kLeft - kRight;

    std::size_t largest = 0;
    bool all_described = true;
    std::string walk_problem;
    for (const HeapSnapshot &s : snapshots) {
        largest = std::max(largest, s.heap_size);
        all_described = all_described && s.described;
        if (walk_problem.empty()) walk_problem = s.walk_problem;
    }
    RowScale scale = choose_rows(largest, context.row_bytes, plot_width);
    std::size_t rows = std::max<std::size_t>(1, (largest + scale.row_bytes - 1) / scale.row_bytes);
    auto x_of = [&](std::size_t within_row) { return kLeft + static_cast<double>(within_row) * scale.px_per_byte; };

    Page page(kWidth);
    Svg &svg = page.svg();
    header(page, context, all_described, walk_problem);
    bool break_drawn = false;
    for (const HeapSnapshot &s : snapshots) {
        pugi::xml_node panel = svg.group(svg.root(), "snapshot");
        panel.append_attribute("data-done") = s.done;
        panel.append_attribute("data-heap-size") = s.heap_size;
        page.y() += 24;
        svg.text(panel, Page::kMargin, page.y(), step_caption(s, *context.trace), 13.5, "start", kInk, true);
        page.y() += 17;
        std::vector<std::string> totals = wrap(totals_line(s), kWidth - 2 * Page::kMargin, 11.5);
        for (std::size_t i = 0; i < totals.size(); ++i) {
            if (i > 0) page.y() += 15;
            svg.text(panel, Page::kMargin, page.y(), totals[i], 11.5, "start", kGrey);
        }
        page.y() += 10;
        double top = page.y();
        auto row_top = [&](std::size_t row) { return top + static_cast<double>(row) * (kRowHeight + kRowGap); };
        if (rows > 1)
            for (std::size_t row = 0; row < rows; ++row)
                svg.text(panel, kLeft - 8, row_top(row) + kRowHeight / 2 + 4, offset_text(row * scale.row_bytes, scale.row_bytes), 10.5,
                         "end", kGrey);

        // Draws [offset, offset + size) of a block, cut at row ends; calls back with each piece.
        auto pieces = [&](std::size_t offset, std::size_t size, auto &&draw) {
            std::size_t end = offset + size;
            while (offset < end) {
                std::size_t row = offset / scale.row_bytes;
                std::size_t row_end = std::min(end, (row + 1) * scale.row_bytes);
                draw(row, x_of(offset - row * scale.row_bytes), x_of(row_end - row * scale.row_bytes));
                offset = row_end;
            }
        };
        for (const PictureBlock &b : s.blocks) {
            if (b.size == 0) continue;
            pugi::xml_node g = block_group(svg, panel, b);
            for (const Segment &segment : segments_of(b)) {
                page.use(segment.part);
                pieces(segment.offset, segment.size, [&](std::size_t row, double x0, double x1) {
                    svg.rect(g, x0, row_top(row), x1 - x0, kRowHeight, fill_of(segment.part));
                });
            }
            bool outlined = b.kind != PictureBlock::Kind::Unknown;
            double widest = 0, label_x = 0, label_row_top = 0;
            pieces(b.offset, b.size, [&](std::size_t row, double x0, double x1) {
                if (outlined && x1 - x0 >= 3) svg.frame(g, x0, row_top(row), x1 - x0, kRowHeight, 1.2);
                if (x1 - x0 > widest) {
                    widest = x1 - x0;
                    label_x = (x0 + x1) / 2;
                    label_row_top = row_top(row);
                }
            });
            fit_label(svg, g, b, label_x, label_row_top + kRowHeight / 2, widest, kRowHeight, 11);
        }
        // Beyond this snapshot's break, up to the largest heap of the picture.
        if (s.heap_size < largest) {
            page.use(Part::Beyond);
            pugi::xml_node g = svg.group(panel, "beyond");
            svg.tooltip(g, fmt::format("beyond the break: +{} to +{}, not part of the heap after this request",
                                       s.heap_size, largest));
            pieces(s.heap_size, largest - s.heap_size, [&](std::size_t row, double x0, double x1) {
                svg.frame(g, x0, row_top(row), x1 - x0, kRowHeight, 0.8, "4 3");
                if (x1 - x0 > text_width("beyond the break", 11) + 8)
                    svg.text(g, (x0 + x1) / 2, row_top(row) + kRowHeight / 2 + 4, "beyond the break", 11, "middle",
                             kGrey);
            });
        }
        // The break itself: a line where the heap ends.
        {
            std::size_t row = s.heap_size == 0 ? 0 : (s.heap_size - 1) / scale.row_bytes;
            double x = x_of(s.heap_size - row * scale.row_bytes);
            pugi::xml_node g = svg.group(panel, "break");
            svg.line(g, x, row_top(row) - 5, x, row_top(row) + kRowHeight + 5, kBreakColour, 2);
            svg.tooltip(g, fmt::format("the break: +{} (mem_heap_hi() + 1)", s.heap_size));
            break_drawn = true;
        }
        // The offset axis under the last row.
        page.y() = row_top(rows - 1) + kRowHeight;
        pugi::xml_node axis = svg.group(panel, "axis");
        for (std::size_t at = 0; at <= scale.row_bytes; at += scale.tick) {
            double x = x_of(at);
            svg.line(axis, x, page.y(), x, page.y() + 4, kGrey, 1);
            std::string text = offset_text(at, scale.tick);
            bool last = x + text_width(text, 10) / 2 > kWidth - 4;  // keep the last label inside
            svg.text(axis, last ? x + 2 : x, page.y() + 15, text, 10, last ? "end" : "middle", kGrey);
        }
        page.y() += 18;
    }
    if (context.row_bytes > 0 && scale.row_bytes != context.row_bytes)
        page.note(fmt::format("Rows of {} bytes would make more than {} rows: they are {} bytes instead.",
                              context.row_bytes, kMaxRows, scale.row_bytes));
    if (rows > 1) page.note(fmt::format("Each row is {} bytes; offsets are from mem_heap_lo().", scale.row_bytes));
    else page.note("Offsets in bytes from mem_heap_lo().");
    page.legend(all_described, break_drawn);
    std::string description;
    for (const HeapSnapshot &s : snapshots) description += step_caption(s, *context.trace) + ": " + totals_line(s) + ". ";
    return page.finish(context.title, description);
}

void Timeline::add(const HeapSnapshot &snapshot) {
    std::size_t column = done_.size();
    std::map<std::size_t, std::size_t> still_open;
    for (const PictureBlock &block : snapshot.blocks) {
        auto open = open_.find(block.offset);
        if (open != open_.end() && runs_[open->second].block == block) {
            runs_[open->second].last = column;
            still_open.emplace(block.offset, open->second);
        } else {
            runs_.push_back({block, column, column});
            still_open.emplace(block.offset, runs_.size() - 1);
        }
    }
    open_ = std::move(still_open);
    done_.push_back(snapshot.done);
    heap_sizes_.push_back(snapshot.heap_size);
    if (!snapshot.described) ++undescribed_;
    if (walk_problem_.empty()) walk_problem_ = snapshot.walk_problem;
    last_ = snapshot;
}

std::string render_timeline(const Timeline &timeline, const PictureContext &context) {
    constexpr double kLeft = 84;
    constexpr double kRight = 24;
    constexpr double kPlotHeight = 380;
    const std::size_t columns = timeline.done().size();
    const double column_width = std::clamp(880.0 / static_cast<double>(std::max<std::size_t>(columns, 1)), 0.5, 64.0);
    const double plot_width = column_width * static_cast<double>(columns);
    const double width = std::max(720.0, kLeft + plot_width + kRight);

    std::size_t largest = 16;
    for (std::size_t size : timeline.heap_sizes()) largest = std::max(largest, size);
    std::size_t tick = pow2_at_least(30 * static_cast<double>(largest) / kPlotHeight);
    std::size_t top_offset = round_up(largest, tick);
    const double py = kPlotHeight / static_cast<double>(top_offset);

    Page page(width);
    Svg &svg = page.svg();
    header(page, context, timeline.undescribed() == 0, timeline.walk_problem());
    page.y() += 6;
    std::size_t stride = columns > 1 ? (timeline.done()[1] - timeline.done()[0]) : 1;
    page.note(fmt::format("Time runs to the right: {}. Addresses grow upwards, in bytes from mem_heap_lo().",
                          stride == 1 ? "one column per request" : fmt::format("one column per {} requests", stride)));
    page.note("At the end, " + totals_line(timeline.last()) + ".");
    page.y() += 14;
    const double plot_top = page.y();
    const double bottom = plot_top + kPlotHeight;
    auto y_of = [&](std::size_t offset) { return bottom - static_cast<double>(offset) * py; };
    auto x_of = [&](std::size_t column) { return kLeft + static_cast<double>(column) * column_width; };

    pugi::xml_node plot = svg.group(svg.root(), "timeline");
    for (const Timeline::Run &run : timeline.runs()) {
        const PictureBlock &b = run.block;
        if (b.size == 0) continue;
        double x0 = x_of(run.first), x1 = x_of(run.last + 1);
        double y_low = y_of(b.offset), y_high = y_of(b.offset + b.size);
        pugi::xml_node g = block_group(svg, plot, b);
        g.append_attribute("data-from") = timeline.done()[run.first];
        g.append_attribute("data-to") = timeline.done()[run.last];
        std::vector<Segment> segments = segments_of(b);
        if (y_low - y_high < 2.5) {  // too thin for its parts: its largest part stands for it
            const Segment &main = *std::max_element(segments.begin(), segments.end(),
                                                    [](const Segment &a, const Segment &c) { return a.size < c.size; });
            page.use(main.part);
            svg.rect(g, x0, y_high, x1 - x0, y_low - y_high, fill_of(main.part));
            continue;
        }
        for (const Segment &segment : segments) {
            page.use(segment.part);
            double top = y_of(segment.offset + segment.size);
            svg.rect(g, x0, top, x1 - x0, y_of(segment.offset) - top, fill_of(segment.part));
        }
        if (b.kind != PictureBlock::Kind::Unknown && x1 - x0 >= 2.5) svg.frame(g, x0, y_high, x1 - x0, y_low - y_high, 0.8);
        fit_label(svg, g, b, (x0 + x1) / 2, (y_low + y_high) / 2, x1 - x0, y_low - y_high, 10);
    }

    // The break, column by column.
    std::string path;
    for (std::size_t c = 0; c < columns; ++c) {
        double y = y_of(timeline.heap_sizes()[c]);
        path += c == 0 ? fmt::format("M{} {}", num(x_of(0)), num(y)) : fmt::format(" V{}", num(y));
        path += fmt::format(" H{}", num(x_of(c + 1)));
    }
    pugi::xml_node break_line = plot.append_child("path");
    break_line.append_attribute("class") = "break";
    break_line.append_attribute("d") = path.c_str();
    break_line.append_attribute("fill") = "none";
    break_line.append_attribute("stroke") = kBreakColour;
    break_line.append_attribute("stroke-width") = "2";

    // Axes: offsets up the left, requests along the bottom.
    pugi::xml_node axes = svg.group(svg.root(), "axis");
    svg.line(axes, kLeft, plot_top, kLeft, bottom, kInk, 1);
    svg.line(axes, kLeft, bottom, x_of(columns), bottom, kInk, 1);
    for (std::size_t at = 0; at <= top_offset; at += tick) {
        svg.line(axes, kLeft - 4, y_of(at), kLeft, y_of(at), kInk, 1);
        svg.text(axes, kLeft - 7, y_of(at) + 3.5, offset_text(at, tick), 10, "end", kGrey);
    }
    pugi::xml_node y_title = svg.text(axes, 14, (plot_top + bottom) / 2, "offset (bytes)", 11, "middle", kGrey);
    y_title.append_attribute("transform") = fmt::format("rotate(-90 14 {})", num((plot_top + bottom) / 2)).c_str();
    double label_bottom = bottom + 16;
    bool per_column = columns <= 48 && column_width >= 13;
    if (per_column) {
        // Each column says which request made it.
        for (std::size_t c = 0; c < columns; ++c) {
            std::size_t done = timeline.done()[c];
            std::string text = done == 0 ? "mm_init" : format_op(context.trace->ops[done - 1]);
            double x = (x_of(c) + x_of(c + 1)) / 2 + 3.5;
            pugi::xml_node t = svg.text(axes, x, bottom + 6, text, 10, "end", kGrey);
            t.append_attribute("transform") = fmt::format("rotate(-90 {} {})", num(x), num(bottom + 6)).c_str();
            label_bottom = std::max(label_bottom, bottom + 10 + text_width(text, 10));
        }
    } else {
        // Round numbers of requests; column c shows the heap after done()[c] = c * stride.
        std::size_t last_done = timeline.done().back();
        std::size_t every = nice_number(static_cast<double>(std::max<std::size_t>(last_done, 1)) / 8);
        for (std::size_t done = 0; done <= last_done; done += every) {
            double x = kLeft + (static_cast<double>(done) / static_cast<double>(stride) + 0.5) * column_width;
            svg.line(axes, x, bottom, x, bottom + 4, kInk, 1);
            svg.text(axes, x, bottom + 15, std::to_string(done), 10, "middle", kGrey);
        }
    }
    page.y() = label_bottom + 16;
    svg.text(axes, kLeft + plot_width / 2, page.y(),
             per_column ? "each column: the heap after the request named under it" : "requests made", 11, "middle",
             kGrey);
    page.legend(timeline.undescribed() == 0, true);
    return page.finish(context.title, "Timeline of the heap. At the end, " + totals_line(timeline.last()) + ".");
}

}  // namespace heaplab
