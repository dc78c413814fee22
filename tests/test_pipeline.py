from conftest import run

from embedcli.matrix import CountMatrix
from embedcli.vectors import Vectors


def test_pipeline_on_bundled_sample(sample_run):
    out, res = sample_run
    for name in ("tokens.txt", "vocab.tsv", "cooccur.npz", "vectors.npz"):
        assert (out / name).stat().st_size > 0
    text = res.stdout
    for stage in ("tokenize", "vocab", "cooccur", "svd", "total", "nearest neighbours:"):
        assert stage in text
    assert "(bundled sample)" in text
    v = Vectors.load(str(out / "vectors.npz"))
    vocab = [line.split("\t") for line in (out / "vocab.tsv").read_text().splitlines()]
    assert v.words == [w for w, _ in vocab] and all(int(c) >= 5 for _, c in vocab)
    assert v.dim == 100 and len(v) > 5000
    cm = CountMatrix.load(str(out / "cooccur.npz"))
    assert cm.provenance["spec"]["window"] == 5 and cm.row_words == v.words
    assert len(v.meta["singular_values"]) == 100
    # a sanity check of quality on the sample: "economy" lands near "economic" words
    nb = run("neighbors", out / "vectors.npz", "economy", "-k", "10").stdout
    assert any(w in nb for w in ("growth", "economic", "prosperity"))


def test_piped_steps_match_pipeline(tmp_path, small_speeches):
    """tokenize | vocab, cooccur --vocab, svd: the README's shell session."""
    toks = run("tokenize", small_speeches, "-q").stdout
    vocab = run("vocab", "-", "--min-count", "3", "-q", input=toks).stdout
    (tmp_path / "vocab.tsv").write_text(vocab)
    run("cooccur", "-", "--vocab", tmp_path / "vocab.tsv", "-o", tmp_path / "m.npz", "-q", input=toks)
    run("svd", tmp_path / "m.npz", "-o", tmp_path / "v.txt", "--dim", "30", "-q")
    assert open(tmp_path / "v.txt").readline().split()[1] == "30"


def test_pipeline_errors(tmp_path):
    res = run("pipeline", tmp_path / "missing.txt", "-o", tmp_path / "o", ok=False)
    assert res.exit_code == 2 and "no such file" in res.stderr
    res = run("pipeline", "-o", tmp_path / "o", "--window", "0", ok=False)
    assert res.exit_code == 2 and "--window" in res.stderr


def test_pipeline_folder_is_one_run_and_one_writer(tmp_path, small_speeches):
    """Once this run's tokens are in the folder, an earlier run's later files (which would not
    match them) are gone, also those this method does not write; a second pipeline on the same
    folder is refused while the first runs; a lock left by a dead process is taken over."""
    import os
    import subprocess
    import sys

    from embedcli.pipeline import LOCK_NAME

    out = tmp_path / "out"
    out.mkdir()
    for name in ("cooccur.npz", "cooccur.npz.meta.json", "vectors.npz"):
        (out / name).write_bytes(b"from an earlier run")
    run("pipeline", small_speeches, "-o", out, "--method", "word2vec", "--epochs", 1, "--min-count", 2, "-q")
    assert not (out / "cooccur.npz").exists() and not (out / "cooccur.npz.meta.json").exists()
    assert (out / "vectors.npz").read_bytes()[:2] == b"PK" and not (out / LOCK_NAME).exists()
    (out / LOCK_NAME).write_text(f"{os.getpid()}\n")  # a live process holds it
    r = run("pipeline", small_speeches, "-o", out, ok=False)
    assert r.exit_code == 2 and "another embedcli pipeline" in r.stderr
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (out / LOCK_NAME).write_text(dead.stdout.strip() + " elsewhere.example\n")  # another host's: not checkable
    r = run("pipeline", small_speeches, "-o", out, ok=False)
    assert r.exit_code == 2 and "on elsewhere.example" in r.stderr
    (out / LOCK_NAME).write_text(dead.stdout)  # its writer is gone
    run("pipeline", small_speeches, "-o", out, "--min-count", 2, "-q")
    assert not (out / LOCK_NAME).exists()


