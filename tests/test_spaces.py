"""Whole spaces: export to the Embedding Projector's TSV files, through the CLI."""

import json

import numpy as np

from conftest import run

from embedcli.vectors import Vectors


def test_export_projector_files_load_back(tmp_path, sample_run):
    out, _ = sample_run
    v = Vectors.load(str(out / "vectors.npz"))
    res = run("export", out / "vectors.npz", "--top", "50", "-o", tmp_path / "p")
    assert "50 x" in res.stderr
    X = np.loadtxt(tmp_path / "p" / "vectors.tsv", delimiter="\t", dtype=np.float64)
    assert X.shape == (50, v.dim)
    assert np.array_equal(X.astype(np.float32), np.asarray(v.vectors[:50]))  # float32 read back exactly
    meta = (tmp_path / "p" / "metadata.tsv").read_text(encoding="utf-8").splitlines()
    assert meta == v.words[:50]  # one column: no header


def test_export_projector_label_columns_have_a_header(tmp_path):
    words = ["alpha", "beta", "gamma", "delta"]
    src = tmp_path / "v.txt"
    Vectors(words, np.arange(12, dtype=np.float32).reshape(4, 3)).save(str(src))
    (tmp_path / "topic.tsv").write_text("alpha\tx\nalpha\ty\ngamma\tz\n")
    (tmp_path / "pos.txt").write_text("beta noun\n")
    run("export", src, "--labels", tmp_path / "topic.tsv", "--labels", tmp_path / "pos.txt", "-o", tmp_path / "p",
        "-q")
    rows = [r.split("\t") for r in (tmp_path / "p" / "metadata.tsv").read_text().splitlines()]
    assert rows == [["key", "topic", "pos"], ["alpha", "x|y", ""], ["beta", "", "noun"], ["gamma", "z", ""],
                    ["delta", "", ""]]
    assert len((tmp_path / "p" / "vectors.tsv").read_text().splitlines()) == 4


def test_export_errors_are_one_line(tmp_path):
    src = tmp_path / "v.txt"
    Vectors(["a", "b"], np.ones((2, 3), dtype=np.float32)).save(str(src))
    (tmp_path / "file").write_text("x")
    res = run("export", src, "-o", tmp_path / "file", ok=False)
    assert res.exit_code == 2 and "not a folder" in res.stderr
    (tmp_path / "bad.tsv").write_text("a\tx\nlonely\n")
    res = run("export", src, "--labels", tmp_path / "bad.tsv", "-o", tmp_path / "p", ok=False)
    assert res.exit_code == 3 and "bad.tsv:2" in res.stderr and not (tmp_path / "p" / "metadata.tsv").exists()
    res = run("export", src, "--format", "csv", "-o", tmp_path / "p", ok=False)
    assert res.exit_code == 2


def _rotated_pair(tmp_path, n=300, dim=12, seed=0):
    """The same random space under two random rotations: A = M Q1, B = M Q2."""
    from scipy.stats import ortho_group

    rng = np.random.default_rng(seed)
    M = rng.standard_normal((n, dim)).astype(np.float64)
    Q1, Q2 = ortho_group.rvs(dim, size=2, random_state=seed)
    words = [f"w{i}" for i in range(n)]
    a, b = tmp_path / "a.npz", tmp_path / "b.npz"
    Vectors(words, (M @ Q1).astype(np.float32), np.arange(n, 0, -1)).save(str(a))
    Vectors(words, (M @ Q2).astype(np.float32), np.arange(n, 0, -1)).save(str(b))
    return a, b, Q1.T @ Q2, words


