"""Work on a Dask cluster (``--scheduler``): tokenizing, counting (vocabulary, co-occurrence and
term-document matrices) and the randomized SVD's products, for corpora bigger than one machine.

Tokenizing: the client reads the inputs in blocks, the workers tokenize them (:class:`DaskBlocks`),
the client stitches and writes the results in order.  Counting: the tokens file is cut into byte
ranges at line ends (:func:`embedcli.fileio.line_segments`); each range is one task, counted on a
worker by the same code as in-process (``vocab.count_tokens``, ``cooccur.count_units`` with one
worker, ``termdoc.termdoc_counts``).  Token counts are summed by a tree on the workers; the
co-occurrence counts of each group of :data:`GROUP_SEGMENTS` ranges are summed on the workers (one
tree per band of rows) and the client adds the groups' sums, so that no worker holds more than a
few ranges' counts.  Token counts are integers and co-occurrence weights are counted in integer
units (:func:`embedcli.cooccur.weight_units`), so every sum is exact: the result is the same bits
as the in-process run, whatever the number of workers, the order tasks finish in, or a task re-run
after a worker died (Dask re-runs the tasks of a lost worker).  The client writes every output
once, atomically.

Workers must be able to read the tokens file: the same path (a shared filesystem) or an fsspec URL
(``s3://...``) whose backend they have.  ``dask[distributed]`` is the ``dask`` extra (``pip install
'embedcli[dask]'``), imported only here.
"""

from __future__ import annotations

import contextlib
import os
from collections import Counter

from embedcli.cluster import CONNECT_WAIT, WORKER_WAIT, connect  # noqa: F401  (re-exported)
from embedcli.errors import InputError, ParameterError

#: Bytes of the tokens file per task: enough work to hide the scheduling overhead, small enough
#: that a worker's memory stays bounded (about 10x this while counting).
SEGMENT_BYTES = 32 << 20
#: Byte ranges whose counts a worker sums before the client takes the sums: bounds a worker's memory
#: (about this many ranges' partial matrices) independently of the corpus length.
GROUP_SEGMENTS = 4


def _tree_sum(client, futures: list, add):
    """Sum ``futures`` pairwise on the workers (a tree of depth log2 n); returns the future of the sum."""
    while len(futures) > 1:
        # priority: a ready sum runs before more counting, so partial counts do not pile up
        nxt = [client.submit(add, a, b, pure=False, priority=1) for a, b in zip(futures[::2], futures[1::2])]
        if len(futures) % 2:
            nxt.append(futures[-1])
        futures = nxt
    return futures[0]


def _add(a, b):
    return a + b


@contextlib.contextmanager
def whole_file_lines(path: str, segment: tuple[int, int]):
    """An error reading byte range ``segment`` of ``path`` (a task here, a worker process in
    :func:`embedcli.vocab.count_tokens`) names the line of the whole file: line numbers are counted
    from the range's first line while reading, so the lines before the range are counted here, on
    error only."""
    import re

    from embedcli.errors import EmbedcliError

    try:
        yield
    except EmbedcliError as e:
        if segment[0] == 0:
            raise
        msg = str(e)
        m = re.match(re.escape(path) + r":(\d+):", msg)
        if m is None:
            raise type(e)(f"{msg} (line counted from byte {segment[0]:,} of the file)") from None
        before = _lines_before(path, segment[0])
        raise type(e)(f"{path}:{int(m.group(1)) + before}:{msg[m.end():]}") from None


def _lines_before(path: str, end: int) -> int:
    from embedcli.fileio import _open_raw

    n = 0
    with _open_raw(path) as f:
        while end > 0:
            block = f.read(min(end, 1 << 22))
            if not block:
                break
            n += block.count(b"\n")
            end -= len(block)
    return n


def _segment_counter(path: str, segment: tuple[int, int]) -> Counter:
    from embedcli.vocab import count_tokens

    with whole_file_lines(path, segment):
        return count_tokens(path, None, segment)


