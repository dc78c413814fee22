#!/usr/bin/env python
"""phrases on one core vs all cores: `embedcli phrases --apply TABLE` and learning `--passes 2`,
each with `--workers 1` and the default (the cores), alternated in one run; whole processes,
medians of 3 and their ratio.  Input: the first 20,000 lines of english-mix.txt.gz, tokenized.

Usage: python benchmarks/phrases.py [--corpus PATH] [--lines N] [--rounds R]
"""

from __future__ import annotations

import argparse
import gzip
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EMB = [sys.executable, "-m", "embedcli"]


def wall(*args) -> float:
    t = time.perf_counter()
    subprocess.run([*EMB, *map(str, args), "-q"], check=True)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", default=str(ROOT.parent / "shared/corpora/english-mix.txt.gz"))
    ap.add_argument("--lines", type=int, default=20000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    if not Path(args.corpus).is_file():
        sys.exit(f"{args.corpus}: not found (give --corpus PATH)")
    work = Path(tempfile.mkdtemp(prefix="embedcli-bench-phrases-"))
    try:
        run(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(args, work: Path) -> None:
    with gzip.open(args.corpus, "rt", encoding="utf-8") as f, open(work / "c.txt", "w", encoding="utf-8") as out:
        for i, line in enumerate(f):
            if i >= args.lines:
                break
            out.write(line)
    subprocess.run([*EMB, "tokenize", work / "c.txt", "-o", work / "t.txt", "-q"], check=True)
    subprocess.run([*EMB, "phrases", work / "t.txt", "--passes", "2", "-o", work / "p.txt",
                    "--phrases-output", work / "table.tsv", "-q"], check=True)
    runs = {"apply --workers 1": [], "apply (default)": [], "learn --workers 1": [], "learn (default)": []}
    for _ in range(args.rounds):
        runs["apply --workers 1"].append(wall("phrases", work / "t.txt", "--apply", work / "table.tsv", "--workers",
                                              1, "-o", work / "a1.txt"))
        runs["apply (default)"].append(wall("phrases", work / "t.txt", "--apply", work / "table.tsv", "-o",
                                            work / "a2.txt"))
        runs["learn --workers 1"].append(wall("phrases", work / "t.txt", "--passes", 2, "--workers", 1, "-o",
                                              work / "l1.txt"))
        runs["learn (default)"].append(wall("phrases", work / "t.txt", "--passes", 2, "-o", work / "l2.txt"))
    assert (work / "a1.txt").read_bytes() == (work / "a2.txt").read_bytes() == (work / "p.txt").read_bytes()
    assert (work / "l1.txt").read_bytes() == (work / "l2.txt").read_bytes() == (work / "p.txt").read_bytes()
    med = {k: statistics.median(v) for k, v in runs.items()}
    print(f"phrases on {args.lines:,} lines of {Path(args.corpus).name}, {time.strftime('%Y-%m-%d')}\n")
    print("| run | seconds (each round) | median |\n| --- | --- | ---: |")
    for k, v in runs.items():
        print(f"| {k} | {', '.join(f'{x:.2f}' for x in v)} | {med[k]:.2f} |")
    print(f"\nratio default / --workers 1: apply {med['apply (default)'] / med['apply --workers 1']:.2f}, "
          f"learn {med['learn (default)'] / med['learn --workers 1']:.2f} (outputs identical)")


if __name__ == "__main__":
    main()