def test_align_recovers_a_rotation_and_queries_cross_spaces(tmp_path):
    a, b, R, words = _rotated_pair(tmp_path)
    (tmp_path / "seed.tsv").write_text("".join(f"{w}\t{w}\n" for w in words[:100]))
    (tmp_path / "test.tsv").write_text("".join(f"{w}\t{w}\n" for w in words[100:]))
    for norm in ("none", "unit-center-unit"):
        out = tmp_path / f"al-{norm}.npz"
        res = run("align", a, b, "--dictionary", tmp_path / "seed.tsv", "--normalization", norm, "-o", out)
        assert "100 seed pairs" in res.stderr
        v = Vectors.load(str(out))
        assert np.abs(np.asarray(v.meta["alignment"]["rotation"]) - R).max() < 1e-5
        assert v.provenance["stage"] == "align" and v.provenance["inputs"]["dictionary"]["path"]
        assert v.provenance["inputs"]["dictionary"]["size"] > 0  # which version of the dictionary
    # info shows the 12 x 12 maps by their shape (a 300-dim alignment printed 180k lines); --full prints them
    meta = json.loads(run("info", out).stdout)
    assert meta["alignment"]["rotation"] == {"shape": [12, 12], "omitted": "numbers left out; embedcli info --full prints them"}
    assert np.asarray(json.loads(run("info", out, "--full").stdout)["alignment"]["rotation"]).shape == (12, 12)
    out = tmp_path / "al-none.npz"
    got = run("neighbors", out, "w150", "w7", "--target", b, "-k", "2").stdout.splitlines()
    assert [r.split("\t")[1] for r in got[::2]] == ["w150", "w7"]
    got = run("neighbors", out, "w150", "--target", b, "--csls", "5", "--format", "json").stdout
    assert json.loads(got)["neighbors"][0]["word"] == "w150"
    # the value is CSLS itself (Conneau et al. 2018): 2 cos(x, y) - r_T(x) - r_S(y), k = 5
    A = np.asarray(Vectors.load(str(out)).vectors, np.float64)
    T = np.asarray(Vectors.load(str(b)).vectors, np.float64)
    A /= np.linalg.norm(A, axis=1, keepdims=True)
    T /= np.linalg.norm(T, axis=1, keepdims=True)
    x, y = A[150], T[150]
    r_x, r_y = np.sort(T @ x)[-5:].mean(), np.sort(A @ y)[-5:].mean()
    assert abs(json.loads(got)["neighbors"][0]["similarity"] - (2 * x @ y - r_x - r_y)) < 1e-4
    rep = json.loads(run("evaluate", out, "--target", b, "--dictionary", tmp_path / "test.tsv", "--format",
                         "json").stdout)
    assert rep["covered"] == 200 and rep["nn"]["p@1"] == 1.0 and rep["csls"]["p@1"] == 1.0
    table = run("evaluate", out, "--target", b, "--dictionary", tmp_path / "test.tsv").stdout
    assert "csls k=10" in table and "200 of 200" in table
    rep = json.loads(run("evaluate", out, "--target", b, "--dictionary", tmp_path / "test.tsv", "--restrict", 150,
                         "--format", "json").stdout)  # candidates: the first 150 target words (it was ignored)
    assert rep["covered"] == 50 and rep["nn"]["p@1"] == 1.0 and rep["restrict"] == 150
    # the same words with other vectors (another model of the corpus) is not the target it was aligned onto
    res = run("evaluate", out, "--target", a, "--dictionary", tmp_path / "test.tsv", ok=False)
    assert res.exit_code == 3 and "other vectors" in res.stderr
    res = run("evaluate", out, "--target", b, ok=False)
    assert res.exit_code == 2 and "--dictionary" in res.stderr


def test_align_multistep_and_refinement(tmp_path):
    a, b, _, words = _rotated_pair(tmp_path, n=400, dim=8, seed=1)
    (tmp_path / "seed.tsv").write_text("".join(f"{w}\t{w}\n" for w in words[:30]))
    (tmp_path / "test.tsv").write_text("".join(f"{w}\t{w}\n" for w in words[200:]))
    out = tmp_path / "ms.npz"
    run("align", a, b, "--dictionary", tmp_path / "seed.tsv", "--method", "multistep", "-o", out, "-q")
    assert Vectors.load(str(out)).meta["alignment"]["target_map"] is not None
    rep = json.loads(run("evaluate", out, "--target", b, "--dictionary", tmp_path / "test.tsv", "--format",
                         "json").stdout)
    assert rep["nn"]["p@1"] == 1.0  # the target map is applied by the query
    out = tmp_path / "ref.npz"
    res = run("align", a, b, "--dictionary", tmp_path / "seed.tsv", "--refine", "2", "--refine-vocab", "300",
              "-o", out)
    info = Vectors.load(str(out)).meta["alignment"]
    assert info["seed_pairs"] == 30 and info["pairs"] > 250 and "after 2 refinement rounds" in res.stderr


