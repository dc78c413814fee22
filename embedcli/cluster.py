"""Connecting to a Dask cluster for ``--scheduler``: a LocalCluster started for the run or a running
scheduler, with one-line errors for what goes wrong (no answer, no worker, lost work) and Ctrl-C
left to this process.  ``dask[distributed]`` is imported only here and in :mod:`embedcli.distributed`.
"""

from __future__ import annotations

import contextlib
import os
from typing import Iterator

from embedcli.errors import DependencyError, InputError, ParameterError

#: Seconds to wait for a scheduler to answer.
CONNECT_WAIT = 10.0
#: Seconds to wait for a running scheduler to have at least one worker (also: with none left, the
#: run stops after this long).
WORKER_WAIT = 30.0


@contextlib.contextmanager
def connect(scheduler: str) -> Iterator:
    """A ``dask.distributed.Client`` for ``scheduler``: ``local:N`` starts a ``LocalCluster`` of N
    single-threaded worker processes for the run (closed afterwards); anything else is the address
    of a running scheduler (``tcp://host:8786``).

    Raises:
        DependencyError: dask.distributed is not installed.
        ParameterError: ``local:N`` with N not an integer from 1 to 4 per core.
        InputError: the scheduler cannot be reached, or no worker joins within :data:`WORKER_WAIT` s.
        DataError (while in use): dask lost work it cannot re-create.
    """
    import numpy  # noqa: F401  before dask: its nanny sets OMP_NUM_THREADS=1 for the workers, which would
    import scipy.linalg  # noqa: F401  otherwise also give this process's BLAS one thread (other bits)

    if not scheduler:
        raise ParameterError("scheduler", scheduler, "give an address (tcp://host:8786) or local:N")
    import warnings

    # embedcli sends tiles and the vocabulary as task arguments on purpose (a lost worker's copy can be
    # re-created); dask's advice against large graphs does not apply
    warnings.filterwarnings("ignore", message="Sending large graph", category=UserWarning)
    try:
        import logging

        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise DependencyError("--scheduler needs dask.distributed: pip install 'embedcli[dask]'") from None
    # a gather cut short by Ctrl-C leaves asyncio tasks whose errors nobody reads ("Task exception was
    # never retrieved"): not the user's business
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)
    # dask logs its own view of failures (a lost scheduler: a 35-line traceback) before embedcli's one line
    for name in ["distributed", *logging.root.manager.loggerDict]:  # dask's config gives some their own
        if name == "distributed" or name.startswith("distributed."):  # handler and level (distributed.client)
            logging.getLogger(name).setLevel(logging.CRITICAL + 1)
    if scheduler.startswith("local:"):
        n = scheduler[len("local:"):]
        most = 4 * (os.cpu_count() or 1)
        if not (n.isascii() and n.isdigit()) or not 1 <= int(n) <= most:
            raise ParameterError("scheduler", scheduler, f"local:N needs a number of worker processes N from 1 to "
                                 f"{most} (4 per core)")
        import tempfile

        from embedcli.outputs import scratch_prefix

        with contextlib.ExitStack() as stack:
            # dask's worker scratch space: ours, removed afterwards (or by a later run, after SIGKILL)
            scratch = stack.enter_context(tempfile.TemporaryDirectory(prefix=scratch_prefix("dask")))
            import dask

            stack.enter_context(dask.config.set({"temporary-directory": scratch}))
            with _no_sigint():  # Ctrl-C goes to the whole process group: only this process handles it
                cluster = stack.enter_context(LocalCluster(
                    n_workers=int(n), threads_per_worker=1, processes=True, dashboard_address="127.0.0.1:0",
                    host="127.0.0.1", silence_logs=logging.CRITICAL + 1,  # CRITICAL itself still printed
                    local_directory=scratch))
            client = stack.enter_context(Client(cluster))
            client.register_plugin(_ignore_interrupt_plugin())  # also for a worker restarted later
            with _cluster_errors(scheduler=scheduler, client=client):
                yield client
        return
    try:
        client = _client_within(Client, scheduler, CONNECT_WAIT)
    except MemoryError:  # dask read a length from bytes that were not its protocol (an HTTP answer, say)
        raise InputError(f"--scheduler {scheduler}: something answered there, not a dask scheduler (a web server, "
                         "the dashboard's port?)") from None
    except Exception as e:  # noqa: BLE001  whatever dask raises for an address it cannot use (a worker's, tls://)
        why = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise InputError(f"--scheduler {scheduler}: cannot connect to a dask scheduler there: {why}") from None
    with client:
        try:
            client.wait_for_workers(1, timeout=WORKER_WAIT)
        except TimeoutError:
            raise InputError(f"--scheduler {scheduler}: no worker joined within {WORKER_WAIT:g} s "
                             "(start some: dask worker ADDRESS)") from None
        check_workers(client)
        with _watchdog(client) as lost, _cluster_errors(lost, scheduler, client):
            yield client


def embedcli_version() -> str:
    """Worker: the embedcli version it imports (sent by reference: a worker without embedcli fails to load it)."""
    from embedcli import __version__

    return __version__


