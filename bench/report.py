"""make bench: turn the raw measurements into bench.csv, a printed table and an SVG chart.

usage: report.py RAW_CSV OUT_CSV OUT_SVG [LOAD]
Every figure is shown as a ratio to glibc's. Rows of the pseudo-allocator `bound` (the best
utilization the traces allow, from `heaplab trace bound`) go into the CSV and next to the
utilization target, not into the table's columns or the chart. For ops/s higher is better; for seconds and KiB
lower is better (the `better` column). The chart draws the ratios on a log scale around 1.0,
each bar labelled with its allocator and value, so it reads without colour.
"""
import csv
import html
import math
import sys

raw, out_csv, out_svg = sys.argv[1:4]
load = sys.argv[4] if len(sys.argv) > 4 else "?"
rows = list(csv.DictReader(open(raw)))
allocs = []
for r in rows:
    if r["allocator"] not in allocs and r["allocator"] != "bound":
        allocs.append(r["allocator"])
measures = []
for r in rows:
    if r["allocator"] == "bound":
        continue
    key = (r["group"], r["measure"])
    if key not in measures:
        measures.append(key)
val = {(r["allocator"], r["group"], r["measure"]): float(r["value"]) for r in rows}
meta = {(r["group"], r["measure"]): (r["unit"], r["better"]) for r in rows}


def ratio(a, g, m):
    v, base = val.get((a, g, m)), val.get(("glibc", g, m))
    if v is None or not base:
        return None
    return v / base


with open(out_csv, "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["allocator", "group", "measure", "unit", "better", "value", "runs", "ratio_to_glibc"])
    for r in rows:
        q = ratio(r["allocator"], r["group"], r["measure"])
        w.writerow([r["allocator"], r["group"], r["measure"], r["unit"], r["better"], r["value"],
                    r["runs"], "" if q is None else "%.3f" % q])


def fmt(v, unit):
    if unit == "ops/s":
        return "%.1fM/s" % (v / 1e6)
    if unit == "s":
        return "%.2fs" % v
    if unit == "KiB":
        return "%.0fMB" % (v / 1024)
    return "%.3f" % v


print()
print("Ratios to glibc (ops/s: higher is better; s, RSS: lower is better). load: %s" % load)
head = "%-36s %10s" % ("measure", "glibc") + "".join("%11s" % a for a in allocs if a != "glibc")
print(head)
print("-" * len(head))
for g, m in measures:
    unit, better = meta[(g, m)]
    base = val.get(("glibc", g, m))
    line = "%-36s %10s" % ("%s: %s %s" % (g, m, "↑" if better == "higher" else "↓"),
                           fmt(base, unit) if base is not None else "-")
    for a in allocs:
        if a == "glibc":
            continue
        q = ratio(a, g, m)
        if q is None:
            v = val.get((a, g, m))
            line += "%11s" % ("-" if v is None else fmt(v, unit))
        else:
            line += "%10.2fx" % q
    print(line)

# Issue-3 targets for the reference.
print()
print("Issue 3 targets (reference):")
checks = []
u = val.get(("reference", "trace", "utilization (mean)"))
if u is not None:
    checks.append(("trace suite mean utilization >= 0.90", u, u >= 0.90, "%.3f" % u))
    for m in ("utilization bound: reference layout (mean)", "utilization bound: any allocator (mean)"):
        b = val.get(("bound", "trace", m))
        if b is not None:
            checks.append(("  ceiling: %s" % m.replace("utilization bound: ", "").replace(" (mean)", ""), b, None,
                           "%.3f" % b))
for m in ("throughput", "throughput mm.h (sim. break)"):
    q = ratio("reference", "trace", m)
    if q is not None:
        checks.append(("trace suite %s >= 1.0x glibc" % m, q, q >= 1.0, "%.2fx" % q))
for g, m in measures:
    if g == "threads" and m.endswith("2T"):
        q = ratio("reference", g, m)
        if q is not None:
            checks.append(("%s >= 1.5x glibc" % m, q, q >= 1.5, "%.2fx" % q))
    if g == "programs":
        q = ratio("reference", g, m)
        if q is not None:
            checks.append(("%s <= 1.1x glibc" % m, q, q <= 1.1, "%.2fx" % q))
for name, _, ok, shown in checks:
    status = "(perfect packing)" if ok is None else "met" if ok else "MISSED"
    print("  %-42s %8s  %s" % (name, shown, status))

# SVG chart: one panel row per measure, bars on a log2 scale centred on 1.0 (glibc).
bars = [a for a in allocs if a != "glibc"]
LO, HI = -3.0, 3.0  # log2 range: 0.125x .. 8x
label_w, plot_w, bar_h, gap = 250, 520, 14, 10
x0 = label_w + 10
chart_measures = [(g, m) for g, m in measures if any(ratio(a, g, m) is not None for a in bars)]
height = 70 + len(chart_measures) * (len(bars) * bar_h + gap) + 40
width = x0 + plot_w + 120


def xpos(q):
    lq = min(max(math.log2(q), LO), HI)
    return x0 + (lq - LO) / (HI - LO) * plot_w


fills = ["#444", "#888", "#bbb", "#fff"]
patterns = ["", "", "", ""]
s = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="11">' % (width, height),
     '<rect width="100%" height="100%" fill="white"/>',
     '<text x="10" y="18" font-size="14" font-weight="bold">HeapLab make bench: each allocator as a ratio to glibc (log scale, 1.0 = glibc)</text>',
     '<text x="10" y="34">ops/s: right of 1.0 is better. wall time and peak RSS: left of 1.0 is better. load average: %s</text>' % html.escape(load)]
for k in range(int(LO), int(HI) + 1):
    x = xpos(2.0 ** k)
    s.append('<line x1="%.1f" y1="45" x2="%.1f" y2="%d" stroke="%s" stroke-width="%s"/>' %
             (x, x, height - 30, "#000" if k == 0 else "#ddd", "1.5" if k == 0 else "1"))
    s.append('<text x="%.1f" y="%d" text-anchor="middle">%gx</text>' % (x, height - 15, 2.0 ** k))
y = 55
for g, m in chart_measures:
    unit, better = meta[(g, m)]
    s.append('<text x="10" y="%d" font-weight="bold">%s</text>' % (y + 11, html.escape("%s: %s" % (g, m))))
    s.append('<text x="10" y="%d" fill="#555">%s is better</text>' % (y + 25, "higher" if better == "higher" else "lower"))
    for i, a in enumerate(bars):
        q = ratio(a, g, m)
        yy = y + i * bar_h
        s.append('<text x="%d" y="%d" text-anchor="end" font-size="10">%s</text>' % (x0 - 4, yy + 10, a))
        if q is None:
            continue
        xa, xb = sorted((xpos(1.0), xpos(q)))
        s.append('<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s" stroke="#000" stroke-width="0.6"/>' %
                 (xa, yy + 1, max(xb - xa, 1), bar_h - 3, fills[i % len(fills)]))
        s.append('<text x="%.1f" y="%d" font-size="10">%.2fx</text>' % (max(xb, xpos(1.0)) + 4, yy + 10, q))
    y += len(bars) * bar_h + gap
s.append("</svg>")
open(out_svg, "w").write("\n".join(s) + "\n")
print()
print("wrote %s and %s" % (out_csv, out_svg))
