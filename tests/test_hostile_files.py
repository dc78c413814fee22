"""Files from someone else: edited metadata, corrupt archives, recorded paths to pipes, odd numbers.
Each is refused in one line (exit 2 or 3) or handled, never a traceback (found by a security review)."""

import gzip
import json
import os
import zipfile

import numpy as np
import pytest
from conftest import run

from embedcli.npzfile import write_npz


def one_line(res, code, text):
    assert res.exit_code == code, (res.exit_code, res.stderr)
    assert text in res.stderr and "Traceback" not in res.stderr and res.stderr.count("\n") == 1, res.stderr


def members(path):
    """(meta, arrays) of an embedcli .npz, read without pickle."""
    with zipfile.ZipFile(path) as z:
        arrays = {n[:-4]: np.load(z.open(n), allow_pickle=False) for n in z.namelist()}
    meta = json.loads(bytes(arrays.pop("embedcli_meta")).decode())
    return meta, arrays


def edited(src, dst, meta_change=None, **arrays):
    meta, arr = members(src)
    if meta_change:
        meta_change(meta)
    arr.update(arrays)
    write_npz(str(dst), meta, arr)
    return dst


@pytest.fixture(scope="module")
def files(sample_run, tmp_path_factory):
    """Small real inputs: word vectors, a tokens file, an LSA model and docvec output on them."""
    out, _ = sample_run
    d = tmp_path_factory.mktemp("hostile")
    tokens = d / "new.txt"
    tokens.write_text("".join(line + "\n" for line in (out / "tokens.txt").read_text().splitlines()[:30]))
    run("termdoc", tokens, "--min-count", "1", "-o", d / "td.npz", "-q")
    run("svd", d / "td.npz", "--dim", "5", "-o", d / "lsa.npz", "-q")
    run("docvec", out / "vectors.npz", tokens, "-o", d / "dv.npz", "-q")
    return {"vectors": out / "vectors.npz", "tokens": tokens, "lsa": d / "lsa.npz", "dv": d / "dv.npz",
            "matrix": out / "cooccur.npz", "dir": d}


def test_edited_vectors_files(files, tmp_path):
    v = files["vectors"]
    meta, arr = members(v)
    cases = {
        "norms lie": ({}, {"norms": arr["norms"] * 1e-30}, "stored norms do not match"),
        "negative norms": ({}, {"norms": -arr["norms"]}, "norms are negative"),
        "float counts": ({}, {"counts": arr["counts"].astype(np.float64)}, "one whole number per word"),
        "dimension 0": ({}, {"vectors": np.zeros((len(arr["counts"]), 0), np.float32)}, "dimension >= 1"),
        "provenance list": ({"provenance": [1, 2]}, {}, "'provenance' has the wrong type"),
        "singular values text": ({"singular_values": "abc"}, {}, "'singular_values' has the wrong type"),
        "energy text": ({"energy_captured": "lots"}, {}, "'energy_captured' has the wrong type"),
    }
    for name, (change, new_arrays, text) in cases.items():
        f = edited(v, tmp_path / "v.npz", lambda m: m.update(change), **new_arrays)
        one_line(run("neighbors", f, "war", ok=False), 3, text)
    norms = arr["norms"].copy()
    norms[1] = 1e-30  # a row the load-time sample skips: queries compute their own norms
    f = edited(v, tmp_path / "n.npz", norms=norms)
    got = run("neighbors", f, members(v)[1]["words"].tobytes().decode().split("\n")[0], "-k", "5").stdout
    assert all(float(line.split("\t")[2]) <= 1.0 + 1e-6 for line in got.splitlines())
    vecs = arr["vectors"].copy()
    vecs[1, 0] = np.inf  # outside the load-time sample
    f = edited(v, tmp_path / "inf.npz", vectors=vecs)
    one_line(run("align", f, v, "-o", tmp_path / "al.npz", ok=False), 3, "NaN or infinite values")
    meta["x"] = "DEEP"
    text = json.dumps(meta).replace('"DEEP"', "[" * 5000 + "]" * 5000)  # too deep for json.dumps itself
    with zipfile.ZipFile(tmp_path / "deep.npz", "w") as z:
        z.writestr("embedcli_meta.npy", _npy(np.frombuffer(text.encode(), np.uint8)))
        for name, a in arr.items():
            z.writestr(name + ".npy", _npy(a))
    one_line(run("info", tmp_path / "deep.npz", ok=False), 3, "nested more than 200 levels deep")


def _npy(a) -> bytes:
    import io

    buf = io.BytesIO()
    np.save(buf, a, allow_pickle=False)
    return buf.getvalue()


