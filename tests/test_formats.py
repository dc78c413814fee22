import json
import zipfile

import numpy as np
import pytest
from conftest import run

from embedcli.errors import FormatError
from embedcli.matrix import CountMatrix
from embedcli.vectors import Vectors


@pytest.fixture
def vecs():
    rng = np.random.default_rng(0)
    words = ["the", "of", "naïve", "straße", "x1"]
    return Vectors(words, rng.normal(size=(5, 7)).astype(np.float32), np.array([50, 40, 3, 2, 1]), {"note": "t"})


@pytest.mark.parametrize("name", ["v.npz", "v.txt", "v.vec", "v.bin", "v.txt.gz", "v.bin.xz", "v.bin.BZ2"])
def test_roundtrip_and_detection(vecs, tmp_path, name):
    p = str(tmp_path / name)
    vecs.save(p)
    back = Vectors.load(p)
    assert back.words == vecs.words
    np.testing.assert_array_equal(back.vectors, vecs.vectors)  # float32 exactly: text keeps 9 digits
    if ".bin" in name:  # the format is that of the name under the compression suffix (was text for .xz/.bz2)
        assert back.meta["source_format"] == "binary"


def test_compressed_native_names_are_refused(vecs, tmp_path):
    from embedcli.errors import InputError

    for name in ("v.npz.gz", "v.npz.xz", "v.NPZ.bz2"):
        with pytest.raises(InputError, match="cannot be compressed"):
            vecs.save(str(tmp_path / name))


def test_long_words_and_empty_files(tmp_path):
    """A word of any length reads back from binary (gensim reads it; a 4 kB cap refused it); an
    empty model as gensim writes it ('0 5') says it holds no vectors."""
    from gensim.models import KeyedVectors

    rng = np.random.default_rng(1)
    long = Vectors(["a", "z" * 5000, "b"], rng.normal(size=(3, 4)).astype(np.float32), None, {})
    for name in ("l.bin", "l.txt"):
        long.save(str(tmp_path / name))
        back = Vectors.load(str(tmp_path / name))
        assert back.words == long.words and np.array_equal(back.vectors, long.vectors)
    kv = KeyedVectors.load_word2vec_format(str(tmp_path / "l.bin"), binary=True)
    assert kv.index_to_key == long.words
    KeyedVectors(5).save_word2vec_format(str(tmp_path / "empty.txt"))
    res = run("neighbors", tmp_path / "empty.txt", "war", ok=False)
    assert res.exit_code == 3 and "holds no vectors" in res.stderr and "-1" not in res.stderr.replace(str(tmp_path), "")
    (tmp_path / "cut.bin").write_bytes((tmp_path / "l.bin").read_bytes()[:30])
    res = run("neighbors", tmp_path / "cut.bin", "a", ok=False)
    assert res.exit_code == 3 and "cut.bin" in res.stderr


def test_glove_text_is_read(vecs, tmp_path):
    p = str(tmp_path / "glove.txt")
    vecs.save(p, "glove")
    assert not open(p).readline().split()[0].isdigit()
    back = Vectors.load(p)
    assert back.words == vecs.words and back.meta["source_format"] == "glove"
    np.testing.assert_allclose(back.vectors, vecs.vectors, rtol=1e-7)


def test_native_is_memory_mapped_aligned_and_plain_npz(vecs, tmp_path):
    p = str(tmp_path / "v.npz")
    vecs.save(p)
    back = Vectors.load(p)
    assert isinstance(back.vectors, np.memmap) and back.vectors.ctypes.data % 64 == 0
    np.testing.assert_allclose(back.norms, np.linalg.norm(vecs.vectors, axis=1), rtol=1e-6)
    with np.load(p, allow_pickle=False) as z:  # any numpy reads it
        np.testing.assert_array_equal(z["vectors"], vecs.vectors)
        assert json.loads(bytes(z["embedcli_meta"]))["format"] == "embedcli-vectors"
    with zipfile.ZipFile(p) as zf:
        assert all(i.compress_type == zipfile.ZIP_STORED for i in zf.infolist())


def test_gensim_interoperability(vecs, tmp_path):
    from gensim.models import KeyedVectors

    for name, binary in (("v.txt", False), ("v.bin", True)):
        p = str(tmp_path / name)
        vecs.save(p)
        kv = KeyedVectors.load_word2vec_format(p, binary=binary)
        assert kv.index_to_key == vecs.words
        np.testing.assert_allclose(kv.vectors, vecs.vectors, rtol=1e-6)
        q = str(tmp_path / ("g" + name))
        kv.save_word2vec_format(q, binary=binary)
        back = Vectors.load(q)
        assert back.words == vecs.words
        np.testing.assert_allclose(back.vectors, vecs.vectors, rtol=1e-6)