def test_an_interrupted_pipeline_names_what_it_completed(tmp_path, capsys):
    """Files written since the run started are named (the step-by-step commands go on from them);
    an earlier run's files are not."""
    import os
    import time

    from embedcli.cli.training import _name_completed

    for name in ("tokens.txt", "vocab.tsv", "cooccur.npz"):
        (tmp_path / name).write_text("x")
    old = time.time() - 3600
    os.utime(tmp_path / "cooccur.npz", (old, old))  # left from an earlier run
    _name_completed(str(tmp_path), time.time() - 60)
    err = capsys.readouterr().err
    assert "tokens.txt" in err and "vocab.tsv" in err and "cooccur.npz" not in err
    _name_completed(str(tmp_path), time.time() + 60)
    assert capsys.readouterr().err == ""


def _stages(res) -> dict:
    """``stage -> "reused" | "ran"`` from the pipeline's report."""
    out = {}
    for line in res.stdout.splitlines():
        parts = line.split()
        if parts and parts[0] in ("tokenize", "vocab", "cooccur", "svd", "glove", "word2vec", "fasttext"):
            out[parts[0]] = "reused" if "reused" in line else "ran"
    return out


def test_resume_reuses_what_matches_and_reruns_the_rest(tmp_path, monkeypatch):
    """`pipeline --resume` reuses the stage files made from the same corpus with the same options
    and runs what changed: another --dim reruns the SVD only (same vectors as a fresh run), another
    --window reruns cooccur and svd, a corpus changed since reruns everything."""
    import os

    import numpy as np

    from embedcli.pipeline import sample_corpus_path

    corpus = tmp_path / "c.txt"
    corpus.write_text("\n".join(__import__("gzip").open(sample_corpus_path(), "rt").read().splitlines()[:15]) + "\n")
    out = tmp_path / "out"
    base = ("pipeline", corpus, "-o", out, "--min-count", 3, "--dim", 20)
    first = _stages(run(*base))
    assert set(first.values()) == {"ran"}
    stamps = {n: os.stat(out / n).st_mtime_ns for n in ("tokens.txt", "vocab.tsv", "cooccur.npz", "vectors.npz")}

    assert _stages(run(*base, "--resume")) == dict.fromkeys(first, "reused")
    assert stamps == {n: os.stat(out / n).st_mtime_ns for n in stamps}  # nothing rewritten
    with monkeypatch.context() as m:  # the same folder spelled otherwise (it used to refuse -o .)
        m.chdir(out)
        assert _stages(run("pipeline", corpus, "-o", ".", "--min-count", 3, "--dim", 20, "--resume")) == \
            dict.fromkeys(first, "reused")

    assert _stages(run(*base, "--dim", 10, "--resume")) == {"tokenize": "reused", "vocab": "reused",
                                                            "cooccur": "reused", "svd": "ran"}
    fresh = tmp_path / "fresh"
    run("pipeline", corpus, "-o", fresh, "--min-count", 3, "--dim", 10, "-q")
    assert np.array_equal(Vectors.load(str(out / "vectors.npz")).vectors, Vectors.load(str(fresh / "vectors.npz")).vectors)

    assert _stages(run(*base, "--window", 2, "--resume")) == {"tokenize": "reused", "vocab": "reused",
                                                              "cooccur": "ran", "svd": "ran"}
    assert CountMatrix.load(str(out / "cooccur.npz")).provenance["spec"]["window"] == 2
    # without --resume every stage runs, as before
    assert set(_stages(run(*base)).values()) == {"ran"}

    with open(corpus, "a") as f:  # the corpus changed since: tokenized again, and so everything after
        f.write("a new line about liberty and freedom\n")
    assert set(_stages(run(*base, "--resume")).values()) == {"ran"}

    (out / "cooccur.npz").unlink()  # as after an interrupt during cooccur
    assert _stages(run(*base, "--resume")) == {"tokenize": "reused", "vocab": "reused", "cooccur": "ran", "svd": "ran"}

    with open(out / "tokens.txt", "r+b") as f:  # edited in place (same size): not trusted
        f.write(b"x")
    assert set(_stages(run(*base, "--resume")).values()) == {"ran"}


