#!/usr/bin/env python
"""Document vectors on a labelled task: polarity of 2,000 movie reviews (Pang & Lee 2004).

10-fold stratified cross-validation (the same folds for every row), logistic regression
(scikit-learn, C = 1) on unit-length document vectors:

  anchors     tf-idf of 1-2 grams (scikit-learn TfidfVectorizer) + logistic regression; a plain
              scikit-learn LSA pipeline fit on the training folds only (TfidfVectorizer with
              sublinear tf, TruncatedSVD 100, Normalizer, logistic regression)
  LSA         embedcli termdoc + svd on the training folds' reviews, the test fold folded in
              (embedcli foldin): nothing of the test fold is seen before prediction (except in the
              rows whose phrases are learned on all reviews' text, as named)
  docvec      embedcli docvec on word vectors trained on english-mix (which holds these
              reviews' text, not their labels), then embedcli classify (its own 10 folds)

Also times `embedcli docvec` on the 2,000 reviews (whole process, median of 3).

Usage: python benchmarks/documents.py [--reviews PATH] [--corpus PATH] [--quick] [--skip-docvec] [--seed N]
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
EMB = [sys.executable, "-m", "embedcli"]


def sh(*args: str) -> str:
    return subprocess.run([*EMB, *map(str, args)], check=True, capture_output=True, text=True).stdout


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reviews", default=str(SHARED / "labelled/movie-reviews-polarity.tsv.gz"))
    ap.add_argument("--corpus", default=str(SHARED / "corpora/english-mix.txt.gz"))
    ap.add_argument("--quick", action="store_true",
                    help="the anchors and the README recipe's LSA rows (300 dims, with and without --binary and "
                         "phrases); no docvec rows")
    ap.add_argument("--skip-docvec", action="store_true", help="anchors and LSA rows only")
    ap.add_argument("--seed", type=int, default=1,
                    help="random_state of the folds of the anchor and LSA rows (1: the README's numbers); the "
                         "docvec rows use embedcli classify's own folds")
    args = ap.parse_args()
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import Normalizer, normalize

    from embedcli.docvec import read_ids
    from embedcli.lsa import fold_in
    from embedcli.phrases import apply_phrases, learn_phrases
    from embedcli.specs import SVDSpec, TermdocSpec, VocabSpec, WeightingSpec
    from embedcli.svd import factorize
    from embedcli.termdoc import termdoc_matrix
    from embedcli.vocab import build_vocab

    work = Path(tempfile.mkdtemp(prefix="embedcli-docs-"))
    rows = [line.split("\t") for line in gzip.open(args.reviews, "rt", encoding="utf-8").read().splitlines()[1:]]
    texts = [r[2] for r in rows]
    y = np.array([r[1] for r in rows])
    sh("tokenize", args.reviews, "--header", "--id-column", "1", "--text-column", "3", "-o", work / "tokens.txt",
       "--ids-output", work / "ids.txt", "-q")
    lines = (work / "tokens.txt").read_text(encoding="utf-8").splitlines()
    ids = read_ids(str(work / "ids.txt"))
    assert ids == [r[0] for r in rows], "tokenize dropped a review"
    folds = list(StratifiedKFold(10, shuffle=True, random_state=args.seed).split(texts, y))
    results = []

    def cv(name, fit_predict):
        t = time.perf_counter()
        acc = [float(np.mean(fit_predict(tr, te) == y[te])) for tr, te in folds]
        results.append((name, float(np.mean(acc)), float(np.std(acc)), time.perf_counter() - t))
        print(f"{name}: {np.mean(acc):.4f} ± {np.std(acc):.4f}", file=sys.stderr, flush=True)

    def tfidf_lr(tr, te):
        m = make_pipeline(TfidfVectorizer(ngram_range=(1, 2)), LogisticRegression(max_iter=2000))
        return m.fit([texts[i] for i in tr], y[tr]).predict([texts[i] for i in te])

    def plain_lsa(tr, te):
        m = make_pipeline(TfidfVectorizer(sublinear_tf=True), TruncatedSVD(100, random_state=1), Normalizer(),
                          LogisticRegression(max_iter=2000))
        return m.fit([texts[i] for i in tr], y[tr]).predict([texts[i] for i in te])

    def tfidf_sublinear_lr(tr, te):
        m = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True), LogisticRegression(max_iter=2000))
        return m.fit([texts[i] for i in tr], y[tr]).predict([texts[i] for i in te])

    cv("anchor: tf-idf 1-2 grams + logistic regression", tfidf_lr)
    cv("anchor: sublinear tf-idf 1-2 grams + logistic regression", tfidf_sublinear_lr)
    cv("anchor: plain scikit-learn LSA (sublinear tf-idf, TruncatedSVD 100, fit on training folds)", plain_lsa)

    sh("phrases", work / "tokens.txt", "-o", work / "phrases.txt", "-q")  # unsupervised: the reviews' text only
    phrase_lines = (work / "phrases.txt").read_text(encoding="utf-8").splitlines()
    assert len(phrase_lines) == len(lines)

    def embedcli_lsa(weighting: str, normalize_docs: bool, dim: int, eig: float, min_count: int = 2,
                     phrases: bool | str = False, binary: bool = False):
        def run(tr, te):
            lines_ = phrase_lines if phrases is True else lines
            ftr, fte = work / "train.txt", work / "test.txt"
            ftr.write_text("\n".join(lines_[i] for i in tr) + "\n", encoding="utf-8")
            fte.write_text("\n".join(lines_[i] for i in te) + "\n", encoding="utf-8")
            if phrases == "fold":  # learned on the training folds, applied to the test fold
                with open(work / "train.p.txt", "wb") as out, open(work / "table.tsv", "wb") as tab:
                    learn_phrases(str(ftr), out, table_out=tab)
                with open(work / "test.p.txt", "wb") as out:
                    apply_phrases(str(fte), out, str(work / "table.tsv"))
                ftr, fte = work / "train.p.txt", work / "test.p.txt"
            vocab = build_vocab(str(ftr), VocabSpec(min_count=min_count))
            cm = termdoc_matrix(str(ftr), vocab, TermdocSpec(weighting=weighting, normalize=normalize_docs,
                                                                     binary=binary),
                                ids=[ids[i] for i in tr])
            wv, dv = factorize(cm, WeightingSpec(), SVDSpec(dim=dim, eig=eig))
            test = fold_in(wv, str(fte), [ids[i] for i in te])
            lr = LogisticRegression(max_iter=2000).fit(normalize(np.asarray(dv.vectors)), y[tr])
            return lr.predict(normalize(np.asarray(test.vectors)))
        return run

    configs = [("log-entropy", True, 300, 0.0, False), ("log-entropy", True, 300, 0.0, True)]
    if not args.quick:
        configs += [("tfidf", False, 100, 0.25, False), ("tfidf", True, 300, 0.0, False),
                    ("log-entropy", False, 300, 0.0, False), ("log-entropy", False, 300, 1.0, False),
                    ("log-entropy", True, 300, 0.5, False), ("log-entropy", True, 100, 0.0, False),
                    ("log-entropy", True, 500, 0.0, False), ("log-entropy", True, 500, 0.0, True)]
    for weighting, norm, dim, eig, binary in configs:
        cv(f"embedcli LSA: termdoc --weighting {weighting}{' --normalize' if norm else ''}"
           f"{' --binary' if binary else ''} --min-count 2, svd --dim {dim} --eig {eig:g}, foldin for the test fold",
           embedcli_lsa(weighting, norm, dim, eig, binary=binary))
    for binary in (False, True):
        for dim in ((300,) if args.quick else (300, 500)):
            cv(f"embedcli LSA on `embedcli phrases` tokens (collocations learned on the reviews' text, no labels): "
               f"termdoc --weighting log-entropy --normalize{' --binary' if binary else ''} --min-count 2, "
               f"svd --dim {dim} --eig 0, foldin", embedcli_lsa("log-entropy", True, dim, 0.0, phrases=True,
                                                                binary=binary))
        cv("embedcli LSA on `embedcli phrases` tokens, phrases learned on the training folds (--phrases-output) "
           f"and applied to the test fold (--apply): termdoc --weighting log-entropy --normalize"
           f"{' --binary' if binary else ''} --min-count 2, svd --dim 300 --eig 0, foldin",
           embedcli_lsa("log-entropy", True, 300, 0.0, phrases="fold", binary=binary))

    if not args.quick and not args.skip_docvec:
        for dim in (100, 300):
            out = work / f"w{dim}"
            sh("pipeline", args.corpus, "-o", out, "--dim", dim, "-q")
            for weighting in ("mean", "tfidf", "sif"):
                dv = work / f"d{dim}{weighting}.npz"
                t = time.perf_counter()
                sh("docvec", out / "vectors.npz", work / "tokens.txt", "--ids", work / "ids.txt", "--weighting",
                   weighting, "-o", dv, "-q")
                rec = json.loads(sh("classify", dv, args.reviews, "--header", "--format", "json", "-q"))["summary"][0]
                results.append((f"embedcli docvec --weighting {weighting} on the default pipeline's {dim}-dim "
                                 f"vectors, classify", rec["accuracy"], rec["accuracy_std"], time.perf_counter() - t))
                print(results[-1], file=sys.stderr, flush=True)
        walls = []
        for _ in range(3):
            t = time.perf_counter()
            sh("docvec", work / "w300/vectors.npz", work / "tokens.txt", "--ids", work / "ids.txt", "-o",
               work / "t.npz", "-q")
            walls.append(time.perf_counter() - t)
    print(f"polarity v2.0, {len(rows):,} reviews; 10-fold stratified CV (anchor and LSA folds: random_state "
          f"{args.seed}; docvec rows: embedcli classify's folds); "
          "logistic regression C=1; "
          f"{time.strftime('%Y-%m-%d')}\n")
    print("| document vectors | accuracy ± sd over folds | seconds (all folds) |\n| --- | --- | --- |")
    for name, m, sd, secs in results:
        print(f"| {name} | {m:.4f} ± {sd:.4f} | {secs:.1f} |")
    if not args.quick and not args.skip_docvec:
        print(f"\n`embedcli docvec` (SIF, 300 dims) on the 2,000 reviews, whole process: median "
              f"{statistics.median(walls):.2f} s of {[round(w, 2) for w in walls]}")


if __name__ == "__main__":
    main()
