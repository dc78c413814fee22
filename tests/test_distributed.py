"""Counting on a Dask cluster (``--scheduler``): a LocalCluster of 2 worker processes gives the same
bytes as the in-process run, also when a worker is killed mid-run."""

import os
import signal

import numpy as np
import pytest

from conftest import run

pytest.importorskip("distributed")

import embedcli.distributed as D  # noqa: E402
from embedcli.matrix import CountMatrix  # noqa: E402


@pytest.fixture(scope="module")
def client():
    with D.connect("local:2") as c:
        yield c


def same_matrix(a, b):
    return all(np.array_equal(getattr(a, x), getattr(b, x)) for x in ("data", "indices", "indptr"))


def test_vocab_and_cooccur_on_a_cluster_are_the_same_bytes(tmp_path, small_tokens, monkeypatch):
    monkeypatch.setattr(D, "SEGMENT_BYTES", 40_000)  # about 12 tasks on the small corpus
    for sched in ([], ["--scheduler", "local:2"]):
        tag = "d" if sched else "p"
        run("vocab", small_tokens, "--min-count", "2", "-o", tmp_path / f"{tag}.tsv", "-q", *sched)
        run("cooccur", small_tokens, "--min-count", "3", "--window", "7", "-o", tmp_path / f"{tag}.npz", "-q", *sched)
    assert (tmp_path / "d.tsv").read_bytes() == (tmp_path / "p.tsv").read_bytes()
    a, b = CountMatrix.load(str(tmp_path / "p.npz")), CountMatrix.load(str(tmp_path / "d.npz"))
    assert same_matrix(a.matrix, b.matrix) and a.row_words == b.row_words and a.matrix.nnz > 10_000


def test_a_killed_worker_changes_nothing(client, small_tokens):
    from embedcli.cooccur import cooccurrence_matrix
    from embedcli.specs import CooccurSpec, VocabSpec
    from embedcli.vocab import build_vocab

    vocab = build_vocab(str(small_tokens), VocabSpec(min_count=3))
    spec = CooccurSpec(window=5)
    want = cooccurrence_matrix(str(small_tokens), vocab, spec)
    pids = list(client.run(os.getpid).values())

    class KillOnce:  # progress hook: the first finished task kills a worker process
        killed = False

        def update(self, done):
            if not self.killed:
                self.killed = True
                os.kill(pids[0], signal.SIGKILL)

        def close(self):
            pass

    hook = KillOnce()
    rel = os.path.relpath(small_tokens)  # made absolute for the workers
    got = D.cooccurrence_on(client, rel, vocab, spec, hook, segment_bytes=20_000, group=3)  # several groups
    assert hook.killed and same_matrix(got, want)
    assert D.count_tokens_on(client, str(small_tokens), None, 20_000) == \
        __import__("embedcli.vocab", fromlist=["count_tokens"]).count_tokens(str(small_tokens))


