#!/usr/bin/env python3
"""Checks each workspace member's declared `rust-version` against its dependencies.

A crate's minimum supported Rust version can be no lower than the highest `rust-version`
declared by a package in its normal and build dependency closure (dev-dependencies excluded:
they build only the crate's own tests), with every feature of the crate enabled and on every
target platform (a wasm32-only dependency counts). This script computes that from
`cargo metadata --all-features` (the locked versions of Cargo.lock) and exits 1, naming the
dependency, its rust-version and the path to it, when a member declares less (or, for a
publishable crate, declares nothing). Unpublished members (examples, benches) are checked
too: their rust-version is what clippy's `incompatible_msrv` lint reads.

What it does not see: the crate's own code (an API or language feature newer than the
declared version; clippy's `incompatible_msrv` catches the standard library's APIs). A
declared version above the dependencies' need is therefore reported, not refused.

The packages a crate builds are resolved again from `cargo metadata` for that crate alone
(see `Resolver`), so the result is what `cargo tree -p CRATE -e normal,build --all-features
--target all` lists, not the workspace-wide union of features.

Usage: python3 scripts/msrv-check.py [--verbose]   (stdlib only; run from anywhere)
"""

import json
import os
import subprocess
import sys
from collections import deque


def parse_version(text):
    """'1.85' or '1.85.0' -> (1, 85, 0); None stays None."""
    if not text:
        return None
    parts = [int(p) for p in text.split("-")[0].split(".")]
    while len(parts) < 3:
        parts.append(0)
    return tuple(parts[:3])


def show(version):
    major, minor, patch = version
    return f"{major}.{minor}" if patch == 0 else f"{major}.{minor}.{patch}"


def metadata(root):
    out = subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--all-features"],
        cwd=root,
        check=True,
        stdout=subprocess.PIPE,
    ).stdout
    return json.loads(out)


class Resolver:
    """Cargo's feature resolution for one crate built alone with `--all-features`.

    `cargo metadata` resolves the whole workspace at once: a package's features there are the
    union of what every member asks of it (sonic-db-core gets `rusqlite` because the examples
    enable it), and optional dependencies that only a weak feature (`dep?/feature`) names are
    kept. Following its graph as is would charge a crate with dependencies it never builds, so
    the features are resolved again here, from the crate, over the packages and versions that
    metadata locked: a dependency counts when it is not optional or a feature enabled on its
    dependent activates it. Every target platform counts, and dev-dependencies never do.
    """

    def __init__(self, packages, nodes):
        self.packages = packages
        self.nodes = nodes

    def targets(self, package_id, decl):
        """The locked package a declared dependency resolved to."""
        candidates = [
            e for e in self.nodes[package_id]["deps"]
            if self.packages[e["pkg"]]["name"] == decl["name"]
        ]
        if len(candidates) > 1 and decl.get("rename"):
            renamed = decl["rename"].replace("-", "_")
            candidates = [e for e in candidates if e["name"] == renamed] or candidates
        return [e["pkg"] for e in candidates]

    def resolve(self, root_id):
        """{package id: parent id} of every package the crate builds (itself included)."""
        parent = {root_id: None}
        features = {}
        active_deps = set()  # (package id, dependency key)
        weak = {}  # (package id, dependency key) -> features to enable once it is active
        work = deque()

        def decls(package_id):
            return [d for d in self.packages[package_id]["dependencies"] if d["kind"] != "dev"]

        def activate(package_id, key):
            if (package_id, key) in active_deps:
                return
            active_deps.add((package_id, key))
            for decl in decls(package_id):
                if (decl.get("rename") or decl["name"]) != key:
                    continue
                for target in self.targets(package_id, decl):
                    if target not in parent:
                        parent[target] = package_id
                        work.append(("package", target, None))
                    for feature in decl["features"]:
                        work.append(("feature", target, feature))
                    if decl["uses_default_features"]:
                        work.append(("feature", target, "default"))
            for feature in weak.pop((package_id, key), []):
                for target in dep_targets(package_id, key):
                    work.append(("feature", target, feature))

        def dep_targets(package_id, key):
            out = []
            for decl in decls(package_id):
                if (decl.get("rename") or decl["name"]) == key:
                    out.extend(self.targets(package_id, decl))
            return out

        def enable(package_id, feature):
            done = features.setdefault(package_id, set())
            if feature in done:
                return
            done.add(feature)
            for entry in self.packages[package_id].get("features", {}).get(feature, []):
                if entry.startswith("dep:"):
                    activate(package_id, entry[4:])
                elif "/" in entry:
                    key, sub = entry.split("/", 1)
                    if key.endswith("?"):
                        key = key[:-1]
                        if (package_id, key) in active_deps:
                            for target in dep_targets(package_id, key):
                                work.append(("feature", target, sub))
                        else:
                            weak.setdefault((package_id, key), []).append(sub)
                    else:
                        activate(package_id, key)
                        for target in dep_targets(package_id, key):
                            work.append(("feature", target, sub))
                else:
                    work.append(("feature", package_id, entry))

        work.append(("package", root_id, None))
        for feature in self.packages[root_id].get("features", {}):
            work.append(("feature", root_id, feature))
        while work:
            kind, package_id, feature = work.popleft()
            if kind == "package":
                for decl in decls(package_id):
                    if not decl["optional"]:
                        activate(package_id, decl.get("rename") or decl["name"])
            else:
                enable(package_id, feature)
        return parent