def test_align_errors_are_one_line(tmp_path):
    a, b, _, _ = _rotated_pair(tmp_path)
    other = tmp_path / "c.txt"
    Vectors(["x", "y"], np.ones((2, 5), dtype=np.float32)).save(str(other))
    res = run("align", a, other, "-o", tmp_path / "o.npz", ok=False)
    assert res.exit_code == 3 and "12 and 5 dimensions" in res.stderr
    (tmp_path / "bad.tsv").write_text("w1\tw1\nw2\n")
    res = run("align", a, b, "--dictionary", tmp_path / "bad.tsv", "-o", tmp_path / "o.npz", ok=False)
    assert res.exit_code == 3 and "bad.tsv:2" in res.stderr
    (tmp_path / "few.tsv").write_text("".join(f"w{i}\tw{i}\n" for i in range(5)))
    res = run("align", a, b, "--dictionary", tmp_path / "few.tsv", "-o", tmp_path / "few.npz")
    assert "only 5 seed pairs for 12 dimensions" in res.stderr
    (tmp_path / "none.tsv").write_text("zz\tqq\n")
    res = run("align", a, b, "--dictionary", tmp_path / "none.tsv", "-o", tmp_path / "o.npz", ok=False)
    assert res.exit_code == 3 and "no seed pair" in res.stderr and not (tmp_path / "o.npz").exists()


def test_cross_space_queries_check_their_target(tmp_path):
    a, b, _, words = _rotated_pair(tmp_path)
    out = tmp_path / "al.npz"
    run("align", a, b, "-o", out, "-q")  # seeds: the shared words
    got = run("neighbors", out, "W3", "--target", b, "-k", "1").stdout.splitlines()
    assert got[0].split("\t")[:2] == ["W3", "w3"]  # lowercased as every query, unless --verbatim
    rec = json.loads(run("neighbors", out, "w3 w3 -w4", "--target", b, "-k", "1", "--format", "json").stdout)
    assert rec["query"] == "w3 w3 -w4" and len(rec["neighbors"]) == 1 and "similarity" in rec["neighbors"][0]
    res = run("neighbors", out, "zzz", "w1", "--target", b, "--skip-unknown")
    assert res.stdout.splitlines()[0].split("\t")[0] == "w1"
    small = tmp_path / "small.txt"
    Vectors(["x", "y", "z"], np.eye(3, 12, dtype=np.float32)).save(str(small))
    res = run("neighbors", out, "w1", "--target", small, ok=False)
    assert res.exit_code == 3 and "not the space" in res.stderr and "Traceback" not in res.output
    res = run("neighbors", a, "w1", "--target", b, ok=False)
    assert res.exit_code == 3 and "not an aligned space" in res.stderr
    (tmp_path / "d.tsv").write_text("w1\tw1\n")
    res = run("evaluate", out, "--dictionary", tmp_path / "d.tsv", ok=False)
    assert res.exit_code == 2 and "--target" in res.stderr
    res = run("neighbors", a, "w1", "--csls", "10", ok=False)
    assert res.exit_code == 2 and "--target" in res.stderr


def test_drift_ranks_the_words_that_moved_first(tmp_path):
    from scipy.stats import ortho_group

    rng = np.random.default_rng(3)
    n, dim = 300, 16
    M = rng.standard_normal((n, dim)).astype(np.float32)
    B = (M @ ortho_group.rvs(dim, random_state=3) + 0.05 * rng.standard_normal((n, dim))).astype(np.float32)
    moved = [10, 50, 120, 200, 280]
    B[moved] = rng.standard_normal((len(moved), dim))
    words = [f"w{i}" for i in range(n)]
    counts = np.full(n, 100)
    counts[7] = 10  # below --min-count: not ranked
    Vectors(words, M, counts).save(str(tmp_path / "a.npz"))
    Vectors(words, B, counts).save(str(tmp_path / "b.npz"))
    for measure in ("cosine", "local"):
        res = run("drift", tmp_path / "a.npz", tmp_path / "b.npz", "--measure", measure, "-k", "10", "--top", "5")
        rows = [r.split("\t") for r in res.stdout.splitlines()]
        assert rows[0] == ["rank", "word", "local", "cosine", "local_z", "cosine_z", "count_a", "count_b"]
        assert {r[1] for r in rows[1:]} == {f"w{i}" for i in moved}, (measure, rows)
        assert "299 words" in res.stderr
    recs = [json.loads(x) for x in run("drift", tmp_path / "a.npz", tmp_path / "b.npz", "--format", "json",
                                       "-q").stdout.splitlines()]
    assert len(recs) == 299 and recs[0]["rank"] == 1 and "w7" not in {r["word"] for r in recs}
    res = run("drift", tmp_path / "a.npz", tmp_path / "b.npz", "--min-count", "1000", ok=False)
    assert res.exit_code == 3 and "--min-count" in res.stderr


