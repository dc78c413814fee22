"""Document vectors (docvec) and labelled-task scores (classify), through the CLI on real text."""

import gzip
import json

import numpy as np
import pytest
from conftest import run, shared_path

from embedcli.errors import DataError
from embedcli.vectors import Vectors


@pytest.fixture(scope="module")
def word_vectors(sample_run):
    return sample_run[0] / "vectors.npz"


@pytest.fixture(scope="module")
def topic_docs(tmp_path_factory, word_vectors):
    """60 short documents drawn from the neighbourhoods of 'war' and of 'economy' in the sample's vectors,
    labelled by topic; ids in a separate file."""
    v = Vectors.load(str(word_vectors))
    rng = np.random.default_rng(0)
    d = tmp_path_factory.mktemp("docs")
    pools = {t: [w for w, _ in v.most_similar(t, topn=40)] for t in ("war", "economy")}
    lines, ids, labels = [], [], []
    for i in range(60):
        topic = ("war", "economy")[i % 2]
        lines.append(" ".join(rng.choice(pools[topic], size=8)))
        ids.append(f"doc{i:02d}")
        labels.append(f"doc{i:02d}\t{topic}")
    (d / "tokens.txt").write_text("\n".join(lines) + "\n")
    (d / "ids.txt").write_text("\n".join(ids) + "\n")
    (d / "labels.tsv").write_text("id\tlabel\n" + "\n".join(labels) + "\n")
    return d


def test_docvec_mean_is_the_average_of_word_vectors(tmp_path, word_vectors):
    toks = tmp_path / "t.txt"
    toks.write_text("war peace\n\nthe economy grows xyzzyunknown\nxyzzyunknown\n")
    res = run("docvec", word_vectors, toks, "-o", tmp_path / "d.npz", "--weighting", "mean", "--no-word-norm",
              "--no-normalize")
    assert "2 document(s) with no known word" in res.stderr and "d2, d4" in res.stderr
    v, d = Vectors.load(str(word_vectors)), Vectors.load(str(tmp_path / "d.npz"))
    assert d.words == ["d1", "d2", "d3", "d4"] and d.dim == v.dim  # one row per line, empty ones kept
    np.testing.assert_allclose(d.vectors[0], (v["war"] + v["peace"]) / 2, rtol=1e-5, atol=1e-6)
    # the unknown word is not in the denominator: documents average the words that have a vector
    np.testing.assert_allclose(d.vectors[2], (v["the"] + v["economy"] + v["grows"]) / 3, rtol=1e-5, atol=1e-6)
    assert not np.any(d.vectors[1]) and not np.any(d.vectors[3])
    assert d.meta["empty_documents"] == [1, 3] and d.provenance["stage"] == "docvec"


def test_docvec_sif_removes_its_stored_component_and_reference_reproduces(tmp_path, word_vectors, topic_docs):
    out = tmp_path / "sif.npz"
    run("docvec", word_vectors, topic_docs / "tokens.txt", "--ids", topic_docs / "ids.txt", "-o", out, "-q")
    d = Vectors.load(str(out))
    assert d.words[:2] == ["doc00", "doc01"]
    u = np.asarray(d.meta["docvec"]["component"])
    assert d.meta["docvec"]["spec"]["weighting"] == "sif" and u.shape == (d.dim,)
    assert np.abs(np.asarray(d.vectors) @ u).max() < 1e-5  # first principal component removed
    np.testing.assert_allclose(np.linalg.norm(d.vectors, axis=1), 1, rtol=1e-5)
    # new documents embedded with --reference: the same documents land on the same vectors
    again = tmp_path / "again.npz"
    res = run("docvec", word_vectors, topic_docs / "tokens.txt", "--reference", out, "-o", again,
              "--weighting", "mean", ok=False)  # the reference fixes the weighting: a typed other one is refused
    assert res.exit_code == 2 and "--weighting" in res.stderr and not again.exists()
    run("docvec", word_vectors, topic_docs / "tokens.txt", "--reference", out, "-o", again, "-q")
    np.testing.assert_allclose(Vectors.load(str(again)).vectors, d.vectors, atol=1e-6)
    chained = tmp_path / "chained.npz"  # an output made with --reference serves as a reference in turn
    run("docvec", word_vectors, topic_docs / "tokens.txt", "--reference", again, "-o", chained, "-q")
    np.testing.assert_allclose(Vectors.load(str(chained)).vectors, d.vectors, atol=1e-6)
    # word vectors without counts (a word2vec text file from elsewhere): p(w) comes from the documents
    # and is stored, so --reference and --text treat new documents the same way
    wv = Vectors.load(str(word_vectors))
    Vectors(wv.words, np.asarray(wv.vectors), None, {}).save(str(tmp_path / "plain.txt"))
    run("docvec", tmp_path / "plain.txt", topic_docs / "tokens.txt", "--ids", topic_docs / "ids.txt", "-o",
        tmp_path / "p.npz", "-q")
    lines = (topic_docs / "tokens.txt").read_text().splitlines()
    (tmp_path / "three.txt").write_text("\n".join(lines[:3]) + "\n")
    run("docvec", tmp_path / "plain.txt", tmp_path / "three.txt", "--reference", tmp_path / "p.npz", "-o",
        tmp_path / "p3.npz", "-q")
    n_p = len(Vectors.load(str(tmp_path / "p.npz")).meta["docvec"]["sif_p"]["p"])  # p(w) stored per word
    shown = json.loads(run("info", tmp_path / "p.npz").stdout)["docvec"]["sif_p"]["p"]
    assert n_p > 50 and len(shown) == n_p  # short lists are shown whole
    from embedcli.cli.output import compact_numbers

    long = compact_numbers({"sif_p": {"words": [f"w{i}" for i in range(5000)], "p": [0.1] * 5000}})
    assert long["sif_p"]["p"]["length"] == 5000 and long["sif_p"]["words"]["first"] == ["w0", "w1", "w2"]
    full = np.asarray(Vectors.load(str(tmp_path / "p.npz")).vectors)
    np.testing.assert_allclose(Vectors.load(str(tmp_path / "p3.npz")).vectors, full[:3], atol=1e-6)
    got = json.loads(run("neighbors", tmp_path / "p.npz", "--text", lines[4], "-k", 1, "--format", "json").stdout)
    assert got["neighbors"][0]["word"] == "doc04" and got["neighbors"][0]["similarity"] > 0.9999
    # other word vectors than those that made the reference (or the documents) are refused
    Vectors(wv.words, np.asarray(wv.vectors)[::-1].copy(), None, {}).save(str(tmp_path / "other.txt"))
    res = run("docvec", tmp_path / "other.txt", tmp_path / "three.txt", "--reference", tmp_path / "p.npz", "-o",
              tmp_path / "x.npz", ok=False)
    assert res.exit_code == 2 and "other word vectors" in res.stderr
    res = run("neighbors", tmp_path / "p.npz", "--text", lines[4], "--model", tmp_path / "other.txt", ok=False)
    assert res.exit_code == 2 and "not the word vectors" in res.stderr
    # tf-idf stores its idf and reuses it the same way
    run("docvec", word_vectors, topic_docs / "tokens.txt", "--weighting", "tfidf", "-o", tmp_path / "t.npz", "-q")
    run("docvec", word_vectors, topic_docs / "tokens.txt", "--reference", tmp_path / "t.npz", "-o",
        tmp_path / "t2.npz", "-q")
    np.testing.assert_allclose(Vectors.load(str(tmp_path / "t2.npz")).vectors,
                               Vectors.load(str(tmp_path / "t.npz")).vectors, atol=1e-6)


