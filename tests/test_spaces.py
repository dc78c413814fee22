"""Whole spaces: export to the Embedding Projector's TSV files, through the CLI."""

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
    assert np.allclose(X, np.asarray(v.vectors[:50]), rtol=1e-6, atol=1e-7)
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
