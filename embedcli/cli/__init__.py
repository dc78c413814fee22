"""The ``embedcli`` command line: a thin layer over the library.

Each command parses options (built from :mod:`embedcli.specs`), calls one
library function and formats output.  Heavy modules (numpy, scipy,
scikit-learn, gensim) are imported inside the commands, so ``embedcli --help``
starts fast.  Commands live by group: :mod:`.corpus` (tokenize, vocab,
phrases), :mod:`.counting` (cooccur, termdoc, svd), :mod:`.training`
(word2vec, fasttext, pipeline), :mod:`.queries` (neighbors, analogy,
similarity, doesnt-match, evaluate, info), :mod:`.documents` (docvec, foldin,
classify), :mod:`.graphs` (walks, netmf, deepwalk).

This is the one place where library exceptions become exit codes and where a
parameter name becomes its flag in a message.
"""

from __future__ import annotations

import errno
import io
import os
import signal
import sys

import click

from embedcli import __version__
from embedcli.cli.options import CONTEXT_SETTINGS
from embedcli.errors import DataError, DependencyError, EmbedcliError, InputError, ParameterError

EXIT_USAGE = 2
EXIT_DATA = 3


def exit_code(e: EmbedcliError) -> int:
    """Exit code of a library error: 2 for a bad parameter or path, 3 for unusable data."""
    if isinstance(e, (ParameterError, InputError, DependencyError)):
        return EXIT_USAGE
    if isinstance(e, DataError):
        return EXIT_DATA
    return EXIT_DATA


def message(e: EmbedcliError) -> str:
    """One line for the user; a ParameterError names the flag (``--cds 2: must be in (0, 1]``)."""
    from embedcli.specs import flag_of

    if isinstance(e, ParameterError):  # a switch is named alone (--dynamic-window: ..., not --dynamic-window True)
        v = e.value  # --negative 5, as typed, not 5.0
        shown = int(v) if isinstance(v, float) and v.is_integer() and abs(v) < 1e15 else v
        msg = f"{flag_of(e.param)}: {e.reason}" if isinstance(e.value, bool) else f"{flag_of(e.param)} {shown}: {e.reason}"
    else:
        msg = str(e)
    for p in getattr(e, "params", ()):
        msg = msg.replace(f"{p}=", f"{flag_of(p)} ")
    return msg


def _fail(msg: str, code: int) -> None:
    click.echo(f"embedcli: error: {msg}", err=True)
    sys.exit(code)


class _ClosedStdout(io.TextIOBase):
    """Stands for a closed standard output: writing to it is a one-line error (exit 2)."""

    encoding = "utf-8"

    @property
    def buffer(self):
        return self

    def write(self, data):
        raise OSError(errno.EBADF, "standard output is closed; give a file with -o or redirect it")

    def fileno(self):
        raise OSError(errno.EBADF, "standard output is closed")

    def isatty(self):
        return False


def _quiet_click_abort_newline() -> None:
    """click writes an empty line to stderr on Ctrl-C before raising Abort (to end a terminal's
    line); when stderr is a file that is a blank line before "embedcli: interrupted".  Its call in
    ``click.core`` (``echo(file=sys.stderr)``, no message) is skipped then; any other echo is not."""
    import click.core

    echo = click.core.echo
    if getattr(echo, "embedcli_wrapped", False):
        return

    def wrapped(message=None, file=None, *args, **kwargs):
        if message is None and file is sys.stderr and not (sys.stderr is not None and sys.stderr.isatty()):
            return None
        return echo(message, file, *args, **kwargs)

    wrapped.embedcli_wrapped = True
    click.core.echo = wrapped


def _fix_std_streams() -> None:
    """Closed standard streams become /dev/null (a read gives nothing, a write a one-line error
    later); output is UTF-8 whatever the locale (tokens and words are UTF-8); stdout writes every
    byte or raises (:func:`~embedcli.outputs.write_all_stdout`)."""
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w")
    if sys.stdout is None:
        sys.stdout = _ClosedStdout()
    for stream in (sys.stdout, sys.stderr):
        try:
            if (stream.encoding or "").lower().replace("-", "") != "utf8":
                stream.reconfigure(encoding="utf-8", errors="backslashreplace" if stream is sys.stderr else "strict")
        except (AttributeError, ValueError, OSError):
            pass
    from embedcli.outputs import write_all_stdout

    sys.stdout = write_all_stdout(sys.stdout)


def _say_interrupted() -> None:
    tty = sys.stderr is not None and sys.stderr.isatty()  # end a progress line redrawn in place
    click.echo(("\n" if tty else "") + "embedcli: interrupted", err=True)


_OUT_OF_MEMORY = ("out of memory (the command's --help states its memory use; for cooccur, svd and pipeline try a "
                  "smaller --window/--dim or a larger --min-count/--max-vocab-size)")


