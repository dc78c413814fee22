"""Both cores: worker processes for text blocks, threads for sparse products.

:class:`ProcessBlocks` runs a function over a stream of blocks (of text) in a
fork process pool, results in submission order; the tokenizer and the
co-occurrence counter use it for the work that holds Python's GIL (decoding,
regular expressions, dictionary lookups).

:class:`SparseOperator`: scipy's compiled sparse kernels release the GIL, so threads multiplying
disjoint row blocks of a CSR matrix run at the same time.  Blocks are cut so
that each holds about the same number of non-zeros (rows of a frequency-sorted
word matrix differ by orders of magnitude), and each row of the result is
computed by the same loop whatever the split, so the product is bit-identical
to ``X @ B`` for any number of threads.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import threading
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from typing import Callable

import numpy as np
import scipy.sparse as sp

from embedcli.outputs import PENDING_EXIT

#: the signals the CLI handles; blocked while a worker is forked (see :func:`_worker_init`)
_SIGNALS = {getattr(signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP", "SIGUSR1", "SIGUSR2", "SIGALRM", "SIGQUIT")
            if hasattr(signal, n)}


def _worker_init(init: Callable | None = None, *args) -> None:
    """Pool workers: Ctrl-C, and SIGTERM, SIGHUP or SIGQUIT sent to the whole process group (GNU
    ``timeout``, a closed terminal, Ctrl-\\), reach every process, but only the parent reacts (and
    stops them): a worker killed while it sent a result could leave the pool waiting forever for
    the rest of the message.  The parent's other handlers are reset to the default (die); and on
    Linux a worker is killed when its parent dies, whatever killed the parent (SIGKILL included).
    Then ``init(*args)``, if given.

    Workers are forked with these signals blocked (:meth:`ProcessBlocks.submit`), so a Ctrl-C in
    the moment a worker starts cannot run the parent's handler in it (the worker died, the pool
    broke and the run could hang); they are unblocked here, once the worker's own handlers are set."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for name in ("SIGTERM", "SIGHUP", "SIGQUIT"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_IGN)
    for name in ("SIGUSR1", "SIGUSR2", "SIGALRM"):
        if hasattr(signal, name) and signal.getsignal(getattr(signal, name)) != signal.SIG_IGN:  # nohup: kept
            signal.signal(getattr(signal, name), signal.SIG_DFL)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _SIGNALS)
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
        if os.getppid() == 1:  # the parent died before prctl took effect
            os._exit(1)
    except (OSError, AttributeError):
        pass
    from embedcli.memory import worker_heap

    worker_heap()
    if init is not None:
        init(*args)


class ProcessBlocks:
    """Runs ``fn(*args)`` per block in a process pool (fork) once a second block shows up (or from
    the first with ``eager``: the caller knows there will be several, and the first block then
    does not keep the other core idle), in this process before that, with one worker, or where
    fork is unavailable.

    ``submit(*args)`` returns a :class:`~concurrent.futures.Future`; callers keep
    at most ``in_flight`` futures pending and take results in submission order, so
    output never depends on the number of workers.  ``initializer(*initargs)``
    runs once in each worker (and once here before the first serial block), e.g.
    to install a vocabulary without sending it with every block.  Use as a
    context manager: the pool is shut down (pending work cancelled) on exit.
    """

    def __init__(self, fn: Callable, workers: int, initializer: Callable | None = None, initargs: tuple = (),
                 eager: bool = False):
        self.fn = fn
        self.eager = eager
        self.workers = workers
        self.initializer = initializer
        self.initargs = initargs
        self.pool = None
        self.n = 0
        self.in_flight = 1

    def submit(self, *args) -> Future:
        if PENDING_EXIT:  # a signal whose exception was swallowed (e.g. in a fork hook): stop now
            raise SystemExit(PENDING_EXIT[0])
        self.n += 1
        if self.n == 1 and self.initializer is not None:
            self.initializer(*self.initargs)
        if self.pool is None and self.workers > 1 and self.n == (1 if self.eager else 2) and "fork" in mp.get_all_start_methods():
            self.pool = ProcessPoolExecutor(self.workers, mp_context=mp.get_context("fork"), initializer=_worker_init,
                                            initargs=(self.initializer, *self.initargs))
            self.in_flight = self.workers + 1
        if self.pool is None:
            f: Future = Future()
            try:
                f.set_result(self.fn(*args))
            except Exception as e:
                f.set_exception(e)
            return f
        if not hasattr(signal, "pthread_sigmask"):
            return self.pool.submit(self.fn, *args)
        # a submit may fork workers: they start with the signals blocked; here, a signal that came
        # meanwhile is delivered when the mask is restored, outside the fork's own code
        old = signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
        try:
            return self.pool.submit(self.fn, *args)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)

    def __enter__(self) -> "ProcessBlocks":
        return self

    def __exit__(self, *exc) -> bool:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
        return False


