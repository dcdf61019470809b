#!/usr/bin/env python3
"""Draws the hand-made teaching figures of the HeapLab site as SVG files.

    python3 docs/figures/make_figures.py [OUT_DIR]     (default: the folder of this script)
    python3 docs/figures/make_figures.py --check       exit 1 if a committed SVG differs

The SVGs are committed next to this script, so that the handouts show them on GitHub too; the
test docs.figures-up-to-date runs --check. Edit a figure here, run the script, commit both.

Every figure uses the same visual language, readable without colour:
  header/footer words  dark grey, white monospace text
  allocated payload    solid light fill
  free block           white with diagonal hatching
  padding, unused      light grey with dots
The figures of heaps drawn from real traces come from `heaplab trace viz` at docs build time;
these are the conceptual pictures the handouts explain in words and ASCII.
"""

import html
import os
import sys

FONT = "DejaVu Sans, Verdana, Arial, sans-serif"
MONO = "DejaVu Sans Mono, Menlo, Consolas, monospace"
INK = "#222222"
HEADER_FILL = "#4d4d4d"
ALLOC_FILL = "#b9d3ee"
PAD_FILL = "#eeeeee"
ACCENT = "#b03a2e"  # arrows that matter most (also distinguishable by their dash)


def esc(text):
    return html.escape(str(text), quote=True)


