#!/usr/bin/env python
"""Side-by-side: embedcli's count-based pipeline, embedcli word2vec, gensim called directly,
and scikit-learn's TruncatedSVD on the same PPMI matrix -- one markdown table.

Every method runs in a fresh process, one after the other, on the shared benchmark
corpus; wall time and peak RSS are those of that process.  Scores (WS353,
SimLex-999: Spearman's rho; Google analogies: 3CosAdd accuracy over questions
within the 30,000 most frequent words) are computed afterwards with
`embedcli.evaluate` on the saved vectors.

Rows:
  embedcli pipeline (PPMI-SVD)   `embedcli pipeline CORPUS`: .gz -> tokens -> vectors
  embedcli word2vec (SGNS)       `embedcli pipeline CORPUS --method word2vec --sg`: .gz -> vectors
  gensim Word2Vec (SGNS)         gensim called directly on embedcli's tokens file (tokenizing not timed)
  sklearn TruncatedSVD           PPMI (cds 0.75) of embedcli's co-occurrence matrix, then
                                 TruncatedSVD(100, randomized, n_iter 5), vectors U Sigma^0.5
                                 (counting not timed)

Usage: python benchmarks/compare.py [--corpus PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

HELPER = (
    "import resource, subprocess, sys, time, json;"
    "t = time.perf_counter();"
    "p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True);"
    "el = time.perf_counter() - t;"
    "print(json.dumps([el, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, p.returncode, p.stderr[-2000:]]))"
)

GENSIM = """
import sys, numpy as np
from gensim.models import Word2Vec
m = Word2Vec(corpus_file=sys.argv[1], sg=1, vector_size=100, window=5, negative=5, min_count=5, epochs=5,
             workers={workers}, seed=1)
m.wv.save_word2vec_format(sys.argv[2], binary=True)
"""

SKLEARN = """
import sys, numpy as np
from sklearn.decomposition import TruncatedSVD
from embedcli.matrix import CountMatrix
from embedcli.vectors import Vectors
from embedcli.weighting import ppmi
cm = CountMatrix.load(sys.argv[1])
X = ppmi(cm.matrix, cds=0.75)
svd = TruncatedSVD(n_components=100, algorithm="randomized", n_iter=5, random_state=1)
US = svd.fit_transform(X)
W = US / np.sqrt(svd.singular_values_)
Vectors(cm.row_words, W.astype(np.float32)).save(sys.argv[2])
"""


def measured(cmd: list[str]) -> tuple[float, float]:
    out = subprocess.run([sys.executable, "-c", HELPER, *cmd], capture_output=True, text=True, check=True)
    el, rss, rc, err = json.loads(out.stdout)
    if rc:
        sys.exit(f"failed ({rc}): {' '.join(cmd)}\n{err}")
    return el, rss


def scores(path: str) -> tuple[float, float, float]:
    from embedcli.evaluate import bundled_path, evaluate_analogy, evaluate_similarity
    from embedcli.vectors import Vectors

    v = Vectors.load(path)
    return (evaluate_similarity(v, bundled_path("wordsim353.tsv")).spearman,
            evaluate_similarity(v, bundled_path("simlex999.txt")).spearman,
            evaluate_analogy(v, bundled_path("questions-words.txt"), method="3cosadd", restrict=30000).accuracy)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpora" / "english-mix.txt.gz"))
    args = ap.parse_args()
    if not os.path.exists(args.corpus):
        sys.exit(f"{args.corpus}: not found")
    workers = os.cpu_count()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        svd_dir, w2v_dir = os.path.join(tmp, "svd"), os.path.join(tmp, "w2v")
        el, rss = measured(["embedcli", "pipeline", args.corpus, "-o", svd_dir, "-q"])
        rows.append(("embedcli pipeline (PPMI-SVD)", el, rss, os.path.join(svd_dir, "vectors.npz")))
        el, rss = measured(["embedcli", "pipeline", args.corpus, "-o", w2v_dir, "--method", "word2vec", "--sg", "-q"])
        rows.append(("embedcli word2vec (SGNS, via pipeline)", el, rss, os.path.join(w2v_dir, "vectors.npz")))
        out = os.path.join(tmp, "gensim.bin")
        el, rss = measured([sys.executable, "-c", GENSIM.format(workers=workers), os.path.join(svd_dir, "tokens.txt"), out])
        rows.append(("gensim Word2Vec (SGNS), tokenizing not timed", el, rss, out))
        out = os.path.join(tmp, "sklearn.npz")
        el, rss = measured([sys.executable, "-c", SKLEARN, os.path.join(svd_dir, "cooccur.npz"), out])
        rows.append(("sklearn TruncatedSVD on embedcli's PPMI, counting not timed", el, rss, out))
        print(f"corpus {os.path.basename(args.corpus)}; {workers} cores; {time.strftime('%Y-%m-%d')}; "
              "100 dims, window 5, min count 5; word2vec: skip-gram, negative 5, 5 epochs")
        print()
        print("| method | wall time | peak RSS | WS353 | SimLex-999 | Google analogy |")
        print("| --- | ---: | ---: | ---: | ---: | ---: |")
        for name, el, rss, path in rows:
            ws, sl, an = scores(path)
            print(f"| {name} | {el:.1f} s | {rss:.0f} MB | {ws:.3f} | {sl:.3f} | {an:.3f} |", flush=True)


if __name__ == "__main__":
    main()
