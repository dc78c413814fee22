"""The krylov SVD solver: randomized block Krylov iteration (Musco & Musco 2015) as block Lanczos
(symmetric matrices) or block Golub-Kahan-Lanczos bidiagonalization (others), with full
re-orthogonalization; its dense steps run in fixed row chunks on threads."""

from __future__ import annotations

import numpy as np

from embedcli.errors import ParameterError
from embedcli.specs import krylov_block


#: Rows per chunk of the krylov solver's tall-skinny dense products (:class:`_RowChunks`): its
#: Gram-Schmidt sums run over the chunks in a fixed order, so that the result does not depend on
#: the number of threads.
KRYLOV_ROWS = 4096


class _RowChunks:
    """The krylov solver's dense steps on tall ``(n, .)`` float32 arrays, split into row chunks of
    :data:`KRYLOV_ROWS` on ``threads`` threads (numpy's and scipy's BLAS and LAPACK calls release the
    GIL; the solver runs BLAS on one thread, so each call takes one core).  Reductions over rows sum
    the chunks in chunk order: the same bits for every thread count.  A basis is given as rows,
    ``Bt (m, n)``, as the solver stores it: each chunk's Gram-Schmidt products then read ``m``
    contiguous pieces of the basis rather than a strided slice of ``(n, m)`` (about 0.8 of the time on
    the pipeline's 24 blocks of 40, ``benchmarks/README.md``)."""

    def __init__(self, n: int, threads: int):
        from concurrent.futures import ThreadPoolExecutor

        self.spans = [(s, min(n, s + KRYLOV_ROWS)) for s in range(0, n, KRYLOV_ROWS)]
        self.pool = ThreadPoolExecutor(threads) if threads > 1 and len(self.spans) > 1 else None

    def _map(self, fn, items=None) -> list:
        items = self.spans if items is None else items
        return list(self.pool.map(fn, items)) if self.pool is not None else [fn(x) for x in items]

    def project(self, Bt: np.ndarray, Z: np.ndarray) -> np.ndarray:
        """``Bt Z``, ``Bt (m, n)``: a basis stored as rows (for ``B^T Z`` with ``B (n, m)``, pass ``B.T``)."""
        parts = self._map(lambda se: Bt[:, se[0]:se[1]] @ Z[se[0]:se[1]])
        H = parts[0]
        for p in parts[1:]:
            H += p
        return H

    def subtract(self, Z: np.ndarray, Bt: np.ndarray, H: np.ndarray) -> None:
        """``Z -= Bt^T H`` in place."""
        def one(se):
            Z[se[0]:se[1]] -= Bt[:, se[0]:se[1]].T @ H
        self._map(one)

    def times(self, B: np.ndarray, H: np.ndarray) -> np.ndarray:
        """``B H``."""
        out = np.empty((B.shape[0], H.shape[1]), np.result_type(B, H))

        def one(se):
            np.matmul(B[se[0]:se[1]], H, out=out[se[0]:se[1]])
        self._map(one)
        return out

    def orthogonalize(self, Z: np.ndarray, Bt: np.ndarray, force: bool = False) -> tuple[np.ndarray, float]:
        """Remove the span of the basis ``Bt (m, n)`` (orthonormal rows) from ``Z (n, b)`` in place by
        classical Gram-Schmidt.  Returns the coefficients ``Bt Z`` of the original ``Z`` and the largest
        column norm before the last pass.  A second pass runs (always with ``force``) when a
        column lost more than :data:`REORTHOGONALIZE` of its norm, the case in which one pass
        leaves it measurably off orthogonal (its error is about the float precision times that
        ratio; "twice is enough": Giraud, Langou & Rozloznik 2005)."""
        before = np.linalg.norm(Z, axis=0)
        H = self.project(Bt, Z)
        self.subtract(Z, Bt, H)
        after = np.linalg.norm(Z, axis=0)
        if force or np.any(before > REORTHOGONALIZE * after):
            H2 = self.project(Bt, Z)
            self.subtract(Z, Bt, H2)
            H += H2
            before = after
        return H, float(before.max(initial=0))

    def qr(self, Z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Thin QR of ``Z`` ``(n, b)`` as TSQR (Demmel et al. 2012): each chunk's QR, then the QR of
        their stacked ``R`` factors; ``Q (n, b)``, ``R (b, b)``."""
        import scipy.linalg as sl

        b = Z.shape[1]
        parts = self._map(lambda se: sl.qr(Z[se[0]:se[1]], mode="economic", check_finite=False))
        Q2, R = sl.qr(np.vstack([r for _, r in parts]), mode="economic", check_finite=False)
        Q = np.empty((Z.shape[0], b), Z.dtype)
        offsets = np.cumsum([0] + [r.shape[0] for _, r in parts])

        def one(i):
            (s, e), (q, _) = self.spans[i], parts[i]
            np.matmul(q, Q2[offsets[i]:offsets[i + 1]], out=Q[s:e])
        self._map(one, range(len(parts)))
        return Q, R

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown()


#: Ratio of a column's norm before and after one Gram-Schmidt pass above which the krylov solver
#: runs a second pass (:meth:`_RowChunks.orthogonalize`): one pass leaves it off orthogonal by
#: about 100 float32 roundings (1e-5), far below the solver's own error.  On the pipeline's PPMI
#: matrix the ratio stays below 5, so one pass is all it takes.
REORTHOGONALIZE = 100.0


def block_krylov_svd(op, k: int, n_iter: int = 24, block: int | None = None, seed: int = 0, progress=None,
                     threads: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Randomized block Krylov SVD (Musco & Musco 2015) as block Lanczos with full re-orthogonalization.

    The Krylov space of a Gaussian block ``G`` (``block`` columns, float32, seeded; default
    :func:`embedcli.specs.krylov_block`) up to degree ``n_iter`` in ``X``, then Rayleigh-Ritz in it.  Every new block is
    orthogonalized against all earlier ones (classical Gram-Schmidt, twice when once is not enough,
    then a TSQR; Golub & Van Loan 2013, sections 10.1 and 10.3), and the small projected matrix
    comes from those coefficients, with no extra product.

    - ``op.symmetric`` (a symmetric matrix ``X``, e.g. the default PPMI): block Lanczos on ``X``
      itself, the space ``[X G, X^2 G, ..., X^n_iter G]``: ``n_iter`` blocks of one product each;
      the eigenvectors of ``T = Q^T X Q`` with the largest ``|lambda|`` are the Ritz vectors.
    - otherwise: block Golub-Kahan-Lanczos bidiagonalization (Golub & Kahan 1965): ``ceil(n_iter /
      2)`` steps of two products (one with ``X``, one with ``X^T``) reach the same degree; the
      left singular vectors of the block-bidiagonal ``P^T X Q`` give the Ritz vectors.

    Then, as :func:`embedcli.svd.randomized_svd` ends, the SVD of ``X`` restricted to the ``k`` Ritz vectors (one
    more product), so that ``X^T U = V diag(s)`` to rounding: about ``n_iter + 2`` products in
    all.  Memory: the basis, ``n_iter * block`` float32 columns of ``n`` rows (a general matrix:
    about half that on each side), and the projected matrix, ``(n_iter * block)^2`` float64: on
    the pipeline's 31,146 words at 100 dims, 960 columns, 120 MB and 7 MB (the randomized solver
    holds two blocks of 120 columns).  Its eigendecomposition (symmetric case) is dense, ``O((n_iter *
    block)^3)``, on one BLAS thread: 5 s at 2,880 columns (300 dims), which is why :class:`~embedcli.specs.SVDSpec`
    runs the randomized solver instead for larger defaults.

    Args:
        op: as for :func:`embedcli.svd.randomized_svd`, with ``out=``; ``op.symmetric`` if it is symmetric.
        threads: threads for the dense steps (:class:`_RowChunks`); the result does not depend on it.

    Returns:
        ``U (n, k)``, ``s (k,)`` descending, ``Vt (k, m)``, float32, unsigned.

    Raises:
        ParameterError: the basis (with a spare block) does not fit in ``min(n, m)``, or it holds
            fewer than ``k`` columns.
    """

    n, m = op.shape
    sym = bool(getattr(op, "symmetric", False)) and n == m
    b = block or krylov_block(k)
    steps = n_iter if sym else -(-n_iter // 2)
    blocks = steps if sym else steps + 1

    def basis(j: int) -> str:
        return f"the krylov basis ({j} block{'s' if j != 1 else ''} of {b} columns, --block-size)"

    if blocks * b > min(n, m):
        raise ParameterError("n_iter", n_iter, f"{basis(blocks)} does not fit in the matrix's smaller side "
                             f"({min(n, m):,}): lower --n-iter or --block-size, or use --solver randomized",
                             also=("block_size",))
    if steps * b < k:
        raise ParameterError("n_iter", n_iter, f"{basis(steps)} is smaller than the {k} vectors asked for (--dim): "
                             "raise --n-iter or --block-size", also=("block_size", "dim"))
    total = steps + 2 if sym else 2 * steps + 2
    done = 0
    rng = np.random.default_rng(seed)
    dtype = np.float32 if op.dtype == np.float32 else np.float64

    def product(fn, B, out):
        nonlocal done
        Y = fn(B, out=out)
        done += 1
        if progress is not None:
            progress.update(done, total, extra=f"product {done}/{total}")
        return Y

    chunks = _RowChunks(n, threads)
    chunks_m = chunks if sym else _RowChunks(m, threads)
    scale = [0.0]  # the largest projected coefficient so far: about ||X||

    def next_block(Z, basis, chunks_z, out, before):
        """Orthonormalize ``Z`` (already orthogonal to ``basis``, stored as rows; ``before``: its largest column norm
        before the last Gram-Schmidt pass) into ``out``; returns ``R = out^T Z``.  A nearly
        rank-deficient ``Z`` (the Krylov space ran into an invariant subspace, e.g. of a matrix of low
        rank) keeps its numerical range, completed by random directions; and when its QR would
        amplify the rounding left along ``basis`` past about 1e-5 (``before`` over its smallest
        singular value above 100), the block is orthogonalized against ``basis`` once more."""
        Qz, R = chunks_z.qr(Z)
        Ur, S, _ = np.linalg.svd(R)
        keep = S > 1e-6 * (scale[0] or S[0])  # (the first block, X G, is not normalized: its own scale)
        if keep.all() and (not len(basis) or before <= REORTHOGONALIZE * S[-1]):
            out[...] = Qz
            return R
        new = np.empty_like(Z)
        new[:, :keep.sum()] = chunks_z.times(Qz, np.ascontiguousarray(Ur[:, keep]))  # Z's numerical range
        new[:, keep.sum():] = rng.standard_normal((len(Z), int((~keep).sum())), dtype=dtype)
        if len(basis):
            chunks_z.orthogonalize(new, basis, force=True)
        out[...] = chunks_z.qr(new)[0]
        return chunks_z.project(out.T, Z)

    def finish(Uk):
        """The SVD of ``X`` restricted to the Ritz vectors ``Uk (n, k)``, as the randomized solver ends:
        ``B^T = X^T Uk`` (one product), its QR ``Q_b R``, the SVD of ``R^T``.  So ``X^T U = V diag(s)``
        to rounding, whatever the vectors' convergence, as LSA's fold-in needs."""
        Bt = product(op.rmatmul, Uk, np.empty((m, k), dtype))
        Qb, R = chunks_m.qr(Bt)
        Ur, s, Vrt = np.linalg.svd(R.T)
        return chunks.times(Uk, Ur), s, chunks_m.times(Qb, np.ascontiguousarray(Vrt.T)).T

    try:
        Z = np.empty((n, b), dtype)
        cur = np.empty((n, b), dtype)  # the block multiplied next, contiguous
        if sym:
            Qt = np.empty((steps * b, n), dtype)  # the basis as rows: its Gram-Schmidt reads contiguous rows
            T = np.zeros((steps * b, steps * b), np.float64)
            product(op.matmul, rng.standard_normal((m, b), dtype=dtype), Z)
            next_block(Z, Qt[:0], chunks, cur, 0.0)
            Qt[:b] = cur.T
            for j in range(steps):
                product(op.matmul, cur, Z)
                H, before = chunks.orthogonalize(Z, Qt[:(j + 1) * b])
                scale[0] = max(scale[0], float(np.abs(H).max()))  # T's entries: about ||X||
                T[:(j + 1) * b, j * b:(j + 1) * b] = H
                if j + 1 < steps:
                    T[(j + 1) * b:(j + 2) * b, j * b:(j + 1) * b] = next_block(Z, Qt[:(j + 1) * b], chunks, cur,
                                                                               before)
                    Qt[(j + 1) * b:(j + 2) * b] = cur.T
            T = (T + T.T) / 2  # the blocks above the diagonal estimate those below: their mean
            lam, V = np.linalg.eigh(T)
            order = np.argsort(-np.abs(lam), kind="stable")[:k]
            return finish(chunks.times(Qt.T, V[:, order].astype(dtype)))
        Pt = np.empty(((steps + 1) * b, n), dtype)  # both bases as rows
        Qt = np.empty((steps * b, m), dtype)
        W = np.empty((m, b), dtype)
        curw = np.empty((m, b), dtype)
        B = np.zeros(((steps + 1) * b, steps * b), np.float64)
        product(op.matmul, rng.standard_normal((m, b), dtype=dtype), Z)
        next_block(Z, Pt[:0], chunks, cur, 0.0)
        Pt[:b] = cur.T
        for j in range(steps):
            product(op.rmatmul, cur, W)
            before = chunks_m.orthogonalize(W, Qt[:j * b])[1] if j else 0.0
            next_block(W, Qt[:j * b], chunks_m, curw, before)
            Qt[j * b:(j + 1) * b] = curw.T
            product(op.matmul, curw, Z)
            H, before = chunks.orthogonalize(Z, Pt[:(j + 1) * b])
            scale[0] = max(scale[0], float(np.abs(H).max()))
            B[:(j + 1) * b, j * b:(j + 1) * b] = H
            B[(j + 1) * b:(j + 2) * b, j * b:(j + 1) * b] = next_block(Z, Pt[:(j + 1) * b], chunks, cur, before)
            Pt[(j + 1) * b:(j + 2) * b] = cur.T
        Ub = np.linalg.svd(B, full_matrices=False)[0]
        return finish(chunks.times(Pt.T, Ub[:, :k].astype(dtype)))
    finally:
        chunks.close()
        chunks_m.close()
