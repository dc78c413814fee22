"""The library without the CLI: each stage function, run_pipeline, Vectors queries, the format module."""

import gzip
import io
import pickle
from collections import Counter

import numpy as np
import pytest

from embedcli.cooccur import cooccur
from embedcli.errors import FormatError, InputError, ParameterError
from embedcli.matrix import CountMatrix
from embedcli.pipeline import run_pipeline
from embedcli.predictive import learn_phrases, train_fasttext, train_word2vec
from embedcli.specs import (CooccurSpec, FastTextSpec, PhrasesSpec, SVDSpec, TermdocSpec, TokenizeSpec, VocabSpec,
                            WeightingSpec, Word2VecSpec)
from embedcli.svd import factorize
from embedcli.termdoc import termdoc_matrix
from embedcli.tokenizer import tokenize
from embedcli.vectorfile import describe, read_vectors, write_vectors
from embedcli.vectors import Query, Vectors
from embedcli.vocab import build_vocab, read_vocab


@pytest.fixture(scope="module")
def lib_run(tmp_path_factory, small_speeches):
    out = tmp_path_factory.mktemp("lib")
    res = run_pipeline([str(small_speeches)], str(out), svd=SVDSpec(dim=30), quiet=True)
    return out, res


def test_run_pipeline_directly(lib_run):
    out, res = lib_run
    assert [s[0] for s in res.stages] == ["tokenize", "vocab", "cooccur", "svd"]
    assert set(res.files) == {"tokens", "vocab", "matrix", "vectors"}
    v = Vectors.load(res.files["vectors"])
    assert v.dim == 30 and v.words == res.vectors.words
    np.testing.assert_array_equal(np.asarray(v.vectors), res.vectors.vectors)
    assert v.provenance["inputs"]["matrix"]["path"] == res.files["matrix"]


def test_run_pipeline_checks_before_creating_anything(tmp_path):
    with pytest.raises(InputError):
        run_pipeline([str(tmp_path / "missing.txt")], str(tmp_path / "out"))
    assert not (tmp_path / "out").exists()
    with pytest.raises(ParameterError):
        run_pipeline(None, str(tmp_path / "out"), method="lda")


def test_stage_functions_chain(tmp_path, small_speeches):
    buf = io.BytesIO()
    counts: Counter = Counter()
    st = tokenize([str(small_speeches)], buf, TokenizeSpec(min_length=2), counter=counts)
    text = buf.getvalue().decode()
    assert st.n_docs == 20 and st.n_tokens == len(text.split()) and min(len(t) for t in counts) == 2
    assert st.provenance["stage"] == "tokenize" and st.provenance["spec"]["min_length"] == 2
    tok = tmp_path / "t.txt"
    tok.write_text(text)
    v = build_vocab(str(tok), VocabSpec(min_count=3))
    assert v.counts.min() >= 3 and v.provenance["spec"]["min_count"] == 3
    v.save(str(tmp_path / "v.tsv"))
    again = read_vocab(str(tmp_path / "v.tsv"))
    assert again.words == v.words and again.provenance["sha256"]
    assert again.restricted(VocabSpec(min_count=3)) is again
    cut = again.restricted(VocabSpec(min_count=10))
    assert cut.provenance["stage"] == "restrict" and len(cut) < len(again)
    cm = cooccur(str(tok), v, CooccurSpec(window=2))
    assert cm.kind == "cooccurrence" and cm.matrix.shape == (len(v), len(v))
    assert cm.provenance["inputs"]["vocabulary"]["spec"]["min_count"] == 3
    wv, dv = factorize(cm, WeightingSpec(association="sppmi"), SVDSpec(dim=10, vectors="w+c"))
    assert wv.dim == 10 and dv is None and wv.provenance["spec"]["vectors"] == "w+c"
    assert wv.provenance["spec"]["negative"] == 5  # recorded as applied: sppmi's default shift
    td = termdoc_matrix(str(tok), v, TermdocSpec(weighting="tfidf"))
    wv2, docs = factorize(td, WeightingSpec(association="none"), SVDSpec(dim=5, eig=1))
    assert len(docs) == 20 and docs.meta["kind"] == "documents"


