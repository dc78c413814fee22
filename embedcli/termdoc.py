"""Term-document matrices with count, tf-idf and log-entropy weighting (for LSA)."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from embedcli.arguments import entry_point
from embedcli.cooccur import iter_id_blocks
from embedcli.errors import DataError
from embedcli.fileio import Progress
from embedcli.matrix import CountMatrix
from embedcli.provenance import file_provenance, stage_record
from embedcli.specs import TermdocSpec, cores
from embedcli.vocab import Vocabulary


def count_termdoc(path: str, vocab: Vocabulary, progress: Progress | None = None, workers: int = 1,
                  client=None) -> sp.csr_matrix:
    """``(V, n_docs) float64`` CSR of term frequencies; document ``j`` is line ``j + 1`` (every line,
    blank ones included, so that columns line up with the lines and with ids).  ``client``: a
    ``dask.distributed`` client to count on (:func:`embedcli.distributed.termdoc_on`; the same matrix).

    Raises:
        DataError: no token of the vocabulary in the file.
    """
    if client is not None:
        from embedcli.distributed import termdoc_on

        m = termdoc_on(client, path, vocab, progress)
    else:
        m = termdoc_counts(path, vocab, progress, workers)
    if progress is not None:
        progress.close()
    if m.nnz == 0:
        raise DataError(f"{path}: no token of the vocabulary occurs in it")
    return m


def termdoc_counts(path: str, vocab: Vocabulary, progress: Progress | None = None, workers: int = 1,
                   segment: tuple[int, int] | None = None) -> sp.csr_matrix:
    """:func:`count_termdoc` of the whole file or of one byte range ``segment`` (its lines are its
    documents), possibly with no non-zero."""
    rows, cols, vals = [], [], []
    n_docs = 0
    lines: list[int] = []
    for ids, doc in iter_id_blocks(path, vocab.index, progress, workers, lines, segment):
        if len(doc):
            n_docs = max(n_docs, int(doc[-1]) + 1)
        ok = ids >= 0
        if not ok.any():
            continue
        d0 = int(doc[0])
        block = sp.coo_matrix((np.ones(int(ok.sum())), (ids[ok], doc[ok] - d0)), shape=(len(vocab), int(doc[-1]) - d0 + 1))
        block.sum_duplicates()
        rows.append(block.row)
        cols.append(block.col.astype(np.int64) + d0)
        vals.append(block.data)
    n_docs = max(n_docs, lines[0])  # lines without a token (trailing ones too) are documents
    if not rows:
        return sp.csr_matrix((len(vocab), n_docs))
    m = sp.coo_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(len(vocab), n_docs))
    m = m.tocsr()
    m.sum_duplicates()
    return m


def term_weights(tf: sp.csr_matrix, weighting: str) -> np.ndarray:
    """Global weight of each term (row) of a ``(terms, docs)`` frequency matrix, ``(terms,) float64``.

    ``count``: 1.  ``tfidf``: ``ln(N / df)`` (Salton & Buckley 1988; gensim's
    TfidfModel up to the log base), N documents, df documents containing the
    term.  ``log-entropy``: ``1 + sum_j p_ij ln p_ij / ln N`` with ``p_ij = tf_ij / gf_i``
    (Dumais 1991; gensim's LogEntropyModel divides by ``ln(N + 1)`` instead); weights below 1e-12
    are 0 (a term spread evenly over all documents has exactly 0, which rounding misses either way).

    Raises:
        ParameterError: unknown weighting.
    """
    TermdocSpec(weighting=weighting)  # validates
    m = sp.csr_matrix(tf, dtype=np.float64)
    n_docs = m.shape[1]
    if weighting == "count":
        return np.ones(m.shape[0])
    if weighting == "tfidf":
        df = np.diff(m.indptr).astype(np.float64)  # one entry per (term, doc) with tf > 0
        return np.log(n_docs / np.maximum(df, 1))
    rows = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))
    gf = np.asarray(m.sum(axis=1)).ravel()
    p = m.data / gf[rows]
    plogp = np.bincount(rows, weights=p * np.log(p), minlength=m.shape[0])
    if n_docs <= 1:
        return np.ones(m.shape[0])
    w = 1.0 + plogp / np.log(n_docs)
    # in [0, 1]; a term spread evenly over all documents is 0 up to a rounding of either sign, which
    # --normalize would blow up to full weight
    w[w < 1e-12] = 0.0
    return w


def local_weight(tf: np.ndarray, weighting: str) -> np.ndarray:
    """The local part of a weighting on term frequencies: ``ln(1 + tf)`` for log-entropy, else ``tf``."""
    return np.log1p(tf) if weighting == "log-entropy" else tf


def weight_termdoc(tf: sp.csr_matrix, weighting: str, weights: np.ndarray | None = None) -> sp.csr_matrix:
    """Weight a ``(terms, docs)`` frequency matrix: local weight times the term's global weight
    (:func:`term_weights`, or ``weights`` fitted elsewhere); returns float64 CSR of the same shape.

    Raises:
        ParameterError: unknown weighting.
    """
    g = term_weights(tf, weighting) if weights is None else np.asarray(weights, dtype=np.float64)
    m = sp.csr_matrix(tf, dtype=np.float64, copy=True)
    rows = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))
    m.data = local_weight(m.data, weighting) * g[rows]
    m.eliminate_zeros()
    return m


def normalize_columns(m: sp.csr_matrix) -> sp.csr_matrix:
    """Each column scaled to unit Euclidean length (all-zero columns stay zero); float64 CSR."""
    m = sp.csr_matrix(m, dtype=np.float64, copy=True)
    norms = np.sqrt(np.bincount(m.indices, weights=m.data**2, minlength=m.shape[1]))
    m.data /= np.where(norms > 0, norms, 1)[m.indices]
    return m


@entry_point(documents="path")
def termdoc_matrix(path: str, vocab: Vocabulary, spec: TermdocSpec | None = None,
                   progress: Progress | None = None, ids: list[str] | None = None, client=None) -> CountMatrix:
    """The term-document stage: a weighted ``(terms, documents)`` :class:`CountMatrix`
    with its provenance record and the terms' global weights (``term_weights``, for LSA fold-in).

    Terms kept: in ``vocab`` (already cut by min count), in at least
    ``spec.min_df`` documents and in at most ``spec.max_df`` (a fraction) of them.  With
    ``spec.binary`` each kept term frequency is 1 before weighting (presence).
    Documents are the file's lines, labelled by ``ids`` (one per line) or ``d<line number>``.
    ``client``: count on that Dask cluster (the same matrix).

    Raises:
        DataError: no term survives the filters.
        DataError: ``ids`` do not match the number of lines.
    """
    spec = spec or TermdocSpec()
    weighting, min_df, max_df = spec.weighting, spec.min_df, spec.max_df
    tf = count_termdoc(path, vocab, progress, spec.workers or cores(), client)
    if ids is not None:
        if len(ids) != tf.shape[1]:
            raise DataError(f"{len(ids):,} document ids for {tf.shape[1]:,} documents (lines) in {path}")
    df = np.diff(tf.indptr)
    keep = (df >= min_df) & (df <= np.floor(max_df * tf.shape[1] + 1e-9))  # 0.29 * 100 is 28.999...
    if not keep.any():
        raise DataError(f"{path}: no term is left after min_df={min_df} max_df={max_df}", params=("min_df", "max_df"))
    tf = tf[keep]
    doc_len = np.asarray(tf.sum(axis=0)).ravel().astype(np.int64)  # tokens, also with binary
    if spec.binary:
        tf.data = np.ones_like(tf.data)
    words = [w for w, k in zip(vocab.words, keep) if k]
    g = term_weights(tf, weighting)
    m = weight_termdoc(tf, weighting, g)
    if spec.normalize:
        m = normalize_columns(m)
    stats = {"terms": len(words), "documents": int(tf.shape[1]), "nnz": int(m.nnz)}
    prov = stage_record("termdoc", spec, {"tokens": file_provenance(path), "vocabulary": vocab.provenance}, stats)
    docs = list(ids) if ids is not None else [f"d{j + 1}" for j in range(tf.shape[1])]
    return CountMatrix(m, words, docs, vocab.counts[keep], doc_len, "termdoc", prov, term_weights=g)