def test_docvec_stopwords_and_bad_input(tmp_path, word_vectors, topic_docs):
    toks = tmp_path / "t.txt"
    toks.write_text("the of and\nwar and peace\n")
    res = run("docvec", word_vectors, toks, "-o", tmp_path / "d.npz", "--stopwords", "english")
    assert "1 document(s) with no known word" in res.stderr  # stop words only
    res = run("docvec", word_vectors, toks, "--ids", topic_docs / "ids.txt", "-o", tmp_path / "x.npz", ok=False)
    assert res.exit_code == 3 and "60 document ids for 2 documents" in res.stderr
    assert not (tmp_path / "x.npz").exists()
    res = run("docvec", word_vectors, tmp_path / "missing.txt", "-o", tmp_path / "x.npz", ok=False)
    assert res.exit_code == 2 and "missing.txt" in res.stderr and "Traceback" not in res.stderr
    res = run("docvec", word_vectors, toks, "-o", tmp_path / "x.npz", "--sif-a", "0", ok=False)
    assert res.exit_code == 2 and "--sif-a" in res.stderr
    # ids are keys: duplicates and blanks are refused naming the line; nothing is written
    dup = tmp_path / "dup.ids"
    dup.write_text("a\na\n")
    res = run("docvec", word_vectors, toks, "--ids", dup, "-o", tmp_path / "x.npz", ok=False)
    assert res.exit_code == 3 and "dup.ids:2" in res.stderr and "repeats line 1" in res.stderr
    from embedcli.docvec import document_vectors  # the library refuses them too

    with pytest.raises(DataError, match="document id 'a' is given twice"):
        document_vectors(Vectors.load(str(word_vectors)), [["war"], ["peace"]], ids=["a", "a"])
    dup.write_text("a\nb c\n")
    res = run("termdoc", toks, "--ids", dup, "-o", tmp_path / "x.npz", ok=False)
    assert res.exit_code == 3 and "dup.ids:2" in res.stderr
    assert not (tmp_path / "x.npz").exists()
    # an input is never overwritten; document vectors are not word vectors; no known word at all is an error
    res = run("termdoc", toks, "--ids", dup, "-o", dup, ok=False)
    assert res.exit_code == 2 and dup.read_text() == "a\nb c\n"
    run("docvec", word_vectors, toks, "-o", tmp_path / "d2.npz", "-q")
    res = run("docvec", tmp_path / "d2.npz", toks, "-o", tmp_path / "x.npz", ok=False)
    assert res.exit_code == 2 and "document vectors" in res.stderr
    (tmp_path / "u.txt").write_text("qqqzzz xxyyzz\n")
    res = run("docvec", word_vectors, tmp_path / "u.txt", "-o", tmp_path / "x.npz", ok=False)
    assert res.exit_code == 3 and "no line has a word" in res.stderr


def test_docvec_fasttext_covers_unseen_words(tmp_path, sample_run):
    tokens = sample_run[0] / "tokens.txt"
    model = tmp_path / "ft.bin"
    run("fasttext", tokens, "-o", model, "--bucket", "20000", "--epochs", "1", "--dim", "20", "--seed", "1", "-q")
    toks = tmp_path / "t.txt"
    toks.write_text("economyyy warfarez\n")
    res = run("docvec", model, toks, "-o", tmp_path / "d.npz")
    assert "no known word" not in res.stderr
    assert "common component was not removed" in res.stderr  # one document: SIF's component would be all of it
    assert np.any(Vectors.load(str(tmp_path / "d.npz")).vectors[0])