def test_resume_other_methods_and_library(tmp_path, small_speeches):
    """word2vec reuses tokens and vocabulary, retrains on another --epochs; the library reports the
    reused stages with 0 seconds."""
    from embedcli.pipeline import run_pipeline
    from embedcli.specs import VocabSpec, Word2VecSpec

    out = tmp_path / "w"
    args = ("pipeline", small_speeches, "-o", out, "--method", "word2vec", "--min-count", 3, "--dim", 10,
            "--workers", 1)
    run(*args, "--epochs", 1, "-q")
    assert _stages(run(*args, "--epochs", 1, "--resume")) == {"tokenize": "reused", "vocab": "reused",
                                                              "word2vec": "reused"}
    assert _stages(run(*args, "--epochs", 2, "--resume")) == {"tokenize": "reused", "vocab": "reused",
                                                              "word2vec": "ran"}
    res = run_pipeline(small_speeches, out, method="word2vec", vocab=VocabSpec(min_count=3),
                       word2vec=Word2VecSpec(vector_size=10, epochs=2, workers=1), resume=True)
    assert [(name, secs) for name, secs, _ in res.stages] == [("tokenize", 0.0), ("vocab", 0.0), ("word2vec", 0.0)]
    assert len(res.vectors) > 100


def test_resume_tells_files_apart_by_identity_not_by_name(tmp_path, monkeypatch):
    """A corpus replaced by another of the same size and an older time, or an edited stop-word
    file, is tokenized again; the same corpus spelled otherwise is reused; fastText's
    automatic bucket and the thread count of trained vectors are compared as applied."""
    import os

    from embedcli.pipeline import sample_corpus_path

    monkeypatch.chdir(tmp_path)
    lines = __import__("gzip").open(sample_corpus_path(), "rt").read().splitlines()[:12]
    open("c.txt", "w").write("\n".join(lines) + "\n")
    open("other.txt", "w").write("\n".join(reversed(lines)) + "\n")  # same size, other order
    os.utime("other.txt", (1e9, 1e9))  # older than anything: a make-like rule would be fooled
    open("sw.txt", "w").write("the\nof\n")
    base = ("pipeline", "c.txt", "-o", "out", "--min-count", 3, "--dim", 10, "--stopwords", "sw.txt")
    run(*base, "-q")
    assert set(_stages(run("pipeline", "./c.txt", *base[2:], "--resume")).values()) == {"reused"}
    os.replace("other.txt", "c.txt")
    assert _stages(run(*base, "--resume"))["tokenize"] == "ran"
    open("sw.txt", "a").write("and\n")
    assert _stages(run(*base, "--resume"))["tokenize"] == "ran"
    assert " and " not in " " + open("out/tokens.txt").read().replace("\n", " ")
    # another list put in place with its old time (cp -p, mv): noticed by content, not by time
    open("sw2.txt", "w").write("the\nto\n")
    st = os.stat("sw.txt")
    os.utime("sw2.txt", ns=(st.st_atime_ns, st.st_mtime_ns - 10**9))
    os.replace("sw2.txt", "sw.txt")
    assert _stages(run(*base, "--resume"))["tokenize"] == "ran"
    assert " and " in " " + open("out/tokens.txt").read().replace("\n", " ")
    assert set(_stages(run(*base, "--resume")).values()) == {"reused"}  # the same list again: reused

    ft = ("pipeline", "c.txt", "-o", "ft", "--method", "fasttext", "--min-count", 3, "--dim", 8, "--epochs", 1)
    run(*ft, "--workers", 1, "-q")
    assert _stages(run(*ft, "--workers", 1, "--resume"))["fasttext"] == "reused"  # bucket sized as before
    assert _stages(run(*ft, "--workers", 2, "--resume"))["fasttext"] == "ran"  # threads change the result


