import json
import os

import numpy as np
import pytest
from conftest import run, shared_path
from hypothesis import given, settings
from hypothesis import strategies as st

from embedcli.vectors import Vectors

FAST = ("--epochs", "2", "--dim", "32", "--min-count", "3", "-q")


def test_word2vec_cli_formats_context_and_w_plus_c(small_tokens, tmp_path):
    out = tmp_path / "w2v.npz"
    res = run("word2vec", small_tokens, "-o", out, "--sg", "--save-context", *FAST[:-1])
    assert "words/s" in res.stderr
    w = Vectors.load(str(out))
    c = Vectors.load(str(tmp_path / "w2v.context.npz"))
    assert w.words == c.words and w.dim == 32 and w.words[0] == "the"
    prov = w.meta["provenance"]
    assert prov["stage"] == "word2vec" and prov["spec"]["sg"] is True and prov["inputs"]["tokens"]["path"] == str(small_tokens)
    assert w.counts[0] == small_tokens.read_text().split().count("the")
    run("word2vec", small_tokens, "-o", tmp_path / "wc.txt", "--vectors", "w+c", "--workers", "1", *FAST)
    run("word2vec", small_tokens, "-o", tmp_path / "w1.txt", "--save-context", "--workers", "1", *FAST)
    wc = Vectors.load(str(tmp_path / "wc.txt"))
    w1 = Vectors.load(str(tmp_path / "w1.txt"))
    c1 = Vectors.load(str(tmp_path / "w1.context.txt"))
    np.testing.assert_allclose(wc.vectors, w1.vectors + c1.vectors, atol=1e-5)
    assert (wc.meta["kind"], w1.meta["kind"], c1.meta["kind"]) == ("words", "words", "context")
    run("word2vec", small_tokens, "-o", tmp_path / "w.bin", *FAST)
    assert Vectors.load(str(tmp_path / "w.bin")).meta["source_format"] == "binary"


def test_word2vec_reproducible_with_one_worker(small_tokens, tmp_path):
    for name in ("a.npz", "b.npz"):
        run("word2vec", small_tokens, "-o", tmp_path / name, "--workers", "1", "--seed", "7", *FAST)
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    run("word2vec", small_tokens, "-o", tmp_path / "c.npz", "--workers", "1", "--seed", "8", *FAST)
    assert (tmp_path / "a.npz").read_bytes() != (tmp_path / "c.npz").read_bytes()


def test_word2vec_reads_stdin_and_gz(small_tokens, tmp_path):
    import gzip

    gz = tmp_path / "t.txt.gz"
    gz.write_bytes(gzip.compress(small_tokens.read_bytes()))
    run("word2vec", gz, "-o", tmp_path / "a.npz", "--workers", "1", *FAST)
    run("word2vec", "-", "-o", tmp_path / "b.npz", "--workers", "1", *FAST, input=small_tokens.read_bytes())
    a, b = Vectors.load(str(tmp_path / "a.npz")), Vectors.load(str(tmp_path / "b.npz"))
    np.testing.assert_array_equal(a.vectors, b.vectors)


@pytest.mark.parametrize("args,code,text", [
    (("--dim", "0"), 2, "--dim 0"),
    (("--epochs", "0"), 2, "--epochs 0"),
    (("--window", "-1"), 2, "--window -1"),
    (("--min-count", "0"), 2, "--min-count 0"),
    (("--min-count", "1000000"), 3, "no word occurs --min-count 1000000 times"),
])
def test_word2vec_bad_options(small_tokens, tmp_path, args, code, text):
    out = tmp_path / "v.npz"
    res = run("word2vec", small_tokens, "-o", out, "-q", *args, ok=False)
    assert res.exit_code == code and text in res.stderr and "Traceback" not in res.stderr
    assert res.stderr.count("\n") == 1 and not out.exists() and list(tmp_path.iterdir()) == []


