"""The shell user's contract (issue 9): each numbered item and each class of hostile input, through the CLI."""

import bz2
import gzip
import json
import lzma
import os
import signal
import stat
import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import run

from embedcli.vectors import Vectors

EMBEDCLI = [sys.executable, "-m", "embedcli"]


def strict_json(text: str):
    def refuse(x):
        raise ValueError(f"not JSON: {x}")

    return [json.loads(line, parse_constant=refuse) for line in text.splitlines() if line.strip()]


def one_line(res, code, *fragments):
    assert res.exit_code == code, (res.exit_code, res.stdout, res.stderr)
    err = [ln for ln in res.stderr.splitlines() if "deprecated" not in ln]
    assert len(err) == 1 and err[0].startswith("embedcli: error: ") and "Traceback" not in res.stderr, res.stderr
    for f in fragments:
        assert str(f) in res.stderr, (f, res.stderr)


@pytest.fixture(scope="module")
def vec(sample_run):
    return sample_run[0] / "vectors.npz"


@pytest.fixture(scope="module")
def matrix(sample_run):
    return sample_run[0] / "cooccur.npz"


# --------------------------------------------------------------------------- 1, 2: compressed outputs
@pytest.mark.parametrize("ext,magic,opener", [(".gz", b"\x1f\x8b", gzip.open), (".bz2", b"BZh", bz2.open),
                                               (".xz", b"\xfd7zXZ", lzma.open)])
def test_compressed_outputs_follow_the_name_and_are_reproducible(tmp_path, small_speeches, ext, magic, opener):
    tok, voc = tmp_path / f"tok.txt{ext}", tmp_path / f"voc.tsv{ext}"
    run("tokenize", small_speeches, "-o", tok, "-q")
    run("vocab", tok, "-o", voc, "--min-count", "3", "-q")
    run("cooccur", tok, "--vocab", voc, "-o", tmp_path / "m.npz", "-q")
    outs = [tok, voc]
    for name in (f"v.txt{ext}", f"v.bin{ext}"):
        run("svd", tmp_path / "m.npz", "-o", tmp_path / name, "--dim", "8", "-q")
        outs.append(tmp_path / name)
    first = {p: p.read_bytes() for p in outs}
    for p, data in first.items():
        assert data.startswith(magic), p
        assert opener(p).read(1), p
    assert Vectors.load(str(tmp_path / f"v.bin{ext}")).dim == 8
    # again: byte-identical files (no time or temporary name in a gzip header)
    run("tokenize", small_speeches, "-o", tok, "-q")
    run("vocab", tok, "-o", voc, "--min-count", "3", "-q")
    for name in (f"v.txt{ext}", f"v.bin{ext}"):
        run("svd", tmp_path / "m.npz", "-o", tmp_path / name, "--dim", "8", "-q")
    for p, data in first.items():
        assert p.read_bytes() == data, p
    if ext == ".gz":
        head = first[tok][:10]
        assert head[3] & 0x08 == 0 and head[4:8] == b"\0\0\0\0"  # no FNAME, mtime 0


def test_gensim_reads_compressed_vectors(tmp_path, matrix):
    from gensim.models import KeyedVectors

    for name, binary in (("v.txt.bz2", False), ("v.bin.gz", True), ("v.txt.gz", False)):
        run("svd", matrix, "-o", tmp_path / name, "--dim", "8", "-q")
        kv = KeyedVectors.load_word2vec_format(str(tmp_path / name), binary=binary)
        assert kv.vector_size == 8


def test_formats_that_cannot_be_compressed_are_refused(tmp_path, small_tokens, matrix):
    one_line(run("cooccur", small_tokens, "-o", tmp_path / "m.npz.gz", ok=False), 2, "cannot be compressed")
    one_line(run("svd", matrix, "-o", tmp_path / "v.npz.gz", "--dim", "5", ok=False), 2, "cannot be compressed")
    assert not list(tmp_path.iterdir())