class Figure:
    """An SVG drawing, built up element by element, written with write()."""

    def __init__(self, name, width, height, title, desc):
        self.name, self.width, self.height = name, width, height
        self.title, self.desc = title, desc
        self.parts = []

    # -- primitives --------------------------------------------------------------------------
    def raw(self, text):
        self.parts.append(text)

    def text(self, x, y, s, size=13, anchor="middle", mono=False, fill=INK, weight="normal",
             halo=False, italic=False):
        attrs = [f'x="{x:g}"', f'y="{y:g}"', f'font-size="{size}"', f'text-anchor="{anchor}"',
                 f'font-family="{MONO if mono else FONT}"', f'fill="{fill}"']
        if weight != "normal":
            attrs.append(f'font-weight="{weight}"')
        if italic:
            attrs.append('font-style="italic"')
        if halo:  # a white outline keeps text readable on hatching
            attrs.append('stroke="#ffffff" stroke-width="4" stroke-linejoin="round" paint-order="stroke"')
        self.raw(f'<text {" ".join(attrs)}>{esc(s)}</text>')

    def rect(self, x, y, w, h, fill, stroke=INK, width=1.2, dash=None, rx=0):
        d = f' stroke-dasharray="{dash}"' if dash else ""
        r = f' rx="{rx}"' if rx else ""
        self.raw(f'<rect x="{x:g}" y="{y:g}" width="{w:g}" height="{h:g}" fill="{fill}" '
                 f'stroke="{stroke}" stroke-width="{width}"{d}{r}/>')

    def line(self, x1, y1, x2, y2, color=INK, width=1.2, dash=None, arrow=False):
        d = f' stroke-dasharray="{dash}"' if dash else ""
        m = ' marker-end="url(#arrow)"' if arrow else ""
        self.raw(f'<line x1="{x1:g}" y1="{y1:g}" x2="{x2:g}" y2="{y2:g}" stroke="{color}" '
                 f'stroke-width="{width}"{d}{m}/>')

    def path(self, d, color=INK, width=1.2, dash=None, arrow=False, marker="arrow"):
        ds = f' stroke-dasharray="{dash}"' if dash else ""
        m = f' marker-end="url(#{marker})"' if arrow else ""
        self.raw(f'<path d="{d}" fill="none" stroke="{color}" stroke-width="{width}"{ds}{m}/>')

    def arc_arrow(self, x1, x2, y, rise, color=INK, dash=None, width=1.2, marker="arrow"):
        """A curved arrow from (x1, y) to (x2, y), bulging `rise` pixels up (negative: down)."""
        mid = (x1 + x2) / 2
        self.path(f"M {x1:g} {y:g} Q {mid:g} {y - 2 * rise:g} {x2:g} {y:g}", color=color, dash=dash,
                  width=width, arrow=True, marker=marker)

    # -- blocks ------------------------------------------------------------------------------
    def cell(self, x, y, w, h, kind, label="", sub="", size=12):
        """One piece of a heap: kind is header, alloc, free, pad, or ghost (outline only)."""
        if kind == "header":
            self.rect(x, y, w, h, HEADER_FILL)
            self.text(x + w / 2, y + h / 2 + 4.5, label, size=size, mono=True, fill="#ffffff")
            return
        if kind == "alloc":
            self.rect(x, y, w, h, ALLOC_FILL)
        elif kind == "free":
            self.rect(x, y, w, h, "url(#hatch)")
        elif kind == "pad":
            self.rect(x, y, w, h, "url(#dots)")
        elif kind == "ghost":
            self.rect(x, y, w, h, "#ffffff", dash="5 3")
        elif kind == "new":  # the block a request would need, drawn where it does not fit
            self.rect(x, y, w, h, ALLOC_FILL, stroke=ACCENT, width=2, dash="6 3")
        halo = kind in ("free", "pad")
        if sub:
            self.text(x + w / 2, y + h / 2 - 2, label, size=size, halo=halo, mono=True)
            self.text(x + w / 2, y + h / 2 + 13, sub, size=10.5, halo=halo, fill="#444444")
        else:
            self.text(x + w / 2, y + h / 2 + 4.5, label, size=size, halo=halo, mono=True)

    def row(self, x, y, h, cells, size=12):
        """Cells side by side from x: each (width, kind, label[, sub]). Returns the x edges."""
        edges = [x]
        for c in cells:
            w, kind, label = c[0], c[1], c[2]
            sub = c[3] if len(c) > 3 else ""
            self.cell(x, y, w, h, kind, label, sub, size=size)
            x += w
            edges.append(x)
        return edges

    def brace(self, x1, x2, y, label, below=True, size=11.5):
        """A bracket under (or over) [x1, x2] with a label."""
        t = 6 if below else -6
        self.path(f"M {x1:g} {y:g} L {x1:g} {y + t:g} L {x2:g} {y + t:g} L {x2:g} {y:g}", width=1)
        self.text((x1 + x2) / 2, y + (t + 14 if below else t - 5), label, size=size)

    def pointer(self, x, y_from, y_to, label, anchor="middle", size=11.5, color=INK):
        """A vertical arrow pointing at an address x, with the label at its tail."""
        self.line(x, y_from, x, y_to, color=color, arrow=True)
        dy = -4 if y_from < y_to else 14
        self.text(x, y_from + dy, label, size=size, anchor=anchor, mono=False, fill=color)

    def legend(self, x, y, items):
        """A legend row: items are kinds among header, alloc, free, pad, with their meaning."""
        for kind, meaning in items:
            self.cell(x, y, 26, 16, kind)
            self.text(x + 32, y + 12.5, meaning, size=11.5, anchor="start")
            x += 32 + 7.2 * len(meaning) + 24

    # -- output ------------------------------------------------------------------------------
    def svg(self):
        head = (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{self.width}" height="{self.height}" '
            f'viewBox="0 0 {self.width} {self.height}" role="img" aria-labelledby="title desc">\n'
            f'<title id="title">{esc(self.title)}</title>\n<desc id="desc">{esc(self.desc)}</desc>\n'
            "<defs>\n"
            '<pattern id="hatch" width="8" height="8" patternUnits="userSpaceOnUse" '
            'patternTransform="rotate(45)"><rect width="8" height="8" fill="#ffffff"/>'
            '<line x1="0" y1="0" x2="0" y2="8" stroke="#9a9a9a" stroke-width="2"/></pattern>\n'
            '<pattern id="dots" width="6" height="6" patternUnits="userSpaceOnUse">'
            f'<rect width="6" height="6" fill="{PAD_FILL}"/><circle cx="3" cy="3" r="0.9" fill="#9a9a9a"/></pattern>\n'
            '<marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
            f'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="{INK}"/></marker>\n'
            '<marker id="arrow-accent" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
            f'markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="{ACCENT}"/></marker>\n'
            "</defs>\n"
            f'<rect width="{self.width}" height="{self.height}" fill="#ffffff"/>\n'
        )
        return head + "\n".join(self.parts) + "\n</svg>\n"

    def write(self, out_dir):
        with open(os.path.join(out_dir, self.name), "w", encoding="utf-8", newline="\n") as f:
            f.write(self.svg())


# =============================================================================================
# Heap memory in Linux
# =============================================================================================

