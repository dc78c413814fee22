"""A new user's mistakes: the wrong kind of file, a folder, a misspelt option value, an option for
another method.  Each gets one line naming the file or option and a non-zero exit, before any
long work, and never a wrong result with exit 0."""

import json

import numpy as np
import pytest

from conftest import run
from embedcli.vectors import Vectors


@pytest.fixture(scope="module")
def made(tmp_path_factory, small_tokens):
    """Vocabulary, matrix and vectors of the small corpus, and copies of them without sidecars."""
    d = tmp_path_factory.mktemp("made")
    run("vocab", small_tokens, "--min-count", 2, "-o", d / "vocab.tsv", "-q")
    run("cooccur", small_tokens, "--vocab", d / "vocab.tsv", "-o", d / "cooccur.npz", "-q")
    run("svd", d / "cooccur.npz", "--dim", 20, "-o", d / "vectors.npz", "-q")
    v = Vectors.load(str(d / "vectors.npz"))
    v.save(str(d / "plain.txt"), "word2vec")
    v.save(str(d / "plain-glove.txt"), "glove")
    (d / "plain.txt.meta.json").unlink()
    (d / "plain-glove.txt.meta.json").unlink()
    (d / "plain-vocab.tsv").write_bytes((d / "vocab.tsv").read_bytes())
    (d / "folder").mkdir()
    return d


TOKENS_COMMANDS = [
    ("vocab", "{t}", "-o", "{out}.tsv"),
    ("cooccur", "{t}", "-o", "{out}.npz"),
    ("termdoc", "{t}", "-o", "{out}.npz"),
    ("word2vec", "{t}", "-o", "{out}.npz"),
    ("phrases", "{t}", "-o", "{out}.txt"),
    ("docvec", "{d}/vectors.npz", "{t}", "-o", "{out}.npz"),
]


@pytest.mark.parametrize("command", TOKENS_COMMANDS, ids=[c[0] for c in TOKENS_COMMANDS])
@pytest.mark.parametrize("given,says", [
    ("vocab.tsv", "this is a vocabulary"),
    ("plain-vocab.tsv", "this is a vocabulary"),  # no sidecar: recognised by its lines
    ("vectors.npz", "this is a vectors file"),
    ("plain.txt", "this is a vectors file"),  # word2vec text, no sidecar
    ("plain-glove.txt", "this is a vectors file"),  # GloVe text, no header, no sidecar
    ("cooccur.npz", "this is a matrix"),
    ("vocab.tsv.meta.json", "this is a .meta.json provenance sidecar"),
    ("folder", "is a folder, expected a tokens file"),
])
def test_a_tokens_argument_that_is_something_else_is_refused(made, tmp_path, command, given, says):
    args = [a.format(t=made / given, d=made, out=tmp_path / "out") for a in command]
    r = run(*args, ok=False)
    assert r.exit_code == 2, r.output
    assert f"{made / given}: {says}" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert not list(tmp_path.iterdir())  # nothing written


def test_numbers_only_tokens_are_still_tokens(tmp_path):
    """Random walks over integer node names look numeric; without a sidecar they are still read."""
    walks = tmp_path / "walks.txt"
    rng = np.random.default_rng(0)
    walks.write_text("".join(" ".join(map(str, rng.integers(0, 30, 12))) + "\n" for _ in range(200)))
    run("cooccur", walks, "--min-count", 1, "-o", tmp_path / "m.npz", "-q")
    assert (tmp_path / "m.npz").exists()


def test_align_refuses_a_vocabulary_as_dictionary(made, tmp_path):
    r = run("align", made / "vectors.npz", made / "vectors.npz", "--dictionary", made / "vocab.tsv",
            "-o", tmp_path / "a.npz", ok=False)
    assert r.exit_code == 3
    assert "looks like a vocabulary" in r.stderr and not (tmp_path / "a.npz").exists()


def test_analogy_skips_section_headers_and_lowercases_without_a_tokenizer_record(made):
    """Vectors whose provenance has no tokenizer (tokens piped through stdin, or made elsewhere)
    and no upper-case key: queries are lowercased; ': section' lines of questions-words.txt skipped."""
    v = Vectors.load(str(made / "plain.txt"))
    assert v.lowercased and all(w == w.lower() for w in v.words)
    a, b, c = v.words[10], v.words[11], v.words[12]
    questions = f": capital-common-countries\n{a.upper()} {b.title()} {c}\n: family\n"
    r = run("analogy", made / "plain.txt", "-", "--format", "json", input=questions)
    recs = [json.loads(x) for x in r.stdout.splitlines()]
    assert len(recs) == 1 and "error" not in recs[0] and recs[0]["answers"]