def test_matrix_roundtrip(tmp_path, small_tokens):
    p = tmp_path / "m.npz"
    run("cooccur", small_tokens, "-o", p, "--min-count", "10", "-q")
    cm = CountMatrix.load(str(p))
    with np.load(p, allow_pickle=False) as z:
        meta = json.loads(bytes(z["embedcli_meta"]))
    assert meta["format"] == "embedcli-matrix" and meta["format_version"] == 1 and meta["provenance"]["inputs"]["vocabulary"]["spec"]["min_count"] == 10
    with pytest.raises(FormatError, match="count matrix, not vectors"):
        Vectors.load(str(p))
    with pytest.raises(FormatError):
        CountMatrix.load(str(small_tokens))
    assert cm.matrix.nnz == meta["nnz"]


def test_info_command(tmp_path, vecs):
    p = tmp_path / "v.npz"
    vecs.save(str(p))
    out = json.loads(run("info", p).stdout)
    assert out["format"] == "embedcli-vectors" and out["shape"] == [5, 7] and "embedcli_version" in out
    vecs.save(str(tmp_path / "v.txt"))
    assert json.loads(run("info", tmp_path / "v.txt").stdout)["shape"] == [5, 7]


def test_text_vectors_are_parsed_in_blocks_as_whole(tmp_path, monkeypatch):
    """Text rows are parsed a block at a time (memory: the file, the output and a few blocks, not
    several copies of the text); the result and the line numbers of errors are those of one pass."""
    import embedcli.vectorfile.text as text

    rng = np.random.default_rng(3)
    V = rng.standard_normal((500, 7)).astype(np.float32)
    rows = [f"w{i} " + " ".join(f"{x:.9g}" for x in v) for i, v in enumerate(V)]
    (tmp_path / "v.txt").write_text("500 7\n" + "\n".join(rows) + "\n\n")
    (tmp_path / "g.txt").write_text("\n".join(rows) + "\n")  # GloVe: no header
    monkeypatch.setattr(text, "TEXT_BLOCK", 1000)  # about 10 rows a block
    for name in ("v.txt", "g.txt"):
        v = Vectors.load(str(tmp_path / name))
        assert v.words == [f"w{i}" for i in range(500)] and np.array_equal(np.asarray(v.vectors), V)
    bad = rows[:300] + ["w300 1 2 x 4 5 6 7"] + rows[301:]
    (tmp_path / "bad.txt").write_text("500 7\n" + "\n".join(bad) + "\n")
    with pytest.raises(FormatError, match=r"bad.txt:302: non-numeric value"):
        Vectors.load(str(tmp_path / "bad.txt"))
    (tmp_path / "short.txt").write_text("500 7\n" + "\n".join(rows[:250] + rows[251:]) + "\n")
    with pytest.raises(FormatError, match="header says 500 words but the file has 499 rows"):
        Vectors.load(str(tmp_path / "short.txt"))
    (tmp_path / "blank.txt").write_text("500 7\n" + "\n".join(rows[:400] + [""] + rows[400:]) + "\n")
    with pytest.raises(FormatError, match=r"blank.txt:402: a blank line among the vectors"):
        Vectors.load(str(tmp_path / "blank.txt"))


def test_convert_writes_another_format_and_keeps_metadata(tmp_path, sample_run):
    """A big text file is slow and memory-hungry to read at every query: convert it once to .npz."""
    src = sample_run[0] / "vectors.npz"
    run("convert", src, "-o", tmp_path / "v.txt.gz", "-q")
    run("convert", tmp_path / "v.txt.gz", "-o", tmp_path / "v.npz", "-q")
    a, b = Vectors.load(str(src)), Vectors.load(str(tmp_path / "v.npz"))
    assert a.words == b.words and np.array_equal(np.asarray(a.vectors), np.asarray(b.vectors))
    assert b.provenance == a.provenance and b.meta["converted_from"]["format"] == "word2vec"
    run("convert", src, "--top", "50", "-o", tmp_path / "top.bin", "-q")
    top = Vectors.load(str(tmp_path / "top.bin"))
    assert top.words == a.words[:50] and top.meta["source_format"] == "binary"
    res = run("convert", src, "-o", src, ok=False)
    assert res.exit_code == 2 and "also an input" in res.stderr