def test_align_and_drift_on_real_vectors(tmp_path, sample_run):
    """Two SVDs of the bundled corpus's matrix (different eigenvalue weighting and seed): aligning one
    onto the other over half the frequent words translates the other half onto themselves."""
    out, _ = sample_run
    a, b = out / "vectors.npz", tmp_path / "b.npz"
    run("svd", out / "cooccur.npz", "--eig", "0.5", "--seed", "2", "-o", b, "-q")
    words = Vectors.load(str(a)).words[50:850]
    (tmp_path / "seed.tsv").write_text("".join(f"{w}\t{w}\n" for w in words[::2]))
    (tmp_path / "test.tsv").write_text("".join(f"{w}\t{w}\n" for w in words[1::2]))
    run("align", a, b, "--dictionary", tmp_path / "seed.tsv", "-o", tmp_path / "al.npz", "-q")
    rep = json.loads(run("evaluate", tmp_path / "al.npz", "--target", b, "--dictionary", tmp_path / "test.tsv",
                         "--format", "json").stdout)
    assert rep["covered"] == 400 and rep["csls"]["p@1"] > 0.8 and rep["nn"]["p@10"] > 0.9, rep
    rows = run("drift", a, b, "--top", "10", "-q").stdout.splitlines()
    assert len(rows) == 11 and rows[0].startswith("rank\tword")


def test_library_align_bli_and_drift(tmp_path):
    from embedcli.align import align, bli_scores, drift
    from embedcli.specs import AlignSpec, DriftSpec

    a, b, R, words = _rotated_pair(tmp_path)
    A, B = Vectors.load(str(a)), Vectors.load(str(b))
    v, info = align(A, B, AlignSpec(normalization="none"), [(w, w) for w in words[:50]])
    assert v.vectors.shape == (300, 12) and v.vectors.dtype == np.float32 and info["seed_pairs"] == 50
    assert np.abs(np.asarray(info["rotation"]) - R).max() < 1e-5
    assert bli_scores(v, B, [(w, w) for w in words[50:]])["nn"]["p@1"] == 1.0
    res = drift(A, B, DriftSpec(min_count=0, k=5))
    assert len(res["words"]) == 300 and np.allclose(res["cosine"], 0, atol=1e-4)  # a rotation moves nothing


def test_drift_frequency_control_ranks_moved_words_above_noisy_rare_ones():
    """Rare words move by noise; three frequent words move less than that noise but far more than
    words of their own frequency: the z-scores within frequency bins find them, the raw measure not."""
    from embedcli.align import binned_z, drift, frequency_bins
    from embedcli.specs import DriftSpec

    rng = np.random.default_rng(0)
    n, dim = 600, 20
    counts = np.where(np.arange(n) < 300, 5000, 60)  # 300 frequent, 300 rare words
    M = rng.standard_normal((n, dim)).astype(np.float32)
    noise = np.where(counts[:, None] > 1000, 0.05, 0.8)
    B = (M + noise * rng.standard_normal((n, dim))).astype(np.float32)
    moved = [5, 77, 150]
    B[moved] = M[moved] + 0.5 * rng.standard_normal((3, dim))
    words = [f"w{i}" for i in range(n)]
    A_, B_ = Vectors(words, M, counts), Vectors(words, B, counts)
    z = drift(A_, B_, DriftSpec(min_count=0, k=10))
    raw = drift(A_, B_, DriftSpec(min_count=0, k=10, frequency_bins=0))
    assert set(z["words"][:3]) == {f"w{i}" for i in moved}
    assert not set(raw["words"][:3]) & {f"w{i}" for i in moved}
    assert np.allclose(sorted(z["cosine"]), sorted(raw["cosine"]))  # the same measure, another order
    # bins: ties share a bin; too few words for the bins asked -> fewer bins
    assert len(np.unique(frequency_bins(counts.astype(float), 20))) == 2
    assert (frequency_bins(np.arange(1, 41, dtype=float), 20) == 0).all()  # 40 words: one bin of >= 25
    x = np.array([1.0, 2.0, 3.0, 4.0, 100.0])
    assert binned_z(x, np.zeros(5, dtype=np.int64))[2] == 0.0


