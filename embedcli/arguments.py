"""Arguments at the library's entry points: paths of any kind, specs of the right class.

:func:`entry_point` wraps a public stage function (``build_vocab``, ``factorize``, ``run_pipeline``,
...) so that a library caller gets what the command line gets:

- any ``os.PathLike`` (``pathlib.Path``) is accepted where a path is, also inside a list or tuple of
  paths: it is passed on as ``str`` (gensim's threads, for one, fail on a ``Path`` and then wait
  forever);
- a spec argument of the wrong class (``factorize(cm, SVDSpec())``, where the second parameter is
  the ``WeightingSpec``; a ``dict`` of options), or a list where a ``Vocabulary`` is expected,
  raises a ``TypeError`` naming the parameter and the class expected, before any work -- not an
  ``AttributeError`` from deep inside, after files were written.

With ``entry_point(documents="path")`` the named parameter also takes documents held in memory:
any iterable (a list, a generator) of token lists or of strings already split by white space.
They are streamed into a temporary tokens file (in ``$TMPDIR``, removed when the call returns),
which the function reads as it reads a file: one pass for a generator, so give a list, or write a
tokens file, to use the same documents in several calls.

A parameter is checked when its annotation is a :class:`~embedcli.specbase.Spec` subclass or one
of the data classes ``Vectors``, ``Vocabulary``, ``CountMatrix``, ``Graph`` (or such a class ``| None``).
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import os
import types
import typing


def _as_str(value):
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, (list, tuple)) and any(isinstance(v, os.PathLike) for v in value):
        return type(value)(os.fspath(v) if isinstance(v, os.PathLike) else v for v in value)
    return value


#: The library's data classes, checked like specs when a parameter is annotated with one.
_DATA_CLASSES = {"embedcli.vectors.Vectors", "embedcli.vocab.Vocabulary", "embedcli.matrix.CountMatrix",
                 "embedcli.graph.Graph"}


def _spec_classes(func) -> dict[str, tuple[type, bool]]:
    """``{parameter: (class, None allowed)}`` for the parameters annotated with a spec or data class
    (those whose annotations do not resolve are left out)."""
    from embedcli.specbase import Spec

    out = {}
    for name, hint in inspect.get_annotations(func).items():
        if isinstance(hint, str):  # from __future__ import annotations: resolve each on its own
            try:
                hint = eval(hint, func.__globals__)  # noqa: S307 (our own annotations, not input)
            except Exception:  # a name imported only for type checkers: that parameter is not checked
                continue
        options = typing.get_args(hint) if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union \
            else (hint,)
        classes = [c for c in options if isinstance(c, type) and (issubclass(c, Spec) or f"{c.__module__}.{c.__qualname__}"
                                                                  in _DATA_CLASSES)]
        if len(classes) == 1 and name != "return":
            out[name] = (classes[0], type(None) in options)
    return out


def entry_point(func=None, *, documents: str | None = None):
    """Decorator for a public library function: ``os.PathLike`` arguments become ``str``, spec
    arguments are checked for their class, and (``documents``: a parameter's name) in-memory
    documents are accepted where a tokens file is (see the module docstring).

    Raises (from the wrapped call):
        TypeError: a spec parameter given an object of another class, or documents that are
            neither a path nor an iterable of token lists / strings.
        ValueError: a token holding white space (it would become two tokens in a file).
    """
    if func is None:
        return functools.partial(entry_point, documents=documents)
    signature = inspect.signature(func)
    specs: dict[str, tuple[type, bool]] | None = None

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        nonlocal specs
        args = tuple(_as_str(a) for a in args)
        kwargs = {k: _as_str(v) for k, v in kwargs.items()}
        if specs is None:
            specs = _spec_classes(func)
        bound = signature.bind_partial(*args, **kwargs) if specs or documents else None
        given = bound.arguments if bound is not None else {}
        for name, (cls, optional) in (specs or {}).items():
            if name not in given:
                continue  # left to its default
            value = given[name]
            if not isinstance(value, cls) and not (value is None and optional):
                raise TypeError(f"{func.__qualname__}(): {name} must be a {cls.__name__}{' (or None)' if optional else ''}, "
                                f"not {type(value).__name__}")
        docs = given.get(documents) if documents else None
        if docs is None or isinstance(docs, str):
            return func(*args, **kwargs)
        with _documents_file(docs, f"{func.__qualname__}(): {documents}") as path:
            bound.arguments[documents] = path
            out = func(*bound.args, **bound.kwargs)
        _rename(out, path, IN_MEMORY)  # the temporary file is gone: provenance says where the text was
        return out

    if documents and wrapper.__doc__:
        wrapper.__doc__ = (wrapper.__doc__.rstrip() + f"\n\n    ``{documents}`` may also be documents held in memory: an "
                           "iterable of token lists or of\n    white-space-separated strings (see "
                           ":mod:`embedcli.arguments`).\n")
    return wrapper


#: The path that provenance records for documents given in memory.
IN_MEMORY = "<documents in memory>"


def _rename(obj, old: str, new: str, depth: int = 0) -> None:
    """Replace the string ``old`` by ``new`` in the provenance records of a result (its
    ``provenance`` or ``meta`` dicts, inside tuples and lists), in place."""
    if depth > 50:
        return
    if isinstance(obj, dict):
        for k, v in obj.items():
            if v == old:
                obj[k] = new
            else:
                _rename(v, old, new, depth + 1)
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            if v == old:
                obj[i] = new
            else:
                _rename(v, old, new, depth + 1)
    elif isinstance(obj, tuple):
        for v in obj:
            _rename(v, old, new, depth + 1)
    else:
        for attr in ("provenance", "meta"):
            d = getattr(obj, attr, None)
            if isinstance(d, dict):
                _rename(d, old, new, depth + 1)


@contextlib.contextmanager
def _documents_file(docs, what: str):
    """Write in-memory documents as a temporary tokens file; yield its path; remove it."""
    import tempfile

    from embedcli.fileio import naming_scratch_errors, scratch_prefix

    if isinstance(docs, (bytes, dict)) or not hasattr(docs, "__iter__"):
        raise TypeError(f"{what} must be a tokens file's path or an iterable of documents (token lists or "
                        f"strings), not {type(docs).__name__}")
    fd, path = tempfile.mkstemp(prefix=scratch_prefix("documents"), suffix=".txt")
    try:
        with naming_scratch_errors(path), os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            for i, doc in enumerate(docs):
                if isinstance(doc, str):
                    line = " ".join(doc.split())
                else:
                    toks = [str(t) for t in doc]
                    bad = next((t for t in toks if not t or t.split() != [t]), None)
                    if bad is not None:
                        raise ValueError(f"{what}: document {i}: token {bad!r} is empty or holds white space")
                    line = " ".join(toks)
                f.write(line + "\n")
        yield path
    finally:
        os.unlink(path)