# --------------------------------------------------------------------------- 3: strict JSON everywhere
def test_every_json_output_is_strict(tmp_path, vec, sample_run):
    empty = tmp_path / "empty-section.txt"
    empty.write_text(": nothing-covered\nzzqa zzqb zzqc zzqd\n: covered\nman king woman queen\n")
    outs = [
        run("evaluate", vec, "--analogy", empty, "--format", "json").stdout,
        run("neighbors", vec, "-", "--format", "json", input="war\nzzunknown\n", ok=False).stdout,
        run("analogy", vec, "-", "--format", "json", input="man king woman\nbad line\n", ok=False).stdout,
        run("similarity", vec, "-", "--format", "json", input="war peace\nwar zzunknown\n").stdout,
        run("doesnt-match", vec, "war", "army", "navy", "happiness", "--format", "json").stdout,
        run("info", vec).stdout.replace("\n", " "),
        run("info", sample_run[0] / "tokens.txt").stdout.replace("\n", " "),
    ]
    for text in outs:
        assert strict_json(text)
    ev = strict_json(outs[0])[0]
    sec = next(a for a in ev["analogy"] if a["name"] == "empty-section.txt")["sections"][0]
    assert sec["accuracy"] is None and sec["used"] == 0


# --------------------------------------------------------------------------- 4, 5, 6: one record per query
def test_every_query_line_gives_one_record(vec):
    lines = ["war", "Liberty", "zzunknownzz", "peace freedom", "zz1 zz2"] * 200
    res = run("neighbors", vec, "-", "--format", "json", "-k", "2", input="\n".join(lines) + "\n")
    recs = strict_json(res.stdout)
    assert len(recs) == len(lines) and [r["query"] for r in recs] == lines
    assert recs[2]["neighbors"] == [] and recs[2]["unknown"] == ["zzunknownzz"]
    tsv = run("neighbors", vec, "-", "-k", "2", input="zzunknownzz\nwar\n").stdout.splitlines()
    assert tsv[0] == "zzunknownzz\t\t" and len(tsv) == 3
    res = run("neighbors", vec, "zzunknownzz", ok=False)
    assert res.exit_code == 4 and "no query could be answered" in res.stderr
    res = run("similarity", vec, "-", input="zza zzb\n", ok=False)
    assert res.exit_code == 4 and res.stdout == "zza\tzzb\t\n"
    res = run("analogy", vec, "zza", "king", "woman", ok=False)
    assert res.exit_code == 4 and res.stdout.count("\n") == 1


def test_queries_follow_the_vectors_tokenizer_case(vec):
    lower = run("neighbors", vec, "liberty", "-k", "3").stdout
    res = run("neighbors", vec, "Liberty", "-k", "3")
    assert res.stdout == lower.replace("liberty\t", "Liberty\t")
    res = run("neighbors", vec, "Liberty", "--verbatim", ok=False)
    assert res.exit_code == 4 and "did you mean liberty" in res.stderr
    assert run("similarity", vec, "War", "PEACE").stdout.split("\t")[2] == \
        run("similarity", vec, "war", "peace").stdout.split("\t")[2]


def test_tabs_in_a_query_line_keep_tsv_columns(vec):
    res = run("neighbors", vec, "-", "-k", "3", input="liberty\tfreedom\n")
    assert all(len(line.split("\t")) == 3 for line in res.stdout.splitlines())
    assert res.stdout.splitlines()[0].startswith("liberty freedom\t")


# --------------------------------------------------------------------------- 7: info and readers know every kind
def test_info_and_readers_recognize_tokens_and_vocabulary(tmp_path, small_speeches):
    t, v = tmp_path / "tokens.txt", tmp_path / "vocab.tsv"
    t.write_text(run("tokenize", small_speeches, "-q").stdout)  # via stdout: no sidecar
    v.write_text(run("vocab", t, "-q").stdout)
    assert strict_json(run("info", t).stdout.replace("\n", " "))[0]["kind"] == "tokens"
    assert strict_json(run("info", v).stdout.replace("\n", " "))[0]["kind"] == "vocabulary"
    one_line(run("neighbors", t, "the", ok=False), 2, "looks like a tokens file")  # the wrong kind: 2
    one_line(run("neighbors", v, "the", ok=False), 2, "looks like a vocabulary (word<TAB>count)")
    one_line(run("svd", "-", "-o", tmp_path / "x.npz", ok=False), 2, "cannot be read from stdin")


# --------------------------------------------------------------------------- 8: pipeline fastText
def test_pipeline_fasttext_sizes_its_bucket_and_passes_options(tmp_path):
    res = run("pipeline", "-o", tmp_path, "--method", "fasttext", "--epochs", "1", "--minn", "2", "--maxn", "4",
              "--workers", "1")
    assert "bucket 65,536 for" in res.stderr
    assert (tmp_path / "model.bin").stat().st_size < 60e6  # fastText's 2M buckets: 805 MB
    prov = json.loads((tmp_path / "model.bin.meta.json").read_text())["provenance"]
    assert prov["spec"]["minn"] == 2 and prov["spec"]["maxn"] == 4 and prov["spec"]["bucket"] == 65536
    assert prov["stats"]["bucket_auto"] == 65536