def process_layout():
    f = Figure("process-layout.svg", 760, 560, "The address space of a Linux process",
               "From high to low addresses: the stack, growing down; memory mappings (shared "
               "libraries, large malloc blocks); free address space; the heap, growing up to the "
               "program break; the program's .bss, .data and .text. Each region is labelled with "
               "what lives there and how long.")
    x, w = 250, 220
    f.text(x + w / 2, 22, "high addresses", size=12, italic=True)
    regions = [
        # (top, height, kind, name, sub, address, right-hand note)
        (32, 62, "alloc", "stack", "grows down", "0x7ffc...",
         ["local variables, arguments, return", "addresses: a frame per active call,",
          "gone when the call returns"]),
        (94, 54, "free", "", "", "", []),
        (148, 92, "alloc", "memory mappings", "mmap", "0x7f...",
         ["shared libraries (libc.so, ld.so),", "malloc blocks of 128 KiB or more,",
          "files mapped with mmap"]),
        (240, 98, "free", "", "", "", ["(unused address space: touching", " it is a segmentation fault)"]),
        (338, 70, "alloc", "heap", "grows up", "",
         ["malloc blocks below 128 KiB: live", "until someone calls free"]),
        (408, 36, "pad", ".bss", "", "",
         ["globals that start at zero"]),
        (444, 36, "pad", ".data", "", "",
         ["globals with an initial value"]),
        (480, 44, "header", ".text  (and read-only data)", "", "0x55...",
         ["machine code, string literals"]),
    ]
    for top, h, kind, name, sub, addr, note in regions:
        if kind == "header":
            f.rect(x, top, w, h, HEADER_FILL)
            f.text(x + w / 2, top + h / 2 + 4.5, name, size=13, fill="#ffffff")
        else:
            f.cell(x, top, w, h, kind, "", "")
            if name:
                f.text(x + w / 2, top + h / 2 + (0 if sub else 4.5), name, size=13.5, weight="bold",
                       halo=kind != "alloc")
            if sub:
                f.text(x + w / 2, top + h / 2 + 16, sub, size=11.5, italic=True, halo=kind != "alloc")
        if addr:
            f.text(x - 10, top + 15, addr, size=11.5, anchor="end", mono=True)
        for i, line in enumerate(note):
            f.text(x + w + 18, top + 17 + 15 * i, line, size=11.5, anchor="start")
    # growth arrows
    f.line(x + w - 24, 66, x + w - 24, 88, arrow=True, width=1.6)
    f.line(x + w - 24, 370, x + w - 24, 346, arrow=True, width=1.6)
    # the program break
    f.line(x - 60, 338, x + w + 8, 338, color=ACCENT, width=2, dash="7 4")
    f.text(x - 64, 342, "program break, sbrk(0)", size=12, anchor="end", fill=ACCENT, weight="bold")
    f.text(x - 64, 358, "brk/sbrk move it", size=11.5, anchor="end", fill=ACCENT)
    f.text(x - 64, 412, "start of the heap", size=11.5, anchor="end")
    f.line(x - 60, 408, x, 408, dash="2 3")
    f.text(x + w / 2, 546, "low addresses", size=12, italic=True)
    # the program's own sections: a bracket on the left
    f.path(f"M {x - 84:g} 420 L {x - 90:g} 420 L {x - 90:g} 524 L {x - 84:g} 524", width=1)
    f.text(x - 98, 458, "the program file", size=12, anchor="end", weight="bold")
    f.text(x - 98, 474, "static storage:", size=11.5, anchor="end")
    f.text(x - 98, 489, "lives as long as", size=11.5, anchor="end")
    f.text(x - 98, 504, "the process", size=11.5, anchor="end")
    return f


def interleaved_fragmentation():
    f = Figure("fragmentation-interleaved.svg", 760, 330,
               "External fragmentation: free the Y blocks and no new X fits",
               "Top: X blocks of 48 bytes and Y blocks of 32 bytes allocated alternately fill the "
               "heap up to the break. Middle: every Y is freed; 128 bytes are free, in four "
               "separate 32-byte holes. Bottom: a new 48-byte X fits in none of the holes, so the "
               "heap must grow past the break although enough memory is free.")
    x0, h = 40, 40
    X, Y = 72, 48  # px for 48 and 32 bytes (1.5 px per byte)

    def heap(y, freed, caption):
        f.text(x0, y - 10, caption, size=12.5, anchor="start", weight="bold")
        cells = []
        for i in range(4):
            cells.append((X, "alloc", f"X{i + 1}", "48 B"))
            cells.append((Y, "free" if freed else "alloc", f"Y{i + 1}" if not freed else "free",
                          "32 B"))
        return f.row(x0, y, h, cells)

    edges = heap(36, False, "1. X and Y blocks allocated alternately: the heap is full up to the break")
    brk = edges[-1]
    f.line(brk, 28, brk, 84, color=ACCENT, width=2, dash="7 4")
    f.text(brk + 6, 94, "break", size=11.5, anchor="start", fill=ACCENT)
    edges = heap(128, True, "2. Every Y freed: 4 × 32 = 128 bytes free, but in four separate holes")
    f.line(brk, 120, brk, 176, color=ACCENT, width=2, dash="7 4")
    f.text(x0, 242 - 40, "3. malloc(40) needs a 48-byte block (X): no hole is big enough", size=12.5,
           anchor="start", weight="bold")
    edges = f.row(x0, 242, h, [(X, "alloc", "X1"), (Y, "free", "32"), (X, "alloc", "X2"), (Y, "free", "32"),
                               (X, "alloc", "X3"), (Y, "free", "32"), (X, "alloc", "X4"), (Y, "free", "32")])
    # the would-be X over the first hole, sticking out
    f.cell(edges[1] - 12, 242 - 30, X, 22, "new", "X: 48 B")
    f.text(edges[1] + X - 6, 228, "✗ does not fit a 32-byte hole", size=11.5, anchor="start", fill=ACCENT)
    f.line(brk, 234, brk, 290, color=ACCENT, width=2, dash="7 4")
    f.cell(brk, 242, X, h, "new", "new X", "48 B")
    f.line(brk + X, 234, brk + X, 290, color=ACCENT, width=2, dash="7 4")
    f.text(brk + X + 6, 300, "the break moves up", size=11.5, anchor="start", fill=ACCENT)
    f.legend(x0, 306, [("alloc", "allocated"), ("free", "free"), ("new", "the new request")])
    return f