def test_edited_lsa_and_docvec_metadata(files, tmp_path):
    lsa, dv, vec, tokens = files["lsa"], files["dv"], files["vectors"], files["tokens"]
    for change in (lambda m: m["lsa"].update(term_weights=m["lsa"]["term_weights"][:3]),
                   lambda m: m["provenance"].update(spec=[1]),
                   lambda m: m.update(singular_values=m["singular_values"][:2])):
        f = edited(lsa, tmp_path / "lsa.npz", change)
        one_line(run("foldin", f, tokens, "-o", tmp_path / "f.npz", ok=False), 3, "corrupt LSA metadata")
    # a fold-in step from a newer embedcli is refused, not ignored (as an older one ignores --binary)
    for needs in (["binary", "stemming"], "stemming"):
        f = edited(lsa, tmp_path / "lsa.npz", lambda m: m["lsa"].update(requires=needs))
        one_line(run("foldin", f, tokens, "-o", tmp_path / "f.npz", ok=False), 3,
                 "newer embedcli: fold-in must apply stemming")
    f = edited(lsa, tmp_path / "lsa.npz", lambda m: m["lsa"].update(requires=["binary"], binary=True))
    run("foldin", f, tokens, "-o", tmp_path / "f.npz", "-q")
    (tmp_path / "f.npz").unlink()
    for change in (lambda m: m["docvec"].update(spec=[1]), lambda m: m["docvec"].update(component="x")):
        f = edited(dv, tmp_path / "dv.npz", change)
        one_line(run("docvec", vec, tokens, "--reference", f, "-o", tmp_path / "d.npz", ok=False), 3,
                 "corrupt docvec metadata")
    assert not (tmp_path / "f.npz").exists() and not (tmp_path / "d.npz").exists()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes")