def test_classify_separates_topics_and_reports_folds(topic_docs, word_vectors, tmp_path):
    out = tmp_path / "d.npz"
    run("docvec", word_vectors, topic_docs / "tokens.txt", "--ids", topic_docs / "ids.txt", "-o", out, "-q")
    res = run("classify", out, topic_docs / "labels.tsv", "--header", "--folds", "5", "--format", "json", "-q")
    rec = json.loads(res.stdout)
    s = rec["summary"][0]
    assert rec["keys"] == 60 and rec["labels_count"] == 2 and not rec["multilabel"] and len(rec["splits"]) == 5
    assert s["protocol"] == "5-fold" and s["accuracy"] >= 0.9 and s["n_test"] == 12
    table = run("classify", out, topic_docs / "labels.tsv", "--header", "--train-fraction", "0.5",
                "--train-fraction", "0.8", "--shuffles", "3").stdout
    assert "train 0.5" in table and "train 0.8" in table and "micro-F1" in table
    # keys without a vector are counted and left out; bad options and files fail on one line
    lab = tmp_path / "l.tsv"
    lab.write_text((topic_docs / "labels.tsv").read_text() + "nosuchdoc\twar\n")
    res = run("classify", out, lab, "--header", "--folds", "5")
    assert "1 of 61 labelled keys have no vector" in res.stderr
    res = run("classify", out, lab, "--train-fraction", "1.5", ok=False)
    assert res.exit_code == 2 and "--train-fraction" in res.stderr
    lab.write_text("onlykey\n")
    res = run("classify", out, lab, ok=False)
    assert res.exit_code == 3 and "l.tsv:1" in res.stderr


def test_classify_multilabel_predicts_as_many_labels_as_each_key_has(tmp_path):
    """One-vs-rest with the DeepWalk protocol on vectors where labels are linearly separable."""
    from embedcli.classify import _top_k

    assert _top_k(np.array([[0.1, 0.9, 0.5], [0.8, 0.1, 0.7]]), np.array([1, 2])).tolist() == [[0, 1, 0], [1, 0, 1]]
    rng = np.random.default_rng(1)
    n = 200
    X = rng.normal(size=(n, 6)).astype(np.float32)
    keys = [f"n{i}" for i in range(n)]
    Vectors(keys, X, None, {}).save(str(tmp_path / "v.npz"))
    lines = []
    for i in range(n):  # label a when x0 > 0, b when x1 > 0, c otherwise; keys may have a and b
        labs = [lab for lab, ok in (("a", X[i, 0] > 0), ("b", X[i, 1] > 0)) if ok] or ["c"]
        lines += [f"n{i} {lab}" for lab in labs]
    with gzip.open(tmp_path / "labels.gz", "wt") as f:
        f.write("# node label\n" + "\n".join(lines) + "\n")
    rec = json.loads(run("classify", tmp_path / "v.npz", tmp_path / "labels.gz", "--format", "json", "-q",
                         "--train-fraction", "0.5", "--shuffles", "2").stdout)
    assert rec["multilabel"] and rec["labels_count"] == 3
    assert rec["summary"][0]["micro_f1"] > 0.8


@pytest.mark.slow
def test_docvec_movie_reviews_bar(tmp_path):
    """Issue bar: docvec (SIF, 300 dims) on the polarity reviews >= 0.84 accuracy, 10-fold logistic regression."""
    corpus = shared_path("corpora", "english-mix.txt.gz")
    reviews = shared_path("labelled", "movie-reviews-polarity.tsv.gz")
    run("pipeline", corpus, "-o", tmp_path, "--dim", "300", "-q")
    rows = [line.split("\t") for line in gzip.open(reviews, "rt", encoding="utf-8").read().splitlines()[1:]]
    (tmp_path / "reviews.txt").write_text("\n".join(r[2] for r in rows) + "\n")
    (tmp_path / "ids.txt").write_text("\n".join(r[0] for r in rows) + "\n")
    run("tokenize", tmp_path / "reviews.txt", "-o", tmp_path / "rt.txt", "-q")
    run("docvec", tmp_path / "vectors.npz", tmp_path / "rt.txt", "--ids", tmp_path / "ids.txt", "-o",
        tmp_path / "docs.npz", "-q")
    rec = json.loads(run("classify", tmp_path / "docs.npz", reviews, "--header", "--format", "json", "-q").stdout)
    print(rec["summary"])
    assert rec["summary"][0]["accuracy"] >= 0.84


