import os
from collections import Counter, defaultdict

import numpy as np
import pytest
from conftest import run
from hypothesis import given, settings
from hypothesis import strategies as st

import embedcli.cooccur as co
import embedcli.fileio as eio
from embedcli.cooccur import cooccurrence_matrix
from embedcli.specs import CooccurSpec, VocabSpec
from embedcli.matrix import CountMatrix
from embedcli.vocab import Vocabulary, build_vocab


def brute_force(docs, vocab, window, context, weighting, cross_documents):
    """Reference: the textbook double loop over positions."""
    idx = vocab.index
    seqs = [[t for d in docs for t in d]] if cross_documents else docs
    C = defaultdict(float)
    for seq in seqs:
        for i, w in enumerate(seq):
            if w not in idx:
                continue
            for j in range(max(0, i - window), min(len(seq), i + window + 1)):
                if j == i or seq[j] not in idx:
                    continue
                if (context == "left" and j > i) or (context == "right" and j < i):
                    continue
                d = abs(i - j)
                wt = {"uniform": 1.0, "harmonic": 1.0 / d, "linear": (window - d + 1) / window}[weighting]
                C[idx[w], idx[seq[j]]] += wt
    M = np.zeros((len(vocab), len(vocab)))
    for (a, b), v in C.items():
        M[a, b] = v
    return M


docs_strategy = st.lists(st.lists(st.sampled_from("a b c d e f g h".split()), max_size=25), min_size=1, max_size=8)


@settings(max_examples=int(os.environ.get("EMBEDCLI_FUZZ_EXAMPLES", "120")), deadline=None)
@given(
    docs=docs_strategy,
    window=st.integers(1, 6),
    context=st.sampled_from(["symmetric", "left", "right"]),
    weighting=st.sampled_from(["uniform", "harmonic", "linear"]),
    cross=st.booleans(),
    min_count=st.integers(1, 3),
    chunk=st.sampled_from([8, 24, 1 << 20]),
    dense=st.sampled_from([0, 6, 1 << 21]),
)
def test_matches_brute_force(tmp_path_factory, docs, window, context, weighting, cross, min_count, chunk, dense):
    counter = Counter(t for d in docs for t in d)
    if not counter or max(counter.values()) < min_count:
        return
    path = tmp_path_factory.mktemp("h") / "tokens.txt"
    path.write_text("".join(" ".join(d) + "\n" for d in docs))
    vocab = Vocabulary.from_counter(counter, VocabSpec(min_count=min_count))
    old, old_dense = eio.CHUNK_BYTES, co.DENSE_PRODUCT
    eio.CHUNK_BYTES = chunk  # small blocks: exercises the carry-over between blocks and long-line pieces
    co.DENSE_PRODUCT = dense  # all pairs sparse, some in the dense table, or all there
    try:
        p = CooccurSpec(window=window, context=context, window_weighting=weighting, cross_documents=cross)
        try:
            M = cooccurrence_matrix(str(path), vocab, p).toarray()
        except Exception as e:  # only "nothing to count" is acceptable
            assert "no token of the vocabulary" in str(e)
            return
    finally:
        eio.CHUNK_BYTES, co.DENSE_PRODUCT = old, old_dense
    np.testing.assert_allclose(M, brute_force(docs, vocab, window, context, weighting, cross), rtol=1e-6, atol=1e-9)


def test_windows_stop_at_document_ends_unless_asked(tmp_path):
    t = tmp_path / "t.txt"
    t.write_text("a b\nc d\n")
    run("cooccur", t, "-o", tmp_path / "m.npz", "--min-count", "1", "-q")
    cm = CountMatrix.load(str(tmp_path / "m.npz"))
    i = {w: k for k, w in enumerate(cm.row_words)}
    M = cm.matrix.toarray()
    assert M[i["b"], i["c"]] == 0 and M[i["a"], i["b"]] == 1 and M[i["c"], i["d"]] == 1
    assert cm.provenance["spec"]["cross_documents"] is False
    run("cooccur", t, "-o", tmp_path / "x.npz", "--min-count", "1", "--cross-documents", "-q")
    M = CountMatrix.load(str(tmp_path / "x.npz")).matrix.toarray()
    assert M[i["b"], i["c"]] == 1 and M[i["a"], i["d"]] == pytest.approx(1 / 3)  # default weights 1/d


