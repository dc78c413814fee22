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

A parameter is checked when its annotation is a :class:`~embedcli.specbase.Spec` subclass or one
of the data classes ``Vectors``, ``Vocabulary``, ``CountMatrix``, ``Graph`` (or such a class ``| None``).
"""

from __future__ import annotations

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


def _spec_classes(func) -> dict[str, type]:
    """``{parameter: class}`` for the parameters annotated with a spec or data class (none if the
    annotations do not resolve)."""
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
            out[name] = classes[0]
    return out


def entry_point(func):
    """Decorator for a public library function: ``os.PathLike`` arguments become ``str``, and spec
    arguments are checked for their class (see the module docstring).

    Raises (from the wrapped call):
        TypeError: a spec parameter given an object of another class.
    """
    signature = inspect.signature(func)
    specs: dict[str, type] | None = None

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        nonlocal specs
        args = tuple(_as_str(a) for a in args)
        kwargs = {k: _as_str(v) for k, v in kwargs.items()}
        if specs is None:
            specs = _spec_classes(func)
        if specs:
            given = signature.bind_partial(*args, **kwargs).arguments
            for name, cls in specs.items():
                value = given.get(name)
                if value is not None and not isinstance(value, cls):
                    raise TypeError(f"{func.__qualname__}(): {name} must be a {cls.__name__} (or None), "
                                    f"not {type(value).__name__}")
        return func(*args, **kwargs)

    return wrapper