def label(package):
    return f"{package['name']} {package['version']}"


def main():
    verbose = "--verbose" in sys.argv[1:]
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    meta = metadata(root)
    packages = {p["id"]: p for p in meta["packages"]}
    nodes = {n["id"]: n for n in meta["resolve"]["nodes"]}

    resolver = Resolver(packages, nodes)
    failures = []
    rows = []
    for member_id in meta["workspace_members"]:
        member = packages[member_id]
        published = member.get("publish") != []
        declared = parse_version(member.get("rust_version"))
        parent = resolver.resolve(member_id)
        needs = [
            (parse_version(packages[pid].get("rust_version")), pid)
            for pid in parent
            if pid != member_id and packages[pid].get("rust_version")
        ]

        def depth(pid):
            steps = 0
            while parent[pid] is not None:
                pid, steps = parent[pid], steps + 1
            return steps

        # The highest version; among equals, a crates.io package rather than a workspace crate
        # (whose own rust-version only passes the need on), then the one nearest the crate.
        need, need_id = (
            max(
                needs,
                key=lambda n: (
                    n[0],
                    packages[n[1]]["source"] is not None,
                    -depth(n[1]),
                    packages[n[1]]["name"],
                ),
            )
            if needs
            else ((1, 0, 0), None)
        )
        # The path from the member to the dependency that sets the need.
        chain = []
        at = need_id
        while at is not None:
            chain.append(label(packages[at]))
            at = parent[at]
        chain.reverse()

        if declared is None:
            status = "MISSING" if published else "none declared"
        elif declared < need:
            status = "TOO LOW"
        elif declared > need:
            status = "ok (above the dependencies' need)"
        else:
            status = "ok"
        rows.append(
            (
                member["name"],
                "publish" if published else "unpublished",
                show(declared) if declared else "-",
                show(need),
                label(packages[need_id]) if need_id else "-",
                status,
            )
        )
        if (declared is None and published) or (declared is not None and declared < need):
            too_new = sorted(
                (
                    (v, pid)
                    for v, pid in needs
                    if declared is None or v > declared
                ),
                reverse=True,
            )
            names = ", ".join(
                f"{label(packages[pid])} (rust-version {show(v)})" for v, pid in too_new[:5]
            )
            more = f" and {len(too_new) - 5} more" if len(too_new) > 5 else ""
            failures.append(
                f"{member['name']}: declares rust-version "
                f"{show(declared) if declared else '(none)'}, but its dependencies need "
                f"{show(need)}: {names}{more}; path: {' -> '.join(chain)}"
            )
        if verbose:
            print(f"{member['name']}: {len(parent) - 1} packages in its closure; "
                  f"highest: {' -> '.join(chain) or '-'}")

    headers = ("crate", "", "declared", "deps need", "set by", "")
    widths = [max(len(str(r[i])) for r in rows + [headers]) for i in range(len(headers))]
    for row in [headers] + rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip())

    if failures:
        print(file=sys.stderr)
        for failure in failures:
            print(f"error: {failure}", file=sys.stderr)
        print(
            "\nSet the crate's `rust-version` (its Cargo.toml, or [workspace.package] for the "
            "crates that inherit it) to at least the version named.",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