def test_cli_on_real_text(small_tokens, tmp_path):
    out = tmp_path / "m.npz"
    res = run("cooccur", small_tokens, "-o", out, "--window", "4", "--min-count", "3", "--window-weighting", "uniform")
    assert "non-zero pairs" in res.stderr
    cm = CountMatrix.load(str(out))
    vocab = build_vocab(str(small_tokens), VocabSpec(min_count=3))
    assert cm.row_words == vocab.words == cm.col_words
    M = cm.matrix
    assert M.shape == (len(vocab), len(vocab)) and M.has_canonical_format
    assert abs(M - M.T).max() == 0  # symmetric window
    # total weight: every pair of in-vocabulary tokens within 4 positions of each other, counted both ways
    lines = [ln.split() for ln in small_tokens.read_text().splitlines()]
    ok = set(vocab.words)
    expected = sum(1 for ln in lines for i in range(len(ln)) for d in range(1, 5)
                   if i + d < len(ln) and ln[i] in ok and ln[i + d] in ok)
    assert M.sum() == 2 * expected
    assert cm.provenance["spec"]["window"] == 4 and cm.kind == "cooccurrence"


def test_dynamic_window_matches_its_expectation(small_tokens):
    vocab = build_vocab(str(small_tokens), VocabSpec(min_count=3))
    lin = cooccurrence_matrix(str(small_tokens), vocab, CooccurSpec(window=5, window_weighting="linear"))
    dyn = cooccurrence_matrix(str(small_tokens), vocab, CooccurSpec(window=5, dynamic_window=True, seed=3))
    again = cooccurrence_matrix(str(small_tokens), vocab, CooccurSpec(window=5, dynamic_window=True, seed=3))
    uni = cooccurrence_matrix(str(small_tokens), vocab, CooccurSpec(window=5, window_weighting="uniform"))
    assert CooccurSpec(dynamic_window=True).window_weighting == "uniform"  # word2vec's, unless asked otherwise
    assert CooccurSpec().window_weighting == "harmonic"
    assert (dyn != again).nnz == 0  # seeded
    assert dyn.sum() == pytest.approx(lin.sum(), rel=0.01)
    assert (dyn > uni).nnz == 0
    left = cooccurrence_matrix(str(small_tokens), vocab, CooccurSpec(window=5, dynamic_window=True, context="left"))
    assert left.sum() == pytest.approx(lin.sum() / 2, rel=0.01)


def test_subsampling_drops_frequent_words(small_tokens):
    vocab = build_vocab(str(small_tokens), VocabSpec(min_count=3))
    full = cooccurrence_matrix(str(small_tokens), vocab, CooccurSpec())
    sub = cooccurrence_matrix(str(small_tokens), vocab, CooccurSpec(sample=1e-4))
    the = vocab.index["the"]
    assert sub[the].sum() < 0.3 * full[the].sum()
    assert sub.sum() < full.sum()


def test_bad_parameters(small_tokens, tmp_path):
    for opt, val in (("--window", "0"), ("--window", "-2"), ("--min-count", "0"), ("--subsample", "1.5")):
        res = run("cooccur", small_tokens, "-o", tmp_path / "m.npz", opt, val, ok=False)
        assert res.exit_code == 2 and opt in res.stderr, res.stderr
        assert not (tmp_path / "m.npz").exists()
    res = run("cooccur", small_tokens, "-o", tmp_path / "m.npz", "--min-count", "100000", ok=False)
    assert res.exit_code == 3 and "--min-count" in res.stderr


@pytest.mark.parametrize("options", [
    dict(),
    dict(window_weighting="harmonic", window=10),
    dict(dynamic_window=True, sample=1e-3, seed=7),
    dict(cross_documents=True, context="right"),
])
def test_matrix_does_not_depend_on_workers(small_tokens, monkeypatch, options):
    """Blocks are decoded in worker processes and multiplied on threads; the matrix is the same bits."""
    monkeypatch.setattr(eio, "CHUNK_BYTES", 20_000)  # many blocks: the pool is used, carries cross blocks
    vocab = build_vocab(str(small_tokens), VocabSpec(min_count=3))
    got = [cooccurrence_matrix(str(small_tokens), vocab, CooccurSpec(workers=w, **options)) for w in (1, 2, 3)]
    for M in got[1:]:
        for a in ("data", "indices", "indptr"):
            assert np.array_equal(getattr(M, a), getattr(got[0], a))
    assert got[0].nnz > 1000


