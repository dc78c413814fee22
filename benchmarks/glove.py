"""GloVe: `embedcli glove` against the reference C tool's `glove`, on the same matrix, in one run.

The issue's setting: the corpus tokenized by embedcli, vocabulary min count 5, window 10
symmetric with 1/d weighting (`embedcli cooccur --window 10`, the default weighting), 100 dims,
15 iterations, 2 threads.  The matrix is written once in the C tool's record format
(int32 word1, int32 word2, float64 value; 1-based ids) and shuffled by the C tool's `shuffle`,
so both trainers read the very same entries.  Then, alternating, whole processes:

  embedcli   embedcli glove cooccur.npz --dim 100 --epochs 15 --x-max X --workers 2
  anchor     glove -input-file cooccurrence.shuf.bin -vector-size 100 -iter 15 -x-max X -threads 2 -model 2

and the wall-time ratio (medians), peak RSS, and WS353 / SimLex-999 / Google analogy scores of
both outputs (W + C, the C tool's -model 2).  Once, for reference: the C tools end to end on the
same tokens (vocab_count, cooccur, shuffle, glove) and `embedcli glove` on the C tool's own
matrix (`--vocab`).  GloVe is built from source (`--glove-src DIR` or a shallow clone); the
benchmark stops with a message when there is no compiler or no source.

Usage: python benchmarks/glove.py [--corpus PATH] [--rounds N] [--x-max 10] [--glove-src DIR]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ratios import ROOT, alternate, build_glove, measured, med, scores  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpora" / "english-mix.txt.gz"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--x-max", default="10")
    ap.add_argument("--epochs", default="15")
    ap.add_argument("--threads", default="2")
    ap.add_argument("--glove-src", default=None, help="GloVe source checkout (or bare git dir) instead of cloning")
    ap.add_argument("--no-end-to-end", action="store_true", help="skip the C tools' end-to-end reference run")
    args = ap.parse_args()
    if not os.path.exists(args.corpus):
        sys.exit(f"{args.corpus}: not found")
    from embedcli.glove import CREC
    from embedcli.matrix import CountMatrix

    with tempfile.TemporaryDirectory() as tmp:
        build = build_glove(args.glove_src, tmp)
        if not build:
            sys.exit("glove: the reference C tool could not be built; nothing to compare against")
        j = lambda *p: os.path.join(tmp, *p)  # noqa: E731
        subprocess.run(["embedcli", "tokenize", args.corpus, "-o", j("tokens.txt"), "-q"], check=True)
        subprocess.run(["embedcli", "vocab", j("tokens.txt"), "--min-count", "5", "-o", j("vocab.tsv"), "-q"],
                       check=True)
        subprocess.run(["embedcli", "cooccur", j("tokens.txt"), "--vocab", j("vocab.tsv"), "--window", "10",
                        "-o", j("co.npz"), "-q"], check=True)
        cm = CountMatrix.load(j("co.npz"))
        coo = cm.matrix.tocoo()
        rec = np.zeros(coo.nnz, dtype=CREC)
        rec["word1"], rec["word2"], rec["val"] = coo.row + 1, coo.col + 1, coo.data
        rec.tofile(j("co.bin"))
        del rec, coo
        with open(j("vocab.txt"), "w", encoding="utf-8") as fh:
            fh.writelines(f"{w} {c}\n" for w, c in zip(cm.row_words, cm.row_counts))
        n_words, nnz = len(cm.row_words), cm.matrix.nnz
        del cm
        subprocess.run(f"{build}/shuffle -verbose 0 -memory 4 < {j('co.bin')} > {j('co.shuf.bin')}", shell=True,
                       check=True)
        common = ["-vector-size", "100", "-iter", args.epochs, "-x-max", args.x_max, "-threads", args.threads]
        ours_cmd = ["embedcli", "glove", j("co.npz"), "--dim", "100", "--epochs", args.epochs, "--x-max", args.x_max,
                    "--workers", args.threads, "-o", j("ours.npz"), "-q"]
        c_cmd = [f"{build}/glove", "-input-file", j("co.shuf.bin"), "-vocab-file", j("vocab.txt"), "-save-file",
                 j("cvec"), "-binary", "0", "-model", "2", "-verbose", "0", *common]
        subprocess.run(ours_cmd, check=True)  # numba compiles (and caches) the kernel once, outside the timing
        a, b = alternate("glove", lambda: measured(ours_cmd), lambda: measured(c_cmd), args.rounds)

        print(f"corpus {os.path.basename(args.corpus)}: {n_words:,} words, {nnz:,} non-zero entries; "
              f"{os.cpu_count()} cores; {time.strftime('%Y-%m-%d')}; 100 dims, {args.epochs} iterations, "
              f"x_max {args.x_max}, {args.threads} threads; medians of {args.rounds} alternating rounds")
        print()
        print("| training on the same matrix | wall | peak RSS | WS353, SimLex-999, Google |")
        print("| --- | ---: | ---: | --- |")
        print(f"| `embedcli glove` | {med(a, 'wall'):.1f} s | {med(a, 'rss'):.0f} MB | "
              f"{scores(j('ours.npz')).split(': ')[-1]} |")
        print(f"| GloVe C `glove` | {med(b, 'wall'):.1f} s | {med(b, 'rss'):.0f} MB | "
              f"{scores(j('cvec.txt')).split(': ')[-1]} |")
        print()
        print(f"ratio wall embedcli / C: **{med(a, 'wall') / med(b, 'wall'):.2f}**; "
              f"CPU / wall: embedcli {med(a, 'cpu') / med(a, 'wall'):.2f}, C {med(b, 'cpu') / med(b, 'wall'):.2f}")

        if not args.no_end_to_end:
            t = time.perf_counter()
            subprocess.run(f"{build}/vocab_count -min-count 5 -verbose 0 < {j('tokens.txt')} > {j('cvocab.txt')} && "
                           f"{build}/cooccur -verbose 0 -memory 4 -window-size 10 -vocab-file {j('cvocab.txt')} "
                           f"-overflow-file {j('overflow')} < {j('tokens.txt')} > {j('ccooc.bin')} && "
                           f"{build}/shuffle -verbose 0 -memory 4 -temp-file {j('temp_shuffle')} < {j('ccooc.bin')} "
                           f"> {j('ccooc.shuf.bin')}", shell=True, check=True)
            c_all = measured([f"{build}/glove", "-input-file", j("ccooc.shuf.bin"), "-vocab-file", j("cvocab.txt"),
                              "-save-file", j("cown"), "-binary", "0", "-model", "2", "-verbose", "0", *common])
            total = time.perf_counter() - t
            mine = measured(["embedcli", "glove", j("ccooc.shuf.bin"), "--vocab", j("cvocab.txt"), "--dim", "100",
                             "--epochs", args.epochs, "--x-max", args.x_max, "--workers", args.threads, "-o",
                             j("mine.npz"), "-q"])
            print()
            print(f"- C tools end to end on the same tokens: {total:.1f} s (its glove {c_all['wall']:.1f} s): "
                  f"{scores(j('cown.txt')).split(': ')[-1]}")
            print(f"- `embedcli glove` on the C tool's own matrix (--vocab): {mine['wall']:.1f} s: "
                  f"{scores(j('mine.npz')).split(': ')[-1]}")


if __name__ == "__main__":
    main()