# --------------------------------------------------------------------------- 9: evaluate's table
def test_evaluate_table_is_aligned_and_has_no_nan(vec):
    out = run("evaluate", vec).stdout
    assert "nan" not in out
    block = out.split("\n\n")[2].splitlines()
    starts = {line.index(" 0.") if " 0." in line else None for line in block[1:]}
    header = block[0]
    for line in block[1:]:
        assert len(line) <= len(header) + 2
    assert "gram6-nationality-adjective" in out and len(starts - {None}) >= 1


# --------------------------------------------------------------------------- 10: folders with bad files
def test_include_exclude_and_skip_unreadable(tmp_path):
    d = tmp_path / "d"
    d.mkdir()
    (d / "a.txt").write_text("good words here\n")
    (d / "b.bin").write_bytes(b"some text\n" * 10 + b"\x00\x01")
    (d / "c.md").write_text("other words\n")
    res = run("tokenize", d, "-o", tmp_path / "t.txt", ok=False)
    assert res.exit_code == 3 and "NUL byte" in res.stderr and not (tmp_path / "t.txt").exists()
    res = run("tokenize", d, "-o", tmp_path / "t.txt", "--skip-unreadable")
    assert (tmp_path / "t.txt").read_text() == "good words here\nother words\n"
    assert f"skipped {d / 'b.bin'}" in res.stderr and "2 file(s), 1 skipped" in res.stderr
    assert f"skipped {d / 'b.bin'}:11: NUL byte" in res.stderr  # the name once, with the line
    res = run("tokenize", d / "b.bin", "-o", tmp_path / "t2.txt", "--skip-unreadable", ok=False)
    assert res.exit_code == 3 and "nothing could be read: 1 file(s) skipped" in res.stderr and "NUL byte" in res.stderr
    assert run("tokenize", d, "--include", "*.txt", "-q").stdout == "good words here\n"
    assert run("tokenize", d, "--exclude", "*.bin", "--exclude", "a.*", "-q").stdout == "other words\n"


# --------------------------------------------------------------------------- 11: closed pipes
@pytest.mark.parametrize("args", [
    ["tokenize", "{corpus}", "-q"], ["vocab", "{tokens}", "-q", "--min-count", "1"], ["phrases", "{tokens}", "-q"],
    ["neighbors", "{vec}", "-", "-q"], ["svd", "{matrix}", "-o", "-", "--file-format", "word2vec", "-q"],
    ["similarity", "{vec}", "-", "-q"], ["analogy", "{vec}", "-", "-q"],
])
def test_closed_pipe_exits_1_for_every_command(args, sample_run, sample_corpus):
    out = sample_run[0]
    fill = {"corpus": sample_corpus, "tokens": out / "tokens.txt", "vec": out / "vectors.npz",
            "matrix": out / "cooccur.npz"}
    cmd = EMBEDCLI + [a.format(**fill) for a in args]
    stdin = ("war peace\n" * 40000).encode() if "-" in args[1:3] or args[0] in ("similarity", "analogy") else None
    if args[0] == "analogy":
        stdin = ("man king woman\n" * 40000).encode()
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE if stdin else subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    if stdin:
        import threading

        threading.Thread(target=lambda: (_safe_write(p.stdin, stdin)), daemon=True).start()
    p.stdout.read(10)
    p.stdout.close()
    assert p.wait(timeout=120) == 1
    assert b"Traceback" not in p.stderr.read()


