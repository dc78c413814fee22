"""Sliding-window word-context co-occurrence counting, vectorized with numpy/scipy.

How it works: a block of the tokens file becomes an ``int32`` array of word ids
(``-1`` for words outside the vocabulary, which keep their position, as in
hyperwords and GloVe's ``cooccur``).  The pairs of a block are found by whole-array
operations on a ``(window, n_tokens)`` view whose row ``j`` holds every token's
context at distance ``window - j`` -- no Python loop per token or per distance.

Pairs of two frequent words (1-based ranks multiplying to at most :data:`DENSE_PRODUCT`,
as in GloVe's ``cooccur``: 87% of the pairs of English text at window 5) are added into a
dense integer table with ``np.add.at``.  The other pairs of a block become a sparse matrix
(scipy sums their duplicates); blocks carry their last ``window`` tokens over, and block
matrices are summed, so memory is bounded by the number of distinct pairs plus the table,
not the corpus length.

The symmetric matrix is ``L + L^T`` where ``L`` counts left contexts.
"""

from __future__ import annotations

import threading
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from itertools import chain, repeat
from typing import Iterator

import numpy as np
import scipy.sparse as sp
from numpy.lib.stride_tricks import sliding_window_view

from embedcli.arguments import entry_point
from embedcli.errors import DataError
from embedcli.fileio import Progress, iter_line_chunks
from embedcli.matrix import CountMatrix
from embedcli.memory import heap_reuse
from embedcli.parallel import ProcessBlocks
from embedcli.provenance import file_provenance, stage_record
from embedcli.specs import CooccurSpec, cores
from embedcli.vocab import Vocabulary
from embedcli.wordids import WordTable
_BOUNDARY = "\x00"  # marks a newline (document end) inside a block; NUL never survives decoding