def test_the_matrix_written_beside_the_svd_is_whole_or_its_error_stops_the_run(tmp_path, small_speeches,
                                                                                monkeypatch):
    """cooccur.npz is written on a thread while the SVD starts: a write that fails stops the run
    with its one-line error and no vectors; an SVD that fails leaves the whole matrix behind (as
    when the stages ran one after the other); a run that works gives the same files."""
    import time

    import embedcli.matrix as matrix
    import embedcli.svd as svd
    from embedcli.errors import DataError, InputError
    from embedcli.matrix import CountMatrix

    run("pipeline", small_speeches, "-o", tmp_path / "a", "--dim", "20", "-q")
    want = CountMatrix.load(str(tmp_path / "a" / "cooccur.npz"))
    real_save = matrix.CountMatrix.save

    def full_disk(self, path):
        time.sleep(0.5)  # fails after the SVD began
        raise InputError(f"{path}: cannot write: No space left on device")

    monkeypatch.setattr(matrix.CountMatrix, "save", full_disk)
    res = run("pipeline", small_speeches, "-o", tmp_path / "b", "--dim", "20", "-q", ok=False)
    assert res.exit_code == 2 and "cooccur.npz: cannot write: No space left on device" in res.stderr
    assert "Traceback" not in res.stderr and not (tmp_path / "b" / "vectors.npz").exists()
    monkeypatch.setattr(matrix.CountMatrix, "save", real_save)

    def no_svd(*a, **k):
        raise DataError("the svd failed")

    monkeypatch.setattr(svd, "_truncated_svd", no_svd)  # (what factorize calls)
    res = run("pipeline", small_speeches, "-o", tmp_path / "c", "--dim", "20", "-q", ok=False)
    assert res.exit_code == 3 and "the svd failed" in res.stderr
    got = CountMatrix.load(str(tmp_path / "c" / "cooccur.npz"))
    assert (got.matrix != want.matrix).nnz == 0 and got.row_words == want.row_words
    assert not (tmp_path / "c" / "vectors.npz").exists()


def test_the_matrix_save_is_waited_for_through_a_ctrl_c(tmp_path):
    """A Ctrl-C (or a signal) while the pipeline waits for cooccur.npz's writer: the wait goes on
    until the writer is done, then the interrupt is raised. (An interrupted Thread.join marks the
    thread as ended on Python 3.11: the exit then cut the write short, leaving its temporary file.)"""
    import signal
    import threading

    import pytest

    from embedcli.pipeline import _SaveThread

    release, saved = threading.Event(), []

    class Matrix:
        def sum_duplicates(self):
            pass

    class Counts:
        matrix, path = Matrix(), None

        def save(self, path):
            release.wait()
            saved.append(path)

    st = _SaveThread(Counts(), str(tmp_path / "m.npz"))
    real_wait, calls = st.done.wait, []

    def wait():
        calls.append(1)
        if len(calls) == 1:
            signal.raise_signal(signal.SIGINT)  # a Ctrl-C, in the main thread, while it waits
        release.set()
        return real_wait()

    st.done.wait = wait
    before = signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a terminal, not a background job
    try:
        with pytest.raises(KeyboardInterrupt):
            st.join()
    finally:
        signal.signal(signal.SIGINT, before)
        release.set()  # a failure above must not leave the writer waiting (the session would not end)
    assert saved == [str(tmp_path / "m.npz")] and len(calls) == 2
    st.thread.join()
