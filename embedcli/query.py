"""The search engine under :class:`embedcli.vectors.Vectors`: cosine scores and top-k by rows.

Everything works on batches with matrix products against the (possibly
memory-mapped) vectors and precomputed norms: scores are
``(Q_unit @ M.T) / norms``, top-k by ``argpartition`` then a sort of the k.
Word lookup lives in :class:`~embedcli.vectors.Vectors`; this module knows rows only.
"""

from __future__ import annotations

import numpy as np

from embedcli.errors import ParameterError

BLOCK = 256  # queries per matrix product
COSMUL_EPSILON = 0.001  # Levy & Goldberg (2014); gensim uses 1e-6


class Searcher:
    """Cosine search over the rows of ``vectors`` ``(n, dim)``, restricted to the first
    ``restrict`` rows (None: all).  Norms are computed from the searched rows (float64 sums, one
    pass over them): norms stored in a file are not trusted for answers.

    Files written by embedcli list words most frequent first, so ``restrict``
    keeps the most frequent words (gensim's ``restrict_vocab``).

    Raises:
        ParameterError: ``restrict`` < 1.
    """

    def __init__(self, vectors: np.ndarray, restrict: int | None = None):
        if restrict is not None and restrict < 1:
            raise ParameterError("restrict", restrict, "must be at least 1")
        from embedcli.vectorfile import row_norms

        self.all = vectors
        self.n = len(vectors) if restrict is None else min(restrict, len(vectors))
        self.M = vectors[: self.n]
        norms = row_norms(self.M)  # one pass over what the search reads anyway
        self.inv = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
        self.zero = norms == 0  # rows with no direction (an empty document): never an answer

    def unit(self, rows: np.ndarray) -> np.ndarray:
        """``(len(rows), dim) float32`` unit vectors of the given rows (any row, not only restricted)."""
        m = np.asarray(self.all[rows], dtype=np.float32)
        n = np.linalg.norm(np.asarray(m, dtype=np.float64), axis=1).astype(np.float32)
        return m * np.divide(1.0, n, out=np.zeros_like(n), where=n > 0)[:, None]

    def cosines(self, Q: np.ndarray, start: int = 0, end: int | None = None) -> np.ndarray:
        """``(len(Q), end - start) float32`` cosine of each unit query with searched rows ``start:end``."""
        end = self.n if end is None else end
        M = self.M[start:end]
        S = Q @ M.T if Q.dtype == M.dtype else Q.astype(M.dtype) @ M.T
        S = np.asarray(S, dtype=np.float32)
        S *= self.inv[start:end]
        return S

    def tile(self, b: int) -> int:
        """Rows scored at once for ``b`` queries: the score block stays under 64 MB whatever the vocabulary."""
        return max(4096, (16 << 20) // max(b, 1))

    def search(self, scores, b: int, k: int, exclude: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
        """Top ``k`` rows for ``b`` queries, scored tile by tile: ``scores(start, end)`` returns the
        ``(b, end - start) float32`` scores of rows ``start:end``.  Memory is one tile, not ``b x n``.

        Returns ``(indices (b, k) int64, scores (b, k) float32)`` as :meth:`top_k`.

        Raises:
            DataError: a score is NaN (the vectors hold NaN or infinite values).
        """
        T = self.tile(b)
        best_i = best_v = None
        for s in range(0, self.n, T):
            e = min(self.n, s + T)
            S = scores(s, e)
            blank = self.zero[s:e]
            if blank.any():
                finite = np.isfinite(S[:, ~blank]).all()
                S[:, blank] = -np.inf
            else:
                finite = np.isfinite(S).all()
            if not finite:
                from embedcli.errors import DataError

                raise DataError("the vectors hold NaN or infinite values: no meaningful similarity")
            ex = [[j - s for j in x if s <= j < e] for x in exclude]
            idx, vals = self.top_k(S, k, ex, offset=s)
            if best_i is None:
                best_i, best_v = idx, vals
                continue
            ci, cv = np.concatenate([best_i, idx], axis=1), np.concatenate([best_v, vals], axis=1)
            order = np.argsort(-cv, axis=1, kind="stable")[:, :k]
            best_i, best_v = np.take_along_axis(ci, order, axis=1), np.take_along_axis(cv, order, axis=1)
        if best_i is None:
            return np.full((b, 0), -1, np.int64), np.zeros((b, 0), np.float32)
        best_i[~np.isfinite(best_v)] = -1
        return best_i, best_v

    def top_k(self, S: np.ndarray, k: int, exclude: list[list[int]], offset: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Top ``k`` columns of each row of ``S`` (modified in place), excluding given columns;
        returned indices are column + ``offset``.

        Returns ``(indices (b, k) int64, scores (b, k) float32)``, best first; rows
        with fewer than ``k`` candidates are padded with index -1.  Small ``k``
        (<= 16) uses ``k`` vectorized argmax passes, larger ``k``
        ``argpartition`` and a sort of the ``k`` selected; never a full sort.
        """
        b = S.shape[0]
        for i, ex in enumerate(exclude):
            ex = [j for j in ex if 0 <= j < S.shape[1]]
            if ex:
                S[i, ex] = -np.inf
        k_eff = min(k, S.shape[1])
        if k_eff <= 16:
            # a few vectorized argmax passes beat argpartition's selection for small k
            rows = np.arange(b)
            idx = np.empty((b, k_eff), np.int64)
            vals = np.empty((b, k_eff), S.dtype)
            for j in range(k_eff):
                best = S.argmax(axis=1)
                idx[:, j] = best
                vals[:, j] = S[rows, best]
                S[rows, best] = -np.inf
        else:
            part = np.argpartition(-S, k_eff - 1, axis=1)[:, :k_eff]
            vals = np.take_along_axis(S, part, axis=1)
            order = np.argsort(-vals, axis=1, kind="stable")
            idx = np.take_along_axis(part, order, axis=1).astype(np.int64)
            vals = np.take_along_axis(vals, order, axis=1)
        idx[~np.isfinite(vals)] = -1
        if offset:
            idx[idx >= 0] += offset
        return idx, vals

    def neighbors(self, rows: list[int], k: int = 10, exclude_self: bool = True):
        """Nearest neighbours of the given word rows, in blocks of :data:`BLOCK`.

        Yields ``(indices (k,), scores (k,))`` per query, in order.
        """
        for s in range(0, len(rows), BLOCK):
            r = np.asarray(rows[s : s + BLOCK], dtype=np.int64)
            Q = self.unit(r)
            idx, vals = self.search(lambda a, e: self.cosines(Q, a, e), len(r), k,
                                    [[int(x)] if exclude_self else [] for x in r])
            yield from zip(idx, vals)

    def analogies(self, triples: list[tuple[int, int, int]], k: int = 1, method: str = "3cosadd"):
        """Answers ``d`` to ``a : b :: c : d`` for row triples ``(a, b, c)``, in blocks.

        3CosAdd: ``argmax_d cos(d, b) - cos(d, a) + cos(d, c)``; 3CosMul:
        ``argmax_d cos'(d, b) cos'(d, c) / (cos'(d, a) + 0.001)`` with
        ``cos' = (cos + 1) / 2`` (Levy & Goldberg 2014, "Linguistic
        regularities in sparse and explicit word representations"; as gensim's
        ``most_similar`` and ``most_similar_cosmul``).  ``a``, ``b``, ``c`` are
        never answers.  Yields ``(indices (k,), scores (k,))`` per triple.  The 3CosAdd score is
        gensim's: ``cos(d, unit(b - a + c))`` with unit vectors, which ranks the words as the sum of
        cosines above does (the same answers) but is not that sum; the 3CosMul score is the ratio.

        Raises:
            ParameterError: unknown method.
        """
        for s in range(0, len(triples), BLOCK):
            t = np.asarray(triples[s : s + BLOCK], dtype=np.int64).reshape(-1, 3)
            yield from self.analogies_from_units(
                self.unit(t[:, 0]), self.unit(t[:, 1]), self.unit(t[:, 2]), [list(map(int, r)) for r in t], k, method
            )

    def analogies_from_units(self, A: np.ndarray, B: np.ndarray, C: np.ndarray, exclude: list[list[int]],
                             k: int = 1, method: str = "3cosadd"):
        """As :meth:`analogies` for given ``(b, dim)`` unit vectors (e.g. fastText vectors of unseen words)."""
        from embedcli.specs import AnalogySpec

        AnalogySpec(method=method)  # validates
        if method == "3cosadd":
            q = B - A + C
            qn = np.linalg.norm(q, axis=1, keepdims=True)
            Q = np.divide(q, qn, out=np.zeros_like(q), where=qn > 0)

            def scores(s, e):
                return self.cosines(Q, s, e)
        else:
            def scores(s, e):
                Sa, Sb, Sc = ((self.cosines(X, s, e) + 1) / 2 for X in (A, B, C))
                return Sb * Sc / (Sa + COSMUL_EPSILON)
        idx, vals = self.search(scores, len(A), k, exclude)
        yield from zip(idx, vals)


def cosine_similarity(searcher: Searcher, pairs: list[tuple[int, int]]) -> np.ndarray:
    """``(len(pairs),) float64`` cosine similarity of row pairs (0 when a vector is zero)."""
    if not pairs:
        return np.zeros(0)
    p = np.asarray(pairs, dtype=np.int64)
    a, b = searcher.unit(p[:, 0]).astype(np.float64), searcher.unit(p[:, 1]).astype(np.float64)
    return np.einsum("ij,ij->i", a, b)