#: Row blocks per thread: a few, so that a block's uneven cost evens out across threads.
BLOCKS_PER_THREAD = 4

#: Columns per column block: the rows of the dense factor that one block gathers
#: (1,024 x 120 float32 = 480 kB) then stay in the core's L2 cache (1 MB a core here).  Measured by
#: ``benchmarks/bench_products.py`` on the pipeline's PPMI matrix, since products are summed in place:
#: 62-64 ms a product against 74-76 ms at 4,096 columns and 91 ms for whole rows.  With the in-place
#: sums the width does not change the result (each row is summed in column order, as scipy's).
COLUMNS_PER_BLOCK = 1024


def row_blocks(X: sp.csr_matrix, parts: int) -> list[tuple[int, int, sp.csr_matrix]]:
    """``X`` as about ``parts`` row blocks of equal non-zero counts: ``(start, end, block)``.

    Each block shares ``data`` and ``indices`` with ``X`` (no copy of the
    non-zeros; only its ``indptr`` slice is rebased).
    """
    n = X.shape[0]
    cuts = np.searchsorted(X.indptr, np.linspace(0, X.nnz, parts + 1), side="left")
    cuts = np.unique(np.clip(cuts, 0, n))
    cuts[0], cuts[-1] = 0, n
    out = []
    for s, e in zip(cuts[:-1], cuts[1:]):
        if e <= s:
            continue
        lo, hi = X.indptr[s], X.indptr[e]
        block = sp.csr_matrix((X.data[lo:hi], X.indices[lo:hi], X.indptr[s:e + 1] - lo), shape=(e - s, X.shape[1]),
                              copy=False)
        out.append((int(s), int(e), block))
    return out


def _tiles(X: sp.csr_matrix, parts: int, width: int, pool=None) -> list[tuple[int, int, list]]:
    """Row blocks of ``X`` (as :func:`row_blocks`), each cut into column blocks of ``width``
    columns: ``(start, end, [(col_start, col_end, csr), ...])``.  Together the tiles hold
    one copy of the non-zeros.  Row cuts never split a row's sum, so products do not
    depend on ``parts``; they depend on ``width`` (the order of the sums over tiles)."""
    m = X.shape[1]

    def cut(item):
        s, e, block = item
        csc = block.tocsc()
        cols = []
        for c0 in range(0, m, width):
            c1 = min(m, c0 + width)
            if csc.indptr[c1] > csc.indptr[c0]:
                cols.append((c0, c1, csc[:, c0:c1].tocsr()))
        return s, e, cols

    blocks = row_blocks(X, parts)
    return list(pool.map(cut, blocks)) if pool is not None else [cut(b) for b in blocks]


#: A square matrix whose products with random vectors agree with its transpose's to this, relative
#: to their norm, counts as symmetric (:func:`symmetric_to_rounding`).
SYMMETRY_TOLERANCE = 1e-6


