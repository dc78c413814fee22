"""The catalogue of bad inputs (one test each), interrupted runs, hostile files, reproducibility.

Exit codes: 2 = usage error (option, argument, path), 3 = data error (file content).
"""

import gzip
import json
import os
import pickle
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import run

from embedcli.vectors import Vectors


def one_line_error(res, code, *fragments):
    assert res.exit_code == code, (res.exit_code, res.stdout, res.stderr)
    assert res.stderr.startswith("embedcli: error: ") and res.stderr.count("\n") == 1, res.stderr
    assert "Traceback" not in res.stderr
    for f in fragments:
        assert str(f) in res.stderr, (f, res.stderr)


# --------------------------------------------------------------------------- corpora
def test_missing_path(tmp_path):
    one_line_error(run("tokenize", tmp_path / "nope.txt", ok=False), 2, tmp_path / "nope.txt", "no such file")


def test_folder_without_files(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / ".hidden").write_text("text")
    one_line_error(run("tokenize", tmp_path / "d", ok=False), 2, "holds no files")


def test_folder_without_readable_text(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "a.txt").write_text("")
    (tmp_path / "d" / "b.txt").write_text(" ... !!! \n")
    one_line_error(run("tokenize", tmp_path / "d", ok=False), 3, "2 inputs: no tokens found")


def test_empty_corpus(tmp_path):
    (tmp_path / "e.txt").write_text("")
    one_line_error(run("tokenize", tmp_path / "e.txt", ok=False), 3, "no tokens found")
    one_line_error(run("pipeline", tmp_path / "e.txt", "-o", tmp_path / "o", ok=False), 3, "no tokens found")


def test_binary_file_as_corpus(tmp_path):
    p = tmp_path / "image.png"
    p.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 20)
    one_line_error(run("tokenize", p, ok=False), 3, f"{p}:3: NUL byte: this looks like a binary file")


def test_latin1_strict_and_replace(tmp_path):
    p = tmp_path / "l1.txt"
    p.write_bytes(b"one\ntwo\nna\xefve\n")
    one_line_error(run("tokenize", p, "--encoding", "utf-8", "--errors", "strict", ok=False), 3, f"{p}:3:", "0xef")
    assert run("tokenize", p, "--errors", "replace", "-q").stdout == "one\ntwo\nna ve\n"


