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
    ``representations/explicit.py``.

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
        pmi = np.log(m.data.astype(np.float32))
    pmi += np.float32(-np.log(total))
    pmi -= np.repeat(log_pw, np.diff(m.indptr))
    pmi -= log_pc[m.indices]
    np.maximum(pmi, 0, out=pmi)
    out = sp.csr_matrix((pmi, m.indices.copy(), m.indptr.copy()), shape=m.shape)
    out.eliminate_zeros()
    return out


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
