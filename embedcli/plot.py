"""Pictures of vector spaces: 2-D maps of chosen rows (``embedcli plot``) and the spectrum of a
matrix or of a set of vectors (``embedcli plot --spectrum``).

Projection to two dimensions is PCA (deterministic: numpy's SVD of the centred rows, each axis's
sign fixed so that its largest loading is positive), t-SNE (van der Maaten & Hinton 2008,
scikit-learn) or UMAP (McInnes et al. 2018, the ``umap-learn`` package when installed).  Rows are
length-normalized first by default, so the picture shows the cosine geometry the queries use.

Drawing uses matplotlib's object API on the Agg canvas (no display needed, nothing shown); labels
are moved apart by adjustText (Flachaire et al.), and text stays text in SVG and PDF (searchable,
editable).  matplotlib and adjustText are the ``plot`` extra: ``pip install 'embedcli[plot]'``.
"""

from __future__ import annotations

import os
import sys

import numpy as np

from embedcli.arguments import entry_point
from embedcli.errors import DataError, DependencyError, InputError, ParameterError

#: File types ``plot`` writes, chosen by the output's extension.
PLOT_FORMATS = ("png", "svg", "pdf")
#: ``annotate="auto"`` labels the points when there are at most this many.
AUTO_ANNOTATE = 100
#: Most labels drawn (the first rows: the most frequent, or the order given).  adjustText's placement
#: is quadratic: one iteration over 1,000 labels took 4 minutes on this project's 2-core machine
#: (2026-12-01); 300 take a few seconds within :data:`LABEL_ITERATIONS`.
MAX_LABELS = 300
#: Iterations adjustText may spend moving 100 labels apart; n labels get ``100 (100 / n)^3`` (2 to
#: 500), as one iteration's time grows about with n^3 (0.04 s at 100 labels, 2.7 s at 300, measured
#: 2026-12-02).  A count, not adjustText's time limit, so the same input gives the same image under
#: any load; the overlaps that remain are reported.
LABEL_ITERATIONS = 100


def plot_format(path: str) -> str:
    """The file type of ``path`` from its extension (``png``, ``svg`` or ``pdf``).

    Raises:
        ParameterError: another extension (names ``output``).
    """
    name = os.path.basename(path)
    ext = os.path.splitext(name)[1].lower().lstrip(".") or (name[1:].lower() if name.startswith(".") else "")
    if ext in PLOT_FORMATS and name.lower() == "." + ext:
        raise ParameterError("output", path, "needs a file name before the extension")
    if ext not in PLOT_FORMATS:
        raise ParameterError("output", path, f"must end in {', '.join('.' + f for f in PLOT_FORMATS)}")
    return ext


def select_rows(vectors, words: list[str] | None = None, top: int = 100) -> tuple[np.ndarray, list[str]]:
    """Which rows to plot: ``words`` in the order given (duplicates dropped; a word not in the
    vectors is looked up lower-cased, as ``neighbors --target`` does), else the first ``top``.

    Returns:
        ``(rows, missing)``: row indices ``(m,)`` int64, and the words not in ``vectors``.

    Raises:
        DataError: fewer than 2 rows remain.
    """
    if words:
        rows, missing, seen = [], [], set()
        for w in words:
            if w in seen:
                continue
            seen.add(w)
            i = vectors.index.get(w)
            if i is None:
                i = vectors.index.get(w.lower())  # as neighbors --target: 'King' finds 'king'
            (missing.append(w) if i is None else rows.append(i))
        rows = np.asarray(list(dict.fromkeys(rows)), dtype=np.int64)
    else:
        rows, missing = np.arange(min(top, len(vectors)), dtype=np.int64), []
    if len(rows) < 2:
        raise DataError(f"{len(rows)} of the requested keys {'is' if len(rows) == 1 else 'are'} in the vectors; "
                        "a map needs at least 2" + (f" (missing: {', '.join(missing[:5])})" if missing else ""))
    return rows, missing