def test_predictive_stage_functions(tmp_path, small_tokens):
    w, ctx, stats = train_word2vec(str(small_tokens), Word2VecSpec(vector_size=8, epochs=1, workers=1, sg=True),
                                   VocabSpec(min_count=3))
    assert w.dim == 8 and ctx is not None and ctx.words == w.words and stats["corpus_documents"] == 20
    assert w.counts.min() >= 3 and w.provenance["spec"]["min_count"] == 3
    model, _ = train_fasttext(str(small_tokens), FastTextSpec(vector_size=8, epochs=1, bucket=1000, workers=1))
    assert model.wv.vector_size == 8
    out = io.BytesIO()
    table = io.BytesIO()
    st = learn_phrases(str(small_tokens), out, PhrasesSpec(min_count=3, threshold=5), table_out=table)
    assert st["provenance"]["spec"]["threshold"] == 5 and out.getvalue()
    from embedcli.phrases import apply_phrases, read_table

    (tmp_path / "table.tsv").write_bytes(table.getvalue())
    spec, tables, sha = read_table(str(tmp_path / "table.tsv"))
    assert spec.threshold == 5 and sum(map(len, tables)) == st["phrases_per_pass"][0] == len(tables[0])
    again = io.BytesIO()
    st2 = apply_phrases(str(small_tokens), again, str(tmp_path / "table.tsv"), workers=1)
    assert again.getvalue() == out.getvalue() and st2["phrase_table_sha256"] == sha == st["phrase_table_sha256"]


# --------------------------------------------------------------------------- Vectors queries
@pytest.fixture(scope="module")
def vk(lib_run):
    from gensim.models import KeyedVectors

    v = Vectors.load(lib_run[1].files["vectors"])
    kv = KeyedVectors(v.dim)
    kv.add_vectors(v.words, np.asarray(v.vectors))
    return v, kv


@pytest.fixture(scope="module")
def abc(vk):
    """Three mid-frequency words of the small corpus, for combined queries."""
    v, _ = vk
    return v.words[100], v.words[120], v.words[140]


def _same(ours, theirs, tol=1e-5):
    assert [w for w, _ in ours] == [w for w, _ in theirs]
    np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], atol=tol)


def test_queries_agree_with_gensim(vk, abc):
    v, kv = vk
    a, b, c = abc
    _same(v.most_similar("war", topn=8), kv.most_similar("war", topn=8))
    _same(v.most_similar([b, c], [a], topn=5), kv.most_similar([b, c], [a], topn=5))
    _same(v.most_similar("peace", topn=5, restrict_vocab=500), kv.most_similar("peace", topn=5, restrict_vocab=500))
    assert abs(v.similarity("war", "peace") - kv.similarity("war", "peace")) < 1e-5
    assert abs(v.n_similarity(["war", "army"], ["peace", "law"]) - kv.n_similarity(["war", "army"], ["peace", "law"])) < 1e-5
    words = ["war", "army", "navy", "happiness"]
    assert v.doesnt_match(words) == kv.doesnt_match(words)
    np.testing.assert_allclose(v.get_vector("war", norm=True), kv.get_vector("war", norm=True), atol=1e-6)
    # gensim's names for the same things
    assert v.index_to_key == kv.index_to_key and v.vector_size == kv.vector_size
    assert v.get_index("war") == kv.get_index("war") and v.get_index("zzzq", -1) == -1
    with pytest.raises(KeyError):
        v.get_index("zzzq")
    assert abs(v.distance("war", "peace") - kv.distance("war", "peace")) < 1e-5


def test_cosmul_and_analogy(vk, abc):
    v, kv = vk
    a, b, c = abc
    import embedcli.query as q

    ours = v.most_similar_cosmul([b, c], [a], topn=5)
    eps = q.COSMUL_EPSILON
    try:
        q.COSMUL_EPSILON = 1e-6  # gensim's epsilon
        _same(v.most_similar_cosmul([b, c], [a], topn=5), kv.most_similar_cosmul([b, c], [a], topn=5), tol=1e-4)
    finally:
        q.COSMUL_EPSILON = eps
    assert ours[0][1] > 0
    _same(v.analogy(a, b, c, topn=3), v.most_similar([b, c], [a], topn=3))
    _same(v.analogy(a, b, c, method="3cosmul"), ours[:1])
    with pytest.raises(ParameterError):
        v.analogy(a, b, c, method="3cosdiv")


def test_batches_answer_every_query_in_order(vk, abc):
    v, _ = vk
    a, b, c = abc
    qs = [Query.parse(t) for t in ["war", "zzzunknown peace", f"{b} {c} -{a}", "-"] * 100]
    answers = list(v.most_similar_batch(qs, 3))
    assert len(answers) == 400
    _same(answers[0].answers, v.most_similar("war", topn=3))
    assert answers[1].unknown == ["zzzunknown"] and answers[1].answers == []
    _same(answers[2].answers, v.most_similar([b, c], [a], topn=3))
    _same(answers[400 - 4].answers, answers[0].answers)
    with pytest.raises(KeyError):
        v.most_similar("zzzunknown")
    assert Query.parse("king woman -man") == Query(["king", "woman"], ["man"])


