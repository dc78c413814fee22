"""NetMF: node vectors from the matrix DeepWalk factorizes implicitly (Qiu et al. 2018).

For an undirected graph with adjacency ``A``, degrees ``D`` and volume ``vol(G) = sum(A)``,
DeepWalk with window ``T`` and ``b`` negative samples factorizes (Qiu et al. 2018, Theorem 2.2)

    M = vol(G) / (b T) * (sum_{r=1..T} P^r) D^-1,      P = D^-1 A,

and NetMF takes the truncated SVD of ``log(max(M, 1))``, node vectors ``U_d Sigma_d^(1/2)``.
With ``S = D^-1/2 A D^-1/2`` (symmetric), ``sum_r P^r D^-1 = D^-1/2 (sum_r S^r) D^-1/2``:

- ``exact``: the dense ``sum_r S^r`` by ``T - 1`` sparse x dense products (float32, column
  blocks on threads: scipy's product releases the GIL);
- ``eigen`` (NetMF for large T): ``S ~ U_h Lambda_h U_h^T`` from the ``h`` largest (algebraic)
  eigenpairs (scipy ``eigsh``), ``sum_r S^r ~ U_h f(Lambda_h) U_h^T`` with
  ``f(l) = max(0, sum_{r=1..T} l^r / T)``, as the paper's code.

Both hold the dense ``n x n`` float32 matrix (``4 n^2`` bytes; three of them for ``exact``).
"""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp

from embedcli.arguments import entry_point
from embedcli.errors import DataError, ParameterError
from embedcli.graph import Graph, graph_stats
from embedcli.specs import NetMFSpec, cores
from embedcli.vectors import Vectors