@pytest.mark.parametrize("options", [
    dict(),
    dict(window_weighting="linear", window=7, context="left"),
    dict(dynamic_window=True, sample=1e-3, seed=7),
])
def test_dense_table_gives_the_same_bits(small_tokens, monkeypatch, options):
    """Pairs of two frequent words are summed in a dense table, the others in sparse blocks: any
    split of the pairs between them gives the same matrix (integer weight units), and the split
    really happens on this text (the real vocabulary's pairs fall on both sides)."""
    vocab = build_vocab(str(small_tokens), VocabSpec(min_count=2))
    monkeypatch.setattr(eio, "CHUNK_BYTES", 30_000)
    got = []
    for product in (0, 40, 5_000, co.DENSE_PRODUCT):
        monkeypatch.setattr(co, "DENSE_PRODUCT", product)
        got.append(cooccurrence_matrix(str(small_tokens), vocab, CooccurSpec(**options)))
    for M in got[1:]:
        for a in ("data", "indices", "indptr"):
            assert np.array_equal(getattr(M, a), getattr(got[0], a))
    rows, cols = got[0].nonzero()
    in_table = (rows + 1) * (cols + 1) <= 5_000
    assert 0.05 < in_table.mean() < 0.95 and len(vocab) ** 2 > 5_000
    monkeypatch.setattr(co, "DENSE_PRODUCT", 0)  # float32 weights (beyond lcm 2**20): equal to rounding
    a = cooccurrence_matrix(str(small_tokens), vocab, CooccurSpec(window=20))
    monkeypatch.setattr(co, "DENSE_PRODUCT", 5_000)
    b = cooccurrence_matrix(str(small_tokens), vocab, CooccurSpec(window=20))
    assert (a != 0).nnz == (b != 0).nnz and (abs(a - b) > 1e-4 * abs(a)).nnz == 0


def test_int32_table_is_emptied_before_it_could_overflow(small_tokens, monkeypatch):
    """With a cell limit low enough that the int32 table must be emptied into sparse sums many
    times, the matrix is still the same, bit for bit."""
    vocab = build_vocab(str(small_tokens), VocabSpec(min_count=2))
    want = cooccurrence_matrix(str(small_tokens), vocab, CooccurSpec())
    emptied = []
    real = co._DenseTable._csr
    monkeypatch.setattr(co._DenseTable, "_csr", lambda self, t, V: emptied.append(1) or real(self, t, V))
    monkeypatch.setattr(co, "PAIRS_PER_PRODUCT", 100)
    monkeypatch.setattr(co, "TABLE_LIMIT", 60 * 100)  # harmonic window 5: units up to 60
    got = cooccurrence_matrix(str(small_tokens), vocab, CooccurSpec())
    assert len(emptied) > 10
    for a in ("data", "indices", "indptr"):
        assert np.array_equal(getattr(got, a), getattr(want, a))


def test_termdoc_does_not_depend_on_workers(small_tokens, monkeypatch):
    from embedcli.specs import TermdocSpec
    from embedcli.termdoc import termdoc_matrix

    monkeypatch.setattr(eio, "CHUNK_BYTES", 20_000)
    vocab = build_vocab(str(small_tokens), VocabSpec(min_count=1))
    a, b = (termdoc_matrix(str(small_tokens), vocab, TermdocSpec(weighting="tfidf", workers=w)).matrix for w in (1, 2))
    assert a.shape == b.shape and (a != b).nnz == 0
    assert a.shape[1] == sum(1 for _ in open(small_tokens, encoding="utf-8"))


@pytest.mark.parametrize("options", [dict(), dict(window_weighting="harmonic", window=16),
                                     dict(window_weighting="linear", window=7)])
def test_matrix_does_not_depend_on_block_boundaries(small_tokens, monkeypatch, options):
    """Weights are counted in integer units over a common denominator (weight_units), so every sum is
    exact: cutting the corpus into other blocks (as a cluster does) gives the same bits, and the
    result is the correctly rounded weighted count."""
    from embedcli.cooccur import weight_units

    vocab = build_vocab(str(small_tokens), VocabSpec(min_count=3))
    got = []
    for chunk in (7_000, 50_000, 1 << 22):
        monkeypatch.setattr(eio, "CHUNK_BYTES", chunk)
        got.append(cooccurrence_matrix(str(small_tokens), vocab, CooccurSpec(**options)))
    for M in got[1:]:
        for a in ("data", "indices", "indptr"):
            assert np.array_equal(getattr(M, a), getattr(got[0], a))
    units, scale = weight_units(options.get("window", 5), options.get("window_weighting", "harmonic"))
    assert units.dtype.kind == "i" and np.allclose(got[0].data * scale, np.rint(got[0].data * scale))
    units, scale = weight_units(17, "harmonic")  # lcm(1..17) is too large: float32 weights
    assert units.dtype == np.float32 and scale == 1


