"""Truncated sparse SVD of a (reweighted) count matrix: LSA and PPMI-SVD word vectors."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from embedcli.errors import DataError, ParameterError
from embedcli.specs import SVDSpec, WeightingSpec


def truncated_svd(X: sp.spmatrix, params: SVDSpec | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ``k = params.dim`` largest singular triplets of ``X``.

    ``solver``: ``randomized`` (Halko, Martinsson & Tropp 2011, Alg. 4.4 + 5.1,
    with scikit-learn's ``randomized_range_finder``: ``n_iter`` power
    iterations, ``oversamples`` extra vectors) or ``arpack`` (scipy ``svds``,
    Lanczos; exact to tolerance, slower).

    Args:
        X: ``(n, m)`` sparse matrix (float32 is fastest).

    Returns:
        ``U (n, k) float64``, ``s (k,) float64`` descending, ``Vt (k, m) float64``,
        signs fixed deterministically (scikit-learn's ``svd_flip``, largest
        |entry| of each column of U positive) so that runs are reproducible.

    Raises:
        ParameterError: ``dim`` >= min(n, m).
    """
    params = params or SVDSpec()
    n, m = X.shape
    k = params.dim
    if k >= min(n, m):
        raise ParameterError("dim", k, f"must be smaller than the matrix's smaller side ({min(n, m)}); "
                             "the vocabulary is too small for this many dimensions")
    from sklearn.utils.extmath import randomized_range_finder, svd_flip

    X = sp.csr_matrix(X)
    if params.solver == "randomized":
        # Halko, Martinsson & Tropp (2011), Alg. 4.4 + 5.1: scikit-learn finds the range
        # Q; the small (k+p) x m projection B = Q^T X is then decomposed in the input's
        # precision (float32: a QR of B^T and an SVD of the (k+p)-square factor), which is
        # several times faster than scikit-learn's float64 SVD of B for wide matrices.
        size = min(k + params.oversamples, min(n, m))
        Q = randomized_range_finder(X, size=size, n_iter=params.n_iter, random_state=params.seed)
        Q = Q.astype(X.dtype if X.dtype.kind == "f" else np.float64, copy=False)
        Bt = X.T @ Q  # (m, k+p) = B^T
        Qb, R = np.linalg.qr(Bt)
        Ur, s, Vrt = np.linalg.svd(R.T)
        U = Q @ Ur[:, :k]
        Vt = (Qb @ Vrt[:k].T).T
        s = s[:k]
    else:
        from scipy.sparse.linalg import svds

        v0 = np.random.default_rng(params.seed).uniform(-1, 1, min(n, m))
        U, s, Vt = svds(X.astype(np.float64), k=k, v0=v0, solver="arpack")
        order = np.argsort(-s)
        U, s, Vt = U[:, order], s[order], Vt[order]
    U, Vt = svd_flip(U.astype(np.float64), Vt.astype(np.float64))
    return U, s.astype(np.float64), Vt


def svd_vectors(U: np.ndarray, s: np.ndarray, Vt: np.ndarray, eig: float, which: str) -> np.ndarray:
    """Vectors from an SVD: ``U s^eig`` (``w``), ``V s^eig`` (``c``) or their sum (``w+c``).

    Returns ``(n, k) float32``.

    Raises:
        ParameterError: unknown ``which``, or ``w+c`` on a non-square matrix.
    """
    SVDSpec(vectors=which)  # validates
    scale = s**eig
    if which == "w":
        out = U * scale
    elif which == "c":
        out = Vt.T * scale
    else:  # w+c
        if U.shape[0] != Vt.shape[1]:
            raise ParameterError("vectors", which, "w+c needs a word-context matrix with the same words on both sides")
        out = U * scale + Vt.T * scale
    return np.ascontiguousarray(out, dtype=np.float32)


def factorize(cm, weighting: WeightingSpec | None = None, spec: SVDSpec | None = None):
    """The SVD stage: reweight a :class:`~embedcli.matrix.CountMatrix` and factorize it.

    Returns ``(word_vectors, doc_vectors)``: :class:`~embedcli.vectors.Vectors`
    ``(n, spec.dim) float32`` for the rows (or columns/both per
    ``spec.vectors``), and for a term-document matrix also the documents'
    vectors ``V Sigma^eig`` (LSA; None otherwise).  ``meta["provenance"]``
    records both specs and the matrix's own record; ``meta["singular_values"]``
    the singular values, descending.

    Raises:
        ParameterError: ``vectors`` c/w+c where they do not apply, ``dim`` too large.
        DataError: the reweighted matrix is all zeros (no positive association left).
    """
    from embedcli.provenance import stage_record
    from embedcli.vectors import Vectors
    from embedcli.weighting import reweight

    weighting = weighting or WeightingSpec()
    spec = spec or SVDSpec()
    if spec.vectors == "w+c" and cm.row_words != cm.col_words:
        raise ParameterError("vectors", spec.vectors, "w+c needs a word-context matrix with the same words on both sides")
    if cm.kind == "termdoc" and spec.vectors != "w":
        raise ParameterError("vectors", spec.vectors, "c and w+c apply to co-occurrence matrices; a term-document "
                             "matrix gives document vectors separately")
    X = reweight(cm.matrix, weighting)
    if X.nnz == 0:
        raise DataError(f"{cm.path or 'matrix'}: no non-zero entry is left after {weighting.association}; "
                        "nothing to factorize")
    U, s, Vt = truncated_svd(X, spec)
    record = stage_record("svd", (weighting, spec), {"matrix": cm.record()})
    meta = {"provenance": record, "singular_values": [float(x) for x in s]}
    if spec.vectors == "c":
        words, counts = cm.col_words, cm.col_counts
    else:
        words, counts = cm.row_words, cm.row_counts
    wv = Vectors(list(words), svd_vectors(U, s, Vt, spec.eig, spec.vectors), np.asarray(counts),
                 {**meta, "kind": "words"})
    dv = None
    if cm.kind == "termdoc":
        dv = Vectors(list(cm.col_words), svd_vectors(U, s, Vt, spec.eig, "c"), np.asarray(cm.col_counts),
                     {**meta, "kind": "documents"})
    return wv, dv