def project(X: np.ndarray, method: str = "pca", seed: int = 1, perplexity: float = 30.0,
            normalize: bool = True) -> tuple[np.ndarray, dict]:
    """Two coordinates per row of ``X`` ``(n, dim)``.

    Args:
        method: ``pca``, ``tsne`` or ``umap``.
        seed: random state of UMAP (t-SNE starts from the PCA layout, scikit-learn's default
            since 1.2, and is then deterministic; PCA is deterministic).
        perplexity: t-SNE's perplexity; lowered to ``(n - 1) / 3`` when there are too few points
            (scikit-learn needs ``perplexity < n``).
        normalize: scale rows to unit length first (zero rows stay zero).

    Returns:
        ``(coords, info)``: ``(n, 2)`` float64, and ``info`` with ``explained`` (PCA: the share of
        the variance on each axis) and ``perplexity`` (t-SNE: the value used).

    Raises:
        DependencyError: ``umap`` without ``umap-learn``.
        DataError: NaN or infinite values.
    """
    X = np.asarray(X, dtype=np.float64)
    if not np.isfinite(X).all():
        raise DataError("the vectors hold NaN or infinite values")
    if normalize:
        norms = np.linalg.norm(X, axis=1, keepdims=True)
        X = X / np.where(norms > 0, norms, 1.0)
    n, info = len(X), {}
    if method != "pca" and X.shape[1] < 2:
        raise DataError(f"the vectors have {X.shape[1]} dimension: {method} needs 2 or more (pca draws one axis)")
    if method == "pca":
        Xc = X - X.mean(axis=0)
        U, s, Vt = np.linalg.svd(Xc, full_matrices=False)
        k = min(2, len(s))
        signs = np.sign(Vt[np.arange(k), np.abs(Vt[:k]).argmax(axis=1)])
        coords = np.zeros((n, 2))
        coords[:, :k] = U[:, :k] * s[:k] * np.where(signs == 0, 1, signs)
        total = float(np.square(s).sum())
        info["explained"] = [float(x) / total if total else 0.0 for x in np.square(s[:2])]
    elif method == "tsne":
        from sklearn.manifold import TSNE

        from threadpoolctl import threadpool_limits

        used = min(perplexity, max((n - 1) / 3.0, 1.0))
        info["perplexity"] = used
        # few points: one thread (OpenMP's spinning threads cost seconds on a busy machine)
        with threadpool_limits(1 if n < 2000 else None):
            coords = TSNE(n_components=2, perplexity=used, init="pca", random_state=seed,
                          learning_rate="auto").fit_transform(X)
    elif method == "umap":
        try:
            import umap
        except ImportError:
            raise DependencyError("plot --method umap needs umap-learn: pip install umap-learn") from None
        coords = umap.UMAP(n_components=2, random_state=seed, n_neighbors=min(15, n - 1)).fit_transform(X)
    else:
        raise ParameterError("method", method, "choose one of pca, tsne, umap")
    return np.asarray(coords, dtype=np.float64), info


def _matplotlib():
    """matplotlib's Figure and the Agg canvas, without touching a backend someone else chose."""
    try:
        import matplotlib
    except ImportError:
        raise DependencyError("plot needs matplotlib: pip install 'embedcli[plot]'") from None
    if "matplotlib.pyplot" not in sys.modules:
        matplotlib.use("Agg")  # adjustText imports pyplot; never open a window
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    return Figure, FigureCanvasAgg


def _save(fig, canvas_cls, path: str, provenance: dict | None = None) -> None:
    from embedcli.outputs import atomic_output

    import matplotlib

    fmt = plot_format(path)
    canvas_cls(fig)
    # no dates, fixed ids: the same input gives the same bytes in every format
    meta = {"png": {"Software": None}, "svg": {"Date": None}, "pdf": {"CreationDate": None}}[fmt]
    with matplotlib.rc_context({"svg.fonttype": "none", "pdf.fonttype": 42, "svg.hashsalt": "embedcli"}):
        side = {"kind": "plot", "provenance": provenance} if provenance else None
        with atomic_output(path, "wb", sidecar=side) as f:
            fig.savefig(f, format=fmt, dpi=150, metadata=meta)


def _label_boxes(fig, texts) -> list:
    r = fig.canvas.get_renderer()
    return [t.get_window_extent(renderer=r) for t in texts]


def count_overlaps(boxes) -> int:
    """Pairs of overlapping boxes (``matplotlib.transforms.Bbox``; touching edges do not count)."""
    if not boxes:
        return 0
    b = np.array([[x.x0, x.y0, x.x1, x.y1] for x in boxes])
    total = 0
    for i in range(0, len(b), 1024):  # row blocks: memory O(1024 n), not O(n^2)
        a = b[i:i + 1024]
        hit = ((a[:, None, 0] < b[None, :, 2]) & (b[None, :, 0] < a[:, None, 2])
               & (a[:, None, 1] < b[None, :, 3]) & (b[None, :, 1] < a[:, None, 3]))
        total += int(np.triu(hit, i + 1).sum())  # pairs (r, c) with c > r
    return total


def _palette() -> list:
    """18 distinguishable colours: tab20's dark hues, then its light ones, without its two greys
    (grey is kept for "other labels" and "no label")."""
    import matplotlib

    tab20 = matplotlib.colormaps["tab20"]
    return [tab20(i) for i in (0, 2, 4, 6, 8, 10, 12, 16, 18, 1, 3, 5, 7, 9, 11, 13, 17, 19)]


def _plain(text: str) -> str:
    """``text`` for a legend entry, with ``$`` escaped so that matplotlib does not read math."""
    return str(text).replace("$", r"\$")