def test_fasttext_vectors_build_unseen_words(tmp_path, small_tokens):
    from embedcli.vectorfile import save_fasttext

    model, _ = train_fasttext(str(small_tokens), FastTextSpec(vector_size=8, epochs=1, bucket=2000, workers=1),
                              VocabSpec(min_count=2))
    save_fasttext(model, str(tmp_path / "m.bin"))
    v = Vectors.load(str(tmp_path / "m.bin"))
    assert "governmnet" not in v and v.is_oov("governmnet") and not v.is_oov("government")
    assert v.get_vector("governmnet").shape == (8,)
    ans = next(v.most_similar_batch([Query(["governmnet"])], 3))
    assert ans.oov == ["governmnet"] and len(ans.answers) == 3
    assert describe(str(tmp_path / "m.bin"))["format"] == "fasttext-bin"


# --------------------------------------------------------------------------- format module
@pytest.mark.parametrize("name", ["v.npz", "v.txt", "v.txt.gz", "v.bin", "v.bin.gz", "v.glove"])
def test_vectorfile_roundtrip(tmp_path, name):
    rng = np.random.default_rng(0)
    words = ["a", "b", "ünï", "d"]
    vecs = rng.standard_normal((4, 3)).astype(np.float32)
    fmt = "glove" if name.endswith(".glove") else None
    used = write_vectors(str(tmp_path / name), words, vecs, np.array([4, 3, 2, 1]), {"x": 1}, fmt)
    d = read_vectors(str(tmp_path / name))
    assert d.words == words
    np.testing.assert_allclose(np.asarray(d.vectors), vecs, rtol=1e-6)
    assert (used == "native") == (d.counts is not None)
    if name.endswith(".gz"):
        assert gzip.open(tmp_path / name).read(1)


def test_vectorfile_refuses_pickles_and_wrong_kinds(tmp_path, lib_run):
    p = tmp_path / "v.pkl"
    p.write_bytes(pickle.dumps({"a": [1.0, 2.0]}))
    with pytest.raises(FormatError, match="pickle"):
        read_vectors(str(p))
    with pytest.raises(FormatError, match="pickle"):
        CountMatrix.load(str(p))
    with pytest.raises(FormatError, match="count matrix"):
        read_vectors(lib_run[1].files["matrix"])
    with pytest.raises(InputError):
        read_vectors("-")
    with pytest.raises(ParameterError):
        write_vectors(str(tmp_path / "x.txt"), ["a"], np.zeros((1, 2), np.float32), fmt="csv")


def test_library_review_fixes(tmp_path, lib_run, small_speeches):
    """What a library user tripped on: whole-number parameters, bad patterns refused at construction
    (nothing created), duplicate keys, string labels, strict-JSON evaluate, unknown formats, topn."""
    import json

    from embedcli.classify import classify
    from embedcli.errors import DataError
    from embedcli.evaluate import evaluate
    from embedcli.specs import ClassifySpec

    for make in (lambda: SVDSpec(dim=10.5), lambda: CooccurSpec(window=2.5), lambda: TokenizeSpec(token_pattern="("),
                 lambda: TokenizeSpec(encoding="bogus")):
        with pytest.raises(ParameterError):
            make()
    assert SVDSpec(dim=np.int64(12)).dim == 12 and type(SVDSpec(dim=12.0).dim) is int
    buf = io.BytesIO()
    st = tokenize(str(small_speeches), buf)  # one path as a string
    assert st.n_docs == 20
    with pytest.raises(ParameterError):
        tokenize([str(small_speeches)], io.StringIO())
    v = Vectors(["a", "a", "c"], np.ones((3, 2), np.float32))
    with pytest.raises(DataError, match="duplicate key 'a'"):
        v.save(str(tmp_path / "d.npz"))
    assert not (tmp_path / "d.npz").exists()
    words = lib_run[1].vectors
    X = Vectors(words.words[:40], np.asarray(words.vectors[:40]))
    as_str = classify(X, {w: "ab"[i % 2] for i, w in enumerate(X.words)}, ClassifySpec(folds=2))
    as_list = classify(X, {w: ["ab"[i % 2]] for i, w in enumerate(X.words)}, ClassifySpec(folds=2))
    assert not as_str.multilabel and as_str.n_labels == 2 and as_str.summary() == as_list.summary()
    res = evaluate(Vectors(["zzz", "yyy"], np.eye(2, dtype=np.float32)))  # bundled benchmarks, nothing covered
    json.dumps(res, allow_nan=False)
    assert res["similarity"][0]["spearman"] is None
    with pytest.raises(ParameterError):
        Vectors.load(lib_run[1].files["vectors"], fmt="bogus")
    with pytest.raises(ParameterError):
        words.most_similar(words.words[0], topn=-1)


