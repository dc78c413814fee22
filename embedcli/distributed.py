"""Counting on a Dask cluster (``--scheduler``): the vocabulary and the co-occurrence matrix of a
tokens file bigger than one machine.

The file is cut into byte ranges at line ends (:func:`embedcli.fileio.line_segments`); each range
is one task, counted on a worker by the same code as in-process (``vocab.count_tokens``,
``cooccur.count_units`` with one worker); partial results are summed by a tree reduction on the
workers, and only the final sum comes back to the client, which writes the output once,
atomically.  Token counts are integers and co-occurrence weights are counted in integer units
(:func:`embedcli.cooccur.weight_units`), so every sum is exact: the result is the same bits as the
in-process run, whatever the number of workers, the order tasks finish in, or a task re-run
after a worker died (Dask re-runs the tasks of a lost worker).

Workers must be able to read the file at the same path (a shared filesystem).  ``dask[distributed]``
is the ``dask`` extra (``pip install 'embedcli[dask]'``), imported only here.
"""

from __future__ import annotations

import contextlib
import os
from collections import Counter
from typing import Iterator

from embedcli.errors import DependencyError, InputError, ParameterError

#: Bytes of the tokens file per task: enough work to hide the scheduling overhead, small enough
#: that a worker's memory stays bounded (about 10x this while counting).
SEGMENT_BYTES = 64 << 20


@contextlib.contextmanager
def connect(scheduler: str) -> Iterator:
    """A ``dask.distributed.Client`` for ``scheduler``: ``local:N`` starts a ``LocalCluster`` of N
    single-threaded worker processes for the run (closed afterwards); anything else is the address
    of a running scheduler (``tcp://host:8786``).

    Raises:
        DependencyError: dask.distributed is not installed.
        ParameterError: ``local:N`` with N not a positive integer.
        InputError: the scheduler cannot be reached.
    """
    try:
        import logging

        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise DependencyError("--scheduler needs dask.distributed: pip install 'embedcli[dask]'") from None
    if scheduler.startswith("local:"):
        n = scheduler[len("local:"):]
        if not n.isdigit() or int(n) < 1:
            raise ParameterError("scheduler", scheduler, "local:N needs a number of workers N >= 1")
        with LocalCluster(n_workers=int(n), threads_per_worker=1, processes=True, dashboard_address=":0",
                          silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
            yield client
        return
    try:
        client = Client(scheduler, timeout="10s")
    except (OSError, TimeoutError, ValueError) as e:
        raise InputError(f"--scheduler {scheduler}: cannot connect: {e}") from None
    with client:
        yield client


def _tree_sum(client, futures: list, add):
    """Sum ``futures`` pairwise on the workers (a tree of depth log2 n); returns the future of the sum."""
    while len(futures) > 1:
        nxt = [client.submit(add, a, b, pure=False) for a, b in zip(futures[::2], futures[1::2])]
        if len(futures) % 2:
            nxt.append(futures[-1])
        futures = nxt
    return futures[0]


def _add(a, b):
    return a + b


def _add_counts(a: dict, b: dict) -> dict:
    return {"totals": {k: a["totals"][k] + b["totals"][k] for k in a["totals"]},
            "tokens": a["tokens"] + b["tokens"]}


def _segment_counter(path: str, segment: tuple[int, int]) -> Counter:
    from embedcli.vocab import count_tokens

    return count_tokens(path, None, segment)


def _segment_units(path: str, vocab, spec, segment: tuple[int, int]) -> dict:
    from embedcli.cooccur import count_units

    totals, tokens, _ = count_units(path, vocab, spec.replace(workers=1), None, segment)
    return {"totals": totals, "tokens": tokens}


def _track(client, futures: list, sizes: list[int], progress) -> None:
    """Progress (bytes of the file counted) as the tasks finish; re-raises a task's error."""
    from dask.distributed import as_completed

    done = 0
    size_of = dict(zip((f.key for f in futures), sizes))
    for fut in as_completed(futures):
        if fut.status == "error":
            fut.result()  # raises the task's exception (a DataError keeps its message)
        done += size_of[fut.key]
        if progress is not None:
            progress.update(done)


def _segments(path: str, segment_bytes: int | None) -> list[tuple[int, int]]:
    from embedcli.fileio import line_segments

    if not os.path.isfile(path):
        raise InputError(f"{path}: no such file")
    return line_segments(path, segment_bytes or SEGMENT_BYTES)


def count_tokens_on(client, path: str, progress=None, segment_bytes: int | None = None) -> Counter:
    """:func:`embedcli.vocab.count_tokens` on a cluster: one task per byte range, Counters summed
    on the workers.  The same counts as in-process."""
    segs = _segments(path, segment_bytes)
    futures = [client.submit(_segment_counter, path, s, pure=False) for s in segs]
    _track(client, futures, [b - a for a, b in segs], progress)
    total = _tree_sum(client, futures, _add).result()
    if progress is not None:
        progress.close()
    return total


def cooccurrence_on(client, path: str, vocab, spec, progress=None, segment_bytes: int | None = None):
    """:func:`embedcli.cooccur.cooccurrence_matrix` on a cluster: the same ``(V, V) float64`` CSR
    matrix, bit for bit.

    Raises:
        ParameterError: ``sample``, ``dynamic_window`` or ``cross_documents`` (they depend on one
            random stream, or on windows across line ends, over the whole file in order).
        DataError: no token of the vocabulary in the file.
    """
    from embedcli.cooccur import assemble, weight_units
    from embedcli.errors import DataError

    for name in ("sample", "dynamic_window", "cross_documents"):
        if getattr(spec, name):
            raise ParameterError(name, getattr(spec, name), "is not supported with --scheduler (it needs one "
                                 "pass over the whole file in order)")
    segs = _segments(path, segment_bytes)
    [vocab_f] = client.scatter([vocab], broadcast=True)
    futures = [client.submit(_segment_units, path, vocab_f, spec, s, pure=False) for s in segs]
    _track(client, futures, [b - a for a, b in segs], progress)
    got = _tree_sum(client, futures, _add_counts).result()
    if progress is not None:
        progress.close()
    if got["tokens"] == 0:
        raise DataError(f"{path}: no token of the vocabulary occurs in it")
    return assemble(got["totals"], spec, weight_units(spec.window, spec.window_weighting)[1])
