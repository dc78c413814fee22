"""The console entry point.  It runs before ``embedcli.cli`` is imported (click, the command
modules: a few hundred milliseconds on a busy machine), so that a Ctrl-C in that time ends the
run quietly with exit code 130 instead of a traceback from the middle of an import.  Nothing has
been written yet then, so there is nothing to clean up.

Once a command has finished, the process ends without the interpreter's teardown
(:func:`_exit_now`)."""

import os
import signal
import sys


def _early_interrupt(signum, frame):  # pragma: no cover - timing dependent
    sys.stderr.write("embedcli: interrupted\n")
    os._exit(130)


_early_interrupt.embedcli_early = True  # the CLI replaces it with its own handler (embedcli.cli)


def _exit_now(code) -> None:
    """End the process with ``code`` (a ``SystemExit`` code) as Python's own exit would, minus the
    interpreter's teardown: the standard streams are flushed, threads that are still running are
    waited for (``threading._shutdown``, as at a normal exit) and the ``atexit`` functions run
    (multiprocessing's, logging's), then ``os._exit``.  The teardown it skips clears every module
    with repeated garbage collections of all the objects that numpy, scipy and click created: 0.10-0.15 s
    a process on this project's machine, most of what a short command costs after its work
    (benchmarks/README.md, "Exit without teardown").  A stdout closed by the reader (``| head``)
    exits 1 quietly, as the CLI does for a write that fails.  Without ``threading._shutdown`` (not
    CPython), the normal exit."""
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
    shutdown()
    import atexit

    atexit._run_exitfuncs()
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
    from embedcli.cli import main as cli_main

    try:
        cli_main()
        code = 0
    except SystemExit as e:
        code = e.code
    _exit_now(code)
