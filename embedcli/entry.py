"""The console entry point.  It runs before ``embedcli.cli`` is imported (click, the command
modules: a few hundred milliseconds on a busy machine), so that a Ctrl-C in that time ends the
run quietly with exit code 130 instead of a traceback from the middle of an import.  Nothing has
been written yet then, so there is nothing to clean up."""

import os
import signal
import sys


def _early_interrupt(signum, frame):  # pragma: no cover - timing dependent
    sys.stderr.write("embedcli: interrupted\n")
    os._exit(130)


_early_interrupt.embedcli_early = True  # the CLI replaces it with its own handler (embedcli.cli)


def main() -> None:
    """Console-script entry point: :func:`embedcli.cli.main` behind an early Ctrl-C handler."""
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # not when the parent ignores it
        signal.signal(signal.SIGINT, _early_interrupt)
    from embedcli.cli import main as cli_main

    cli_main()
