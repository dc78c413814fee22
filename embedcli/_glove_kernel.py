"""The GloVe epoch compiled by numba (imported only by :mod:`embedcli.glove` when it trains).

One pass of AdaGrad over the shuffled entries, in blocks, split into ``n_chunks`` runs of blocks
on numba's threads without locks (Hogwild; as ``glove_thread`` in the reference ``glove.c``).
"""

from math import sqrt

import numba
import numpy as np


# fast math without 'nnan'/'ninf', so that the finiteness check is not compiled away
_FASTMATH = {"nsz", "arcp", "contract", "afn", "reassoc"}


@numba.njit(fastmath=_FASTMATH, nogil=True, cache=True)
def _pass(lo, hi, rows, cols, logx, fx, W, C, bw, bc, gW, gC, gbw, gbc, eta, clip):  # pragma: no cover
    d = W.shape[1]
    cost = 0.0
    for k in range(lo, hi):
        i = rows[k]
        j = cols[k]
        diff = bw[i] + bc[j] - logx[k]
        for b in range(d):
            diff += W[i, b] * C[j, b]
        if not np.isfinite(diff):
            continue
        g = fx[k] * diff
        cost += 0.5 * g * diff
        for b in range(d):
            t1 = min(max(g * C[j, b], -clip), clip) * eta
            t2 = min(max(g * W[i, b], -clip), clip) * eta
            W[i, b] -= t1 / sqrt(gW[i, b])
            C[j, b] -= t2 / sqrt(gC[j, b])
            gW[i, b] += t1 * t1
            gC[j, b] += t2 * t2
        bw[i] -= g / sqrt(gbw[i])
        bc[j] -= g / sqrt(gbc[j])
        gbw[i] += g * g
        gbc[j] += g * g
    return cost


@numba.njit(parallel=True, nogil=True, cache=True)
def glove_epoch(order, block, rows, cols, logx, fx, W, C, bw, bc, gW, gC, gbw, gbc, eta, clip,
                n_chunks):  # pragma: no cover
    """Update ``W, C (n, d) float32``, biases ``bw, bc (n,)`` and their AdaGrad accumulators in
    place over the entries ``rows, cols (nnz,) int32`` with ``logx, fx (nnz,) float32``, visited
    block by block: ``order (k,) int64`` lists blocks of ``block`` entries (block ``b`` is entries
    ``b * block`` up to ``(b + 1) * block``), split into ``n_chunks`` contiguous runs of blocks,
    one per thread.  Returns the summed cost ``sum 0.5 f(X) diff^2`` (float64).  Non-finite
    differences are skipped, as the reference does."""
    n = rows.shape[0]
    k = order.shape[0]
    costs = np.zeros(n_chunks)
    for c in numba.prange(n_chunks):
        s = 0.0
        for q in range(k * c // n_chunks, k * (c + 1) // n_chunks):
            lo = order[q] * block
            s += _pass(lo, min(n, lo + block), rows, cols, logx, fx, W, C, bw, bc, gW, gC, gbw, gbc, eta, clip)
        costs[c] = s
    return costs.sum()


@numba.njit(nogil=True, cache=True)
def shuffle_entries(rows, cols, logx, fx, seed):  # pragma: no cover
    """Shuffle the four ``(nnz,)`` arrays in place by the same permutation (Fisher-Yates with
    numba's seeded Mersenne Twister): no permutation array, so no extra 8 bytes per entry."""
    np.random.seed(seed)
    for k in range(rows.shape[0] - 1, 0, -1):
        r = np.random.randint(0, k + 1)
        rows[k], rows[r] = rows[r], rows[k]
        cols[k], cols[r] = cols[r], cols[k]
        logx[k], logx[r] = logx[r], logx[k]
        fx[k], fx[r] = fx[r], fx[k]