def check_workers(client) -> None:
    """Refuse, before any task is sent, a cluster whose workers cannot import embedcli or import
    another version (a task that cannot be unpickled ends the worker process; another version may
    count differently).  Versions are compared as strings (two development checkouts of one version
    look alike); workers that join later are not checked.

    Raises:
        InputError: naming a worker and what it lacks.
    """
    from embedcli import __version__

    try:
        seen = client.run(embedcli_version, on_error="return")  # a failing worker's exception, by worker
    except Exception as e:  # noqa: BLE001  as dask relays it
        seen = {"(one of them)": e}
    for w, v in seen.items():
        if isinstance(v, BaseException):
            why = str(v).splitlines()[0] if str(v) else type(v).__name__
            raise InputError(f"--scheduler: worker {w} cannot run embedcli ({type(v).__name__}: {why}); install the "
                             "same embedcli on every worker")
        if v != __version__:
            raise InputError(f"--scheduler: worker {w} runs embedcli {v}, this is {__version__}; install the same "
                             "embedcli on every worker")


@contextlib.contextmanager
def _no_sigint():
    """SIGINT and SIGHUP blocked (not ignored) while the block runs, from the main thread: threads
    and worker processes started in it inherit the mask, so a Ctrl-C (sent by the terminal to the
    whole process group) or a hang-up reaches only this process, which stops the run and closes the
    workers instead of every worker printing its own traceback.  A signal that arrives meanwhile
    is delivered here when the block ends (the run stops then), not lost."""
    import signal
    import threading

    sigs = {signal.SIGINT, signal.SIGHUP}
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "pthread_sigmask"):
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, sigs)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _ignore_interrupt_plugin():
    """A worker plugin that makes a local worker ignore SIGINT and SIGHUP, also one restarted after
    the first ones (see :func:`_no_sigint`)."""
    from distributed.diagnostics.plugin import WorkerPlugin

    class IgnoreInterrupt(WorkerPlugin):
        name = "embedcli-ignore-sigint"

        def setup(self, worker):
            import signal
            import threading

            if threading.current_thread() is threading.main_thread():
                signal.signal(signal.SIGINT, signal.SIG_IGN)
                signal.signal(signal.SIGHUP, signal.SIG_IGN)

    return IgnoreInterrupt()


def _client_within(Client, address: str, seconds: float):
    """``Client(address)``, made in a helper thread so that a server that accepts the connection but
    never answers dask's handshake (a web server, say: dask then waits for ever) is reported after
    ``seconds`` instead of hanging the command.

    Raises:
        TimeoutError: no dask scheduler answered in time.
    """
    import threading

    box: dict = {}

    def make():
        try:
            box["client"] = Client(address, timeout=f"{seconds:g}s")
        except BaseException as e:  # noqa: BLE001  handed to the caller's thread
            box["error"] = e

    th = threading.Thread(target=make, name="embedcli-connect", daemon=True)
    th.start()
    th.join(seconds + 2)
    if th.is_alive():
        raise TimeoutError(f"no dask scheduler answered within {seconds:g} s (is this a dask scheduler's address?)")
    if "error" in box:
        raise box["error"]
    return box["client"]


@contextlib.contextmanager
def _watchdog(client):
    """While the block runs, check every 2 s that the scheduler still has a worker; after
    :data:`WORKER_WAIT` s without any, close the client (dask itself would wait for ever), which
    ends the run's waits with a CancelledError.  Yields an Event that is set in that case."""
    import threading
    import time

    stop, lost = threading.Event(), threading.Event()

    def watch():
        since = None
        while not stop.wait(2.0):
            try:
                n = len(client.scheduler_info()["workers"])
            except Exception:  # noqa: BLE001  the client is closing or the scheduler is gone: nothing to watch
                return
            if n:
                since = None
                continue
            since = since or time.monotonic()
            if time.monotonic() - since >= WORKER_WAIT:
                lost.set()
                client.close()
                return

    th = threading.Thread(target=watch, name="embedcli-watchdog", daemon=True)
    th.start()
    try:
        yield lost
    finally:
        stop.set()


@contextlib.contextmanager
def _cluster_errors(lost=None, scheduler: str = "", client=None):
    """Dask's own failures (work lost with a worker that held the only copy, a cancelled future, no
    worker left, the scheduler gone, a task that killed its workers) as one-line DataErrors;
    embedcli's errors raised in a task pass through unchanged."""
    import asyncio

    from dask.distributed import CancelledError
    from distributed.scheduler import KilledWorker

    from embedcli.errors import DataError

    try:
        yield
    except Exception as e:
        if lost is not None and lost.is_set():
            raise DataError(f"--scheduler {scheduler}: no worker left for {WORKER_WAIT:g} s; the run stopped (start "
                            "workers and run again)") from None
        if isinstance(e, KilledWorker):
            raise DataError("--scheduler: one task's workers died each time they ran it (out of memory? see the "
                            "workers' logs; give them more memory or use fewer threads per worker)") from None
        if isinstance(e, (CancelledError, asyncio.CancelledError, TimeoutError)):
            if "scheduler-connection-lost" in str(e) or (client is not None and client.status != "running"):
                raise DataError(f"--scheduler {scheduler}: the connection to the scheduler was lost; the run stopped "
                                "(check that the scheduler runs, then run again)") from None
            first = str(e).splitlines()[0] if str(e) else ""
            raise DataError(f"the cluster lost work ({type(e).__name__}: {first}); run again") from None
        raise
