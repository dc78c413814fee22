"""Aligning two embedding spaces: orthogonal Procrustes, self-learning, cross-space retrieval, BLI.

Both spaces are first normalized (Artetxe, Labaka & Agirre 2016, 2018): each vector to unit
length, then each space centred on its mean, then unit length again (``unit-center-unit``).  The
rotation ``R`` minimizes ``||S_d R - T_d||_F`` over orthogonal matrices for the rows of a seed
dictionary (Schönemann 1966; ``scipy.linalg.orthogonal_procrustes``: one SVD of ``S_d^T T_d``).
With ``refine`` rounds, the dictionary is re-induced from the mutual nearest neighbours (CSLS)
among the most frequent words of each side, joined to the seed pairs, and the rotation refitted
(Artetxe, Labaka & Agirre 2017; Conneau et al. 2018).

``method="multistep"`` is the supervised mapping of Artetxe, Labaka & Agirre 2018 (AAAI; VecMap's
``--supervised`` recipe): whiten both spaces on the dictionary rows (``W_x = (X_d^T X_d)^-1/2``),
map orthogonally (``U S V^T = svd(X_d W_x)^T (Z_d W_z)``), re-weight both by ``S^reweight`` and
de-whiten each in its own space (``U^T W_x^-1 U``, ``V^T W_z^-1 V``).  Both spaces then move into
a shared space: the target's map is stored with the aligned vectors and applied by the queries.

Retrieval from an aligned source word to target words is by cosine (nearest neighbour) or CSLS
(Conneau et al. 2018): ``CSLS(s, t) = 2 cos(s, t) - r_T(s) - r_S(t)``, ``r`` the mean cosine of
the ``k`` nearest words of the other space, which demotes hubs.
"""

from __future__ import annotations

import numpy as np

from embedcli.arguments import entry_point
from embedcli.errors import DataError, FormatError, ParameterError
from embedcli.specs import AlignSpec
from embedcli.vectors import Vectors, model_fingerprint

#: score blocks: rows x columns of one similarity block stay under this many float32 values
_BLOCK_VALUES = 16_000_000


def normalize_space(X: np.ndarray, how: str) -> np.ndarray:
    """A normalized float32 copy of ``X (n, dim)``: ``unit-center-unit``, ``unit`` or ``none``.
    Zero rows stay zero."""
    Y = np.array(X, dtype=np.float32)
    steps = {"unit-center-unit": ("unit", "center", "unit"), "unit": ("unit",), "none": ()}[how]
    for step in steps:
        if step == "unit":
            norms = np.linalg.norm(Y, axis=1, keepdims=True)
            Y /= np.where(norms > 0, norms, 1)
        else:
            Y -= Y.mean(axis=0, dtype=np.float64).astype(np.float32)
    return Y


def read_dictionary(path: str) -> list[tuple[str, str]]:
    """``source<TAB>target`` pairs (white space also separates; ``#`` comments and blank lines
    skipped; ``.gz`` ok), in file order; a source word may have several targets.

    Raises:
        InputError: missing file.  FormatError: a line without two fields, or not UTF-8 (file:line);
            every target a number and no source (a vocabulary file: word<TAB>count).
        DataError: no pair.
    """
    from embedcli.fileio import open_binary

    pairs = []
    with open_binary(path) as f:
        for lineno, raw in enumerate(f, 1):
            try:
                line = raw.decode("utf-8-sig" if lineno == 1 else "utf-8").strip()
            except UnicodeDecodeError:
                raise FormatError(f"{path}:{lineno}: not UTF-8 text") from None
            if not line or line.startswith("#"):
                continue
            parts = line.split()
            if len(parts) != 2:
                raise FormatError(f"{path}:{lineno}: expected 'source<TAB>target', got {line[:60]!r}")
            pairs.append((parts[0], parts[1]))
    if not pairs:
        raise DataError(f"{path}: no pairs")
    if all(t.isdigit() for _, t in pairs) and not all(s.isdigit() for s, _ in pairs):
        raise FormatError(f"{path}: every line is 'word<TAB>number': this looks like a vocabulary (word<TAB>count), "
                          "not a bilingual dictionary (source<TAB>target word)")
    return pairs


