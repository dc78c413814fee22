"""GloVe: global vectors trained on a co-occurrence matrix (Pennington, Socher & Manning 2014).

Minimizes the weighted least squares

    J = sum_{ij: X_ij > 0} f(X_ij) (w_i . c_j + b_i + b~_j - log X_ij)^2,   f(x) = min(1, (x / x_max)^alpha)

by AdaGrad over the non-zero entries in a random order, several threads updating the shared
parameters without locks (Hogwild), as the reference C tool (``glove.c``,
https://github.com/stanfordnlp/GloVe) does with pthreads.  The entries are shuffled once (the
reference's ``shuffle``); unlike the reference, which then reads them in that one order every
iteration, each epoch after the first visits them in a new random order of blocks of
``BLOCK_ENTRIES`` (``reshuffle``; the usual SGD practice of a new order per epoch, at no copying
cost: a full reshuffle of 16M entries took 1.5-1.9 s here, a quarter to a third of an epoch).
The update rule is the reference's: per entry, with ``g = f(X_ij) * diff``, each vector
component moves by ``eta * clip(g * other) / sqrt(G)`` and its accumulator ``G`` (starting at 1) grows by the
square of that scaled gradient; biases move by ``g / sqrt(G_b)``.  Parameters start uniform in
``[-0.5, 0.5) / dim``.  The reported cost is the reference's: ``sum 0.5 f diff^2`` over the pass
divided by the number of entries.

The kernel is compiled by numba (an optional dependency: ``pip install 'embedcli[glove]'``) and
runs in float32 (the reference uses float64): 16 bytes per entry for the shuffled entries, and
``4 (dim + 1)`` bytes per word for each of W, C and their AdaGrad accumulators.

The reference's own co-occurrence files (``cooccurrence.bin``/``.shuf.bin``: records of two
1-based int32 word ids and a float64 value, with ``vocab_count``'s ``word count`` vocabulary)
load with :func:`read_glove_cooccurrence`.
"""

from __future__ import annotations

import os
import time

import numpy as np
import scipy.sparse as sp

from embedcli.arguments import entry_point
from embedcli.errors import DataError, DependencyError, FormatError, InputError, ParameterError
from embedcli.specs import GloveSpec, cores
from embedcli.vectors import Vectors

#: numpy dtype of one record of the reference tool's co-occurrence files (``CREC`` in ``common.h``)
CREC = np.dtype([("word1", "<i4"), ("word2", "<i4"), ("val", "<f8")])


def _numba():
    try:
        import numba
    except ImportError:
        raise DependencyError("GloVe training needs numba, an optional dependency: pip install 'embedcli[glove]'") \
            from None
    return numba


#: Entries per call of the compiled pass (each call's threads split its slice, Hogwild).  One slice
#: takes about 0.25 s on 2 cores at 100 dimensions: how long a Ctrl-C waits.  With one thread the
#: result does not depend on it (the entries are visited in the same order).
SLICE_ENTRIES = 1 << 20

#: Entries per block: with ``reshuffle``, each epoch after the first visits the (once shuffled)
#: entries in a new random order of blocks of this size
BLOCK_ENTRIES = 4096


def glove_threads(spec: GloveSpec) -> int:
    """The Hogwild threads a run of ``spec`` uses: ``workers`` (default: the cores), at most numba's
    thread count.  Recorded as ``stats["workers"]``: the result is reproducible with 1 only."""
    import numba

    return max(1, min(spec.workers or cores(), numba.config.NUMBA_NUM_THREADS))


def glove_entries(matrix: sp.spmatrix, spec: GloveSpec) -> tuple[np.ndarray, ...]:
    """The positive entries in the training order: ``(rows, cols) int32``, ``log X float32`` and
    ``f(X) float32``, each ``(nnz,)``, shuffled once by ``spec.seed`` (the reference's ``shuffle``).
    Memory: 16 bytes per entry (plus a boolean mask when the matrix holds explicit zeros).

    Raises:
        DependencyError: numba is missing.
        DataError: no positive entry.
    """
    _numba()
    from embedcli._glove_kernel import shuffle_entries

    m = sp.csr_matrix(matrix)
    if not m.has_canonical_format:
        m = m.copy()
        m.sum_duplicates()
    rows = np.repeat(np.arange(m.shape[0], dtype=np.int32), np.diff(m.indptr))
    cols = m.indices.astype(np.int32)  # a copy: the entries are shuffled in place
    x = m.data.astype(np.float32)
    if (x <= 0).any():
        keep = x > 0
        rows, cols, x = rows[keep], cols[keep], x[keep]
    if not len(x):
        raise DataError("the co-occurrence matrix has no positive entry: nothing to train on")
    with np.errstate(over="ignore", under="ignore", divide="ignore"):  # f(x) saturates at 1 (or 0) either way
        fx = np.divide(x, spec.x_max, dtype=np.float32)
        np.power(fx, np.float32(spec.alpha), out=fx)
        np.minimum(fx, np.float32(1), out=fx)
    np.log(x, out=x)
    shuffle_entries(rows, cols, x, fx, spec.seed)
    return rows, cols, x, fx