def test_scheduler_errors_are_one_line(tmp_path, small_tokens):
    import gzip

    gz = tmp_path / "t.txt.gz"
    gz.write_bytes(gzip.compress(small_tokens.read_bytes()))
    (tmp_path / "empty.txt").write_bytes(b"")
    for args, code, text in [
        (("cooccur", gz, "--scheduler", "local:1", "-o", tmp_path / "x.npz"), 2, "decompress"),
        (("cooccur", small_tokens, "--scheduler", "local:0", "-o", tmp_path / "x.npz"), 2, "--scheduler"),
        (("cooccur", small_tokens, "--scheduler", "local:1", "--dynamic-window", "-o", tmp_path / "x.npz"), 2,
         "--dynamic-window"),
        (("vocab", small_tokens, "--scheduler", "tcp://127.0.0.1:1", "-o", tmp_path / "x.tsv"), 2, "cannot connect"),
        (("vocab", small_tokens, "--scheduler", "", "-o", tmp_path / "x.tsv"), 2, "--scheduler"),
        (("vocab", "-", "--scheduler", "local:1", "-o", tmp_path / "x.tsv"), 2, "standard input"),
        (("vocab", tmp_path / "empty.txt", "--scheduler", "local:1", "-o", tmp_path / "x.tsv"), 3, "no tokens"),
        # refused before connecting (an unreachable address would take seconds to say so)
        (("cooccur", small_tokens, "--scheduler", "tcp://127.0.0.1:1", "--workers", "2", "-o", tmp_path / "x.npz"), 2,
         "--workers: with --scheduler"),
        (("tokenize", small_tokens, "--scheduler", "tcp://127.0.0.1:1", "-o", tmp_path / "no" / "x.txt"), 2,
         "does not exist"),
        (("pipeline", small_tokens, "--scheduler", "tcp://127.0.0.1:1", "-o", tmp_path / "empty.txt"), 2,
         "not a folder"),
    ]:
        res = run(*args, ok=False)
        assert res.exit_code == code, (args, res.stderr)
        assert text in res.stderr and len(res.stderr.strip().splitlines()) == 1, res.stderr
    assert not list(tmp_path.glob("x.*"))


def test_svd_on_a_cluster_matches_in_process(tmp_path, sample_run):
    from embedcli.vectors import Vectors

    out, _ = sample_run
    run("svd", out / "cooccur.npz", "--dim", "50", "-o", tmp_path / "p.npz", "-q")
    run("svd", out / "cooccur.npz", "--dim", "50", "-o", tmp_path / "d.npz", "-q", "--scheduler", "local:2")
    a, b = Vectors.load(str(tmp_path / "p.npz")), Vectors.load(str(tmp_path / "d.npz"))
    # the same tiles and sums as in-process, and the client's BLAS keeps its threads: the same bits
    assert a.meta["singular_values"] == b.meta["singular_values"]
    assert np.array_equal(np.asarray(a.vectors), np.asarray(b.vectors))
    res = run("svd", out / "cooccur.npz", "--solver", "arpack", "--scheduler", "local:1", "-o", tmp_path / "x.npz",
              ok=False)
    assert res.exit_code == 2 and "--solver" in res.stderr


def test_pipeline_on_a_cluster(tmp_path, small_speeches):
    from embedcli.vectors import Vectors

    run("pipeline", small_speeches, "-o", tmp_path / "p", "--dim", "20", "-q")
    run("pipeline", small_speeches, "-o", tmp_path / "d", "--dim", "20", "-q", "--scheduler", "local:2")
    a, b = (CountMatrix.load(str(tmp_path / x / "cooccur.npz")).matrix for x in ("p", "d"))
    assert same_matrix(a, b)
    va, vb = (Vectors.load(str(tmp_path / x / "vectors.npz")) for x in ("p", "d"))
    assert np.allclose(va.meta["singular_values"], vb.meta["singular_values"], rtol=1e-6)
    for extra in (["--method", "word2vec"], ["--sample", "1e-5"], ["--solver", "arpack"]):
        res = run("pipeline", small_speeches, "-o", tmp_path / "w", *extra, "--scheduler", "local:1", ok=False)
        assert res.exit_code == 2 and extra[0] in res.stderr and not (tmp_path / "w").exists(), res.stderr


def test_a_url_on_a_cluster(tmp_path, small_tokens, client):
    """An fsspec URL is read by the workers (file:// here, the code path of s3:// and gs://); a URL
    the workers cannot see (memory:// lives in the client process only) is a clear error."""
    import fsspec

    from embedcli.cooccur import cooccurrence_matrix
    from embedcli.errors import InputError
    from embedcli.specs import CooccurSpec, VocabSpec
    from embedcli.vocab import build_vocab

    vocab = build_vocab(str(small_tokens), VocabSpec(min_count=3))
    spec = CooccurSpec(window=4)
    got = D.cooccurrence_on(client, "file://" + str(small_tokens), vocab, spec, None, segment_bytes=30_000)
    assert same_matrix(got, cooccurrence_matrix(str(small_tokens), vocab, spec))
    with fsspec.open("memory://embedcli-test/t.txt", "wb") as f:
        f.write(small_tokens.read_bytes())
    with pytest.raises(InputError, match="workers need the same URL"):
        D.cooccurrence_on(client, "memory://embedcli-test/t.txt", vocab, spec)