def test_text_rows_with_tabs_or_double_spaces_cannot_shift_values(tmp_path):
    """One row with a value too many (after a tab) and one with a value too few (after two spaces)
    made the right total: the values were read under the wrong words. A last line of a no-break
    space is a trailing blank, as before."""
    (tmp_path / "shift.txt").write_text("3 2\nz 0 1\na 1\t2 3\nb  4\n")
    with pytest.raises(FormatError, match=r"shift.txt:3: expected 2 values after the word, got 3"):
        Vectors.load(str(tmp_path / "shift.txt"))
    (tmp_path / "missing.txt").write_text("3 3\na 1 2 3\nb 1  2\nc 1 2 3\n")
    with pytest.raises(FormatError, match=r"missing.txt:3: expected 3 values after the word, got 2"):
        Vectors.load(str(tmp_path / "missing.txt"))
    (tmp_path / "tabs.txt").write_text("2 2\na 1\t2\nb  3   4\n")
    assert np.array_equal(np.asarray(Vectors.load(str(tmp_path / "tabs.txt")).vectors), [[1, 2], [3, 4]])
    (tmp_path / "nbsp.txt").write_text("2 2\na 1 2\nb 3 4\n\u00a0\n")
    assert Vectors.load(str(tmp_path / "nbsp.txt")).words == ["a", "b"]


def test_matrices_are_read_by_scipy_and_made_from_scipy(tmp_path, small_tokens):
    """scipy.sparse.load_npz reads a matrix embedcli wrote; a scipy-saved matrix (no words) is refused
    with the way to make one, and that way works through svd."""
    import scipy.sparse as sp

    from embedcli.matrix import CountMatrix

    run("cooccur", small_tokens, "--min-count", "3", "-o", tmp_path / "m.npz", "-q")
    M = sp.load_npz(tmp_path / "m.npz")
    cm = CountMatrix.load(str(tmp_path / "m.npz"))
    assert M.format == "csr" and (M != cm.matrix).nnz == 0 and M.nnz > 1000
    sp.save_npz(tmp_path / "scipy.npz", M)
    res = run("svd", tmp_path / "scipy.npz", "-o", tmp_path / "v.npz", ok=False)
    assert res.exit_code == 3 and "CountMatrix(matrix, words, words, counts, counts" in res.stderr
    assert res.stderr.count("\n") == 1
    CountMatrix(sp.load_npz(tmp_path / "scipy.npz"), cm.row_words, cm.col_words, cm.row_counts, cm.col_counts,
                "cooccurrence").save(str(tmp_path / "mine.npz"))
    run("svd", tmp_path / "mine.npz", "--dim", "20", "-o", tmp_path / "v.npz", "-q")
    run("svd", tmp_path / "m.npz", "--dim", "20", "-o", tmp_path / "w.npz", "-q")
    a, b = Vectors.load(str(tmp_path / "v.npz")), Vectors.load(str(tmp_path / "w.npz"))
    assert a.words == b.words and np.allclose(a.vectors, b.vectors, atol=1e-5)


