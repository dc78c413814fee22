#!/usr/bin/env python
"""Counting in-process vs on a Dask LocalCluster, on a synthetic Zipfian corpus (the scale-out issue).

The corpus is generated here, not stored: N tokens drawn from a Zipf law (exponent 1.0) over
50,000 types named w0..w49999, 1,000 tokens a line.  For each size, `embedcli vocab` then
`embedcli cooccur` (window 5, 1/d weights, min count 5) run in-process and with
`--scheduler local:2`; the benchmark prints wall time, the peak RSS of the client process and of
each worker process (sampled every 0.2 s with psutil over the process tree), checks that both
matrices are the same bytes, and prints the throughput.

Usage: python benchmarks/dask_scale.py [--tokens 50e6,200e6] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np


def generate(path: str, n_tokens: int, types: int = 50_000, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    p = 1.0 / np.arange(1, types + 1)
    p /= p.sum()
    names = np.array([f"w{i}" for i in range(types)], dtype=object)
    per_line, chunk = 1000, 5_000_000
    with open(path, "w", encoding="utf-8") as f:
        for start in range(0, n_tokens, chunk):
            ids = rng.choice(types, size=min(chunk, n_tokens - start), p=p)
            rows = names[ids].reshape(-1, per_line) if len(ids) % per_line == 0 else None
            if rows is None:
                f.write(" ".join(names[ids]) + "\n")
            else:
                f.write("\n".join(" ".join(r) for r in rows) + "\n")


def measured(cmd: list[str]) -> dict:
    """Run ``cmd``; wall seconds, peak RSS (MB) of the top process and of each descendant."""
    import psutil

    t = time.perf_counter()
    proc = subprocess.Popen(cmd)
    top = psutil.Process(proc.pid)
    peaks: dict[int, float] = {}
    cpu: dict[int, float] = {}
    names: dict[int, str] = {}
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            try:
                procs = [top] + top.children(recursive=True)
            except psutil.Error:
                break
            for pr in procs:
                try:
                    rss = pr.memory_info().rss / 2**20
                    peaks[pr.pid] = max(peaks.get(pr.pid, 0.0), rss)
                    c = pr.cpu_times()
                    cpu[pr.pid] = c.user + c.system
                    names.setdefault(pr.pid, " ".join(pr.cmdline()[:4]))
                except psutil.Error:
                    pass
            stop.wait(0.2)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    rc = proc.wait()
    stop.set()
    th.join()
    if rc:
        sys.exit(f"{' '.join(cmd)}: exit {rc}")
    wall = time.perf_counter() - t
    others = {pid: mb for pid, mb in peaks.items() if pid != proc.pid}
    # worker processes: the largest descendants (nannies and the resource tracker are small)
    return {"wall": wall, "client_mb": peaks.get(proc.pid, 0.0), "children_mb": sorted(others.values(), reverse=True),
            "client_cpu": cpu.get(proc.pid, 0.0), "children_cpu": sum(v for k, v in cpu.items() if k != proc.pid)}


def same_matrix(a: str, b: str) -> bool:
    """The two files hold the same matrix, bit for bit (their provenance names different vocab files)."""
    from embedcli.matrix import CountMatrix

    x, y = CountMatrix.load(a).matrix, CountMatrix.load(b).matrix
    return all(np.array_equal(getattr(x, k), getattr(y, k)) for k in ("data", "indices", "indptr"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tokens", default="50e6,200e6")
    ap.add_argument("--workdir", default=None)
    args = ap.parse_args()
    work = args.workdir or tempfile.mkdtemp(prefix="embedcli-dask-")
    os.makedirs(work, exist_ok=True)
    print(f"{time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores; workdir {work}\n")
    print("| tokens | run | stage | wall s | client peak MB | worker peaks MB | client CPU s | worker CPU s | same bytes |")
    print("| ---: | --- | --- | ---: | ---: | --- | ---: | ---: | --- |")
    projections = []
    for n in [int(float(x)) for x in args.tokens.split(",")]:
        corpus = os.path.join(work, f"zipf-{n}.txt")
        if not os.path.exists(corpus):
            t = time.perf_counter()
            generate(corpus, n)
            print(f"(generated {corpus}: {os.path.getsize(corpus) / 2**20:,.0f} MB in {time.perf_counter() - t:.0f} s)",
                  file=sys.stderr, flush=True)
        outs = {}
        for label, extra in (("in-process", []), ("local:2", ["--scheduler", "local:2"])):
            tag = "p" if not extra else "d"
            vocab, mat = os.path.join(work, f"v-{n}-{tag}.tsv"), os.path.join(work, f"m-{n}-{tag}.npz")
            for stage, cmd in (("vocab", ["embedcli", "vocab", corpus, "--min-count", "5", "-o", vocab, "-q", *extra]),
                               ("cooccur", ["embedcli", "cooccur", corpus, "--vocab", vocab, "--window", "5",
                                            "-o", mat, "-q", *extra])):
                r = measured(cmd)
                workers = ", ".join(f"{x:,.0f}" for x in r["children_mb"][:2]) if extra else "-"
                same = ""
                if stage == "cooccur" and extra:
                    same = "yes" if same_matrix(mat, outs["p"]) else "NO"
                if stage == "vocab" and extra:
                    same = "yes" if open(vocab, "rb").read() == open(vocab.replace("-d.tsv", "-p.tsv"), "rb").read() \
                        else "NO"
                wcpu = f"{r['children_cpu']:.1f}" if extra else "-"
                print(f"| {n:,} | {label} | {stage} | {r['wall']:.1f} | {r['client_mb']:,.0f} | {workers} | "
                      f"{r['client_cpu']:.1f} | {wcpu} | {same} |", flush=True)
                if stage == "cooccur" and extra:
                    projections.append((n, r))
                if stage == "cooccur":
                    outs[tag] = mat
                    print(f"  ({label} {stage}: {n / r['wall'] / 1e6:.2f} M tokens/s)", file=sys.stderr, flush=True)

    print("\nProjected cooccur throughput on N machines of 2 cores, M tokens/s "
          "(T(N) = client CPU + worker CPU / (2N); see the docstring):\n")
    print("| tokens | serial fraction (1 machine) | N=1 | N=4 | N=16 | N=64 | bound |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for n, r in projections:
        c, w = r["client_cpu"], r["children_cpu"]
        t = {N: c + w / (2 * N) for N in (1, 4, 16, 64)}
        cells = " | ".join(f"{n / t[N] / 1e6:.2f}" for N in (1, 4, 16, 64))
        print(f"| {n:,} | {c / t[1]:.2f} | {cells} | {n / c / 1e6:.2f} |")


if __name__ == "__main__":
    main()