class _Group(click.Group):
    def main(self, args=None, prog_name=None, **kwargs):  # noqa: D401
        """Run; a signal received on the way decides the exit code (128 + signal) whatever happened
        to its SystemExit (code that swallows exceptions, an error raised while unwinding)."""
        from embedcli.outputs import PENDING_EXIT

        PENDING_EXIT.clear()
        try:
            self._main(args, prog_name, **kwargs)
        except BaseException:
            if PENDING_EXIT:
                sys.exit(PENDING_EXIT[0])
            raise

    def _main(self, args=None, prog_name=None, **kwargs):
        """Run with one-line errors: library errors -> their exit code, never a traceback."""
        from embedcli.outputs import PENDING_EXIT

        def on_signal(signum, frame):
            PENDING_EXIT.append(128 + signum)  # remembered, in case the SystemExit below is swallowed
            raise SystemExit(128 + signum)  # unwinds: temporary files are removed; said on stderr below

        def on_interrupt(signum, frame):
            PENDING_EXIT.append(130)  # remembered: a KeyboardInterrupt swallowed by a library never lets an output commit
            raise KeyboardInterrupt

        for name in ("SIGTERM", "SIGHUP", "SIGUSR1", "SIGUSR2", "SIGALRM", "SIGQUIT"):
            if hasattr(signal, name) and signal.getsignal(getattr(signal, name)) != signal.SIG_IGN:  # nohup's HUP
                signal.signal(getattr(signal, name), on_signal)
        current = signal.getsignal(signal.SIGINT)
        if current is signal.default_int_handler or getattr(current, "embedcli_early", False):  # not when ignored
            signal.signal(signal.SIGINT, on_interrupt)
        _fix_std_streams()
        _quiet_click_abort_newline()
        try:
            self._run(args, prog_name, **kwargs)
        finally:
            signals = [n - 128 for n in PENDING_EXIT if n > 128 and n != 130]
            if signals:  # as Ctrl-C says "interrupted": a batch job's log shows why the run ended
                click.echo(f"embedcli: stopped by {signal.Signals(signals[0]).name}", err=True)

    def _run(self, args, prog_name, **kwargs):
        from embedcli.outputs import PENDING_EXIT

        try:
            rv = super().main(args=args, prog_name=prog_name or "embedcli", standalone_mode=False, **kwargs)
            if PENDING_EXIT:
                sys.exit(PENDING_EXIT[0])
            if isinstance(rv, int) and rv:
                sys.exit(rv)
            sys.exit(0)
        except click.exceptions.Abort:
            click.echo("embedcli: interrupted", err=True)
            sys.exit(130)
        except click.UsageError as e:
            if type(e).__name__ == "NoArgsIsHelpError":
                e.show()
                sys.exit(e.exit_code)
            hint = f" (see 'embedcli {e.ctx.info_name} --help')" if e.ctx is not None and e.ctx.parent else ""
            click.echo(f"embedcli: error: {e.format_message()}{hint}", err=True)
            sys.exit(e.exit_code)
        except click.ClickException as e:
            e.show()
            sys.exit(e.exit_code)
        except EmbedcliError as e:
            _fail(message(e), exit_code(e))
        except KeyboardInterrupt:
            _say_interrupted()
            sys.exit(130)
        except SystemExit as e:
            # a Ctrl-C whose KeyboardInterrupt a library swallowed (in a pool's thread, a fork hook),
            # noticed later through PENDING_EXIT: said as the KeyboardInterrupt above says it
            if e.code == 130 and 130 in PENDING_EXIT:
                _say_interrupted()
            raise
        except BrokenPipeError:
            # downstream closed the pipe (e.g. `| head`): exit 1 quietly, as click does
            sys.stdout = open(os.devnull, "w")
            sys.exit(1)
        except MemoryError:
            _fail(_OUT_OF_MEMORY, EXIT_DATA)
        except ImportError as e:  # a library's shared object that could not be mapped: memory, not a bug
            if "failed to map segment" in str(e) or "cannot allocate memory" in str(e).lower():
                _fail(_OUT_OF_MEMORY + f" [{str(e).splitlines()[0][:120]}]", EXIT_DATA)
            raise
        except OSError as e:
            if getattr(e, "filename", None):
                _fail(f"{e.filename}: {e.strerror}", EXIT_USAGE)
            if e.errno == errno.EBADF:
                _fail(e.strerror or str(e), EXIT_USAGE)
            if e.errno in (errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EFBIG):
                # what is left unnamed at this level is click's output to stdout
                sys.stdout = open(os.devnull, "w")
                _fail(f"standard output: cannot write: {e.strerror}", EXIT_USAGE)
            raise


@click.group(cls=_Group, context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, "-V", "--version", prog_name="embedcli")
def cli() -> None:
    """Word and document embeddings from raw text.

    \b
    Count-based:  tokenize -> vocab -> cooccur|termdoc -> svd|glove (or: pipeline)
    Predictive:   tokenize [-> phrases] -> word2vec|fasttext      (gensim)
    Graphs:       walks -> word2vec, deepwalk, netmf, then classify
    Spaces:       align, drift, plot
    Documents:    docvec (from word vectors), termdoc -> svd -> foldin (LSA), classify
    Queries:      neighbors, analogy, similarity, doesnt-match, evaluate, info
    Files:        convert (another vectors format), export (Embedding Projector)

    Exit codes: 0 ok, 1 output pipe closed early, 2 usage error (bad option,
    missing path, the wrong kind of file), 3 data error (unusable input
    content), 4 a query command answered no query (unknown words) or
    evaluate scored nothing (no analogy question covered, Spearman's rho
    undefined for every similarity set), 130/143
    interrupted.  Outputs are written atomically: an interrupted run leaves no
    partial file.

    \b
    Example:
      embedcli pipeline corpus.txt.gz -o out
      embedcli neighbors out/vectors.npz liberty -k 5
    """


def main() -> None:
    """Console-script entry point.  numpy's RuntimeWarnings (overflow, invalid value) are not shown:
    the commands check their inputs and results and say in one line what is wrong, and a
    warning's source line before that message is noise to a shell user."""
    import warnings

    warnings.simplefilter("ignore", RuntimeWarning)
    from embedcli.memory import return_freed_memory

    return_freed_memory()  # glibc: freed arrays of 4 MiB and more go back to the system
    cli.main()


from embedcli.cli import corpus, counting, documents, graphs, plots, queries, spaces, training  # noqa: E402,F401  (register)
