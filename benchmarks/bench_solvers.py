#!/usr/bin/env python
"""SVD solver choice: randomized (default) vs ARPACK on the same PPMI matrix.

Builds the pipeline's co-occurrence matrix of the shared benchmark corpus once,
then for each solver times `factorize` (PPMI + SVD) and scores the vectors on
WS353, SimLex-999 and the Google analogies (3CosAdd, restrict 30,000).

Usage: python benchmarks/bench_solvers.py [--corpus PATH] [--n-iter 5 7 ...]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from embedcli.evaluate import bundled_path, evaluate_analogy, evaluate_similarity
from embedcli.matrix import CountMatrix
from embedcli.pipeline import run_pipeline
from embedcli.specs import SVDSpec
from embedcli.svd import factorize

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpora" / "english-mix.txt.gz"))
    ap.add_argument("--n-iter", type=int, nargs="+", default=[5])
    args = ap.parse_args()
    if not os.path.exists(args.corpus):
        sys.exit(f"{args.corpus}: not found")
    with tempfile.TemporaryDirectory() as tmp:
        run_pipeline([args.corpus], tmp)
        cm = CountMatrix.load(os.path.join(tmp, "cooccur.npz"))
    print(f"matrix {cm.matrix.shape[0]:,} x {cm.matrix.shape[1]:,}, {cm.matrix.nnz:,} non-zeros; 100 dims, eig 0.5")
    print("| solver | time (PPMI + SVD) | WS353 | SimLex-999 | Google 3CosAdd |")
    print("| --- | ---: | ---: | ---: | ---: |")
    configs = [("randomized", n) for n in args.n_iter] + [("arpack", 0)]
    for solver, n_iter in configs:
        t = time.perf_counter()
        wv, _ = factorize(cm, spec=SVDSpec(solver=solver, n_iter=n_iter))
        el = time.perf_counter() - t
        ws = evaluate_similarity(wv, bundled_path("wordsim353.tsv")).spearman
        sl = evaluate_similarity(wv, bundled_path("simlex999.txt")).spearman
        an = evaluate_analogy(wv, bundled_path("questions-words.txt")).accuracy
        name = f"randomized, n_iter {n_iter}" if solver == "randomized" else "arpack (svds)"
        print(f"| {name} | {el:.1f} s | {ws:.3f} | {sl:.3f} | {an:.4f} |", flush=True)


if __name__ == "__main__":
    main()
