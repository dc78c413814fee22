#!/usr/bin/env python
"""SVD solver choice: accuracy per second on the pipeline's PPMI matrix.

Builds the pipeline's co-occurrence matrix of the shared benchmark corpus once,
reweights it (the default PPMI), computes the top singular values with ARPACK
(float64, the reference), then for each solver prints: wall time of the SVD,
CPU time / wall time (how busy the cores were), the largest relative error of
the top-100 singular values against ARPACK, and the WS353 / SimLex-999 /
Google analogy (3CosAdd, restrict 30,000) scores of the vectors U Sigma^eig (the default eig).

Solvers:
  sklearn (as 0.2)  scikit-learn's randomized_range_finder (n_iter 5, 120 vectors,
                    float32 single-threaded products), then the same small SVD
  subspace n_iter N embedcli's randomized solver (subspace iteration, float32,
                    products on --workers threads; 20 oversamples unless named)
  krylov bB qQ      randomized block Krylov iteration (Musco & Musco 2015, Alg. 2):
                    basis of [X O, (X X^T) X O, ..., (X X^T)^q X O] with block
                    size B, LU-renormalized blocks, same products and threads
  krylov-gs bB qQ   the same, each new block orthogonalized against the earlier ones
                    (one classical Gram-Schmidt pass, then QR): the basis stays well
                    conditioned at the higher q that the default's accuracy needs
  embedcli krylov   embedcli's krylov solver (``embedcli.svd.block_krylov_svd``): block
                    Lanczos on the symmetric PPMI matrix itself, one product a block,
                    Gram-Schmidt and TSQR in row chunks on --workers threads; bB: block
                    size, n_iter: blocks (the default: b40 n_iter 24)
  arpack            scipy svds (the reference itself: error 0 by definition)

embedcli's solvers run BLAS (LU, QR) on one thread, as ``embedcli svd`` does.

Usage: python benchmarks/bench_solvers.py [--corpus PATH] [--repeat N] [--only TEXT] [--seeds N]
  --only TEXT: only the solvers whose name holds TEXT (or one of several, comma-separated: e.g.
               "embedcli krylov,n_iter 15")
  --seeds N:   run each solver with seeds 0..N-1; errors and scores are the means over them
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import scipy.linalg as sl
import scipy.sparse as sp

from embedcli.evaluate import bundled_path, evaluate_analogy, evaluate_similarity
from embedcli.matrix import CountMatrix
from embedcli.parallel import SparseOperator
from embedcli.pipeline import run_pipeline
from embedcli.specs import SVDSpec, WeightingSpec, cores
from embedcli.krylov import block_krylov_svd
from embedcli.svd import _flip_signs, blas_on_one_thread, randomized_svd, svd_vectors
from embedcli.vectors import Vectors
from embedcli.weighting import reweight

ROOT = Path(__file__).resolve().parents[1]
K = 100


def small_svd(op, Q):
    Qb, R = sl.qr(op.rmatmul(Q), mode="economic", check_finite=False)
    Ur, s, Vrt = np.linalg.svd(R.T)
    return Q @ Ur[:, :K], s[:K], (Qb @ Vrt[:K].T).T


def sklearn_default(X, seed: int = 0):
    from sklearn.utils.extmath import randomized_range_finder

    Q = randomized_range_finder(X, size=K + 20, n_iter=5, random_state=seed).astype(np.float32)
    with SparseOperator(X, threads=1) as op:
        return small_svd(op, Q)


def block_krylov(op, b: int, q: int, seed: int = 0):
    lu = lambda Y: sl.lu(Y, permute_l=True, check_finite=False)[0]  # noqa: E731  span-preserving
    Y = lu(op.matmul(np.random.default_rng(seed).standard_normal((op.shape[1], b), dtype=np.float32)))
    blocks = [Y]
    for _ in range(q):
        Y = lu(op.matmul(lu(op.rmatmul(Y))))
        blocks.append(Y)
    Q = sl.qr(np.hstack(blocks), mode="economic", check_finite=False)[0]
    return small_svd(op, Q)


def block_krylov_gs(op, b: int, q: int, seed: int = 0):
    orth = lambda Y: sl.qr(Y, mode="economic", check_finite=False)[0]  # noqa: E731
    Y = orth(op.matmul(np.random.default_rng(seed).standard_normal((op.shape[1], b), dtype=np.float32)))
    blocks = [Y]
    for _ in range(q):
        Z = op.matmul(orth(op.rmatmul(Y)))
        for B in blocks:
            Z -= B @ (B.T @ Z)
        Y = orth(Z)
        blocks.append(Y)
    return small_svd(op, np.hstack(blocks))


def timed(fn):
    t, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - t, time.process_time() - c


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpora" / "english-mix.txt.gz"))
    ap.add_argument("--repeat", type=int, default=3, help="runs of each solver; the median time is printed")
    ap.add_argument("--only", default="", help="only the solvers whose name holds this text (or one of these, "
                    "comma-separated)")
    ap.add_argument("--seeds", type=int, default=1, help="seeds 0..N-1 of each solver (--repeat runs each): "
                    "errors and scores are their means")
    args = ap.parse_args()
    if not os.path.exists(args.corpus):
        sys.exit(f"{args.corpus}: not found")
    with tempfile.TemporaryDirectory() as tmp:
        run_pipeline([args.corpus], tmp, quiet=True)
        cm = CountMatrix.load(os.path.join(tmp, "cooccur.npz"))
    X = sp.csr_matrix(reweight(cm.matrix, WeightingSpec()), dtype=np.float32)
    (U, s_ref, Vt), t_ref, c_ref = timed(lambda: truncated_arpack(X))
    n = cores()
    print(f"PPMI matrix {X.shape[0]:,} x {X.shape[1]:,}, {X.nnz:,} non-zeros; {K} dims; {n} cores; "
          f"{time.strftime('%Y-%m-%d')}; median of {args.repeat} runs"
          + (f" x {args.seeds} seeds (errors and scores: means over seeds 0-{args.seeds - 1})" if args.seeds > 1 else ""))
    print()
    print("| solver | sparse products | wall time | CPU / wall | max rel. error top-100 | WS353 | SimLex-999 | Google |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    configs = [("scikit-learn range finder (as 0.2), n_iter 5, 1 thread", 12, 1, lambda op, seed: sklearn_default(X, seed))]
    for w in sorted({1, n}):
        configs.append((f"subspace n_iter 5, {w} thread(s) (the solver of 0.3; default 15 iterations)" if w == n else
                        f"subspace n_iter 5, {w} thread(s)", 12, w, lambda op, seed: randomized_svd(op, K, 20, 5, seed)))
    for it in (3, 4, 6, 7):
        configs.append((f"subspace n_iter {it}", 2 * it + 2, n, lambda op, seed, it=it: randomized_svd(op, K, 20, it, seed)))
    for it in (10, 15):
        configs.append((f"subspace n_iter {it}" + (" (the randomized default)" if it == 15 else ""), 2 * it + 2, n,
                        lambda op, seed, it=it: randomized_svd(op, K, 20, it, seed)))
    for over, it in ((30, 12), (50, 10), (60, 9), (80, 8)):  # wider blocks, fewer iterations
        configs.append((f"subspace n_iter {it}, oversamples {over}", 2 * it + 2, n,
                        lambda op, seed, over=over, it=it: randomized_svd(op, K, over, it, seed)))
    for b, q in ((100, 2), (100, 3), (64, 3), (50, 4), (40, 5)):
        configs.append((f"block Krylov b{b} q{q}", 2 * q + 2, n, lambda op, seed, b=b, q=q: block_krylov(op, b, q, seed)))
    for b, q in ((50, 8), (50, 9), (60, 8)):
        configs.append((f"block Krylov + Gram-Schmidt b{b} q{q}", 2 * q + 2, n,
                        lambda op, seed, b=b, q=q: block_krylov_gs(op, b, q, seed)))
    for b, q in ((40, 16), (40, 20), (40, 24), (50, 20), (30, 30)):
        configs.append((f"embedcli krylov b{b} n_iter {q}" + (" (the default)" if (b, q) == (40, 24) else ""), q + 2, n,
                        lambda op, seed, b=b, q=q: block_krylov_svd(op, K, q, b, seed, threads=n)))
    configs = [c for c in configs if any(part in c[0] for part in args.only.split(","))]
    for name, n_products, threads, fn in configs:
        runs = []
        # embedcli's solvers run BLAS on one thread, as truncated_svd does (its spinning threads
        # would take a core from the products); scikit-learn's as it comes
        blas = contextlib.nullcontext if name.startswith("scikit-learn") else blas_on_one_thread
        results = []
        for seed in range(args.seeds):
            for i in range(args.repeat):
                with SparseOperator(X, threads=threads) as op, blas():
                    runs.append(timed(lambda: fn(op, seed)))
                if i == 0:
                    results.append(runs[-1][0])
        wall = float(np.median([r[1] for r in runs]))
        cpu = float(np.median([r[2] for r in runs]))
        print(row(name, n_products, wall, cpu, results, s_ref, cm), flush=True)
    print(row("arpack (svds, float64): the reference", "-", t_ref, c_ref, [(U, s_ref, Vt)], s_ref, cm), flush=True)


def truncated_arpack(X):
    from embedcli.svd import truncated_svd

    return truncated_svd(X, SVDSpec(dim=K, solver="arpack"))


def row(name, n_products, wall, cpu, results, s_ref, cm) -> str:
    """A table row: errors and scores averaged over ``results`` (one ``(U, s, Vt)`` a seed)."""
    cols = []
    for U, s, Vt in results:
        s = np.asarray(s, dtype=np.float64)
        err = float(np.max(np.abs(s - s_ref) / s_ref))
        U, Vt = _flip_signs(np.asarray(U, np.float32), np.asarray(Vt, np.float32))
        wv = Vectors(list(cm.row_words), svd_vectors(U, s, Vt, SVDSpec().eig, "w"))
        ws = evaluate_similarity(wv, bundled_path("wordsim353.tsv")).spearman
        sim = evaluate_similarity(wv, bundled_path("simlex999.txt")).spearman
        an = evaluate_analogy(wv, bundled_path("questions-words.txt"), method="3cosadd", restrict=30000).accuracy
        cols.append((err, ws, sim, an))
    err, ws, sim, an = np.mean(cols, axis=0)
    return f"| {name} | {n_products} | {wall:.2f} s | {cpu / wall:.2f} | {err:.4f} | {ws:.3f} | {sim:.3f} | {an:.4f} |"


if __name__ == "__main__":
    main()
