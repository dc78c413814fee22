import os

import numpy as np
import pytest
import scipy.sparse as sp
from conftest import run

from embedcli.matrix import CountMatrix
from embedcli.specs import SVDSpec, WeightingSpec
from embedcli.svd import svd_vectors, truncated_svd
from embedcli.vectors import Vectors
from embedcli.weighting import log_counts, ppmi, reweight

# 2 words x 3 contexts, computed by hand below
COUNTS = np.array([[4.0, 0.0, 2.0], [1.0, 3.0, 0.0]])


def test_ppmi_by_hand():
    # D = 10; #(w) = 6, 4; #(c) = 5, 3, 2
    # PMI(0,0) = log(4*10/(6*5)) = log(4/3); PMI(0,2) = log(2*10/(6*2)) = log(5/3)
    # PMI(1,0) = log(1*10/(4*5)) = log(1/2) -> dropped; PMI(1,1) = log(3*10/(4*3)) = log(5/2)
    M = ppmi(sp.csr_matrix(COUNTS), cds=1.0).toarray()
    expected = np.array([[np.log(4 / 3), 0, np.log(5 / 3)], [0, np.log(5 / 2), 0]])
    np.testing.assert_allclose(M, expected, rtol=1e-6)
    assert M.dtype == np.float32


def test_ppmi_cds_and_shift_by_hand():
    # cds 0.5: P(c) = sqrt(#c) / sum sqrt(#c)
    pc = np.sqrt([5, 3, 2]) / np.sqrt([5, 3, 2]).sum()
    pw = np.array([6, 4]) / 10
    pmi = np.log((COUNTS / 10) / np.outer(pw, pc), where=COUNTS > 0, out=np.full_like(COUNTS, -np.inf))
    np.testing.assert_allclose(ppmi(sp.csr_matrix(COUNTS), cds=0.5).toarray(), np.maximum(pmi, 0), rtol=1e-6)
    shifted = np.maximum(pmi - np.log(2), 0)
    np.testing.assert_allclose(ppmi(sp.csr_matrix(COUNTS), cds=0.5, neg=2).toarray(), shifted, rtol=1e-6)
    np.testing.assert_allclose(reweight(sp.csr_matrix(COUNTS), WeightingSpec("sppmi", 2, 0.5)).toarray(), shifted, rtol=1e-6)
    np.testing.assert_allclose(log_counts(sp.csr_matrix(COUNTS)).toarray(), np.log1p(COUNTS), rtol=1e-6)
    np.testing.assert_allclose(reweight(sp.csr_matrix(COUNTS), WeightingSpec("none")).toarray(), COUNTS)


def test_svd_weighting_by_hand():
    U = np.eye(3)[:, :2]
    s = np.array([4.0, 1.0])
    Vt = np.eye(3)[:2]
    np.testing.assert_allclose(svd_vectors(U, s, Vt, 0.5, "w"), [[2, 0], [0, 1], [0, 0]])
    np.testing.assert_allclose(svd_vectors(U, s, Vt, 1.0, "c"), [[4, 0], [0, 1], [0, 0]])
    np.testing.assert_allclose(svd_vectors(U, s, Vt, 0.0, "w+c"), [[2, 0], [0, 2], [0, 0]])


@pytest.mark.parametrize("solver", ["arpack", "randomized", "krylov"])
def test_truncated_svd_reconstruction_identity(solver):
    rng = np.random.default_rng(0)
    X = sp.random(60, 40, density=0.3, random_state=1, format="csr") * 3
    k = 8
    extra = {"randomized": {"n_iter": 20}, "krylov": {"n_iter": 16, "block_size": 4}}.get(solver, {})
    U, s, Vt = truncated_svd(X, SVDSpec(dim=k, solver=solver, **extra))
    full = np.linalg.svd(X.toarray(), compute_uv=False)
    np.testing.assert_allclose(s, full[:k], rtol=1e-4)
    err = np.linalg.norm(X.toarray() - (U * s) @ Vt) ** 2
    assert err == pytest.approx((full[k:] ** 2).sum(), rel=1e-4)
    assert rng is not None


def _skewed_matrix(n=500, m=300, seed=3):
    """Rows with very different numbers of non-zeros, like a frequency-sorted word matrix."""
    rng = np.random.default_rng(seed)
    per_row = np.maximum(1, (m / (1 + np.arange(n)) ** 0.7).astype(int))
    rows = np.repeat(np.arange(n), per_row)
    cols = np.concatenate([rng.choice(m, k, replace=False) for k in per_row])
    return sp.csr_matrix((rng.random(len(rows)).astype(np.float32) + 0.1, (rows, cols)), shape=(n, m))


