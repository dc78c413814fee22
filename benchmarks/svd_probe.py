#!/usr/bin/env python
"""How busy the cores are during the SVD's sparse products, and how accurate the solver is.

Runs what ``embedcli svd MATRIX`` runs (``embedcli.svd.factorize`` with the default
weighting and solver, on :func:`embedcli.memory.return_freed_memory`'s heap settings, as the
CLI does) in this process, with the sparse operator's products
(``embedcli.parallel.SparseOperator.matmul`` and ``rmatmul``) and the solver call wrapped, and
prints one JSON object:

  products       number of sparse x dense products
  product_wall   their summed wall seconds
  product_cpu    the process's user + system CPU seconds during them (every thread's)
  solve_wall, solve_cpu   the same for the whole solver call (products, Gram-Schmidt, QR,
                 the small eigenproblem)
  s              the singular values found, descending

``--reference`` also prints the largest relative error of the top ``--dim`` singular values
against ARPACK (``scipy.sparse.linalg.svds``, float64, the exact reference) for the default
solver and for the randomized solver at 5 power iterations (the default when issue 10 was
filed): ``error_default``, ``error_randomized5``.

Usage: python benchmarks/svd_probe.py MATRIX [--reference]
(``benchmarks/ratios.py`` runs it for its svd line.)
"""

from __future__ import annotations

import argparse
import json
import resource
import time


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)  # all of this process's threads
    return r.ru_utime + r.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("matrix")
    ap.add_argument("--reference", action="store_true", help="also the errors against ARPACK (about 15 s more)")
    args = ap.parse_args()

    from embedcli.memory import return_freed_memory

    return_freed_memory()  # as the CLI's entry does
    import numpy as np

    import embedcli.parallel as par
    import embedcli.svd as svd
    from embedcli.matrix import CountMatrix
    from embedcli.specs import SVDSpec, WeightingSpec

    acc = {"products": 0, "product_wall": 0.0, "product_cpu": 0.0, "solve_wall": 0.0, "solve_cpu": 0.0}

    def timed(fn, prefix, count=False):
        def wrapper(*a, **k):
            w, c = time.perf_counter(), _cpu()
            try:
                return fn(*a, **k)
            finally:
                acc[prefix + "_wall"] += time.perf_counter() - w
                acc[prefix + "_cpu"] += _cpu() - c
                if count:
                    acc["products"] += 1
        return wrapper

    par.SparseOperator.matmul = timed(par.SparseOperator.matmul, "product", True)
    par.SparseOperator.rmatmul = timed(par.SparseOperator.rmatmul, "product", True)
    svd._truncated_svd = timed(svd._truncated_svd, "solve")
    cm = CountMatrix.load(args.matrix)
    wv, _ = svd.factorize(cm, release_counts=True)
    s = np.asarray(wv.meta["singular_values"], dtype=np.float64)
    out = dict(acc, s=s.tolist())
    if args.reference:
        from scipy.sparse.linalg import svds

        from embedcli.weighting import reweight

        X = reweight(CountMatrix.load(args.matrix).matrix, svd.resolve_weighting(WeightingSpec(), "cooccur"))
        k = len(s)
        ref = np.sort(svds(X.astype(np.float64), k=k, return_singular_vectors=False))[::-1]

        def error(found):
            return float(np.max(np.abs(np.asarray(found[:k], np.float64) - ref) / ref))

        r5 = svd.truncated_svd(X, SVDSpec(solver="randomized", n_iter=5))[1]
        out.update(error_default=error(s), error_randomized5=error(r5))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