def _segment_units(path: str, vocab, spec, segment: tuple[int, int], edges: list[int]) -> list:
    """Worker: one byte range's counts (integer weight units), cut into the row bands ``edges``;
    the last item is the number of in-vocabulary tokens."""
    from embedcli.cooccur import count_units

    with whole_file_lines(path, segment):
        totals, tokens, _ = count_units(path, vocab, spec.replace(workers=1), None, segment)
    L = totals["L"].tocsr()
    return [L[a:b] for a, b in zip(edges, edges[1:])] + [tokens]


def row_bands(counts, n_bands: int) -> list[int]:
    """Row edges ``[0, ..., V]`` cutting a frequency-sorted vocabulary into ``n_bands`` bands of about
    equal expected non-zeros (a word's distinct contexts grow about as the square root of its
    count), so that no worker holds much more than its share of the matrix while summing."""
    import numpy as np

    w = np.sqrt(np.maximum(np.asarray(counts, dtype=np.float64), 0))
    cum = np.cumsum(w)
    if len(w) == 0 or cum[-1] == 0:
        return [0, len(w)]
    cuts = np.searchsorted(cum, cum[-1] * np.arange(1, n_bands) / n_bands)
    return sorted({0, len(w), *(int(c) for c in cuts if 0 < c < len(w))})


def _track(futures: list, sizes: list[int], progress, keep=None) -> None:
    """Progress (bytes of the file counted) as the tasks finish; re-raises a task's error.  Takes
    ``futures`` over (the list is emptied): a finished task's result is released as soon as the sums
    that use it have run (or, with ``keep(i, result)``, once it is handed to ``keep`` with the
    task's index), so workers never hold every partial count at once."""
    from dask.distributed import as_completed

    done = 0
    place = {f.key: (i, size) for i, (f, size) in enumerate(zip(futures, sizes))}
    pending = as_completed(futures)
    futures.clear()
    for fut in pending:
        if fut.status == "error":
            fut.result()  # raises the task's exception (a DataError keeps its message)
        i, size = place[fut.key]
        if keep is not None:
            keep(i, fut.result())
        del fut
        done += size
        if progress is not None:
            progress.update(done)


def _segments(client, path: str, segment_bytes: int | None) -> tuple[str, list[tuple[int, int]]]:
    """``(absolute path or URL, byte ranges)``, after checking that every worker sees the same file
    there (same size, same first and last 64 kB).

    Raises:
        InputError: stdin, a compressed or missing file, or a file the workers see differently.
        DependencyError: a URL whose fsspec backend the client lacks.
    """
    from embedcli.fileio import is_url, line_segments

    size = check_input(path)
    if not is_url(path):
        path = os.path.abspath(path)
    segs = line_segments(path, segment_bytes or SEGMENT_BYTES)
    mine = _identity_or_why(path)
    try:
        seen = client.run(_identity_or_why, path)
    except Exception as e:  # noqa: BLE001  e.g. embedcli (or its version) missing on a worker
        why = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise InputError(f"--scheduler: a worker cannot run embedcli ({type(e).__name__}: {why}); install the same "
                         "embedcli on every worker") from None
    bad = {w: got for w, got in seen.items() if got != mine}
    if bad:
        w, got = next(iter(bad.items()))
        why = f"cannot read it ({got})" if isinstance(got, str) else f"sees {got[0]:,} bytes, not {size:,}" \
            if got[0] != size else "sees another file of the same size (its first or last 64 kB differ)"
        where = "the same URL (and its fsspec backend)" if is_url(path) else "the same file at the same path: a " \
            "shared filesystem"
        raise InputError(f"{path}: worker {w} {why} (the workers need {where})")
    return path, segs


def _identity_or_why(path: str):
    """Worker and client: ``[size, SHA-1 of the first and last 64 kB]`` of a file (``[size, ""]`` for a
    URL), or why it cannot be read (a string).  Cheap, and tells a stale copy of the same size apart."""
    import hashlib

    from embedcli.errors import EmbedcliError
    from embedcli.fileio import input_size, is_url

    try:
        size = input_size(path)
        if is_url(path):
            return [size, ""]
        h = hashlib.sha1()
        with open(path, "rb") as f:
            h.update(f.read(1 << 16))
            if size > 1 << 16:
                f.seek(max(size - (1 << 16), 1 << 16))
                h.update(f.read(1 << 16))
        return [size, h.hexdigest()]
    except (EmbedcliError, OSError) as e:
        return str(e)


