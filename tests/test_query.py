import json

import numpy as np
import pytest
from conftest import run

from embedcli.vectors import Vectors


@pytest.fixture(scope="module")
def vec_path(sample_run):
    return sample_run[0] / "vectors.npz"


@pytest.fixture(scope="module")
def unit(vec_path):
    v = Vectors.load(str(vec_path))
    M = np.asarray(v.vectors, dtype=np.float64)
    return v, M / np.linalg.norm(M, axis=1, keepdims=True)


def test_neighbors_match_brute_force(vec_path, unit):
    v, U = unit
    res = run("neighbors", vec_path, "freedom", "war", "-k", "5")
    rows = [line.split("\t") for line in res.stdout.splitlines()]
    assert len(rows) == 10
    for q in ("freedom", "war"):
        sims = U @ U[v.index[q]]
        sims[v.index[q]] = -np.inf
        best = np.argsort(-sims)[:5]
        got = [r for r in rows if r[0] == q]
        assert [r[1] for r in got] == [v.words[i] for i in best]
        np.testing.assert_allclose([float(r[2]) for r in got], sims[best], atol=1e-5)


def test_neighbors_stdin_json_unknown_and_restrict(vec_path, unit):
    v, _ = unit
    res = run("neighbors", vec_path, "-", "-k", "3", "--format", "json", input="peace\nzzzunknownzzz\n\nwar peace\n")
    recs = [json.loads(line) for line in res.stdout.splitlines()]
    # one record per query (0.2: an unknown word no longer makes its query vanish)
    assert [r["query"] for r in recs] == ["peace", "zzzunknownzzz", "war peace"]
    assert recs[1]["neighbors"] == [] and recs[1]["unknown"] == ["zzzunknownzzz"]
    assert len(recs[0]["neighbors"]) == 3 and all(n["word"] not in ("war", "peace") for n in recs[2]["neighbors"])
    assert "line 2: not in vocabulary: zzzunknownzzz" in res.stderr
    res = run("neighbors", vec_path, "peace", "-k", "5", "--restrict", "100")
    assert all(v.index[line.split("\t")[1]] < 100 for line in res.stdout.splitlines())


def test_analogy_matches_brute_force_both_methods(vec_path, unit):
    v, U = unit
    a, b, c = "man", "king", "woman"
    ia, ib, ic = (v.index[w] for w in (a, b, c))
    add = U @ (U[ib] - U[ia] + U[ic])
    mul = ((U @ U[ib] + 1) / 2) * ((U @ U[ic] + 1) / 2) / ((U @ U[ia] + 1) / 2 + 0.001)
    for method, scores in (("3cosadd", add), ("3cosmul", mul)):
        scores[[ia, ib, ic]] = -np.inf
        res = run("analogy", vec_path, a, b, c, "--method", method, "-k", "3")
        got = [line.split("\t") for line in res.stdout.splitlines()]
        assert [g[3] for g in got] == [v.words[i] for i in np.argsort(-scores)[:3]]
        assert all(g[:3] == [a, b, c] for g in got)


def test_analogy_stdin_batch(vec_path):
    res = run("analogy", vec_path, "-", "--format", "json",
              input="man king woman\nfoo bar\nzzqq king woman\npeace war freedom tyranny\n", ok=False)
    assert res.exit_code == 3  # the malformed line
    recs = [json.loads(line) for line in res.stdout.splitlines()]
    # one record per line: the malformed one with an error, the unknown one with an empty answer
    assert [r["query"] for r in recs] == [["man", "king", "woman"], ["foo", "bar"], ["zzqq", "king", "woman"],
                                          ["peace", "war", "freedom"]]
    assert "error" in recs[1] and recs[2]["answers"] == [] and recs[2]["unknown"] == ["zzqq"]
    assert "expected" in recs[3] and isinstance(recs[3]["correct"], bool)
    assert "line 2: expected 'A B C'" in res.stderr and "line 3: not in vocabulary: zzqq" in res.stderr
    res = run("analogy", vec_path, "man", "king", ok=False)
    assert res.exit_code == 2 and "three words" in res.stderr


def test_similarity(vec_path, unit):
    v, U = unit
    res = run("similarity", vec_path, "war", "peace")
    w1, w2, s = res.stdout.split("\t")
    assert float(s) == pytest.approx(U[v.index["war"]] @ U[v.index["peace"]], abs=1e-5)


def test_neighbors_with_subtracted_words_match_brute_force(vec_path, unit):
    v, U = unit
    res = run("neighbors", vec_path, "king woman -man", "-k", "3", "--format", "json")
    rec = json.loads(res.stdout)
    q = (U[v.index["king"]] + U[v.index["woman"]] - U[v.index["man"]]) / 3
    sims = U @ (q / np.linalg.norm(q))
    for w in ("king", "woman", "man"):
        sims[v.index[w]] = -np.inf
    best = np.argsort(-sims)[:3]
    assert rec["query"] == "king woman -man" and [n["word"] for n in rec["neighbors"]] == [v.words[i] for i in best]


def test_doesnt_match_and_set_similarity(vec_path, unit):
    v, U = unit
    res = run("doesnt-match", vec_path, "war", "army", "navy", "happiness")
    words = ["war", "army", "navy", "happiness"]
    W = U[[v.index[w] for w in words]]
    mean = W.mean(axis=0)
    assert res.stdout.strip().split("\t") == [" ".join(words), words[int(np.argmin(W @ (mean / np.linalg.norm(mean))))]]
    res = run("doesnt-match", vec_path, "-", "--format", "json", input="war army navy\nwar\n", ok=False)
    recs = [json.loads(line) for line in res.stdout.splitlines()]
    assert res.exit_code == 3 and recs[0]["words"] == ["war", "army", "navy"] and "error" in recs[1]
    res = run("similarity", vec_path, "war army", "peace law")
    M = np.asarray(v.vectors, dtype=np.float64)
    a = M[[v.index["war"], v.index["army"]]].mean(axis=0)
    b = M[[v.index["peace"], v.index["law"]]].mean(axis=0)
    assert abs(float(res.stdout.split("\t")[2]) - a @ b / np.linalg.norm(a) / np.linalg.norm(b)) < 1e-5
    res = run("similarity", vec_path, "-", input="war army\tpeace law\nwar peace\n")
    assert len(res.stdout.splitlines()) == 2
    # queries are echoed as typed (a batch job joins its input on them), answers too
    res = run("similarity", vec_path, "-", input="War  Army\tpeace\nWAR Peace\n")
    assert [line.split("\t")[:2] for line in res.stdout.splitlines()] == [["War Army", "peace"], ["WAR", "Peace"]]
    assert res.stdout.splitlines()[1].split("\t")[2] == run("similarity", vec_path, "war", "peace").stdout.split("\t")[2].strip()
    rec = json.loads(run("doesnt-match", vec_path, "War", "Army", "NAVY", "Happiness", "--format", "json").stdout)
    assert rec["words"] == ["War", "Army", "NAVY", "Happiness"] and rec["doesnt_match"] in rec["words"]


def test_quiet_query_commands_print_no_notes(vec_path):
    res = run("neighbors", vec_path, "zzzunknownzzz", "-q", ok=False)
    assert res.exit_code == 4 and res.stderr == "" and res.stdout == "zzzunknownzzz\t\t\n"
    res = run("neighbors", vec_path, "zzzunknownzzz", "-q", "--skip-unknown", ok=False)
    assert res.exit_code == 4 and res.stdout == ""
    res = run("neighbors", vec_path, "zzzunknownzzz", ok=False)
    assert "not in vocabulary" in res.stderr
