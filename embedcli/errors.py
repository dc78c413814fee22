"""The library's exceptions.  They carry no exit codes and no command-line wording.

=======================  =====================================================
exception                raised for
=======================  =====================================================
:class:`ParameterError`  a parameter out of range or not among its choices
                         (a ``ValueError``; names the parameter, e.g. ``cds``)
:class:`InputError`      a path that does not exist, cannot be opened, or an
                         output that cannot be written there
:class:`DataError`       an input that exists but whose content is unusable
:class:`FormatError`     a malformed vector, matrix, vocabulary or benchmark file
:class:`DependencyError` an optional dependency a command needs is not installed
=======================  =====================================================

The command line maps them to exit codes and turns a parameter name into its
flag (``cds`` -> ``--cds``) in one place, :mod:`embedcli.cli`.
"""

from __future__ import annotations


class EmbedcliError(Exception):
    """Base class: a user-facing error with a one-line message.

    ``params`` names parameters that the message mentions as ``name=value``;
    the command line shows them as flags (``min_count=5`` -> ``--min-count 5``).
    """

    def __init__(self, *args, params: tuple[str, ...] = ()):
        super().__init__(*args)
        self.params = tuple(params)


class ParameterError(EmbedcliError, ValueError):
    """A parameter value out of range or not among its choices.

    Attributes:
        param: the parameter's library name (``cds``, ``vector_size``).
        value: the rejected value.
        reason: what is wrong, without the parameter's name.
    """

    def __init__(self, param: str, value, reason: str, also: tuple[str, ...] = ()):
        self.param, self.value, self.reason = param, value, reason
        super().__init__(f"{param}={value!r}: {reason}", params=(param, *also))


class InputError(EmbedcliError):
    """A path that does not exist or cannot be opened, or an output that cannot be written."""


class DataError(EmbedcliError):
    """Input content that cannot be used (empty corpus, undecodable bytes, no vocabulary left)."""


class FormatError(DataError):
    """A vector, matrix, vocabulary or benchmark file that is malformed."""


class WrongKindError(InputError, FormatError):
    """A file of another kind than the one expected (a tokens file or a matrix given as vectors,
    vectors given as a matrix): a usage mistake, so the command line exits 2 as for
    :class:`InputError`; also a :class:`FormatError` for callers that catch that."""


class DependencyError(EmbedcliError, ImportError):
    """An optional dependency is missing; the message says which extra installs it."""


#: Former name of :class:`InputError` (embedcli 0.1); kept for callers of the library.
UsageError = InputError


#: Deepest nesting accepted in the JSON of a file's metadata (provenance chains nest a few levels a
#: stage); deeper documents would exhaust the recursion of the code that walks them.
MAX_JSON_DEPTH = 200


def json_number(x) -> bool:
    """Whether a value read from JSON metadata is a finite number (not a bool, string or NaN)."""
    import math

    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def json_numbers(x) -> bool:
    """Whether a value read from JSON metadata is a list of finite numbers."""
    return isinstance(x, list) and all(map(json_number, x))


def parse_json(text: str | bytes):
    """``json.loads`` for the metadata of files embedcli reads, which may come from anyone.

    Raises:
        ValueError: not JSON, or nested more than :data:`MAX_JSON_DEPTH` levels deep.
    """
    import json

    try:
        doc = json.loads(text)
    except RecursionError:
        raise ValueError(f"nested more than {MAX_JSON_DEPTH} levels deep") from None
    stack = [(doc, 1)]
    while stack:
        x, depth = stack.pop()
        if isinstance(x, (dict, list)):
            if depth > MAX_JSON_DEPTH:
                raise ValueError(f"nested more than {MAX_JSON_DEPTH} levels deep")
            stack.extend((v, depth + 1) for v in (x.values() if isinstance(x, dict) else x))
    return doc
