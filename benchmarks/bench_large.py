#!/usr/bin/env python
"""Large inputs: peak memory of tokenize -> cooccur on synthetic corpora of 5M and 50M tokens.

The corpus is raw text drawn from a Zipf distribution (exponent 1.1) over a fixed
vocabulary of pseudo-words, 20 tokens a line, with capitals and punctuation for the
tokenizer to strip.  The vocabulary is fixed (default 3,000 words), so the set of
distinct word pairs -- the size of the output matrix -- saturates; what is measured
is whether the processes' own memory grows with the corpus.  Each command runs in a
fresh process; peak RSS is the process's maximum resident set size.

Usage: python benchmarks/bench_large.py [--tokens 5000000 50000000] [--vocab 3000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

HELPER = (
    "import resource, subprocess, sys, time, json;"
    "t = time.perf_counter();"
    "p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True);"
    "print(json.dumps([time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,"
    " p.returncode, p.stderr[-500:]]))"
)


def measured(cmd):
    out = subprocess.run([sys.executable, "-c", HELPER, *cmd], capture_output=True, text=True, check=True)
    el, rss, rc, err = json.loads(out.stdout)
    if rc:
        sys.exit(f"failed: {' '.join(cmd)}\n{err}")
    return el, rss


def write_corpus(path: str, n_tokens: int, n_vocab: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    syll = ["ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "ze", "pa"]
    words = np.array([(syll[i % 10] + syll[(i // 10) % 10] + syll[(i // 100) % 10] + str(i // 1000)).capitalize()
                      if i % 7 == 0 else syll[i % 10] + syll[(i // 10) % 10] + syll[(i // 100) % 10] + str(i // 1000)
                      for i in range(n_vocab)])
    ranks = np.arange(1, n_vocab + 1, dtype=np.float64)
    p = ranks**-1.1
    p /= p.sum()
    step = 1_000_000
    with open(path, "w", encoding="utf-8") as f:
        for start in range(0, n_tokens, step):
            ids = rng.choice(n_vocab, size=min(step, n_tokens - start), p=p)
            toks = words[ids].reshape(-1, 20) if len(ids) % 20 == 0 else words[ids].reshape(1, -1)
            f.write("".join(" ".join(row) + ", said one.\n" for row in toks.tolist()))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tokens", type=int, nargs="+", default=[5_000_000, 50_000_000])
    ap.add_argument("--vocab", type=int, default=3000)
    args = ap.parse_args()
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, {time.strftime('%Y-%m-%d')}; "
          f"Zipf(1.1) over {args.vocab:,} pseudo-words; cooccur window 5, min count 5")
    print("| corpus tokens | file size | tokenize wall | tokenize peak RSS | cooccur wall | cooccur peak RSS | matrix non-zeros |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.tokens:
            raw = os.path.join(tmp, "raw.txt")
            tok = os.path.join(tmp, "tokens.txt")
            mat = os.path.join(tmp, "m.npz")
            write_corpus(raw, n, args.vocab)
            size = os.path.getsize(raw)
            t_el, t_rss = measured(["embedcli", "tokenize", raw, "-o", tok, "-q"])
            c_el, c_rss = measured(["embedcli", "cooccur", tok, "-o", mat, "-q"])
            nnz = json.loads(subprocess.run(["embedcli", "info", mat], capture_output=True, text=True).stdout)["nnz"]
            n_tok = n + n // 20 * 2  # each line adds "said one"
            print(f"| {n_tok:,} | {size / 1e6:.0f} MB | {t_el:.1f} s | {t_rss:.0f} MB | {c_el:.1f} s | {c_rss:.0f} MB | {nnz:,} |",
                  flush=True)
            for p in (raw, tok, mat):
                os.unlink(p)


if __name__ == "__main__":
    main()