def test_recorded_paths_to_pipes_and_devices_are_not_read(files, tmp_path):
    """A stop-word file or model path recorded in a file's metadata that names a pipe or a device
    (it hung reading the pipe, or read stdin) is refused."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    dv, vec, tokens = files["dv"], files["vectors"], files["tokens"]
    f = edited(dv, tmp_path / "dv.npz", lambda m: m["docvec"]["spec"].update(stopwords=str(fifo)))
    one_line(run("docvec", vec, tokens, "--reference", f, "-o", tmp_path / "d.npz", ok=False), 2,
             "recorded in the reference or model is not a regular file")
    # typed, a pipe is the user's choice (process substitution): read
    assert run("tokenize", tokens, "--stopwords", "/dev/null", "-q").stdout
    f = edited(dv, tmp_path / "dv2.npz", lambda m: m.update(source_model={"path": "/dev/stdin"}))
    one_line(run("neighbors", f, "--text", "the war", ok=False), 2, "/dev/stdin: not a regular file")
    f = edited(dv, tmp_path / "dv3.npz", lambda m: m.update(source_model=["a"]))
    one_line(run("neighbors", f, "--text", "the war", ok=False), 2, "is not a path")


def test_matrices_from_elsewhere(files, tmp_path):
    m = files["matrix"]
    meta, arr = members(m)
    indptr, indices, data = arr["indptr"], arr["indices"].copy(), arr["data"].copy()
    a, b = indptr[0], indptr[1]
    indices[a:b], data[a:b] = indices[a:b][::-1].copy(), data[a:b][::-1].copy()  # unsorted: valid CSR, not canonical
    f = edited(m, tmp_path / "u.npz", indices=indices, data=data)
    run("svd", f, "--dim", "5", "-o", tmp_path / "v.npz", "-q")
    run("svd", m, "--dim", "5", "-o", tmp_path / "w.npz", "-q")
    assert np.allclose(np.load(tmp_path / "v.npz")["vectors"], np.load(tmp_path / "w.npz")["vectors"], atol=1e-5)
    f = edited(m, tmp_path / "h.npz", data=arr["data"] * 1e300)
    one_line(run("svd", f, "-o", tmp_path / "x.npz", ok=False), 3, "beyond float32's range")
    f = edited(m, tmp_path / "z.npz", data=np.zeros_like(arr["data"]))
    one_line(run("svd", f, "-o", tmp_path / "x.npz", ok=False), 3, "every entry is zero")


def test_corrupt_compressed_inputs_are_one_line(files, tmp_path):
    good = gzip.compress(files["tokens"].read_bytes())
    bad = tmp_path / "t.txt.gz"
    bad.write_bytes(good[:30] + b"\0" * 2000)
    for args in (("neighbors", bad, "war"), ("info", bad), ("vocab", bad, "-o", tmp_path / "v.tsv"),
                 ("cooccur", bad, "-o", tmp_path / "c.npz"), ("convert", bad, "-o", tmp_path / "c.txt")):
        one_line(run(*args, ok=False), 3, "t.txt.gz")
    xz = tmp_path / "v.txt.xz"
    xz.write_bytes(b"\xfd7zXZ\x00" + b"\x01" * 500)
    one_line(run("neighbors", xz, "war", ok=False), 3, "corrupt compressed data")


def test_sidecar_of_the_output_never_replaces_an_input(files, tmp_path):
    one_line(run("vocab", tmp_path / "x.meta.json", "-o", tmp_path / "x", ok=False), 2, "no such file")
    src = tmp_path / "toks.meta.json"
    src.write_bytes(files["tokens"].read_bytes())
    one_line(run("vocab", src, "-o", tmp_path / "toks", ok=False), 2, "would be replaced by the .meta.json sidecar")
    assert src.read_bytes() == files["tokens"].read_bytes()


def test_odd_numbers_in_text_inputs(tmp_path):
    sup = tmp_path / "v.txt"
    sup.write_text("\u00b2 \u00b9\nthe 0.5\nof 0.25\n")  # superscript digits are not a header
    res = run("neighbors", sup, "the", ok=False)  # was a ValueError traceback from int("²")
    assert res.exit_code in (2, 3) and "Traceback" not in res.stderr and res.stderr.count("\n") == 1
    edges = tmp_path / "e.txt"
    edges.write_text("".join(f"{u} {v} 1e308\n" for u, v in [(0, 1), (1, 2), (2, 3), (3, 0), (0, 2), (1, 3), (3, 4),
                                                               (4, 5), (5, 6), (6, 4)]))
    res = run("netmf", edges, "--dim", "2", "--window", "2", "-o", tmp_path / "n.npz", ok=False)
    ones = tmp_path / "e1.txt"
    ones.write_text(edges.read_text().replace("1e308", "1"))
    ref = run("netmf", ones, "--dim", "2", "--window", "2", "-o", tmp_path / "n1.npz", ok=False)
    assert res.exit_code == ref.exit_code and "Traceback" not in res.stderr  # weights' scale does not matter
    if ref.exit_code == 0:  # the same spectrum (the vectors of a repeated singular value may rotate)
        sv = [members(tmp_path / f)[0]["singular_values"] for f in ("n.npz", "n1.npz")]
        assert np.allclose(sv[0], sv[1], rtol=1e-4)


def test_dense_table_fits_the_text():
    """A large vocabulary on a small text gets a smaller table (it could not fill it), a big text the
    full one."""
    from embedcli.cooccur import DENSE_PRODUCT, _table_cells, dense_product

    assert dense_product(31146, 5, 24_000_000) == DENSE_PRODUCT
    small = dense_product(515_000, 5, 3_000_000)
    assert 0 < small < DENSE_PRODUCT and _table_cells(515_000, small) <= 5 * 3_000_000 / 6
    assert dense_product(515_000, 5, None) == DENSE_PRODUCT


def test_huge_but_finite_vectors_are_answered(tmp_path):
    """A float32 vector of norm 2.7e30: its square overflows float32, so it was taken for a zero vector."""
    from embedcli.vectors import Vectors

    V = np.array([[2.5e30, 1e30], [1, 0.5], [0.1, 1]], np.float32)
    Vectors(["big", "small", "other"], V, np.array([3, 2, 1]), {}).save(str(tmp_path / "v.npz"))
    got = run("neighbors", tmp_path / "v.npz", "big").stdout.splitlines()
    assert [line.split("\t")[1] for line in got] == ["small", "other"]
    assert abs(float(got[0].split("\t")[2]) - (2.5 + 0.5) / np.hypot(2.5, 1) / np.hypot(1, 0.5)) < 1e-5


def test_phrase_table_bombs_are_refused_early(tmp_path, monkeypatch, files):
    """A compressed file that is no table is refused after its first 64 kB; a table is read up to a
    bound (decompressed), not until memory runs out."""
    import lzma

    import embedcli.phrases as ph

    bomb = tmp_path / "t.tsv.xz"
    bomb.write_bytes(lzma.compress(b"\0" * (20 << 20)))
    one_line(run("phrases", files["tokens"], "--apply", bomb, "-o", tmp_path / "o.txt", ok=False), 3,
             "not a phrase table")
    run("phrases", files["tokens"], "--min-count", "2", "--threshold", "1", "--phrases-output", tmp_path / "p.tsv",
        "-o", tmp_path / "j.txt", "-q")
    monkeypatch.setattr(ph, "MAX_TABLE_BYTES", 100)
    one_line(run("phrases", files["tokens"], "--apply", tmp_path / "p.tsv", "-o", tmp_path / "o.txt", ok=False), 3,
             "more than 100 bytes (decompressed)")
