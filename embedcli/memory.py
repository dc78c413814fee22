"""glibc's malloc and numpy's large arrays: when freed memory goes back to the system.

On this project's machine (a virtual machine), touching fresh pages is expensive: a page's first
write faults, and the kernel zeroes it (``clear_page_erms`` was a sixth of ``embedcli cooccur``'s
CPU samples under ``perf``).  Memory the VM has not used for a few seconds costs most: writing
200 MB of new pages ran at 0.33-0.45 GB/s when nothing had been freed in the last 3 s, and at
5-7.5 GB/s 0.5 s after the same amount was freed (the host gives the guest's free pages back
after a delay); rewriting pages already mapped, at 15-20 GB/s.  Three uses of glibc's mmap and
trim thresholds trade that against memory:

- :func:`return_freed_memory` (the CLI, for the whole run): allocations of 4 MiB and more are
  mapped and unmapped, so freed arrays leave the process's RSS at once;
- :func:`heap_reuse` (around the co-occurrence counting, its sums and ``L + L^T``, and the float32
  SVD solvers, which allocate temporaries of up to 32 MB again and again): those come from the
  heap, where freed blocks are reused without faulting (the heap's top is not trimmed meanwhile
  either), and the heap's free memory is returned afterwards (``malloc_trim``);
- :func:`worker_heap` (the same settings in the worker processes that tokenize, count or decode
  blocks of text, for their whole life: they do nothing but allocate each block's temporaries).

All do nothing on other systems, without glibc, or when the user set ``MALLOC_MMAP_THRESHOLD_``
(or ``glibc.malloc.mmap_threshold`` in ``GLIBC_TUNABLES``); a user's trim threshold is left alone
too.  :func:`heap_reuse` and :func:`worker_heap` also do nothing in a process where
:func:`return_freed_memory` did not run (a library user's process keeps glibc's own dynamic
threshold, which a set value would end).
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading

M_MMAP_THRESHOLD = -3  # mallopt's parameter numbers (malloc.h)
M_TRIM_THRESHOLD = -1

#: glibc's trim threshold once a set mmap threshold has ended its dynamic thresholds (malloc.h's
#: ``DEFAULT_TRIM_THRESHOLD``): free memory above this at a heap's top goes back to the system.
DEFAULT_TRIM_THRESHOLD = 128 << 10

#: The threshold :func:`return_freed_memory` set (bytes), None before.
_THRESHOLD: list = [None]
_LOCK = threading.Lock()
_USERS = [0]


def _user_set(name: str) -> bool:
    """Whether the user set glibc's ``MALLOC_<NAME>_`` or its ``GLIBC_TUNABLES`` form."""
    return f"MALLOC_{name.upper()}_" in os.environ or f"glibc.malloc.{name}" in os.environ.get("GLIBC_TUNABLES", "")


def _trim(libc, value: int) -> None:
    """glibc's trim threshold, unless the user set it."""
    if not _user_set("trim_threshold"):
        libc.mallopt(M_TRIM_THRESHOLD, value)


def _heap_settings(libc, threshold: int, trim: int) -> None:
    """The heap's settings while temporaries are reused (:func:`heap_reuse`, :func:`worker_heap`)."""
    libc.mallopt(M_MMAP_THRESHOLD, threshold)
    _trim(libc, trim)


def _libc():
    if not sys.platform.startswith("linux") or _user_set("mmap_threshold"):
        return None
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None
    except (OSError, AttributeError):
        return None


def return_freed_memory(threshold: int = 4 << 20) -> None:
    """glibc: serve allocations of ``threshold`` bytes (4 MiB) and more by mmap, so that freed arrays
    go back to the OS.

    glibc raises its mmap threshold each time a large block is freed, after which big
    numpy arrays come from the heap and stay in the process's RSS once freed; the
    counting and SVD stages then peak about 110 MB higher on the benchmark corpus
    (``benchmarks/README.md``).  A user's own ``MALLOC_MMAP_THRESHOLD_`` wins."""
    libc = _libc()
    if libc is not None and libc.mallopt(M_MMAP_THRESHOLD, threshold) == 1:
        _THRESHOLD[0] = threshold


@contextlib.contextmanager
def heap_reuse(threshold: int = 32 << 20, trim: int = 1 << 30):
    """Inside: glibc serves allocations below ``threshold`` (32 MiB, glibc's largest) from the heap,
    where a freed array's memory is reused by the next without page faults, and keeps up to
    ``trim`` bytes (1 GiB) of free memory at a heap's top instead of returning it at once: once the
    mmap threshold is set, glibc's trim threshold stays at its 128 KiB default, and the heap's top,
    where the latest temporaries lay, went back to the system after nearly every piece (half of
    ``embedcli cooccur``'s page faults).  On exit (of the last user, when threads overlap) the
    threshold :func:`return_freed_memory` set and the default trim threshold are restored and
    ``malloc_trim(0)`` returns the heap's free memory to the system, so the process ends no larger.
    ``embedcli cooccur`` on english-mix: 0.89 of the time at the same peak RSS with the mmap
    threshold alone (benchmarks/README.md, "Startup, exit, fresh pages and ASCII lines"); the trim
    threshold then 0.87-0.89 more, at a peak RSS of about 420 MB against 319 MB (the pipeline's peak, in the
    SVD, is unchanged).  Around the SVD solvers: ``embedcli svd`` 0.92-0.93 of the time, peak RSS
    +16 MB.  Around the counting's final sums and ``L + L^T`` as well, each in its own ``with`` (so
    that the heap is trimmed between them): ``embedcli cooccur`` 0.93, peak RSS +4 MB; one ``with``
    for all three gave 0.90-0.95 at +85 MB.  A no-op where :func:`return_freed_memory` did not run."""
    libc = _libc() if _THRESHOLD[0] is not None else None
    if libc is None:
        yield
        return
    with _LOCK:
        _USERS[0] += 1
        if _USERS[0] == 1:
            _heap_settings(libc, threshold, trim)
    try:
        yield
    finally:
        with _LOCK:
            _USERS[0] -= 1
            if _USERS[0] == 0:
                libc.mallopt(M_MMAP_THRESHOLD, _THRESHOLD[0])
                _trim(libc, DEFAULT_TRIM_THRESHOLD)
                libc.malloc_trim(0)


def worker_heap(threshold: int = 32 << 20, trim: int = 1 << 30) -> None:
    """In a worker process (:class:`~embedcli.parallel.ProcessBlocks`), for its whole life: the
    settings :func:`heap_reuse` gives a block of work, since a worker does nothing but allocate
    each block's temporaries (decoded text, token lists, output strings) anew.  Its free memory
    goes back to the system when it ends, with the pool.  A no-op where :func:`return_freed_memory`
    did not run in the parent.  On english-mix, alternating with the commit before, 11 rounds:
    ``embedcli tokenize`` (``.gz``) 0.88 of the time, ``embedcli cooccur`` 0.85, the pipeline 0.935
    (7 rounds); the largest process's peak RSS unchanged, and the whole tree's summed RSS within
    +10 MB."""
    libc = _libc() if _THRESHOLD[0] is not None else None
    if libc is not None:
        _heap_settings(libc, threshold, trim)
