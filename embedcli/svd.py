"""Truncated sparse SVD of a (reweighted) count matrix: LSA and PPMI-SVD word vectors."""

from __future__ import annotations

import contextlib
import inspect
import threading

import numpy as np
import scipy.sparse as sp

from embedcli.arguments import entry_point
from embedcli.errors import DataError, ParameterError
from embedcli.krylov import block_krylov_svd
from embedcli.memory import heap_reuse
from embedcli.specs import SVDSpec, WeightingSpec, cores


#: Singular values below this fraction of the largest are rounding noise: ``svd`` warns (``--dim``
#: exceeds the matrix's rank), and fold-in gives their dimensions 0 rather than dividing by them
#: (as a pseudo-inverse's cut-off; numpy's ``pinv`` uses 1e-15 for float64, the solver works in float32).
RANK_TOLERANCE = 1e-6


def truncated_svd(X: sp.spmatrix, params: SVDSpec | None = None, progress=None,
                  client=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ``k = params.dim`` largest singular triplets of ``X``.

    ``solver``: ``krylov`` (:func:`block_krylov_svd`: Musco & Musco 2015, block Lanczos to
    degree ``n_iter`` with blocks of ``block_size`` columns, float32, products and dense steps on
    ``params.workers`` threads), ``randomized`` (:func:`randomized_svd`: Halko, Martinsson &
    Tropp 2011, subspace iteration with ``n_iter`` power iterations and
    ``oversamples`` extra vectors, float32, products on ``params.workers``
    threads) or ``arpack`` (scipy ``svds``, Lanczos in float64; exact to
    tolerance, slower).  ``n_iter``, ``block_size`` and ``oversamples`` None: the solver's defaults
    (:meth:`~embedcli.specs.SVDSpec.resolved`, which also runs the randomized solver where the
    default krylov basis would not fit the matrix or would be too large).  The float32 solvers run BLAS on one thread, so that
    their products have the cores to themselves (krylov splits its dense steps over its own threads).

    Args:
        X: ``(n, m)`` sparse matrix; the randomized solver works in float32.
        progress: optional :class:`~embedcli.fileio.Progress` (products done / total).
        client: a ``dask.distributed`` client: the krylov or randomized solver's products run on
            the cluster (:class:`embedcli.distributed.DaskOperator`; the same bits).

    Returns:
        ``U (n, k) float32``, ``s (k,) float64`` descending, ``Vt (k, m) float32``,
        signs fixed deterministically (the largest |entry| of each column of U
        is positive, as scikit-learn's ``svd_flip``) so that runs are reproducible.

    Raises:
        ParameterError: ``dim`` >= min(n, m).
        DataError: a float32 solver failed (values that overflow float32 arithmetic).
    """
    return _truncated_svd([X], params, progress, client)


def _truncated_svd(held: list, params: SVDSpec | None, progress, client) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`truncated_svd` of ``held[0]``.  The float32 solvers empty ``held`` once their operator
    holds the matrix's non-zeros, so that a caller that keeps no other reference (``factorize``)
    frees the matrix during the solve (the operator's tiles are a copy)."""
    X = held[0]
    params = params or SVDSpec()
    n, m = X.shape
    k = params.dim
    if k >= min(n, m):
        raise ParameterError("dim", k, f"must be smaller than the matrix's smaller side: it is {n:,} x {m:,} "
                             f"({'rows' if n <= m else 'columns'}: {'words or terms' if n <= m else 'contexts or documents'})")
    params = params.resolved(X.shape)
    if params.solver in ("randomized", "krylov"):
        from embedcli.parallel import SparseOperator

        X32 = sp.csr_matrix(X, dtype=np.float32)
        threads = params.workers or cores()
        if client is not None:
            from embedcli.distributed import DaskOperator

            op = DaskOperator(client, X32)
        else:
            op = SparseOperator(X32, threads=threads)
        del X32, X
        held.clear()
        with op, blas_on_one_thread(), heap_reuse():
            try:
                if params.solver == "krylov":
                    U, s, Vt = block_krylov_svd(op, k, params.n_iter, params.block_size, params.seed, progress,
                                                threads)
                else:
                    U, s, Vt = randomized_svd(op, k, params.oversamples, params.n_iter, params.seed, progress)
            except np.linalg.LinAlgError as e:  # NaN or overflow in the products
                raise DataError(f"the SVD failed ({e}): the matrix's values overflow float32 arithmetic; "
                                "scale them down") from None
        if progress is not None:
            progress.close()  # ends the status line on a terminal
    else:
        if client is not None:
            raise ParameterError("solver", params.solver, "only the krylov and randomized solvers run on a cluster")
        from scipy.sparse.linalg import svds

        v0 = np.random.default_rng(params.seed).uniform(-1, 1, min(n, m))
        U, s, Vt = svds(sp.csr_matrix(X, dtype=np.float64), k=k, v0=v0, solver="arpack")
        order = np.argsort(-s)
        U, s, Vt = U[:, order], s[order], Vt[order]
    U, Vt = _flip_signs(np.asarray(U, dtype=np.float32), np.asarray(Vt, dtype=np.float32))
    return U, np.asarray(s, dtype=np.float64), Vt


_BLAS_LOCK = threading.Lock()
_BLAS_USERS = [0, None]  # solvers running, and the threadpoolctl limiter that the first one set


@contextlib.contextmanager
def blas_on_one_thread():
    """BLAS (numpy's and scipy's OpenBLAS, or MKL) on one thread while the block runs.

    OpenBLAS's threads spin-wait after each call; on two cores they took a core from the SVD's
    products (0.105 s against 0.076 s a product on the pipeline's matrix; benchmarks/README.md,
    "The SVD's memory, BLAS's threads and the tile width").  One thread also makes the solver's LU
    and QR, hence its result, independent of how many cores BLAS would use.  The limit is
    process-wide (threadpoolctl): solvers running at once in several threads share it, the last one
    to finish gives the earlier setting back, and meanwhile BLAS in the process's other threads runs
    on one thread too.
    """
    import scipy.linalg  # noqa: F401  (loads scipy's own OpenBLAS, so that the limit reaches it)
    from threadpoolctl import threadpool_limits

    with _BLAS_LOCK:
        if _BLAS_USERS[0] == 0:
            _BLAS_USERS[1] = threadpool_limits(1, user_api="blas")
        _BLAS_USERS[0] += 1
    try:
        yield
    finally:
        with _BLAS_LOCK:
            _BLAS_USERS[0] -= 1
            if _BLAS_USERS[0] == 0:
                _BLAS_USERS[1].restore_original_limits()
                _BLAS_USERS[1] = None


#: Largest spread of column scales (LU pivots, max / min) at which a round of subspace iteration
#: still skips the re-normalization between its two products: with float32's 6e-8 precision that
#: costs at most about 6e-4 of the smallest column, against the solver's own error of about 1e-2
#: on the pipeline's matrix (where the spread of a round is 75-210).  The first round always
#: re-normalizes twice; its pivots, multiplied, estimate the next round's spread, and each paired
#: round measures its own.
PAIR_SPREAD = 1e4


def randomized_svd(op, k: int, oversamples: int = 20, n_iter: int = 5, seed: int = 0,
                   progress=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Randomized truncated SVD by subspace iteration (Halko, Martinsson & Tropp 2011, Alg. 4.4 + 5.1).

    ``l = k + oversamples`` Gaussian test vectors (float32, seeded), ``n_iter``
    rounds of ``Y <- X (X^T Y)`` with LU re-normalization (as scikit-learn's
    ``randomized_range_finder``) after both products, and between them too in the
    first round and in any round whose scales would spread beyond :data:`PAIR_SPREAD`
    or come within 1e8 of over- or underflow (the span, hence the result, is the
    same up to rounding; one LU of the ``n x l`` block is saved a round), a QR basis ``Q`` of the range,
    then the small problem: ``B^T = X^T Q`` (``m x l``), its QR ``Q_b R``, and
    the SVD of the ``l x l`` factor ``R^T``.  ``2 n_iter + 2`` sparse products
    in all; the benchmark ``benchmarks/bench_solvers.py`` compares it with
    block Krylov iteration (Musco & Musco 2015) and ARPACK.

    Args:
        op: a :class:`~embedcli.parallel.SparseOperator` (``shape``, ``dtype``, ``matmul``,
            ``rmatmul``).  When its ``matmul`` takes ``out=``, the solver holds two blocks and
            every product after the first writes into the one its input is not in, and LU works in
            place: no fresh memory a step (about 30 MB on the pipeline's matrix; fresh pages are slow
            to fault in).  An operator without ``out=`` gets fresh arrays as before.

    Returns:
        ``U (n, k)``, ``s (k,)``, ``Vt (k, m)`` in the operator's dtype, unsigned.
    """
    import scipy.linalg as sl

    n, m = op.shape
    dtype = np.float32 if op.dtype == np.float32 else np.float64
    size = min(k + oversamples, n, m)
    total = 2 * n_iter + 2
    done = 0

    def step(Y):
        nonlocal done
        done += 1
        if progress is not None:
            progress.update(done, total, extra=f"product {done}/{total}")
        return Y

    try:
        takes_out = "out" in inspect.signature(op.matmul).parameters and \
            "out" in inspect.signature(op.rmatmul).parameters
    except (TypeError, ValueError):  # no signature to read (a builtin): fresh arrays
        takes_out = False

    def lu(Y):
        """The LU re-normalization (in ``Y``'s memory when the solver owns it: an operator that takes
        ``out=``) and the largest and smallest |pivot|: how large ``Y``'s columns are, and how far
        apart their scales."""
        pl, u = sl.lu(Y, permute_l=True, overwrite_a=takes_out, check_finite=False)
        d = np.abs(np.diagonal(u))
        return pl, np.array([d.max(), d.min()], np.float64)

    def own(buf: np.ndarray, other: np.ndarray) -> dict:
        """``out=buf`` for a product of ``other``, when the operator takes it and ``buf`` may be
        written (C-contiguous, no memory shared with ``other``); else no ``out``."""
        if takes_out and buf.flags.c_contiguous and buf.flags.writeable and not np.may_share_memory(buf, other):
            return {"out": buf}
        return {}

    limits = (np.finfo(dtype).tiny * 1e8, np.finfo(dtype).max / 1e8)
    # Two blocks hold every iterate: each product writes into the block its input is not in, and
    # each LU works in place.  Fresh arrays instead would fault in new pages at every step (about 30 MB
    # a product on the pipeline's matrix), which cost more than a tenth of the SVD's time here.
    G = np.random.default_rng(seed).standard_normal((m, size), dtype=dtype)
    Y = step(op.matmul(G))  # (n, l): the block of X's side
    W = G  # (m, l): the block of X^T's side
    del G
    middle = None  # pivots of the re-normalization between the last round's products, if any
    for i in range(n_iter):
        Q, piv = lu(Y)
        if middle is not None:  # two normalized products: a round without the middle LU would scale by both
            piv = piv * middle
        # this round's two products without re-normalizing between them, when a round's
        # spread of scales (measured, or estimated after a normalized round; never in the first
        # round) stays far from the precision, and its scales far from over- and underflow
        paired = i > 0 and limits[0] <= piv[1] and piv[0] <= limits[1] and piv[0] / piv[1] <= PAIR_SPREAD
        Z = W = step(op.rmatmul(Q, **own(W, Q)))
        if paired:
            Y, middle = step(op.matmul(Z, **own(Q, Z))), None
        else:
            Qz, middle = lu(Z)
            W = Qz
            Y = step(op.matmul(Qz, **own(Q, Qz)))
    Q = sl.qr(Y, mode="economic", check_finite=False)[0]
    del Y
    Bt = step(op.rmatmul(Q, **own(W, Q)))  # (m, l) = B^T
    Qb, R = sl.qr(Bt, mode="economic", check_finite=False)
    del Bt, W
    Ur, s, Vrt = np.linalg.svd(R.T)
    U = Q @ Ur[:, :k]
    Vt = (Qb @ Vrt[:k].T).T
    return U, s[:k], Vt


def _flip_signs(U: np.ndarray, Vt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Make the largest-|entry| of each column of ``U`` positive (flipping ``Vt``'s row with it)."""
    rows = np.argmax(np.abs(U), axis=0)
    signs = np.sign(U[rows, np.arange(U.shape[1])])
    signs[signs == 0] = 1
    return U * signs, Vt * signs[:, None]


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



def resolve_weighting(weighting: WeightingSpec, kind: str) -> WeightingSpec:
    """``weighting`` as applied, the form recorded in the vectors' provenance: the default association
    made explicit for a matrix of ``kind`` (none on a term-document matrix, PPMI on a co-occurrence
    matrix) and sppmi's default shift (``negative`` 5) written out.

    Raises:
        ParameterError: ``cds`` or ``negative`` given where the association resolves to none.
    """
    if weighting.association is None:
        weighting = weighting.replace(association="none" if kind == "termdoc" else "ppmi")
    if weighting.association == "sppmi" and weighting.negative is None:
        weighting = weighting.replace(negative=weighting.shift)
    return weighting


@entry_point
def factorize(cm, weighting: WeightingSpec | None = None, spec: SVDSpec | None = None, progress=None,
              client=None, release_counts: bool = False):
    """The SVD stage: reweight a :class:`~embedcli.matrix.CountMatrix` and factorize it.

    Returns ``(word_vectors, doc_vectors)``: :class:`~embedcli.vectors.Vectors`
    ``(n, spec.dim) float32`` for the rows (or columns/both per
    ``spec.vectors``), and for a term-document matrix also the documents'
    vectors ``V Sigma^eig`` (LSA; None otherwise).  ``meta["provenance"]``
    records both specs and the matrix's own record; ``meta["singular_values"]``
    the singular values, descending.  ``client``: run the products on a Dask cluster
    (:func:`truncated_svd`).  ``progress``: an optional
    :class:`~embedcli.fileio.Progress` for the solver's products.  ``release_counts``: set
    ``cm.matrix`` to None once it is reweighted, so that the counts' memory (often the largest
    object: 117 MB for the pipeline's 31k words) is free during the SVD (the pipeline does this;
    ``cm`` is then only good for its labels and record).

    Raises:
        TypeError: ``cm`` is not a CountMatrix (wrap a scipy matrix as ``CountMatrix(M, row_words,
            col_words, row_counts, col_counts, kind)``), or a spec of the wrong class.
        ParameterError: ``vectors`` c/w+c where they do not apply, ``dim`` too large.
        DataError: the reweighted matrix is all zeros (no positive association left).
    """
    from embedcli.matrix import CountMatrix
    from embedcli.provenance import stage_record
    from embedcli.vectors import Vectors
    from embedcli.weighting import reweight

    if not isinstance(cm, CountMatrix):
        raise TypeError(f"factorize(): cm must be a CountMatrix (CountMatrix.load(path), or CountMatrix(M, row_words, "
                        f"col_words, row_counts, col_counts, kind) around a scipy matrix), not {type(cm).__name__}")
    weighting = weighting or WeightingSpec()
    spec = spec or SVDSpec()
    if spec.vectors == "w+c" and cm.row_words != cm.col_words:
        raise ParameterError("vectors", spec.vectors, "w+c needs a word-context matrix with the same words on both sides")
    if cm.kind == "termdoc" and spec.vectors != "w":
        raise ParameterError("vectors", spec.vectors, "c and w+c apply to co-occurrence matrices; a term-document "
                             "matrix gives document vectors separately")
    weighting = resolve_weighting(weighting, cm.kind)
    if not cm.matrix.data.any():
        raise DataError(f"{cm.path or 'matrix'}: every entry is zero; nothing to factorize")
    X = reweight(cm.matrix, weighting)
    if release_counts:
        cm.matrix = None
    if X.nnz == 0 or not X.data.any():
        raise DataError(f"{cm.path or 'matrix'}: no non-zero entry is left after {weighting.association}; "
                        "nothing to factorize")
    spec = spec.resolved(X.shape)  # as applied, for the record
    # a row (column) of X that is all zero has an exactly zero row of U (column of Vt); the randomized
    # solver leaves rounding noise there, which cosine similarity would blow up to a full direction
    empty_rows, empty_cols = _empty_lines(sp.csr_matrix(X))
    fro2 = _squared_norm(X.data) if hasattr(X, "data") else float(np.square(X).sum())
    held = [X]
    del X  # the solver frees the reweighted matrix once its operator has copied it (64 MB on english-mix)
    U, s, Vt = _truncated_svd(held, spec, progress, client)
    U[empty_rows] = 0
    Vt[:, empty_cols] = 0
    record = stage_record("svd", (weighting, spec), {"matrix": cm.record()})
    # Eckart-Young: the share of ||X||_F^2 that the rank-dim approximation keeps
    meta = {"provenance": record, "singular_values": [float(x) for x in s],
            "energy_captured": float(np.square(s, dtype=np.float64).sum() / fro2) if fro2 > 0 else None}
    if spec.vectors == "c":
        words, counts = cm.col_words, cm.col_counts
    else:
        words, counts = cm.row_words, cm.row_counts
    wv = Vectors(list(words), svd_vectors(U, s, Vt, spec.eig, spec.vectors), np.asarray(counts),
                 {**meta, "kind": "words"})
    dv = None
    if cm.kind == "termdoc":
        wv.meta["lsa"] = lsa_model_record(cm, weighting)
        dv = Vectors(list(cm.col_words), svd_vectors(U, s, Vt, spec.eig, "c"), np.asarray(cm.col_counts),
                     {**meta, "kind": "documents", "empty_documents": [int(i) for i in empty_cols]})
    return wv, dv


def _empty_lines(X: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the all-zero rows and columns of a CSR matrix (explicit zeros count as zero).
    The columns are marked in a boolean array: ``np.bincount`` would first copy the int32 column
    indices to int64 (62 MB of fresh pages for english-mix's PPMI, 0.15 s of the pipeline)."""
    if not (X.data != 0).all():  # explicit zeros (rare: the weightings drop them): count without them
        X = X.copy()
        X.eliminate_zeros()
    rows = np.diff(X.indptr)
    seen = np.zeros(X.shape[1], bool)
    seen[X.indices] = True
    return np.flatnonzero(rows == 0), np.flatnonzero(~seen)


def _squared_norm(data: np.ndarray, chunk: int = 1 << 18) -> float:
    """``sum(data**2)`` in float64, ``chunk`` entries at a time (2 MB temporaries, reused, where a
    whole-array float64 square would be a fresh array as large as the matrix's values twice)."""
    return float(sum(np.square(data[i:i + chunk], dtype=np.float64).sum() for i in range(0, len(data), chunk)))


def lsa_model_record(cm, weighting: WeightingSpec) -> dict:
    """What fold-in needs besides the term vectors and singular values: the term-document weighting
    and each term's global weight (None for matrices written before they were stored).  ``requires``
    names the fields a reader must apply to fold in correctly (:data:`embedcli.lsa.UNDERSTOOD`), so
    that a later embedcli's new ones are refused by this one, not ignored."""
    spec = (cm.provenance.get("spec") or {}) if cm.provenance.get("stage") == "termdoc" else {}
    binary = bool(spec.get("binary", False))
    return {"termdoc_weighting": spec.get("weighting"), "normalize": bool(spec.get("normalize", False)),
            "binary": binary, "requires": ["binary"] if binary else [],
            "association": weighting.association,
            "term_weights": None if cm.term_weights is None else [float(x) for x in cm.term_weights]}