# =============================================================================================
# Lab 01: a bump allocator
# =============================================================================================

def lab01_block():
    f = Figure("lab01-block.svg", 760, 250, "Lab 01: a bump allocator's block, and the heap it grows",
               "A block is a 16-byte header holding the requested size, then the payload rounded up "
               "to a multiple of 16. mm_malloc returns the address just after the header, which is "
               "16-byte aligned. Below: blocks placed one after the other; each mm_malloc moves "
               "the break up with mem_sbrk by the block's size.")
    y, h = 40, 44
    e = f.row(60, y, h, [(64, "header", "size 40"), (56, "pad", ""), (280, "alloc", "payload: 40 bytes"),
                         (56, "pad", "")])
    f.brace(e[0], e[2], y + h + 4, "header: 16 bytes")
    f.brace(e[2], e[4], y + h + 4, "align_up(40) = 48 bytes")
    e = [e[0], e[2], e[3], e[4]]
    f.pointer(e[0], 14, y - 2, "block", anchor="middle")
    f.pointer(e[1], 14, y - 2, "mm_malloc(40) returns this: 16-byte aligned", anchor="start")
    # the heap
    y2 = 150
    f.text(60, y2 - 12, "The heap: blocks back to back, from mem_heap_lo() to the break", size=12.5,
           anchor="start", weight="bold")
    e = f.row(60, y2, 40, [(40, "header", "h"), (90, "alloc", "64 B"), (40, "header", "h"), (40, "alloc", "16"),
                           (40, "header", "h"), (150, "alloc", "128 B"), (40, "header", "h"), (60, "alloc", "40")])
    f.cell(e[-1], y2, 150, 40, "ghost", "not yours yet")
    f.line(e[-1], y2 - 8, e[-1], y2 + 48, color=ACCENT, width=2, dash="7 4")
    f.text(e[-1], y2 + 62, "the break: mem_sbrk(n) moves it up by n", size=11.5, fill=ACCENT)
    f.text(e[0], y2 + 62, "mem_heap_lo()", size=11.5)
    f.legend(60, 230, [("header", "header"), ("alloc", "payload"), ("pad", "padding")])
    return f


# =============================================================================================
# Lab 02: an implicit free list
# =============================================================================================

def lab02_header():
    f = Figure("lab02-header.svg", 760, 200, "Lab 02: one header word holds the block size and the allocated bit",
               "The 8-byte header holds the whole block's size, a multiple of 16, so its low four "
               "bits are zero; bit 0 is used as the allocated flag. 48 | 1 = 49 is a 48-byte "
               "allocated block, 48 | 0 = 48 a free one. The payload starts 8 bytes after the header.")
    y, h = 34, 40
    e = f.row(60, y, h, [(420, "header", "block size (a multiple of 16)"), (40, "pad", "0"), (40, "pad", "0"),
                         (40, "pad", "0"), (40, "alloc", "a")], size=12.5)
    f.text(e[0] + 4, y - 8, "bit 63", size=11, anchor="start", mono=True)
    f.text(e[5] - 4, y - 8, "bit 0", size=11, anchor="end", mono=True)
    f.brace(e[1], e[4], y + h + 4, "always 0")
    f.text(e[5] + 10, y + 18, "1: allocated", size=11.5, anchor="start")
    f.text(e[5] + 10, y + 33, "0: free", size=11.5, anchor="start")
    y2 = 122
    e = f.row(60, y2, 40, [(90, "header", "48 | 1"), (270, "alloc", "payload: up to 40 bytes")])
    f.brace(e[0], e[2], y2 + 44, "mm_malloc(40): a 48-byte block = align_up(40 + 8)")
    f.pointer(e[1], y2 - 22, y2 - 2, "payload = block + 8", anchor="middle")
    e = f.row(450, y2, 40, [(90, "header", "48 | 0"), (180, "free", "free")])
    f.text(e[0] + 135, y2 + 62, "the same block, freed", size=11.5)
    return f


