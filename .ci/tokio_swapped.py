#!/usr/bin/env python3
"""Tokio's own networking and file-system tests, imports swapped to shardio.

The migration shardio promises is an import swap: `tokio::net` ->
`shardio::net`, `tokio::fs` -> `shardio::fs`, `tokio::io::unix::AsyncFd` ->
`shardio::io::unix::AsyncFd`, `#[tokio::test]` -> `#[shardio::test]`. This
script does exactly that to the integration tests of the Tokio version in
Cargo.lock (read from cargo's registry, never copied into this repository),
builds them in a scratch crate against this checkout, runs them with nextest
with io_uring and with SHARDIO_FORCE_FALLBACK=1, and compares the failures
with .ci/tokio_swapped_expected.txt, where every known difference has its
reason (README, "Migrating from Tokio"). An unexpected failure fails the run;
an expected failure that passed is reported so the list can shrink.

Usage: python3 .ci/tokio_swapped.py [--dir SCRATCH] [--path uring|fallback]...
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# Tokio's test files whose subject is tokio::net, tokio::fs or AsyncFd.
FILES = re.compile(
    r"^(tcp_\w+|udp|uds_\w+|buffered|io_copy_bidirectional|io_async_fd"
    r"|net_(lookup_host|quickack|unix_pipe|bind_resource)"
    r"|fs|fs_(canonicalize_dir|copy|dir|file|file_join_error|link|open_options"
    r"|remove_dir_all|remove_file|rename|try_exists|write))\.rs$"
)

CARGO_TOML = """\
[package]
name = "tokio-swapped"
version = "0.0.0"
edition = "2021"
publish = false

# Tokio's tests gate themselves on Tokio's own features; all of them are on.
[features]
default = ["full", "io-util", "macros", "net", "rt", "fs", "time", "sync"]
full = []
io-util = []
macros = []
net = []
rt = []
fs = []
time = []
sync = []

[dev-dependencies]
shardio = {{ path = "{repo}" }}
tokio = {{ version = "={tokio}", features = ["full", "test-util"] }}
tokio-test = "0.4"
tokio-stream = "0.1"
futures = "0.3"
tempfile = "3"
libc = "0.2"
socket2 = {{ version = "0.6", features = ["all"] }}
nix = {{ version = "0.31", default-features = false, features = ["fs", "socket", "net"] }}

[lints.rust]
unexpected_cfgs = "allow"

# Its own workspace, even when the scratch directory is inside this one's.
[workspace]
"""

NEXTEST_TOML = """\
[profile.default]
slow-timeout = { period = "15s", terminate-after = 2 }
fail-fast = false
"""


def tokio_tests_dir():
    meta = json.loads(
        subprocess.check_output(
            ["cargo", "metadata", "--format-version", "1", "--locked"], cwd=REPO
        )
    )
    for pkg in meta["packages"]:
        if pkg["name"] == "tokio" and pkg["source"]:
            return pkg["version"], Path(pkg["manifest_path"]).parent / "tests"
    sys.exit("tokio is not in Cargo.lock's dependency graph")


def swap_group(match):
    """`use tokio::{io::ReadBuf, net::UdpSocket, time};` -> two `use` lines."""
    indent, items = match.group(1), [i.strip() for i in match.group(2).split(",")]
    moved = [i for i in items if re.match(r"(net|fs)\b", i)]
    kept = [i for i in items if i and i not in moved]
    lines = []
    if kept:
        lines.append(f"{indent}use tokio::{{{', '.join(kept)}}};")
    lines.extend(f"{indent}use shardio::{i};" for i in moved)
    return "\n".join(lines)


def swap(text):
    text = re.sub(r"^(\s*)use tokio::\{([^{}]*)\};", swap_group, text, flags=re.M)
    text = re.sub(r"\btokio::(net|fs)\b", r"shardio::\1", text)
    text = text.replace("tokio::io::unix::", "shardio::io::unix::")
    text = text.replace("#[tokio::test", "#[shardio::test")
    return text


def generate(scratch):
    version, tests = tokio_tests_dir()
    (scratch / "tests").mkdir(parents=True, exist_ok=True)
    (scratch / "src").mkdir(exist_ok=True)
    (scratch / ".config").mkdir(exist_ok=True)
    (scratch / "src" / "lib.rs").write_text("")
    (scratch / "Cargo.toml").write_text(CARGO_TOML.format(repo=REPO, tokio=version))
    (scratch / ".config" / "nextest.toml").write_text(NEXTEST_TOML)
    lock = scratch / "Cargo.lock"
    if not lock.exists():
        shutil.copy(REPO / "Cargo.lock", lock)
    for old in (scratch / "tests").glob("*.rs"):
        old.unlink()
    names = sorted(p.name for p in tests.iterdir() if FILES.match(p.name))
    for name in names:
        (scratch / "tests" / name).write_text(swap((tests / name).read_text()))
    print(f"tokio {version}: {len(names)} test files from {tests}")
    return version


def run(scratch, path, target):
    env = dict(os.environ, CARGO_TARGET_DIR=str(target))
    env.pop("SHARDIO_FORCE_FALLBACK", None)
    if path == "fallback":
        env["SHARDIO_FORCE_FALLBACK"] = "1"
    proc = subprocess.run(
        ["cargo", "nextest", "run", "--no-fail-fast", "--color", "never"],
        cwd=scratch,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    (scratch / f"{path}.log").write_text(proc.stdout)
    passed, failed = set(), set()
    status = re.compile(r"^\s*(PASS|FAIL|TIMEOUT|SIGSEGV|SIGABRT)\s+\[[^\]]*\]\s+(?:\([^)]*\)\s+)?\S+::(\S+)\s+(\S+)")
    for line in proc.stdout.splitlines():
        m = status.match(line)
        if m:
            (passed if m.group(1) == "PASS" else failed).add(f"{m.group(2)}::{m.group(3)}")
    if not passed and not failed:
        print(proc.stdout[-6000:])
        sys.exit(f"{path}: no test ran (build failed?)")
    return passed, failed - passed


def expected():
    table = {}
    for line in (REPO / ".ci" / "tokio_swapped_expected.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            path, test = line.split()
            table.setdefault(path, set()).add(test)
    return table


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", default=str(REPO / "target" / "tokio-swapped"))
    parser.add_argument("--path", action="append", choices=["uring", "fallback"])
    args = parser.parse_args()
    scratch = Path(args.dir)
    generate(scratch)
    known = expected()
    bad = False
    for path in args.path or ["uring", "fallback"]:
        passed, failed = run(scratch, path, scratch / "target")
        want = known.get(path, set()) | known.get("both", set())
        total = len(passed) + len(failed)
        print(f"{path}: {len(passed)} of {total} passed")
        for test in sorted(failed - want):
            print(f"  UNEXPECTED FAILURE {path} {test}")
            bad = True
        for test in sorted(failed & want):
            print(f"  known difference   {path} {test}")
        for test in sorted((want - failed) & passed):
            print(f"  now passes (remove from the list) {path} {test}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
