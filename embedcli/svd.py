"""Truncated sparse SVD of a (reweighted) count matrix: LSA and PPMI-SVD word vectors."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import scipy.sparse as sp

from embedcli.errors import UsageError

SOLVERS = ("randomized", "arpack")
VECTOR_KINDS = ("w", "c", "w+c")


@dataclass
class SVDParams:
    """Parameters of :func:`factorize` (recorded in the output).

    dim: number of singular triplets ``k``.  eig: exponent ``p`` of
    ``U Sigma^p`` (Levy, Goldberg & Dagan 2015 call it eigenvalue weighting;
    0.5 is symmetric, 1 is classic LSA).  vectors: ``w`` (rows, ``U Sigma^p``),
    ``c`` (columns, ``V Sigma^p``) or ``w+c`` (their sum, square matrices
    only).  solver: ``randomized`` (Halko et al. 2011 via scikit-learn,
    ``n_iter`` power iterations, ``oversamples`` extra vectors) or ``arpack``
    (scipy ``svds``, Lanczos; exact to tolerance, slower).
    """

    dim: int = 100
    eig: float = 0.5
    vectors: str = "w"
    solver: str = "randomized"
    n_iter: int = 5
    oversamples: int = 20
    seed: int = 1

    def as_dict(self) -> dict:
        return asdict(self)


def truncated_svd(X: sp.spmatrix, params: SVDParams) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ``k = params.dim`` largest singular triplets of ``X``.

    Args:
        X: ``(n, m)`` sparse matrix (float32 is fastest).

    Returns:
        ``U (n, k) float64``, ``s (k,) float64`` descending, ``Vt (k, m) float64``,
        signs fixed deterministically (scikit-learn's ``svd_flip``, largest
        |entry| of each column of U positive) so that runs are reproducible.

    Raises:
        UsageError: ``dim`` < 1 or >= min(n, m), unknown solver, ``n_iter`` < 0.
    """
    n, m = X.shape
    k = params.dim
    if k < 1:
        raise UsageError(f"--dim {k}: must be at least 1")
    if k >= min(n, m):
        raise UsageError(f"--dim {k}: must be smaller than the matrix's smaller side ({min(n, m)}); "
                         "the vocabulary is too small for this many dimensions")
    if params.solver not in SOLVERS:
        raise UsageError(f"--solver {params.solver}: choose one of {', '.join(SOLVERS)}")
    if params.n_iter < 0:
        raise UsageError(f"--n-iter {params.n_iter}: must be >= 0")
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
        UsageError: unknown ``which``, or ``w+c`` on a non-square matrix.
    """
    scale = s**eig
    if which == "w":
        out = U * scale
    elif which == "c":
        out = Vt.T * scale
    elif which == "w+c":
        if U.shape[0] != Vt.shape[1]:
            raise UsageError("--vectors w+c needs a word-context matrix with the same words on both sides")
        out = U * scale + Vt.T * scale
    else:
        raise UsageError(f"--vectors {which}: choose one of {', '.join(VECTOR_KINDS)}")
    return np.ascontiguousarray(out, dtype=np.float32)


def factorize(
    cm,
    weight: str = "ppmi",
    cds: float = 0.75,
    neg: float | None = None,
    params: SVDParams | None = None,
):
    """Reweight a :class:`~embedcli.matrix.CountMatrix` and factorize it.

    Returns ``(word_vectors, doc_vectors)``: :class:`~embedcli.vectors.Vectors`
    for the rows (or columns/both per ``params.vectors``), and for a
    term-document matrix also the documents' vectors ``V Sigma^eig`` (LSA;
    None otherwise).  The singular values, the weighting and the matrix's own
    parameters are recorded in ``meta``.

    Raises:
        UsageError: bad parameters (see :func:`truncated_svd`, :func:`~embedcli.weighting.reweight`).
    """
    from embedcli import __version__
    from embedcli.vectors import Vectors
    from embedcli.weighting import reweight

    params = params or SVDParams()
    if params.vectors not in VECTOR_KINDS:
        raise UsageError(f"--vectors {params.vectors}: choose one of {', '.join(VECTOR_KINDS)}")
    if params.vectors == "w+c" and cm.row_words != cm.col_words:
        raise UsageError("--vectors w+c needs a word-context matrix with the same words on both sides")
    if cm.kind == "termdoc" and params.vectors != "w":
        raise UsageError("--vectors c/w+c apply to co-occurrence matrices; a term-document matrix gives document vectors separately")
    X = reweight(cm.matrix, weight, cds, neg)
    U, s, Vt = truncated_svd(X, params)
    meta = {
        "embedcli_version": __version__,
        "method": "svd",
        "params": {"weight": weight, "cds": cds, "neg": neg, **params.as_dict()},
        "matrix": {"kind": cm.kind, "shape": list(cm.matrix.shape), "params": cm.params},
        "singular_values": [float(x) for x in s],
    }
    if params.vectors == "c":
        words, counts = cm.col_words, cm.col_counts
    else:
        words, counts = cm.row_words, cm.row_counts
    wv = Vectors(list(words), svd_vectors(U, s, Vt, params.eig, params.vectors), np.asarray(counts), meta)
    dv = None
    if cm.kind == "termdoc":
        dv = Vectors(list(cm.col_words), svd_vectors(U, s, Vt, params.eig, "c"), np.asarray(cm.col_counts),
                     {**meta, "kind": "document"})
    return wv, dv