@pytest.mark.parametrize("fmt", ["word2vec", "binary", "glove"])
def test_convert_top_reads_only_the_first_rows(tmp_path, fmt, monkeypatch):
    """convert --top N stops reading after N rows (gensim's limit=N): a broken tail beyond them is
    never parsed, whereas the whole file is refused; .gz and a byte-order mark too."""
    import gzip

    from embedcli.vectorfile import read_vectors

    rng = np.random.default_rng(3)
    words = [f"mot{i}é" for i in range(400)]
    X = rng.standard_normal((400, 8)).astype(np.float32)
    good = tmp_path / "v.dat"
    Vectors(words, X).save(str(good), fmt)
    monkeypatch.setattr("embedcli.vectorfile.text.TEXT_BLOCK", 1 << 10)  # many blocks: the scan is incremental
    data = good.read_bytes()
    if fmt == "binary":  # records cut short
        tail = data[: len(data) * 3 // 4]
    else:  # a malformed row after row 200
        at = [i for i, b in enumerate(data) if b == 10][200 if fmt == "word2vec" else 199] + 1
        tail = data[:at] + b"oops 1 2\n" + data[at:]
    for name, blob in (("cut", tail), ("bom", b"\xef\xbb\xbf" + tail)):
        path = tmp_path / f"{name}.{fmt}"
        path.write_bytes(blob)
        gz = tmp_path / f"{name}.{fmt}.gz"
        gz.write_bytes(gzip.compress(blob))
        if fmt == "glove" and name == "bom":
            continue
        for src in (path, gz, "-"):  # '-': the file's bytes on standard input
            given = blob if src == "-" else None
            assert run("convert", src, "-o", tmp_path / "all.npz", ok=False, input=given).exit_code == 3  # refused
            res = run("convert", src, "--top", "100", "-o", tmp_path / "top.npz", input=given)
            assert "100 x 8" in res.stderr
            back = Vectors.load(str(tmp_path / "top.npz"))
            assert back.words == words[:100]
            assert np.allclose(back.vectors, X[:100], atol=1e-6)
    # a file shorter than the limit, or one whose header declares fewer rows, is read and checked whole
    assert read_vectors(str(good), limit=10_000).words == words
    if fmt != "glove":
        bad = data.replace(b"400 8", b"399 8", 1)
        (tmp_path / "bad").write_bytes(bad)
        for limit in (399, 500):  # at most `limit` rows by the header: read whole, the miscount found
            with pytest.raises(FormatError):
                read_vectors(str(tmp_path / "bad"), limit=limit)
        if fmt == "word2vec":  # fewer: the header is not checked against the rows never read
            assert read_vectors(str(tmp_path / "bad"), limit=100).words == words[:100]


def test_words_with_non_ascii_white_space_round_trip(tmp_path):
    """fastText's .vec files hold words with a no-break space: every format writes and reads them
    back (gensim too); a space, tab or line break inside a word is refused, naming file and row."""
    from gensim.models import KeyedVectors

    (tmp_path / "odd.vec").write_bytes("2 3\na\u00a0b 1 2 3\nc\u3000d 4 5 6\n".encode("utf-8"))
    for name, binary in (("v.bin", True), ("v.txt", False)):
        run("convert", tmp_path / "odd.vec", "-o", tmp_path / name, "-q")
        assert Vectors.load(str(tmp_path / name)).words == ["a\u00a0b", "c\u3000d"]
        assert KeyedVectors.load_word2vec_format(str(tmp_path / name), binary=binary).index_to_key == ["a\u00a0b", "c\u3000d"]
    rows = "".join(f"w{i}\u00a0x {i}.5 1.25 -2.0\n" for i in range(12))  # every word with a no-break space
    (tmp_path / "nb.vec").write_text("12 3\n" + rows, "utf-8")
    (tmp_path / "nb.glove").write_text(rows, "utf-8")
    for name in ("nb.vec", "nb.glove"):
        assert '"kind": "vectors"' in run("info", tmp_path / name).stdout  # not taken for tokens
    v = Vectors(["ok", "a\tb"], np.ones((2, 3), np.float32))
    with pytest.raises(Exception, match=r"t\.txt: word 'a\\tb' \(row 2\)"):
        v.save(str(tmp_path / "t.txt"))
    assert not (tmp_path / "t.txt").exists()


def test_a_pipe_is_copied_only_up_to_the_rows_wanted():
    """`zcat big.vec.gz | embedcli convert - --top N`: the rest of the stream is left unread."""
    import io

    from embedcli.vectorfile import _read_stream

    rows = "".join(f"w{i} {i} 1.5\n" for i in range(300)).encode()
    stream = io.BytesIO(b"100000 2\n" + rows + b"not a row\n" * 1_000_000)  # 10 MB after the rows
    v = _read_stream("pipe", None, limit=300, source=stream)
    assert v.words == [f"w{i}" for i in range(300)] and v.vectors[299].tolist() == [299, 1.5]
    assert stream.tell() <= 1 << 16  # the first 64 kB (the head every pipe gets read) and no more


def test_convert_top_errors_and_lenient_as_without_it(tmp_path):
    """--top does not change what a bad file is told (a blank row, a header that overcounts), and
    --lenient --top N keeps N rows after dropping repeats, from a file as from standard input."""
    (tmp_path / "bl.txt").write_text("5 2\na 1 2\nb 3 4\n\nc 5 6\nd 7 8\ne 9 9\n")
    res = run("convert", tmp_path / "bl.txt", "--top", 3, "-o", tmp_path / "o.txt", ok=False)
    assert res.exit_code == 3 and "bl.txt:4: a blank line" in res.stderr
    (tmp_path / "over.txt").write_text("80 2\n" + "".join(f"w{i} 1 2\n" for i in range(50)))
    res = run("convert", tmp_path / "over.txt", "--top", 60, "-o", tmp_path / "o.txt", ok=False)
    assert "header says 80 words but the file has 50 rows" in res.stderr
    dup = "5 2\nw0 1 1\nw1 2 2\nw1 3 3\nw2 4 4\nw3 5 5\n"
    (tmp_path / "dup.txt").write_text(dup)
    for args, given in (((tmp_path / "dup.txt",), None), (("-",), dup)):
        run("convert", *args, "--lenient", "--top", 3, "-o", tmp_path / "d.txt", "-q", input=given)
        assert Vectors.load(str(tmp_path / "d.txt")).words == ["w0", "w1", "w2"]
    from embedcli.errors import ParameterError

    for bad in (0, -1, 2.5):
        with pytest.raises(ParameterError):
            Vectors.load(str(tmp_path / "dup.txt"), limit=bad)


def test_a_first_row_wider_than_64_kb_is_read(tmp_path):
    X = np.random.default_rng(0).standard_normal((3, 6000)).astype(np.float32)
    Vectors(["a", "b", "c"], X).save(str(tmp_path / "wide.txt"))
    assert len((tmp_path / "wide.txt").read_text().split("\n")[1]) > 65536
    for limit in (None, 2):
        v = Vectors.load(str(tmp_path / "wide.txt"), limit=limit)
        assert v.dim == 6000 and np.array_equal(v.vectors, X[: limit or 3])