@pytest.mark.parametrize("unbuffered", ["1", ""])
def test_a_write_cut_short_by_the_reader_exits_1(unbuffered, sample_run):
    """One large echo (all neighbours of a word, over 64 KB) to a pipe whose reader leaves in its
    middle: the kernel writes part of it and returns the count.  Unbuffered (PYTHONUNBUFFERED, as
    in many containers), Python's text layer ignored that count and the run exited 0."""
    vec = sample_run[0] / "vectors.npz"
    env = {**os.environ, "PYTHONUNBUFFERED": unbuffered}
    full = subprocess.run(EMBEDCLI + ["neighbors", str(vec), "war", "-k", "100000", "-q"], capture_output=True,
                          env=env, timeout=120)
    assert full.returncode == 0 and len(full.stdout) > 100_000  # more than a pipe holds
    p = subprocess.Popen(EMBEDCLI + ["neighbors", str(vec), "war", "-k", "100000", "-q"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=env)
    assert p.stdout.read(10) == full.stdout[:10]
    p.stdout.close()
    assert p.wait(timeout=120) == 1
    assert p.stderr.read() == b""


def _safe_write(f, data):
    try:
        f.write(data)
        f.close()
    except (BrokenPipeError, ValueError):
        pass


# --------------------------------------------------------------------------- 12: small ones
def test_numpy_f2py_is_loaded_only_when_used():
    """entry._defer_numpy_extras: scipy's import no longer runs numpy.f2py, which works when used;
    numpy.ma (used by libraries from threads) is loaded as before."""
    code = ("import sys\n"
            "from embedcli.entry import _defer_numpy_extras\n"
            "_defer_numpy_extras()\n"
            "import numpy, scipy.sparse\n"
            "assert 'numpy.f2py.crackfortran' not in sys.modules and 'numpy.ma.core' in sys.modules\n"
            "from numpy.f2py import crackfortran\n"
            "assert numpy.f2py.crackfortran is crackfortran and callable(numpy.f2py.run_main)\n"
            "print('ok')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert (out.returncode, out.stdout) == (0, "ok\n"), out.stderr


def test_openblas_threads_sleep_instead_of_spinning():
    """entry._short_blas_spin: the console command sets OPENBLAS_THREAD_TIMEOUT before numpy (and so
    OpenBLAS) loads, so that it applies; a user's own value (or GOTO_THREAD_TIMEOUT) is kept."""
    code = ("import atexit, os, sys\n"
            "atexit.register(lambda: print(os.environ.get('OPENBLAS_THREAD_TIMEOUT'), 'numpy' in sys.modules))\n"
            "sys.argv = ['embedcli', '--version']\n"
            "from embedcli.entry import main\n"
            "main()\n")
    base = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_THREAD_TIMEOUT", "GOTO_THREAD_TIMEOUT")}
    for extra, expected in (({}, "4 False"), ({"OPENBLAS_THREAD_TIMEOUT": "20"}, "20 False"),
                            ({"GOTO_THREAD_TIMEOUT": "20"}, "None False")):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                             env={**base, **extra})
        assert (out.returncode, out.stdout.splitlines()[-1]) == (0, expected), out.stderr


def test_the_process_ends_as_python_would_but_without_its_teardown(tmp_path):
    """entry._exit_now: buffered output is written, a thread still running is waited for, atexit
    functions run and the exit code is kept (a message: printed, then 1); the interpreter's teardown
    (which would run an object's ``__del__``) is skipped."""
    from embedcli import __version__

    marker = tmp_path / "thread.txt"
    code = ("import atexit, sys, threading, time\n"
            "class Torn:\n def __del__(self): print('teardown ran')\n"
            "kept = Torn()\n"
            "atexit.register(lambda: print('atexit ran'))\n"
            "def late(path=sys.argv[1]):\n time.sleep(0.3)\n open(path, 'w').write('done')\n"
            "threading.Thread(target=late).start()\n"
            "sys.stdout.write('buffered ')\n"
            "sys.argv = ['embedcli', '--version']\n"
            "from embedcli.entry import main\n"
            "main()\n"
            "print('not reached')\n")
    out = subprocess.run([sys.executable, "-c", code, str(marker)], capture_output=True, text=True, timeout=60)
    assert (out.returncode, out.stdout, out.stderr) == (0, f"buffered embedcli, version {__version__}\natexit ran\n", "")
    assert marker.read_text() == "done"
    # a Ctrl-C while the exit waits for a thread: 130, one line, at once
    code = ("import sys, threading, time\n"
            "threading.Thread(target=time.sleep, args=(30,)).start()\n"
            "sys.argv = ['embedcli', '--version']\n"
            "from embedcli.entry import main\n"
            "main()\n")
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert p.stdout.readline().startswith("embedcli, version")  # the command is done; the exit waits
    time.sleep(0.3)
    t = time.monotonic()
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=20)
    assert (p.returncode, err) == (130, "embedcli: interrupted\n") and time.monotonic() - t < 10
    for arg, rc, err in ((None, 0, ""), (3, 3, ""), ("boom", 1, "boom\n"), (-1, 255, "")):
        out = subprocess.run([sys.executable, "-c", f"from embedcli.entry import _exit_now; _exit_now({arg!r})"],
                             capture_output=True, text=True, timeout=60)
        assert (out.returncode, out.stderr) == (rc, err), arg


