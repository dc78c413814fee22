"""``embedcli plot``: 2-D maps and spectra, through the real CLI on the bundled speeches."""

import json
import re
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from conftest import run

from embedcli.vectors import Vectors

pytest.importorskip("matplotlib")
pytest.importorskip("adjustText")

WORDS = ["war", "peace", "congress", "senate", "tax", "taxes", "army", "navy", "law", "laws", "nation", "country",
         "president", "government", "people", "citizens", "freedom", "liberty", "states", "union"]


def svg_texts(path) -> list[str]:
    root = ET.parse(path).getroot()
    return ["".join(t.itertext()).strip() for t in root.iter("{http://www.w3.org/2000/svg}text")]


def test_svg_map_labels_every_word_as_text(tmp_path, sample_run):
    out, _ = sample_run
    res = run("plot", out / "vectors.npz", *WORDS, "-o", tmp_path / "map.svg", "--data", tmp_path / "xy.tsv")
    texts = svg_texts(tmp_path / "map.svg")
    assert set(WORDS) <= set(texts)  # text stays text (svg.fonttype none): searchable, editable
    assert "20 points (pca), 20 labelled" in res.stderr
    side = json.loads((tmp_path / "map.svg.meta.json").read_text())
    assert side["kind"] == "plot" and side["provenance"]["spec"]["method"] == "pca"
    assert side["provenance"]["stats"]["keys"] == WORDS
    rows = [r.split("\t") for r in (tmp_path / "xy.tsv").read_text().splitlines()]
    assert rows[0] == ["key", "x", "y"] and [r[0] for r in rows[1:]] == WORDS
    # the coordinates are the PCA of the unit-length rows (up to each axis's sign)
    v = Vectors.load(str(out / "vectors.npz"))
    X = np.asarray(v.vectors[[v.index[w] for w in WORDS]], dtype=np.float64)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    Xc = X - X.mean(axis=0)
    U, s, _ = np.linalg.svd(Xc, full_matrices=False)
    got = np.array([[float(r[1]), float(r[2])] for r in rows[1:]])
    assert np.allclose(np.abs(got), np.abs(U[:, :2] * s[:2]), atol=1e-5)