@pytest.mark.slow
def test_lsa_movie_reviews_bar(tmp_path):
    """Issue bar: the README's LSA recipe (phrases learned on the training folds, termdoc --weighting
    log-entropy --normalize --binary, svd --dim 300 --eig 0, the test fold folded in) >= 0.88 accuracy,
    10-fold logistic regression on the benchmark's folds, driven through the CLI."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold
    from sklearn.preprocessing import normalize

    reviews = shared_path("labelled", "movie-reviews-polarity.tsv.gz")
    run("tokenize", reviews, "--header", "--id-column", "1", "--text-column", "3", "-o", tmp_path / "r.txt",
        "--ids-output", tmp_path / "r.ids", "-q")
    lines = (tmp_path / "r.txt").read_text(encoding="utf-8").splitlines()
    ids = (tmp_path / "r.ids").read_text(encoding="utf-8").splitlines()
    label = {r.split("\t")[0]: r.split("\t")[1]
             for r in gzip.open(reviews, "rt", encoding="utf-8").read().splitlines()[1:]}
    y = np.array([label[i] for i in ids])
    acc = []
    for tr, te in StratifiedKFold(10, shuffle=True, random_state=1).split(lines, y):
        for name, part in (("train", tr), ("test", te)):
            (tmp_path / f"{name}.txt").write_text("".join(lines[i] + "\n" for i in part), encoding="utf-8")
            (tmp_path / f"{name}.ids").write_text("".join(ids[i] + "\n" for i in part), encoding="utf-8")
        run("phrases", tmp_path / "train.txt", "--phrases-output", tmp_path / "p.tsv", "-o", tmp_path / "train.p",
            "-q")
        run("phrases", tmp_path / "test.txt", "--apply", tmp_path / "p.tsv", "-o", tmp_path / "test.p", "-q")
        run("termdoc", tmp_path / "train.p", "--ids", tmp_path / "train.ids", "--weighting", "log-entropy",
            "--normalize", "--binary", "--min-count", "2", "-o", tmp_path / "td.npz", "-q")
        run("svd", tmp_path / "td.npz", "--dim", "300", "--eig", "0", "-o", tmp_path / "lsa.npz", "-q")
        run("foldin", tmp_path / "lsa.npz", tmp_path / "test.p", "--ids", tmp_path / "test.ids", "-o",
            tmp_path / "f.npz", "-q")
        train, test = Vectors.load(str(tmp_path / "lsa.docs.npz")), Vectors.load(str(tmp_path / "f.npz"))
        assert train.words == [ids[i] for i in tr] and test.words == [ids[i] for i in te]
        lr = LogisticRegression(max_iter=2000).fit(normalize(np.asarray(train.vectors)), y[tr])
        acc.append(np.mean(lr.predict(normalize(np.asarray(test.vectors))) == y[te]))
    print(f"LSA recipe: {np.mean(acc):.4f} ± {np.std(acc):.4f}")
    assert np.mean(acc) >= 0.88


def test_tokenize_ids_from_columns_lines_and_files(tmp_path):
    tsv = tmp_path / "r.tsv"
    tsv.write_text("id\tlabel\ttext\nr1\tpos\tA fine film.\nr2\tneg\t\nr3\tneg\tDull, dull plot\n")
    run("tokenize", tsv, "--header", "--id-column", "1", "--text-column", "3", "-o", tmp_path / "t.txt",
        "--ids-output", tmp_path / "t.ids", "-q")
    # r2 has no text: no document, and no id (the two files stay aligned)
    assert (tmp_path / "t.txt").read_text() == "a fine film\ndull dull plot\n"
    assert (tmp_path / "t.ids").read_text() == "r1\nr3\n"
    # without --text-column every field but the id is text
    run("tokenize", tsv, "--header", "--id-column", "1", "-o", tmp_path / "u.txt", "-q")
    assert (tmp_path / "u.txt").read_text().splitlines()[0] == "pos a fine film"
    plain = tmp_path / "p.txt"
    plain.write_text("one two\n\nthree\n")
    run("tokenize", plain, "-o", tmp_path / "p.tok", "--ids-output", tmp_path / "p.ids", "-q")
    assert (tmp_path / "p.ids").read_text() == f"{plain}:1\n{plain}:3\n"
    run("tokenize", plain, tsv, "--doc", "file", "-o", tmp_path / "f.tok", "--ids-output", tmp_path / "f.ids", "-q")
    assert (tmp_path / "f.ids").read_text() == f"{plain}\n{tsv}\n"
    res = run("tokenize", plain, "--doc", "file", "--id-column", "1", ok=False)
    assert res.exit_code == 2 and "--id-column" in res.stderr
    res = run("tokenize", tsv, "--header", "--id-column", "1", "--text-column", "7", ok=False)
    assert res.exit_code == 3 and "r.tsv:2" in res.stderr and "--text-column 7" in res.stderr
    # ids that the next step would refuse are refused here, naming the line: empty, or repeated
    (tmp_path / "e.tsv").write_text("id\tlabel\ttext\nr1\tpos\tgood\n  \tpos\tno id here\n")
    res = run("tokenize", tmp_path / "e.tsv", "--header", "--id-column", "1", "--text-column", "3", "-o",
              tmp_path / "e.txt", "--ids-output", tmp_path / "e.ids", ok=False)
    assert res.exit_code == 3 and "e.tsv:3: empty id" in res.stderr and not (tmp_path / "e.ids").exists()
    (tmp_path / "d.tsv").write_text("id\tlabel\ttext\nr1\tpos\tgood\nr1\tneg\tbad\n")
    res = run("tokenize", tmp_path / "d.tsv", "--header", "--id-column", "1", "--text-column", "3", "-o",
              tmp_path / "e.txt", "--ids-output", tmp_path / "e.ids", ok=False)
    assert res.exit_code == 3 and "'r1'" in res.stderr and "occurs twice" in res.stderr
    # termdoc: every line is a document, trailing blank ones too, so columns line up with ids
    (tmp_path / "b.txt").write_text("one two\n\nthree one\n\n")
    run("termdoc", tmp_path / "b.txt", "-o", tmp_path / "b.npz", "-q")
    from embedcli.matrix import CountMatrix

    assert CountMatrix.load(str(tmp_path / "b.npz")).col_words == ["d1", "d2", "d3", "d4"]
    # white space in a path or an id column is percent-encoded, so the ids go on to --ids
    spaced = tmp_path / "my docs"
    spaced.mkdir()
    (spaced / "a b.txt").write_text("one two\nthree one\n")
    (spaced / "c.tsv").write_text("doc 1\tone two\ndoc\t2\tthree\ndoc%201\tfour\n")
    run("tokenize", spaced / "a b.txt", "-o", tmp_path / "s.tok", "--ids-output", tmp_path / "s.ids", "-q")
    want = str(spaced / "a b.txt").replace(" ", "%20")
    assert (tmp_path / "s.ids").read_text() == f"{want}:1\n{want}:2\n"
    run("termdoc", tmp_path / "s.tok", "--ids", tmp_path / "s.ids", "-o", tmp_path / "s.npz", "-q")
    assert CountMatrix.load(str(tmp_path / "s.npz")).col_words == [f"{want}:1", f"{want}:2"]
    run("tokenize", spaced / "c.tsv", "--id-column", "1", "--text-column", "2", "-o", tmp_path / "c.tok",
        "--ids-output", tmp_path / "c.ids", "-q")
    assert (tmp_path / "c.ids").read_text() == "doc%201\ndoc\ndoc%25201\n"  # one-to-one: % is encoded too


def test_lsa_ids_default_weighting_and_fold_in_reproduces_training_documents(tmp_path, small_tokens):
    """termdoc --ids -> svd (no PPMI on a term-document matrix by default) -> foldin: a training
    document folded in again lands on its own vector (cosine within 1e-4)."""
    ids = tmp_path / "ids.txt"
    n = len(small_tokens.read_text().splitlines())
    ids.write_text("".join(f"speech-{i}\n" for i in range(n)))
    for extra in ((), ("--normalize",), ("--normalize", "--binary")):
        td = tmp_path / "td.npz"
        run("termdoc", small_tokens, "--ids", ids, "--weighting", "log-entropy", "--min-count", "2", *extra,
            "-o", td, "-q")
        run("svd", td, "--dim", "8", "-o", tmp_path / "lsa.npz", "-q")
        model = Vectors.load(str(tmp_path / "lsa.npz"))
        assert model.provenance["spec"]["association"] == "none" and model.meta["lsa"]["term_weights"]
        assert model.meta["lsa"]["binary"] == ("--binary" in extra)
        assert model.meta["lsa"]["requires"] == (["binary"] if "--binary" in extra else [])
        docs = Vectors.load(str(tmp_path / "lsa.docs.npz"))
        assert docs.words[:2] == ["speech-0", "speech-1"]
        run("foldin", tmp_path / "lsa.npz", small_tokens, "--ids", ids, "-o", tmp_path / "f.npz", "-q")
        f = Vectors.load(str(tmp_path / "f.npz"))
        assert f.words == docs.words
        A, B = np.asarray(docs.vectors, np.float64), np.asarray(f.vectors, np.float64)
        cos = (A * B).sum(1) / np.linalg.norm(A, axis=1) / np.linalg.norm(B, axis=1)
        assert 1 - cos.min() < 1e-4
        np.testing.assert_allclose(B, A, rtol=1e-3, atol=1e-5 * np.abs(A).max())
    # a co-occurrence matrix is not an LSA model; PPMI forced on a term-document matrix cannot be folded in
    res = run("foldin", small_tokens.parent / "nonexistent.npz", small_tokens, "-o", tmp_path / "x.npz", ok=False)
    assert res.exit_code == 2
    run("svd", td, "--dim", "8", "--association", "ppmi", "-o", tmp_path / "p.npz", "-q")
    res = run("foldin", tmp_path / "p.npz", small_tokens, "-o", tmp_path / "x.npz", ok=False)
    assert res.exit_code == 2 and "association none" in res.stderr
    res = run("termdoc", small_tokens, "--ids", tmp_path / "missing.ids",
              "-o", tmp_path / "y.npz", ok=False)
    assert res.exit_code == 2 and "missing.ids" in res.stderr


def test_neighbors_text_against_document_vectors(tmp_path, word_vectors, topic_docs, small_tokens):
    """A raw text is tokenized and embedded like the documents (docvec: same weighting and component;
    LSA: folded in), then answered with document ids."""
    out = tmp_path / "d.npz"
    run("docvec", word_vectors, topic_docs / "tokens.txt", "--ids", topic_docs / "ids.txt", "-o", out, "-q")
    v = Vectors.load(str(word_vectors))
    war = " ".join(w.upper() for w, _ in v.most_similar("war", topn=8))  # raw text: case is the tokenizer's job
    res = run("neighbors", out, "--text", war, "-k", "5", "--format", "json")
    rec = json.loads(res.stdout)
    assert rec["query"] == war and len(rec["neighbors"]) == 5
    assert all(int(n["word"][3:]) % 2 == 0 for n in rec["neighbors"])  # even ids are the 'war' documents
    res = run("neighbors", out, "--text", "qqqzzz", ok=False)
    assert res.exit_code == 4 and "no word known" in res.stderr
    res = run("neighbors", out, "--text", "qqqzzz xxyyq", "--format", "json", ok=False)
    assert res.exit_code == 4 and json.loads(res.stdout)["unknown"] == ["qqqzzz", "xxyyq"]
    res = run("neighbors", out, "--text", war + " Qqqzzz", "-k", "2", "--format", "json")  # partly known
    rec = json.loads(res.stdout)
    assert len(rec["neighbors"]) == 2 and rec["unknown"] == ["qqqzzz"] and "left out: qqqzzz" in res.stderr
    assert "unknown" not in json.loads(run("neighbors", out, "--text", war, "--format", "json").stdout)
    res = run("neighbors", out, "doc00", "--text", "war", ok=False)
    assert res.exit_code == 2
    # LSA document vectors: the text is folded in with the model recorded beside them
    run("termdoc", small_tokens, "--min-count", "2", "-o", tmp_path / "td.npz", "-q")
    run("svd", tmp_path / "td.npz", "--dim", "8", "-o", tmp_path / "lsa.npz", "-q")
    first = small_tokens.read_text().splitlines()[0]
    res = run("neighbors", tmp_path / "lsa.docs.npz", "--text", first, "-k", "1")
    assert res.stdout.split("\t")[1] == "d1"  # the first speech's own text finds the first speech
    # a model replaced after the documents were made is noticed; --model names one explicitly
    run("svd", tmp_path / "td.npz", "--dim", "8", "--seed", "2", "-o", tmp_path / "lsa.npz", "--doc-output",
        tmp_path / "other.docs.npz", "-q")
    res = run("neighbors", tmp_path / "lsa.docs.npz", "--text", first, ok=False)
    assert res.exit_code == 2 and "changed since" in res.stderr
    res = run("neighbors", tmp_path / "lsa.docs.npz", "--text", first, "--model", tmp_path / "lsa.npz", ok=False)
    assert res.exit_code == 2 and "another SVD's model" in res.stderr  # named explicitly, still the wrong one
    res = run("neighbors", tmp_path / "lsa.docs.npz", "--text", first, "--model", word_vectors, ok=False)
    assert res.exit_code == 2 and "not the LSA model" in res.stderr


def test_documents_spanning_blocks_count_once(tmp_path, monkeypatch):
    """A line longer than a read block is one document: document frequencies and row alignment hold."""
    import embedcli.fileio as fileio
    from embedcli.docvec import _document_frequencies, doc_term_blocks

    import embedcli.docvec as docvec

    monkeypatch.setattr(fileio, "CHUNK_BYTES", 64)
    p = tmp_path / "t.txt"
    # a 700-byte line (with a word outside the index), a blank line, no final newline
    p.write_text(("a b zz " * 100).strip() + "\n\nb c\nc")
    index = {"a": 0, "b": 1, "c": 2}
    n, df = _document_frequencies(str(p), index, 3, 1)
    assert n == 4 and df.tolist() == [1, 2, 2]
    carried = []  # what waits for the rest of a document: its distinct words, not its tokens
    compact = docvec._compact
    monkeypatch.setattr(docvec, "_compact", lambda *a: carried.append(compact(*a)) or carried[-1])
    rows = np.vstack([b.toarray() for b in doc_term_blocks(str(p), index, 3)])
    assert rows.tolist() == [[100, 100, 0], [0, 0, 0], [0, 1, 1], [0, 0, 1]]
    assert len(carried) > 5 and max(len(c[0]) for c in carried) <= 2


def test_classify_finds_keys_that_tokenize_percent_encoded():
    """Labels keyed by the raw ids ('doc 1') match document vectors keyed by tokenize's encoded ids
    ('doc%201'), so the README's recipe works for ids with spaces or '%'."""
    from embedcli.classify import classify
    from embedcli.specs import ClassifySpec
    from embedcli.tokenizer import id_without_space

    rng = np.random.default_rng(0)
    raw = [f"doc {i}" if i % 2 else f"r{i}%" for i in range(40)]
    y = ["pos" if i < 20 else "neg" for i in range(40)]
    X = rng.normal(size=(40, 4)).astype(np.float32) + np.where(np.array(y)[:, None] == "pos", 3, -3)
    docs = Vectors([id_without_space(k) for k in raw], X.astype(np.float32), None, {"kind": "documents"})
    res = classify(docs, dict(zip(raw, y)), ClassifySpec(folds=4))
    assert res.missing == 0 and res.n_keys == 40 and res.summary()[0]["accuracy"] == 1.0