def symmetric_to_rounding(X: sp.spmatrix) -> bool:
    """Whether ``X`` is its own transpose up to rounding: square, and ``X R`` and ``X^T R`` differ by
    at most :data:`SYMMETRY_TOLERANCE` of ``||X R||`` for a seeded Gaussian ``R (m, 2)`` (so about
    ``||X - X^T||_F <= 1e-6 ||X||_F``; by Weyl's inequality singular values then move by no more).
    PPMI with ``cds`` 1 of a symmetric window's counts is one: float32 rounding of the marginals
    makes its entries differ from their transposes' by up to 5e-7 (on english-mix, about 6e-8 of the
    products' norm with float64 products, 1.3e-7 with float32 ones, which a float32 ``X`` gets).
    Two sparse products, no copy."""
    if X.shape[0] != X.shape[1]:
        return False
    # in X's dtype when it is float32: a float64 R would make scipy copy X to float64 first (0.2 s
    # of fresh pages on english-mix's PPMI, against 0.07 s for both products)
    R = np.random.default_rng(0).standard_normal((X.shape[1], 2)).astype(np.result_type(X.dtype, np.float32))
    a, b = X @ R, X.T @ R
    return bool(np.linalg.norm(a - b) <= SYMMETRY_TOLERANCE * np.linalg.norm(a))


def _kernel():
    """scipy's ``csr_matvecs`` (``Y += A X`` in place: the kernel behind ``csr_matrix @ dense``, which
    also allocates and zeroes the result), if this scipy has it with the signature used here: checked
    once on a 2 x 2 example; None otherwise (the public product is used instead).  The first lookup
    holds a lock: the products' threads ask at once, and one that saw the lookup half-done would
    take the public product, whose sums round differently (the first product of a process then
    differed in the last bits between runs)."""
    global _KERNEL
    if _KERNEL is False:
        with _KERNEL_LOCK:
            if _KERNEL is False:
                found = None
                try:
                    from scipy.sparse._sparsetools import csr_matvecs

                    A = sp.csr_matrix(np.array([[1, 0], [2, 3]], np.float32))
                    X = np.array([[1, 10], [100, 1000]], np.float32)
                    Y = np.ones((2, 2), np.float32)
                    csr_matvecs(2, 2, 2, A.indptr, A.indices, A.data, X.reshape(-1), Y.reshape(-1))
                    if np.array_equal(Y, 1 + A @ X):
                        found = csr_matvecs
                except Exception:  # pragma: no cover - a scipy that moved or changed it
                    pass
                _KERNEL = found
    return _KERNEL


_KERNEL = False  # not looked up yet
_KERNEL_LOCK = threading.Lock()


def add_tile_products(acc: np.ndarray, cols: list, B: np.ndarray) -> None:
    """``acc += sum(tile @ B[c0:c1])`` over one row block's column tiles ``(c0, c1, csr)``, in order.

    ``acc`` ``(rows, l)`` and ``B`` ``(m, l)`` C-contiguous, of one dtype (else ``ValueError``).
    Each tile's product is added straight into ``acc`` by scipy's ``csr_matvecs`` (:func:`_kernel`)
    when the tile has ``B``'s dtype: ``tile @ B`` would allocate a fresh ``(rows, l)`` array for each
    tile, and on this project's machine the page faults of those arrays took a sixth of the SVD's
    time (benchmarks/README.md, "The SVD's memory, BLAS's threads and the tile width").  Otherwise
    (or with a scipy without the kernel) through ``tile @ B``, whose sums may round differently in
    the last bits."""
    if not (acc.flags.c_contiguous and B.flags.c_contiguous and acc.dtype == B.dtype):
        raise ValueError("add_tile_products: acc and B must be C-contiguous arrays of one dtype")
    kernel = _kernel()
    flat = acc.reshape(-1)  # a view: acc is C-contiguous
    for c0, c1, tile in cols:
        part = B[c0:c1]
        if kernel is not None and tile.dtype == B.dtype:
            kernel(tile.shape[0], tile.shape[1], B.shape[1], tile.indptr, tile.indices, tile.data,
                   part.reshape(-1), flat)
        else:
            acc += tile @ part