def lab02_heap():
    f = Figure("lab02-heap.svg", 760, 250, "Lab 02: the implicit free list is the heap itself",
               "After an 8-byte pad, blocks lie back to back: a 48-byte allocated block, a 32-byte "
               "free block, a 64-byte allocated block. Each header's size leads to the next header "
               "(next_block); the walk from heap_start stops at the break. Every payload is "
               "16-byte aligned because the pad puts the first header 8 bytes into the heap.")
    y, h = 50, 44
    cells = [(34, "pad", "pad"), (52, "header", "48|1"), (150, "alloc", "payload"),
             (52, "header", "32|0"), (90, "free", "free"), (52, "header", "64|1"),
             (190, "alloc", "payload")]
    e = f.row(40, y, h, cells, size=11.5)
    for a, b, label in [(e[1], e[3], "+48"), (e[3], e[5], "+32"), (e[5], e[7], "+64")]:
        f.arc_arrow(a + 8, b + 2, y - 2, 14, color=ACCENT, marker="arrow-accent")
        f.text((a + b) / 2 + 5, y - 20, label, size=11.5, fill=ACCENT, mono=True)
    f.line(e[7], y - 10, e[7], y + h + 10, color=ACCENT, width=2, dash="7 4")
    f.text(e[7], y + h + 26, "the break = heap_end()", size=11.5, anchor="end", fill=ACCENT)
    f.pointer(e[0], y + h + 60, y + h + 2, "mem_heap_lo()", anchor="start")
    f.pointer(e[1], y + h + 40, y + h + 2, "heap_start = mem_heap_lo() + 8", anchor="start")
    f.pointer(e[2], y + h + 20, y + h + 2, "first payload = mem_heap_lo() + 16: aligned", anchor="start")
    f.text(40, 196, "for (Block *b = heap_start; b < heap_end(); b = next_block(b))   // every block, in address order",
           size=11.5, anchor="start", mono=True)
    f.legend(40, 216, [("header", "header"), ("alloc", "allocated payload"), ("free", "free"), ("pad", "pad")])
    return f


def lab02_split():
    f = Figure("lab02-split.svg", 760, 190, "Lab 02: splitting a free block",
               "mm_malloc(100) needs a 112-byte block. A free block of 4016 bytes is split: the "
               "first 112 bytes become the allocated block, the remaining 3904 bytes a free block "
               "with a header of its own.")
    f.text(40, 28, "before: one free block of 4016 bytes", size=12.5, anchor="start", weight="bold")
    f.row(40, 38, 40, [(56, "header", "4016|0"), (624, "free", "free")])
    f.text(40, 112, "after mm_malloc(100): place() splits it", size=12.5, anchor="start", weight="bold")
    e = f.row(40, 122, 40, [(60, "header", "112|1"), (110, "alloc", "100 B"), (60, "header", "3904|0"),
                            (450, "free", "free: the rest")])
    f.brace(e[0], e[2], 166, "block_size_for(100) = 112")
    f.brace(e[2], e[4], 166, "the rest: 3904 bytes, at least MIN_BLOCK_SIZE, so it is split off")
    return f


def lab02_next_fit():
    f = Figure("lab02-next-fit.svg", 760, 200, "Lab 02: first fit and next fit",
               "Seven blocks, allocated and free, numbered 1 to 7. First fit searches from "
               "heap_start every time: 1, 2, 3 and so on. Next fit starts at the rover, block 3, "
               "the block chosen last time, runs to the end of the heap (3, 4, 5, 6, 7), then "
               "wraps around to heap_start and stops at the rover (1, 2).")
    kinds = ["alloc", "free", "alloc", "alloc", "free", "alloc", "free"]
    cells = [(80, k, f"{i + 1}: " + ("A" if k == "alloc" else "f")) for i, k in enumerate(kinds)]
    y = 44
    e = f.row(40, y, 36, cells)
    f.pointer(e[2] + 40, 16, y - 2, "rover: the block chosen last time")
    # first fit
    f.line(e[0], y + 54, e[7] - 2, y + 54, arrow=True, width=1.4)
    f.text(e[7] + 10, y + 58, "first fit: 1, 2, 3, ...", size=11.5, anchor="start")
    # next fit: from the rover to the end, then wrap around to the start and up to the rover
    yy = y + 84
    f.path(f"M {e[2]:g} {yy:g} L {e[7] - 2:g} {yy:g}", color=ACCENT, width=1.6, arrow=True, marker="arrow-accent")
    f.path(f"M {e[7]:g} {yy + 8:g} L {e[7]:g} {yy + 22:g} L {e[0]:g} {yy + 22:g} L {e[0]:g} {yy + 36:g} "
           f"L {e[2] - 2:g} {yy + 36:g}", color=ACCENT, width=1.6, dash="6 3", arrow=True, marker="arrow-accent")
    f.text(e[7] + 10, yy + 4, "next fit: 3, 4, 5, 6, 7,", size=11.5, anchor="start", fill=ACCENT)
    f.text(e[7] + 10, yy + 20, "then wraps around: 1, 2", size=11.5, anchor="start", fill=ACCENT)
    f.text(e[7] + 10, yy + 36, "and stops at the rover", size=11.5, anchor="start", fill=ACCENT)
    f.legend(40, 180, [("alloc", "allocated (A)"), ("free", "free (f)")])
    return f


