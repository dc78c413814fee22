#!/usr/bin/env python
"""The anchor for `embedcli pipeline`: the same work as a plain numpy/scipy/scikit-learn script.

This is the script a competent user writes in an afternoon instead of installing
embedcli, and the speed benchmark (`benchmarks/compare.py`) runs it beside
`embedcli pipeline` in the same run.  It is not a straw man: the whole corpus is
held as one int32 id array (no Python list per token after tokenizing), window
pairs are cut with numpy slices, counts are summed by scipy's COO -> CSR
conversion, PPMI is computed on the non-zeros only, and the SVD is
scikit-learn's `randomized_svd` (the library most users reach for).

Same work as `embedcli pipeline CORPUS` with its defaults: lowercase, tokens are
maximal runs of Unicode letters and digits, one document per line, vocabulary of
words seen >= 5 times, symmetric window 5 (weights 1/d, not across lines),
PPMI (no context-distribution smoothing: cds 1), 100 dimensions with 15 power
iterations, word vectors U Sigma^0.25 (the pipeline's defaults; see the README,
"Why these defaults").  Writes the vectors as an .npz (words, vectors).

Usage: python benchmarks/plain_pipeline.py CORPUS.txt.gz OUT.npz
"""

import gzip
import re
import sys
from collections import Counter

import numpy as np
import scipy.sparse as sp
from sklearn.utils.extmath import randomized_svd

TOKEN = re.compile(r"[^\W_]+")
WINDOW, MIN_COUNT, DIM, CDS, N_ITER, EIG = 5, 5, 100, 1.0, 15, 0.25


def main(corpus: str, out: str) -> None:
    # 1. tokenize and count words (one pass, documents kept as token lists)
    docs, counts = [], Counter()
    with gzip.open(corpus, "rt", encoding="utf-8") as f:
        for line in f:
            toks = TOKEN.findall(line.lower())
            docs.append(toks)
            counts.update(toks)
    # 2. vocabulary: frequent words, most frequent first
    words = [w for w, c in counts.most_common() if c >= MIN_COUNT]
    index = {w: i for i, w in enumerate(words)}
    V = len(words)
    # 3. the corpus as one id array (-1: rare word, keeps its position) and a document id per token
    lengths = np.fromiter((len(d) for d in docs), dtype=np.int64, count=len(docs))
    ids = np.fromiter((index.get(t, -1) for d in docs for t in d), dtype=np.int32, count=int(lengths.sum()))
    doc = np.repeat(np.arange(len(docs), dtype=np.int32), lengths)
    del docs
    # 4. window pairs: for each distance d, token i and token i + d of the same document
    rows, cols, vals = [], [], []
    for d in range(1, WINDOW + 1):
        a, b = ids[:-d], ids[d:]
        ok = (a >= 0) & (b >= 0) & (doc[:-d] == doc[d:])
        rows.append(a[ok])
        cols.append(b[ok])
        vals.append(np.full(len(rows[-1]), 1.0 / d, np.float32))  # harmonic (GloVe) weight 1/d
    r, c, v = np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)
    del rows, cols, vals
    M = sp.coo_matrix((v, (r, c)), shape=(V, V)).tocsr()
    del r, c, v
    M = (M + M.T).tocsr()  # symmetric window
    # 5. PPMI, with context-distribution smoothing when CDS < 1 (Levy, Goldberg & Dagan 2015)
    M = M.tocoo()
    row_sums = np.asarray(M.sum(axis=1)).ravel()
    col_sums = np.asarray(M.sum(axis=0)).ravel() ** CDS
    pmi = np.log(M.data * col_sums.sum() / (row_sums[M.row] * col_sums[M.col]))
    keep = pmi > 0
    X = sp.csr_matrix((pmi[keep].astype(np.float32), (M.row[keep], M.col[keep])), shape=(V, V))
    del M
    # 6. truncated SVD, vectors U Sigma^0.25
    U, S, _ = randomized_svd(X, DIM, n_iter=N_ITER, random_state=1)
    np.savez(out, words=np.array(words), vectors=(U * S**EIG).astype(np.float32))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
