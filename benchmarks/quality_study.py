#!/usr/bin/env python
"""Hyperparameter study of the count pipeline, in the spirit of Levy, Goldberg & Dagan (2015).

One run on one corpus (default ``../shared/corpora/english-mix.txt.gz``):

1. Anchors, alternating in one run (the order flips every round), each in a
   fresh process: ``embedcli pipeline CORPUS`` with the shipped defaults (wall
   time and peak RSS of the whole process, .gz -> vectors) and gensim's
   skip-gram on the pipeline's own tokens file (5 epochs, window 5, 100 dims,
   negative 5, min count 5, 2 workers, seeds 1..N; training seconds).  Both
   are scored.
2. Every configuration below, on the same tokens and vocabulary, through the
   library (co-occurrence matrices, PPMI matrices and SVDs are cached and
   shared between rows; the time column is the in-process seconds of the
   stages the row needs: cooccur + reweighting + SVD).  Rows are grouped as
   one-factor-at-a-time changes around the old default (0.x) and around the
   new one, plus post-processing.
3. Scores: WS353 and SimLex-999 Spearman's rho with its standard error
   (Bonett & Wright 2000: (1 - rho^2) sqrt((1 + rho^2/2) / (n - 3))), and
   Google analogies 3CosAdd accuracy (top 30k words) with its binomial
   standard error.  Paired bootstrap (2,000 resamples of the benchmark pairs)
   of the default's rho minus each anchor's, on the same pairs.

Only ``../shared/eval`` (WS353, SimLex-999, Google) is used to choose.

Usage: python benchmarks/quality_study.py [--corpus PATH] [--eval DIR] [--seeds 3] [--quick] [--json OUT]
Prints a markdown table (the one in benchmarks/README.md).  About 15 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from ratios import measured  # noqa: E402

from embedcli.cooccur import cooccur  # noqa: E402
from embedcli.evaluate import evaluate_analogy, evaluate_similarity  # noqa: E402
from embedcli.specs import CooccurSpec, SVDSpec, WeightingSpec  # noqa: E402
from embedcli.svd import svd_vectors, truncated_svd  # noqa: E402
from embedcli.vectors import Vectors  # noqa: E402
from embedcli.vocab import read_vocab  # noqa: E402
from embedcli.weighting import reweight  # noqa: E402

GENSIM = """
import json, sys, time
from gensim.models import Word2Vec
t = time.perf_counter()
m = Word2Vec(corpus_file=sys.argv[1], sg=1, vector_size=100, window=5, negative=5, min_count=5, epochs=5,
             workers=2, seed=int(sys.argv[3]))