def check_out(out: np.ndarray | None, shape: tuple[int, int], dtype) -> np.ndarray:
    """``out`` if it can take a product of ``shape`` and ``dtype`` (C-contiguous), else ``ValueError``;
    a new uninitialized array when ``out`` is None."""
    if out is None:
        return np.empty(shape, dtype=dtype)
    if out.shape != shape or out.dtype != dtype or not out.flags.c_contiguous or not out.flags.writeable:
        raise ValueError(f"out must be a writeable C-contiguous {shape} {np.dtype(dtype)} array, "
                         f"not {out.shape} {out.dtype}")
    return out


class SparseOperator:
    """``X`` and ``X^T`` as tiles, multiplied by thin dense blocks on ``threads`` threads.

    Each thread takes a row block and sums its column tiles' products into the
    rows of the result it owns: reads of the dense factor stay within a cache-sized
    slice (:data:`COLUMNS_PER_BLOCK`), and no two threads write the same row.  Holds
    ``X`` and ``X^T`` once each (so that both products gather rows instead of
    scattering).  Sums run over the column tiles in a fixed order, so the result is
    the same for every thread count (it may differ from scipy's ``X @ B`` in the last
    bits).  A matrix that is its own transpose up to rounding (:func:`symmetric_to_rounding`, e.g.
    the default PPMI of a symmetric window) is held once and serves both products.  Use as a
    context manager (the thread pool is shut down on exit).

    Args:
        X: ``(n, m)`` sparse matrix; its non-zeros are copied into the tiles in ``X``'s dtype.
        threads: threads for the products (1: no pool).
    """

    def __init__(self, X: sp.spmatrix, threads: int = 1, width: int = COLUMNS_PER_BLOCK):
        X = sp.csr_matrix(X)
        self.shape = X.shape
        self.dtype = X.dtype
        self.threads = max(1, int(threads))
        parts = self.threads * BLOCKS_PER_THREAD
        self._pool = ThreadPoolExecutor(self.threads) if self.threads > 1 else None
        self._tiles = _tiles(X, parts, width, self._pool)
        self.symmetric = symmetric_to_rounding(X)
        self._tiles_t = self._tiles if self.symmetric else _tiles(X.T.tocsr(), parts, width, self._pool)

    def __enter__(self) -> "SparseOperator":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def matmul(self, B: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """``X @ B``: ``(n, l)`` from ``B`` ``(m, l)``, in the common dtype.  ``out``: a C-contiguous
        ``(n, l)`` array of that dtype, not overlapping ``B``, to write the result into (reusing
        memory instead of fresh pages, which cost here; see :func:`embedcli.svd.randomized_svd`)."""
        return self._product(self._tiles, self.shape[0], B, out)

    def rmatmul(self, B: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """``X^T @ B``: ``(m, l)`` from ``B`` ``(n, l)``; ``out`` as :meth:`matmul`."""
        return self._product(self._tiles_t, self.shape[1], B, out)

    def _product(self, tiles, n_rows: int, B: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        B = np.ascontiguousarray(B, dtype=np.result_type(self.dtype, B.dtype))
        out = check_out(out, (n_rows, B.shape[1]), B.dtype)
        if sum(e - s for s, e, _ in tiles) < n_rows:  # no row block at all: a matrix with no stored entry
            out[...] = 0

        def one(item) -> None:
            s, e, cols = item
            acc = out[s:e]
            acc[...] = 0
            add_tile_products(acc, cols, B)

        if self._pool is None:
            for item in tiles:
                one(item)
        else:
            for _ in self._pool.map(one, tiles):
                pass
        return out
