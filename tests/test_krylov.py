"""The krylov solver (block Lanczos / Golub-Kahan-Lanczos with full re-orthogonalization)."""

import numpy as np
import pytest
import scipy.sparse as sp
from conftest import run

import embedcli.krylov as K
import embedcli.svd as S
from embedcli.parallel import SparseOperator
from embedcli.specs import SVDSpec
from embedcli.vectors import Vectors


def _matrix(shape, symmetric, seed=1, decay=None):
    A = sp.random(*shape, density=0.05, random_state=seed, dtype=np.float64, format="csr")
    if symmetric:
        A = A + A.T
    if decay is not None:  # a quickly decaying spectrum: Krylov blocks nearly inside the span found so far
        rng = np.random.default_rng(seed)
        Uq = np.linalg.qr(rng.standard_normal((shape[0], shape[0])))[0]
        A = sp.csr_matrix((Uq * decay ** np.arange(shape[0])) @ Uq.T)
    return sp.csr_matrix(A, dtype=np.float32)


def _solve(A, k, threads=2, **kw):
    with SparseOperator(A, threads=threads) as op, S.blas_on_one_thread():
        return K.block_krylov_svd(op, k, threads=threads, **kw)


@pytest.mark.parametrize("shape,symmetric", [((300, 300), True), ((300, 300), False), ((400, 250), False),
                                             ((250, 400), False)])
def test_krylov_matches_lapack(shape, symmetric):
    A = _matrix(shape, symmetric)
    k = 10
    U, s, Vt = _solve(A, k, n_iter=40)  # random sparse matrices have flat spectra: a deeper space
    dense = A.toarray().astype(np.float64)
    want = np.linalg.svd(dense, compute_uv=False)[:k]
    np.testing.assert_allclose(s, want, rtol=2e-4)
    assert np.abs(U.T @ U - np.eye(k)).max() < 1e-5 and np.abs(Vt @ Vt.T - np.eye(k)).max() < 1e-5
    # U^T A V is diag(s): the triplets belong together (signs included, the symmetric case's negative eigenvalues too)
    np.testing.assert_allclose(U.T.astype(np.float64) @ dense @ Vt.T, np.diag(s), atol=2e-4 * s[0])


def test_krylov_takes_about_one_product_a_degree():
    seen = []

    class Counting(SparseOperator):
        def matmul(self, B, out=None):
            seen.append("X")
            return super().matmul(B, out)

        def rmatmul(self, B, out=None):
            seen.append("XT")
            return super().rmatmul(B, out)

    # the degree in X is 20 either way; the last product gives the right singular vectors
    for sym, want in ((True, ["X"] * 21 + ["XT"]), (False, ["X"] + ["XT", "X"] * 10 + ["XT"])):
        seen.clear()
        with Counting(_matrix((300, 300), sym), threads=2) as op, S.blas_on_one_thread():
            K.block_krylov_svd(op, 10, n_iter=20, threads=2)
        assert op.symmetric == sym and seen == want


def test_krylov_does_not_depend_on_threads():
    for A in (_matrix((9000, 9000), True, seed=3), _matrix((9000, 5000), False, seed=3)):
        got = [_solve(A, 12, threads=t, n_iter=6) for t in (1, 2, 3)]
        for other in got[1:]:
            for x, y in zip(got[0], other):
                assert np.array_equal(x, y)


def test_gram_schmidt_runs_a_second_pass_when_one_is_not_enough():
    """A block that lies almost inside the basis: one classical pass leaves it measurably off
    orthogonal, the second (triggered by the lost norm) brings it back to the float32 level."""
    rng = np.random.default_rng(0)
    n = 10000
    B = np.linalg.qr(rng.standard_normal((n, 30)))[0].astype(np.float32)
    Z0 = (B @ rng.standard_normal((30, 5)) + 1e-5 * rng.standard_normal((n, 5))).astype(np.float32)
    chunks = K._RowChunks(n, 2)
    Bt = np.ascontiguousarray(B.T)  # the solver keeps its basis as rows
    one = Z0.copy()
    chunks.subtract(one, Bt, chunks.project(Bt, one))
    off = lambda Z: np.abs(B.T @ (Z / np.linalg.norm(Z, axis=0))).max()  # noqa: E731
    assert off(one) > 5e-5
    two = Z0.copy()
    H, _ = chunks.orthogonalize(two, Bt)
    assert off(two) < 1e-5
    np.testing.assert_allclose(H, B.T @ Z0, atol=1e-3)
    chunks.close()


def test_tsqr_is_a_qr_and_does_not_depend_on_threads():
    Z = np.random.default_rng(1).standard_normal((10000, 40)).astype(np.float32)
    got = []
    for t in (1, 2):
        c = K._RowChunks(len(Z), t)
        got.append(c.qr(Z))
        c.close()
    Q, R = got[0]
    assert np.array_equal(Q, got[1][0]) and np.array_equal(R, got[1][1])
    assert np.abs(Q.T @ Q - np.eye(40)).max() < 1e-5
    np.testing.assert_allclose(Q @ R, Z, atol=1e-4)
    assert np.allclose(R, np.triu(R))