def test_bom_pipeline_quiet(tmp_path):
    p = tmp_path / "bom.txt"
    p.write_bytes(b"\xef\xbb\xbfLiberty and union\n")
    assert run("tokenize", p, "-q").stdout == "liberty and union\n"
    assert run("tokenize", "-", "-q", input="\ufeffLiberty\n").stdout == "liberty\n"
    toks = tmp_path / "bom-tokens.txt"
    toks.write_bytes(b"\xef\xbb\xbfliberty and union\nliberty\n")
    assert run("vocab", toks, "-q").stdout.splitlines()[0] == "liberty\t2"
    assert run("tokenize", toks, "--token-pattern", r"\S+", "-q").stdout.startswith("liberty and")
    res = run("pipeline", "-o", tmp_path / "o", "--dim", "5", "-q")
    assert res.stdout == "" and res.stderr == ""


# --------------------------------------------------------------------------- hostile: data loss
def test_an_output_never_overwrites_an_input_or_another_output(tmp_path, small_tokens):
    td = tmp_path / "lsa.docs.npz"
    run("termdoc", small_tokens, "-o", td, "-q")
    before = td.read_bytes()
    one_line(run("svd", td, "-o", tmp_path / "lsa.npz", "--dim", "5", ok=False), 2, "is also an input")
    one_line(run("svd", td, "-o", tmp_path / "tv.npz", "--doc-output", tmp_path / "tv.npz", "--dim", "5",
                 ok=False), 2, "two outputs")
    one_line(run("fasttext", small_tokens, "-o", tmp_path / "ft.bin", "--vectors-output", tmp_path / "ft.bin",
                 ok=False), 2, "two outputs")
    one_line(run("vocab", small_tokens, "-o", small_tokens, ok=False), 2, "is also an input")
    link = tmp_path / "link.txt"
    link.symlink_to(small_tokens)
    one_line(run("phrases", small_tokens, "-o", link, ok=False), 2, "is also an input")
    assert td.read_bytes() == before and not (tmp_path / "tv.npz").exists()


def test_devices_pipes_links_and_permissions(tmp_path, small_speeches):
    run("tokenize", small_speeches, "-o", "/dev/null", "-q")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with open(tmp_path / "got", "wb") as got:
        reader = subprocess.Popen(["cat", str(fifo)], stdout=got)
        run("tokenize", small_speeches, "-o", fifo, "-q")
        reader.wait(timeout=60)
    assert (tmp_path / "got").read_bytes().startswith(b"fellow") and stat.S_ISFIFO(os.stat(fifo).st_mode)
    private = tmp_path / "private.txt"
    private.write_text("old\n")
    private.chmod(0o600)
    run("tokenize", small_speeches, "-o", private, "-q")
    assert stat.S_IMODE(os.stat(private).st_mode) == 0o600 and private.read_text().startswith("fellow")
    target = tmp_path / "real.txt"
    target.write_text("old\n")
    (tmp_path / "alias.txt").symlink_to(target)
    run("tokenize", small_speeches, "-o", tmp_path / "alias.txt", "-q")
    assert (tmp_path / "alias.txt").is_symlink() and target.read_text().startswith("fellow")