def test_foldin_refuses_documents_with_no_model_term(tmp_path, small_tokens):
    """As docvec does: a tokens file none of whose lines has a model term (an ids file given as
    TOKENS, another tokenizer) is an error, not all-zero vectors with exit 0."""
    run("termdoc", small_tokens, "--min-count", "2", "-o", tmp_path / "td.npz", "-q")
    run("svd", tmp_path / "td.npz", "--dim", "4", "-o", tmp_path / "lsa.npz", "-q")
    (tmp_path / "unk.txt").write_text("zzqx qqzz\nxxyyzz\n")
    res = run("foldin", tmp_path / "lsa.npz", tmp_path / "unk.txt", "-o", tmp_path / "f.npz", ok=False)
    assert res.exit_code == 3 and "no line has a term" in res.stderr and not (tmp_path / "f.npz").exists()
    # folded-in documents remember their model: another SVD's is refused for --text
    run("foldin", tmp_path / "lsa.npz", small_tokens, "-o", tmp_path / "f.npz", "-q")
    run("svd", tmp_path / "td.npz", "--dim", "4", "--association", "log", "-o", tmp_path / "lsa2.npz", "-q")
    res = run("neighbors", tmp_path / "f.npz", "--text", "the war", "--model", tmp_path / "lsa2.npz", ok=False)
    assert res.exit_code == 2 and "another SVD's model" in res.stderr
    run("neighbors", tmp_path / "f.npz", "--text", "the war", "--model", tmp_path / "lsa.npz", "-k", 1)