train = time.perf_counter() - t
m.wv.save_word2vec_format(sys.argv[2], binary=True)
print(json.dumps({"train": train}))
"""

OLD = dict(window=5, window_weighting="uniform", cds=0.75, eig=0.5, vectors="w", n_iter=5)  # the 0.2 defaults
NEW = dict(window=5, window_weighting="harmonic", cds=1.0, eig=0.25, vectors="w", n_iter=15)
# The study runs the randomized solver, the default when it was made (2026-11-22); the krylov solver,
# the default since 2026-12-03, is compared with it in bench_solvers.py (its scores are ARPACK's).


def configs(quick: bool) -> list[tuple[str, str, dict]]:
    """(group, name, settings); settings override NEW (or OLD for the first group)."""
    rows = [
        ("old default", "old default (uniform 5, cds .75, eig .5, n_iter 5)", dict(OLD)),
        ("old default", "  + harmonic", {**OLD, "window_weighting": "harmonic"}),
        ("old default", "  + cds 1", {**OLD, "cds": 1.0}),
        ("old default", "  + n_iter 15", {**OLD, "n_iter": 15}),
        ("old default", "  + eig .25", {**OLD, "eig": 0.25}),
        ("new default", "new default (harmonic 5, cds 1, eig .25, n_iter 15)", {}),
        ("window", "window 2", {"window": 2}),
        ("window", "window 3", {"window": 3}),
        ("window", "window 8", {"window": 8}),
        ("window", "window 10", {"window": 10}),
        ("weighting", "uniform", {"window_weighting": "uniform"}),
        ("weighting", "linear", {"window_weighting": "linear"}),
        ("weighting", "dynamic (word2vec)", {"window_weighting": "uniform", "dynamic_window": True}),
        ("subsampling", "sample 1e-3", {"sample": 1e-3}),
        ("subsampling", "sample 1e-4", {"sample": 1e-4}),
        ("subsampling", "sample 1e-5", {"sample": 1e-5}),
        ("cds", "cds .5", {"cds": 0.5}),
        ("cds", "cds .75", {"cds": 0.75}),
        ("cds", "cds .9", {"cds": 0.9}),
        ("shift", "SPPMI negative 5", {"association": "sppmi", "negative": 5.0}),
        ("shift", "SPPMI negative 5, cds .75", {"association": "sppmi", "negative": 5.0, "cds": 0.75}),
        ("eig", "eig 0", {"eig": 0.0}),
        ("eig", "eig .5", {"eig": 0.5}),
        ("eig", "eig 1", {"eig": 1.0}),
        ("W+C", "W+C", {"vectors": "w+c"}),
        ("W+C", "W+C, eig 0", {"vectors": "w+c", "eig": 0.0}),
        ("W+C", "normalized W + normalized C", {"vectors": "nw+nc"}),
        ("post", "ABTT (mean and top 2 PCs removed)", {"post": "abtt"}),
        ("post", "ABTT, eig 0", {"post": "abtt", "eig": 0.0}),
        ("dims", "dim 50", {"dim": 50}),
        ("dims", "dim 150", {"dim": 150}),
        ("dims", "dim 300", {"dim": 300}),
        ("dims", "dim 300, eig .5", {"dim": 300, "eig": 0.5}),
        ("SVD accuracy", "n_iter 5", {"n_iter": 5}),
        ("SVD accuracy", "n_iter 10", {"n_iter": 10}),
        ("SVD accuracy", "n_iter 20", {"n_iter": 20}),
        ("SVD accuracy", "n_iter 15, seed 2", {"svd_seed": 2}),
        ("SVD accuracy", "n_iter 15, seed 3", {"svd_seed": 3}),
        ("SVD accuracy", "exact (ARPACK)", {"solver": "arpack"}),
        ("preset quality", "preset quality", "quality"),
    ]
    if quick:
        keep = {"old default", "new default", "SVD accuracy"}
        rows = [r for r in rows if r[0] in keep]
    return rows


def spearman_se(rho: float, n: int) -> float:
    """Bonett & Wright (2000) approximation of the standard error of Spearman's rho."""
    return (1 - rho**2) * np.sqrt((1 + rho**2 / 2) / (n - 3))


def bootstrap_diff(a, b, n_boot: int = 2000, seed: int = 0) -> tuple[float, float, float]:
    """Paired bootstrap of rho_a - rho_b over the same benchmark pairs: (P(diff > 0), 2.5%, 97.5%)."""
    from scipy.stats import rankdata

    gold, pa = np.asarray(a.gold), np.asarray(a.predicted)
    gb, pb = np.asarray(b.gold), np.asarray(b.predicted)
    if len(gold) != len(gb) or not np.allclose(gold, gb):
        return float("nan"), float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(gold), size=(n_boot, len(gold)))

    def rho(g, p):  # Spearman per resample row: Pearson of ranks
        rg = rankdata(g[idx], axis=1)
        rp = rankdata(p[idx], axis=1)
        rg -= rg.mean(1, keepdims=True)
        rp -= rp.mean(1, keepdims=True)
        return (rg * rp).sum(1) / np.sqrt((rg**2).sum(1) * (rp**2).sum(1))

    d = rho(gold, pa) - rho(gb, pb)
    return float((d > 0).mean()), float(np.percentile(d, 2.5)), float(np.percentile(d, 97.5))