def test_failure_paths_leave_old_files_whole(tmp_path, small_speeches, monkeypatch):
    long = tmp_path / ("x" * 242 + ".txt")  # its NAME.meta.json would exceed 255 bytes
    res = run("tokenize", small_speeches, "-o", long, ok=False)
    assert res.exit_code == 2 and "too long" in res.stderr and not long.exists()
    fits = tmp_path / ("é" * 110 + "x" * 20 + ".txt")  # 244 bytes: NAME.meta.json fits; temporary names cut NAME
    run("tokenize", small_speeches, "-o", fits, "-q")
    assert fits.exists() and (tmp_path / (fits.name + ".meta.json")).exists()
    run("pipeline", tmp_path / "nope.txt", "-o", tmp_path / "newout", ok=False)
    assert not (tmp_path / "newout").exists()
    # the sidecar cannot be written (disk full): neither the data nor the old sidecar change
    t = tmp_path / "t.txt"
    run("tokenize", small_speeches, "-o", t, "-q")
    old, old_meta = t.read_bytes(), (tmp_path / "t.txt.meta.json").read_bytes()
    import embedcli.provenance as prov

    def full(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(prov, "sidecar_tmp_for", full)
    res = run("tokenize", small_speeches, "-o", t, "--min-length", "3", ok=False)
    assert res.exit_code == 2 and f"{t}: cannot write: No space left" in res.stderr
    assert t.read_bytes() == old and (tmp_path / "t.txt.meta.json").read_bytes() == old_meta
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


# --------------------------------------------------------------------------- hostile: hangs
def test_no_input_makes_embedcli_hang(tmp_path):
    import struct

    ft = tmp_path / "hang.bin"
    head = struct.pack("<2i12id", 793712314, 12, 1, 5, 5, 5, 5, 1, 1, 1, 0, 3, 6, 100, 1e-4)
    ft.write_bytes(head + struct.pack("<3iqq", 1, 1, 0, 10, -1) + b"w" * 200)
    t0 = time.time()
    one_line(run("neighbors", ft, "the", ok=False), 3, "no terminated word")
    d = tmp_path / "loops"
    (d / "sub").mkdir(parents=True)
    (d / "sub" / "a.txt").write_text("one line\n")
    for i in range(3):
        (d / "sub" / f"up{i}").symlink_to(d)
    os.mkfifo(d / "sub" / "fifo")
    assert run("tokenize", d, "-q").stdout == "one line\n"
    assert run("tokenize", str(d) + "/**/*.txt", "-q").stdout == "one line\n"
    bad = tmp_path / "bt.txt"
    bad.write_text("a" * 40 + "!\n")
    res = run("tokenize", bad, "--token-pattern", r"(?:a|a)+$", ok=False)
    assert res.exit_code == 3 and "token pattern ran for more than" in res.stderr
    assert time.time() - t0 < 60


# --------------------------------------------------------------------------- hostile: orphans and leftovers
def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(x) for x in out.split()]


@pytest.fixture(scope="module")
def big_corpus(tmp_path_factory, sample_corpus):
    big = tmp_path_factory.mktemp("big") / "big.txt"
    with gzip.open(sample_corpus, "rb") as f:
        data = f.read()
    big.write_bytes(data * 40)  # 115 MB: several seconds of tokenizing
    return big


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGHUP, signal.SIGUSR1, signal.SIGALRM])
def test_signals_leave_no_workers_and_no_temporary_files(tmp_path, big_corpus, sig):
    p = subprocess.Popen(EMBEDCLI + ["tokenize", str(big_corpus), "-o", str(tmp_path / "t.txt"), "--workers", "2"],
                         stderr=subprocess.DEVNULL)
    kids: list = []
    for _ in range(200):
        time.sleep(0.05)
        kids = _children(p.pid)
        if len(kids) >= 2:
            break
    assert kids and p.poll() is None
    os.kill(p.pid, sig)
    code = p.wait(timeout=30)
    assert code in (-9, 128 + sig), code
    time.sleep(1.0)
    alive = [k for k in kids if os.path.exists(f"/proc/{k}") and "Z" not in open(f"/proc/{k}/stat").read().split()[2]]
    assert not alive, alive
    if sig != signal.SIGKILL:
        assert not [x for x in os.listdir(tmp_path) if x.endswith(".tmp")]