def test_termdoc_on_a_cluster_is_the_same_bytes(tmp_path, small_tokens, monkeypatch):
    """Term-document counts by byte range, the column blocks put side by side in file order: the
    same matrix and document ids as in-process, whatever the ranges (a blank line included)."""
    monkeypatch.setattr(D, "SEGMENT_BYTES", 25_000)
    tokens = tmp_path / "t.txt"
    tokens.write_bytes(small_tokens.read_bytes() + b"\nzzzunknown\n\nthe end")  # blank, OOV-only, no final newline
    for sched in ([], ["--scheduler", "local:2"]):
        tag = "d" if sched else "p"
        run("termdoc", tokens, "--weighting", "tfidf", "--min-count", "2", "-o", tmp_path / f"{tag}.npz", "-q", *sched)
    a, b = (CountMatrix.load(str(tmp_path / f"{t}.npz")) for t in "pd")
    assert same_matrix(a.matrix, b.matrix) and a.col_words == b.col_words and a.row_words == b.row_words
    assert a.matrix.shape[1] == tokens.read_bytes().count(b"\n") + 1 and a.matrix.nnz > 5_000


def test_tokenize_on_a_cluster_is_the_same_bytes(tmp_path, small_speeches, monkeypatch):
    """Blocks tokenized as tasks, stitched and written by the client: the same tokens, ids and
    counts as in-process, for files and for stdin (the workers never open the inputs)."""
    import embedcli.tokenizer as T

    monkeypatch.setattr(T, "TOKENIZE_CHUNK_BYTES", 8_000)  # many blocks, documents cut across them
    for sched in ([], ["--scheduler", "local:2"]):
        tag = "d" if sched else "p"
        run("tokenize", small_speeches, "-o", tmp_path / f"{tag}.txt", "--ids-output", tmp_path / f"{tag}.ids", "-q",
            *sched)
    assert (tmp_path / "p.txt").read_bytes() == (tmp_path / "d.txt").read_bytes()
    assert (tmp_path / "p.ids").read_bytes() == (tmp_path / "d.ids").read_bytes()
    text = "Hello  World.\n\nSecond line, here!\n" * 500
    a = run("tokenize", "-", input=text).stdout
    b = run("tokenize", "-", "--scheduler", "local:1", "-q", input=text).stdout
    assert a == b and a.startswith("hello world\nsecond line here\n")
    res = run("tokenize", small_speeches, "--token-pattern", "(", "--scheduler", "local:1", "-o", tmp_path / "x.txt",
              ok=False)
    assert res.exit_code == 2 and not (tmp_path / "x.txt").exists()


def test_a_server_that_never_answers_is_an_error_not_a_hang(tmp_path, small_tokens, monkeypatch):
    import socket

    monkeypatch.setattr(__import__("embedcli.cluster", fromlist=["x"]), "CONNECT_WAIT", 1.0)
    with socket.socket() as srv:  # accepts connections (kernel backlog), never speaks dask's protocol
        srv.bind(("127.0.0.1", 0))
        srv.listen(8)
        port = srv.getsockname()[1]
        res = run("vocab", small_tokens, "--scheduler", f"tcp://127.0.0.1:{port}", "-o", tmp_path / "v.tsv", ok=False)
    assert res.exit_code == 2 and "no dask scheduler answered" in res.stderr and not (tmp_path / "v.tsv").exists()


