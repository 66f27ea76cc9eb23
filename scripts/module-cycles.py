#!/usr/bin/env python3
"""Fails when the top-level modules of a library crate depend on one another in a cycle.

Each crate's lib.rs lists its modules so that each depends only on those above it; this keeps
that true. A dependency is a path in code (comments and test modules are skipped) that names
another top-level module: `crate::m`, `super::m` resolved from the file's place, or a
`use crate::{m::…}` group. Paths through the crate root's re-exports (`crate::Db`) are not
followed: they are the crate's public face, not a module.

Usage: scripts/module-cycles.py [crate-dir ...]   (default: every crate of the repository with a lib.rs)
"""
import glob
import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def code_lines(path):
    """The file's code before its first `#[cfg(test)]`, without comments."""
    out = []
    for line in open(path, encoding="utf-8"):
        if line.strip().startswith("#[cfg(test)]"):
            break
        out.append(re.sub(r"//.*", "", line))
    return "".join(out)


def module_path(src, path):
    """The module path of a file: src/a/b.rs and src/a/b/mod.rs are ["a", "b"]."""
    rel = os.path.relpath(path, src)[:-3].split(os.sep)
    if rel[-1] == "mod":
        rel.pop()
    return rel


def targets(src_text, here, modules):
    """Top-level modules a file's code names."""
    found = set()
    for group in re.findall(r"crate::\{([^}]*)\}", src_text):
        found.update(re.findall(r"(?:^|,)\s*(\w+)", group))
    found.update(re.findall(r"\bcrate::(\w+)", src_text))
    for supers, name in re.findall(r"\b((?:super::)+)(\w+)", src_text):
        depth = supers.count("super::")
        parent = here[: len(here) - depth]
        if not parent:
            found.add(name)
    return {m for m in found if m in modules}


def graph(crate):
    src = os.path.join(crate, "src")
    modules = set()
    for entry in os.listdir(src):
        name = entry[:-3] if entry.endswith(".rs") else entry
        if name not in ("lib", "main") and (entry.endswith(".rs") or os.path.isdir(os.path.join(src, entry))):
            modules.add(name)
    edges = {m: set() for m in modules}
    for folder, _, files in os.walk(src):
        for file in files:
            if not file.endswith(".rs") or file == "tests.rs":
                continue
            path = os.path.join(folder, file)
            here = module_path(src, path)
            if here[0] not in modules:
                continue
            edges[here[0]] |= targets(code_lines(path), here, modules) - {here[0]}
    return edges


def cycles(edges):
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def main():
    crates = sys.argv[1:] or sorted(
        os.path.dirname(os.path.dirname(lib))
        for lib in glob.glob(os.path.join(ROOT, "*", "src", "lib.rs"))
        + glob.glob(os.path.join(ROOT, "*", "*", "src", "lib.rs"))
        if "target" not in lib.split(os.sep)
    )
    failed = False
    for crate in crates:
        edges = graph(crate)
        for component in cycles(edges):
            failed = True
            detail = "; ".join(f"{m} -> {', '.join(sorted(edges[m] & set(component)))}" for m in component)
            print(f"{os.path.basename(os.path.normpath(crate))}: module cycle {' <-> '.join(component)} ({detail})")
    if failed:
        sys.exit(1)
    print(f"no module cycle in {len(crates)} crates")


if __name__ == "__main__":
    main()
