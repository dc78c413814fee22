#!/usr/bin/env python
"""Overhead of `embedcli word2vec` over a plain gensim call with identical parameters.

Tokenizes the shared benchmark corpus once, then runs, one after the other and
each in a fresh process: (a) `embedcli word2vec TOKENS -o v.bin ...` and (b) a
script calling gensim's Word2Vec(corpus_file=TOKENS, ...) and saving the same
word2vec binary file.  Prints both wall times, their ratio and words/s.

Usage: python benchmarks/bench_word2vec.py [--corpus PATH] [--repeats 3]
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
PARAMS = dict(sg=1, vector_size=100, window=5, negative=5, hs=0, sample=1e-3, min_count=5, epochs=5, alpha=0.025,
              min_alpha=0.0001, seed=1, workers=os.cpu_count())
GENSIM = """
import sys
from gensim.models import Word2Vec
m = Word2Vec(corpus_file=sys.argv[1], **{params})
m.wv.save_word2vec_format(sys.argv[2], binary=True)
"""


def wall(cmd: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpora" / "english-mix.txt.gz"))
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tokens = os.path.join(tmp, "tokens.txt")
        subprocess.run(["embedcli", "tokenize", args.corpus, "-o", tokens, "-q"], check=True)
        n_words = sum(len(line.split()) for line in open(tokens, encoding="utf-8"))
        p = PARAMS
        ours = ["embedcli", "word2vec", tokens, "-o", os.path.join(tmp, "a.bin"), "--sg", "--dim", str(p["vector_size"]),
                "--window", str(p["window"]), "--negative", str(p["negative"]), "--sample", str(p["sample"]),
                "--min-count", str(p["min_count"]), "--epochs", str(p["epochs"]), "--workers", str(p["workers"]),
                "--seed", str(p["seed"]), "-q"]
        theirs = [sys.executable, "-c", GENSIM.format(params=repr(PARAMS)), tokens, os.path.join(tmp, "b.bin")]
        t_ours, t_theirs = [], []
        for i in range(args.repeats):  # alternate the order: this machine's speed drifts
            if i % 2:
                t_theirs.append(wall(theirs))
                t_ours.append(wall(ours))
            else:
                t_ours.append(wall(ours))
                t_theirs.append(wall(theirs))
        a, b = min(t_ours), min(t_theirs)
        print(f"machine: {os.cpu_count()} cores; corpus {os.path.basename(args.corpus)}: {n_words:,} tokens; "
              f"skip-gram, negative 5, 100 dims, window 5, 5 epochs, {p['workers']} workers; best of {args.repeats}")
        print("| run | wall time | corpus words x epochs / s |")
        print("| --- | ---: | ---: |")
        print(f"| embedcli word2vec | {a:.2f} s | {n_words * p['epochs'] / a:,.0f} |")
        print(f"| gensim Word2Vec(corpus_file=...) | {b:.2f} s | {n_words * p['epochs'] / b:,.0f} |")
        print(f"ratio embedcli / gensim: {a / b:.3f}")


if __name__ == "__main__":
    main()
