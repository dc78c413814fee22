"""Reweighting count matrices before factorization: PMI family and log counts."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from embedcli.specs import WeightingSpec


def ppmi(counts: sp.spmatrix, cds: float = 1.0, neg: float = 1.0) -> sp.csr_matrix:
    """(Shifted) positive pointwise mutual information with context-distribution smoothing.

    ``PMI(w, c) = log( #(w,c) * sum_c' #(c')^cds / (#(w) * #(c)^cds) ) - log(neg)``
    where ``#(w)``, ``#(c)`` are the row and column sums of ``counts`` and
    ``#(w,c)/D`` with ``D = sum #(w,c)`` estimates P(w,c); entries <= 0 are
    dropped (PPMI).  ``cds=1`` is plain PMI; ``cds=0.75`` is the smoothing of
    Levy, Goldberg & Dagan (2015), sec. 3.2 (default 1, as ``WeightingSpec`` and
    ``svd --cds``); ``neg=k > 1`` gives the shifted PPMI that SGNS with k
    negative samples implicitly factorizes (Levy & Goldberg 2014, "Neural word
    embedding as implicit matrix factorization").  Reference implementation: hyperwords
    ``representations/explicit.py``.  Entries are reweighted in row spans of :data:`PPMI_CHUNK`
    (the same bits as the whole array at once): on english-mix's counts 0.10-0.12 s instead of
    0.15-0.23 s, where each whole-array temporary was 39 MB of fresh pages.

    Args:
        counts: ``(n_words, n_contexts)`` non-negative sparse counts.
        cds: exponent in (0, 1] applied to context counts.
        neg: shift, >= 1.

    Returns:
        ``(n_words, n_contexts) float32`` CSR with positive entries only.

    Raises:
        ParameterError: ``cds`` outside (0, 1] or ``neg`` < 1 (checked by
            :class:`~embedcli.specs.WeightingSpec`).
    """
    WeightingSpec(association="ppmi", negative=neg, cds=cds)  # validates
    m = sp.csr_matrix(counts)
    m.sum_duplicates()
    # marginals in float64; the per-entry work in float32 (PMI values need no more)
    row_sums = np.asarray(m.sum(axis=1), dtype=np.float64).ravel()
    col_sums = np.asarray(m.sum(axis=0), dtype=np.float64).ravel()
    total = row_sums.sum()
    col_smoothed = col_sums**cds
    with np.errstate(divide="ignore"):
        log_pc = (np.log(col_smoothed) - np.log(col_smoothed.sum())).astype(np.float32)
        log_pw = (np.log(row_sums) - np.log(total) + np.log(neg)).astype(np.float32)
    shift = np.float32(-np.log(total))
    pmi = np.empty(m.nnz, np.float32)
    lengths = np.diff(m.indptr)
    # in row spans of about PPMI_CHUNK entries: each step's temporaries (the repeated row terms, the
    # gathered column terms) then come from memory freed by the span before, not fresh pages
    cuts = np.unique(np.searchsorted(m.indptr, np.arange(0, m.nnz, PPMI_CHUNK), side="right") - 1)
    for r0, r1 in zip(cuts, np.append(cuts[1:], m.shape[0])):
        lo, hi = m.indptr[r0], m.indptr[r1]
        x = pmi[lo:hi]
        x[...] = m.data[lo:hi]  # float32, as a whole-array astype would round it
        with np.errstate(divide="ignore"):
            np.log(x, out=x)
        x += shift
        x -= np.repeat(log_pw[r0:r1], lengths[r0:r1])
        x -= log_pc[m.indices[lo:hi]]
        np.maximum(x, 0, out=x)
    out = sp.csr_matrix((pmi, m.indices.copy(), m.indptr.copy()), shape=m.shape)
    out.eliminate_zeros()
    return out


#: Entries of the count matrix that :func:`ppmi` reweights at a time (about 4 MB of float32
#: temporaries, below the 4 MiB above which the CLI has glibc map arrays afresh).
PPMI_CHUNK = 1 << 20


def log_counts(counts: sp.spmatrix) -> sp.csr_matrix:
    """``log(1 + x)`` of every entry, ``float32`` CSR (Lebret & Collobert 2014 style damping)."""
    m = sp.csr_matrix(counts, dtype=np.float64, copy=True)
    m.data = np.log1p(m.data)
    return m.astype(np.float32)


def reweight(counts: sp.spmatrix, spec: WeightingSpec | None = None) -> sp.csr_matrix:
    """Apply ``spec.association``: ``none``, ``ppmi`` (shift ``log(negative)``, negative
    default 1; also for None), ``sppmi`` (shifted PPMI, negative default 5) or ``log``.

    Returns ``float32`` CSR of the same shape.
    """
    spec = spec or WeightingSpec()
    if spec.association == "none":  # (None, the default, is PPMI here; factorize resolves it by matrix kind)
        return sp.csr_matrix(counts, dtype=np.float32)
    if spec.association == "log":
        return log_counts(counts)
    return ppmi(counts, spec.cds, spec.shift)
