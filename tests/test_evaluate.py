import json

import numpy as np
import pytest
from conftest import run

from embedcli.evaluate import bundled_path, evaluate_analogy, evaluate_similarity
from embedcli.vectors import Vectors


@pytest.fixture(scope="module")
def vec_path(sample_run):
    return sample_run[0] / "vectors.npz"


@pytest.fixture(scope="module")
def kv(vec_path, tmp_path_factory):
    from gensim.models import KeyedVectors

    v = Vectors.load(str(vec_path))
    k = KeyedVectors(v.dim)
    k.add_vectors(v.words, np.asarray(v.vectors))
    return v, k


@pytest.mark.parametrize("name", ["wordsim353.tsv", "simlex999.txt"])
def test_similarity_agrees_with_gensim(kv, name):
    v, k = kv
    path = bundled_path(name)
    ours = evaluate_similarity(v, path)
    pearson, spearman, oov = k.evaluate_word_pairs(path)
    assert ours.spearman == pytest.approx(spearman.statistic, abs=1e-6)
    assert ours.pearson == pytest.approx(pearson.statistic, abs=1e-6)
    assert 100 * (1 - ours.pairs_used / ours.pairs_total) == pytest.approx(oov, abs=1e-9)


@pytest.mark.parametrize("restrict", [30000, 2000])
def test_analogy_agrees_with_gensim(kv, restrict):
    v, k = kv
    path = bundled_path("questions-words.txt")
    ours = evaluate_analogy(v, path, restrict=restrict)
    score, sections = k.evaluate_word_analogies(path, restrict_vocab=restrict)
    assert ours.accuracy == pytest.approx(score, abs=1e-6)
    theirs = {s["section"]: (len(s["correct"]), len(s["correct"]) + len(s["incorrect"])) for s in sections}
    for s in ours.sections:
        assert (s["correct"], s["used"]) == theirs[s["section"]]
    assert ours.correct > 20


def test_cosmul_agrees_with_gensim_most_similar_cosmul(kv, monkeypatch):
    """gensim's evaluate_word_analogies has no 3CosMul (4.4 ignores similarity_function), so compare
    answers with its most_similar_cosmul question by question, at gensim's epsilon (1e-6; ours is the
    paper's 1e-3)."""
    import embedcli.query as q
    from embedcli.evaluate import read_analogies

    v, k = kv
    monkeypatch.setattr(q, "COSMUL_EPSILON", 1e-6)
    s = v.searcher()
    questions = [x for _, qs in read_analogies(bundled_path("questions-words.txt")) for x in qs]
    questions = [tuple(w.lower() for w in x[:3]) for x in questions[::20]]
    questions = [x for x in questions if all(w in v.index for w in x)]
    assert len(questions) > 100
    ours = s.analogies([tuple(v.index[w] for w in x) for x in questions], 3, "3cosmul")
    for (a, b, c), (ids, scores) in zip(questions, ours):
        theirs = k.most_similar_cosmul(positive=[b, c], negative=[a], topn=3)
        assert [v.words[i] for i in ids] == [w for w, _ in theirs]
        np.testing.assert_allclose(scores, [x for _, x in theirs], rtol=1e-4)


def test_evaluate_cli_table_and_json(vec_path, tmp_path):
    res = run("evaluate", vec_path)
    for text in ("ws353", "simlex999", "google", "3cosadd", "3cosmul", "capital-common-countries", "gram1-adjective-to-adverb"):
        assert text in res.stdout
    own = tmp_path / "mine.tsv"
    own.write_text("# my pairs\nwar\tpeace\t5\nliberty\tfreedom\t9\nnation\tcountry\t8\ntax\tmoney\t6\n")
    ana = tmp_path / "mine.txt"
    ana.write_text(": mine\nman king woman queen\ngood better bad worse\n")
    out = json.loads(run("evaluate", vec_path, "--no-bundled", "--similarity", own, "--analogy", ana,
                         "--method", "3cosadd", "--format", "json").stdout)
    s = out["similarity"][0]
    assert s["name"] == "mine.tsv" and s["pairs_used"] == 4 and s["pairs_total"] == 4 and -1 <= s["spearman"] <= 1
    a = out["analogy"][0]
    assert a["questions_total"] == 2 and a["method"] == "3cosadd" and a["sections"][0]["section"] == "mine"
    assert out["vectors"] == str(vec_path)
    import gzip  # compressed benchmark files are read like every other input

    (tmp_path / "mine.tsv.gz").write_bytes(gzip.compress(own.read_bytes()))
    gz = json.loads(run("evaluate", vec_path, "--no-bundled", "--similarity", tmp_path / "mine.tsv.gz",
                        "--format", "json").stdout)
    assert gz["similarity"][0]["spearman"] == s["spearman"]


def test_evaluate_exits_4_when_nothing_is_scored(tmp_path, vec_path):
    """A batch job must see that nothing was measured: no benchmark word covered -> exit 4, a
    warning, and the JSON still printed (null scores)."""
    Vectors(["zzq", "qqz", "xxw"], np.ones((3, 2), np.float32), None, {}).save(str(tmp_path / "odd.txt"))
    res = run("evaluate", tmp_path / "odd.txt", "--format", "json", ok=False)
    assert res.exit_code == 4 and "nothing was scored" in res.stderr
    assert json.loads(res.stdout)["similarity"][0]["spearman"] is None
    assert run("evaluate", vec_path, "-q").exit_code == 0
    (tmp_path / "one.tsv").write_text("the\tof\t3\n")  # covered, but one pair has no rank correlation
    assert run("evaluate", vec_path, "--no-bundled", "--similarity", tmp_path / "one.tsv", "-q", ok=False).exit_code == 4


@pytest.mark.parametrize("content,message", [
    ("war\tpeace\n", ":1: expected 'word1<TAB>word2<TAB>score', got 2 field(s)"),
    ("# c\nwar\tpeace\tlots\n", ":2: score 'lots' is not a number"),
])
def test_malformed_similarity_file(vec_path, tmp_path, content, message):
    p = tmp_path / "bad.tsv"
    p.write_text(content)
    res = run("evaluate", vec_path, "--no-bundled", "--similarity", p, ok=False)
    assert res.exit_code == 3 and f"{p}{message}" in res.stderr and "Traceback" not in res.stderr


def test_malformed_analogy_file(vec_path, tmp_path):
    p = tmp_path / "bad.txt"
    p.write_text(": s\nman king woman queen\nman king woman\n")
    res = run("evaluate", vec_path, "--no-bundled", "--analogy", p, ok=False)
    assert res.exit_code == 3 and f"{p}:3: expected four words" in res.stderr
