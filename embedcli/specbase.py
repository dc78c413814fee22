"""The machinery under the stage specs (:mod:`embedcli.specs`): :func:`param` fields with CLI
metadata, validation on construction, provenance, and the flag of each parameter.  No
numpy/scipy import, so ``embedcli --help`` stays fast.  Import the names from
:mod:`embedcli.specs`, which re-exports them.
"""

from __future__ import annotations

import math
import numbers
import os
from dataclasses import MISSING, asdict, field, fields

from embedcli.errors import ParameterError

#: Largest seed accepted (numpy's and gensim's seeds are unsigned 32-bit).
MAX_SEED = 2**32 - 1
#: Vector file formats (chosen from the extension on write unless ``--file-format``).
VECTOR_FORMATS = ("native", "word2vec", "binary", "glove")
#: How query results are printed.
DISPLAY_FORMATS = ("tsv", "json")
#: How ``evaluate`` prints its report.
REPORT_FORMATS = ("table", "json")


def param(default, help: str, *, choices: tuple | None = None, lo=None, hi=None, lo_open: bool = False,
          hi_open: bool = False, flag: str | None = None, short: str | None = None, metavar: str | None = None,
          provenance: bool = True, secondary: str | None = None, multiple: bool = False):
    """A spec field with its CLI metadata.

    Args:
        default: the default (immutable).
        help: one-line help text (the CLI shows it, with the default and range).
        choices: allowed values.
        lo, hi: numeric range; ``lo_open``/``hi_open`` exclude the bound.
            Floats must also be finite.
        flag: the command-line flag when it is not ``--name-with-dashes``
            (``vector_size`` -> ``--dim``).
        short: a short flag (``-k``).
        secondary: for booleans, the off flag (``--cbow`` for ``--sg``).
        provenance: False for parameters that do not change the output
            (``workers``): they are not recorded.
    """
    meta = {"help": help, "choices": choices, "lo": lo, "hi": hi, "lo_open": lo_open, "hi_open": hi_open,
            "flag": flag, "short": short, "metavar": metavar, "provenance": provenance, "secondary": secondary,
            "multiple": multiple}
    return field(default=default, metadata=meta)


def flag_of(name: str, f=None) -> str:
    """The command-line flag of a spec parameter (``min_count`` -> ``--min-count``, ``vector_size`` -> ``--dim``).

    One mapping for every command: a parameter has the same flag wherever it appears.
    """
    if f is None:
        from embedcli.specs import ALL_SPECS

        for cls in ALL_SPECS:
            f = next((x for x in fields(cls) if x.name == name), None)
            if f is not None:
                break
    if f is not None and f.metadata.get("flag"):
        return f.metadata["flag"]
    return "--" + name.replace("_", "-")


def _check_field(spec, f) -> None:
    v = getattr(spec, f.name)
    m = f.metadata
    if v is None:
        return
    kind = str(f.type).split(" |")[0]
    if kind in ("int", "float") and not isinstance(v, bool) and isinstance(v, numbers.Real):
        # numpy numbers and whole floats become Python numbers; 2.5 for an integer is refused
        if kind == "int" and type(v) is not int:
            if not (isinstance(v, numbers.Integral) or float(v).is_integer()):
                raise ParameterError(f.name, v, "must be a whole number")
            v = int(v)
            object.__setattr__(spec, f.name, v)
        elif kind == "float" and type(v) not in (int, float):
            v = float(v)
            object.__setattr__(spec, f.name, v)
    choices = m.get("choices")
    if choices is not None and v not in choices:
        raise ParameterError(f.name, v, f"choose one of {', '.join(map(str, choices))}")
    lo, hi = m.get("lo"), m.get("hi")
    if lo is None and hi is None:
        return
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ParameterError(f.name, v, "must be a number")
    if isinstance(v, float) and not math.isfinite(v):
        raise ParameterError(f.name, v, "must be a finite number")
    if lo is not None and (v < lo or (m["lo_open"] and v == lo)):
        raise ParameterError(f.name, v, _range_text(m))
    if hi is not None and (v > hi or (m["hi_open"] and v == hi)):
        raise ParameterError(f.name, v, _range_text(m))


def _range_text(m: dict) -> str:
    lo, hi = m.get("lo"), m.get("hi")
    if hi is None:
        return f"must be {'greater than' if m['lo_open'] else 'at least'} {lo}"
    if lo is None:
        return f"must be {'less than' if m['hi_open'] else 'at most'} {hi}"
    return f"must be in {'(' if m['lo_open'] else '['}{lo}, {hi}{')' if m['hi_open'] else ']'}"


def range_text(f) -> str:
    """Human-readable range of a spec field (``[1, 1000]``), empty when unbounded."""
    m = f.metadata
    if m.get("lo") is None and m.get("hi") is None:
        return ""
    return _range_text(m).replace("must be ", "")


class Spec:
    """Base of the stage specs: validation on construction, provenance, replace."""

    def __post_init__(self) -> None:
        for f in fields(self):
            _check_field(self, f)
        self._check()

    def _check(self) -> None:
        """Cross-field checks (override)."""

    def provenance(self) -> dict:
        """The parameters that determine the output, as a JSON-serializable dict."""
        return {f.name: list(v) if isinstance(v := getattr(self, f.name), tuple) else v
                for f in fields(self) if f.metadata.get("provenance", True)}

    def as_dict(self) -> dict:
        return asdict(self)

    # defined once here rather than generated per class by @dataclass (faster import: --help)
    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{f.name}={getattr(self, f.name)!r}' for f in fields(self))})"

    def __eq__(self, other) -> bool:
        return type(self) is type(other) and all(getattr(self, f.name) == getattr(other, f.name) for f in fields(self))

    def __hash__(self) -> int:
        return hash((type(self).__name__, *(getattr(self, f.name) for f in fields(self))))

    def replace(self, **changes):
        """A copy with ``changes`` applied (validated)."""
        d = {f.name: getattr(self, f.name) for f in fields(self)}
        d.update(changes)
        return type(self)(**d)

    @classmethod
    def default_of(cls, name: str):
        f = next(f for f in fields(cls) if f.name == name)
        return f.default if f.default is not MISSING else None


def choices_of(cls, name: str) -> tuple:
    """The choices of a spec field (for options that are not built from the field itself)."""
    return cls.__dataclass_fields__[name].metadata["choices"]


def _seed(help_: str = "Random seed.") -> object:
    return param(1, help_, lo=0, hi=MAX_SEED)


def cores() -> int:
    """Cores usable by this process (the affinity mask where the OS reports it)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1