def test_an_http_answer_is_named_as_not_a_scheduler(tmp_path, small_tokens):
    """A web server (a proxy, the dashboard's port) answers with bytes dask read as a length: it
    said 'Unable to allocate 3.07 EiB'."""
    import socket
    import threading

    with socket.socket() as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen(8)

        def answer():
            for _ in range(4):
                try:
                    conn, _ = srv.accept()
                except OSError:
                    return
                with conn:
                    conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n" * 8)

        threading.Thread(target=answer, daemon=True).start()
        port = srv.getsockname()[1]
        res = run("vocab", small_tokens, "--scheduler", f"tcp://127.0.0.1:{port}", "-o", tmp_path / "v.tsv", ok=False)
    assert res.exit_code == 2 and len(res.stderr.strip().splitlines()) == 1, res.stderr
    assert "EiB" not in res.stderr and "--scheduler" in res.stderr


def test_cluster_failures_are_one_line_errors(tmp_path):
    """A task that killed its workers (out of memory), a lost scheduler, workers without embedcli or with
    another version, a worker's stale copy of the same size: each a one-line error naming it."""
    from distributed.client import FutureCancelledError
    from distributed.scheduler import KilledWorker

    from embedcli.cluster import _cluster_errors, check_workers
    from embedcli.errors import DataError, InputError

    with pytest.raises(DataError, match="died each time they ran it"):
        with _cluster_errors():
            raise KilledWorker("_segment_units-1", None, 3)
    with pytest.raises(DataError, match="connection to the scheduler was lost"):
        with _cluster_errors(scheduler="tcp://h:8786"):
            raise FutureCancelledError("_add-1", "scheduler-connection-lost")

    class Fake:
        def __init__(self, answer):
            self.answer = answer

        def run(self, fn, *args, on_error="raise"):
            if isinstance(self.answer, Exception):
                raise self.answer
            return self.answer

    from embedcli import __version__

    check_workers(Fake({"tcp://a:1": __version__}))
    with pytest.raises(InputError, match="runs embedcli 0.0.1"):
        check_workers(Fake({"tcp://a:1": __version__, "tcp://b:1": "0.0.1"}))
    with pytest.raises(InputError, match="worker tcp://b:1 cannot run embedcli .*No module named 'embedcli'"):
        check_workers(Fake({"tcp://a:1": __version__, "tcp://b:1": ModuleNotFoundError("No module named 'embedcli'")}))
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("aaaa bbbb\n")
    b.write_text("cccc dddd\n")
    with pytest.raises(InputError, match="another file of the same size"):
        D._segments(Fake({"w": D._identity_or_why(str(b))}), str(a), None)


def _sigint_state():
    import signal

    return signal.getsignal(signal.SIGINT) == signal.SIG_IGN or signal.SIGINT in signal.pthread_sigmask(
        signal.SIG_BLOCK, [])


def test_local_workers_leave_ctrl_c_to_the_client(client):
    """Ctrl-C reaches the whole process group; local:N workers never see it (no traceback from each
    worker), the client stops the run and closes them."""
    import signal

    assert all(client.run(_sigint_state).values())
    assert signal.getsignal(signal.SIGINT) != signal.SIG_IGN
    assert signal.SIGINT not in signal.pthread_sigmask(signal.SIG_BLOCK, [])  # the client's own mask is back


def test_a_bad_line_is_named_by_its_line_in_the_whole_file(tmp_path, client):
    from embedcli.errors import DataError
    from embedcli.vocab import count_tokens

    lines = [b"alpha beta gamma delta"] * 2000
    lines[1499] = b"alpha \xff beta"
    p = tmp_path / "bad.txt"
    p.write_bytes(b"\n".join(lines) + b"\n")
    with pytest.raises(DataError) as want:
        count_tokens(str(p))
    assert ":1500:" in str(want.value)
    with pytest.raises(DataError) as got:
        D.count_tokens_on(client, str(p), None, 5_000)  # the bad line is in the 7th range
    assert str(got.value) == str(want.value)