def check_spec(spec) -> None:
    """Refuse, before any work, what cannot run on a cluster: co-occurrence ``sample``,
    ``dynamic_window``, ``cross_documents`` (one random stream / windows over the whole file in
    order) and the ``arpack`` SVD solver.

    Raises:
        ParameterError: naming the parameter.
    """
    for name in ("sample", "dynamic_window", "cross_documents"):
        if getattr(spec, name, None):
            raise ParameterError(name, getattr(spec, name), "cannot run on a cluster (--scheduler): it needs one "
                                 "pass over the whole file in order")
    if getattr(spec, "solver", None) == "arpack":
        raise ParameterError("solver", "arpack", "cannot run on a cluster (--scheduler): use krylov or randomized "
                             "(--preset quality also selects arpack)")


def check_input(path: str) -> int:
    """Refuse, before connecting, a tokens file the workers cannot read by byte ranges: stdin, a
    compressed file, a missing one.  Returns its size in bytes.

    Raises:
        InputError: naming the file.
    """
    from embedcli.fileio import _OPENERS, input_size

    if path == "-":
        raise InputError("-: a cluster reads a file by byte ranges; save standard input to a file first")
    size = input_size(path)  # a missing file is named as such first
    if os.path.splitext(path)[1].lower() in _OPENERS:
        raise InputError(f"{path}: a cluster reads uncompressed files by byte ranges; decompress it first")
    return size


def _ident(x):
    return x


def count_tokens_on(client, path: str, progress=None, segment_bytes: int | None = None) -> Counter:
    """:func:`embedcli.vocab.count_tokens` on a cluster: one task per byte range, Counters summed
    on the workers.  The same counts as in-process."""
    path, segs = _segments(client, path, segment_bytes)
    if not segs:
        return Counter()
    futures = [client.submit(_segment_counter, path, s, pure=False) for s in segs]
    total_f = _tree_sum(client, list(futures), _add)  # sums run as soon as their two inputs are in
    _track(futures, [b - a for a, b in segs], progress)
    total = total_f.result()
    if progress is not None:
        progress.close()
    return total