def test_tokens_from_an_fsspec_url_give_the_same_bytes(tmp_path, small_tokens):
    """An fsspec URL (here file://, the same code path as s3:// or gs://) is read like the path;
    compressed too; a missing URL or an unknown protocol is a one-line exit 2."""
    import gzip

    pytest.importorskip("fsspec")
    url = "file://" + str(small_tokens)
    gz = tmp_path / "t.txt.gz"
    gz.write_bytes(gzip.compress(small_tokens.read_bytes()))
    run("vocab", small_tokens, "--min-count", "3", "-o", tmp_path / "p.tsv", "-q")
    run("vocab", url, "--min-count", "3", "-o", tmp_path / "u.tsv", "-q")
    run("vocab", "file://" + str(gz), "--min-count", "3", "-o", tmp_path / "g.tsv", "-q")
    assert (tmp_path / "p.tsv").read_bytes() == (tmp_path / "u.tsv").read_bytes() == (tmp_path / "g.tsv").read_bytes()
    import json  # the provenance chain is read through the URL too (the tokens' sidecar)

    side = json.loads((tmp_path / "u.tsv.meta.json").read_text())["provenance"]["inputs"]["tokens"]
    assert side["path"] == url and side["stage"] == "tokenize"
    run("cooccur", small_tokens, "--vocab", tmp_path / "p.tsv", "-o", tmp_path / "p.npz", "-q")
    run("cooccur", url, "--vocab", tmp_path / "p.tsv", "--workers", "2", "-o", tmp_path / "u.npz", "-q")
    a, b = (CountMatrix.load(str(tmp_path / f"{t}.npz")).matrix for t in "pu")
    assert (a != b).nnz == 0 and a.nnz > 1000
    r = run("vocab", url + ".missing", "-o", tmp_path / "x.tsv", ok=False)
    assert r.exit_code == 2 and "no such file" in r.stderr and "Traceback" not in r.stderr
    r = run("vocab", "nosuchproto://bucket/t.txt", "-o", tmp_path / "x.tsv", ok=False)
    assert r.exit_code == 2
    assert "nosuchproto" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_counting_in_several_threads_at_once(small_tokens, monkeypatch):
    """A Dask worker runs several counting tasks at once in one process (one per thread): they must
    not share the vocabulary index (it was a process global, cleared by the first task to finish)."""
    from concurrent.futures import ThreadPoolExecutor

    monkeypatch.setattr(eio, "CHUNK_BYTES", 4_000)  # many blocks per task: a long window for a race
    vocab = build_vocab(str(small_tokens), VocabSpec(min_count=3))
    spec = CooccurSpec(window=3)
    want = cooccurrence_matrix(str(small_tokens), vocab, spec)
    with ThreadPoolExecutor(4) as ex:
        got = list(ex.map(lambda _: cooccurrence_matrix(str(small_tokens), vocab, spec.replace(workers=1)), range(4)))
    assert all((g != want).nnz == 0 for g in got)


def test_progress_knows_the_size_of_a_plain_file(tmp_path, small_tokens):
    """Counting stages report bytes against the file's size (a percentage and an ETA on a terminal),
    with the tokens read as the extra text; a compressed file's progress is in its stored bytes."""
    import gzip

    from embedcli.cooccur import cooccur
    from embedcli.fileio import Progress
    from embedcli.vocab import count_tokens

    class Seen(Progress):
        def __init__(self):
            super().__init__("test", "bytes")
            self.calls = []

        def update(self, done, total=None, extra=""):
            self.calls.append((done, total, extra))

    size = small_tokens.stat().st_size
    p = Seen()
    cooccur(str(small_tokens), build_vocab(str(small_tokens), VocabSpec(min_count=3)), CooccurSpec(), p)
    assert p.calls and all(t == size for _, t, _ in p.calls) and p.calls[-1][0] == size
    assert p.calls[-1][2].endswith(" tokens")
    p = Seen()
    count_tokens(str(small_tokens), p)
    assert p.calls[-1][:2] == (size, size)
    gz = tmp_path / "t.txt.gz"
    gz.write_bytes(gzip.compress(small_tokens.read_bytes()))
    for count in (lambda p: count_tokens(str(gz), p),
                  lambda p: cooccur(str(gz), build_vocab(str(small_tokens), VocabSpec(min_count=3)), CooccurSpec(), p)):
        p = Seen()
        count(p)
        done = [d for d, _, _ in p.calls]
        assert p.calls[-1][:2] == (gz.stat().st_size, gz.stat().st_size) and done == sorted(done)