def pair_indices(pairs, source: Vectors, target: Vectors) -> tuple[np.ndarray, np.ndarray]:
    """Row indices ``(int64, int64)`` of the pairs whose two words both exist (case as given).

    Raises:
        TypeError: ``pairs`` is not a sequence of ``(source word, target word)`` pairs.
    """
    pairs = _checked_pairs(pairs)
    si, ti = source.index, target.index
    got = [(si[s], ti[t]) for s, t in pairs if s in si and t in ti]
    if not got:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    a = np.array(got, dtype=np.int64)
    return a[:, 0], a[:, 1]


def _checked_pairs(pairs) -> list:
    pairs = list(pairs)
    bad = next((p for p in pairs if isinstance(p, str) or not hasattr(p, "__len__") or len(p) != 2), None)
    if bad is not None:
        raise TypeError(f"pairs must be (source word, target word) pairs, e.g. [('chat', 'cat')]; got {bad!r}")
    return pairs


def procrustes(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """The orthogonal ``(dim, dim) float64`` ``R`` minimizing ``||A R - B||_F`` (rows are pairs)."""
    from scipy.linalg import orthogonal_procrustes

    R, _ = orthogonal_procrustes(np.asarray(A, np.float64), np.asarray(B, np.float64))
    return R


def _inv_sqrt(M: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(M^T M)^-1/2`` and its inverse, from the SVD of ``M (pairs, dim)``."""
    _, s, vt = np.linalg.svd(M, full_matrices=False)
    s = np.maximum(s, s.max() * 1e-6)
    return (vt.T / s) @ vt, (vt.T * s) @ vt


def multistep(A: np.ndarray, B: np.ndarray, reweight: float) -> tuple[np.ndarray, np.ndarray]:
    """Artetxe et al. 2018's supervised maps ``(M_source, M_target)``, each ``(dim, dim) float64``,
    from the dictionary rows ``A``, ``B`` (see the module doc)."""
    wa, wa_inv = _inv_sqrt(np.asarray(A, np.float64))
    wb, wb_inv = _inv_sqrt(np.asarray(B, np.float64))
    u, s, vt = np.linalg.svd((A @ wa).T @ (B @ wb))
    v = vt.T
    scale = s ** reweight
    return (wa @ u * scale) @ (u.T @ wa_inv @ u), (wb @ v * scale) @ (v.T @ wb_inv @ v)


def fingerprint(v: Vectors) -> str:
    """A short identity of a space: its shape and its first 1,000 keys (survives a change of file
    format; differs between spaces of different corpora)."""
    import hashlib

    h = hashlib.sha256(f"{len(v)} {v.dim}\n".encode() + "\n".join(v.words[:1000]).encode("utf-8"))
    return h.hexdigest()[:16]


def check_target(aligned: Vectors, target: Vectors, aligned_name: str = "the aligned space",
                 target_name: str = "the target") -> dict:
    """The alignment record of ``aligned``, after checking that ``target`` is the space it was
    aligned onto.

    Raises:
        DataError: ``aligned`` holds no alignment (not written by :func:`align`, or a text file
            without its ``.meta.json``), the dimensions differ, or ``target`` is another space.
    """
    alignment = aligned.meta.get("alignment")
    if not alignment:
        raise DataError(f"{aligned_name}: not an aligned space (write one with 'embedcli align'; a text vectors "
                        "file keeps the alignment in its .meta.json)")
    if aligned.dim != target.dim:
        raise DataError(f"{aligned_name} has {aligned.dim} dimensions and {target_name} {target.dim}: not the space "
                        "it was aligned onto")
    model = alignment.get("target_model")  # words and first rows: another model of the same vocabulary differs
    if model and model != model_fingerprint(target):
        raise DataError(f"{target_name} is not the space {aligned_name} was aligned onto (the same words, other "
                        "vectors: another model of the same corpus?)")
    want = alignment.get("target_fingerprint")
    if want and want != fingerprint(target):
        raise DataError(f"{target_name} is not the space {aligned_name} was aligned onto (other words or shape; "
                        f"it was aligned onto {alignment.get('target_words', '?'):,}-word vectors)")
    return alignment


def target_space(target: Vectors, alignment: dict | None) -> np.ndarray:
    """The target's rows as the aligned source is to be compared with them: normalized as recorded,
    mapped by the recorded target map (multistep), unit length; ``(n, dim) float32``."""
    alignment = alignment or {}
    T = normalize_space(target.vectors, alignment.get("normalize", "unit-center-unit"))
    if alignment.get("target_map") is not None:
        T = (T @ np.asarray(alignment["target_map"], dtype=np.float64)).astype(np.float32)
    return normalize_space(T, "unit")


def _blocks(n_rows: int, n_cols: int):
    step = max(1, _BLOCK_VALUES // max(n_cols, 1))
    for i in range(0, n_rows, step):
        yield i, min(n_rows, i + step)


def knn_mean(A: np.ndarray, B: np.ndarray, k: int) -> np.ndarray:
    """``(len(A),) float32``: the mean cosine of each row of ``A`` to its ``k`` nearest rows of ``B``
    (rows unit length), computed in blocks."""
    k = min(k, len(B))
    out = np.empty(len(A), dtype=np.float32)
    for i, j in _blocks(len(A), len(B)):
        sims = A[i:j] @ B.T
        out[i:j] = np.partition(sims, -k, axis=1)[:, -k:].mean(axis=1)
    return out


def retrieve(Q: np.ndarray, T: np.ndarray, topn: int, r_target: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
    """The ``topn`` best target rows for each query row: ``(indices (q, topn) int64, scores float32)``,
    best first.  Scores are cosines, or with ``r_target`` (see :func:`knn_mean`) CSLS without the
    query's own constant term (the ranking is the same)."""
    topn = min(topn, len(T))
    idx = np.empty((len(Q), topn), dtype=np.int64)
    val = np.empty((len(Q), topn), dtype=np.float32)
    for i, j in _blocks(len(Q), len(T)):
        sims = Q[i:j] @ T.T
        if r_target is not None:
            sims *= 2
            sims -= r_target[None, :]
        part = np.argpartition(sims, -topn, axis=1)[:, -topn:]
        order = np.argsort(-np.take_along_axis(sims, part, axis=1), axis=1, kind="stable")
        idx[i:j] = np.take_along_axis(part, order, axis=1)
        val[i:j] = np.take_along_axis(sims, idx[i:j], axis=1)
    return idx, val


def _mutual_pairs(S: np.ndarray, T: np.ndarray, csls: int) -> tuple[np.ndarray, np.ndarray]:
    """Mutual nearest neighbours between the rows of ``S`` and ``T`` (CSLS with ``csls`` > 0)."""
    if csls:
        r_s, r_t = knn_mean(S, T, csls), knn_mean(T, S, csls)
    else:
        r_s = r_t = None
    fwd, _ = retrieve(S, T, 1, r_t)
    bwd, _ = retrieve(T, S, 1, r_s)
    s = np.arange(len(S))
    keep = bwd[fwd[:, 0], 0] == s
    return s[keep], fwd[keep, 0]


@entry_point
def align(source: Vectors, target: Vectors, spec: AlignSpec | None = None,
          pairs: list[tuple[str, str]] | None = None, progress=None) -> tuple[Vectors, dict]:
    """Rotate ``source`` into ``target``'s coordinates (see the module doc).

    Args:
        pairs: the seed dictionary; None: every word the two spaces share (identical strings).

    Returns:
        ``(aligned, info)``: the normalized source vectors times ``R`` (``(n_source, dim) float32``,
        source words and counts), its meta ``alignment`` holding the normalization, the method,
        the source map ``R`` (a rotation for procrustes) and the target map (multistep; None for
        procrustes), both ``dim x dim`` as nested lists (JSON-ready; ``np.asarray`` them), the
        seed and final pair counts; ``info`` the same.

    Raises:
        DataError: different dimensions, NaN or infinite values, no seed pair in both
            vocabularies, or (multistep) no more seed pairs than dimensions.
    """
    spec = spec or AlignSpec()
    if source.dim != target.dim:
        raise DataError(f"the spaces have {source.dim} and {target.dim} dimensions; Procrustes needs the same")
    for name, X in (("source", source.vectors), ("target", target.vectors)):
        if not np.isfinite(X).all():
            raise DataError(f"the {name} vectors hold NaN or infinite values: no rotation can be fitted")
    S = normalize_space(source.vectors, spec.normalization)
    T = normalize_space(target.vectors, spec.normalization)
    if pairs is None:
        shared = [w for w in source.words if w in target.index]
        pairs = [(w, w) for w in shared]
    si, ti = pair_indices(pairs, source, target)
    if len(si) == 0:
        raise DataError("no seed pair has both words in the two spaces (check the dictionary's direction and case)")
    seed = (si, ti)
    if spec.method == "multistep" and len(si) <= source.dim:
        raise DataError(f"multistep needs more seed pairs than dimensions ({len(si)} <= {source.dim}): use procrustes")

    def fit(si, ti):
        if spec.method == "multistep":
            return multistep(S[si], T[ti], spec.reweight)
        return procrustes(S[si], T[ti]), None

    def unit(X):
        return normalize_space(X.astype(np.float32), "unit")

    R, Rt = fit(si, ti)
    rounds = [int(len(si))]
    ns, nt = min(spec.refine_vocab, len(S)), min(spec.refine_vocab, len(T))
    for r in range(spec.refine):
        if progress is not None:
            progress.update(r, spec.refine, extra=f"refinement {r + 1}/{spec.refine}, {len(si):,} pairs")
        a, b = _mutual_pairs(unit(S[:ns] @ R), unit(T[:nt] if Rt is None else T[:nt] @ Rt), spec.csls)
        both = np.unique(np.concatenate([np.stack(seed, 1), np.stack([a, b], 1)]), axis=0)
        si, ti = both[:, 0], both[:, 1]
        R, Rt = fit(si, ti)
        rounds.append(int(len(si)))
    if progress is not None:
        progress.close()
    X = (S @ R).astype(np.float32)
    info = {"normalize": spec.normalization, "method": spec.method, "seed_pairs": int(len(seed[0])),
            "pairs": int(len(si)), "pairs_per_round": rounds, "rotation": np.round(R, 8).tolist(),
            "target_map": None if Rt is None else np.round(Rt, 8).tolist(),
            "target_words": len(target), "target_fingerprint": fingerprint(target),
            "target_model": model_fingerprint(target)}
    meta = {"kind": source.meta.get("kind", "words"), "alignment": info}
    return Vectors(list(source.words), X, source.counts, meta), info


@entry_point
def bli_scores(aligned: Vectors, target: Vectors, pairs: list[tuple[str, str]], csls: int = 10,
               restrict: int = 0, normalize: str | None = None, names: tuple[str, str] | None = None) -> dict:
    """Bilingual lexicon induction: precision at 1, 5 and 10, nearest neighbour and CSLS.

    Precision is over the covered test source words (in ``aligned``, with at least one gold
    target among the candidates); each counts once and is a hit at ``k`` when any of its gold
    targets is among its ``k`` best target words.  ``coverage`` is covered / all test source
    words.  The target is normalized as the alignment recorded and mapped by its recorded
    target map (multistep); ``normalize`` overrides.  Candidates: the first ``restrict`` target
    words (0: all).  ``names``: the two spaces' names in messages (their files).

    Returns:
        ``{"pairs", "sources", "covered", "coverage", "nn": {"p@1", "p@5", "p@10"}, "csls": {...}}``.

    Raises:
        DataError: see :func:`check_target`; no covered test pair.
    """
    alignment = dict(check_target(aligned, target, *(names or ())))
    if normalize:
        alignment["normalize"] = normalize
    T = target_space(target, alignment)
    if restrict:
        T = T[:restrict]
    A = normalize_space(aligned.vectors, "unit")
    gold: dict[str, set[str]] = {}
    pairs = _checked_pairs(pairs)
    for s, t in pairs:
        gold.setdefault(s, set()).add(t)
    sources = [s for s in gold if s in aligned.index]
    covered = [s for s in sources if any(t in target.index and target.index[t] < len(T) for t in gold[s])]
    out = {"pairs": len(pairs), "sources": len(gold), "covered": len(covered),
           "coverage": len(covered) / len(gold) if gold else 0.0, "restrict": int(restrict or 0)}
    if not covered:
        among = f" among its {len(T):,} most frequent words (restrict)" if restrict else ""
        raise DataError(f"no test pair has its source word in the aligned space and a target word in the "
                        f"target{among}", params=("restrict",) if restrict else ())
    sources = covered
    Q = A[[aligned.index[s] for s in sources]]
    r_t = knn_mean(T, A, csls) if csls else None
    for name, r in (("nn", None), ("csls", r_t)):
        if name == "csls" and not csls:
            continue
        idx, _ = retrieve(Q, T, 10, r)
        words = np.array(target.words[: len(T)], dtype=object)[idx]
        hits = np.array([[w in gold[s] for w in row] for s, row in zip(sources, words)])
        out[name] = {f"p@{k}": float(hits[:, :k].any(axis=1).mean()) for k in (1, 5, 10)}
    return out


@entry_point
def drift(a: Vectors, b: Vectors, spec=None) -> dict:
    """Rank the words of two spaces of one language by how far they moved from ``a`` to ``b``.

    Words: those with count >= ``spec.min_count`` in both (counts as the files record them).
    ``cosine``: ``1 - cos`` between a word's vector in ``a`` and in ``b`` rotated onto ``a``
    (Procrustes over all shared words, both normalized unit-centre-unit; Hamilton, Leskovec &
    Jurafsky 2016).  ``local`` (Hamilton, Leskovec & Jurafsky 2016b, "Cultural shift or linguistic
    drift?"): for the union ``N`` of the word's ``k`` nearest words in each space (among all the
    words both spaces have, whatever their count), ``1 - cos(s_a, s_b)`` with ``s_x`` the word's
    cosines to ``N`` in space ``x``: no alignment needed.

    ``spec.dim``: only the first ``dim`` columns (vectors from ``svd``: the largest singular
    directions).  Frequency control (``spec.frequency_bins`` > 0, the default): words are ranked by the
    measure's robust z-score among words of similar frequency (:func:`binned_z` over
    :func:`frequency_bins` of ``min(count_a, count_b)``), since a rarer word moves more by sampling
    noise alone.

    Returns:
        ``{"words": [...], "cosine", "local", "cosine_z", "local_z": (n,) float64, "count_a",
        "count_b"}``, rows sorted by ``spec.measure`` (its z-score when frequency-controlled),
        largest change first.

    Raises:
        DataError: fewer than ``k + 2`` words pass the count filter, different dimensions, or a space
            without word counts (a text format) while ``min_count`` > 0.
        ParameterError: ``dim`` larger than the spaces', or spaces without recorded singular values.
    """
    from embedcli.specs import AlignSpec, DriftSpec

    spec = spec or DriftSpec()
    if spec.dim is not None:
        if spec.dim > min(a.dim, b.dim):
            raise ParameterError("dim", spec.dim, f"the spaces have {a.dim} and {b.dim} dimensions")
        for name, v in (("A", a), ("B", b)):
            if not v.meta.get("singular_values"):
                raise ParameterError("dim", spec.dim, f"space {name} has no singular values recorded (not from "
                                     "svd/netmf): its dimensions are not ordered")
        a, b = (Vectors(v.words, np.ascontiguousarray(np.asarray(v.vectors)[:, :spec.dim]), v.counts)
                for v in (a, b))
    for name, v in (("A", a), ("B", b)):
        if v.counts is None and spec.min_count > 0:
            raise DataError(f"space {name} records no word counts (text vector formats keep none): use the .npz "
                            "vectors, or min_count=0", params=("min_count",))
    ca = dict(zip(a.words, np.asarray(a.counts).tolist())) if a.counts is not None else {}
    cb = dict(zip(b.words, np.asarray(b.counts).tolist())) if b.counts is not None else {}
    words = [w for w in a.words if w in b.index and ca.get(w, 0) >= spec.min_count and cb.get(w, 0) >= spec.min_count]
    shared = sum(1 for w in a.words if w in b.index)
    if shared < spec.k + 2:
        raise DataError(f"the spaces share {shared} word(s); drift compares a word's neighbours in both, so it needs "
                        f"more than k + 1 = {spec.k + 1} shared words (are these two spaces of one language and "
                        "tokenizer?)", params=("k",))
    if len(words) < spec.k + 2:
        raise DataError(f"{len(words)} words have count >= {spec.min_count} in both spaces; need more than "
                        f"k + 1 = {spec.k + 1} (lower min_count={spec.min_count} or k={spec.k})", params=("min_count", "k"))
    if a.dim != b.dim:
        raise DataError(f"the spaces have {a.dim} and {b.dim} dimensions; the cosine measure needs the same")
    ia = np.array([a.index[w] for w in words])
    ib = np.array([b.index[w] for w in words])
    sub_a = Vectors(words, np.asarray(a.vectors)[ia], np.array([ca[w] for w in words]) if ca else None)
    sub_b = Vectors(words, np.asarray(b.vectors)[ib], np.array([cb[w] for w in words]) if cb else None)
    aligned, _ = align(sub_b, sub_a, AlignSpec(), [(w, w) for w in words])
    A = normalize_space(sub_a.vectors, "unit-center-unit")
    B = normalize_space(aligned.vectors, "unit")
    cosine = 1.0 - np.einsum("ij,ij->i", A, B).astype(np.float64)
    # neighbours are sought among every word of both spaces, whatever its count
    shared = [w for w in a.words if w in b.index]
    pos = {w: i for i, w in enumerate(shared)}
    UA = normalize_space(np.asarray(a.vectors)[[a.index[w] for w in shared]], "unit")
    UB = normalize_space(np.asarray(b.vectors)[[b.index[w] for w in shared]], "unit")
    own = np.array([pos[w] for w in words])
    QA, QB = UA[own], UB[own]
    local = np.empty(len(words))
    k = spec.k
    for i, j in _blocks(len(words), len(shared)):
        sa, sb = QA[i:j] @ UA.T, QB[i:j] @ UB.T
        rows = np.arange(j - i)
        sa[rows, own[i:j]] = -np.inf  # a word is not its own neighbour
        sb[rows, own[i:j]] = -np.inf
        na = np.argpartition(sa, -k, axis=1)[:, -k:]
        nb = np.argpartition(sb, -k, axis=1)[:, -k:]
        # the union of the two k-sets: both lists, with B's entries already in A's list zeroed
        union = np.concatenate([na, nb], axis=1)
        dup = np.concatenate([np.zeros_like(na, dtype=bool), (nb[:, :, None] == na[:, None, :]).any(axis=2)], axis=1)
        x = np.where(dup, 0, np.take_along_axis(sa, union, axis=1)).astype(np.float64)
        y = np.where(dup, 0, np.take_along_axis(sb, union, axis=1)).astype(np.float64)
        denom = np.maximum(np.linalg.norm(x, axis=1) * np.linalg.norm(y, axis=1), 1e-12)
        local[i:j] = 1.0 - np.einsum("ij,ij->i", x, y) / denom
    if ca or cb:  # the smaller count of the spaces that record counts
        freq = np.array([min(c[w] for c in (ca, cb) if c) for w in words], dtype=np.float64)
    else:  # none (min_count 0, text formats): A's row order, most frequent first in embedcli's files
        freq = 1.0 / (1.0 + np.array([a.index[w] for w in words], dtype=np.float64))
    bins = frequency_bins(freq, spec.frequency_bins)
    local_z, cosine_z = binned_z(local, bins), binned_z(cosine, bins)
    key = {"local": local_z, "cosine": cosine_z} if spec.frequency_bins else {"local": local, "cosine": cosine}
    order = np.argsort(-key[spec.measure], kind="stable")
    return {"words": [words[i] for i in order], "cosine": cosine[order], "local": local[order],
            "cosine_z": cosine_z[order], "local_z": local_z[order],
            "count_a": [ca.get(words[i]) for i in order], "count_b": [cb.get(words[i]) for i in order]}


def frequency_bins(freq: np.ndarray, n_bins: int, min_size: int = 25) -> np.ndarray:
    """Quantile bins of ``log(freq)``: ``(n,)`` int64 bin ids, ``n_bins`` at most (fewer so that a bin
    holds ``min_size`` words or more on average; 0 or 1 bin: one bin for all).  Ties share a bin."""
    n = len(freq)
    k = min(n_bins, n // min_size)
    if k <= 1:
        return np.zeros(n, dtype=np.int64)
    lf = np.log(np.maximum(freq, 1e-300))
    edges = np.quantile(lf, np.linspace(0, 1, k + 1)[1:-1])
    return np.searchsorted(edges, lf, side="right").astype(np.int64)


def binned_z(x: np.ndarray, bins: np.ndarray) -> np.ndarray:
    """Robust z-scores of ``x`` within each bin: ``(x - median) / (1.4826 MAD)`` (a MAD below 1e-6,
    float32 rounding as between two copies of one space, counts as 1e-6), ``(n,)`` float64.  Drift is compared among words of similar frequency: a rare word's
    vector moves between two samples by noise alone (Hamilton et al. 2016 control for frequency by
    regression; bins make no assumption on the shape of the relation)."""
    z = np.empty(len(x), dtype=np.float64)
    for b in np.unique(bins):
        m = bins == b
        med = np.median(x[m])
        mad = 1.4826 * np.median(np.abs(x[m] - med))
        z[m] = (x[m] - med) / max(mad, 1e-6)
    return z