class Study:
    def __init__(self, tokens: str, vocab_path: str, eval_dir: Path):
        self.tokens, self.vocab = tokens, read_vocab(vocab_path)
        self.eval = eval_dir
        self.cache: dict = {}

    def _get(self, key, make):
        if key not in self.cache:
            t = time.perf_counter()
            val = make()
            self.cache[key] = (val, time.perf_counter() - t)
        return self.cache[key]

    def run(self, s: dict) -> tuple[Vectors, float]:
        """Vectors of one configuration and the seconds of the stages it needs."""
        cspec = CooccurSpec(window=s.get("window", 5), window_weighting=s.get("window_weighting", "harmonic"),
                            dynamic_window=s.get("dynamic_window", False), sample=s.get("sample", 0.0))
        wspec = WeightingSpec(association=s.get("association", "ppmi"), negative=s.get("negative"),
                              cds=s.get("cds", NEW["cds"]))
        solver = s.get("solver", "randomized")
        sspec = SVDSpec(dim=s.get("dim", 100), solver=solver,
                        n_iter=None if solver == "arpack" else s.get("n_iter", NEW["n_iter"]),
                        seed=s.get("svd_seed", SVDSpec().seed))
        ck = ("c", repr(cspec))
        cm, tc = self._get(ck, lambda: cooccur(self.tokens, self.vocab, cspec))
        wk = ck + (repr(wspec),)
        P, tw = self._get(wk, lambda: reweight(cm.matrix, wspec))
        sk = wk + (repr(sspec),)
        (U, sv, Vt), ts = self._get(sk, lambda: truncated_svd(P, sspec))
        eig, which = s.get("eig", NEW["eig"]), s.get("vectors", "w")
        if which == "nw+nc":
            X = normalize(svd_vectors(U, sv, Vt, eig, "w")) + normalize(svd_vectors(U, sv, Vt, eig, "c"))
        else:
            X = svd_vectors(U, sv, Vt, eig, which)
        if s.get("post") == "abtt":
            X = abtt(X, 2)
        vec = Vectors(list(cm.row_words), np.ascontiguousarray(X, dtype=np.float32), np.asarray(cm.row_counts), {})
        return vec, tc + tw + ts

    def score(self, vec: Vectors) -> dict:
        ws = evaluate_similarity(vec, str(self.eval / "wordsim353.tsv"), "WS353")
        sl = evaluate_similarity(vec, str(self.eval / "simlex999.txt"), "SimLex-999")
        g = evaluate_analogy(vec, str(self.eval / "questions-words.txt"), "Google")
        return {"ws": ws, "sl": sl, "g": g}