# =============================================================================================
# Lab 03: boundary tags, coalescing, an explicit free list
# =============================================================================================

def lab03_boundary_tags():
    f = Figure("lab03-boundary-tags.svg", 760, 190, "Lab 03: boundary tags",
               "Every block ends with a footer, a copy of its header. The word just before a "
               "block's header is the footer of the block in front of it: it gives that block's "
               "size, so prev_block(block) = block - 48, and whether it is free.")
    y, h = 52, 44
    e = f.row(40, y, h, [(70, "header", "48 | 1"), (200, "alloc", "payload"), (70, "header", "48 | 1"),
                         (70, "header", "64 | 0"), (200, "free", "free"), (70, "header", "64 | 0")])
    f.brace(e[0], e[3], y - 6, "the block before", below=False)
    f.brace(e[3], e[6], y - 6, "this block", below=False)
    f.text(e[2] + 35, y + h + 16, "footer", size=11.5)
    f.text(e[3] + 35, y + h + 16, "header", size=11.5)
    f.text(e[5] + 35, y + h + 16, "footer", size=11.5)
    f.text(e[0] + 35, y + h + 16, "header", size=11.5)
    # footer_before and prev_block arrows
    f.path(f"M {e[3] + 10:g} {y + h + 26:g} Q {e[3] - 10:g} {y + h + 50:g} {e[2] + 40:g} {y + h + 4:g}",
           color=ACCENT, arrow=True, marker="arrow-accent")
    f.text(e[3] + 14, y + h + 44, "footer_before(block): the word at block - 8 says \"48, allocated\"",
           size=11.5, anchor="start", fill=ACCENT)
    f.path(f"M {e[3] + 10:g} {y + h + 62:g} Q {(e[0] + e[3]) / 2:g} {y + h + 92:g} {e[0] + 4:g} {y + h + 4:g}",
           arrow=True)
    f.text(e[3] + 14, y + h + 70, "prev_block(block) = block - 48", size=11.5, anchor="start")
    return f


def lab03_free_list():
    f = Figure("lab03-free-list.svg", 760, 250, "Lab 03: the explicit free list, in address order",
               "The heap from the prologue to the epilogue. Three of its blocks are free; their "
               "payloads hold next and prev links that chain them from free_list in address order, "
               "lowest first. mm_malloc walks only these links, never the allocated blocks.")
    y, h = 110, 44
    cells = [(20, "pad", ""), (44, "header", "pro"), (84, "alloc", "A"), (84, "free", "f 96", "next|prev"),
             (60, "alloc", "A"), (70, "alloc", "A"), (60, "free", "f 48", "next|prev"), (84, "alloc", "A"),
             (130, "free", "f 512", "next | prev"), (40, "header", "epi")]
    e = f.row(30, y, h, cells, size=11.5)
    free_mid = [(e[3] + e[4]) / 2, (e[6] + e[7]) / 2, (e[8] + e[9]) / 2]
    # free_list head
    f.text(30, 40, "free_list", size=12.5, anchor="start", mono=True, weight="bold")
    f.path(f"M 70 46 Q 70 {y - 30:g} {free_mid[0] - 20:g} {y - 2:g}", arrow=True, width=1.4)
    # next links over the top
    f.arc_arrow(free_mid[0], free_mid[1] - 6, y - 2, 26, color=ACCENT, marker="arrow-accent", width=1.4)
    f.arc_arrow(free_mid[1], free_mid[2] - 6, y - 2, 26, color=ACCENT, marker="arrow-accent", width=1.4)
    f.text((free_mid[0] + free_mid[1]) / 2, y - 32, "next", size=11.5, fill=ACCENT, mono=True)
    f.text((free_mid[1] + free_mid[2]) / 2, y - 32, "next", size=11.5, fill=ACCENT, mono=True)
    f.path(f"M {free_mid[2] + 20:g} {y - 2:g} Q {free_mid[2] + 40:g} {y - 40:g} {free_mid[2] + 80:g} {y - 40:g}",
           color=ACCENT, arrow=True, marker="arrow-accent", width=1.4)
    f.text(free_mid[2] + 86, y - 36, "NULL", size=11.5, anchor="start", mono=True, fill=ACCENT)
    # prev links under
    f.arc_arrow(free_mid[1] - 6, free_mid[0] + 6, y + h + 2, -22, dash="5 3", width=1.2)
    f.arc_arrow(free_mid[2] - 6, free_mid[1] + 6, y + h + 2, -22, dash="5 3", width=1.2)
    f.text((free_mid[0] + free_mid[1]) / 2, y + h + 36, "prev", size=11.5, mono=True)
    f.text((free_mid[1] + free_mid[2]) / 2, y + h + 36, "prev", size=11.5, mono=True)
    f.text(30, y + h + 66, "lowest address", size=11.5, anchor="start", italic=True)
    f.text(e[-1], y + h + 66, "highest address", size=11.5, anchor="end", italic=True)
    f.legend(30, 232, [("header", "prologue/epilogue"), ("alloc", "allocated"), ("free", "free (links in it)")])
    f.height = 256
    return f