def test_word2vec_empty_corpus(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("\n \n")
    res = run("word2vec", empty, "-o", tmp_path / "v.npz", ok=False)
    assert res.exit_code == 3 and "empty corpus" in res.stderr and not (tmp_path / "v.npz").exists()


@pytest.fixture(scope="module")
def fasttext_model(tmp_path_factory, sample_run):
    tokens = sample_run[0] / "tokens.txt"
    out = tmp_path_factory.mktemp("ft") / "model.bin"
    run("fasttext", tokens, "-o", out, "--bucket", "100000", "--epochs", "5", "--dim", "50", "--sg", "--seed", "1", "-q")
    return out


def test_fasttext_builds_vectors_for_misspellings(fasttext_model):
    for typo, word in (("governmnet", "government"), ("presidnet", "president"), ("constitutoin", "constitution")):
        res = run("neighbors", fasttext_model, typo, "-k", "5", "--format", "json")
        rec = json.loads(res.stdout)
        assert rec["oov"] == [typo]
        assert word in [n["word"] for n in rec["neighbors"]][:5], rec
        assert "vector built from character n-grams" in res.stderr
    sim = run("similarity", fasttext_model, "freedom", "freedomm").stdout.split("\t")
    assert float(sim[2]) > 0.8
    res = run("analogy", fasttext_model, "man", "king", "womann", "--format", "json")
    assert json.loads(res.stdout)["oov"] == ["womann"]


def test_fasttext_model_metadata_and_vectors_output(fasttext_model, tmp_path, sample_run):
    info = json.loads(run("info", fasttext_model).stdout)
    assert info["format"] == "fasttext-bin"
    v = Vectors.load(str(fasttext_model))
    assert v.dim == 50 and v.meta["minn"] == 3 and v.meta["maxn"] == 6 and v.meta["bucket"] == 100000


def test_fasttext_without_character_ngrams(tmp_path, sample_run):
    """--maxn 0 is fastText's way to train plain word vectors: no hash table (bucket 0, recorded),
    unseen words have no vector; such a model (minn 3 > maxn 0 in its header, as fastText itself
    writes it) reads back; impossible n-gram settings are one-line errors."""
    tokens = sample_run[0] / "tokens.txt"
    out = tmp_path / "plain.bin"
    run("fasttext", tokens, "-o", out, "--maxn", "0", "--epochs", "1", "--dim", "20", "-q")
    assert out.stat().st_size < 20 * 4 * 50_000  # no 2M x dim table
    v = Vectors.load(str(out))
    assert v.meta["maxn"] == 0 and v.meta["bucket"] == 0 and v.oov is None
    assert json.loads((tmp_path / "plain.bin.meta.json").read_text())["provenance"]["spec"]["bucket"] == 0
    assert run("neighbors", out, "war", "-k", "3").stdout.count("\n") == 3
    res = run("neighbors", out, "warr", ok=False)
    assert res.exit_code == 4 and "not in vocabulary: warr" in res.stderr
    for args, text in ((("--maxn", "2"), "--maxn 2: must be 0 (no character n-grams) or at least --minn 3"),
                       (("--bucket", "0"), "--bucket 0: leaves no room for character n-grams: give --maxn 0")):
        res = run("fasttext", tokens, "-o", tmp_path / "x.bin", *args, ok=False)
        assert res.exit_code == 2 and text in res.stderr and res.stderr.count("\n") == 1


def test_not_a_fasttext_model(tmp_path, fasttext_model):
    fake = tmp_path / "model.bin"
    fake.write_bytes(b"this is not a model at all\n" * 10)
    res = run("neighbors", fake, "war", ok=False)
    # plain text "looks like a tokens file": the wrong kind of file, exit 2
    assert res.exit_code == 2 and str(fake) in res.stderr and "Traceback" not in res.stderr
    cut = tmp_path / "cut.bin"
    cut.write_bytes(fasttext_model.read_bytes()[:5000])
    res = run("neighbors", cut, "war", ok=False)
    assert res.exit_code == 3 and "corrupt or truncated fastText model" in res.stderr


def test_phrases(sample_run, tmp_path):
    tokens = sample_run[0] / "tokens.txt"
    out = tmp_path / "phrased.txt"
    res = run("phrases", tokens, "-o", out, "--min-count", "5")
    text = out.read_text()
    assert "united_states" in text and "phrases learned" in res.stderr
    assert len(text.splitlines()) == len(tokens.read_text().splitlines())
    run("phrases", tokens, "-o", tmp_path / "p2.txt", "--passes", "2", "-q")
    longest = max(len(t.split("_")) for t in (tmp_path / "p2.txt").read_text().split())
    assert longest >= 3
    run("phrases", tokens, "-o", tmp_path / "npmi.txt", "--scoring", "npmi", "--threshold", "0.6", "-q")
    assert "_" in (tmp_path / "npmi.txt").read_text()
    # the output is a tokens file every command reads
    run("vocab", out, "-o", tmp_path / "v.tsv", "-q")
    assert "united_states\t" in (tmp_path / "v.tsv").read_text()
    res = run("phrases", tokens, "--scoring", "npmi", "--threshold", "5", ok=False)
    assert res.exit_code == 2 and "--threshold" in res.stderr


def test_phrase_table_applies_as_learned(sample_run, tmp_path):
    """--phrases-output saves what was learned; --apply joins text exactly as the learning run did."""
    lines = (sample_run[0] / "tokens.txt").read_text().splitlines()
    tokens = tmp_path / "t.txt"
    tokens.write_text("\n".join(lines[:40] + [""] + lines[40:]) + "\n")  # an empty document keeps its line
    out, table = tmp_path / "p.txt", tmp_path / "phrases.tsv"
    run("phrases", tokens, "-o", out, "--passes", "2", "--min-count", "5", "--phrases-output", table, "-q")
    head, *rows = table.read_text().splitlines()
    settings = json.loads(head.split(" ", 1)[1])
    assert head.startswith("#embedcli-phrases ") and settings["passes"] == 2 and settings["min_count"] == 5
    table_rows = {tuple(r.split("\t")[:2]) for r in rows}
    assert ("1", "united_states") in table_rows and any(p == "2" for p, _ in table_rows)
    assert out.read_text().splitlines()[40] == "" and len(out.read_text().splitlines()) == len(lines) + 1
    res = run("phrases", tokens, "--apply", table, "-o", tmp_path / "again.txt")
    assert (tmp_path / "again.txt").read_bytes() == out.read_bytes() and "phrases of" in res.stderr
    new = tmp_path / "new.txt"
    new.write_text("the united states of america\n\nunited states\n")
    res = run("phrases", new, "--apply", table)
    assert res.stdout.splitlines()[1:] == ["", "united_states"] and "united_states" in res.stdout.splitlines()[0]
    # the table is the only source of settings; a malformed table is named by line
    res = run("phrases", new, "--apply", table, "--threshold", "3", ok=False)
    assert res.exit_code == 2 and "--threshold" in res.stderr and "--apply" in res.stderr
    bad = tmp_path / "bad.tsv"
    bad.write_text(head + "\n1\tunited_states\thigh\n")
    res = run("phrases", new, "--apply", bad, "-o", tmp_path / "x.txt", ok=False)
    assert res.exit_code == 3 and f"{bad}:2" in res.stderr and not (tmp_path / "x.txt").exists()
    res = run("phrases", new, "--apply", tokens, ok=False)
    assert res.exit_code == 3 and "not a phrase table" in res.stderr
    res = run("vocab", table, ok=False)  # the table is not tokens
    assert res.exit_code == 2 and "a phrase table" in res.stderr
    # hand-edited tables: a byte-order mark and blank lines pass; a cut last line, a NaN score or one at or
    # below the threshold (gensim would never join it) are named
    text = table.read_text()
    (tmp_path / "bom.tsv").write_text("\ufeff" + text + "\n\n")
    assert run("phrases", new, "--apply", tmp_path / "bom.tsv").stdout == run("phrases", new, "--apply", table).stdout
    for name, body, why in [("cut.tsv", text[: len(text) - 3], "no end"),
                            ("nan.tsv", head + "\n1\tunited_states\tnan\n", "not above the table's threshold"),
                            ("low.tsv", head + "\n1\tunited_states\t5\n", "not above the table's threshold")]:
        (tmp_path / name).write_text(body)
        res = run("phrases", new, "--apply", tmp_path / name, ok=False)
        assert res.exit_code == 3 and why in res.stderr, (name, res.stderr)


def test_phrases_join_in_parallel_blocks_as_in_one(sample_run, tmp_path, monkeypatch):
    """Joining runs on blocks of lines in worker processes: the same bytes for any --workers, a line
    longer than a block joined whole, a bad byte named by its line in the whole file."""
    import embedcli.fileio

    monkeypatch.setattr(embedcli.fileio, "CHUNK_BYTES", 3000)  # many blocks on the small corpus
    lines = (sample_run[0] / "tokens.txt").read_text().splitlines()[:60]
    tokens = tmp_path / "t.txt"
    tokens.write_text("\n".join(lines[:30] + [" ".join(lines[30:40])] + lines[40:]) + "\n")  # one line of 10
    outs = []
    for w in ("1", "2"):
        run("phrases", tokens, "--min-count", "5", "--passes", "2", "--workers", w, "-o", tmp_path / f"p{w}.txt",
            "--phrases-output", tmp_path / f"t{w}.tsv", "-q")
        outs.append((tmp_path / f"p{w}.txt").read_bytes())
    assert outs[0] == outs[1] and (tmp_path / "t1.tsv").read_bytes() == (tmp_path / "t2.tsv").read_bytes()
    assert len(outs[0].splitlines()) == 51 and b"united_states" in outs[0].splitlines()[30]
    run("phrases", tokens, "--apply", tmp_path / "t1.tsv", "--workers", "2", "-o", tmp_path / "a.txt", "-q")
    assert (tmp_path / "a.txt").read_bytes() == outs[0]
    import embedcli.parallel

    seen = []
    real_init = embedcli.parallel.ProcessBlocks.__init__
    monkeypatch.setattr(embedcli.parallel.ProcessBlocks, "__init__",
                        lambda self, fn, workers, *a: seen.append(workers) or real_init(self, fn, workers, *a))
    run("phrases", tokens, "--apply", tmp_path / "t1.tsv", "--workers", "1", "-o", tmp_path / "a1.txt", "-q")
    assert seen == [1, 1] and (tmp_path / "a1.txt").read_bytes() == outs[0]  # this run's --workers, per pass
    bad = tmp_path / "bad.txt"
    bad.write_bytes(tokens.read_bytes() + b"ok \xff\n")
    res = run("phrases", bad, "--apply", tmp_path / "t1.tsv", "--workers", "2", ok=False)
    assert res.exit_code == 3 and f"{bad}:52: not valid UTF-8" in res.stderr


def test_pipeline_word2vec_method(tmp_path):
    res = run("pipeline", "-o", tmp_path, "--method", "word2vec", "--epochs", "1")
    assert "word2vec" in res.stdout and "nearest neighbours:" in res.stdout
    assert Vectors.load(str(tmp_path / "vectors.npz")).meta["provenance"]["stage"] == "word2vec"


@pytest.mark.slow
def test_sgns_quality_on_benchmark_corpus(tmp_path):
    corpus = shared_path("corpora", "english-mix.txt.gz")
    tokens = tmp_path / "tokens.txt"
    run("tokenize", corpus, "-o", tokens, "-q")
    run("word2vec", tokens, "-o", tmp_path / "v.npz", "--sg", "--dim", "100", "--window", "5", "--epochs", "5",
        "--min-count", "5", "--negative", "5", "-q")
    from embedcli.evaluate import evaluate_similarity

    ws = evaluate_similarity(Vectors.load(str(tmp_path / "v.npz")), str(shared_path("eval", "wordsim353.tsv")))
    print(f"SGNS WS353 rho {ws.spearman:.4f} over {ws.pairs_used} pairs")
    assert ws.spearman >= 0.40


def test_training_progress_line(capsys, monkeypatch):
    """Progress from the ends of gensim's epochs, estimated inside an epoch from their duration:
    epoch, %, ETA, words/s (gensim's own lines say "50%" when the first of two threads ends)."""
    import time

    from embedcli.fileio import Progress
    from embedcli.predictive import _EpochProgress

    clock = [100.0]
    monkeypatch.setattr(time, "perf_counter", lambda: clock[0])
    p = Progress("word2vec", None, every=0)
    st = _EpochProgress(p, epochs=5, corpus_words=1_000_000)
    clock[0] += 1
    st.tick()
    err = capsys.readouterr().err
    assert "epoch 1/5" in err and "%" not in err  # nothing known yet but the time
    clock[0] += 9
    st.epoch_ended()
    clock[0] += 10  # two epochs in 20 s
    st.epoch_ended()
    err = capsys.readouterr().err.splitlines()[-1]
    assert "40%" in err and "ETA" in err and "epoch 3/5" in err and "100,000 words/s" in err, err
    clock[0] += 5  # half of the third epoch's expected 10 s
    st.tick()
    assert "50%" in capsys.readouterr().err
    clock[0] += 60  # a slow epoch: the estimate stays inside it
    st.tick()
    assert "59%" in capsys.readouterr().err
    # the first epoch, with the share of the corpus file read known: percentage and ETA from the start
    share = [None]
    st = _EpochProgress(p, epochs=2, corpus_words=1_000_000, reading=lambda: share[0])
    clock[0] += 10
    share[0] = 0.25
    st.tick()
    err = capsys.readouterr().err.splitlines()[-1]
    assert "12%" in err and "ETA 1:10" in err and "epoch 1/2" in err and "25,000 words/s" in err, err
    share[0] = None  # an epoch starting or ending: no descriptors to read
    st.tick()
    assert "%" not in capsys.readouterr().err


@pytest.mark.skipif(not os.path.isdir("/proc/self/fdinfo"), reason="needs Linux /proc")
def test_file_read_share_from_the_threads_offsets(tmp_path):
    """gensim's corpus_file threads each read 1/workers of the file from size/workers*k; the offsets
    of the open descriptors say how much of the epoch is done."""
    from embedcli.predictive import file_read_share

    path = tmp_path / "t.txt"
    path.write_bytes(b"x" * 1000)
    assert file_read_share(str(path), 2) is None  # not open: not knowable
    with open(path, "rb") as a, open(path, "rb") as b:
        a.seek(250)
        b.seek(700)  # thread 2 started at 500
        assert file_read_share(str(path), 2) == pytest.approx(0.45)
        assert file_read_share(str(path), 3) is None  # a thread not started (or done)
        b.seek(1000)
        a.seek(600)  # read past its half: counted as its half
        assert file_read_share(str(path), 2) == pytest.approx(1.0)


def test_long_lines_are_cut_as_gensim_would_before_training(tmp_path, small_tokens, monkeypatch):
    """gensim trains a line of more than 10,000 tokens as 10,000-token chunks, but holds the whole
    line and re-copies the pending chunks per batch (gigabytes and quadratic time for text8's one
    line). embedcli cuts such lines first, keeping every byte offset: the cut is exact for any
    blocking, and training gives gensim's own vectors on the original file."""
    import random

    from gensim.models import Word2Vec

    from embedcli.predictive import split_long_lines, train_word2vec
    from embedcli.specs import VocabSpec, Word2VecSpec

    rng = random.Random(2)
    for _ in range(300):
        m = rng.randint(1, 6)
        lines = []
        for _ in range(rng.randint(1, 6)):
            toks = [rng.choice(["a", "bb", "ccc"]) for _ in range(rng.randint(0, 30))]
            seps = [rng.choice([" ", " ", "  ", "\t"]) for _ in toks]
            lines.append(rng.choice(["", " "]) + "".join(t + s for t, s in zip(toks, seps)))
        text = "\n".join(lines) + rng.choice(["", "\n"])
        (tmp_path / "a.txt").write_text(text)
        split_long_lines(str(tmp_path / "a.txt"), str(tmp_path / "b.txt"), m, block_size=rng.randint(1, 9))
        out = (tmp_path / "b.txt").read_text()
        (tmp_path / "c.txt").write_text(text)  # in place (a temporary copy of ours): the same bytes
        split_long_lines(str(tmp_path / "c.txt"), None, m, block_size=rng.randint(1, 9))
        assert (tmp_path / "c.txt").read_text() == out
        want = [line.split()[i:i + m] for line in text.split("\n") for i in range(0, len(line.split()), m)]
        assert len(out) == len(text) and [line.split() for line in out.split("\n") if line.split()] == want

    lines = small_tokens.read_text().splitlines()
    long = " ".join(lines[2:14])
    assert len(long.split()) > 25_000
    corpus = tmp_path / "mix.txt"
    corpus.write_text("\n".join(lines[:2] + [long] + lines[14:]) + "\n")
    import embedcli.predictive as predictive

    cuts = []
    def recorded(*a, **k):
        cuts.append(split_long_lines(*a, **k))
        return cuts[-1]

    monkeypatch.setattr(predictive, "split_long_lines", recorded)
    wv, _, st = train_word2vec(str(corpus), Word2VecSpec(epochs=1, vector_size=10, workers=1, seed=3),
                               VocabSpec(min_count=3))
    assert cuts == [len(long.split()) // 10_000]  # trained on the cut copy
    g = Word2Vec(corpus_file=str(corpus), vector_size=10, epochs=1, workers=1, seed=3, min_count=3)
    assert wv.words == g.wv.index_to_key and np.array_equal(np.asarray(wv.vectors), g.wv.vectors)
    assert st["corpus_documents"] == g.corpus_count
    # compressed: cut in place in the one decompressed copy, the same vectors
    import gzip
    import tempfile

    made = []
    real = tempfile.mkstemp
    monkeypatch.setattr(tempfile, "mkstemp", lambda *a, **k: made.append(k.get("prefix")) or real(*a, **k))
    (tmp_path / "mix.txt.gz").write_bytes(gzip.compress(corpus.read_bytes()))
    wz, _, _ = train_word2vec(str(tmp_path / "mix.txt.gz"), Word2VecSpec(epochs=1, vector_size=10, workers=1, seed=3),
                              VocabSpec(min_count=3))
    assert np.array_equal(np.asarray(wz.vectors), np.asarray(wv.vectors))
    assert [p.split(".")[0] for p in made] == ["embedcli-spool"]  # one temporary copy, not two


def test_vocabulary_scan_shows_progress(tmp_path, monkeypatch):
    """gensim reads the whole corpus once before training (seconds to minutes on a big file): the
    share read is shown, or the elapsed time when it cannot be known."""
    import time

    import embedcli.predictive as predictive
    from embedcli.fileio import Progress

    calls = []

    class Seen(Progress):
        def update(self, done, total=None, extra=""):
            calls.append((done, total, extra))

    share = [None]
    monkeypatch.setattr(predictive, "file_read_share", lambda path, workers: share[0])
    with predictive._report_scan(Seen("word2vec", None), "corpus.txt", every=0.01):
        time.sleep(0.2)  # not open yet: the elapsed time
        share[0] = 0.25
        time.sleep(0.2)
        share[0] = None  # read and closed: the share stays, it does not fall back to the time
        time.sleep(0.2)
    assert any(t is None and e.startswith("reading the vocabulary, ") for _, t, e in calls)
    i = calls.index((0.25, 1, "reading the vocabulary"))
    assert all(c == (0.25, 1, "reading the vocabulary") for c in calls[i:])
    calls.clear()
    with predictive._report_scan(Seen("word2vec", None, quiet=True), "corpus.txt", every=0.01):
        time.sleep(0.05)
    assert not calls


def test_word2vec_max_vocab_size_keeps_the_words_vocab_keeps(tmp_path, small_tokens):
    """--max-vocab-size N keeps the N words `embedcli vocab --max-vocab-size N` keeps (gensim's
    max_final_vocab raised the minimum count instead: fewer words, or none at all on ties)."""
    run("vocab", small_tokens, "--max-vocab-size", "300", "-o", tmp_path / "v.tsv", "-q")
    want = {line.split("\t")[0] for line in (tmp_path / "v.tsv").read_text().splitlines()}
    run("word2vec", small_tokens, "--max-vocab-size", "300", "--epochs", "1", "--dim", "8", "--workers", "1",
        "-o", tmp_path / "w.npz", "-q")
    assert set(Vectors.load(str(tmp_path / "w.npz")).words) == want and len(want) == 300
    (tmp_path / "tie.txt").write_text("alpha beta alpha beta\nalpha beta gamma\n")
    run("word2vec", tmp_path / "tie.txt", "--min-count", "1", "--max-vocab-size", "1", "-o", tmp_path / "t.npz", "-q")
    assert Vectors.load(str(tmp_path / "t.npz")).words == ["alpha"]
    res = run("word2vec", tmp_path / "tie.txt", "--min-count", "1", "--max-vocab-size", "1", "--hs", "1",
              "--negative", "0", "-o", tmp_path / "t.npz", ok=False)
    assert res.exit_code == 3 and "raise --max-vocab-size" in res.stderr


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([b"a", b" ", b"\n", b"\x1c", b"\x1f", b"\x20", b"\xc2", b"\x85", b"\xa0", b"\xe1",
                                 b"\x9a", b"\x80", b"\xe2", b"\x81", b"\x9f", b"\xaf", b"\xe3", b"\xc3\xa9"]),
                max_size=12).map(b"".join))