@entry_point
def draw_map(coords: np.ndarray, keys: list[str], path: str, groups: list[str | None] | None = None,
             annotate: str = "auto", title: str = "", axis_labels: tuple[str, ...] = ("", ""),
             provenance: dict | None = None) -> dict:
    """Scatter ``coords`` ``(n, 2)`` with ``keys`` as text labels; write ``path`` (png/svg/pdf) atomically.

    Args:
        groups: a group per point (None: ungrouped) -> one colour per group and a legend (the 18
            largest groups get colours, the rest share grey as "other labels").
        annotate: ``all`` (the first :data:`MAX_LABELS` points), ``none``, or ``auto`` (all when
            ``n <= AUTO_ANNOTATE``).  Keys and the title are drawn verbatim (no math text).
        provenance: written to ``path.meta.json`` with the picture (``kind`` ``plot``).

    Returns:
        ``{"points", "labelled", "overlaps", "groups", "missing_glyphs"}``: labels drawn, pairs of
        label boxes that still overlap after adjustText moved them (0 is the goal; dense clusters may
        keep a few), and whether some characters had no glyph in the font (drawn as boxes).

    Raises:
        DependencyError: matplotlib or adjustText missing.  ParameterError: bad extension.
    """
    import warnings

    plot_format(path)
    Figure, Canvas = _matplotlib()
    label = annotate == "all" or (annotate == "auto" and len(coords) <= AUTO_ANNOTATE)
    if label:
        try:
            from adjustText import adjust_text
        except ImportError:
            raise DependencyError("plot needs adjustText to place labels: pip install 'embedcli[plot]'") from None
    n = len(coords)
    fig = Figure(figsize=(10, 8) if n <= 400 else (12, 10), layout="constrained")
    Canvas(fig)
    ax = fig.add_subplot()
    ngroups = 0
    if groups is not None:
        names, inverse = np.unique(np.array([g if g is not None else "" for g in groups], dtype=object),
                                   return_inverse=True)
        sizes = np.bincount(inverse)
        order = [i for i in np.argsort(-sizes, kind="stable") if names[i] != ""]
        palette = _palette()
        for rank, gi in enumerate(order[:len(palette)]):
            m = inverse == gi
            ax.scatter(coords[m, 0], coords[m, 1], s=14, color=palette[rank], label=_plain(names[gi]), zorder=2)
        rest = order[len(palette):]
        if rest:
            m = np.isin(inverse, rest)
            ax.scatter(coords[m, 0], coords[m, 1], s=12, color="0.45", zorder=2,
                       label=f"{len(rest)} other label{'s' * (len(rest) > 1)}")
        none = np.flatnonzero(names == "")
        if len(none):
            m = inverse == none[0]
            ax.scatter(coords[m, 0], coords[m, 1], s=10, color="0.8", label="(no label)", zorder=1)
        ngroups = len(order)
        ax.legend(loc="best", fontsize=8, markerscale=1.2, frameon=True,
                  title=f"{ngroups} label{'s' * (ngroups != 1)}")
    else:
        ax.scatter(coords[:, 0], coords[:, 1], s=12, color="C0", zorder=2)
    if title:
        ax.set_title(title, fontsize=10, parse_math=False)
    ax.set_xlabel(axis_labels[0] if len(axis_labels) > 0 else "")
    ax.set_ylabel(axis_labels[1] if len(axis_labels) > 1 else "")
    overlaps, texts, missing_glyphs = 0, [], False
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if label:
            m = min(n, MAX_LABELS)
            texts = [ax.text(x, y, k, fontsize=8, zorder=3, parse_math=False)
                     for (x, y), k in zip(coords[:m], keys[:m])]
            # only the labelled points are obstacles: adjustText's memory and time grow with their square
            iterations = min(500, max(2, round(LABEL_ITERATIONS * (100 / m) ** 3)))
            adjust_text(texts, x=coords[:m, 0], y=coords[:m, 1], ax=ax, expand=(1.1, 1.3), ensure_inside_axes=True,
                        iter_lim=iterations, arrowprops={"arrowstyle": "-", "color": "0.5", "lw": 0.5})
            overlaps = count_overlaps(_label_boxes(fig, texts))
        _save(fig, Canvas, path, provenance)
    for w in caught:
        if "missing from font" in str(w.message):
            missing_glyphs = True
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return {"points": n, "labelled": len(texts), "overlaps": overlaps, "groups": ngroups,
            "missing_glyphs": missing_glyphs}