@pytest.mark.parametrize("symmetric", [True, False])
def test_krylov_on_degenerate_matrices(symmetric):
    """No entry at all, rank one, and a quickly decaying spectrum: the Krylov space runs out (its
    blocks vanish) and is continued with random directions; the basis stays orthonormal."""
    zero = sp.csr_matrix((100, 100), dtype=np.float32)
    U, s, Vt = _solve(zero, 5)
    assert not s.any() and np.abs(U.T @ U - np.eye(5)).max() < 1e-5
    u = np.arange(1, 101, dtype=np.float32)
    one = sp.csr_matrix(np.outer(u, u if symmetric else u[::-1]))
    U, s, Vt = _solve(one, 5)
    assert s[0] == pytest.approx(u @ u, rel=1e-5) and (s[1:] < 1e-6 * s[0]).all()
    assert np.abs(U.T @ U - np.eye(5)).max() < 1e-5 and np.abs(Vt @ Vt.T - np.eye(5)).max() < 1e-5
    steep = _matrix((200, 200), True, decay=0.5)
    U, s, Vt = _solve(steep, 8)
    np.testing.assert_allclose(s, 0.5 ** np.arange(8), rtol=1e-4)


def test_matrices_too_small_for_the_basis_take_the_randomized_solver(tmp_path):
    """The default krylov basis (24 blocks of 0.4 x dim) must fit in the matrix's smaller side with
    a block to spare; where it does not (an LSA of 124 documents at 80 dims took 2 blocks and was
    21% off), the default runs the randomized solver, exact there, and records it.  Explicit krylov
    settings that cannot fit, or cannot hold dim vectors, are refused."""
    from embedcli.errors import ParameterError
    from embedcli.matrix import CountMatrix
    from embedcli.svd import factorize, truncated_svd

    rng = np.random.default_rng(5)
    for shape, k in (((9, 9), 3), ((6, 6), 5), ((3, 3), 1), ((2000, 124), 80), ((40, 60), 30)):
        A = sp.csr_matrix(rng.random(shape, dtype=np.float32) * (rng.random(shape) < 0.3))
        if shape == (40, 60):
            A = A.tolil()
            A[5:25] = 0  # rank below dim
            A = A.tocsr()
        U, s, Vt = truncated_svd(A, SVDSpec(dim=k))
        want = np.linalg.svd(A.toarray().astype(np.float64), compute_uv=False)[:k]
        np.testing.assert_allclose(s, want, rtol=1e-3, atol=1e-5 * want[0])  # (random: a flat spectrum)
        assert np.abs(U.T @ U - np.eye(k)).max() < 1e-4 or shape == (40, 60)  # (rank 20 < 30: noise vectors)
        assert SVDSpec(dim=k).resolved(shape).solver == "randomized"
    assert SVDSpec(dim=100).resolved((31146, 31146)).solver == "krylov"
    assert SVDSpec(dim=400).resolved((31146, 31146)).solver == "randomized"  # basis over KRYLOV_MAX_BASIS
    cm = CountMatrix(sp.csr_matrix(rng.random((300, 124))), [f"t{i}" for i in range(300)],
                     [f"d{i}" for i in range(124)], np.ones(300, np.int64), np.ones(124, np.int64), "termdoc")
    wv, _ = factorize(cm, spec=SVDSpec(dim=80))
    assert wv.provenance["spec"]["solver"] == "randomized" and wv.provenance["spec"]["oversamples"] == 20
    A = _matrix((300, 300), True)
    with pytest.raises(ParameterError, match="does not fit"):
        _solve(A, 10, n_iter=24, block=20)
    with pytest.raises(ParameterError, match="smaller than"):
        _solve(A, 100, n_iter=2, block=40)
    with pytest.raises(ParameterError, match="does not fit"):
        truncated_svd(A, SVDSpec(dim=10, n_iter=24, block_size=20))


def test_options_of_another_solver_are_refused():
    from embedcli.errors import ParameterError

    for kw in ({"solver": "randomized", "block_size": 5}, {"oversamples": 5}, {"solver": "arpack", "n_iter": 7},
               {"solver": "arpack", "oversamples": 30}):
        with pytest.raises(ParameterError):
            SVDSpec(**kw)
    assert SVDSpec(solver="randomized", oversamples=5).resolved().oversamples == 5
    assert SVDSpec().resolved().oversamples is None and SVDSpec(solver="arpack").resolved().n_iter is None


def test_spec_resolves_the_solver_defaults():
    assert SVDSpec().resolved().n_iter == 24 and SVDSpec().resolved().block_size == 40
    assert SVDSpec(dim=300).resolved().block_size == 120
    assert SVDSpec(solver="randomized").resolved().n_iter == 15
    assert SVDSpec(solver="randomized").resolved().block_size is None
    assert SVDSpec(solver="krylov", n_iter=7, block_size=9).resolved() == SVDSpec(solver="krylov", n_iter=7, block_size=9)


def test_cli_krylov_options(small_tokens, tmp_path):
    m = tmp_path / "m.npz"
    run("cooccur", small_tokens, "-o", m, "--min-count", "20", "-q")
    out = tmp_path / "k.npz"
    run("svd", m, "-o", out, "--dim", "8", "--n-iter", "5", "--block-size", "6", "-q")
    spec = Vectors.load(str(out)).meta["provenance"]["spec"]
    assert spec["solver"] == "krylov" and spec["n_iter"] == 5 and spec["block_size"] == 6
    r = run("svd", m, "-o", tmp_path / "z.npz", "--dim", "8", "--n-iter", "0", ok=False)
    assert r.exit_code == 2 and "--n-iter" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and not (tmp_path / "z.npz").exists()
    help_text = run("svd", "--help").output
    assert "--block-size" in help_text and "krylov" in help_text
