#!/usr/bin/env python
"""Query latency and throughput.

Prints: `embedcli --help` start-up time (the console script itself, not a version
manager's shim in front of it) beside the anchor `python -c pass` measured in the
same run, alternating, and their ratio; a cold `embedcli neighbors` process on
the english-mix vectors (built with `embedcli pipeline` unless --vectors is
given) and on a synthetic 1,000,000 x 300 float32 native file; the throughput
of 10,000 neighbour queries piped to one process.  Each time is the best of
--repeats fresh processes (the page cache is warm after the first).

The package's bytecode is compiled first (as `pip install` does), so that start-up
times do not include compiling embedcli's modules.

Usage: python benchmarks/bench_queries.py [--vectors V.npz] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def best(cmd: list[str], repeats: int, stdin: bytes | None = None) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        subprocess.run(cmd, input=stdin, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - t)
    return min(times)


def help_vs_anchor(repeats: int) -> tuple[float, float]:
    """Medians of `embedcli --help` and `python -c pass`, alternated, ``max(repeats, 7)`` each."""
    script = os.path.join(os.path.dirname(sys.executable), "embedcli")
    if not os.path.exists(script):
        script = "embedcli"
    a, b = [], []
    for _ in range(max(repeats, 7)):
        a.append(best([script, "--help"], 1))
        b.append(best([sys.executable, "-c", "pass"], 1))
    return float(np.median(a)), float(np.median(b))


def compile_package() -> None:
    """Write embedcli's bytecode first, as a pip install does: with PYTHONDONTWRITEBYTECODE set (as on
    this project's machines) an editable install would otherwise recompile every module at each start."""
    import compileall

    import embedcli

    compileall.compile_dir(os.path.dirname(embedcli.__file__), quiet=1)


def main() -> None:
    compile_package()
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vectors", default=None)
    ap.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpora" / "english-mix.txt.gz"))
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    from embedcli.vectors import Vectors

    with tempfile.TemporaryDirectory() as tmp:
        vec = args.vectors
        if vec is None:
            subprocess.run(["embedcli", "pipeline", args.corpus, "-o", tmp, "-q"], check=True, stdout=subprocess.DEVNULL)
            vec = os.path.join(tmp, "vectors.npz")
        v = Vectors.load(vec)
        rng = np.random.default_rng(0)
        big = os.path.join(tmp, "big.npz")
        n, d = 1_000_000, 300
        Vectors([f"w{i}" for i in range(n)], rng.standard_normal((n, d), dtype=np.float32)).save(big)
        queries = "\n".join(v.words[i] for i in rng.integers(0, min(len(v), 30000), 10_000)).encode() + b"\n"
        h, anchor = help_vs_anchor(args.repeats)
        rows = [
            ("`embedcli --help` (median)", h),
            ("anchor: `python -c pass` (median, same run)", anchor),
            (f"cold `embedcli neighbors` on {len(v):,} x {v.dim}", best(["embedcli", "neighbors", vec, "the", "-k", "10"], args.repeats)),
            (f"cold `embedcli neighbors` on {n:,} x {d} (native, memory-mapped)",
             best(["embedcli", "neighbors", big, "w123", "-k", "10"], args.repeats)),
        ]
        batch = best(["embedcli", "neighbors", vec, "-", "-k", "10"], args.repeats, queries)
        print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, {time.strftime('%Y-%m-%d')}; best of {args.repeats}")
        print("| measurement | result |")
        print("| --- | ---: |")
        for name, t in rows:
            print(f"| {name} | {t:.3f} s |")
        print(f"| ratio `embedcli --help` / `python -c pass` | {h / anchor:.2f} |")
        print(f"| 10,000 neighbour queries (-k 10) piped to one process, {len(v):,} x {v.dim} | {batch:.2f} s, "
              f"{10000 / batch:,.0f} queries/s (process start included) |")


if __name__ == "__main__":
    main()