def test_tokenize_progress_on_compressed_inputs_has_a_total(tmp_path, small_speeches):
    """A .gz corpus (the usual pipeline input) shows a percentage: progress in stored bytes, against
    the inputs' stored sizes (it used to show a rate only)."""
    import gzip
    import io

    from embedcli.fileio import Progress
    from embedcli.tokenizer import tokenize

    calls = []

    class Seen(Progress):
        def __init__(self):
            super().__init__("test", "bytes")

        def update(self, done, total=None, extra=""):
            calls.append((done, total))

    gz = tmp_path / "a.txt.gz"
    gz.write_bytes(gzip.compress(small_speeches.read_bytes()))
    total = gz.stat().st_size + small_speeches.stat().st_size
    tokenize([str(gz), str(small_speeches)], io.BytesIO(), progress=Seen())
    done = [d for d, _ in calls]
    assert calls and all(t == total for _, t in calls) and done == sorted(done) and done[-1] == total


def test_heap_reuse_sets_and_restores_the_threshold_once(monkeypatch):
    """memory.heap_reuse: glibc's mmap threshold goes to 32 MiB and its trim threshold to 1 GiB while
    any user is inside, then back to what return_freed_memory set and glibc's default, and the heap
    is trimmed; nothing at all where
    return_freed_memory did not run (a library user's process) or MALLOC_MMAP_THRESHOLD_ is set."""
    import threading

    from embedcli import memory

    calls = []

    class FakeLibc:
        def mallopt(self, param, value):
            calls.append(("mallopt", param, value))
            return 1

        def malloc_trim(self, pad):
            calls.append(("trim", pad))
            return 1

    for name in ("MALLOC_TRIM_THRESHOLD_", "GLIBC_TUNABLES"):  # (dask's nanny sets the first in os.environ)
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(memory, "_libc", lambda: FakeLibc())
    monkeypatch.setattr(memory, "_THRESHOLD", [None])
    with memory.heap_reuse():
        pass
    assert calls == []
    memory.return_freed_memory()
    assert calls == [("mallopt", -3, 4 << 20)] and memory._THRESHOLD == [4 << 20]
    calls.clear()
    inside, release = threading.Event(), threading.Event()

    def other():
        with memory.heap_reuse():
            inside.set()
            release.wait(10)

    t = threading.Thread(target=other)
    t.start()
    inside.wait(10)
    entered = [("mallopt", -3, 32 << 20), ("mallopt", -1, 1 << 30)]
    with memory.heap_reuse():
        assert calls == entered
    assert calls == entered  # the other thread is still inside
    release.set()
    t.join()
    assert calls == entered + [("mallopt", -3, 4 << 20), ("mallopt", -1, 128 << 10), ("trim", 0)]
    monkeypatch.undo()
    monkeypatch.setenv("MALLOC_MMAP_THRESHOLD_", "1000000")
    assert memory._libc() is None  # the user's own setting wins
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_")
    monkeypatch.setenv("GLIBC_TUNABLES", "glibc.malloc.mmap_threshold=1000000")
    assert memory._libc() is None
    # a user's trim threshold is left alone, the mmap threshold still set
    monkeypatch.delenv("GLIBC_TUNABLES")
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "1000000")
    monkeypatch.setattr(memory, "_libc", lambda: FakeLibc())
    monkeypatch.setattr(memory, "_THRESHOLD", [4 << 20])
    calls.clear()
    with memory.heap_reuse():
        pass
    memory.worker_heap()
    assert calls == [("mallopt", -3, 32 << 20), ("mallopt", -3, 4 << 20), ("trim", 0), ("mallopt", -3, 32 << 20)]


def test_the_counting_its_sums_and_the_transpose_run_inside_heap_reuse(small_tokens, monkeypatch):
    """cooccurrence_matrix's three phases each run inside memory.heap_reuse (temporaries reused
    from the heap), one after the other, so that the heap is trimmed between them: the counting
    loop, the sum of its partial matrices, and ``L + L^T``."""
    import contextlib

    from embedcli.specs import CooccurSpec, VocabSpec
    from embedcli.vocab import build_vocab

    events = []

    @contextlib.contextmanager
    def spy():
        events.append("in")
        yield
        events.append("out")

    real_assemble = co.assemble
    monkeypatch.setattr(co, "heap_reuse", spy)
    monkeypatch.setattr(co, "assemble", lambda *a: (events.append("assemble"), real_assemble(*a))[1])
    vocab = build_vocab(str(small_tokens), VocabSpec(min_count=2))
    M = co.cooccurrence_matrix(str(small_tokens), vocab, CooccurSpec())
    assert events == ["in", "out", "in", "out", "in", "assemble", "out"]
    assert M.nnz and abs(M - M.T).max() == 0
