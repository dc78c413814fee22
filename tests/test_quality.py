"""Quality floors on the shared benchmark corpus (skipped when ../shared is absent; about 15 s)."""

from conftest import run, shared_path

from embedcli.evaluate import evaluate_analogy, evaluate_similarity
from embedcli.vectors import Vectors


def test_pipeline_defaults_meet_quality_bars(tmp_path):
    corpus = shared_path("corpora", "english-mix.txt.gz")
    run("pipeline", corpus, "-o", tmp_path, "-q")
    v = Vectors.load(str(tmp_path / "vectors.npz"))
    ws = evaluate_similarity(v, str(shared_path("eval", "wordsim353.tsv")))
    google = evaluate_analogy(v, str(shared_path("eval", "questions-words.txt")), method="3cosadd", restrict=30000)
    print(f"WS353 rho {ws.spearman:.4f} ({ws.pairs_used} pairs); Google 3CosAdd {google.accuracy:.4f} "
          f"({google.questions_used} questions)")
    assert ws.spearman >= 0.50
    assert google.accuracy >= 0.13