def test_pipeline_checks_vectors_name_before_any_work(small_speeches, tmp_path):
    out = tmp_path / "out"
    r = run("pipeline", small_speeches, "-o", out, "--vectors-name", "sub/v.npz", ok=False)
    assert r.exit_code == 2 and "folder" in r.stderr and "does not exist" in r.stderr
    assert not out.exists()  # nothing created


def test_pipeline_names_ignored_options_and_unknown_probes(small_speeches, tmp_path):
    r = run("pipeline", small_speeches, "-o", tmp_path / "out", "--min-count", 2, "--x-max", 50,
            "--probe", "LIBERTY", "--probe", "zzzq")
    assert "--x-max applies to --method glove only; ignored with --method svd" in r.stderr
    assert "--probe not in the vocabulary: zzzq" in r.stderr
    assert "  liberty:" in r.stdout  # lowercased as the tokenizer did
    assert "freedom:" not in r.stdout  # the default probes are not shown instead
    r = run("pipeline", small_speeches, "-o", tmp_path / "w2v", "--method", "word2vec", "--dim", 12, "--epochs", 1,
            "--min-count", 2, "-q")
    assert "--dim" not in r.stderr  # used by word2vec too (as vector_size): no false warning
    r = run("pipeline", small_speeches, "-o", tmp_path / "o2", "--vectors-name", "../v.npz", ok=False)
    assert r.exit_code == 2 and "not a path out of it" in r.stderr and not (tmp_path / "o2").exists()


def test_info_on_an_edge_list_and_on_export_output(made, tmp_path):
    edges = tmp_path / "g.edgelist"
    edges.write_text("0 633\n0 1862\n1 2\n")
    assert json.loads(run("info", edges).stdout)["kind"] == "edges"
    run("export", made / "vectors.npz", "--top", 50, "-o", tmp_path / "proj", "-q")
    doc = json.loads(run("info", tmp_path / "proj/vectors.tsv").stdout)
    assert doc["kind"] == "projector-vectors" and doc["provenance"]["stage"] == "export"
    assert doc["shape"] == [50, 20]
    r = run("vocab", tmp_path / "proj/vectors.tsv", "-o", tmp_path / "v.tsv", ok=False)  # by its sidecar
    assert r.exit_code == 2 and "projector vectors" in r.stderr
    (tmp_path / "proj/vectors.tsv.meta.json").unlink()
    assert json.loads(run("info", tmp_path / "proj/vectors.tsv").stdout)["kind"] == "projector-vectors"
    r = run("export", made / "vectors.npz", "-o", "-", ok=False)
    assert r.exit_code == 2 and "give a folder" in r.stderr


def test_small_mistakes_get_a_pointed_message(made, small_tokens, tmp_path):
    r = run("fasttext", small_tokens, "-o", tmp_path / "model.npz", ok=False)
    assert r.exit_code == 2 and "name it MODEL.bin" in r.stderr
    r = run("docvec", made / "vectors.npz", small_tokens, "--stopwords", "English", "-o", tmp_path / "d.npz",
            ok=False)
    assert r.exit_code == 2 and "the bundled list is 'english'" in r.stderr
    notab = tmp_path / "notab.txt"
    notab.write_text("hello world\nfoo bar\n")
    r = run("tokenize", notab, "--id-column", 1, "-o", tmp_path / "t.txt", ok=False)
    assert r.exit_code == 3 and "is the file tab-separated?" in r.stderr
    r = run("evaluate", made / "vectors.npz", "--similarity", made / "folder", ok=False)
    assert r.exit_code == 2 and "is a folder" in r.stderr
    r = run("glove", made / "cooccur.npz", "--vocab", made / "vocab.tsv", "-o", tmp_path / "g.npz", ok=False)
    assert r.exit_code == 2 and "drop --vocab" in r.stderr
    assert not [p for p in tmp_path.iterdir() if p.name != "notab.txt"]


def test_a_stale_sidecar_does_not_make_tokens_something_else(made, small_tokens, tmp_path):
    """tokens.txt overwritten by another tool keeps the sidecar of the vocabulary once written there."""
    p = tmp_path / "tokens.txt"
    p.write_bytes(small_tokens.read_bytes())
    (tmp_path / "tokens.txt.meta.json").write_bytes((made / "vocab.tsv.meta.json").read_bytes())
    run("vocab", p, "-o", tmp_path / "v.tsv", "-q")


