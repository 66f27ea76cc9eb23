#!/usr/bin/env python3
"""Prints criterion's medians as the BENCHMARKS.md tables, with the ratio to raw rusqlite.

Reads <dir>/<group>/<implementation>[/<size>]/new/estimates.json as left by
`cargo bench -p sonic-benches`. Given several directories (copies of target/criterion from
repeated runs), each cell is the median of the runs' medians, and the spread (max / min - 1)
across runs is printed under each table.

Usage: python3 benches/report.py [criterion-dir ...]   (default: target/criterion)
"""
import json
import pathlib
import statistics
import sys

roots = [pathlib.Path(p) for p in (sys.argv[1:] or ["target/criterion"])]
ORDER = [
    "trivial_query", "medium_query", "insert", "loading_associations", "find", "eager_9x10x10",
    "aggregate_90_groups", "join_5x10",
]
BASE = "rusqlite"


def fmt(ns):
    if ns >= 1e6:
        return f"{ns / 1e6:.3g} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.3g} µs"
    return f"{ns:.3g} ns"


def medians(root, group):
    out = {}  # (implementation, size) -> median ns
    for est in (root / group).glob("**/new/estimates.json"):
        parts = est.relative_to(root / group).parts[:-2]
        impl, size = parts[0], (parts[1] if len(parts) > 1 else "")
        out[(impl, size)] = json.loads(est.read_text())["median"]["point_estimate"]
    return out


def rank(impl):
    order = ["sonic", "rusqlite", "diesel"]
    for i, prefix in enumerate(order):
        if impl == prefix:
            return (i, impl)
    return (0.5 if impl.startswith("sonic") else 1.5, impl)


for group in ORDER:
    runs = [medians(r, group) for r in roots]
    keys = set().union(*runs)
    if not keys:
        continue
    data = {k: statistics.median([r[k] for r in runs if k in r]) for k in keys}
    spread = max(
        (max(r[k] for r in runs if k in r) / min(r[k] for r in runs if k in r) - 1 for k in keys),
        default=0,
    )
    impls = sorted({i for i, _ in data}, key=rank)
    sizes = sorted({s for _, s in data}, key=lambda s: int(s) if s.isdigit() else 0)
    print(f"\n#### {group}\n")
    print("| implementation | " + " | ".join(f"n = {s}" if s else "median" for s in sizes) + " |")
    print("|---|" + "---|" * len(sizes))
    for impl in impls:
        cells = []
        for s in sizes:
            v, b = data.get((impl, s)), data.get((BASE, s))
            if v is None:
                cells.append("")
            elif b is None or impl == BASE:
                cells.append(fmt(v))
            else:
                cells.append(f"{fmt(v)} ({v / b:.2f}×)")
        print(f"| {impl} | " + " | ".join(cells) + " |")
    if len(roots) > 1:
        print(f"\n({len(roots)} runs; largest spread of one cell across runs: {spread:.0%})")
