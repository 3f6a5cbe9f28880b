#!/usr/bin/env python3
"""Checks the layering of src/ (DESIGN.md section 2).

Reads every `use` and every `crate::`/`super::`/`self::` path in the code of
src/ (comments and doc comments are skipped, so doc links do not count),
resolves each to the file that defines the item (following `pub use`
re-exports in module files), and then:

- prints the arrows between top-level modules with how many references
  each carries (`--arrows`);
- fails on an arrow that DESIGN.md's layers do not allow;
- fails on any import circle between files;
- fails on a file in src/ over MAX_LINES lines.

Usage: python3 .ci/layers.py [--arrows] [--root DIR]
"""

import argparse
import os
import re
import sys
from collections import defaultdict

MAX_LINES = 500

# Which top-level modules each may import. Anything else is an arrow that
# points up or sideways. `cfg` holds macros and is reached by `#[macro_use]`.
ALLOWED = {
    "sync": set(),
    "buf": {"sync"},
    "sched": {"sync"},
    "stall": {"sync"},
    "driver": {"buf", "sync"},
    "ops": {"driver", "buf", "sync"},
    "net": {"ops", "driver", "buf", "sched", "sync"},
    "fs": {"ops", "driver", "buf", "sched", "sync"},
    "runtime": {"driver", "sched", "stall", "sync"},
    "metrics": {"driver", "sched", "stall", "sync"},
    # Glue for axum, hyper and tonic (optional features): on top of the
    # public socket types, like a user's code.
    "compat": {"net", "sched", "sync"},
    # AsyncFd: readiness of a user's fd from the ring (a multishot poll op).
    "io": {"ops", "driver", "sync"},
    "lib": None,  # the crate root declares and re-exports everything
}


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return "\n".join(re.sub(r"//.*", "", line) for line in text.split("\n"))


def strip_tests(text):
    """Drops `#[cfg(test)] mod tests { ... }` blocks (tests may reach across)."""
    out, i = [], 0
    for m in re.finditer(r"#\[cfg\(test\)\]\s*mod\s+\w+\s*\{", text):
        if m.start() < i:
            continue
        out.append(text[i : m.start()])
        depth, j = 1, m.end()
        while j < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[j], 0)
            j += 1
        i = j
    out.append(text[i:])
    return "".join(out)


def module_files(root):
    """Maps module path tuples (() = crate root) to file paths."""
    mods = {}
    src = os.path.join(root, "src")
    for dirpath, _, files in os.walk(src):
        for f in files:
            if not f.endswith(".rs"):
                continue
            path = os.path.join(dirpath, f)
            rel = os.path.relpath(path, src)[:-3].split(os.sep)
            if rel == ["lib"]:
                key = ()
            elif rel[-1] == "mod":
                key = tuple(rel[:-1])
            else:
                key = tuple(rel)
            if "tests" in rel or f == "tests.rs":
                continue  # unit-test files may reach anywhere
            mods[key] = path
    return mods


def expand_use(body):
    """`a::{b, c::{d, e}}` -> [a::b, a::c::d, a::c::e]."""
    body = re.sub(r"\s+", "", body)

    def split_top(s):
        parts, depth, cur = [], 0, ""
        for ch in s:
            if ch == "," and depth == 0:
                parts.append(cur)
                cur = ""
                continue
            depth += {"{": 1, "}": -1}.get(ch, 0)
            cur += ch
        if cur:
            parts.append(cur)
        return parts

    def go(prefix, s):
        m = re.match(r"^(.*?)\{(.*)\}$", s)
        if not m:
            return [prefix + s]
        out = []
        for part in split_top(m.group(2)):
            out += go(prefix + m.group(1), part)
        return out

    return [p.split(" as ")[0] for p in go("", body)]


def references(text):
    uses, reexports = [], []
    for m in re.finditer(r"\b(pub(?:\([^)]*\))?\s+)?use\s+([^;]+);", text):
        paths = expand_use(m.group(2))
        (reexports if m.group(1) else uses).extend(paths)
    no_use = re.sub(r"\buse\s+[^;]+;", "", text)
    inline = re.findall(r"\b((?:crate|super|self)(?:::\w+)+)", no_use)
    return uses + inline, reexports