def test_files_from_other_tools_byte_order_mark_and_bad_headers(made, small_tokens, tmp_path):
    """Vectors and benchmark files saved by Windows tools (a UTF-8 byte order mark) read as without
    it; a header that disagrees with the rows is named as such, not as binary data or truncation."""
    text = (made / "plain.txt").read_bytes()
    rows = text.split(b"\n", 1)[1]
    word = rows.split(b" ", 1)[0].decode()
    for name, data in (("bom.txt", b"\xef\xbb\xbf" + text), ("bom-glove.txt", b"\xef\xbb\xbf" + rows)):
        (tmp_path / name).write_bytes(data)
        assert run("neighbors", tmp_path / name, word, "-k", 1).stdout.startswith(word + "\t")
    other = rows.split(b"\n", 2)[1].split(b" ", 1)[0].decode()
    (tmp_path / "sim.tsv").write_bytes(f"\ufeff{word}\t{other}\t5.0\n{other}\t{word}\t4\n".encode())
    res = run("evaluate", made / "vectors.npz", "--similarity", tmp_path / "sim.tsv", "--no-bundled",
              "--format", "json", ok=False)  # both pairs read (BOM dropped); one word pair twice has no rank: exit 4
    assert res.exit_code == 4 and json.dumps(json.loads(res.stdout)).count('"pairs_used": 2')
    n, dim = text.split(b"\n", 1)[0].split()
    cases = [(b"%d %d\n" % (int(n), int(dim) + 3) + rows, ":2: the header says dimension %d but the first row has %d "
              "values" % (int(dim) + 3, int(dim))),
             (b"%d %s\n" % (int(n) - 5, dim) + rows, "the header says %d words but the file has %d rows (a wrong "
              "header? 'embedcli convert --lenient' repairs such a file)" % (int(n) - 5, int(n))),
             (text.replace(b"\n", b"\n\n", 3).replace(b"\n\n", b"\n", 2), ":4: a blank line among the vectors")]  # after rows 1, 2
    for data, says in cases:
        (tmp_path / "bad.txt").write_bytes(data)
        res = run("neighbors", tmp_path / "bad.txt", word, ok=False)
        assert res.exit_code == 3 and says in res.stderr, res.stderr


def test_the_wrong_kind_of_file_exits_2_as_the_readme_says(made, small_tokens):
    for args, says in ((("neighbors", small_tokens, "the"), "looks like a tokens file, not vectors"),
                       (("neighbors", made / "cooccur.npz", "the"), "a count matrix, not vectors"),
                       (("svd", made / "vectors.npz", "-o", made / "x.npz"), "a vectors file (embedcli-vectors), "
                        "expected a matrix file"),
                       (("svd", small_tokens, "-o", made / "x.npz"), "looks like a tokens file, not a matrix"),
                       (("svd", made / "vocab.tsv", "-o", made / "x.npz"), "looks like a vocabulary"),
                       (("cooccur", small_tokens, "--vocab", made / "vectors.npz", "-o", made / "x.npz"),
                        "looks like a vectors file, not a vocabulary"),
                       (("cooccur", small_tokens, "--vocab", made / "cooccur.npz", "-o", made / "x.npz"),
                        "looks like a count matrix (embedcli cooccur/termdoc), not a vocabulary"),
                       (("cooccur", small_tokens, "--vocab", small_tokens, "-o", made / "x.npz"),
                        "looks like a tokens file, not a vocabulary")):
        res = run(*args, ok=False)
        assert res.exit_code == 2 and says in res.stderr and "Traceback" not in res.stderr, res.stderr


def test_a_token_pattern_that_matches_white_space_is_refused(tmp_path):
    (tmp_path / "t.txt").write_text("a\tb c\n")
    res = run("tokenize", tmp_path / "t.txt", "--token-pattern", r"\S+\s\S+", "-o", tmp_path / "o.txt", ok=False)
    assert res.exit_code == 2 and "matches white space inside a token" in res.stderr
    assert not (tmp_path / "o.txt").exists()
    run("tokenize", tmp_path / "t.txt", "--token-pattern", r"\w+|[^\w\s]", "-o", tmp_path / "o.txt", "-q")
    assert (tmp_path / "o.txt").read_text() == "a b c\n"