def normalize(X: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(X, axis=1, keepdims=True)
    n[n == 0] = 1
    return X / n


def abtt(X: np.ndarray, d: int) -> np.ndarray:
    """All-but-the-top (Mu & Viswanath 2018): remove the mean, then the projections on the top d PCs."""
    X = X - X.mean(0)
    _, _, Vt = np.linalg.svd(X, full_matrices=False)
    top = Vt[:d]
    return X - (X @ top.T) @ top


def fmt(sc: dict) -> str:
    ws, sl, g = sc["ws"], sc["sl"], sc["g"]
    return (f"{ws.spearman:.3f} ± {spearman_se(ws.spearman, ws.pairs_used):.3f} | "
            f"{sl.spearman:.3f} ± {spearman_se(sl.spearman, sl.pairs_used):.3f} | "
            f"{g.accuracy:.3f} ± {np.sqrt(g.accuracy * (1 - g.accuracy) / g.questions_used):.3f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", default=str(ROOT.parent / "shared/corpora/english-mix.txt.gz"))
    ap.add_argument("--eval", default=str(ROOT.parent / "shared/eval"))
    ap.add_argument("--seeds", type=int, default=3, help="gensim seeds = rounds of the pipeline/gensim alternation")
    ap.add_argument("--quick", action="store_true", help="only the defaults and the SVD-accuracy rows")
    ap.add_argument("--json", help="also write every number here")
    args = ap.parse_args()
    eval_dir = Path(args.eval)
    for f in ("wordsim353.tsv", "simlex999.txt", "questions-words.txt"):
        if not (eval_dir / f).exists():
            sys.exit(f"quality_study: {eval_dir / f} not found (--eval DIR)")
    work = Path(tempfile.mkdtemp(prefix="embedcli-quality-"))
    emb = [sys.executable, "-m", "embedcli"]
    print(f"# quality study: {args.corpus}; work dir {work}", file=sys.stderr)

    # 1. anchors, alternating
    pipe, gens = [], []
    for r in range(args.seeds):
        def run_pipe():
            out = work / f"pipeline{r}"
            pipe.append({**measured([*emb, "pipeline", args.corpus, "-o", str(out), "--quiet"]), "dir": out})

        def run_gensim():
            if not pipe:
                run_pipe()  # the tokens file comes from the first pipeline run
            tokens = pipe[0]["dir"] / "tokens.txt"
            vec = work / f"gensim{r + 1}.bin"
            t = time.perf_counter()
            out = subprocess.run([sys.executable, "-c", GENSIM, str(tokens), str(vec), str(r + 1)],
                                 capture_output=True, text=True, check=True)
            gens.append({"train": json.loads(out.stdout.strip().splitlines()[-1])["train"],
                         "wall": time.perf_counter() - t, "path": vec, "seed": r + 1})

        if r % 2 == 0:
            run_pipe()
            run_gensim()
        else:
            run_gensim()
            run_pipe()
        print(f"# round {r + 1}: pipeline {pipe[-1]['wall']:.1f} s, gensim training {gens[-1]['train']:.1f} s",
              file=sys.stderr)
    pipe_wall = statistics.median(p["wall"] for p in pipe)
    pipe_rss = max(p["rss"] for p in pipe)
    gtrain = statistics.median(g["train"] for g in gens)

    base = pipe[0]["dir"]
    study = Study(str(base / "tokens.txt"), str(base / "vocab.tsv"), eval_dir)
    shipped = study.score(Vectors.load(str(base / "vectors.npz")))
    gscores = [study.score(Vectors.load(str(g["path"]))) for g in gens]

    lines = ["| group | configuration | WS353 ρ ± SE | SimLex-999 ρ ± SE | Google 3CosAdd ± SE | seconds |",
             "| --- | --- | --- | --- | --- | --- |"]
    record: dict = {"pipeline": {"wall_median": pipe_wall, "rss_max_mb": pipe_rss, "walls": [p["wall"] for p in pipe]},
                    "gensim": [], "rows": []}
    for g, sc in zip(gens, gscores):
        lines.append(f"| anchor | gensim skip-gram, seed {g['seed']} | {fmt(sc)} | {g['train']:.1f} (training) |")
        record["gensim"].append({"seed": g["seed"], "train": g["train"], **flat(sc)})
    mean = {k: statistics.mean(x[k] for x in record["gensim"]) for k in ("ws", "sl", "g")}
    lines.append(f"| anchor | gensim skip-gram, mean of {len(gens)} seeds | {mean['ws']:.3f} | {mean['sl']:.3f} | "
                 f"{mean['g']:.3f} | {gtrain:.1f} (median) |")
    lines.append(f"| shipped | `embedcli pipeline` (shipped defaults), whole process | {fmt(shipped)} | "
                 f"{pipe_wall:.1f} (wall, median) |")
    record["shipped"] = flat(shipped)

    from embedcli.specs import PRESETS

    scored = {}
    for group, name, s in configs(args.quick):
        if s == "quality":
            s = {**PRESETS["quality"], **{k: v for k, v in NEW.items() if k not in PRESETS["quality"]}}
        vec, secs = study.run(s)
        sc = study.score(vec)
        scored[name] = sc
        lines.append(f"| {group} | {name} | {fmt(sc)} | {secs:.1f} |")
        record["rows"].append({"group": group, "name": name, "settings": s, "seconds": secs, **flat(sc)})
        print(lines[-1], file=sys.stderr, flush=True)

    print("\n".join(lines))
    old = scored[configs(False)[0][1]]
    print("\nPaired bootstrap of the shipped default's rho minus the anchor's (same pairs, 2,000 resamples):\n")
    print("| anchor | WS353: P(default better), 95% CI of the difference | SimLex-999: P(default better), 95% CI |")
    print("| --- | --- | --- |")
    for label, other in [*((f"gensim seed {g['seed']}", sc) for g, sc in zip(gens, gscores)), ("old default", old)]:
        cells = []
        for key in ("ws", "sl"):
            p, lo, hi = bootstrap_diff(shipped[key], other[key])
            cells.append(f"{p:.2f}, [{lo:+.3f}, {hi:+.3f}]")
        print(f"| {label} | {cells[0]} | {cells[1]} |")
    print(f"\nPipeline wall (median of {len(pipe)}) / gensim training (median): {pipe_wall / gtrain:.3f}; "
          f"pipeline peak RSS {pipe_rss:.0f} MB")
    if args.json:
        Path(args.json).write_text(json.dumps(record, indent=1, default=str))


def flat(sc: dict) -> dict:
    return {"ws": sc["ws"].spearman, "sl": sc["sl"].spearman, "g": sc["g"].accuracy}


if __name__ == "__main__":
    main()