def test_foreign_space_prefilter_agrees_with_the_pattern(block):
    """The translate-table shortcut (no byte that can begin a foreign space: no search) never
    hides one: the answer is the regular expression's for any bytes."""
    from embedcli.predictive import _FOREIGN_SPACE, _has_foreign_space

    assert _has_foreign_space(block) == (_FOREIGN_SPACE.search(block) is not None)
    for ch in ["\x85", "\xa0", "\u1680", "\u2003", "\u2028", "\u202f", "\u205f", "\u3000", "\x1c"]:
        assert _has_foreign_space(b"ab " + ch.encode("utf-8") + b"cd")


def test_word2vec_trains_words_split_by_non_ascii_white_space(tmp_path):
    """A no-break space (or U+2028, ...) inside a token: gensim's vocabulary scan splits there, its
    training reader did not, so those words were counted but never trained."""
    rng = np.random.default_rng(1)
    pieces = ["a\u00a0b", "c\u00a0d", "e\u2028f", "g", "h"]
    (tmp_path / "t.txt").write_text("\n".join(" ".join(rng.choice(pieces, 30)) for _ in range(200)) + "\n",
                                    encoding="utf-8")
    run("word2vec", tmp_path / "t.txt", "--min-count", "1", "--sample", "0", "--epochs", "2", "--workers", "1",
        "-o", tmp_path / "w.npz", "-q")
    v = Vectors.load(str(tmp_path / "w.npz"))
    stats = v.meta["provenance"]["stats"]
    assert set(v.words) == set("abcdefgh") and stats["non_ascii_spaces_replaced"] > 0
    assert stats["words_trained"] == stats["raw_words"] == 2 * stats["corpus_words"]