def test_paths_and_wrong_arguments_from_a_library_review(tmp_path, small_speeches, small_tokens):
    """pathlib.Path works wherever a path does (gensim's threads used to fail on one and hang);
    a spec or data object in the wrong place is a TypeError naming the parameter, before any file
    is written; a bare word is one word for n_similarity; reprs stay short."""
    import threading
    from pathlib import Path

    from embedcli.classify import classify
    from embedcli.errors import DataError
    from embedcli.specs import GloveSpec, Word2VecSpec

    toks = tmp_path / "tokens.txt"
    st = tokenize(small_speeches, toks)  # a Path in, a path out: written atomically, with its sidecar
    assert st.n_docs == 20 and toks.read_bytes() == Path(small_tokens).read_bytes()
    assert (tmp_path / "tokens.txt.meta.json").exists()
    vocab = build_vocab(toks, VocabSpec(min_count=2))
    vocab.save(tmp_path / "v.tsv")
    assert read_vocab(tmp_path / "v.tsv").words == vocab.words
    cm = cooccur(toks, vocab)
    cm.save(tmp_path / "m.npz")
    assert CountMatrix.load(tmp_path / "m.npz").matrix.nnz == cm.matrix.nnz
    wv, _ = factorize(cm, spec=SVDSpec(dim=10))
    wv.save(tmp_path / "v.txt")
    assert Vectors.load(tmp_path / "v.txt").words == wv.words
    done = []
    t = threading.Thread(target=lambda: done.append(train_word2vec(
        toks, Word2VecSpec(epochs=1, vector_size=10, workers=1), VocabSpec(min_count=2))), daemon=True)
    t.start()
    t.join(120)
    assert done and len(done[0][0]) > 100, "train_word2vec on a Path did not return"
    assert "<Vocabulary: " in repr(vocab) and len(repr(vocab)) < 200 and len(repr(cm)) < 200

    with pytest.raises(TypeError, match=r"factorize\(\): weighting must be a WeightingSpec.*not SVDSpec"):
        factorize(cm, SVDSpec(dim=10))
    with pytest.raises(TypeError, match="cm must be a CountMatrix"):
        factorize(cm.matrix)
    with pytest.raises(TypeError, match="vocab must be a Vocabulary"):
        cooccur(toks, ["the", "of"])
    with pytest.raises(TypeError, match="spec must be a ClassifySpec.*not dict"):
        classify(wv, {"the": "a", "of": "b"}, {"folds": 3})
    with pytest.raises(TypeError, match="word2vec must be a Word2VecSpec"):
        run_pipeline(str(small_speeches), tmp_path / "out", method="word2vec", word2vec=GloveSpec())
    assert not (tmp_path / "out").exists()
    with pytest.raises(DataError, match="no labelled keys"):
        classify(wv, {})
    res = run_pipeline(small_speeches, tmp_path / "one", svd=SVDSpec(dim=10))  # one path, not its letters
    assert res.vectors is not None and len(res.vectors) > 100
    a, b = wv.words[:2]
    assert wv.n_similarity(a, b) == pytest.approx(wv.similarity(a, b), abs=1e-6)
    assert Vectors(["x", "y"], [[1, 0], [0, 1]]).vectors.dtype == np.float32


