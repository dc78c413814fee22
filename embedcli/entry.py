"""The console entry point.  It runs before ``embedcli.cli`` is imported (click, the command
modules: a few hundred milliseconds on a busy machine), so that a Ctrl-C in that time ends the
run quietly with exit code 130 instead of a traceback from the middle of an import.  Nothing has
been written yet then, so there is nothing to clean up.

numpy.f2py, which scipy's import pulls in and nothing uses, is loaded only when used (:func:`_defer_numpy_extras`),
OpenBLAS's idle threads sleep instead of spinning (:func:`_short_blas_spin`), and once a command
has finished, the process ends without the interpreter's teardown (:func:`_exit_now`)."""

import os
import signal
import sys


def _early_interrupt(signum, frame):  # pragma: no cover - timing dependent
    sys.stderr.write("embedcli: interrupted\n")
    os._exit(130)


_early_interrupt.embedcli_early = True  # the CLI replaces it with its own handler (embedcli.cli)


#: numpy submodules that scipy's import loads (its bundled array-api-compat copies every public
#: name of numpy, which imports numpy's lazily loaded submodules) but nothing uses at run time:
#: f2py, numpy's Fortran wrapper generator (a build tool).  numpy.testing, numpy.ma,
#: numpy.polynomial and numpy.ctypeslib would save 0.03 s more, but Python 3.11's LazyLoader is not
#: thread-safe: threads that first touch such a module at once can see it half-loaded
#: (AttributeError), and libraries do use those (matplotlib numpy.ma).
DEFERRED = ("numpy.f2py",)


class _DeferredImports:
    """A meta-path finder that gives the modules in :data:`DEFERRED` the standard library's
    ``importlib.util.LazyLoader``: ``import numpy.f2py`` then makes the module object, and its
    code runs on the first access to one of its attributes, which never comes in a command (a
    library that uses it gets it whole at that access)."""

    def find_spec(self, name, path, target=None):
        if name not in DEFERRED:
            return None
        import importlib.util

        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                if spec.loader is None or not hasattr(spec.loader, "exec_module"):
                    return None
                spec.loader = importlib.util.LazyLoader(spec.loader)
                return spec
        return None


def _defer_numpy_extras() -> None:
    """Load :data:`DEFERRED` lazily in this process: importing scipy.sparse (with numpy) then took
    0.137 s instead of 0.175 s here (medians of 5; numpy.f2py imports charset_normalizer too).
    Only the console command does this; importing embedcli as a library changes nothing."""
    if not any(isinstance(f, _DeferredImports) for f in sys.meta_path):
        sys.meta_path.insert(0, _DeferredImports())


#: OpenBLAS's spin before a thread of its pool sleeps: ``2**N`` cycles (``OPENBLAS_THREAD_TIMEOUT``,
#: read when the library loads; 4 is its least, OpenBLAS's default 28: about 0.1 s here).
BLAS_THREAD_TIMEOUT = "4"


def _short_blas_spin() -> None:
    """Have OpenBLAS's idle threads sleep at once instead of spinning (``OPENBLAS_THREAD_TIMEOUT``, set
    before numpy loads; a user's own value, or ``GOTO_THREAD_TIMEOUT``, is left alone).  Each time
    OpenBLAS loads (numpy's, then scipy's own copy) and after each call it ran on several threads,
    its pool's threads spin for about 0.1 s of a core before they sleep: on two cores that took a
    core from the SVD's product threads while scipy's BLAS loaded, and ``embedcli evaluate`` spent
    11.7 CPU seconds for 6.1 s of wall time.  With it, alternating whole processes on english-mix
    (``benchmarks/README.md``, "OpenBLAS's spinning threads"): the pipeline 0.960 of the time (CPU
    6.68 vs 7.01 s, 9 rounds), ``evaluate`` 0.963 (CPU 7.95 vs 11.65 s, 5 rounds); queries
    unchanged.  Only the console command does this (and the processes it starts inherit it);
    importing embedcli as a library changes nothing."""
    if "OPENBLAS_THREAD_TIMEOUT" not in os.environ and "GOTO_THREAD_TIMEOUT" not in os.environ:
        os.environ["OPENBLAS_THREAD_TIMEOUT"] = BLAS_THREAD_TIMEOUT


def _exit_now(code) -> None:
    """End the process with ``code`` (a ``SystemExit`` code) as Python's own exit would, minus the
    interpreter's teardown: the standard streams are flushed, threads that are still running are
    waited for (``threading._shutdown``, as at a normal exit) and the ``atexit`` functions run
    (multiprocessing's, logging's), then ``os._exit``.  The teardown it skips clears every module
    with repeated garbage collections of all the objects that numpy, scipy and click created:
    0.10-0.15 s a process on this project's machine (benchmarks/README.md, "Startup, exit, fresh
    pages and ASCII lines").  A stdout closed by the reader (``| head``) exits 1 quietly, as the CLI
    does for a write that fails; a Ctrl-C while waiting for threads, 130.  Without
    ``threading._shutdown`` (not CPython), the normal exit."""
    import threading

    if code is None:
        code = 0
    elif not isinstance(code, int):  # sys.exit("message"): Python prints it and exits 1
        sys.stderr.write(f"{code}\n")
        code = 1
    shutdown = getattr(threading, "_shutdown", None)
    if shutdown is None:  # pragma: no cover - another interpreter
        sys.exit(code)
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        code = code or 1
    except (OSError, ValueError):  # a closed or failing stdout: as the normal exit would say it
        code = code or 120
    try:
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    import atexit

    try:
        shutdown()
        atexit._run_exitfuncs()
    except KeyboardInterrupt:  # a Ctrl-C while waiting: the work is done and written; no traceback
        sys.stderr.write("embedcli: interrupted\n")
        code = 130
    for stream in (sys.stdout, sys.stderr):  # what the exit functions wrote
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code % 256)  # as the system takes a larger or negative status


def main() -> None:
    """Console-script entry point: :func:`embedcli.cli.main` behind an early Ctrl-C handler, ended
    by :func:`_exit_now` (a failure that escaped the CLI still gets Python's own exit)."""
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # not when the parent ignores it
        signal.signal(signal.SIGINT, _early_interrupt)
    _defer_numpy_extras()
    _short_blas_spin()
    from embedcli.cli import main as cli_main

    try:
        cli_main()
        code = 0
    except SystemExit as e:
        code = e.code
    _exit_now(code)
