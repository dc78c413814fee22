"""GloVe: `embedcli glove` against the reference C tool's `glove`, on the same matrix, in one run.

The issue's setting: the corpus tokenized by embedcli, vocabulary min count 5, window 10
symmetric with 1/d weighting (`embedcli cooccur --window 10`, the default weighting), 100 dims,
15 iterations, 2 threads.  The matrix is written once in the C tool's record format
(int32 word1, int32 word2, float64 value; 1-based ids) and shuffled by the C tool's `shuffle`,
so both trainers read the very same entries.  Then, alternating, whole processes:

  embedcli   embedcli glove cooccur.npz --dim 100 --epochs 15 --x-max X --workers 2 --seed S
  anchor     glove -input-file cooccurrence.shuf.bin -vector-size 100 -iter 15 -x-max X -threads 2 -model 2 -seed S

for seeds S = 1..N (one run of each per seed, which goes first alternating): the wall-time
ratio (medians), peak RSS, and WS353 / SimLex-999 / Google analogy scores of every output (W + C,
the C tool's -model 2), their means, and the mean paired difference with its standard error.  Once, for reference: the C tools end to end on the
same tokens (vocab_count, cooccur, shuffle, glove) and `embedcli glove` on the C tool's own
matrix (`--vocab`).  GloVe is built from source (`--glove-src DIR` or a shallow clone); the
benchmark stops with a message when there is no compiler or no source.

Usage: python benchmarks/glove.py [--corpus PATH] [--seeds N] [--x-max 10] [--glove-src DIR]
                                  [--ours-option=--no-reshuffle] [--no-end-to-end]
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
from ratios import ROOT, build_glove, measured, med, scores  # noqa: E402


def score_values(path: str) -> tuple[float, float, float]:
    """(WS353 rho, SimLex-999 rho, Google 3CosAdd accuracy over the 30k most frequent words), as
    ``ratios.scores`` prints them, unrounded."""
    from embedcli.evaluate import bundled_path, evaluate_analogy, evaluate_similarity
    from embedcli.vectors import Vectors

    v = Vectors.load(path)
    return (round(evaluate_similarity(v, bundled_path("wordsim353.tsv")).spearman, 4),
            round(evaluate_similarity(v, bundled_path("simlex999.txt")).spearman, 4),
            round(evaluate_analogy(v, bundled_path("questions-words.txt"), method="3cosadd", restrict=30000).accuracy,
                  4))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpora" / "english-mix.txt.gz"))
    ap.add_argument("--seeds", type=int, default=6, help="seeds 1..N: one run of each tool per seed, alternating")
    ap.add_argument("--ours-option", action="append", default=[],
                    help="an extra option for embedcli glove, e.g. --ours-option=--no-reshuffle")
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

        def ours_cmd(seed, out):
            return ["embedcli", "glove", j("co.npz"), "--dim", "100", "--epochs", args.epochs, "--x-max", args.x_max,
                    "--workers", args.threads, "--seed", str(seed), *args.ours_option, "-o", out, "-q"]

        def c_cmd(seed, out):
            return [f"{build}/glove", "-input-file", j("co.shuf.bin"), "-vocab-file", j("vocab.txt"), "-save-file",
                    out, "-binary", "0", "-model", "2", "-verbose", "0", "-seed", str(seed), *common]

        subprocess.run(ours_cmd(1, j("warm.npz")), check=True)  # numba compiles (and caches) the kernel, untimed
        a, b, sa, sb = [], [], [], []
        for seed in range(1, args.seeds + 1):  # one run of each per seed, alternating which goes first
            first = seed % 2
            for who in ((0, 1) if first else (1, 0)):
                if who == 0:
                    a.append(measured(ours_cmd(seed, j(f"ours{seed}.npz"))))
                    sa.append(score_values(j(f"ours{seed}.npz")))
                else:
                    b.append(measured(c_cmd(seed, j(f"c{seed}"))))
                    sb.append(score_values(j(f"c{seed}.txt")))
            print(f"  seed {seed}: embedcli {a[-1]['wall']:.1f} s {sa[-1]}, C {b[-1]['wall']:.1f} s {sb[-1]}",
                  file=sys.stderr, flush=True)

        print(f"corpus {os.path.basename(args.corpus)}: {n_words:,} words, {nnz:,} non-zero entries; "
              f"{os.cpu_count()} cores; {time.strftime('%Y-%m-%d')}; 100 dims, {args.epochs} iterations, "
              f"x_max {args.x_max}, {args.threads} threads; seeds 1-{args.seeds}, one run of each tool per seed, "
              f"alternating; embedcli options: {' '.join(args.ours_option) or '(defaults)'}")
        print()
        print("| training on the same matrix | wall (median) | peak RSS | CPU / wall | WS353 | SimLex-999 | Google |")
        print("| --- | ---: | ---: | ---: | --- | --- | --- |")
        for name, runs, sc in (("`embedcli glove`", a, sa), ("GloVe C `glove`", b, sb)):
            cols = [" ".join(f"{x[k]:.4f}" for x in sc) + f" (mean {np.mean([x[k] for x in sc]):.4f})"
                    for k in range(3)]
            print(f"| {name} | {med(runs, 'wall'):.1f} s | {med(runs, 'rss'):.0f} MB | "
                  f"{med(runs, 'cpu') / med(runs, 'wall'):.2f} | {' | '.join(cols)} |")
        print()
        print(f"ratio of median walls embedcli / C: **{med(a, 'wall') / med(b, 'wall'):.2f}**")
        diffs = np.array(sa) - np.array(sb)
        print("mean difference embedcli - C over the seeds (its standard error): " + ", ".join(
            f"{n} {d.mean():+.4f} ({d.std(ddof=1) / np.sqrt(len(d)) if len(d) > 1 else float('nan'):.4f})"
            for n, d in zip(("WS353", "SimLex-999", "Google"), diffs.T)))

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
