#!/usr/bin/env python
"""Speed and memory of the count-based path on the shared benchmark corpus.

Prints (measured, nothing hard-coded):
  1. `embedcli pipeline english-mix.txt.gz`: wall time and peak RSS of the whole run;
  2. co-occurrence counting alone (window 5, symmetric, min count 5): tokens/s and
     peak RSS on the corpus and on the corpus concatenated N times (default 10),
     to show that memory does not grow with corpus length.

Usage: python benchmarks/bench_pipeline.py [--corpus PATH] [--repeat-corpus N]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpora" / "english-mix.txt.gz"

COUNT_SNIPPET = """
import sys, time
from embedcli.vocab import read_vocab
from embedcli.cooccur import cooccurrence_matrix
from embedcli.specs import CooccurSpec
v = read_vocab(sys.argv[2])
t = time.perf_counter()
M = cooccurrence_matrix(sys.argv[1], v, CooccurSpec(window=5))
el = time.perf_counter() - t
print(el, M.nnz)
"""


def run_measured(cmd: list[str]) -> tuple[float, float, str]:
    """Run a child process alone; return (wall seconds, peak RSS in MB, stdout)."""
    # getrusage(RUSAGE_CHILDREN) is the max over waited children: run each in a fresh helper
    helper = (
        "import resource, subprocess, sys, time, json;"
        "t = time.perf_counter();"
        "p = subprocess.run(sys.argv[1:], capture_output=True, text=True);"
        "el = time.perf_counter() - t;"
        "sys.stderr.write(p.stderr);"
        "print(json.dumps([el, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, p.stdout, p.returncode]))"
    )
    out = subprocess.run([sys.executable, "-c", helper, *cmd], capture_output=True, text=True, check=True)
    import json

    el, rss, stdout, rc = json.loads(out.stdout)
    if rc:
        sys.exit(f"command failed ({rc}): {' '.join(cmd)}\n{out.stderr}")
    return el, rss, stdout


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", default=str(DEFAULT_CORPUS))
    ap.add_argument("--repeat-corpus", type=int, default=10)
    args = ap.parse_args()
    if not os.path.exists(args.corpus):
        sys.exit(f"{args.corpus}: not found")
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, {time.strftime('%Y-%m-%d')}")
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out")
        el, rss, stdout = run_measured(["embedcli", "pipeline", args.corpus, "-o", out])
        print(f"\n## embedcli pipeline {os.path.basename(args.corpus)}")
        print(stdout.split("nearest neighbours:")[0].rstrip())
        print(f"wall {el:.2f} s, peak RSS {rss:.0f} MB")

        tokens = os.path.join(out, "tokens.txt")
        vocab = os.path.join(out, "vocab.tsv")
        n_tokens = sum(len(line.split()) for line in open(tokens, encoding="utf-8"))
        big = os.path.join(tmp, "tokens-x%d.txt" % args.repeat_corpus)
        with open(big, "wb") as f:
            data = open(tokens, "rb").read()
            for _ in range(args.repeat_corpus):
                f.write(data)
        print("\n## co-occurrence counting (window 5, symmetric, min count 5)")
        print("| corpus | tokens | counting time | tokens/s | peak RSS |")
        print("| --- | ---: | ---: | ---: | ---: |")
        for label, path, n in (("1x", tokens, n_tokens), (f"{args.repeat_corpus}x", big, n_tokens * args.repeat_corpus)):
            el, rss, stdout = run_measured([sys.executable, "-c", COUNT_SNIPPET, path, vocab])
            secs = float(stdout.split()[0])
            print(f"| {label} | {n:,} | {secs:.2f} s | {n / secs / 1e6:.2f} M | {rss:.0f} MB |")
        el, rss, _ = run_measured(["embedcli", "cooccur", tokens, "--vocab", vocab, "-o", os.path.join(tmp, "m.npz"), "-q"])
        print(f"\n`embedcli cooccur` command on 1x (load, count, write): wall {el:.2f} s, peak RSS {rss:.0f} MB")


if __name__ == "__main__":
    main()
