"""make bench: utilization per trace next to the best any allocator, and the reference's layout,
could reach on it (`heaplab trace bound`).

usage: utilization.py REPLAY_JSON BOUND_ANY_JSON BOUND_REF_JSON OUT_CSV
REPLAY_JSON is `heaplab trace replay --allocator libc,reference --json`; the bounds are
`heaplab trace bound --json` without and with the reference's layout. Writes OUT_CSV (one row
per trace) and prints the same as a table; the gap column is how far the reference stays below
the bound of its own layout (fragmentation: the bound assumes perfect packing).
"""
import csv
import json
import sys

replay_path, any_path, ref_path, out_csv = sys.argv[1:5]
replay = json.load(open(replay_path))
util = {}
for a in replay["allocators"]:
    for t in a["traces"]:
        util[(a["allocator"], t["trace"])] = t["utilization"] if t["ok"] else None
bound_any = {t["trace"]: t["bound"] for t in json.load(open(any_path))["traces"]}
bound_ref = {t["trace"]: t["bound"] for t in json.load(open(ref_path))["traces"]}

cols = ["trace", "glibc", "reference", "bound_reference_layout", "bound_any_allocator", "gap_to_layout_bound"]
rows = []
for name in bound_any:
    ref, glibc = util.get(("reference", name)), util.get(("libc", name))
    rows.append([name, glibc, ref, bound_ref[name], bound_any[name], None if ref is None else bound_ref[name] - ref])
n = len(rows)
mean = ["mean"] + [sum(r[i] for r in rows if r[i] is not None) / n for i in range(1, len(cols))]

with open(out_csv, "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(cols)
    for r in rows + [mean]:
        w.writerow([r[0]] + ["" if v is None else "%.4f" % v for v in r[1:]])

print("%-18s %7s %9s %13s %12s %7s" % ("trace", "glibc", "reference", "bound (ref.)", "bound (any)", "gap"))
for r in rows + [mean]:
    print("%-18s" % r[0] + "".join("%*s" % (w, "-" if v is None else "%.3f" % v)
                                   for w, v in zip((8, 10, 14, 13, 8), r[1:])))
