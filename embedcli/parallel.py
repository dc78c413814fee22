"""Both cores for the linear algebra: sparse x dense products on a thread pool.

scipy's compiled sparse kernels release the GIL, so threads multiplying
disjoint row blocks of a CSR matrix run at the same time.  Blocks are cut so
that each holds about the same number of non-zeros (rows of a frequency-sorted
word matrix differ by orders of magnitude), and each row of the result is
computed by the same loop whatever the split, so the product is bit-identical
to ``X @ B`` for any number of threads.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.sparse as sp

#: Row blocks per thread: a few, so that a block's uneven cost evens out across threads.
BLOCKS_PER_THREAD = 4


def row_blocks(X: sp.csr_matrix, parts: int) -> list[tuple[int, int, sp.csr_matrix]]:
    """``X`` as about ``parts`` row blocks of equal non-zero counts: ``(start, end, block)``.

    Each block shares ``data`` and ``indices`` with ``X`` (no copy of the
    non-zeros; only its ``indptr`` slice is rebased).
    """
    n = X.shape[0]
    cuts = np.searchsorted(X.indptr, np.linspace(0, X.nnz, parts + 1), side="left")
    cuts = np.unique(np.clip(cuts, 0, n))
    cuts[0], cuts[-1] = 0, n
    out = []
    for s, e in zip(cuts[:-1], cuts[1:]):
        if e <= s:
            continue
        lo, hi = X.indptr[s], X.indptr[e]
        block = sp.csr_matrix((X.data[lo:hi], X.indices[lo:hi], X.indptr[s:e + 1] - lo), shape=(e - s, X.shape[1]),
                              copy=False)
        out.append((int(s), int(e), block))
    return out


class SparseOperator:
    """``X`` and ``X^T`` as CSR row blocks, multiplied by thin dense blocks on ``threads`` threads.

    Holds a transposed copy of ``X`` (same size as ``X``) so that both products
    read rows (a gather per non-zero) instead of scattering into the result.
    Use as a context manager (the thread pool is shut down on exit).

    Args:
        X: ``(n, m)`` sparse matrix; converted to CSR in its own dtype.
        threads: threads for the products (1: no pool).
    """

    def __init__(self, X: sp.spmatrix, threads: int = 1):
        self.X = sp.csr_matrix(X)
        self.XT = self.X.T.tocsr()
        self.shape = self.X.shape
        self.dtype = self.X.dtype
        self.threads = max(1, int(threads))
        parts = self.threads * BLOCKS_PER_THREAD if self.threads > 1 else 1
        self._blocks = row_blocks(self.X, parts)
        self._blocks_t = row_blocks(self.XT, parts)
        self._pool = ThreadPoolExecutor(self.threads) if self.threads > 1 else None

    def __enter__(self) -> "SparseOperator":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def matmul(self, B: np.ndarray) -> np.ndarray:
        """``X @ B``: ``(n, l)`` from ``B`` ``(m, l)``, in the common dtype."""
        return self._product(self._blocks, self.shape[0], B)

    def rmatmul(self, B: np.ndarray) -> np.ndarray:
        """``X^T @ B``: ``(m, l)`` from ``B`` ``(n, l)``."""
        return self._product(self._blocks_t, self.shape[1], B)

    def _product(self, blocks, n_rows: int, B: np.ndarray) -> np.ndarray:
        B = np.ascontiguousarray(B, dtype=np.result_type(self.dtype, B.dtype))
        out = np.empty((n_rows, B.shape[1]), dtype=B.dtype)
        if self._pool is None or len(blocks) == 1:
            for s, e, block in blocks:
                out[s:e] = block @ B
            return out

        def one(item) -> None:
            s, e, block = item
            out[s:e] = block @ B

        for _ in self._pool.map(one, blocks):
            pass
        return out