def test_vectors_from_a_pipe_are_read(made, small_tokens, tmp_path):
    """A named pipe or a process substitution (``<(zcat v.txt.gz)``) is read whole, once; a device
    stays refused (it would never end)."""
    import os
    import subprocess
    import sys
    import threading

    text = (made / "plain.txt").read_bytes()
    word = text.split(b"\n", 2)[1].split(b" ", 1)[0].decode()
    fifo = tmp_path / "v.fifo"
    os.mkfifo(fifo)
    for args in (["neighbors", fifo, word, "-k", "1"],
                 ["docvec", fifo, small_tokens, "-o", tmp_path / "d.npz", "-q"]):  # records provenance too
        writer = threading.Thread(target=(fifo).write_bytes, args=(text,))
        writer.start()
        res = subprocess.run([sys.executable, "-m", "embedcli", *map(str, args)], capture_output=True, text=True,
                             timeout=120)  # a second open of the pipe would block: the timeout fails the test
        writer.join()
        assert res.returncode == 0, res.stderr
    assert res.returncode == 0 and Vectors.load(str(tmp_path / "d.npz")).vectors.shape[0] > 0
    writer = threading.Thread(target=(fifo).write_bytes, args=(text[: len(text) // 2],))
    writer.start()
    res = subprocess.run([sys.executable, "-m", "embedcli", "neighbors", str(fifo), word], capture_output=True,
                         text=True, timeout=120)
    writer.join()
    assert res.returncode == 3 and f"{fifo}:" in res.stderr and "embedcli-stream" not in res.stderr
    # what is plainly not vectors is refused from its first 64 kB, before the rest is copied
    for data, code, says in ((small_tokens.read_bytes()[:20000], 2, "looks like a tokens file"),
                             (bytes(50000), 3, "does not start like a vectors file")):
        writer = threading.Thread(target=(fifo).write_bytes, args=(data,))
        writer.start()
        res = subprocess.run([sys.executable, "-m", "embedcli", "neighbors", str(fifo), word], capture_output=True,
                             text=True, timeout=120)
        writer.join()
        assert res.returncode == code and says in res.stderr, res.stderr
    # info describes what a pipe holds, as the commands read it; endless zeros stop at 64 kB
    def feed(data):
        try:
            fifo.write_bytes(data)
        except BrokenPipeError:  # the reader stopped at 64 kB, as it should
            pass

    for data, code, says in ((text, 0, '"kind": "vectors"'), (bytes(200000), 3, "zero bytes")):
        writer = threading.Thread(target=feed, args=(data,))
        writer.start()
        res = subprocess.run([sys.executable, "-m", "embedcli", "info", str(fifo)], capture_output=True, text=True,
                             timeout=120)
        writer.join()
        assert res.returncode == code and says in res.stdout + res.stderr, res.stderr
    assert "read from a pipe" in json.loads(subprocess.run(
        [sys.executable, "-m", "embedcli", "info", "/dev/stdin"], input=text, capture_output=True).stdout)["note"]
    assert not [p for p in os.listdir(os.environ.get("TMPDIR", "/tmp")) if p.startswith("embedcli-stream.")]


def test_vectors_piped_to_stdin_as_dash(made):
    """'-' as VECTORS reads vectors piped to standard input (it was refused; /dev/stdin worked);
    the queries must then be arguments; a tokens file piped in is named as such."""
    text = (made / "plain.txt").read_text()
    word = text.split("\n", 2)[1].split(" ", 1)[0]
    res = run("neighbors", "-", word, "-k", 1, input=text)
    assert res.stdout.startswith(word + "\t")
    res = run("neighbors", "-", "-", input=text, ok=False)
    assert res.exit_code == 2 and "give the queries as arguments" in res.stderr
    res = run("neighbors", "-", word, input="the cat sat on the mat\n" * 100, ok=False)
    assert res.exit_code == 2 and "standard input: this looks like a tokens file" in res.stderr
    assert json.loads(run("info", "-", input=text).stdout)["kind"] == "vectors"
    assert run("neighbors", made / "plain.txt", "-", input=word + "\n").stdout.startswith(word)  # stdin free again


def test_stdin_of_the_wrong_kind_is_refused(made):
    """Vectors or a vocabulary piped where tokens belong are named from the bytes waiting on stdin
    (peeked, not consumed); numeric tokens (random walks) are still tokens."""
    import subprocess
    import sys

    def vocab_of(data: bytes):
        return subprocess.run([sys.executable, "-m", "embedcli", "vocab", "-", "-q"], input=data, capture_output=True,
                              timeout=120)

    for name, says in (("plain.txt", "this is a vectors file"), ("vocab.tsv", "this is a vocabulary")):
        res = vocab_of((made / name).read_bytes())
        assert res.returncode == 2 and b"standard input: " + says.encode() in res.stderr, res.stderr
    res = vocab_of(b"12 7 12 9\n7 12 3\n" * 50)
    assert res.returncode == 0 and res.stdout.startswith(b"12\t")


def test_a_full_tmpdir_is_named(tmp_path, small_tokens, monkeypatch):
    """No room for a temporary copy (a compressed corpus for gensim) names the copy and TMPDIR; it
    was blamed on standard output."""
    import errno
    import gzip

    import embedcli.fileio as fileio

    gz = tmp_path / "t.txt.gz"
    gz.write_bytes(gzip.compress(small_tokens.read_bytes()))

    def full(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(fileio.shutil, "copyfileobj", full)
    res = run("word2vec", gz, "-o", tmp_path / "w.npz", ok=False)
    assert res.exit_code == 2 and "embedcli-spool." in res.stderr and "set TMPDIR" in res.stderr
    assert "standard output" not in res.stderr and not (tmp_path / "w.npz").exists()


def test_a_malformed_file_keeps_its_precise_message(made, small_tokens, tmp_path):
    """'this looks like ...' is said only on strong signs: a vocabulary with spaces for tabs, a
    three-column file or garbage bytes keep the reader's own message (line, field count)."""
    vocab = (made / "vocab.tsv").read_text()
    (tmp_path / "spaces.tsv").write_text(vocab.replace("\t", " ").replace("\n", " x\n"))
    (tmp_path / "three.tsv").write_text("a\t1\tx\nb\t2\ty\n")
    (tmp_path / "g.npz").write_bytes(b"garbage\x00\x01\x02")
    for args, says in ((("cooccur", small_tokens, "--vocab", tmp_path / "spaces.tsv"), ":1: expected 'word count' (GloVe's vocab_count form, as line 1), got 3"),
                       (("cooccur", small_tokens, "--vocab", tmp_path / "three.tsv"), ":1: expected 'word<TAB>count', got 3"),
                       (("svd", tmp_path / "g.npz"), "not an embedcli matrix file")):
        res = run(*args, "-o", tmp_path / "x.npz", ok=False)
        assert res.exit_code == 3 and says in res.stderr and "looks like" not in res.stderr, res.stderr
    # GloVe's vocab_count format ('word count') is a vocabulary too: the same matrix as with tabs
    (tmp_path / "glove-vocab.txt").write_text(vocab.replace("\t", " "))
    for name in ("glove-vocab.txt", "vocab.tsv"):
        run("cooccur", small_tokens, "--vocab", made / "vocab.tsv" if name == "vocab.tsv" else tmp_path / name,
            "-o", tmp_path / f"{name}.npz", "-q")
    from embedcli.matrix import CountMatrix

    a, b = (CountMatrix.load(str(tmp_path / f"{n}.npz")) for n in ("glove-vocab.txt", "vocab.tsv"))
    assert a.row_words == b.row_words and (a.matrix != b.matrix).nnz == 0


def test_exports_projector_file_given_as_vectors_is_named(tmp_path, sample_run):
    run("export", sample_run[0] / "vectors.npz", "--top", "20", "-o", tmp_path / "exp", "-q")
    res = run("neighbors", tmp_path / "exp" / "vectors.tsv", "war", ok=False)
    assert res.exit_code == 2 and "looks like export's projector vectors" in res.stderr


def test_more_wrong_kinds_given_as_vectors(tmp_path, sample_run):
    """A phrase table, export's metadata.tsv and a gzipped .npz given as VECTORS are named as such."""
    import gzip
    import shutil

    tokens = sample_run[0] / "tokens.txt"
    run("phrases", tokens, "-o", tmp_path / "p.txt", "--phrases-output", tmp_path / "t.tsv", "-q")
    shutil.copy(tmp_path / "t.tsv", tmp_path / "copy.tsv")  # no sidecar: known by its first line
    run("export", sample_run[0] / "vectors.npz", "--top", "5", "-o", tmp_path / "exp", "-q")
    (tmp_path / "v.npz.gz").write_bytes(gzip.compress((sample_run[0] / "vectors.npz").read_bytes()))
    for path, says in ((tmp_path / "t.tsv", "looks like a phrase table"), (tmp_path / "copy.tsv", "a phrase table"),
                       (tmp_path / "exp" / "metadata.tsv", "export's projector metadata"),
                       (tmp_path / "v.npz.gz", "a compressed native .npz")):
        res = run("neighbors", path, "the", ok=False)
        assert res.exit_code in (2, 3) and says in res.stderr, (path, res.stderr)
    assert '"kind": "phrases"' in run("info", tmp_path / "copy.tsv").stdout