def cooccurrence_on(client, path: str, vocab, spec, progress=None, segment_bytes: int | None = None,
                    group: int | None = None):
    """:func:`embedcli.cooccur.cooccurrence_matrix` on a cluster: the same ``(V, V) float64`` CSR
    matrix, bit for bit.

    Memory: each worker sums the counts of ``group`` consecutive byte ranges (:data:`GROUP_SEGMENTS`),
    one tree per row band, and the client takes each group's band sums as soon as they are done and
    adds them up (a binary counter per band; it holds the whole matrix anyway, to write it).  At most
    one group per worker plus one is submitted ahead of the client's additions.  So a worker holds a
    few ranges' partial counts, whatever the corpus length; the client's additions are the serial
    part of the run.

    Raises:
        ParameterError: ``sample``, ``dynamic_window`` or ``cross_documents`` (they depend on one
            random stream, or on windows across line ends, over the whole file in order).
        DataError: no token of the vocabulary in the file.
    """
    import operator

    import scipy.sparse as sp
    from dask.distributed import as_completed

    from embedcli.cooccur import assemble, weight_units
    from embedcli.errors import DataError

    check_spec(spec)
    path, segs = _segments(client, path, segment_bytes)
    if not segs:
        raise DataError(f"{path}: no token of the vocabulary occurs in it")
    group = max(1, group or GROUP_SEGMENTS)
    workers = max(1, len(client.scheduler_info()["workers"]))
    edges = row_bands(vocab.counts, 4 * workers)
    n = len(edges) - 1
    # a task's argument, not scattered data: the scheduler can re-create it if its worker dies
    vocab_f = client.submit(_ident, vocab, pure=False)
    groups = [segs[g:g + group] for g in range(0, len(segs), group)]
    pending = as_completed()
    size_of: dict = {}
    band_of: dict = {}
    left: dict = {}

    def submit_group(gi: int) -> None:
        # the group's ranges, then one tree sum per row band (priority 1: a ready sum runs before
        # more counting), so that partial counts are released as they are summed
        fs = [client.submit(_segment_units, path, vocab_f, spec, s, edges, pure=False) for s in groups[gi]]
        for f, (a, b) in zip(fs, groups[gi]):
            size_of[f.key] = b - a
            pending.add(f)
        for i in range(n + 1):
            t = _tree_sum(client, [client.submit(operator.getitem, f, i, pure=False, priority=1) for f in fs], _add)
            band_of[t.key] = (i, gi)
            pending.add(t)
        left[gi] = n + 1

    # back-pressure: at most one group per worker plus one is submitted ahead of the client's
    # additions, so that workers cannot count far ahead while finished sums wait to be taken
    nxt = min(workers + 1, len(groups))
    for gi in range(nxt):
        submit_group(gi)
    stacks: list[list] = [[] for _ in range(n + 1)]  # per band, partial sums as a binary counter
    done = 0
    for fut in pending:
        if fut.status == "error":
            fut.result()  # raises the task's exception (a DataError keeps its message)
        if fut.key in size_of:
            done += size_of.pop(fut.key)
            if progress is not None:
                progress.update(done)
            continue
        (i, gi), part = band_of.pop(fut.key), fut.result()
        del fut  # the worker's copy goes once the client has it
        _push(stacks[i], part)
        del part
        left[gi] -= 1
        if not left[gi] and nxt < len(groups):
            submit_group(nxt)
            nxt += 1
    pending = None
    if progress is not None:
        progress.close()
    totals = [_total(st) for st in stacks]
    stacks = None
    if not totals[n]:
        raise DataError(f"{path}: no token of the vocabulary occurs in it")
    L = sp.vstack(totals[:n], format="csr")
    totals = None
    return assemble({"L": L}, spec, weight_units(spec.window, spec.window_weighting)[1])


def _push(stack: list, part) -> None:
    """Add ``part`` to a binary counter of partial sums ``[(weight, sum), ...]``: two sums of equal
    weight merge, so each count is added about log2(groups) times rather than once per group."""
    w = 1
    while stack and stack[-1][0] == w:
        part = stack.pop()[1] + part
        w *= 2
    stack.append((w, part))


def _total(stack: list):
    total = None
    while stack:  # smallest first
        part = stack.pop()[1]
        total = part if total is None else total + part
    return total


def _segment_termdoc(path: str, vocab, segment: tuple[int, int]):
    from embedcli.termdoc import termdoc_counts

    with whole_file_lines(path, segment):
        return termdoc_counts(path, vocab, None, 1, segment)


def termdoc_on(client, path: str, vocab, progress=None, segment_bytes: int | None = None):
    """:func:`embedcli.termdoc.count_termdoc` on a cluster: one task per byte range counts its lines'
    term frequencies; the client puts the column blocks side by side in file order.  The same
    ``(V, n_docs) float64`` CSR matrix (counts are integers); a worker holds one range's columns.
    May have no non-zero (the caller refuses that)."""
    import scipy.sparse as sp

    path, segs = _segments(client, path, segment_bytes)
    if not segs:
        return sp.csr_matrix((len(vocab), 0))
    vocab_f = client.submit(_ident, vocab, pure=False)
    futures = [client.submit(_segment_termdoc, path, vocab_f, s, pure=False) for s in segs]
    parts: list = [None] * len(segs)
    _track(futures, [b - a for a, b in segs], progress, lambda i, m: parts.__setitem__(i, m.tocsc()))
    return sp.hstack(parts, format="csr")


