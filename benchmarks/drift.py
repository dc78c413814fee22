"""Drift with a known answer (the spaces issue's protocol): where do words given a second sense land?

`english-mix.txt.gz` is split into odd and even lines. In the even half (tokenized by embedcli), 20
donor and 20 receiver words (alphabetic, count 200-2,000 there, disjoint; fixed seed) are drawn
and every occurrence of each donor is replaced by its receiver: each receiver becomes a two-sense
pseudo-word in that half only. The default pipeline runs on each half; `embedcli drift` ranks the
words with count >= 50 in both halves, and the benchmark reports, per measure (raw, and as a
z-score among words of similar frequency: `--frequency-bins`), how many of the 20 receivers land
in the top 50 and their median rank; median over seeds 0, 1, 2.  Extra arguments after `--` go to
every `embedcli pipeline` run (e.g. `-- --dim 50`).

Usage: python benchmarks/drift.py [--corpus PATH] [--seeds 0,1,2] [-k 25] [-- PIPELINE OPTIONS]
"""

from __future__ import annotations

import argparse
import collections
import gzip
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def ranks(a: str, b: str, receivers: list[str], measure: str, k: int, bins: int) -> tuple[int, float, int]:
    out = subprocess.run(["embedcli", "drift", a, b, "--measure", measure, "-k", str(k), "--frequency-bins",
                          str(bins), "-q"], check=True, capture_output=True, text=True).stdout.splitlines()[1:]
    rank = {line.split("\t")[1]: int(line.split("\t")[0]) for line in out}
    got = [rank[r] for r in receivers if r in rank]
    return sum(1 for x in got if x <= 50), statistics.median(got) if got else float("nan"), len(rank)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpora" / "english-mix.txt.gz"))
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("-k", type=int, default=25)
    ap.add_argument("pipeline_args", nargs=argparse.REMAINDER, help="-- then options for embedcli pipeline")
    args = ap.parse_args()
    extra = [x for x in args.pipeline_args if x != "--"]
    if not os.path.exists(args.corpus):
        sys.exit(f"{args.corpus}: not found")
    with tempfile.TemporaryDirectory() as tmp:
        odd, even = os.path.join(tmp, "odd.txt"), os.path.join(tmp, "even.txt")
        with gzip.open(args.corpus, "rt", encoding="utf-8") as f, open(odd, "w", encoding="utf-8") as fo, \
                open(even, "w", encoding="utf-8") as fe:
            for i, line in enumerate(f):
                (fo if i % 2 == 0 else fe).write(line)
        subprocess.run(["embedcli", "pipeline", odd, "-o", os.path.join(tmp, "odd"), "-q", *extra], check=True)
        a = os.path.join(tmp, "odd", "vectors.npz")
        etok = os.path.join(tmp, "even.tok")
        subprocess.run(["embedcli", "tokenize", even, "-o", etok, "-q"], check=True)
        lines = Path(etok).read_text(encoding="utf-8").splitlines()
        counts = collections.Counter(t for line in lines for t in line.split())
        pool = sorted(w for w, c in counts.items() if 200 <= c <= 2000 and w.isalpha())
        table: dict[str, list] = collections.defaultdict(list)
        for seed in [int(s) for s in args.seeds.split(",")]:
            pick = np.random.default_rng(seed).choice(len(pool), 40, replace=False)
            donors, receivers = [pool[i] for i in pick[:20]], [pool[i] for i in pick[20:]]
            swap = dict(zip(donors, receivers))
            mod = os.path.join(tmp, f"even-{seed}.txt")
            with open(mod, "w", encoding="utf-8") as fh:
                fh.writelines(" ".join(swap.get(t, t) for t in line.split()) + "\n" for line in lines)
            d = os.path.join(tmp, f"even-{seed}")
            subprocess.run(["embedcli", "pipeline", mod, "-o", d, "-q", *extra], check=True)
            b = os.path.join(d, "vectors.npz")
            for measure in ("cosine", "local"):
                for bins in (0, 20):
                    name = f"{measure}, " + (f"z-score in {bins} frequency bins" if bins else "raw")
                    top, median, n = ranks(a, b, receivers, measure, args.k, bins)
                    table[name].append((top, median))
                    print(f"seed {seed}: {name}: {top} of 20 in the top 50, median rank {median:.0f} of {n:,}",
                          flush=True)
        print()
        print("| measure | receivers in the top 50 (median over seeds) | median rank (median over seeds) |")
        print("| --- | ---: | ---: |")
        for measure, rows in table.items():
            print(f"| {measure} | {statistics.median(r[0] for r in rows)} | {statistics.median(r[1] for r in rows):.0f} |")


if __name__ == "__main__":
    main()