def iter_id_blocks(path: str, index: dict[str, int], progress: Progress | None = None,
                   workers: int = 1, lines: list | None = None,
                   segment: tuple[int, int] | None = None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Stream a tokens file as ``(ids, doc)`` blocks.

    ``ids`` is ``(n,) int32`` word ids (``-1``: not in ``index``); ``doc`` is
    ``(n,) int64``, the 0-based line (document) number of each token, counted
    over the whole file.  Empty lines count as documents.  With ``workers`` > 1
    blocks are decoded and looked up in worker processes (the GIL-bound part);
    the blocks and their order do not depend on ``workers``.  If ``lines`` is a
    list, the number of lines (documents, blank ones included) is appended to it
    once the file is read whole.  ``segment``: only that byte range (``fileio.line_segments``).
    ``progress`` counts bytes (with a percentage when the size is known) and shows the tokens read.

    Raises:
        DataError: the file is not UTF-8 text.
    """
    from embedcli.fileio import disk_size

    doc_offset = 0
    done = n_bytes = 0
    total = disk_size(path) if segment is None else segment[1] - segment[0]  # bytes as stored (.gz too)
    at: list = [None]
    read = 0  # bytes of text read
    open_line = False  # the file's last bytes are a line without its newline
    pending: deque = deque()
    sizes: deque = deque()
    # the array lookup's table pays for itself on text of about 20 tokens (128 bytes) a word
    table = bool(total) and len(index) * TABLE_BYTES_PER_WORD <= total
    from embedcli.fileio import CHUNK_BYTES

    eager = bool(total) and total > CHUNK_BYTES  # several blocks: workers from the first
    with ProcessBlocks(_ids_of_block, workers, _install_index, (index, table), eager) as runner:
        try:
            for item in chain(iter_line_chunks(path, None, segment, stored=at if segment is None else None), [None]):
                if item is not None:
                    lineno, data, _ = item
                    if data:
                        open_line = not data.endswith(b"\n")
                    pending.append(runner.submit(data, path, lineno))
                    read += len(data)
                    sizes.append(at[0] if at[0] is not None and total else read)  # where the input is after it
                while pending and (len(pending) > runner.in_flight or item is None):
                    ids, ends = pending.popleft().result()
                    # document (line) number of each token: the line ends before it, plus those before the block
                    doc = np.cumsum(np.bincount(ends[ends < len(ids)], minlength=len(ids)), dtype=np.int64)
                    doc += doc_offset
                    doc_offset += len(ends)
                    done += len(ids)
                    n_bytes = sizes.popleft()
                    if progress is not None:
                        progress.update(n_bytes, total, extra=f"{done:,} tokens")
                    yield ids, doc
            if lines is not None:
                lines.append(doc_offset + open_line)
        finally:
            _install_index(None)


# the vocabulary's word -> id map, per thread: in each worker process, and in each thread that reads a
# file itself (a Dask worker runs several counting tasks at once in one process)
_LOCAL = threading.local()


#: Bytes of text per vocabulary word above which words are looked up by :class:`WordTable`
#: (building it costs about 1.4 us a word, and saves about 0.07 us a token); below, a dict.
TABLE_BYTES_PER_WORD = 128


def _install_index(index: dict | None, table: bool = True) -> None:
    if index is None:
        _LOCAL.index = _LOCAL.table = _LOCAL.source = None
    elif getattr(_LOCAL, "source", None) != (id(index), table):  # a forked worker has its parent's
        d = dict(index)
        d[_BOUNDARY] = -2
        _LOCAL.index, _LOCAL.table, _LOCAL.source = d, WordTable(index) if table else None, (id(index), table)


def _ids_of_block(data: bytes, path: str, lineno: int) -> tuple[np.ndarray, np.ndarray]:
    """Worker: one block of a tokens file as word ids, and where its line ends fall.

    Returns ``ids (n,) int32`` and ``ends (k,) int64``: for each newline in the
    block, the number of tokens before it.

    Raises:
        DataError: the block is not UTF-8.
    """
    from embedcli.tokenizer import decode_block

    table = getattr(_LOCAL, "table", None)
    text = None
    if table is None or not data.isascii() or b"\x00" in data:  # ASCII without NUL needs no check
        text = decode_block(data, path, lineno, "utf-8", "strict", raw_text=False)  # raises on NUL or bad bytes
    found = table.lookup(data) if table is not None else None
    if found is not None:
        return found
    if text is None:
        text = data.decode("ascii")
    toks = text.replace("\n", " \x00 ").split()
    get = _LOCAL.index.get
    ids = np.fromiter(map(get, toks, repeat(-1)), dtype=np.int32, count=len(toks))
    del toks
    bd = np.flatnonzero(ids == -2)
    # a newline after the i-th real token: position in ``ids`` minus the markers before it
    ends = bd - np.arange(len(bd))
    ids = np.delete(ids, bd)
    return ids, ends


def distance_weights(window: int, weighting: str) -> np.ndarray:
    """``(window,) float64`` weight of a context at distance ``d = 1..window``.

    ``uniform``: 1.  ``harmonic``: 1/d (GloVe, Pennington et al. 2014).
    ``linear``: (window - d + 1)/window, the expected weight of word2vec's
    dynamic window (Levy, Goldberg & Dagan 2015, section 3.1).

    Raises:
        ParameterError: unknown weighting.
    """
    CooccurSpec(window_weighting=weighting)  # validates
    d = np.arange(1, window + 1, dtype=np.float64)
    if weighting == "uniform":
        return np.ones(window)
    if weighting == "harmonic":
        return 1.0 / d
    return (window - d + 1) / window  # linear


#: Largest common denominator of the distance weights counted exactly (harmonic weights up to window 16:
#: lcm(1..16) = 720,720).  Beyond it, weights are float32 and sums are rounded.
MAX_WEIGHT_SCALE = 2**20


def weight_units(window: int, weighting: str) -> tuple[np.ndarray, int]:
    """The distance weights as integers over a common denominator: ``(units (window,), scale)`` with
    ``weight(d) = units[d-1] / scale``; ``units`` int32 or int64 (whichever cannot overflow in one
    piece), or float32 weights and ``scale`` 1 when the denominator would exceed
    :data:`MAX_WEIGHT_SCALE` (harmonic weights beyond window 16).

    Counting in integer units makes every sum exact, so the matrix does not depend on how the
    corpus is cut into blocks or in which order partial sums meet (several processes, a Dask
    cluster): the only rounding is the one division by ``scale`` at the end.
    """
    import math

    d = np.arange(1, window + 1)
    if weighting == "uniform":
        scale = 1
    elif weighting == "harmonic":
        scale = math.lcm(*d.tolist())
    else:
        scale = window
    if scale > MAX_WEIGHT_SCALE:
        return distance_weights(window, weighting).astype(np.float32), 1
    units = np.rint(distance_weights(window, weighting) * scale).astype(np.int64)
    # one piece sums at most PAIRS_PER_PRODUCT // window tokens' contexts per cell
    fits32 = scale * (PAIRS_PER_PRODUCT // window + 1) * window < 2**31
    return units.astype(np.int32 if fits32 else np.int64), scale


def keep_probabilities(counts: np.ndarray, sample: float) -> np.ndarray:
    """word2vec's subsampling: probability of keeping each word, ``(V,) float64``.

    ``p = (sqrt(f / (sample * total)) + 1) * (sample * total) / f`` capped at 1,
    where ``f`` is the word's count (word2vec.c, ``sample`` parameter; gensim's
    ``Word2Vec(sample=...)``).
    """
    counts = np.asarray(counts, dtype=np.float64)
    thr = sample * counts.sum()
    with np.errstate(divide="ignore"):
        p = (np.sqrt(counts / thr) + 1.0) * thr / counts
    return np.minimum(p, 1.0)


@entry_point(documents="path")
def cooccur(path: str, vocab: Vocabulary, spec: CooccurSpec | None = None,
            progress: Progress | None = None, client=None) -> CountMatrix:
    """The co-occurrence stage: :func:`cooccurrence_matrix` as a labelled
    :class:`~embedcli.matrix.CountMatrix` with its provenance record (inputs:
    the tokens file's and the vocabulary's records).  ``client``: a ``dask.distributed``
    client to count on (:func:`embedcli.distributed.cooccurrence_on`; the same matrix).

    Raises:
        DataError: the file holds no in-vocabulary token.
    """
    spec = spec or CooccurSpec()
    if client is not None:
        from embedcli.distributed import cooccurrence_on

        M = cooccurrence_on(client, path, vocab, spec, progress)
    else:
        M = cooccurrence_matrix(path, vocab, spec, progress)
    if M.nnz == 0:
        raise DataError(f"{path}: no two vocabulary words occur within window={spec.window} of each other (nor "
                        "across lines unless cross_documents); the matrix would be empty", params=("window",))
    stats = {"words": len(vocab), "nnz": int(M.nnz), "total": float(M.sum())}
    prov = stage_record("cooccur", spec, {"tokens": file_provenance(path), "vocabulary": vocab.provenance}, stats)
    return CountMatrix(M, vocab.words, vocab.words, vocab.counts, vocab.counts, "cooccurrence", prov)


@entry_point(documents="path")
def cooccurrence_matrix(
    path: str,
    vocab: Vocabulary,
    params: CooccurSpec | None = None,
    progress: Progress | None = None,
) -> sp.csr_matrix:
    """Count word-context co-occurrences in a tokens file.

    Args:
        path: tokens file, one document per line (``-``: stdin).
        vocab: words to count; both rows (words) and columns (contexts) use it.
            Out-of-vocabulary tokens keep their position but are not counted.
        params: window (max distance), context (``symmetric``, ``left`` or
            ``right`` of the word), weighting by distance, ``dynamic_window``
            (word2vec: each occurrence's window is drawn uniformly from
            1..window, seeded), ``sample`` (word2vec's subsampling: frequent
            tokens are dropped before windowing, seeded), ``cross_documents``
            (windows span line ends; off by default).

    Returns:
        ``(V, V) float64`` CSR matrix, canonical (sorted indices, no
        duplicates): entry ``[w, c]`` is the summed weight of ``c`` appearing in
        the window of ``w``.

    Raises:
        DataError: the file holds no in-vocabulary token.
    """
    p = params or CooccurSpec()
    totals, n_in_vocab, scale = count_units(path, vocab, p, progress)
    if n_in_vocab == 0:
        raise DataError(f"{path}: no token of the vocabulary occurs in it")
    with heap_reuse():
        return assemble(totals, p, scale)


def count_units(path: str, vocab: Vocabulary, p: CooccurSpec, progress: Progress | None = None,
                segment: tuple[int, int] | None = None) -> tuple[dict, int, int]:
    """The counting half of :func:`cooccurrence_matrix`: ``({"L": (V, V) float64 CSR[, "Lr"]},
    in-vocabulary tokens, scale)``, counts in integer weight units (:func:`weight_units`) of the
    pairs whose right word is ``d`` tokens right of the left one; ``segment``: a byte range of the
    file only.  Sums of these over a partition of the file are exact (any order)."""
    V = len(vocab)
    W = p.window
    units, scale = weight_units(W, p.window_weighting)
    wts = units[::-1].copy()  # column k of a window row is distance W - k
    rng = np.random.default_rng(p.seed)
    pkeep = keep_probabilities(vocab.counts, p.sample) if p.sample > 0 else None
    # carried state: last W tokens of the previous block (ids, doc, sampled window)
    c_ids = np.full(W, -1, np.int32)
    c_doc = np.full(W, -1, np.int64)
    c_b = np.zeros(W, np.int32)
    # L[w, c]: c occurs d <= window tokens left of w.  With a dynamic window, Lr
    # holds the same pairs when the left token's own window reaches right.
    totals = {"L": sp.csr_matrix((V, V), dtype=np.float64)}
    if p.dynamic_window:
        totals["Lr"] = sp.csr_matrix((V, V), dtype=np.float64)
    n_in_vocab = 0
    pending: list = []
    from embedcli.fileio import disk_size

    size = disk_size(path) if segment is None else segment[1] - segment[0]
    dense = _DenseTable(V, units, totals, dense_product(V, W, size))

    # Partial sums as a binary counter: a block joins the stack, and two sums of equal weight merge,
    # so each count is copied O(log blocks) times, not once per later block.  Sums are exact
    # (integer units), so the grouping does not change a bit.
    stacks: dict[str, list] = {key: [] for key in totals}

    def push(key: str, m) -> None:
        st = stacks[key]
        st.append([1, m.astype(np.float64)])  # float64 holds integers exactly to 2**53: no int32 overflow
        while len(st) > 1 and st[-2][0] <= st[-1][0]:
            w, top = st.pop()
            st[-1][0] += w
            st[-1][1] = st[-1][1] + top

    def collect(limit: int) -> None:
        while len(pending) > limit:
            for key, m in pending.pop(0).result().items():
                push(key, m)

    # Worker processes decode blocks and look words up (the GIL-bound part); threads count
    # blocks (numpy and scipy release the GIL in the large array operations) while this
    # thread sums finished blocks (push, above).
    workers = p.workers or cores()
    with heap_reuse(), ThreadPoolExecutor(max_workers=max(2, workers)) as pool:  # the pieces' temporaries: reused
        for ids, doc in iter_id_blocks(path, vocab.index, progress, workers, segment=segment):
            if p.cross_documents:
                doc = np.zeros_like(doc)
            if pkeep is not None:
                r = rng.random(len(ids))
                keep = (ids < 0) | (r < pkeep[np.maximum(ids, 0)])
                ids, doc = ids[keep], doc[keep]
            b = rng.integers(1, W + 1, size=len(ids), dtype=np.int32) if p.dynamic_window else None
            if not len(ids):
                continue
            n_in_vocab += int((ids >= 0).sum())
            f_ids = np.concatenate([c_ids, ids])
            f_doc = np.concatenate([c_doc, doc])
            f_b = np.concatenate([c_b, b]) if p.dynamic_window else None
            pending.append(pool.submit(_count_block, f_ids, f_doc, f_b, wts, V, dense))
            c_ids, c_doc = f_ids[-W:].copy(), f_doc[-W:].copy()
            if p.dynamic_window:
                c_b = f_b[-W:].copy()
            collect(max(2, workers))
        collect(0)
    with heap_reuse():  # (the counting's heap was trimmed on leaving it: this sum's temporaries reuse each other)
        for key, st in stacks.items():
            for _, m in st:
                totals[key] = totals[key] + m
            st.clear()
            totals[key] = totals[key] + dense.matrix(key, V)  # disjoint entries: pairs of two frequent words
    if progress is not None:
        progress.close()
    return totals, n_in_vocab, scale


def assemble(totals: dict, p: CooccurSpec, scale: int) -> sp.csr_matrix:
    """The matrix of ``p.context`` from :func:`count_units`' sums, divided by ``scale`` once."""
    L = totals["L"]
    Lr = totals.get("Lr")
    if p.context == "left":
        M = L
    elif p.context == "right":
        M = (Lr if p.dynamic_window else L).T.tocsr()
    else:
        M = L + (Lr if p.dynamic_window else L).T.tocsr()  # exact: sums of integers (see weight_units)
    M = M.tocsr()
    M.sum_duplicates()
    M.sort_indices()
    if scale != 1:
        M.data /= scale
    return M