def test_drift_dim_keeps_the_largest_singular_directions(tmp_path, sample_run):
    from embedcli.align import drift
    from embedcli.specs import DriftSpec

    out, _ = sample_run
    a = out / "vectors.npz"
    run("svd", out / "cooccur.npz", "--seed", "2", "-o", tmp_path / "b.npz", "-q")
    run("svd", out / "cooccur.npz", "--seed", "2", "--dim", "40", "-o", tmp_path / "b40.npz", "-q")
    run("svd", out / "cooccur.npz", "--dim", "40", "-o", tmp_path / "a40.npz", "-q")
    cut = run("drift", a, tmp_path / "b.npz", "--dim", "40", "--min-count", "20", "--format", "json", "-q").stdout
    own = run("drift", tmp_path / "a40.npz", tmp_path / "b40.npz", "--min-count", "20", "--format", "json",
              "-q").stdout
    x = {r["word"]: r["cosine"] for r in map(json.loads, cut.splitlines())}
    y = {r["word"]: r["cosine"] for r in map(json.loads, own.splitlines())}
    assert x.keys() == y.keys()
    # the same matrix twice (two solver seeds): nothing moved, whether cut to 40 dimensions or factorized
    # with 40 (the top directions of a 100-dimension solve agree closer than a 40-dimension solve's)
    assert max(x.values()) < 1e-3 and max(y.values()) < 0.1
    A, B = Vectors.load(str(a)), Vectors.load(str(tmp_path / "b.npz"))
    manual = drift(Vectors(A.words, np.ascontiguousarray(A.vectors[:, :40]), A.counts),
                   Vectors(B.words, np.ascontiguousarray(B.vectors[:, :40]), B.counts), DriftSpec(min_count=20))
    assert all(abs(x[w] - c) < 1e-5 for w, c in zip(manual["words"], manual["cosine"]))
    Vectors(["a", "b"], np.ones((2, 100), dtype=np.float32), np.array([99, 99])).save(str(tmp_path / "w.txt"))
    res = run("drift", a, tmp_path / "w.txt", "--dim", "40", ok=False)
    assert res.exit_code == 2 and "--dim" in res.stderr and "singular values" in res.stderr


def test_align_names_pairs_that_are_not_pairs():
    """A flat word list where pairs are expected is a TypeError saying what pairs look like (it was
    'too many values to unpack')."""
    import numpy as np
    import pytest

    from embedcli.align import align, pair_indices
    from embedcli.vectors import Vectors

    v = Vectors(["war", "peace", "army"], np.eye(3, dtype=np.float32))
    for bad in (["war", "peace"], [("war",)]):
        with pytest.raises(TypeError, match=r"\(source word, target word\) pairs"):
            align(v, v, pairs=bad)
    assert [list(x) for x in pair_indices([("war", "peace")], v, v)] == [[0], [1]]


def test_drift_with_a_space_without_counts(tmp_path, sample_run):
    """min_count 0 lets a text-format space (no counts) be compared: no traceback, empty count
    fields, and two copies of one space show no drift (z-scores stay small)."""
    out, _ = sample_run
    v = Vectors.load(str(out / "vectors.npz"))
    v.save(str(tmp_path / "v.txt"), "word2vec")
    res = run("drift", out / "vectors.npz", tmp_path / "v.txt", "--min-count", 0, "--top", 5, "-q")
    rows = [line.split("\t") for line in res.stdout.splitlines()[1:]]
    assert len(rows) == 5 and all(r[7] == "" and r[6] != "" for r in rows)
    assert all(abs(float(r[5])) < 10 for r in rows)


def test_drift_of_spaces_that_share_no_words_says_so(tmp_path):
    """Two spaces without common words: the message says so (it said 0 words reach --min-count 0)."""
    rng = np.random.default_rng(3)
    Vectors([f"a{i}" for i in range(40)], rng.normal(size=(40, 5)).astype(np.float32), np.arange(40, 0, -1)).save(
        str(tmp_path / "a.npz"))
    Vectors([f"b{i}" for i in range(40)], rng.normal(size=(40, 5)).astype(np.float32), np.arange(40, 0, -1)).save(
        str(tmp_path / "b.npz"))
    res = run("drift", tmp_path / "a.npz", tmp_path / "b.npz", "--min-count", 0, ok=False)
    assert res.exit_code == 3 and "share 0 word(s)" in res.stderr