class DaskBlocks:
    """:class:`embedcli.parallel.ProcessBlocks` on a cluster: ``submit(*args)`` runs ``fn(*args)`` as
    a task and returns its future; the caller takes results in submission order (so the output is
    the in-process output), keeping at most ``in_flight`` pending: four per worker thread, enough to
    hide the round trip.  The blocks are the task arguments, so the workers need no access to the
    input files (stdin and compressed files work); the client reads and writes.
    """

    def __init__(self, client, fn):
        self.client, self.fn = client, fn
        threads = sum(w.get("nthreads", 1) for w in client.scheduler_info()["workers"].values())
        self.in_flight = 4 * max(1, threads)

    def submit(self, *args):
        return self.client.submit(self.fn, *args, pure=False)

    def __enter__(self) -> "DaskBlocks":
        return self

    def __exit__(self, *exc) -> bool:
        return False


def _block_product(item, B):
    """One row block's rows of ``X @ B``: its column tiles' products summed in order (as
    :class:`embedcli.parallel.SparseOperator` does, hence the same bits)."""
    import numpy as np

    from embedcli.parallel import add_tile_products

    s, e, cols = item
    acc = np.zeros((e - s, B.shape[1]), dtype=B.dtype)
    add_tile_products(acc, cols, B)
    return s, acc


class DaskOperator:
    """:class:`embedcli.parallel.SparseOperator` on a cluster: the tiles of ``X`` and ``X^T`` live on
    the workers (sent once, as tasks the scheduler can re-run); each product broadcasts the thin dense block, runs one task per
    row block and gathers the rows.  Tiles and sums are those of the in-process operator, so every
    product, and the randomized SVD built on them, is the same bits as in-process.

    Args:
        client: a ``dask.distributed`` client.
        X: ``(n, m)`` sparse matrix (float32 for the randomized solver).
        progress: optional; told about the tasks of each product.
    """

    def __init__(self, client, X, width: int | None = None):
        import numpy as np
        import scipy.sparse as sp

        from embedcli.parallel import BLOCKS_PER_THREAD, COLUMNS_PER_BLOCK, _tiles, symmetric_to_rounding

        X = sp.csr_matrix(X)
        self.shape, self.dtype, self._client = X.shape, X.dtype, client
        workers = max(1, len(client.scheduler_info()["workers"]))
        parts = 2 * workers * BLOCKS_PER_THREAD
        width = width or COLUMNS_PER_BLOCK
        # tasks' arguments rather than scattered data, so that a lost worker's tiles are re-created
        self._tiles = [client.submit(_ident, t, pure=False) for t in _tiles(X, parts, width)]
        self.symmetric = symmetric_to_rounding(X)
        if self.symmetric:  # as in-process: one set of tiles for both products
            self._tiles_t = self._tiles
        else:
            self._tiles_t = [client.submit(_ident, t, pure=False) for t in _tiles(X.T.tocsr(), parts, width)]
        self._np = np

    def __enter__(self) -> "DaskOperator":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._tiles = self._tiles_t = None  # releasing the futures frees the workers' copies

    def matmul(self, B, out=None):
        """``X @ B``: ``(n, l)`` from ``B`` ``(m, l)``; ``out`` as :meth:`SparseOperator.matmul`."""
        return self._product(self._tiles, self.shape[0], B, out)

    def rmatmul(self, B, out=None):
        """``X^T @ B``: ``(m, l)`` from ``B`` ``(n, l)``."""
        return self._product(self._tiles_t, self.shape[1], B, out)

    def _product(self, tiles, n_rows: int, B, out=None):
        from embedcli.parallel import check_out

        np = self._np
        B = np.ascontiguousarray(B, dtype=np.result_type(self.dtype, B.dtype))
        Bf = self._client.submit(_ident, B, pure=False)
        out = check_out(out, (n_rows, B.shape[1]), B.dtype)
        out[...] = 0  # a matrix with no stored entry has no row block (the tiles here are futures)
        for s, acc in self._client.gather([self._client.submit(_block_product, t, Bf, pure=False) for t in tiles]):
            out[s:s + len(acc)] = acc
        return out