def test_empty_documents_are_never_neighbours(tmp_path, word_vectors):
    """A document with no known word has a zero vector: it is not ranked among the answers (it came
    above documents with negative cosines), and querying it says why it has no neighbours."""
    v = Vectors.load(str(word_vectors))
    w = v.words[100:103]
    (tmp_path / "t.txt").write_text(f"{w[0]} {w[1]}\nzzqq xxyy\n{w[1]} {w[2]}\n{w[2]}\n")
    run("docvec", word_vectors, tmp_path / "t.txt", "--weighting", "mean", "-o", tmp_path / "d.npz", "-q")
    got = [line.split("\t")[1] for line in run("neighbors", tmp_path / "d.npz", "d1", "-k", 5).stdout.splitlines()]
    assert "d2" not in got and set(got) == {"d3", "d4"}
    res = run("neighbors", tmp_path / "d.npz", "d2", ok=False)
    assert res.exit_code == 4 and "'d2' has a zero vector" in res.stderr


def test_zero_vectors_in_pair_queries_are_noted(tmp_path):
    """similarity, analogy and doesnt-match answer with a zero vector as gensim does (cosine 0) but
    say so on stderr, once per word; --quiet keeps stderr empty."""
    vec = tmp_path / "z.txt"
    vec.write_text("4 3\nd2 0 0 0\nking 1 0.5 0\nqueen 0.9 0.6 0.1\nman 0.2 0.1 0.9\n")
    note = "zero vector (cosine 0 with every word, by convention): d2"
    res = run("similarity", vec, "d2", "king")
    assert res.stdout == "d2\tking\t0.000000\n" and res.stderr.count(note) == 1
    assert note not in run("similarity", vec, "queen", "king").stderr
    assert run("analogy", vec, "man", "king", "d2").stderr.count(note) == 1
    res = run("doesnt-match", vec, "d2", "d2", "king", "queen")
    assert res.stderr.count(note) == 1 and res.stdout.endswith("\td2\n")
    assert run("similarity", vec, "d2", "king", "-q").stderr == ""