def test_png_and_pdf_are_valid_and_labels_do_not_overlap(tmp_path, sample_run):
    from embedcli.plot import draw_map, project, select_rows

    out, _ = sample_run
    run("plot", out / "vectors.npz", "--top", "60", "-o", tmp_path / "m.png", "-q")
    data = (tmp_path / "m.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
    run("plot", out / "vectors.npz", *WORDS[:5], "-o", tmp_path / "m.pdf", "-q")
    assert (tmp_path / "m.pdf").read_bytes()[:5] == b"%PDF-"
    v = Vectors.load(str(out / "vectors.npz"))
    rows, _ = select_rows(v, None, 40)
    coords, _ = project(v.vectors[rows])
    res = draw_map(coords, [v.words[i] for i in rows], str(tmp_path / "n.png"))
    assert res["labelled"] == 40 and res["overlaps"] == 0
    assert not list(tmp_path.glob(".*tmp*"))  # no temporary file left behind


def test_count_overlaps():
    from matplotlib.transforms import Bbox

    from embedcli.plot import count_overlaps

    boxes = [Bbox([[0, 0], [2, 1]]), Bbox([[1, 0.5], [3, 2]]), Bbox([[2, 0], [4, 1]]), Bbox([[10, 10], [11, 11]])]
    assert count_overlaps(boxes) == 2  # 0-1 and 1-2; 0 and 2 only touch


def test_color_by_labels_and_tsne_reproducible(tmp_path, sample_run):
    out, _ = sample_run
    labels = tmp_path / "topics.tsv"
    labels.write_text("war\tmilitary\narmy\tmilitary\nnavy\tmilitary\ntax\tmoney\ntaxes\tmoney\n")
    args = ("plot", out / "vectors.npz", *WORDS, "--color-by", labels, "--method", "tsne", "--seed", "3")
    res = run(*args, "-o", tmp_path / "a.svg", "--data", tmp_path / "a.tsv")
    run(*args, "-o", tmp_path / "b.svg", "--data", tmp_path / "b.tsv", "-q")
    assert "2 labels" in res.stderr and "perplexity lowered" in res.stderr  # 20 points: perplexity 30 is too big
    assert (tmp_path / "a.tsv").read_text() == (tmp_path / "b.tsv").read_text()
    rows = {r.split("\t")[0]: r.split("\t")[3] for r in (tmp_path / "a.tsv").read_text().splitlines()[1:]}
    assert rows["army"] == "military" and rows["taxes"] == "money" and rows["peace"] == ""
    texts = svg_texts(tmp_path / "a.svg")
    assert {"military", "money", "(no label)"} <= set(texts)  # the legend


def test_words_from_stdin_and_file(tmp_path, sample_run):
    out, _ = sample_run
    res = run("plot", out / "vectors.npz", "-", "-o", tmp_path / "s.svg", input="war\npeace\n# no\nnosuchword\n")
    assert "1 key not in" in res.stderr and "nosuchword" in res.stderr
    assert {"war", "peace"} <= set(svg_texts(tmp_path / "s.svg"))
    (tmp_path / "w.tsv").write_text("army\t12\nnavy\t9\n")
    run("plot", out / "vectors.npz", "--words", tmp_path / "w.tsv", "-o", tmp_path / "f.svg", "-q")
    assert {"army", "navy"} <= set(svg_texts(tmp_path / "f.svg"))


def test_spectrum_of_a_matrix_matches_svd_energy(tmp_path, sample_run):
    out, _ = sample_run
    run("svd", out / "cooccur.npz", "--dim", "30", "-o", tmp_path / "v.npz", "-q")
    meta = Vectors.load(str(tmp_path / "v.npz")).meta
    res = run("plot", "--spectrum", out / "cooccur.npz", "--dim", "30", "-o", tmp_path / "s.png",
              "--data", tmp_path / "s.tsv")
    assert (tmp_path / "s.png").read_bytes()[:4] == b"\x89PNG"
    rows = [r.split("\t") for r in (tmp_path / "s.tsv").read_text().splitlines()]
    assert rows[0] == ["k", "sigma", "energy"] and len(rows) == 31
    sigma = np.array([float(r[1]) for r in rows[1:]])
    energy = np.array([float(r[2]) for r in rows[1:]])
    assert np.all(np.diff(sigma) <= 0) and np.all(np.diff(energy) > 0) and 0 < energy[-1] < 1
    assert np.allclose(sigma, meta["singular_values"], rtol=1e-4)
    assert energy[-1] == pytest.approx(meta["energy_captured"], rel=1e-4)
    assert re.search(r"30 values, \d+\.\d% of the energy", res.stderr)
    # the same spectrum from the vectors file's record
    run("plot", "--spectrum", tmp_path / "v.npz", "-o", tmp_path / "t.svg", "--data", tmp_path / "t.tsv", "-q")
    assert (tmp_path / "t.tsv").read_text() == (tmp_path / "s.tsv").read_text()
    # --dim given with vectors: the first N of their values (it was ignored)
    run("plot", "--spectrum", tmp_path / "v.npz", "--dim", 12, "-o", tmp_path / "u.svg", "--data", tmp_path / "u.tsv",
        "-q")
    assert (tmp_path / "u.tsv").read_text().splitlines() == (tmp_path / "s.tsv").read_text().splitlines()[:13]


def test_spectrum_of_plain_vectors(tmp_path):
    X = np.diag([4.0, 2.0, 1.0]).astype(np.float32)
    Vectors(["a", "b", "c"], X).save(str(tmp_path / "v.txt"))
    res = run("plot", "--spectrum", tmp_path / "v.txt", "-o", tmp_path / "s.svg", "--data", tmp_path / "s.tsv")
    assert "vectors themselves" in res.stderr
    rows = [r.split("\t") for r in (tmp_path / "s.tsv").read_text().splitlines()[1:]]
    assert [float(r[1]) for r in rows] == [4.0, 2.0, 1.0]
    assert float(rows[-1][2]) == pytest.approx(1.0)


def test_plot_errors_are_one_line_and_write_nothing(tmp_path, sample_run, monkeypatch):
    out, _ = sample_run
    v = out / "vectors.npz"
    for args, code, text in [
        ((v, "war", "-o", tmp_path / "x.jpg"), 2, "--output"),
        ((v, "nosuch1", "nosuch2", "-o", tmp_path / "x.png"), 3, "at least 2"),
        ((v, "--words", tmp_path / "missing.txt", "-o", tmp_path / "x.png"), 2, "missing.txt"),
        ((v, "war", "--words", tmp_path / "missing.txt", "-o", tmp_path / "x.png"), 2, "not both"),
        (("--spectrum", v, "war", "-o", tmp_path / "x.png"), 2, "--spectrum"),
        ((v, "--method", "nope", "-o", tmp_path / "x.png"), 2, "--method"),
    ]:
        res = run("plot", *args, ok=False)
        assert res.exit_code == code, (args, res.stderr)
        assert text in res.stderr and len(res.stderr.strip().splitlines()) == 1, res.stderr
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    res = run("plot", v, "war", "peace", "-o", tmp_path / "x.png", ok=False)
    assert res.exit_code == 2 and "embedcli[plot]" in res.stderr
    assert not list(tmp_path.glob("x.*"))


def test_label_cap_and_no_matplotlib_at_cli_import(tmp_path, monkeypatch):
    import subprocess

    import embedcli.plot as P

    monkeypatch.setattr(P, "MAX_LABELS", 4)
    coords = np.random.default_rng(0).normal(size=(10, 2))
    res = P.draw_map(coords, [f"k{i}" for i in range(10)], str(tmp_path / "c.svg"), annotate="all")
    assert res["labelled"] == 4 and {"k0", "k3"} <= set(svg_texts(tmp_path / "c.svg"))
    assert "k4" not in svg_texts(tmp_path / "c.svg")
    code = "import sys, embedcli.cli; assert 'matplotlib' not in sys.modules and 'sklearn' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_spectrum_of_a_term_document_matrix_uses_svds_default_weighting(tmp_path, small_tokens):
    run("termdoc", small_tokens, "--weighting", "tfidf", "--min-count", "2", "-o", tmp_path / "td.npz", "-q")
    run("svd", tmp_path / "td.npz", "--dim", "10", "-o", tmp_path / "lsa.npz", "-q")
    meta = Vectors.load(str(tmp_path / "lsa.npz")).meta
    res = run("plot", "--spectrum", tmp_path / "td.npz", "--dim", "10", "-o", tmp_path / "s.png",
              "--data", tmp_path / "s.tsv")
    rows = [r.split("\t") for r in (tmp_path / "s.tsv").read_text().splitlines()[1:]]
    assert np.allclose([float(r[1]) for r in rows], meta["singular_values"], rtol=1e-4)
    assert float(rows[-1][2]) == pytest.approx(meta["energy_captured"], rel=1e-4)
    assert "termdoc matrix (none)" in res.stderr
    # 20 documents: --dim 20 asks for all of them, computed densely; they hold all the energy
    run("plot", "--spectrum", tmp_path / "td.npz", "--dim", "20", "-o", tmp_path / "t.png", "--data",
        tmp_path / "t.tsv", "-q")
    assert float((tmp_path / "t.tsv").read_text().splitlines()[-1].split("\t")[2]) == pytest.approx(1.0, abs=1e-5)


def test_keys_are_drawn_verbatim_and_outputs_are_byte_identical(tmp_path):
    words = ["$x^2$", "$\\foo$", "plain", "King"]
    Vectors([w.lower() if w == "King" else w for w in words],
            np.random.default_rng(1).normal(size=(4, 3)).astype(np.float32)).save(str(tmp_path / "v.txt"))
    for ext in ("svg", "pdf"):
        for name in ("a", "b"):
            run("plot", tmp_path / "v.txt", *words, "--title", "$\\frac{$", "-o", tmp_path / f"{name}.{ext}", "-q")
        assert (tmp_path / f"a.{ext}").read_bytes() == (tmp_path / f"b.{ext}").read_bytes()
    assert {"$x^2$", "$\\foo$", "plain", "king", "$\\frac{$"} <= set(svg_texts(tmp_path / "a.svg"))


def test_one_dimension_stdin_lines_and_many_labels(tmp_path, monkeypatch):
    import embedcli.plot as P

    Vectors(["a", "b", "c"], np.array([[1.0], [2.0], [4.0]], dtype=np.float32)).save(str(tmp_path / "one.txt"))
    run("plot", tmp_path / "one.txt", "--no-normalize", "-o", tmp_path / "one.png", "-q")
    res = run("plot", tmp_path / "one.txt", "--method", "tsne", "-o", tmp_path / "x.png", ok=False)
    assert res.exit_code == 3 and "2 or more" in res.stderr and len(res.stderr.splitlines()) == 1
    res = run("plot", tmp_path / "one.txt", "-", "a", "-o", tmp_path / "x.png", ok=False)
    assert res.exit_code == 2 and "only WORD" in res.stderr
    run("plot", tmp_path / "one.txt", "-", "-o", tmp_path / "s.svg", "-q", input="a b\nc\t7\n")
    assert {"a", "b", "c"} <= set(svg_texts(tmp_path / "s.svg"))
    # many points, few labels: only the labelled points go to adjustText (memory grows with its input squared)
    monkeypatch.setattr(P, "MAX_LABELS", 5)
    rng = np.random.default_rng(2)
    coords = rng.normal(size=(5000, 2))
    groups = [f"g{i % 25}" for i in range(5000)]
    res = P.draw_map(coords, [f"k{i}" for i in range(5000)], str(tmp_path / "m.svg"), groups, annotate="all")
    assert res["labelled"] == 5 and res["groups"] == 25
    assert {"g0", "7 other labels"} <= set(svg_texts(tmp_path / "m.svg"))  # 18 colours, the rest grey