def vectors_spectrum(vectors) -> tuple[np.ndarray, float | None, str]:
    """The spectrum behind a vectors file.

    Vectors written by ``svd``/``netmf`` carry their matrix's singular values and the share of its
    energy they capture (``meta``); for those the total energy ``||M||_F^2`` is recovered as
    ``sum(sigma^2) / energy_captured``.  Other vectors (word2vec, GloVe, ...) have no matrix: the
    singular values of the ``(n, dim)`` vectors themselves are returned, with their own total.

    Returns:
        ``(sigma, total, source)``: singular values ``(k,)`` float64 descending, ``||.||_F^2`` of the
        matrix they come from (None when unknown), and a description of the source.
    """
    s = vectors.meta.get("singular_values")
    if s:
        s = np.asarray(s, dtype=np.float64)
        e = vectors.meta.get("energy_captured")
        return s, (float(np.square(s).sum() / e) if e else None), "the singular values of the factorized matrix"
    X = np.asarray(vectors.vectors, dtype=np.float64)
    if not np.isfinite(X).all():
        raise DataError("the vectors hold NaN or infinite values")
    s = np.linalg.svd(X, compute_uv=False)
    if not s.any():
        raise DataError("the vectors are all zeros: no spectrum")
    return s, float(np.square(s).sum()), "the singular values of the vectors themselves (no matrix recorded)"


def matrix_spectrum(cm, weighting=None, spec=None, progress=None) -> tuple[np.ndarray, float]:
    """The top ``spec.dim`` singular values of a count matrix after ``weighting``, resolved as ``svd``
    resolves it (association None: PPMI on a co-occurrence matrix, none on a term-document matrix),
    and the weighted matrix's squared Frobenius norm.

    ``spec.dim`` at or above the matrix's smaller side gives all its singular values, computed
    densely (LAPACK) when the matrix has at most 50M cells; the truncated solver otherwise.

    Returns:
        ``(sigma (k,) float64 descending, ||M||_F^2)``.

    Raises:
        DataError: all-zero weighted matrix; ``dim`` too large for a big matrix.
    """
    from embedcli.specs import SVDSpec, WeightingSpec
    from embedcli.svd import truncated_svd
    from embedcli.weighting import reweight

    from embedcli.svd import resolve_weighting

    weighting, spec = weighting or WeightingSpec(), spec or SVDSpec()
    weighting = resolve_weighting(weighting, cm.kind)
    M = reweight(cm.matrix, weighting)
    fro2 = float(np.square(M.data, dtype=np.float64).sum())
    if fro2 == 0:
        raise DataError(f"the matrix is all zeros after {weighting.association}")
    side = min(M.shape)
    if spec.dim >= side:
        if M.shape[0] * M.shape[1] > 50_000_000:
            raise DataError(f"the matrix is {M.shape[0]:,} x {M.shape[1]:,}: ask for fewer singular values than "
                            f"{side:,} (--dim), or all of them from a matrix of at most 50M cells")
        import scipy.linalg

        return np.asarray(scipy.linalg.svdvals(M.toarray()), dtype=np.float64), fro2
    _, s, _ = truncated_svd(M, spec, progress)
    return np.asarray(s, dtype=np.float64), fro2


def energy(s: np.ndarray, total: float | None) -> np.ndarray | None:
    """Captured energy ``sum_{i<=k} sigma_i^2 / ||M||_F^2`` for k = 1..len(s) (Eckart-Young: the share of
    the squared Frobenius norm kept by the best rank-k approximation); None when the total is unknown."""
    if not total:
        return None
    return np.cumsum(np.square(s)) / total


@entry_point
def draw_spectrum(s: np.ndarray, total: float | None, path: str, title: str = "",
                  provenance: dict | None = None) -> dict:
    """Singular values (log scale) and captured energy against k; write ``path`` atomically.

    Returns:
        ``{"k", "energy"}``: values plotted and the energy captured by all of them (None if unknown).
    """
    plot_format(path)
    if len(s) == 0:
        raise InputError("no singular values to plot")
    Figure, Canvas = _matplotlib()
    fig = Figure(figsize=(10, 4.2), layout="constrained")
    Canvas(fig)
    k = np.arange(1, len(s) + 1)
    ax1, ax2 = fig.subplots(1, 2)
    ax1.plot(k, s, color="C0")
    if (s > 0).all():
        ax1.set_yscale("log")
    ax1.set_xlabel("k")
    ax1.set_ylabel("singular value $\\sigma_k$")
    ax1.grid(True, alpha=0.3)
    e = energy(s, total)
    if e is not None:
        ax2.plot(k, 100 * e, color="C1")
        ax2.set_ylabel("energy captured, % of $\\|M\\|_F^2$")
        ax2.set_title(f"{100 * e[-1]:.1f}% at k = {len(s)}", fontsize=9)
    else:
        ax2.text(0.5, 0.5, "total energy unknown", ha="center", va="center", transform=ax2.transAxes)
    ax2.set_xlabel("k")
    ax2.grid(True, alpha=0.3)
    if title:
        fig.suptitle(title, fontsize=10)
    _save(fig, Canvas, path, provenance)
    return {"k": len(s), "energy": None if e is None else float(e[-1])}