@entry_point
def train_glove(cm, spec: GloveSpec | None = None, progress=None) -> tuple[Vectors, dict]:
    """Train GloVe on a co-occurrence matrix (see the module doc for the objective and update).

    Args:
        cm: a :class:`~embedcli.matrix.CountMatrix` of kind ``cooccurrence`` (``embedcli cooccur``;
            GloVe's weighting is ``--window-weighting harmonic``, the default), or one from
            :func:`read_glove_cooccurrence`.
        spec: the parameters (:class:`~embedcli.specs.GloveSpec`).
        progress: an optional :class:`~embedcli.fileio.Progress`; each epoch reports its cost.

    Returns:
        ``(vectors, stats)``: :class:`~embedcli.vectors.Vectors` ``(n_words, dim) float32``, ``W``,
        ``C`` or ``W + C`` per ``spec.vectors``, words in the matrix's row order, the cost of each
        epoch in its provenance's ``stats``; ``stats``: ``costs``, ``diverged`` (the last cost
        above the first), ``train_seconds`` (wall) and
        ``entries_per_second`` (timings stay out of the file: outputs are byte-reproducible).

    Raises:
        DependencyError: numba is missing.
        ParameterError: ``w+c`` on a matrix whose rows and columns differ.
        DataError: a term-document matrix, or no positive entry.
    """
    from embedcli.provenance import stage_record

    spec = spec or GloveSpec()
    numba = _numba()
    if cm.kind != "cooccurrence":
        raise DataError(f"{cm.path or 'matrix'}: a {cm.kind} matrix; GloVe trains on a word-context "
                        "co-occurrence matrix (embedcli cooccur)")
    if spec.vectors == "w+c" and cm.row_words != cm.col_words:
        raise ParameterError("vectors", spec.vectors, "w+c needs the same words on both sides of the matrix")
    n_rows, n_cols = cm.matrix.shape
    d = spec.vector_size
    try:
        rows, cols, logx, fx = glove_entries(cm.matrix, spec)
    except DataError as e:
        raise DataError(f"{cm.path or 'matrix'}: {e}") from None
    rng = np.random.default_rng(spec.seed)
    # the reference draws every parameter (biases included) uniform in [-0.5, 0.5) / dim
    W = ((rng.random((n_rows, d), dtype=np.float32) - 0.5) / d).astype(np.float32)
    C = ((rng.random((n_cols, d), dtype=np.float32) - 0.5) / d).astype(np.float32)
    bw = ((rng.random(n_rows, dtype=np.float32) - 0.5) / d).astype(np.float32)
    bc = ((rng.random(n_cols, dtype=np.float32) - 0.5) / d).astype(np.float32)
    gW, gC = np.ones_like(W), np.ones_like(C)
    gbw, gbc = np.ones_like(bw), np.ones_like(bc)
    threads = glove_threads(spec)
    from embedcli._glove_kernel import glove_epoch as epoch

    costs: list[float] = []
    t0 = time.perf_counter()
    prev = numba.get_num_threads()
    numba.set_num_threads(threads)
    n = len(rows)
    eta, clip = np.float32(spec.eta), np.float32(spec.grad_clip)
    n_blocks = -(-n // BLOCK_ENTRIES)
    per_slice = max(1, SLICE_ENTRIES // BLOCK_ENTRIES)
    order_rng = np.random.default_rng((spec.seed, 1))  # apart from the initial vectors' draws
    try:
        for e in range(spec.epochs):
            cost = 0.0
            order = (order_rng.permutation(n_blocks) if spec.reshuffle and e > 0
                     else np.arange(n_blocks, dtype=np.int64))
            # the pass in slices of SLICE_ENTRIES: between two kernel calls Python runs, so a Ctrl-C or
            # SIGTERM stops training within a slice (a fraction of a second), not at the epoch's end
            for lo in range(0, n_blocks, per_slice):
                hi = min(n_blocks, lo + per_slice)
                cost += epoch(order[lo:hi], BLOCK_ENTRIES, rows, cols, logx, fx, W, C, bw, bc, gW, gC, gbw, gbc,
                              eta, clip, threads)
                if progress is not None and hi < n_blocks:
                    progress.update(e + hi / n_blocks, spec.epochs, extra=f"epoch {e + 1}/{spec.epochs}"
                                    + (f", last cost {costs[-1]:.6f}" if costs else ""))
            costs.append(float(cost) / n)
            if not np.isfinite(costs[-1]):
                raise DataError(f"GloVe diverged at epoch {e + 1} (cost {costs[-1]}); lower --eta or --grad-clip")
            if progress is not None:
                progress.update(e + 1, spec.epochs, extra=f"epoch {e + 1}/{spec.epochs}, cost {costs[-1]:.6f}")
    finally:
        numba.set_num_threads(prev)
    seconds = time.perf_counter() - t0
    if progress is not None:
        progress.close()
    if spec.vectors == "w":
        X, words, counts = W, cm.row_words, cm.row_counts
    elif spec.vectors == "c":
        X, words, counts = C, cm.col_words, cm.col_counts
    else:
        X, words, counts = W + C, cm.row_words, cm.row_counts
    # threads: the result is reproducible with 1 only (Hogwild), so a reader needs to know
    stats = {"entries": int(len(rows)), "costs": [round(c, 6) for c in costs], "workers": int(threads)}
    rec = stage_record("glove", spec, {"matrix": cm.record()}, stats)
    v = Vectors(list(words), np.ascontiguousarray(X, dtype=np.float32), np.asarray(counts, dtype=np.int64),
                {"kind": "words", "provenance": rec})
    return v, {"costs": costs, "diverged": len(costs) > 1 and costs[-1] > costs[0],
               "train_seconds": round(seconds, 3),
               "entries_per_second": int(len(rows) * spec.epochs / max(seconds, 1e-9))}


def read_glove_cooccurrence(path: str, vocab_path: str):
    """Read the reference tool's co-occurrence file with its vocabulary.

    Args:
        path: ``cooccurrence.bin`` or ``cooccurrence.shuf.bin`` from GloVe's ``cooccur``/``shuffle``:
            records of ``int32 word1, int32 word2`` (1-based lines of the vocabulary) and
            ``float64`` value, native little-endian (:data:`CREC`).
        vocab_path: GloVe's ``vocab_count`` output, ``word count`` per line, most frequent first.

    Returns:
        :class:`~embedcli.matrix.CountMatrix` ``(n_words, n_words)`` of kind ``cooccurrence``
        (duplicate pairs summed).

    Raises:
        InputError: a file cannot be read.
        FormatError: a size that is not a whole number of records, ids outside the vocabulary,
            values that are not positive and finite, or a malformed vocabulary line (file:line).
    """
    from embedcli.matrix import CountMatrix
    from embedcli.provenance import file_provenance

    from embedcli.fileio import read_head

    if read_head(path, "GloVe co-occurrence").startswith(b"PK"):
        raise InputError(f"{path}: an embedcli matrix (.npz); --vocab is only for the GloVe C tool's "
                         "cooccurrence.bin: drop --vocab")
    words, counts = [], []
    try:
        with open(vocab_path, encoding="utf-8", errors="strict") as fh:
            for ln, line in enumerate(fh, 1):
                parts = line.rstrip("\n").split(" ")
                if len(parts) != 2 or not parts[0] or not (parts[1].isascii() and parts[1].isdigit()):
                    raise FormatError(f"{vocab_path}:{ln}: expected 'word count' (GloVe's vocab_count output)")
                words.append(parts[0])
                counts.append(int(parts[1]))
    except OSError as e:
        raise InputError(f"{vocab_path}: cannot read: {e.strerror}") from None
    except UnicodeDecodeError:
        raise FormatError(f"{vocab_path}: not UTF-8 text") from None
    try:
        size = os.path.getsize(path)
    except OSError as e:
        raise InputError(f"{path}: cannot read: {e.strerror}") from None
    with open(path, "rb") as fh:
        if fh.read(2) == b"PK":
            raise FormatError(f"{path}: an .npz file, not the GloVe C tool's cooccurrence records; for an embedcli "
                              "matrix drop --vocab")
    if size % CREC.itemsize:
        raise FormatError(f"{path}: {size:,} bytes is not a whole number of {CREC.itemsize}-byte GloVe records")
    rec = np.fromfile(path, dtype=CREC)
    n = len(words)
    if len(rec):
        lo = min(rec["word1"].min(), rec["word2"].min())
        hi = max(rec["word1"].max(), rec["word2"].max())
        if lo < 1 or hi > n:
            raise FormatError(f"{path}: word ids {lo}..{hi} fall outside the vocabulary {vocab_path} (1..{n})")
        if not (np.isfinite(rec["val"]).all() and (rec["val"] > 0).all()):
            raise FormatError(f"{path}: values must be positive and finite")
    m = sp.csr_matrix((rec["val"], (rec["word1"] - 1, rec["word2"] - 1)), shape=(n, n))
    m.sum_duplicates()
    prov = {"stage": "glove-cooccur", "inputs": {"matrix": file_provenance(path), "vocab": file_provenance(vocab_path)}}
    return CountMatrix(m, words, list(words), np.asarray(counts, dtype=np.int64), np.asarray(counts, dtype=np.int64),
                       "cooccurrence", provenance=prov, path=path)