def test_query_by_vector_and_embedding_texts_from_the_library(tmp_path, small_tokens):
    """similar_by_vector answers as gensim's; numpy integers are whole numbers; embed_texts takes the
    model object when the document vectors were made in Python (nothing recorded on disk)."""
    from gensim.models import KeyedVectors

    from embedcli.docvec import document_vectors, embed_texts

    vocab = build_vocab(str(small_tokens), VocabSpec(min_count=2))
    wv, _ = factorize(cooccur(str(small_tokens), vocab), spec=SVDSpec(dim=16))
    kv = KeyedVectors(wv.dim)
    kv.add_vectors(wv.words, np.asarray(wv.vectors))
    x = wv.get_vector(wv.words[3]) + wv.get_vector(wv.words[7])
    got, want = wv.similar_by_vector(x, topn=np.int64(5)), kv.similar_by_vector(x, topn=5)
    assert [w for w, _ in got] == [w for w, _ in want]
    assert np.allclose([c for _, c in got], [c for _, c in want], atol=1e-5)
    # topn=None: every word's cosine, as gensim (most_similar too, query words included)
    for got, want in ((wv.similar_by_vector(x, topn=None, restrict_vocab=50),
                       kv.similar_by_vector(x, topn=None, restrict_vocab=50)),
                      (wv.most_similar([wv.words[3], wv.words[7]], [wv.words[9]], topn=None),
                       kv.most_similar([wv.words[3], wv.words[7]], [wv.words[9]], topn=None))):
        assert got.shape == want.shape and np.allclose(got, want, atol=1e-5)
    with pytest.raises(KeyError):
        wv.most_similar(["no-such-word"], topn=None)
    with pytest.raises(ValueError, match="shape"):
        wv.similar_by_vector(x[:3])
    with pytest.raises(ValueError, match="zero"):
        wv.similar_by_vector(np.zeros(wv.dim))
    docs = document_vectors(wv, str(small_tokens))
    first = small_tokens.read_text().splitlines()[0]
    emb = embed_texts(docs, [first], model=wv)
    assert emb.shape == (1, wv.dim) and np.allclose(emb[0], np.asarray(docs.vectors[0]), atol=1e-5)


def test_stages_take_documents_in_memory(tmp_path, small_tokens):
    """A list or generator of token lists (or of white-space-split strings) gives what the same
    text in a tokens file gives; the temporary file is removed and provenance says 'in memory'."""
    import glob
    import tempfile

    from embedcli.arguments import IN_MEMORY
    from embedcli.specs import Word2VecSpec

    left = set(glob.glob(f"{tempfile.gettempdir()}/embedcli-documents.*"))  # another process's
    lines = small_tokens.read_text().splitlines()[:8]
    docs = [line.split() for line in lines]
    docs[1] = lines[1]  # strings work too
    path = str(small_tokens.parent / "eight.txt")
    (small_tokens.parent / "eight.txt").write_text("\n".join(lines) + "\n")
    a, b = build_vocab(path, VocabSpec(min_count=2)), build_vocab(docs, VocabSpec(min_count=2))
    assert a.words == b.words and list(a.counts) == list(b.counts)
    assert b.provenance["inputs"]["tokens"]["path"] == IN_MEMORY
    assert (cooccur(path, a).matrix != cooccur(iter(docs), a).matrix).nnz == 0  # a generator, read once
    assert np.allclose(termdoc_matrix(path, a).matrix.toarray(), termdoc_matrix(docs, a).matrix.toarray())
    spec = Word2VecSpec(epochs=1, vector_size=8, workers=1, seed=2)
    v1, _, _ = train_word2vec(path, spec, VocabSpec(min_count=2))
    v2, _, _ = train_word2vec(docs, spec, VocabSpec(min_count=2))
    assert v1.words == v2.words and np.array_equal(np.asarray(v1.vectors), np.asarray(v2.vectors))
    with pytest.raises(ValueError, match="document 0: token 'new york'"):
        build_vocab([["new york"]])
    with pytest.raises(TypeError, match="iterable of documents"):
        build_vocab(3)
    assert set(glob.glob(f"{tempfile.gettempdir()}/embedcli-documents.*")) <= left


def test_strings_and_none_where_lists_and_objects_are_expected(tmp_path, small_tokens):
    """From a stranger test: a bare string is one text for embed_texts (it embedded each letter),
    doesnt_match refuses one, None for a required object is a TypeError naming it; no texts give
    an empty array."""
    from embedcli.docvec import document_vectors, embed_texts

    vocab = build_vocab(str(small_tokens), VocabSpec(min_count=2))
    wv, _ = factorize(cooccur(str(small_tokens), vocab), spec=SVDSpec(dim=8))
    docs = document_vectors(wv, str(small_tokens))
    assert embed_texts(docs, "war and peace", model=wv).shape == (1, 8)
    assert embed_texts(docs, [], model=wv).shape == (0, 8)
    with pytest.raises(TypeError, match="list of words"):
        wv.doesnt_match("war army")
    with pytest.raises(TypeError, match=r"vocab must be a Vocabulary, not NoneType"):
        cooccur(str(small_tokens), None)
