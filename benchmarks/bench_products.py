#!/usr/bin/env python
"""The SVD's sparse x dense product: embedcli's tiles against library kernels, in one run.

Builds the pipeline's PPMI matrix of the shared benchmark corpus (as ``bench_solvers.py``), then
times ``X @ B`` for a Gaussian ``B`` of ``120`` float32 columns (the default solver's block: 100
dims + 20 oversamples), the kernels alternating each round, medians:

  scipy              ``X @ B`` (one thread; scipy's ``csr_matvecs``)
  embedcli tiles     ``SparseOperator.matmul(B, out=...)`` on all cores (row blocks x column
                     tiles on a thread pool, summed in place), OpenBLAS on one thread as in
                     ``svd``; one row for each tile width of ``--widths``
  MKL                ``sparse_dot_mkl.dot_product_mkl(X, B)`` (Intel MKL's sparse BLAS, its own
                     threads), when ``sparse_dot_mkl`` and ``mkl`` are installed; skipped otherwise
  numba              a row-parallel CSR kernel compiled by numba (``prange`` over row blocks,
                     ``fastmath``): what a home-made kernel gains, when numba is installed

Each kernel's result is checked against scipy's (largest difference relative to the largest
entry).  MKL finds its library through ``MKL_RT`` or ``LD_LIBRARY_PATH`` (pip puts
``libmkl_rt.so.*`` in the environment's ``lib``); this script sets ``MKL_RT`` when it finds one.

Usage: python benchmarks/bench_products.py [--corpus PATH] [--rounds 9] [--widths 512,1024,...]
"""

from __future__ import annotations

import argparse
import glob
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COLUMNS = 120


def ppmi_matrix(corpus: str):
    import numpy as np
    import scipy.sparse as sp

    from embedcli.matrix import CountMatrix
    from embedcli.pipeline import run_pipeline
    from embedcli.specs import SVDSpec, WeightingSpec
    from embedcli.weighting import reweight

    with tempfile.TemporaryDirectory() as tmp:
        run_pipeline([corpus], tmp, quiet=True, svd=SVDSpec(dim=2, solver="randomized", n_iter=0))
        cm = CountMatrix.load(os.path.join(tmp, "cooccur.npz"))
    return sp.csr_matrix(reweight(cm.matrix, WeightingSpec()), dtype=np.float32)


def numba_kernel():
    import numba
    import numpy as np

    @numba.njit(parallel=True, fastmath=True, nogil=True)
    def spmm(indptr, indices, data, B, out, bounds):
        n_cols = B.shape[1]
        for b in numba.prange(bounds.shape[0] - 1):
            for i in range(bounds[b], bounds[b + 1]):
                acc = np.zeros(n_cols, np.float32)
                for p in range(indptr[i], indptr[i + 1]):
                    a, j = data[p], indices[p]
                    for c in range(n_cols):
                        acc[c] += a * B[j, c]
                out[i, :] = acc
        return out

    return spmm


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpora" / "english-mix.txt.gz"))
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--widths", type=lambda t: [int(x) for x in t.split(",")], default=[512, 1024, 2048, 4096, 40000],
                    help="column-tile widths of embedcli's tiles to time (comma-separated; 40000: whole rows here)")
    args = ap.parse_args()
    if not os.path.exists(args.corpus):
        sys.exit(f"{args.corpus}: not found")
    if "MKL_RT" not in os.environ:
        found = sorted(glob.glob(os.path.join(sys.prefix, "lib", "libmkl_rt.so*")))
        if found:
            os.environ["MKL_RT"] = found[0]

    import numpy as np
    from threadpoolctl import threadpool_limits

    from embedcli.parallel import COLUMNS_PER_BLOCK, SparseOperator
    from embedcli.specs import cores

    X = ppmi_matrix(args.corpus)
    B = np.random.default_rng(0).standard_normal((X.shape[1], COLUMNS), dtype=np.float32)
    ref = X @ B
    out = np.empty_like(ref)
    kernels = {"scipy X @ B (1 thread)": lambda: X @ B}
    ops = []
    for width in args.widths:
        op = SparseOperator(X, threads=cores(), width=width)
        ops.append(op)
        mark = " (the default)" if width == COLUMNS_PER_BLOCK else ""
        kernels[f"embedcli tiles of {width:,} columns{mark}, {cores()} threads"] = \
            lambda op=op: op.matmul(B, out=out)
    try:
        from sparse_dot_mkl import dot_product_mkl

        kernels["MKL (sparse_dot_mkl)"] = lambda: dot_product_mkl(X, B)
    except Exception as e:  # ImportError, or MKL's library not found
        print(f"MKL: skipped ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''})")
    try:
        spmm = numba_kernel()
        cuts = np.unique(np.searchsorted(X.indptr, np.linspace(0, X.nnz, 8 * cores() + 1))).astype(np.int64)
        cuts[0], cuts[-1] = 0, X.shape[0]
        nout = np.empty_like(ref)
        kernels["numba row-parallel kernel"] = lambda: spmm(X.indptr, X.indices, X.data, B, nout, cuts)
    except ImportError:
        print("numba: skipped (not installed)")
    times: dict[str, list[float]] = {k: [] for k in kernels}
    errors = {}
    with threadpool_limits({"openblas": 1}):  # as svd; MKL keeps its threads
        for name, fn in kernels.items():  # warm-up (and numba's compilation), and the check
            got = fn()
            errors[name] = float(np.abs(got - ref).max() / np.abs(ref).max())
        for r in range(args.rounds):
            names = list(kernels) if r % 2 == 0 else list(reversed(kernels))
            for name in names:
                t = time.perf_counter()
                kernels[name]()
                times[name].append(time.perf_counter() - t)
    for op in ops:
        op.close()
    anchor = statistics.median(times["scipy X @ B (1 thread)"])
    print(f"PPMI matrix {X.shape[0]:,} x {X.shape[1]:,}, {X.nnz:,} non-zeros, B {COLUMNS} float32 columns; "
          f"{cores()} cores; {time.strftime('%Y-%m-%d')}; medians of {args.rounds} alternating rounds")
    print()
    print("| kernel | median | vs scipy | max rel. difference |")
    print("| --- | ---: | ---: | ---: |")
    for name, ts in times.items():
        m = statistics.median(ts)
        print(f"| {name} | {m * 1000:.1f} ms | {m / anchor:.2f} | {errors[name]:.1e} |")


if __name__ == "__main__":
    main()
