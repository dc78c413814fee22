"""Exceptions that the CLI turns into a one-line message and a documented exit code.

Exit codes (also listed in README.md):

====  ==========================================================================
0     success
1     the output pipe was closed early (e.g. ``| head``; click's convention),
      or an internal error (a bug: it comes with a traceback)
2     usage error: a bad option value, a missing input path, an unwritable
      output folder
3     data error: an input file exists but its content is unusable (empty
      corpus, undecodable bytes, malformed vector/matrix/benchmark file, no
      vocabulary left after ``--min-count``)
130   interrupted (SIGINT); 143 terminated (SIGTERM). No partial output is left.
====  ==========================================================================
"""

EXIT_USAGE = 2
EXIT_DATA = 3


class EmbedcliError(Exception):
    """Base class: a user-facing error with a one-line message."""

    exit_code = EXIT_DATA


class UsageError(EmbedcliError):
    """A bad option or argument (exit code 2)."""

    exit_code = EXIT_USAGE


class DataError(EmbedcliError):
    """Input data that cannot be used (exit code 3)."""

    exit_code = EXIT_DATA


class FormatError(DataError):
    """A vector, matrix or benchmark file that is malformed (exit code 3)."""