def test_reference_stopword_file_by_another_path(tmp_path, word_vectors, topic_docs, monkeypatch):
    """A reference made with --stopwords FILE: the same file given as ./FILE is no conflict; run
    from another folder, the reference's relative path is not found and the message says to give it."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sw.txt").write_text("the\nof\n")
    run("docvec", word_vectors, topic_docs / "tokens.txt", "--stopwords", "sw.txt", "-o", "d.npz", "-q")
    run("docvec", word_vectors, topic_docs / "tokens.txt", "--reference", "d.npz", "--stopwords", "./sw.txt",
        "-o", "e.npz", "-q")
    np.testing.assert_allclose(Vectors.load("e.npz").vectors, Vectors.load("d.npz").vectors, atol=1e-6)
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    res = run("docvec", word_vectors, topic_docs / "tokens.txt", "--reference", "../d.npz", "-o", "f.npz", ok=False)
    assert res.exit_code == 2 and "give it with --stopwords PATH" in res.stderr
    run("docvec", word_vectors, topic_docs / "tokens.txt", "--reference", "../d.npz", "--stopwords", "../sw.txt",
        "-o", "f.npz", "-q")
    np.testing.assert_allclose(Vectors.load("f.npz").vectors, Vectors.load("../d.npz").vectors, atol=1e-6)


def test_foldin_and_docvec_warn_when_new_tokens_miss_the_models_phrases(tmp_path, small_tokens):
    """An LSA space built on `phrases` output takes new documents joined by the same phrase table
    (`phrases --apply`); unjoined tokens, or tokens joined by other phrases, are named on stderr."""
    joined, table = tmp_path / "joined.txt", tmp_path / "phrases.tsv"
    run("phrases", small_tokens, "--min-count", "3", "-o", joined, "--phrases-output", table, "-q")
    run("termdoc", joined, "--min-count", "2", "-o", tmp_path / "td.npz", "-q")
    run("svd", tmp_path / "td.npz", "--dim", "4", "-o", tmp_path / "lsa.npz", "-q")
    res = run("foldin", tmp_path / "lsa.npz", small_tokens, "-o", tmp_path / "f1.npz", "-q")
    assert "were not: join them first with 'embedcli phrases TOKENS --apply TABLE'" in res.stderr
    run("phrases", small_tokens, "--apply", table, "-o", tmp_path / "applied.txt", "-q")
    res = run("foldin", tmp_path / "lsa.npz", tmp_path / "applied.txt", "-o", tmp_path / "f2.npz", "-q")
    assert "phrases" not in res.stderr
    # the same documents, joined by the same table, fold in onto the training documents' vectors
    a, b = Vectors.load(str(tmp_path / "f2.npz")), Vectors.load(str(tmp_path / "lsa.docs.npz"))
    assert np.allclose(a.vectors, b.vectors, atol=1e-4)
    run("phrases", small_tokens, "--min-count", "8", "-o", tmp_path / "other.txt", "-q")
    res = run("foldin", tmp_path / "lsa.npz", tmp_path / "other.txt", "-o", tmp_path / "f3.npz", "-q")
    assert "joined by other phrases" in res.stderr
    # a query text is joined by the model's table too ('neighbors --text'), which must stay in place
    from embedcli.docvec import embed_texts
    from embedcli.lsa import fold_in

    (tmp_path / "q.txt").write_text("the united_states\n")
    want = fold_in(Vectors.load(str(tmp_path / "lsa.npz")), str(tmp_path / "q.txt")).vectors[0]
    assert np.allclose(embed_texts(b, ["The United States"])[0], want, atol=1e-5) and np.any(want != 0)
    table.rename(tmp_path / "moved.tsv")
    res = run("neighbors", tmp_path / "lsa.docs.npz", "--text", "the united states", ok=False)
    assert res.exit_code == 2 and f"{table}: not found: the phrase table" in res.stderr
    # phrases whose table was not saved: the query cannot be joined, and the user is told
    run("phrases", small_tokens, "--min-count", "3", "-o", tmp_path / "unsaved.txt", "-q")
    run("termdoc", tmp_path / "unsaved.txt", "--min-count", "2", "-o", tmp_path / "td2.npz", "-q")
    run("svd", tmp_path / "td2.npz", "--dim", "4", "-o", tmp_path / "lsa2.npz", "-q")
    res = run("neighbors", tmp_path / "lsa2.docs.npz", "--text", "the united states", "-k", "1")
    assert "without a saved table, so this text is not joined" in res.stderr
    # docvec: word vectors from joined text
    run("word2vec", joined, "--dim", "8", "--epochs", "1", "--min-count", "2", "--workers", "1",
        "-o", tmp_path / "wv.npz", "-q")
    res = run("docvec", tmp_path / "wv.npz", small_tokens, "-o", tmp_path / "d.npz", "-q")
    assert "docvec:" in res.stderr and "--apply TABLE" in res.stderr


def test_lsa_degenerate_inputs(tmp_path):
    """Edge cases found by a review: rounding in log-entropy, max_df at the limit, --dim above the
    matrix's rank, empty documents and zero-weight terms, --text with word-query options, stdin names."""
    from embedcli.matrix import CountMatrix

    def write(name, text):
        (tmp_path / name).write_text(text)
        return tmp_path / name

    # 'a' is spread evenly over 3 documents: weight exactly 0 (was +2.2e-16, which --normalize made 1)
    run("termdoc", write("m3.txt", "a x\na y\na\n"), "--weighting", "log-entropy", "--normalize", "-o",
        tmp_path / "m3.npz", "-q")
    m = CountMatrix.load(str(tmp_path / "m3.npz"))
    assert not m.matrix[m.row_words.index("a")].toarray().any()
    run("termdoc", write("same.txt", "a b c\na b c\na b c\n"), "--weighting", "log-entropy", "-o",
        tmp_path / "s.npz", "-q")
    res = run("svd", tmp_path / "s.npz", "--dim", "1", "-o", tmp_path / "x.npz", ok=False)
    assert res.exit_code == 3 and "every entry is zero" in res.stderr
    # --max-df 0.29 keeps a term in 29 of 100 documents (0.29 * 100 is 28.999... in floating point)
    md = write("md.txt", "".join(("t " if i < 29 else "") + f"w{i} filler\n" for i in range(100)))
    run("termdoc", md, "--max-df", "0.29", "-o", tmp_path / "md.npz", "-q")
    assert "t" in CountMatrix.load(str(tmp_path / "md.npz")).row_words
    # rank 5, 7 documents, two of them empty; --dim 6 is beyond the rank
    blanks = write("blanks.txt", "a b c d\n\ne f g\nh i\na e h\n\nb f i x\n")
    run("termdoc", blanks, "--weighting", "log-entropy", "--normalize", "-o", tmp_path / "b.npz", "-q")
    res = run("svd", tmp_path / "b.npz", "--dim", "6", "--eig", "0", "-o", tmp_path / "l6.npz")
    assert "rank 5 or less" in res.stderr and "2 document(s) with no weighted term got a zero vector: d2, d6" \
        in res.stderr
    docs = Vectors.load(str(tmp_path / "l6.docs.npz"))
    assert not docs.vectors[1].any() and not docs.vectors[5].any()
    run("foldin", tmp_path / "l6.npz", blanks, "-o", tmp_path / "f6.npz", "-q")
    f = np.asarray(Vectors.load(str(tmp_path / "f6.npz")).vectors)
    assert np.abs(f).max() < 10  # no division by a rounding-level singular value
    res = run("neighbors", tmp_path / "l6.docs.npz", "--text", "a b c d", "-k", "1")
    assert res.stdout.split("\t")[1:] == ["d1", "1.000000\n"]
    for opts, flags in ((("--restrict", "2"), "--restrict does"), (("--skip-unknown",), "--skip-unknown does"),
                        (("--target", tmp_path / "l6.docs.npz"), "--target does")):
        res = run("neighbors", tmp_path / "l6.docs.npz", "--text", "a b", *opts, ok=False)
        assert res.exit_code == 2 and flags in res.stderr
    # a term in every document has tf-idf 0: a zero vector, not rounding noise with neighbours
    run("termdoc", write("at.txt", "a b\na c\na d\na b d\n"), "--weighting", "tfidf", "-o", tmp_path / "at.npz",
        "-q")
    run("svd", tmp_path / "at.npz", "--dim", "2", "-o", tmp_path / "at-lsa.npz", "-q")
    terms = Vectors.load(str(tmp_path / "at-lsa.npz"))
    assert not terms.vectors[terms.words.index("a")].any()
    # stdin: messages name '-', not the temporary copy
    res = run("termdoc", "-", "--min-df", "10", "-o", tmp_path / "z.npz", input="a b\nc d\n", ok=False)
    assert res.exit_code == 3 and res.stderr.startswith("embedcli: error: -: no term is left")