def lab03_coalescing():
    f = Figure("lab03-coalescing.svg", 760, 470, "Lab 03: the four coalescing cases",
               "A block has just been freed. Case 1: both neighbours allocated, nothing merges. "
               "Case 2: the next block is free, the block grows over it. Case 3: the previous block "
               "is free, it grows over the block. Case 4: both are free, the previous block grows "
               "over both. Merged neighbours come off the free list first; the result gets a "
               "header at its start and a footer at its end, and goes on the list.")
    W = {"n": 100, "b": 120}
    cases = [
        ("case 1: previous allocated, next allocated: nothing to merge", "alloc", "alloc"),
        ("case 2: previous allocated, next free: the block grows over next", "alloc", "free"),
        ("case 3: previous free, next allocated: previous grows over the block", "free", "alloc"),
        ("case 4: previous free, next free: previous grows over both", "free", "free"),
    ]
    y = 30
    for title, prev, nxt in cases:
        f.text(30, y, title, size=12.5, anchor="start", weight="bold")
        y += 10
        before = [(W["n"], prev, "prev", "allocated" if prev == "alloc" else "free"),
                  (W["b"], "free", "block", "just freed"),
                  (W["n"], nxt, "next", "allocated" if nxt == "alloc" else "free")]
        e = f.row(30, y, 40, before, size=11.5)
        f.text(e[3] + 20, y + 26, "→", size=20)
        x = e[3] + 44
        if prev == "alloc" and nxt == "alloc":
            after = [(W["n"], "alloc", "prev"), (W["b"], "free", "block"), (W["n"], "alloc", "next")]
        elif prev == "alloc":
            after = [(W["n"], "alloc", "prev"), (W["b"] + W["n"], "free", "block + next")]
        elif nxt == "alloc":
            after = [(W["n"] + W["b"], "free", "prev + block"), (W["n"], "alloc", "next")]
        else:
            after = [(2 * W["n"] + W["b"], "free", "prev + block + next")]
        a = f.row(x, y, 40, after, size=11.5)
        # header and footer ticks of the resulting free block
        if prev == "free":
            start, end = a[0], a[1]
        elif nxt == "free" or (prev == "alloc" and nxt == "alloc"):
            start, end = a[1], a[2]
        f.rect(start, y, 7, 40, HEADER_FILL, width=0.8)
        f.rect(end - 7, y, 7, 40, HEADER_FILL, width=0.8)
        f.text(start + 2, y + 54, "header", size=10.5, anchor="start")
        f.text(end - 2, y + 54, "footer", size=10.5, anchor="end")
        y += 78
    f.text(30, y + 8, "Dark ticks: the merged block's new header and footer. Free neighbours come off the free list "
           "first; the result goes on it.", size=11.5, anchor="start")
    f.legend(30, y + 22, [("alloc", "allocated"), ("free", "free")])
    f.height = y + 48
    return f


# =============================================================================================
# Lab 04: realloc in place
# =============================================================================================

def lab04_realloc():
    f = Figure("lab04-realloc.svg", 760, 430, "Lab 04: the four ways mm_realloc can serve a request",
               "1. Shrink in place: keep the front, the tail becomes a free block. 2. Grow into the "
               "next block when it is free and large enough. 3. Grow at the top of the heap by "
               "moving the break up by what is missing. 4. Otherwise move: allocate, copy the old "
               "payload, free the old block.")
    y = 28

    def case(title, before, after, note="", brk=False):
        nonlocal y
        f.text(30, y, title, size=12.5, anchor="start", weight="bold")
        y += 10
        e = f.row(30, y, 34, before, size=11.5)
        f.text(e[-1] + 14, y + 22, "→", size=20)
        a = f.row(e[-1] + 38, y, 34, after, size=11.5)
        if brk:  # the break, before and after
            for x in (e[-1], a[-1]):
                f.line(x, y - 6, x, y + 40, color=ACCENT, width=2, dash="7 4")
            f.text(a[-1] + 6, y + 22, "break", size=11.5, anchor="start", fill=ACCENT)
        if note:
            f.text(30, y + 50, note, size=11.5, anchor="start")
        y += 84 if note else 70
        return e, a

    case("1. shrink in place (need ≤ have)",
         [(200, "alloc", "p: have bytes"), (70, "alloc", "next")],
         [(120, "alloc", "p: need"), (80, "free", "tail"), (70, "alloc", "next")],
         "the tail becomes a free block (if it is at least 32 bytes) and coalesces with a free block after it")
    case("2. grow into the next block (next is free, have + its size ≥ need)",
         [(120, "alloc", "p"), (110, "free", "next (free)"), (40, "alloc", "A")],
         [(180, "alloc", "p: need"), (50, "free", "rest"), (40, "alloc", "A")],
         "remove_free(next) first, one block of both, then split off what is not needed; p does not move")
    case("3. grow at the top (p is the last block, perhaps below a small free block)",
         [(70, "alloc", "A"), (120, "alloc", "p"), (46, "free", "f"), (34, "header", "epi")],
         [(70, "alloc", "A"), (240, "alloc", "p: need"), (34, "header", "epi")],
         "mem_sbrk(need - have - free bytes at the top): the break moves up by what is missing only", brk=True)
    case("4. move (nothing else works)",
         [(100, "alloc", "p"), (60, "alloc", "A"), (110, "free", "big hole")],
         [(100, "free", "old p, freed"), (60, "alloc", "A"), (110, "alloc", "new p")],
         "mm_malloc(size), memcpy of the whole old payload, mm_free(p); if mm_malloc fails, p is untouched")
    f.height = y
    return f