#: Pairs whose 1-based frequency ranks multiply to at most this are counted in a dense table
#: (:class:`_DenseTable`), as GloVe's ``cooccur`` does (its ``max_product``; Pennington, Socher &
#: Manning 2014, glove/src/cooccur.c).  The table has ``sum_r min(V, P // r)`` int64 cells: 114 MiB
#: for 31,146 words, at most about ``P (ln P + 0.6)`` cells (242 MiB) for any vocabulary; two with
#: a dynamic window.  On english-mix (window 5) it takes 87% of the pairs.
DENSE_PRODUCT = 2**21


def _table_cells(V: int, product: int) -> int:
    return int(np.minimum(V, product // np.arange(1, V + 1, dtype=np.int64)).sum())


def dense_product(V: int, window: int, n_bytes: int | None) -> int:
    """The rank-product bound of the dense table for ``V`` words: :data:`DENSE_PRODUCT`, halved
    while the table would have more cells than the text has (left) pairs, estimated as
    ``window * n_bytes / 6`` (about 6 bytes a token of English; a compressed file's stored size
    underestimates, so the table is smaller).  A large vocabulary on a small text then pays for no
    table it cannot fill.  ``n_bytes`` None (unknown size): the full bound."""
    product = DENSE_PRODUCT
    if n_bytes is None:
        return product
    pairs = window * n_bytes / 6
    while product > 1 and _table_cells(V, product) > pairs:
        product //= 2
    return product if _table_cells(V, product) <= pairs else 0


#: Largest sum an int32 table cell holds; the table is emptied into a sparse sum before a
#: piece could take a cell past it (:meth:`_DenseTable.add`).
TABLE_LIMIT = 2**31 - 1

#: Largest weight unit for which the table sums in int32 (harmonic windows up to 6, uniform,
#: linear up to 256); larger units would fill int32 cells quickly, so they keep int64.
INT32_UNITS = 2**8


class _DenseTable:
    """Summed weights of the pairs ``(r, c)`` with ``(r + 1) (c + 1) <= product`` (two frequent
    words; the region is symmetric), row ``r`` holding columns ``0 .. limit[r] - 1`` from flat
    offset ``start[r]``; one table per matrix key (``"L"``, ``"Lr"``), shared by the counting
    threads.  Integer weight units up to :data:`INT32_UNITS` are summed in int32 (half the memory
    of int64), larger ones in int64, either way exactly and in any order; float32 weights in
    float64."""

    def __init__(self, V: int, units: np.ndarray, keys, product: int) -> None:
        limit = np.minimum(V, product // np.arange(1, V + 1, dtype=np.int64)) if product else np.zeros(V, np.int64)
        self.offsets = np.concatenate([[0], np.cumsum(limit)])  # (V + 1,) int64
        cells = int(self.offsets[-1])
        self.limit = limit.astype(np.int32)
        self.start = self.offsets[:-1].astype(np.int32 if cells < 2**31 else np.int64)
        if not np.issubdtype(units.dtype, np.integer):
            self.dtype = np.float64
        elif int(units.max()) <= INT32_UNITS and PAIRS_PER_PRODUCT * int(units.max()) <= TABLE_LIMIT:
            self.dtype = np.int32
        else:
            self.dtype = np.int64
        self.tables = {key: np.zeros(cells, self.dtype) for key in keys}  # pages are mapped when first written
        self.bound = dict.fromkeys(keys, 0)  # no cell of an int32 table exceeds this
        self.emptied: dict = dict.fromkeys(keys)  # an int32 table's earlier sums, one CSR matrix
        self.lock = threading.Lock()

    def add(self, key: str, flat: np.ndarray, w: np.ndarray) -> None:
        """Add weights ``w`` (one piece's) at flat positions ``start[r] + c``."""
        if not len(flat):
            return
        w = w.astype(self.dtype)
        with self.lock:  # np.add.at is not atomic
            if self.dtype == np.int32:
                total = int(w.sum(dtype=np.int64))
                t = self.tables[key]
                if self.bound[key] + total > TABLE_LIMIT:  # a cell might overflow: look at the largest
                    self.bound[key] = int(t.max())
                    if self.bound[key] + total > TABLE_LIMIT:  # it could: move the sums out
                        part = self._csr(t, len(self.limit))
                        self.emptied[key] = part if self.emptied[key] is None else self.emptied[key] + part
                        t[:] = 0
                        self.bound[key] = 0
                self.bound[key] += total
            np.add.at(self.tables[key], flat, w)

    def _csr(self, t: np.ndarray, V: int) -> sp.csr_matrix:
        nz = np.flatnonzero(t)  # sorted: row by row
        indptr = np.searchsorted(nz, self.offsets)  # row r's cells are nz[indptr[r]:indptr[r + 1]]
        cols = (nz - np.repeat(self.offsets[:-1], np.diff(indptr))).astype(np.int32)
        return sp.csr_matrix((t[nz].astype(np.float64), cols, indptr), shape=(V, V))

    def matrix(self, key: str, V: int) -> sp.csr_matrix:
        """Table ``key`` as a canonical ``(V, V) float64`` CSR matrix (and the table is freed)."""
        M = self._csr(self.tables.pop(key), V)
        part = self.emptied.pop(key)
        return M if part is None else M + part  # integers in float64: exact sums


#: Most (token, context) slots counted at once (one piece of a block): bounds the working set
#: (tens of bytes a slot) whatever the window, e.g. 4,000 tokens a piece at window 1,000.
PAIRS_PER_PRODUCT = 4_000_000


def _count_block(f_ids: np.ndarray, f_doc: np.ndarray, f_b: np.ndarray | None, wts: np.ndarray, V: int,
                 dense: "_DenseTable | None" = None) -> dict:
    """Counts of one block; the first ``W`` entries of the arrays are carried context only.

    A block with more than :data:`PAIRS_PER_PRODUCT` slots is counted in pieces
    (each with its own ``W`` tokens of left context) whose results are summed.
    """
    W = len(wts)
    n = len(f_ids) - W
    step = max(1, PAIRS_PER_PRODUCT // W)
    if n <= step:
        return _count_piece(f_ids, f_doc, f_b, wts, V, dense)
    parts: dict[str, list] = {}

    def merged(ms: list) -> sp.csr_matrix:
        ms = [m.tocoo() for m in ms]
        rows = np.concatenate([m.row for m in ms])
        cols = np.concatenate([m.col for m in ms])
        data = np.concatenate([m.data.astype(np.float64) for m in ms])
        out = sp.csr_matrix((data, (rows, cols)), shape=(V, V))
        out.sum_duplicates()
        return out

    for s in range(0, n, step):
        e = min(n, s + step) + W
        got = _count_piece(f_ids[s:e], f_doc[s:e], None if f_b is None else f_b[s:e], wts, V, dense)
        for key, m in got.items():
            acc = parts.setdefault(key, [])
            acc.append(m)
            # merge when the pending pieces outgrow the merged sum: bounded memory, linear total work
            if sum(x.nnz for x in acc[1:]) > max(2 * PAIRS_PER_PRODUCT, acc[0].nnz):
                parts[key] = [merged(acc)]
    return {key: merged(ms) for key, ms in parts.items()}


def _count_piece(f_ids: np.ndarray, f_doc: np.ndarray, f_b: np.ndarray | None, wts: np.ndarray, V: int,
                 dense: "_DenseTable | None") -> dict:
    W = len(wts)
    n = len(f_ids) - W
    ids = f_ids[W:]
    # (W, n) views whose rows are contiguous: row j holds each new token's context at distance W - j
    ctx = sliding_window_view(f_ids, n)[:W]
    valid = (ctx >= 0) & (sliding_window_view(f_doc, n)[:W] == f_doc[W:]) & (ids >= 0)
    if f_b is None:
        return {"L": _pair_counts(ids, ctx, valid, wts, V, dense, "L")}
    dist = np.arange(W, 0, -1, dtype=np.int32)[:, None]  # distance of each row
    return {
        "L": _pair_counts(ids, ctx, valid & (dist <= f_b[W:]), wts, V, dense, "L"),
        "Lr": _pair_counts(ids, ctx, valid & (dist <= sliding_window_view(f_b, n)[:W]), wts, V, dense, "Lr"),
    }


def _pair_counts(ids: np.ndarray, ctx: np.ndarray, valid: np.ndarray, wts: np.ndarray, V: int,
                 dense: "_DenseTable | None" = None, key: str = "L") -> sp.csr_matrix:
    """Summed weights of the (word, left context) pairs of one piece, ``ids (n,)`` against
    ``ctx``/``valid`` ``(W, n)`` (row ``j``: distance ``W - j``, weight ``wts[j]``): a canonical
    ``(V, V)`` CSR matrix.  With ``dense``, pairs in its region go to its table
    ``key`` instead."""
    if dense is not None:
        word = np.maximum(ids, 0)  # -1 (out of the vocabulary) is not valid anyway
        in_table = valid & (ctx < dense.limit[word])
        dense.add(key, (dense.start[word] + ctx)[in_table], np.repeat(wts, in_table.sum(axis=1)))
        valid = valid & ~in_table
    rows = np.broadcast_to(ids, ctx.shape)[valid]
    # duplicates summed in weight units (exact; float32 weights only beyond MAX_WEIGHT_SCALE)
    return sp.csr_matrix((np.repeat(wts, valid.sum(axis=1)), (rows, ctx[valid])), shape=(V, V))
