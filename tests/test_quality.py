"""Quality floors on the shared benchmark corpus (skipped when ../shared is absent).

The default pipeline on ``english-mix.txt.gz`` (about 15 s) must stay at the level chosen by
``benchmarks/quality_study.py`` (README, "Why these defaults"): one floor per benchmark, set
about one standard error below the measured score and above both anchors of the study (the old
defaults and gensim skip-gram's mean over three seeds) where the margin allows.
"""

import pytest
from conftest import run, shared_path

from embedcli.evaluate import evaluate_analogy, evaluate_similarity
from embedcli.vectors import Vectors


def _scores(path):
    v = Vectors.load(str(path))
    ws = evaluate_similarity(v, str(shared_path("eval", "wordsim353.tsv")))
    sl = evaluate_similarity(v, str(shared_path("eval", "simlex999.txt")))
    google = evaluate_analogy(v, str(shared_path("eval", "questions-words.txt")), method="3cosadd", restrict=30000)
    print(f"WS353 rho {ws.spearman:.4f} ({ws.pairs_used} pairs); SimLex-999 rho {sl.spearman:.4f} "
          f"({sl.pairs_used} pairs); Google 3CosAdd {google.accuracy:.4f} ({google.questions_used} questions)")
    return ws.spearman, sl.spearman, google.accuracy


@pytest.fixture(scope="module")
def default_scores(tmp_path_factory):
    corpus = shared_path("corpora", "english-mix.txt.gz")
    out = tmp_path_factory.mktemp("quality")
    run("pipeline", corpus, "-o", out, "-q")
    return _scores(out / "vectors.npz")


# Measured 2026-11-22 (benchmarks/README.md, "Quality study"): new default 0.580 / 0.256 / 0.164;
# old default 0.504 / 0.213 / 0.135; gensim skip-gram (3 seeds) about 0.45 / 0.244 / 0.112.
def test_default_pipeline_wordsim353_floor(default_scores):
    assert default_scores[0] >= 0.56


def test_default_pipeline_simlex999_floor(default_scores):
    assert default_scores[1] >= 0.245


def test_default_pipeline_google_analogies_floor(default_scores):
    assert default_scores[2] >= 0.155


@pytest.mark.slow
def test_quality_preset_floors(tmp_path):
    """``--preset quality`` (exact SVD) scores at least as the default's floors."""
    corpus = shared_path("corpora", "english-mix.txt.gz")
    run("pipeline", corpus, "-o", tmp_path, "-q", "--preset", "quality")
    assert Vectors.load(str(tmp_path / "vectors.npz")).meta["provenance"]["spec"]["solver"] == "arpack"
    ws, sl, g = _scores(tmp_path / "vectors.npz")
    assert ws >= 0.56 and sl >= 0.245 and g >= 0.155