# =============================================================================================
# The reference allocator
# =============================================================================================

def reference_block():
    f = Figure("reference-block.svg", 760, 275, "The reference allocator's blocks",
               "The 64-bit header: a 16-bit tag in bits 48 to 63, the block size in bits 4 to 47, and "
               "four flag bits: bit 0 allocated, bit 1 previous block allocated, bit 2 mapped "
               "chunk, bit 3 unused. An allocated block is its header and payload, with no footer. "
               "A free block holds next and prev links and ends with a footer equal to its size.")
    y, h = 36, 40
    e = f.row(40, y, h, [(160, "header", "tag (16 bits)"), (360, "header", "block size (bits 4..47)"),
                         (45, "pad", "—"), (45, "pad", "mmap"), (45, "pad", "prev"), (45, "alloc", "alloc")],
              size=11.5)
    f.text(e[0] + 2, y - 8, "63", size=11, anchor="start", mono=True)
    f.text(e[1] + 2, y - 8, "47", size=11, anchor="start", mono=True)
    f.text(e[2] - 2, y - 8, "4", size=11, anchor="end", mono=True)
    f.text(e[6] - 2, y - 8, "0", size=11, anchor="end", mono=True)
    f.text(e[0] + 80, y + h + 16, "hash of address and size,", size=11)
    f.text(e[0] + 80, y + h + 30, "checked by free()", size=11)
    f.brace(e[2], e[6], y + h + 4, "flags (bits 0..3)")
    y2 = 150
    f.text(40, y2 - 8, "allocated block", size=12.5, anchor="start", weight="bold")
    e = f.row(40, y2, 36, [(60, "header", "header"), (240, "alloc", "payload (16-aligned)")], size=11.5)
    f.text(40, y2 + 54, "no footer: the next header's", size=11.5, anchor="start")
    f.text(40, y2 + 69, "kPrevAlloc bit says it is in use", size=11.5, anchor="start")
    f.text(400, y2 - 8, "free block (at least 32 bytes)", size=12.5, anchor="start", weight="bold")
    e = f.row(400, y2, 36, [(60, "header", "header"), (55, "free", "next"), (55, "free", "prev"),
                            (70, "free", "..."), (60, "header", "size")], size=11.5)
    f.text(e[5] - 30, y2 + 54, "footer", size=11.5)
    f.text(400, y2 + 69, "links of its size-class list; footer for coalescing", size=11.5, anchor="start")
    f.legend(40, 252, [("header", "header, footer"), ("alloc", "payload"), ("free", "free"), ("pad", "flag bits")])
    return f


FIGURES = [process_layout, interleaved_fragmentation, lab01_block, lab02_header, lab02_heap, lab02_split,
           lab02_next_fit, lab03_boundary_tags, lab03_free_list, lab03_coalescing, lab04_realloc,
           reference_block]


def check(folder):
    """Compares every figure with its committed file; returns the process's exit status."""
    stale = []
    for make in FIGURES:
        figure = make()
        path = os.path.join(folder, figure.name)
        try:
            with open(path, encoding="utf-8") as f:
                committed = f.read()
        except OSError:
            committed = None
        if committed != figure.svg():
            stale.append(figure.name)
    for name in stale:
        print(f"docs/figures/{name} is not what make_figures.py draws: run "
              f"python3 docs/figures/make_figures.py and commit the result")
    return 1 if stale else 0


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    if sys.argv[1:] == ["--check"]:
        return check(here)
    out_dir = sys.argv[1] if len(sys.argv) > 1 else here
    os.makedirs(out_dir, exist_ok=True)
    for make in FIGURES:
        make().write(out_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