class _DenseSymmetric:
    """A dense symmetric matrix as the operator :func:`embedcli.svd.randomized_svd` takes (BLAS products)."""

    def __init__(self, M: np.ndarray):
        self.M = M
        self.shape = M.shape
        self.dtype = M.dtype

    def matmul(self, Y: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        return np.matmul(self.M, Y, out=out)

    rmatmul = matmul


def _symmetric_adjacency(graph: Graph, scaled: bool = False) -> sp.csr_matrix:
    """``A`` (symmetrized when directed); ``scaled``: divided by its largest weight first, which
    leaves NetMF's matrix unchanged (``P`` and ``vol(G) D^-1`` do not depend on the scale) and keeps
    weights near 1e308 from overflowing the sums."""
    A = graph.adjacency
    if scaled and A.nnz:
        A = (A * (1.0 / float(A.data.max()))).tocsr()
    return ((A + A.T) * 0.5).tocsr() if graph.directed else A


def _check_size(graph: Graph, spec: NetMFSpec) -> None:
    n = graph.n_nodes
    if n > spec.max_nodes:
        need = 4 * n * n * (3 if spec.method == "exact" else 1)
        size = (f"{need / 1e9:.1f} GB" if need >= 1e9 else f"{need / 1e6:.0f} MB" if need >= 1e6
                else f"{need / 1e3:.0f} KB")
        raise DataError(f"{graph.source or 'graph'}: {n:,} nodes; netmf holds a dense n x n matrix ({size}) "
                        f"and accepts at most --max-nodes {spec.max_nodes:,}. For larger graphs use walks + cooccur + "
                        "svd (sparse) or deepwalk")
    if n < 3:
        raise DataError(f"{graph.source or 'graph'}: {n} node(s); netmf needs at least 3")


def netmf_matrix(graph: Graph, spec: NetMFSpec | None = None, progress=None) -> np.ndarray:
    """The dense ``(n, n) float32`` matrix ``log(max(M, 1))`` of NetMF (see the module doc).

    A directed graph is made undirected first (``(A + A^T) / 2``): NetMF is defined for undirected
    graphs.

    Raises:
        DataError: more than ``spec.max_nodes`` nodes (the matrix is dense), or a graph too small
            for the eigensolver.
    """
    spec = spec or NetMFSpec()
    n = graph.n_nodes
    _check_size(graph, spec)
    A = _symmetric_adjacency(graph, scaled=True)
    degree = np.asarray(A.sum(axis=1)).ravel()
    vol = float(degree.sum())
    scale = 1.0 / np.sqrt(degree)
    S = (sp.diags(scale) @ A @ sp.diags(scale)).tocsr()
    T = spec.window
    if spec.method == "exact":
        F = _power_sum(S.astype(np.float32), T, spec.workers or cores(), progress)
        F *= np.float32(vol / (spec.negative * T))
    else:
        U, f = _eigen(S, min(spec.rank, n - 1), T, spec.seed, progress)
        L = (U * np.sqrt(f)).astype(np.float32)
        F = L @ L.T
        F *= np.float32(vol / spec.negative)  # f already divides by T
    d = scale.astype(np.float32)
    F *= d[:, None]
    F *= d[None, :]
    np.maximum(F, 1, out=F)
    np.log(F, out=F)
    if not F.any():  # every entry of M <= 1: the truncated log leaves nothing, the vectors would be zero
        raise DataError(f"{graph.source or 'graph'}: the NetMF matrix log(max(M, 1)) is zero everywhere "
                        f"(no entry of M above 1 with window={spec.window}, negative={spec.negative:g}); "
                        "lower --negative")
    return F


def _power_sum(S: sp.csr_matrix, T: int, threads: int, progress=None, block: int = 512) -> np.ndarray:
    """Dense ``sum_{r=1..T} S^r`` (float32) by ``T - 1`` products ``S @ X``, column blocks of ``block``
    (a block of X stays in cache across the rows of S) spread over ``threads``."""
    from concurrent.futures import ThreadPoolExecutor

    n = S.shape[0]
    X = S.toarray()
    total = X.copy()
    spans = [(j, min(j + block, n)) for j in range(0, n, block)]
    nxt = np.empty_like(X)

    def product(span):
        j0, j1 = span
        nxt[:, j0:j1] = S @ np.ascontiguousarray(X[:, j0:j1])

    with ThreadPoolExecutor(max(1, threads)) as pool:
        for r in range(2, T + 1):
            list(pool.map(product, spans))
            X, nxt = nxt, X
            total += X
            if progress is not None:
                progress.update(r, T, extra=f"power {r}/{T}")
    return total


#: graphs (or components) up to this many nodes are decomposed densely (LAPACK eigh: exact, and on
#: 2,708 nodes faster than ARPACK)
DENSE_EIGEN_NODES = 5000


def _top_eigenpairs(S: sp.csr_matrix, h: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``h`` largest-algebraic eigenpairs of one connected block (dense, or ARPACK ``eigsh``)."""
    n = S.shape[0]
    if n <= DENSE_EIGEN_NODES or h >= n - 1:
        lam, U = np.linalg.eigh(S.toarray())
        return lam[-h:], U[:, -h:]
    from scipy.sparse.linalg import eigsh

    v0 = np.random.default_rng(seed).uniform(-1, 1, n)
    return eigsh(S, k=h, which="LA", v0=v0)


def _eigen(S: sp.csr_matrix, h: int, T: int, seed: int, progress=None) -> tuple[np.ndarray, np.ndarray]:
    """``h`` largest-algebraic eigenpairs of ``S`` and the filter ``f = max(0, sum_r l^r / T)``.

    A graph of several components has eigenvalue 1 once per component; a single Krylov run
    (ARPACK) finds only some copies of a repeated eigenvalue, so large graphs are decomposed per
    connected component (the eigenpairs of a block-diagonal matrix are its blocks') and the ``h``
    largest are kept."""
    from scipy.sparse.csgraph import connected_components

    n = S.shape[0]
    if progress is not None:
        progress.update(0, None, extra=f"{h} eigenpairs")
    n_comp, label = connected_components(S, directed=False)
    if n <= DENSE_EIGEN_NODES or n_comp == 1:
        lam, U = _top_eigenpairs(S, h, seed)
    else:
        lams, vecs = [], []  # (eigenvalue, component nodes, component eigenvectors)
        order = np.argsort(label, kind="stable")
        bounds = np.searchsorted(label[order], np.arange(n_comp + 1))
        for c in range(n_comp):
            idx = order[bounds[c]:bounds[c + 1]]
            if len(idx) == 1:
                lc, Uc = S[idx][:, idx].toarray().ravel(), np.ones((1, 1))
            else:
                lc, Uc = _top_eigenpairs(S[idx][:, idx].tocsr(), min(h, len(idx)), seed)
            lams.append(lc)
            vecs.append((idx, Uc))
        all_lam = np.concatenate(lams)
        owner = np.repeat(np.arange(n_comp), [len(x) for x in lams])
        column = np.concatenate([np.arange(len(x)) for x in lams])
        top = np.argsort(all_lam, kind="stable")[-h:]
        lam = all_lam[top]
        U = np.zeros((n, len(top)))
        for k, t in enumerate(top):
            idx, Uc = vecs[owner[t]]
            U[idx, k] = Uc[:, column[t]]
    f = np.zeros_like(lam)
    power = np.ones_like(lam)
    for _ in range(T):  # the polynomial, not l (1 - l^T) / (1 - l): no 0/0 at l = 1 (one per component)
        power *= lam
        f += power
    return U, np.maximum(f / T, 0.0)


@entry_point
def netmf(graph: Graph, spec: NetMFSpec | None = None, progress=None) -> Vectors:
    """NetMF node vectors (Qiu et al. 2018): the truncated SVD of :func:`netmf_matrix`.

    The SVD is :func:`embedcli.svd.randomized_svd` (float32, ``spec.n_iter`` power iterations,
    seeded) of the dense symmetric matrix; vectors are ``U Sigma^eig`` (NetMF: ``eig = 0.5``),
    signs fixed as scikit-learn's ``svd_flip``, optionally unit length.

    Returns:
        :class:`~embedcli.vectors.Vectors`: ``(n_nodes, dim) float32``, nodes highest degree first,
        ``counts`` the (rounded) degrees, meta ``kind`` ``nodes``, ``singular_values`` and
        ``energy_captured`` (their share of the matrix's squared Frobenius norm, as ``svd``).

    Raises:
        DataError: see :func:`netmf_matrix`.
        ParameterError: ``dim`` not smaller than the number of nodes.
    """
    from embedcli.provenance import raw_file_record, stage_record
    from embedcli.svd import _flip_signs, randomized_svd

    spec = spec or NetMFSpec()
    _check_size(graph, spec)
    if spec.dim >= graph.n_nodes:
        raise ParameterError("dim", spec.dim, f"must be smaller than the graph's {graph.n_nodes:,} nodes")
    F = netmf_matrix(graph, spec, progress)
    if progress is not None:
        progress.start = time.perf_counter()  # the ETA of the SVD's products, not of the matrix
    U, s, _ = randomized_svd(_DenseSymmetric(F), spec.dim, n_iter=spec.n_iter, seed=spec.seed, progress=progress)
    fro2 = float(np.einsum("ij,ij->", F, F, dtype=np.float64))
    del F
    U, _ = _flip_signs(np.asarray(U, dtype=np.float32), np.zeros((spec.dim, 1), dtype=np.float32))
    X = np.ascontiguousarray(U * (s ** spec.eig).astype(np.float32), dtype=np.float32)
    if spec.normalize:
        norms = np.linalg.norm(X, axis=1, keepdims=True)
        X /= np.where(norms > 0, norms, 1)
    if progress is not None:
        progress.close()
    A = _symmetric_adjacency(graph)
    with np.errstate(over="ignore", invalid="ignore"):  # weights near 1e308: the largest counts saturate
        degree = np.rint(np.minimum(np.asarray(A.sum(axis=1)).ravel(), 2.0**62)).astype(np.int64)
    inputs = {"graph": raw_file_record(graph.source)} if graph.source and graph.source != "-" else {}
    rec = stage_record("netmf", spec, inputs, graph_stats(graph))
    return Vectors(list(graph.nodes), X, degree,
                   {"kind": "nodes", "provenance": rec, "singular_values": [float(x) for x in s],
                    "energy_captured": float(np.square(s, dtype=np.float64).sum() / fro2) if fro2 > 0 else None})