def absolute(path, here):
    segs = path.split("::")
    if segs[0] == "crate":
        return segs[1:]
    base = list(here)
    while segs and segs[0] in ("super", "self"):
        if segs[0] == "super":
            base = base[:-1]
        segs = segs[1:]
    if path.split("::")[0] in ("super", "self"):
        return base + segs
    return None  # an external crate or a local name


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--arrows", action="store_true", help="print module arrows")
    ap.add_argument("--root", default=os.path.join(os.path.dirname(__file__), ".."))
    args = ap.parse_args()
    mods = module_files(args.root)
    texts = {k: strip_tests(strip_comments(open(p).read())) for k, p in mods.items()}
    reexport = {}  # (module, name) -> absolute path it re-exports
    refs = {}
    for key, text in texts.items():
        uses, pubs = references(text)
        refs[key] = uses + pubs
        for p in pubs:
            target = absolute(p, key) if p.split("::")[0] in ("crate", "super", "self") else key_rel(p, key)
            if target:
                reexport[(key, target[-1])] = target

    def resolve(segs, depth=0):
        for n in range(len(segs), -1, -1):
            mod = tuple(segs[:n])
            if mod in mods:
                if n < len(segs) and (mod, segs[n]) in reexport and depth < 8:
                    return resolve(reexport[(mod, segs[n])], depth + 1)
                return mod
        return None

    edges = defaultdict(int)
    for key, paths in refs.items():
        for p in paths:
            segs = absolute(p, key) if p.split("::")[0] in ("crate", "super", "self") else key_rel(p, key)
            if segs is None:
                continue
            target = resolve(segs)
            if target is None or target == key:
                continue
            # A module file declaring or re-exporting its own children.
            if target[: len(key)] == key:
                continue
            edges[(key, target)] += 1

    def top(key):
        return key[0] if key else "lib"

    arrows = defaultdict(int)
    for (a, b), n in edges.items():
        if top(a) != top(b):
            arrows[(top(a), top(b))] += n
    failures = []
    for (a, b), n in sorted(arrows.items()):
        allowed = ALLOWED.get(a, set())
        ok = allowed is None or b in allowed
        if args.arrows:
            print(f"{a:>8} -> {b:<8} {n:4} {'' if ok else 'NOT ALLOWED'}")
        if not ok:
            failures.append(f"arrow {a} -> {b} is not in the layers of DESIGN.md section 2")
    # Circles between files (Tarjan's strongly connected components).
    graph = defaultdict(set)
    for a, b in edges:
        graph[a].add(b)
    index, low, stack, on, sccs, counter = {}, {}, [], set(), [], [0]

    def strong(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                sccs.append(comp)

    sys.setrecursionlimit(10000)
    for v in list(mods):
        if v not in index:
            strong(v)
    for comp in sccs:
        names = sorted(os.path.relpath(mods[k], args.root) for k in comp)
        failures.append("import circle between: " + ", ".join(names))
    for key, path in sorted(mods.items()):
        n = sum(1 for _ in open(path))
        if n > MAX_LINES:
            failures.append(f"{os.path.relpath(path, args.root)} has {n} lines (over {MAX_LINES})")
    for f in failures:
        print("layers: " + f, file=sys.stderr)
    if not failures:
        print(f"layers: {len(mods)} files, {len(edges)} file imports, no circle, "
              f"every module arrow allowed, no file over {MAX_LINES} lines")
    return 1 if failures else 0


def key_rel(path, here):
    """A `use` path relative to the current module (2018 edition: only for
    names of child modules, e.g. `use ring::Ring` next to `mod ring;`)."""
    first = path.split("::")[0]
    if first in ("std", "core", "alloc", "tokio", "io_uring", "libc", "futures",
                 "mio", "socket2", "bytes", "tracing", "pin_project_lite", "saphyr",
                 "backtrace", "shardio_macros", "axum", "hyper", "hyper_util",
                 "tonic", "tower_service"):
        return None
    return list(here) + path.split("::")


if __name__ == "__main__":
    sys.exit(main())