def test_single_50mb_line_keeps_memory_bounded(tmp_path):
    p = tmp_path / "line.txt"
    word = b"lorem ipsum dolor sit amet consectetur adipiscing elit "
    with open(p, "wb") as f:
        for _ in range(50_000_000 // len(word) + 1):
            f.write(word)
    assert os.path.getsize(p) >= 50_000_000
    out = tmp_path / "tok.txt"
    code = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True);"
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    peak_kb = int(subprocess.run([sys.executable, "-c", code, sys.executable, "-m", "embedcli", "tokenize", str(p),
                                  "-o", str(out), "-q"], capture_output=True, text=True, check=True).stdout)
    assert peak_kb < 250_000, f"peak RSS {peak_kb} kB for a 50 MB line"
    with open(out, "rb") as f:
        data = f.read()
    assert data.count(b"\n") == 1 and data.count(b" ") + 1 == 8 * (50_000_000 // len(word) + 1)


def test_min_count_leaves_no_words(tmp_path, small_tokens):
    one_line_error(run("vocab", small_tokens, "--min-count", "10000000", ok=False), 3, "no word occurs")
    one_line_error(run("pipeline", small_tokens, "-o", tmp_path, "--min-count", "10000000", ok=False), 3, "--min-count")


def test_dim_at_or_above_vocabulary(tmp_path, small_tokens):
    m = tmp_path / "m.npz"
    run("cooccur", small_tokens, "-o", m, "--min-count", "300", "-q")
    n = len(run("info", m).stdout) and json.loads(run("info", m).stdout)["shape"][0]
    one_line_error(run("svd", m, "-o", tmp_path / "v.npz", "--dim", n, ok=False), 2, f"--dim {n}")
    assert not (tmp_path / "v.npz").exists()


@pytest.mark.parametrize("cmd,opt", [
    ("cooccur", "--window"), ("cooccur", "--min-count"), ("svd", "--dim"), ("word2vec", "--epochs"),
    ("word2vec", "--dim"), ("word2vec", "--window"), ("word2vec", "--min-count"), ("pipeline", "--dim"),
    ("pipeline", "--window"), ("vocab", "--min-count"),
])
@pytest.mark.parametrize("value", ["0", "-3"])
def test_non_positive_parameters(tmp_path, small_tokens, cmd, opt, value):
    target = {"svd": None}.get(cmd, small_tokens)
    if cmd == "svd":
        target = tmp_path / "m.npz"
        run("cooccur", small_tokens, "-o", target, "-q")
    args = [cmd, target, opt, value]
    if cmd in ("cooccur", "svd", "word2vec"):
        args += ["-o", tmp_path / "out.npz"]
    if cmd == "pipeline":
        args += ["-o", tmp_path / "outdir"]
    one_line_error(run(*args, ok=False), 2, f"{opt} {value}")
    assert not (tmp_path / "out.npz").exists()


# --------------------------------------------------------------------------- vector files
@pytest.fixture
def good_text(tmp_path):
    p = tmp_path / "v.txt"
    p.write_text("3 4\nthe 0.1 0.2 0.3 0.4\nof 0.5 0.6 0.7 0.8\nand 1 2 3 4\n")
    return p


def bad_vectors(tmp_path, name, content):
    p = tmp_path / name
    p.write_bytes(content if isinstance(content, bytes) else content.encode())
    res = run("neighbors", p, "the", ok=False)
    one_line_error(res, 3, p)
    return res


def test_truncated_text_vectors(tmp_path, good_text):
    bad_vectors(tmp_path, "t.txt", good_text.read_text()[:-20])


def test_truncated_binary_vectors(tmp_path):
    v = Vectors(["the", "of", "and"], np.ones((3, 4), np.float32))
    v.save(str(tmp_path / "ok.bin"))
    res = bad_vectors(tmp_path, "t.bin", (tmp_path / "ok.bin").read_bytes()[:-10])
    assert "truncated" in res.stderr


def test_header_disagrees_with_rows(tmp_path, good_text):
    res = bad_vectors(tmp_path, "h.txt", good_text.read_text().replace("3 4", "5 4", 1))
    assert "header says 5 words but the file has 3 rows" in res.stderr


def test_rows_of_different_lengths(tmp_path):
    res = bad_vectors(tmp_path, "r.txt", "2 3\nthe 1 2 3\nof 1 2\n")
    assert ":3: expected 3 values" in res.stderr


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_nan_or_inf_values(tmp_path, value):
    res = bad_vectors(tmp_path, "n.txt", f"2 2\nthe 1 2\nof 1 {value}\n")
    assert ":3: NaN or infinite value for word 'of'" in res.stderr


def test_duplicate_words(tmp_path):
    res = bad_vectors(tmp_path, "d.txt", "2 2\nthe 1 2\nthe 3 4\n")
    assert ":3: duplicate word 'the'" in res.stderr


def test_non_utf8_word(tmp_path):
    res = bad_vectors(tmp_path, "u.txt", b"2 2\nthe 1 2\nna\xefve 3 4\n")
    assert ":3: word or value is not valid UTF-8" in res.stderr


def test_convert_lenient_repairs_what_gensim_tolerates(tmp_path):
    """Words cut mid-character (word2vec.c), repeated words and a wrong header count are refused by
    every command, with the way out; convert --lenient repairs them once (bad bytes as gensim's
    unicode_errors='replace'; the first row of a repeated word kept), says what it did, and the
    output is an ordinary file."""
    import struct

    text = tmp_path / "t.txt"
    text.write_bytes(b"4 2\nthe 1 2\nna\xc3 3 4\nthe 5 6\n")
    res = run("neighbors", text, "the", ok=False)
    assert res.exit_code == 3 and "'embedcli convert --lenient' repairs such a file" in res.stderr
    res = run("convert", text, "--lenient", "-o", tmp_path / "t.npz")
    assert "1 word(s) that were not UTF-8" in res.stderr and "1 repeated word(s) dropped" in res.stderr
    assert "the header declared 4 words, the file has 3 rows" in res.stderr
    v = Vectors.load(str(tmp_path / "t.npz"))
    assert v.words == ["the", "na\ufffd"] and v.vectors[0].tolist() == [1, 2]
    assert v.meta["repaired"] == {"words_not_utf8": 1, "duplicates_dropped": 1,
                                  "header_words": {"declared": 4, "rows": 3}}
    binary = tmp_path / "b.bin"
    rows = [(b"the", (1, 2)), (b"na\xc3", (3, 4)), (b"the", (5, 6))]
    binary.write_bytes(b"3 2\n" + b"".join(w + b" " + struct.pack("<2f", *x) + b"\n" for w, x in rows))
    assert run("neighbors", binary, "the", ok=False).exit_code == 3
    res = run("convert", binary, "--lenient", "-o", tmp_path / "b.txt", "-q")
    assert res.stderr == "" and (tmp_path / "b.txt").read_text().splitlines()[1:] == [
        "the 1 2", "na\ufffd 3 4"]
    assert run("neighbors", tmp_path / "b.txt", "the").stdout.startswith("the\tna\ufffd\t")
    glove = tmp_path / "g.txt"  # no header: the bad word on the first line is repaired too
    glove.write_bytes(b"a\xff 1 2\nb 3 4\n")
    assert "--lenient" in run("neighbors", glove, "b", ok=False).stderr
    run("convert", glove, "--lenient", "-o", tmp_path / "g.npz", "-q")
    assert Vectors.load(str(tmp_path / "g.npz")).words == ["a\ufffd", "b"]
    res = run("convert", tmp_path / "t.npz", "-o", tmp_path / "again.txt")  # earlier repairs are not reported again
    assert "repaired" not in res.stderr


def test_non_numeric_value(tmp_path):
    res = bad_vectors(tmp_path, "x.txt", "2 2\nthe 1 2\nof 1 two\n")
    assert ":3: non-numeric value" in res.stderr


def test_matrix_from_newer_or_unknown_format_version(tmp_path, small_tokens):
    m = tmp_path / "m.npz"
    run("cooccur", small_tokens, "-o", m, "--min-count", "50", "-q")
    for version, message in ((99, "format version 99 is newer than this embedcli reads (1)"), ("x", "unknown format version")):
        with np.load(m, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        meta = json.loads(bytes(arrays["embedcli_meta"]))
        meta["format_version"] = version
        arrays["embedcli_meta"] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
        bad = tmp_path / "newer.npz"
        np.savez(bad, **arrays)
        one_line_error(run("svd", bad, "-o", tmp_path / "v.npz", ok=False), 3, message)


class _Canary:
    """Unpickling this would create a file: proof that a pickle was never loaded."""

    path = ""

    def __reduce__(self):
        return (open, (self.path, "w"))


@pytest.mark.parametrize("cmd", ["neighbors", "svd", "info", "evaluate"])
def test_pickle_is_refused_without_loading(tmp_path, cmd):
    canary = tmp_path / "CANARY"
    obj = _Canary()
    obj.path = str(canary)
    for name, payload in (("v.pkl", pickle.dumps(obj, protocol=4)), ("v.npy", pickle.dumps(obj, protocol=2))):
        p = tmp_path / name
        p.write_bytes(payload)
        args = {"neighbors": [p, "the"], "svd": [p, "-o", tmp_path / "o.npz"], "info": [p], "evaluate": [p]}[cmd]
        one_line_error(run(cmd, *args, ok=False), 3, "pickle")
        assert not canary.exists()
    # a .npz holding an object (pickled) array is refused too
    z = tmp_path / "obj.npz"
    np.savez(z, embedcli_meta=np.frombuffer(b'{"format": "embedcli-vectors", "format_version": 1}', np.uint8),
             vectors=np.array([obj], dtype=object), words=np.frombuffer(b"the", np.uint8))
    res = run("neighbors", z, "the", ok=False)
    assert res.exit_code == 3 and "Traceback" not in res.stderr and not canary.exists()


def test_output_folder_missing_or_not_writable(tmp_path, small_tokens):
    one_line_error(run("tokenize", small_tokens, "-o", tmp_path / "nodir" / "t.txt", ok=False), 2, "does not exist")
    (tmp_path / "file").write_text("x")
    one_line_error(run("cooccur", small_tokens, "-o", tmp_path / "file" / "m.npz", ok=False), 2, "is not a folder")
    ro = "/proc/self" if os.geteuid() == 0 else str(tmp_path / "ro")
    if os.geteuid() != 0:
        os.mkdir(ro, 0o500)
    one_line_error(run("vocab", small_tokens, "-o", f"{ro}/v.tsv", ok=False), 2, "writ")


def test_analogy_with_fewer_than_three_words(sample_run):
    vec = sample_run[0] / "vectors.npz"
    one_line_error(run("analogy", vec, "man", "king", ok=False), 2, "three words")
    res = run("analogy", vec, "-", input="man king\n", ok=False)
    assert res.exit_code == 3 and "line 1: expected 'A B C'" in res.stderr


# --------------------------------------------------------------------------- interrupted runs
def _temp_files(folder):
    return [f for f in os.listdir(folder) if f.endswith(".tmp")]


def _tokenize_until_writing(folder, out, **popen):
    """Start ``embedcli tokenize`` of a big .gz corpus into ``out`` and return the process once its
    temporary file exists."""
    corpus = folder / "big.txt.gz"
    line = ("The quick brown fox jumps over the lazy dog near the river bank today. " * 40 + "\n").encode()
    with gzip.open(corpus, "wb", compresslevel=1) as f:
        for _ in range(20000):
            f.write(line)
    p = subprocess.Popen([sys.executable, "-m", "embedcli", "tokenize", str(corpus), "-o", str(out), "-q"],
                         stderr=subprocess.PIPE, **popen)
    deadline = time.time() + 30
    while not _temp_files(folder) and time.time() < deadline and p.poll() is None:
        time.sleep(0.01)
    assert _temp_files(folder), "the run never started writing"
    return p


@pytest.mark.parametrize("sig,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_killed_mid_write_leaves_previous_file_and_no_temporary(tmp_path, sig, code):
    out = tmp_path / "tokens.txt"
    out.write_text("previous content\n")
    p = _tokenize_until_writing(tmp_path, out)
    time.sleep(0.2)
    p.send_signal(sig)
    _, err = p.communicate(timeout=30)
    assert p.returncode == code, err
    assert out.read_text() == "previous content\n"
    assert _temp_files(tmp_path) == []
    assert b"Traceback" not in err
    assert (b"embedcli: interrupted" if sig == signal.SIGINT else b"embedcli: stopped by SIGTERM") in err


@pytest.mark.parametrize("delay", [0.0, 0.05, 0.1, 0.15, 0.2, 0.3])
def test_sigterm_to_the_whole_process_group_stops_tokenize(tmp_path, delay):
    """GNU ``timeout`` and a closed terminal signal the whole process group.  Workers used to die of
    SIGTERM themselves, sometimes while sending a result: the pool then waited forever for the rest
    of it and the run hung with its temporary file (2 of 20 runs).  Workers now leave the signal
    to the parent, which stops them."""
    out = tmp_path / "tokens.txt"
    p = _tokenize_until_writing(tmp_path, out, start_new_session=True)
    time.sleep(delay)
    os.killpg(p.pid, signal.SIGTERM)
    try:
        _, err = p.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.communicate()
        pytest.fail("tokenize hung after SIGTERM to its process group")
    assert p.returncode in (0, 143), err  # 0: it finished before the signal came
    assert _temp_files(tmp_path) == [] and b"Traceback" not in err
    if p.returncode == 143:
        assert not out.exists() and b"embedcli: stopped by SIGTERM" in err


def test_a_killed_runs_temporary_file_is_removed_by_the_next_run(tmp_path):
    """SIGKILL (e.g. the out-of-memory killer) leaves the hidden temporary file; the next run
    writing the same output removes it. A live writer's file and an untagged one are kept."""
    out = tmp_path / "tokens.txt"
    p = _tokenize_until_writing(tmp_path, out)
    left = _temp_files(tmp_path)
    p.kill()
    p.communicate(timeout=30)
    assert _temp_files(tmp_path) == left and not out.exists()  # nobody could clean up
    from embedcli.outputs import temp_prefix

    live = temp_prefix(str(out)).replace(f"-{os.getpid()}.", f"-{os.getppid()}.") + "abc.tmp"
    (tmp_path / live).write_text("a live writer's")
    (tmp_path / ".tokens.txt.xyz.tmp").write_text("not ours to judge")
    (tmp_path / "small.txt").write_text("a b c\n")
    run("tokenize", tmp_path / "small.txt", "-o", out, "-q")
    assert sorted(_temp_files(tmp_path)) == sorted([live, ".tokens.txt.xyz.tmp"])
    assert out.read_text() == "a b c\n"


def test_word2vec_interrupted_during_training_writes_nothing(tmp_path, sample_run):
    tokens = tmp_path / "t.txt"
    tokens.write_bytes((sample_run[0] / "tokens.txt").read_bytes() * 4)
    out = tmp_path / "v.npz"
    p = subprocess.Popen([sys.executable, "-m", "embedcli", "word2vec", str(tokens), "-o", str(out), "--epochs", "50"],
                         stderr=subprocess.PIPE)
    time.sleep(3)
    assert p.poll() is None
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=30)
    assert p.returncode == 130 and b"interrupted" in err and b"Traceback" not in err
    assert not out.exists() and _temp_files(tmp_path) == []


# --------------------------------------------------------------------------- reproducibility
def test_pipeline_is_byte_reproducible(tmp_path, small_speeches):
    out = tmp_path / "o"
    run("pipeline", small_speeches, "-o", out, "--dim", "20", "--seed", "3", "-q")
    first = {n: (out / n).read_bytes() for n in ("tokens.txt", "vocab.tsv", "cooccur.npz", "vectors.npz")}
    run("pipeline", small_speeches, "-o", out, "--dim", "20", "--seed", "3", "-q")
    for n, data in first.items():
        assert (out / n).read_bytes() == data, n
    meta = json.loads(run("info", out / "vectors.npz").stdout)
    prov = meta["provenance"]
    assert meta["embedcli_version"] and prov["spec"]["seed"] == 3 and prov["spec"]["dim"] == 20
    assert prov["inputs"]["matrix"]["spec"]["window"] == 5


def test_every_output_records_version_and_parameters(tmp_path, small_speeches):
    t, v, m = tmp_path / "t.txt", tmp_path / "v.tsv", tmp_path / "m.npz"
    run("tokenize", small_speeches, "-o", t, "--min-length", "2", "-q")
    run("vocab", t, "-o", v, "--min-count", "2", "-q")
    run("cooccur", t, "-o", m, "--window", "3", "-q")
    run("svd", m, "-o", tmp_path / "s.npz", "--dim", "10", "-q")
    run("svd", m, "-o", tmp_path / "s.txt", "--dim", "10", "-q")
    run("word2vec", t, "-o", tmp_path / "w.bin", "--epochs", "1", "--dim", "10", "-q")
    run("phrases", t, "-o", tmp_path / "p.txt", "-q")
    expect = {
        t: ("tokens", "min_length", 2), v: ("vocabulary", "min_count", 2), m: (None, "window", 3),
        tmp_path / "s.npz": (None, "dim", 10), tmp_path / "s.txt": (None, "dim", 10),
        tmp_path / "w.bin": (None, "vector_size", 10), tmp_path / "p.txt": ("tokens", "scoring", "default"),
    }
    for path, (kind, key, value) in expect.items():
        meta = json.loads(run("info", path).stdout)
        assert meta["embedcli_version"], path
        assert meta["provenance"]["spec"][key] == value, (path, meta)
        if kind:
            assert meta["kind"] == kind


def _worker_signal_state(_):
    """(INT, TERM, HUP and QUIT all ignored, INT still blocked) in a pool worker."""
    ignored = all(signal.getsignal(s) is signal.SIG_IGN for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT))
    return ignored, signal.SIGINT in signal.pthread_sigmask(signal.SIG_BLOCK, [])


@pytest.mark.skipif(not hasattr(signal, "pthread_sigmask"), reason="POSIX signal masks")
def test_workers_are_forked_with_signals_blocked_then_ignore_ctrl_c(monkeypatch):
    """A Ctrl-C in the moment tokenize's workers start used to run the parent's handler in a new
    worker: the pool broke and the run could hang.  Workers are now forked with the signals
    blocked and unblock them once their own handlers are set; the parent's mask is restored; a
    signal whose exception was swallowed stops the next submit."""
    from embedcli.outputs import PENDING_EXIT
    from embedcli.parallel import ProcessBlocks

    from concurrent.futures import ProcessPoolExecutor

    masks = []
    real_submit = ProcessPoolExecutor.submit

    def submit(self, *a, **k):  # where the pool forks its workers
        masks.append(signal.pthread_sigmask(signal.SIG_BLOCK, []))
        return real_submit(self, *a, **k)

    monkeypatch.setattr(ProcessPoolExecutor, "submit", submit)
    before = signal.pthread_sigmask(signal.SIG_BLOCK, [])
    with ProcessBlocks(_worker_signal_state, 2) as runner:
        futures = [runner.submit(i) for i in range(6)]
        states = [f.result() for f in futures[1:]]  # the first block runs here, the rest in workers
        assert signal.pthread_sigmask(signal.SIG_BLOCK, []) == before
        assert masks and all({signal.SIGINT, signal.SIGTERM} <= m for m in masks)
        assert states and all(ignored and not blocked for ignored, blocked in states)
        PENDING_EXIT.append(130)
        try:
            with pytest.raises(SystemExit):
                runner.submit(0)
        finally:
            PENDING_EXIT.clear()
    with ProcessBlocks(_worker_signal_state, 2, eager=True) as runner:  # a known large input: workers at once
        first = runner.submit(0)
        assert runner.pool is not None and first.result() == (True, False)


def _worker_heap_state(_):
    from embedcli import memory

    return memory._WORKER_HEAP_CALLS[:]


def test_block_workers_keep_their_heap(monkeypatch):
    """memory.worker_heap: in a ProcessBlocks worker, glibc's mmap threshold goes to 32 MiB and its
    trim threshold to 1 GiB for the worker's life (its per-block temporaries reused warm), where
    the CLI's return_freed_memory ran; nothing otherwise, nor in the parent."""
    from embedcli import memory
    from embedcli.parallel import ProcessBlocks

    calls = []

    class FakeLibc:
        def mallopt(self, param, value):
            calls.append((param, value))
            return 1

    for name in ("MALLOC_TRIM_THRESHOLD_", "GLIBC_TUNABLES"):  # (dask's nanny sets the first in os.environ)
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(memory, "_libc", lambda: FakeLibc())
    monkeypatch.setattr(memory, "_WORKER_HEAP_CALLS", calls, raising=False)
    monkeypatch.setattr(memory, "_THRESHOLD", [None])
    memory.worker_heap()
    assert calls == []
    monkeypatch.setattr(memory, "_THRESHOLD", [4 << 20])
    with ProcessBlocks(_worker_heap_state, 2, eager=True) as runner:
        seen = [runner.submit(i).result() for i in range(3)]
    assert seen and all(s == [(-3, 32 << 20), (-1, 1 << 30)] for s in seen)
    assert calls == []  # the parent's settings are untouched


def test_a_killed_runs_scratch_files_are_removed_by_the_next_run(tmp_path):
    """A decompressed corpus or DeepWalk's walks live in $TMPDIR while a run works; SIGKILL (the
    out-of-memory killer) leaves them, gigabytes for a big corpus. The next run removes the scratch
    files of dead runs of this host, and keeps a live run's and untagged ones."""
    from embedcli.outputs import host_tag

    scratch = tmp_path / "scratch"
    scratch.mkdir()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    tag = host_tag()
    (scratch / f"embedcli-spool.{tag}-{dead.pid}.abc.txt").write_text("a killed run's corpus copy")
    (scratch / f"embedcli-walks.{tag}-{dead.pid}.xyz").mkdir()
    (scratch / f"embedcli-walks.{tag}-{dead.pid}.xyz" / "walks.txt").write_text("1 2 3\n")
    keep = [f"embedcli-spool.{tag}-{os.getpid()}.live.txt", "embedcli-spool-untagged.txt",
            f"embedcli-spool.000000-{dead.pid}.other-host.txt"]
    for name in keep:
        (scratch / name).write_text("kept")
    src = tmp_path / "c.txt.gz"
    with gzip.open(src, "wt") as f:
        f.write("the cat sat on the mat\n" * 50)
    env = {**os.environ, "TMPDIR": str(scratch)}
    p = subprocess.run([sys.executable, "-m", "embedcli", "word2vec", str(src), "--min-count", "1", "--epochs", "1", "--workers", "1",
                                   "-o", str(tmp_path / "w.npz"), "-q"], env=env, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert sorted(os.listdir(scratch)) == sorted(keep)


def test_closed_stdin_ignored_hup_and_closed_stdout_in_batch_jobs(tmp_path, small_tokens):
    """Daemons and cron: stdin closed (no command here reads it), SIGHUP ignored by nohup (a hang-up
    must not stop the run), stdout closed for a pipeline that writes files."""
    emb = [sys.executable, "-m", "embedcli"]
    p = subprocess.run(emb + ["vocab", str(small_tokens), "-o", str(tmp_path / "v.tsv"), "-q"],
                       preexec_fn=lambda: os.close(0), capture_output=False, stderr=subprocess.PIPE)
    assert p.returncode == 0 and (tmp_path / "v.tsv").exists(), p.stderr

    def ignore_hup():
        signal.signal(signal.SIGHUP, signal.SIG_IGN)

    p = subprocess.Popen(emb + ["word2vec", str(small_tokens), "--epochs", "60", "--workers", "1",
                                "-o", str(tmp_path / "w.npz"), "-q"], preexec_fn=ignore_hup, stderr=subprocess.PIPE)
    time.sleep(1.0)
    assert p.poll() is None  # still working when the hang-up comes
    p.send_signal(signal.SIGHUP)
    _, err = p.communicate(timeout=120)
    assert p.returncode == 0 and (tmp_path / "w.npz").exists(), err
    p = subprocess.run(emb + ["pipeline", str(small_tokens), "-o", str(tmp_path / "p")],
                       preexec_fn=lambda: os.close(1), stderr=subprocess.PIPE)
    assert p.returncode == 0 and (tmp_path / "p" / "vectors.npz").exists(), p.stderr


def test_ids_of_files_whose_names_are_not_utf8(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / os.fsdecode(b"\xffa b.txt")).write_text("one two\nthree\n")
    run("tokenize", folder, "-o", tmp_path / "t.txt", "--ids-output", tmp_path / "ids.txt", "-q")
    assert (tmp_path / "ids.txt").read_text().split() == [f"{folder}/%FFa%20b.txt:1", f"{folder}/%FFa%20b.txt:2"]


def test_second_stranger_test_findings(tmp_path, small_tokens):
    """word2vec on a tokens file whose name is not UTF-8 (gensim's threads died on it and training
    never ended); a character cut by the end of the file; a second output keeps the compression
    suffix last; an output over an input's sidecar; a stale lock taken over only while still stale."""
    name = tmp_path / os.fsdecode(b"t\xfe.txt")
    name.write_bytes(small_tokens.read_bytes()[:30000])
    p = subprocess.run([sys.executable, "-m", "embedcli", "word2vec", str(name), "--dim", "4", "--epochs", "1",
                        "--workers", "1", "-o", str(tmp_path / "w.npz"), "-q"], capture_output=True, timeout=120)
    assert p.returncode == 0 and (tmp_path / "w.npz").exists(), p.stderr
    (tmp_path / "cut.txt").write_bytes(b"a b\nc d \xe9")
    res = run("phrases", tmp_path / "cut.txt", "-o", tmp_path / "x.txt", ok=False)
    assert res.exit_code == 3 and "cut.txt:2: not valid UTF-8" in res.stderr
    run("termdoc", small_tokens, "-o", tmp_path / "td.npz", "-q")
    run("svd", tmp_path / "td.npz", "--dim", "2", "-o", tmp_path / "lsa.bin.xz", "-q")
    assert (tmp_path / "lsa.docs.bin.xz").exists() and not (tmp_path / "lsa.bin.docs.xz").exists()
    from embedcli.vectors import Vectors

    assert Vectors.load(str(tmp_path / "lsa.docs.bin.xz")).meta["source_format"] == "binary"
    res = run("convert", tmp_path / "lsa.bin.xz", "-o", tmp_path / "lsa.bin.xz.meta.json", ok=False)
    assert res.exit_code == 2 and "sidecar of the input" in res.stderr

    from embedcli.pipeline import _remove_if_still

    lock = tmp_path / "lock"
    lock.write_text("123 otherhost\n")  # a fresh lock that another run wrote after this one read a stale one
    _remove_if_still(str(lock), "999999 host")
    assert lock.read_text() == "123 otherhost\n" and sorted(os.listdir(tmp_path)).count("lock") == 1
    _remove_if_still(str(lock), "123 otherhost")
    assert not lock.exists() and not [n for n in os.listdir(tmp_path) if n.startswith(".embedcli-stale")]