# --------------------------------------------------------------------------- hostile: memory bounds
def test_memory_bombs_are_refused(tmp_path):
    import zipfile

    z = tmp_path / "bomb.npz"
    with zipfile.ZipFile(z, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("embedcli_meta.npy", _npy(np.frombuffer(json.dumps(
            {"format": "embedcli-vectors", "format_version": 1}).encode(), np.uint8)))
        zf.writestr("vectors.npy", _npy(np.zeros((60000, 600), np.float32)))
        zf.writestr("words.npy", _npy(np.frombuffer(b"a", np.uint8)))
    assert z.stat().st_size < 1e6
    one_line(run("neighbors", z, "a", ok=False), 3, "over 100x")
    g = tmp_path / "bomb.txt.gz"
    with gzip.open(g, "wb") as f:
        f.write(b"1 3\n")
        for _ in range(100):
            f.write(b"\0" * (1 << 20))
    one_line(run("neighbors", g, "a", ok=False), 3, "decompresses to more than")
    one_line(run("tokenize", g, "--stopwords", "/dev/zero", ok=False), 2, "stop-word file of more than")
    one_line(run("neighbors", "/dev/zero", "a", ok=False), 2, "not a regular file")


def _npy(a):
    import io

    buf = io.BytesIO()
    np.save(buf, a)
    return buf.getvalue()


def test_tiled_scoring_and_pieces_give_the_same_answers(vec, small_tokens, monkeypatch):
    import embedcli.cooccur as co
    import embedcli.query as q
    from embedcli.specs import CooccurSpec, VocabSpec
    from embedcli.vocab import build_vocab

    v = Vectors.load(str(vec))
    want = v.most_similar(["king", "woman"], ["man"], topn=12, restrict_vocab=0)
    want_mul = v.most_similar_cosmul(["king", "woman"], ["man"], topn=12, restrict_vocab=0)
    monkeypatch.setattr(q.Searcher, "tile", lambda self, b: 700)
    v2 = Vectors.load(str(vec))
    got = v2.most_similar(["king", "woman"], ["man"], topn=12, restrict_vocab=0)
    assert [w for w, _ in got] == [w for w, _ in want]
    assert [w for w, _ in v2.most_similar_cosmul(["king", "woman"], ["man"], topn=12, restrict_vocab=0)] == \
        [w for w, _ in want_mul]
    vocab = build_vocab(str(small_tokens), VocabSpec(min_count=3))
    specs = [CooccurSpec(window=40, window_weighting="uniform"), CooccurSpec(window=40, window_weighting="harmonic"),
             CooccurSpec(window=40, dynamic_window=True, context="right")]
    whole = [co.cooccurrence_matrix(str(small_tokens), vocab, s) for s in specs]
    monkeypatch.setattr(co, "PAIRS_PER_PRODUCT", 5000)
    pieces = [co.cooccurrence_matrix(str(small_tokens), vocab, s) for s in specs]
    assert (whole[0] != pieces[0]).nnz == 0 and (whole[2] != pieces[2]).nnz == 0  # integer counts: exact
    # 1/d weights: float32 sums within a product, so equal to float32 rounding
    np.testing.assert_allclose(pieces[1].toarray(), whole[1].toarray(), rtol=1e-4)


def test_workers_are_capped_at_the_cores(tmp_path, small_speeches):
    a = run("tokenize", small_speeches, "--workers", "1000", "-q").stdout
    assert a == run("tokenize", small_speeches, "--workers", "1", "-q").stdout


# --------------------------------------------------------------------------- hostile: tracebacks and garbage
def test_causes_of_former_tracebacks_are_one_line_errors(tmp_path, small_tokens, small_speeches, vec):
    one_line(run("tokenize", small_speeches, "--encoding", "rot13", ok=False), 2, "--encoding rot13")
    big = tmp_path / "v.tsv"
    big.write_text("the\t99999999999999999999\n")
    one_line(run("cooccur", small_tokens, "--vocab", big, "-o", tmp_path / "m.npz", ok=False), 3, "out of range")
    latin = tmp_path / "latin.txt"
    latin.write_bytes(small_tokens.read_bytes() + b"caf\xe9 na\xefve\n")
    one_line(run("word2vec", latin, "-o", tmp_path / "w.npz", ok=False), 3, "not valid UTF-8")
    one_line(run("cooccur", small_tokens, "-o", "-", ok=False), 2, "cannot be written to stdout")
    one_line(run("fasttext", small_tokens, "-o", "-", ok=False), 2, "cannot be written to stdout")
    one_line(run("tokenize", small_speeches, "--token-pattern", "a{99999999999}", ok=False), 2, "--token-pattern")
    one_line(run("tokenize", small_speeches, "--token-pattern", "o*", ok=False), 2, "matches the empty string")
    neg = tmp_path / "neg.npz"
    from embedcli.matrix import CountMatrix
    import scipy.sparse as sp

    CountMatrix(sp.csr_matrix(np.array([[1.0, -2.0], [3.0, 4.0]])), ["a", "b"], ["a", "b"], np.ones(2), np.ones(2),
                "cooccurrence", {}).save(str(neg))
    one_line(run("svd", neg, "-o", tmp_path / "x.npz", "--dim", "1", ok=False), 3, "negative values")
    for env in ({"PYTHONIOENCODING": "ascii"}, {"LC_ALL": "C", "LANG": "C"}):
        out = subprocess.run(EMBEDCLI + ["tokenize", "-", "-q"], input="Café naïve\n".encode(), capture_output=True,
                             env={**os.environ, **env})
        assert out.returncode == 0 and out.stdout.decode() == "café naïve\n", out.stderr
    closed = subprocess.run(EMBEDCLI + ["neighbors", str(vec), "-"], stdin=subprocess.DEVNULL, capture_output=True)
    assert closed.returncode == 0
    for redirect in ("<&-", ">&-"):
        sh = subprocess.run(f"{sys.executable} -m embedcli neighbors {vec} - {redirect}", shell=True,
                            capture_output=True, input=b"war\n")
        err = sh.stderr.decode()
        assert sh.returncode == 2 and err.count("\n") == 1 and "is closed" in err, err


def test_silent_garbage_is_refused(tmp_path):
    t = tmp_path / "t.txt"
    t.write_text("alpha\nbeta\n" * 10)
    one_line(run("cooccur", t, "-o", tmp_path / "m.npz", "--min-count", "1", ok=False), 3, "no two vocabulary words")
    nan = tmp_path / "nan.npz"
    from embedcli.npzfile import text_blob, write_npz

    write_npz(str(nan), {"format": "embedcli-vectors", "format_version": 1},
              {"vectors": np.array([[1.0, 0.0], [np.nan, 1.0]], np.float32), "norms": np.ones(2, np.float32),
               "words": text_blob(["a", "b"])})
    one_line(run("neighbors", nan, "a", ok=False), 3, "NaN")
    one_line(run("similarity", nan, "a", "b", ok=False), 3, "NaN")
    with pytest.raises(Exception, match="NaN"):
        Vectors(["a"], np.array([[np.nan]], np.float32)).save(str(tmp_path / "x.txt"))
    assert not (tmp_path / "x.txt").exists()


# --------------------------------------------------------------------------- found by a stranger's session
def test_interactive_stdin_gets_each_answer_at_once(vec):
    p = subprocess.Popen(EMBEDCLI + ["neighbors", str(vec), "-", "-k", "1"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        p.stdin.write(b"war\n")
        p.stdin.flush()
        import select

        ready = select.select([p.stdout], [], [], 30)[0]
        assert ready, "no answer while stdin stays open"
        assert p.stdout.readline().startswith(b"war\t")
        p.stdin.write(b"peace\n")
        p.stdin.close()
        assert p.stdout.readline().startswith(b"peace\t")
    finally:
        p.kill()
        p.wait()


def test_cancelling_words_devices_and_stray_dashes(tmp_path, vec, small_tokens):
    res = run("neighbors", vec, "-", "--format", "json", input="woman -woman\n", ok=False)
    rec = strict_json(res.stdout)[0]
    assert res.exit_code == 4 and rec["neighbors"] == [] and "cancel out" in rec["error"]
    one_line(run("neighbors", vec, "war", "-", ok=False), 2, "must be the only query argument")
    one_line(run("doesnt-match", vec, "war", ok=False), 2, "at least two words")
    res = run("neighbors", vec, "-", "--format", "json", "-q", input=b"war\xff\n", ok=False)
    assert strict_json(res.stdout)[0]["unknown"] == ["war\ufffd"]
    for cmd in (["vocab", str(small_tokens), "-o", "/dev/full"], ["vocab", str(small_tokens)],
                ["neighbors", str(vec), "war"]):
        out = subprocess.run(EMBEDCLI + cmd, stdout=open("/dev/full", "wb"), stderr=subprocess.PIPE)
        err = out.stderr.decode()
        assert out.returncode == 2 and err.count("\n") == 1 and "cannot write: No space left" in err, (cmd, err)


def test_a_swallowed_ctrl_c_noticed_later_still_says_interrupted(tmp_path, monkeypatch, small_tokens):
    """A KeyboardInterrupt swallowed by a library (a pool's thread, a fork hook) is noticed later
    through PENDING_EXIT, as SystemExit(130): the run says "interrupted" once, as for a plain
    Ctrl-C (it exited 130 with no word about why, about 1 run in 20 in the pipeline's counting)."""
    import embedcli.vocab
    from embedcli.outputs import PENDING_EXIT

    def swallowed(*a, **k):
        PENDING_EXIT.append(130)
        raise SystemExit(130)

    monkeypatch.setattr(embedcli.vocab, "build_vocab", swallowed)
    res = run("vocab", small_tokens, "-o", tmp_path / "v.tsv", ok=False)
    assert res.exit_code == 130 and res.stderr.count("embedcli: interrupted") == 1, res.stderr
    assert not (tmp_path / "v.tsv").exists()
    monkeypatch.setattr(embedcli.vocab, "build_vocab", lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt))
    res = run("vocab", small_tokens, "-o", tmp_path / "v.tsv", ok=False)
    assert res.exit_code == 130 and res.stderr.count("embedcli: interrupted") == 1, res.stderr