@pytest.mark.parametrize("width", [7, 64, 4096])
def test_sparse_operator_products_do_not_depend_on_threads(width):
    from embedcli.parallel import SparseOperator, row_blocks

    X = _skewed_matrix()
    B = np.random.default_rng(0).standard_normal((300, 17)).astype(np.float32)
    C = np.random.default_rng(1).standard_normal((500, 17)).astype(np.float32)
    got = []
    for threads in (1, 2, 3, 8):
        with SparseOperator(X, threads=threads, width=width) as op:
            got.append((op.matmul(B), op.rmatmul(C)))
    for xb, xtc in got:
        assert xb.dtype == np.float32 and xb.shape == (500, 17) and xtc.shape == (300, 17)
        np.testing.assert_allclose(xb, X @ B, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(xtc, X.T @ C, rtol=1e-5, atol=1e-5)
        assert np.array_equal(xb, got[0][0]) and np.array_equal(xtc, got[0][1])
    blocks = row_blocks(X, 8)
    assert blocks[0][0] == 0 and blocks[-1][1] == 500 and len(blocks) > 1
    assert all(a[1] == b[0] for a, b in zip(blocks, blocks[1:]))
    nnz = [b[2].nnz for b in blocks]
    assert max(nnz) < 0.3 * X.nnz  # balanced by non-zeros, although row 0 alone holds 300


def test_randomized_svd_does_not_depend_on_workers():
    X = _skewed_matrix()
    a = truncated_svd(X, SVDSpec(dim=10, workers=1))
    b = truncated_svd(X, SVDSpec(dim=10, workers=2))
    for x, y in zip(a, b):
        assert np.array_equal(x, y)
    assert a[0].dtype == np.float32 and a[2].dtype == np.float32 and a[1].dtype == np.float64
    # the largest |entry| of each column of U is positive
    assert (a[0][np.argmax(np.abs(a[0]), axis=0), np.arange(10)] > 0).all()


def test_products_into_given_memory_and_tiles_summed_in_place(monkeypatch):
    """``out=`` is written (every row, whatever it held) and returned; a wrong ``out`` is refused;
    the in-place sums agree with scipy's products, and with the public ``tile @ B`` path that a
    scipy without the kernel, or a tile of another dtype, takes."""
    import embedcli.parallel as P

    X = _skewed_matrix()
    B = np.random.default_rng(0).standard_normal((300, 17)).astype(np.float32)
    with P.SparseOperator(X, threads=2, width=64) as op:
        fresh = op.matmul(B)
        buf = np.full((500, 17), np.nan, np.float32)
        assert op.matmul(B, out=buf) is buf and np.array_equal(buf, fresh)
        for bad in (np.empty((500, 16), np.float32), np.empty((500, 17), np.float64),
                    np.empty((17, 500), np.float32).T):
            with pytest.raises(ValueError, match="out must be"):
                op.matmul(B, out=bad)
        np.testing.assert_allclose(fresh, X @ B, rtol=1e-5, atol=1e-5)
        monkeypatch.setattr(P, "_KERNEL", None)
        public = op.matmul(B)
    np.testing.assert_allclose(public, fresh, rtol=1e-5, atol=1e-5)
    with P.SparseOperator(X.astype(np.float64), width=64) as op64:  # float64 tiles, float32 B: upcast
        np.testing.assert_allclose(op64.matmul(B), X.astype(np.float64) @ B, rtol=1e-12)


def test_randomized_svd_reuses_two_blocks_and_gets_the_same_bits():
    """Every product after the first writes into memory the solver already holds, and LU works in
    place, with the same result as an operator that returns fresh arrays."""
    import embedcli.svd as S
    from embedcli.parallel import SparseOperator

    X = _skewed_matrix()

    class Recording(SparseOperator):
        def __init__(self, *a, ignore_out=False, **k):
            super().__init__(*a, **k)
            self.outs, self.ignore_out = [], ignore_out

        def matmul(self, B, out=None):
            self.outs.append(out)
            return super().matmul(B, None if self.ignore_out else out)

        def rmatmul(self, B, out=None):
            self.outs.append(out)
            return super().rmatmul(B, None if self.ignore_out else out)

    with Recording(X, threads=2) as op, Recording(X, threads=2, ignore_out=True) as fresh:
        got = S.randomized_svd(op, 10, n_iter=4)
        want = S.randomized_svd(fresh, 10, n_iter=4)
    assert len(op.outs) == 2 * 4 + 2 and op.outs[0] is None and all(o is not None for o in op.outs[1:])
    assert len({id(o) for o in op.outs[1:]}) == 2  # ping-pong between two blocks
    for x, y in zip(got, want):
        assert np.array_equal(x, y)


BLAS_PROBE = """
import numpy as np, scipy.sparse as sp
from threadpoolctl import threadpool_info
import embedcli.parallel as P
from embedcli.specs import SVDSpec
from embedcli.svd import truncated_svd

# as in the CLI, the solver loads scipy.linalg (and scipy's own OpenBLAS) itself, except on scipy < 1.12,
# whose scipy.sparse imports it
def blas():
    return sorted(i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas")
seen, real = [], P.SparseOperator._product
P.SparseOperator._product = lambda self, *a, **k: seen.append(blas()) or real(self, *a, **k)
X = sp.random(400, 300, density=0.05, format="csr", dtype=np.float32, random_state=0)
truncated_svd(X, SVDSpec(dim=10, workers=2, solver="SOLVER"))
print(len(seen), set(map(tuple, seen)), blas(), sep="|")
"""


@pytest.mark.parametrize("solver", ["krylov", "randomized"])
def test_blas_on_one_thread_while_the_products_run(solver):
    """OpenBLAS threads spin after each call and would take a core from the products: the
    float32 solvers limit BLAS (numpy's and scipy's own copy, which they load first) to one
    thread, and give the limit back afterwards.  In a fresh interpreter, as the CLI runs it."""
    import subprocess
    import sys

    env = {**os.environ, "OPENBLAS_NUM_THREADS": "2"}  # a multi-threaded BLAS even on a 1-core runner
    out = subprocess.run([sys.executable, "-c", BLAS_PROBE.replace("SOLVER", solver)], capture_output=True,
                         text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    n, during, after = out.stdout.strip().split("|")
    iters = SVDSpec(solver=solver).resolved().n_iter
    # a 400 x 300 matrix: krylov's blocks take two products each, half as many blocks
    assert int(n) == (iters + 2 if solver == "krylov" else 2 * iters + 2)
    assert during == "{(1, 1)}"  # both BLAS libraries, every product
    assert after == "[2, 2]"


def test_solvers_at_once_share_the_blas_limit_and_the_last_gives_it_back():
    """Two solvers overlapping in threads (A starts, B starts, A ends, B ends): BLAS stays on one
    thread until B ends, then the setting from before A is back."""
    from threadpoolctl import threadpool_info

    from embedcli.svd import blas_on_one_thread

    def blas():
        return sorted(i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas")

    before = blas()
    a, b = blas_on_one_thread(), blas_on_one_thread()
    a.__enter__()
    b.__enter__()
    assert set(blas()) == {1}
    a.__exit__(None, None, None)
    assert set(blas()) == {1}  # B still runs
    b.__exit__(None, None, None)
    assert blas() == before


def test_a_matrix_without_entries_and_an_operator_without_out():
    """No stored entry: no row block, yet products are zeros (even into a NaN-filled ``out``) and the
    singular values 0.  An operator whose ``matmul``/``rmatmul`` take no ``out=`` (as before they
    did) still works, with the same result."""
    import embedcli.svd as S
    from embedcli.parallel import SparseOperator

    empty = sp.csr_matrix((50, 40), dtype=np.float32)
    with SparseOperator(empty, threads=2) as op:
        buf = np.full((50, 3), np.nan, np.float32)
        assert op.matmul(np.ones((40, 3), np.float32), out=buf) is buf and not buf.any()
    assert not truncated_svd(empty, SVDSpec(dim=5))[1].any()

    X = _skewed_matrix()

    class Plain:
        def __init__(self, op):
            self.op, self.shape, self.dtype = op, op.shape, op.dtype

        def matmul(self, B):
            return self.op.matmul(B)

        def rmatmul(self, B):
            return self.op.rmatmul(B)

    with SparseOperator(X, threads=2) as op:
        want = S.randomized_svd(op, 10, n_iter=3)
        got = S.randomized_svd(Plain(op), 10, n_iter=3)
    for x, y in zip(got, want):
        assert np.array_equal(x, y)


def test_a_symmetric_matrix_is_tiled_once(small_tokens):
    """The default PPMI of a symmetric window is its own transpose up to rounding: its tiles
    serve both products, which still match scipy's; a square matrix that is not symmetric (cds
    0.75), or one changed in a single entry by 1e-4 of its norm, keeps two sets."""
    from embedcli.cooccur import cooccurrence_matrix
    from embedcli.parallel import SparseOperator
    from embedcli.specs import CooccurSpec, VocabSpec
    from embedcli.vocab import build_vocab

    counts = cooccurrence_matrix(str(small_tokens), build_vocab(str(small_tokens), VocabSpec(min_count=2)),
                                 CooccurSpec())
    C = np.random.default_rng(1).standard_normal((counts.shape[0], 5)).astype(np.float32)
    for cds, symmetric in ((1.0, True), (0.75, False)):
        X = ppmi(counts, cds=cds)
        with SparseOperator(X, threads=2) as op:
            assert op.symmetric is symmetric
            assert (op._tiles_t is op._tiles) is symmetric
            np.testing.assert_allclose(op.rmatmul(C), X.T @ C, rtol=1e-4, atol=1e-4)
    X = ppmi(counts).tolil()
    X[3, 7] += 1e-4 * sp.linalg.norm(X)
    with SparseOperator(X.tocsr()) as op:
        assert not op.symmetric


def test_the_symmetry_check_does_not_copy_a_float32_matrix():
    """``symmetric_to_rounding`` multiplies a float32 matrix by float32 vectors: a float64 ``R``
    made scipy copy the whole matrix to float64 first (0.2 s of the SVD stage on english-mix)."""
    import tracemalloc

    from embedcli.parallel import symmetric_to_rounding

    A = sp.random(3000, 3000, density=0.02, format="csr", dtype=np.float32, random_state=np.random.default_rng(0))
    X = (A + A.T).tocsr()
    tracemalloc.start()
    try:
        assert symmetric_to_rounding(X)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < X.data.nbytes  # a float64 copy alone takes twice its bytes
    X[0, 1] += 1e-3 * sp.linalg.norm(X)
    assert not symmetric_to_rounding(X)


@pytest.mark.parametrize("low", [-1, -5])
def test_renormalizing_once_a_round_only_while_the_scales_allow_it(monkeypatch, low):
    """One LU a round after the first on a matrix of gently decaying singular values; two (as
    scikit-learn) when they span 5 orders of magnitude, where skipping one loses accuracy in
    float32, or when a round's scale would overflow float32 (values near 1e20)."""
    import scipy.linalg as sl

    import embedcli.svd as S
    from embedcli.parallel import SparseOperator

    rng = np.random.default_rng(0)
    U, _ = np.linalg.qr(rng.standard_normal((400, 60)))
    V, _ = np.linalg.qr(rng.standard_normal((300, 60)))
    s = np.logspace(0, low, 60)
    X = sp.csr_matrix((U * s) @ V.T, dtype=np.float32)
    calls = []
    real = sl.lu
    monkeypatch.setattr(sl, "lu", lambda *a, **k: calls.append(1) or real(*a, **k))
    with SparseOperator(X) as op:
        got = S.randomized_svd(op, 30, n_iter=6)[1]
    assert len(calls) == (7 if low == -1 else 12)
    assert np.max(np.abs(got - s[:30]) / s[:30]) < 1e-5
    calls.clear()
    with SparseOperator(X * np.float32(1e20)) as op:
        large = S.randomized_svd(op, 30, n_iter=6)[1]
    assert len(calls) == 12 and np.max(np.abs(large / 1e20 - s[:30]) / s[:30]) < 1e-5
    if low == -5:  # the guard matters: always pairing is 100x less accurate here
        monkeypatch.setattr(S, "PAIR_SPREAD", np.inf)
        with SparseOperator(X) as op:
            worse = S.randomized_svd(op, 30, n_iter=6)[1]
        assert np.max(np.abs(worse - s[:30]) / s[:30]) > 1e-5


def test_cli_svd_outputs_satisfy_reconstruction_identity(small_tokens, tmp_path):
    """||X - X_k||_F^2 = sum_{i>k} sigma_i^2 for the vectors the CLI writes (W = U S, C = V)."""
    m = tmp_path / "m.npz"
    run("cooccur", small_tokens, "-o", m, "--min-count", "60", "-q")
    X = CountMatrix.load(str(m)).matrix.toarray().astype(np.float32)
    assert 50 < X.shape[0] < 400
    common = ("--weight", "none", "--dim", "10", "--solver", "arpack", "-q")
    run("svd", m, "-o", tmp_path / "w.npz", "--eig", "1", "--vectors", "w", *common)
    run("svd", m, "-o", tmp_path / "c.npz", "--eig", "0", "--vectors", "c", *common)
    W = Vectors.load(str(tmp_path / "w.npz"))
    C = Vectors.load(str(tmp_path / "c.npz"))
    sigma = np.linalg.svd(X.astype(np.float64), compute_uv=False)
    np.testing.assert_allclose(W.meta["singular_values"], sigma[:10], rtol=1e-4)
    err = np.linalg.norm(X - np.asarray(W.vectors, np.float64) @ np.asarray(C.vectors, np.float64).T) ** 2
    assert err == pytest.approx((sigma[10:] ** 2).sum(), rel=1e-3)


def test_cli_svd_ppmi_and_w_plus_c(small_tokens, tmp_path):
    m = tmp_path / "m.npz"
    run("cooccur", small_tokens, "-o", m, "--min-count", "5", "-q")
    res = run("svd", m, "-o", tmp_path / "v.txt", "--dim", "20", "--vectors", "w+c")
    assert "singular values" in res.stderr
    v = Vectors.load(str(tmp_path / "v.txt"))
    assert v.dim == 20 and v.words[0] == "the"
    res = run("svd", m, "-o", tmp_path / "v.npz", "--dim", "20", "--solver", "arpack", "-q")
    meta = Vectors.load(str(tmp_path / "v.npz")).meta
    prov = meta["provenance"]
    assert prov["spec"]["solver"] == "arpack" and prov["inputs"]["matrix"]["inputs"]["vocabulary"]["spec"]["min_count"] == 5
    assert len(meta["singular_values"]) == 20 and meta["singular_values"] == sorted(meta["singular_values"], reverse=True)


def test_dim_too_large_is_a_usage_error(small_tokens, tmp_path):
    m = tmp_path / "m.npz"
    run("cooccur", small_tokens, "-o", m, "--min-count", "200", "-q")
    n = CountMatrix.load(str(m)).matrix.shape[0]
    for dim in (n, n + 5, 0):
        res = run("svd", m, "-o", tmp_path / "v.npz", "--dim", dim, ok=False)
        assert res.exit_code == 2 and "--dim" in res.stderr and "Traceback" not in res.stderr
        assert not (tmp_path / "v.npz").exists()


def test_log_entropy_of_a_term_in_every_document_is_zero_not_negative(tmp_path):
    """A term spread evenly over all N documents has entropy weight 1 - ln N / ln N = 0; rounding gave
    -2.2e-16 for N = 5 (85 of N = 2..199, also with --binary for any term in every document), and
    svd then refused the matrix as holding negative values."""
    tokens = tmp_path / "t.txt"
    tokens.write_text("".join(f"every doc{i} word{i % 2} word{i % 3}\n" for i in range(5)))
    for extra in ((), ("--binary",)):
        run("termdoc", tokens, "--weighting", "log-entropy", *extra, "-o", tmp_path / "td.npz", "-q")
        cm = CountMatrix.load(str(tmp_path / "td.npz"))
        assert cm.term_weights[cm.row_words.index("every")] == 0 and cm.matrix.data.min() > 0
        run("svd", tmp_path / "td.npz", "--dim", "2", "-o", tmp_path / "lsa.npz", "-q")


def test_termdoc_lsa(small_tokens, tmp_path):
    m = tmp_path / "td.npz"
    for weighting in ("count", "tfidf", "log-entropy"):
        run("termdoc", small_tokens, "-o", m, "--weighting", weighting, "--min-count", "2", "-q")
        cm = CountMatrix.load(str(m))
        assert cm.kind == "termdoc" and cm.matrix.shape[1] == 20 and cm.col_words[0] == "d1"
    tf = CountMatrix.load(str(m)).matrix
    run("termdoc", small_tokens, "-o", m, "--min-count", "2", "-q")
    counts = CountMatrix.load(str(m))
    lines = small_tokens.read_text().splitlines()
    i = counts.row_words.index("constitution")
    assert counts.matrix[i, 0] == lines[0].split().count("constitution")
    assert tf.shape == counts.matrix.shape
    # --binary: presence.  Counts become 1; tf-idf of presence is idf alone; document lengths stay token counts
    run("termdoc", small_tokens, "-o", tmp_path / "b.npz", "--min-count", "2", "--binary", "-q")
    binary = CountMatrix.load(str(tmp_path / "b.npz"))
    top = int(counts.matrix[:, 0].toarray().argmax())  # the most frequent term of the first document
    assert binary.matrix[top, 0] == 1 and counts.matrix[top, 0] > 1
    assert (binary.matrix != (counts.matrix > 0)).nnz == 0 and np.array_equal(binary.col_counts, counts.col_counts)
    run("termdoc", small_tokens, "-o", tmp_path / "bt.npz", "--min-count", "2", "--binary", "--weighting", "tfidf",
        "-q")
    bt = CountMatrix.load(str(tmp_path / "bt.npz"))
    df = np.asarray((counts.matrix > 0).sum(axis=1)).ravel()
    rare = int(np.argmax(np.where(df < 20, counts.matrix[:, 0].toarray().ravel(), 0)))  # idf > 0
    assert counts.matrix[rare, 0] > 1
    np.testing.assert_allclose(bt.matrix[rare, 0], np.log(20 / df[rare]))
    assert bt.matrix[rare, 0] > 0
    assert bt.provenance["spec"]["binary"] is True and "binary" in cm.provenance["spec"]
    run("svd", m, "-o", tmp_path / "lsa.npz", "--weight", "none", "--dim", "5", "-q")
    docs = Vectors.load(str(tmp_path / "lsa.docs.npz"))
    terms = Vectors.load(str(tmp_path / "lsa.npz"))
    assert docs.words == [f"d{j}" for j in range(1, 21)] and docs.dim == 5 and len(terms) == counts.matrix.shape[0]


def test_cli_preset_sets_defaults_and_explicit_options_win(small_tokens, tmp_path):
    """``--preset quality`` switches the solver to ARPACK; an option given explicitly keeps its value."""
    from embedcli.specs import PRESETS

    assert PRESETS["quality"] == {"solver": "arpack"}
    m = tmp_path / "m.npz"
    run("cooccur", small_tokens, "-o", m, "--min-count", "20", "-q")
    run("svd", m, "-o", tmp_path / "q.npz", "--dim", "8", "--preset", "quality", "-q")
    run("svd", m, "-o", tmp_path / "r.npz", "--dim", "8", "--preset", "quality", "--solver", "randomized", "-q")
    run("svd", m, "-o", tmp_path / "d.npz", "--dim", "8", "-q")
    spec = {n: Vectors.load(str(tmp_path / f"{n}.npz")).meta["provenance"]["spec"] for n in "qrd"}
    assert spec["q"]["solver"] == "arpack" and spec["r"]["solver"] == "randomized"
    assert spec["d"]["solver"] == "krylov" and spec["d"]["n_iter"] == 24 and spec["d"]["eig"] == 0.25
    assert spec["d"]["block_size"] == 4  # recorded as applied: 0.4 x dim 8, rounded up
    assert spec["r"]["n_iter"] == 15 and spec["q"]["n_iter"] is None  # arpack has no iterations to set
    res = run("svd", m, "-o", tmp_path / "x.npz", "--preset", "best", ok=False)
    assert res.exit_code == 2 and "--preset" in res.stderr


def test_svd_records_the_energy_it_captures(tmp_path, small_tokens):
    """Eckart-Young: sum of the kept sigma^2 over ||X||_F^2, growing with --dim, at most 1."""
    import json as _json

    from conftest import run

    run("cooccur", small_tokens, "--min-count", "5", "-o", tmp_path / "m.npz", "-q")
    got = []
    for dim in (5, 40):
        run("svd", tmp_path / "m.npz", "--dim", dim, "--solver", "arpack", "-o", tmp_path / f"v{dim}.npz", "-q")
        info = _json.loads(run("info", tmp_path / f"v{dim}.npz").stdout)
        got.append(info["energy_captured"])
    assert 0 < got[0] < got[1] <= 1.0 + 1e-6, got


def test_weighting_parameters_are_applied_or_refused_and_recorded_as_applied(small_tokens, tmp_path):
    """cds and the shift act on PMI only: with none/log they are refused, not silently recorded;
    sppmi records the shift it applied; the library's ppmi() has the CLI's default cds (1)."""
    m = tmp_path / "m.npz"
    run("cooccur", small_tokens, "-o", m, "--min-count", 3, "-q")
    for assoc, opt, val in (("log", "--cds", "0.5"), ("none", "--negative", "5"), ("log", "--negative", "2")):
        res = run("svd", m, "-o", tmp_path / "v.npz", "--association", assoc, opt, val, "--dim", 5, ok=False)
        assert res.exit_code == 2 and opt in res.stderr and assoc in res.stderr, res.stderr
        assert not (tmp_path / "v.npz").exists()
    run("svd", m, "-o", tmp_path / "s.npz", "--association", "sppmi", "--dim", 5, "-q")
    assert Vectors.load(str(tmp_path / "s.npz")).provenance["spec"]["negative"] == 5
    cm = CountMatrix.load(str(m))
    assert (ppmi(cm.matrix) != reweight(cm.matrix, WeightingSpec(association="ppmi"))).nnz == 0
    # a term-document matrix resolves to none: a cds given for it is named
    from embedcli.errors import ParameterError
    from embedcli.svd import resolve_weighting

    with pytest.raises(ParameterError, match="cds"):
        resolve_weighting(WeightingSpec(cds=0.75), "termdoc")


def test_the_kernel_lookup_is_one_answer_for_threads_that_ask_at_once(monkeypatch):
    """The products' threads ask for scipy's in-place kernel at once when a process multiplies for the
    first time; one that saw the lookup half-done took the public product, whose sums round
    differently, so the first product of a process differed in the last bits between runs."""
    import threading
    import time

    import embedcli.parallel as P

    real = P.np.array_equal

    def slow(*a, **k):  # the lookup's check, slowed so that the other threads arrive meanwhile
        time.sleep(0.2)
        return real(*a, **k)

    monkeypatch.setattr(P, "_KERNEL", False)
    monkeypatch.setattr(P.np, "array_equal", slow)
    start, got = threading.Barrier(6), []

    def ask():
        start.wait()
        got.append(P._kernel())

    threads = [threading.Thread(target=ask) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == 6 and got[0] is not None and all(g is got[0] for g in got)


def test_factorize_can_release_the_counts_during_the_svd(small_tokens, tmp_path):
    """The pipeline lets factorize drop the count matrix once it is reweighted (its memory is free
    during the SVD): the same vectors, and the matrix object is no longer held."""
    from embedcli.svd import factorize

    m = tmp_path / "m.npz"
    run("cooccur", small_tokens, "-o", m, "--min-count", "20", "-q")
    kept, released = CountMatrix.load(str(m)), CountMatrix.load(str(m))
    a, _ = factorize(kept, spec=SVDSpec(dim=8))
    b, _ = factorize(released, spec=SVDSpec(dim=8), release_counts=True)
    assert kept.matrix is not None and released.matrix is None
    assert np.array_equal(a.vectors, b.vectors) and a.provenance == b.provenance


def test_the_float32_solvers_run_inside_heap_reuse(monkeypatch):
    """truncated_svd's krylov and randomized solvers allocate the same temporaries every step: in
    the CLI they run inside memory.heap_reuse (warm heap memory instead of fresh pages)."""
    import contextlib

    import embedcli.svd as S

    state, seen = [], []

    @contextlib.contextmanager
    def spy():
        state.append("in")
        yield
        state.append("out")

    real_krylov, real_randomized = S.block_krylov_svd, S.randomized_svd
    monkeypatch.setattr(S, "heap_reuse", spy)
    monkeypatch.setattr(S, "block_krylov_svd", lambda *a, **k: (seen.append(state[-1]), real_krylov(*a, **k))[1])
    monkeypatch.setattr(S, "randomized_svd", lambda *a, **k: (seen.append(state[-1]), real_randomized(*a, **k))[1])
    X = sp.random(300, 300, density=0.05, format="csr", random_state=np.random.default_rng(0), dtype=np.float32)
    for solver in ("krylov", "randomized"):
        truncated_svd(X + X.T, SVDSpec(dim=5, solver=solver))
    assert seen == ["in", "in"] and state == ["in", "out", "in", "out"]


def test_factorize_frees_the_reweighted_matrix_during_the_solve(monkeypatch):
    """The float32 solvers multiply the operator's tiles, a copy of the reweighted matrix's
    non-zeros: factorize keeps no reference to the matrix itself during the solve (64 MB on
    english-mix's PPMI), and still zeroes the vectors of empty rows and columns."""
    import gc
    import weakref

    import embedcli.svd as S
    import embedcli.weighting as W

    refs, alive = [], []
    real_reweight, real_krylov = W.reweight, S.block_krylov_svd

    def reweight(*a, **k):
        X = real_reweight(*a, **k)
        refs.append(weakref.ref(X.data))
        return X

    def krylov(*a, **k):
        gc.collect()
        alive.append(refs[-1]() is not None)
        return real_krylov(*a, **k)

    monkeypatch.setattr(W, "reweight", reweight)
    monkeypatch.setattr(S, "block_krylov_svd", krylov)
    rng = np.random.default_rng(0)
    A = sp.random(200, 200, density=0.1, format="csr", random_state=rng) * 10
    A = (A + A.T).tolil()
    A[7, :] = 0
    A[:, 7] = 0
    words = [f"w{i}" for i in range(200)]
    counts = np.asarray(A.sum(axis=1)).ravel() + 1
    cm = CountMatrix(A.tocsr(), words, words, counts, counts, "cooccurrence")
    wv, _ = S.factorize(cm, WeightingSpec(), SVDSpec(dim=10, solver="krylov"))
    assert alive == [False]
    assert not wv.vectors[7].any() and wv.vectors[8].any()


def test_svd_probe_measures_the_products_and_the_error(sample_run):
    """benchmarks/svd_probe.py (ratios.py's svd line): every product of the default solver timed,
    and its singular values far closer to ARPACK's than the randomized solver's at 5 iterations."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    out, _ = sample_run
    probe = Path(__file__).resolve().parents[1] / "benchmarks" / "svd_probe.py"
    r = subprocess.run([sys.executable, str(probe), str(out / "cooccur.npz"), "--reference"],
                       capture_output=True, text=True, check=True)
    d = json.loads(r.stdout)
    spec = SVDSpec().resolved(CountMatrix.load(str(out / "cooccur.npz")).matrix.shape)
    assert spec.solver == "krylov" and d["products"] == spec.n_iter + 2  # block Lanczos on the symmetric PPMI
    assert 0 < d["product_wall"] < d["solve_wall"] and d["product_cpu"] > 0
    assert len(d["s"]) == SVDSpec().dim and d["s"] == sorted(d["s"], reverse=True)
    assert d["error_default"] < 0.01 and d["error_default"] < d["error_randomized5"]


def test_ppmi_in_row_spans_is_the_whole_array_formula(monkeypatch):
    """ppmi reweights in row spans of PPMI_CHUNK entries (warm temporaries): the same bits as the
    formula applied to the whole array at once, spans cutting anywhere, empty rows included."""
    import embedcli.weighting as W

    rng = np.random.default_rng(3)
    C = sp.random(60, 50, density=0.2, random_state=4, format="csr") * 100
    C.data = np.floor(C.data) + 1
    C[7] = 0  # an empty row
    C = sp.csr_matrix(C)
    C.eliminate_zeros()

    def whole(m, cds, neg):
        row_sums = np.asarray(m.sum(axis=1), dtype=np.float64).ravel()
        col_smoothed = np.asarray(m.sum(axis=0), dtype=np.float64).ravel() ** cds
        total = row_sums.sum()
        with np.errstate(divide="ignore"):
            log_pc = (np.log(col_smoothed) - np.log(col_smoothed.sum())).astype(np.float32)
            log_pw = (np.log(row_sums) - np.log(total) + np.log(neg)).astype(np.float32)
        pmi = np.log(m.data.astype(np.float32)) + np.float32(-np.log(total))
        pmi -= np.repeat(log_pw, np.diff(m.indptr))
        pmi -= log_pc[m.indices]
        out = sp.csr_matrix((np.maximum(pmi, 0), m.indices.copy(), m.indptr.copy()), shape=m.shape)
        out.eliminate_zeros()
        return out

    for chunk in (1, 7, int(rng.integers(2, 50)), 1 << 20):
        monkeypatch.setattr(W, "PPMI_CHUNK", chunk)
        for cds, neg in ((1.0, 1.0), (0.75, 5.0)):
            got, ref = ppmi(C, cds=cds, neg=neg), whole(C, cds, neg)
            assert got.dtype == np.float32 and got.has_sorted_indices
            for a in ("data", "indices", "indptr"):
                assert np.array_equal(getattr(got, a), getattr(ref, a)), (chunk, cds, a)


def test_empty_lines_and_squared_norm_in_pieces():
    """factorize's empty rows and columns (marked, not counted) and ||X||_F^2 summed in chunks."""
    from embedcli.svd import _empty_lines, _squared_norm

    X = sp.csr_matrix(np.array([[0, 2, 0, 0], [0, 0, 0, 0], [1, 0, 0, 3]], np.float32))
    rows, cols = _empty_lines(X)
    assert rows.tolist() == [1] and cols.tolist() == [2]
    X.data[0] = 0  # an explicit zero counts as empty
    assert [a.tolist() for a in _empty_lines(X)] == [[0, 1], [1, 2]]
    d = np.random.default_rng(0).standard_normal(10_001).astype(np.float32)
    assert np.isclose(_squared_norm(d, chunk=1000), np.square(d, dtype=np.float64).sum(), rtol=1e-12)
    assert _squared_norm(np.zeros(0, np.float32)) == 0.0