def test_second_output_named_after_o_needs_a_file_name(tmp_path, small_tokens, monkeypatch):
    """word2vec --save-context and svd of a term-document matrix write a second file named after -o:
    with -o - it went to a file called '-.context' (exit 0); now refused before any work."""
    monkeypatch.chdir(tmp_path)
    res = run("word2vec", small_tokens, "--save-context", "-o", "-", ok=False)
    assert res.exit_code == 2 and "needs a file name" in res.stderr
    run("termdoc", small_tokens, "-o", tmp_path / "td.npz", "-q")
    res = run("svd", tmp_path / "td.npz", "--dim", "2", "-o", "-", ok=False)
    assert res.exit_code == 2 and "--doc-output FILE" in res.stderr
    assert not list(tmp_path.glob("-*"))
    res = run("svd", tmp_path / "td.npz", "--dim", "2", "-o", "-", "--doc-output", tmp_path / "d.npz", "-q")
    assert res.stdout and (tmp_path / "d.npz").exists()
    res = run("svd", tmp_path / "td.npz", "--dim", "2", "-o", "-", "--doc-output", "-", ok=False)
    assert res.exit_code == 2 and "one of them needs a file" in res.stderr and not res.stdout
    run("cooccur", small_tokens, "-o", tmp_path / "co.npz", "-q")
    res = run("svd", tmp_path / "co.npz", "--dim", "2", "-o", tmp_path / "w.npz", "--doc-output", tmp_path / "x.npz",
              ok=False)
    assert res.exit_code == 2 and "term-document matrix" in res.stderr and not (tmp_path / "w.npz").exists()
