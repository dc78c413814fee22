"""Command-line options built from the stage specs, deprecated aliases, shared helpers.

Every option that sets a spec parameter is made here from the spec's field:
its flag, default, choices and help come from :mod:`embedcli.specs` and are
never written again in a command.  Values are validated by constructing the
spec (one place); a :class:`~embedcli.errors.ParameterError` is turned into a
one-line message naming the flag by the group's error handler.
"""

from __future__ import annotations

import dataclasses
import sys
import textwrap

import click

from embedcli.specs import flag_of, range_text

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def warn(msg: str) -> None:
    """One line on stderr."""
    click.echo(f"embedcli: {msg}", err=True)


class SpecChoice(click.ParamType):
    """A choice among a spec field's values (which may be ints); returns the spec's value itself."""

    name = "choice"

    def __init__(self, choices: tuple):
        self.choices = tuple(choices)

    def get_metavar(self, param, ctx=None):
        return "[" + "|".join(map(str, self.choices)) + "]"

    def convert(self, value, param, ctx):
        for c in self.choices:
            if value == c or str(c) == str(value):
                return c
        self.fail(f"{value!r} is not one of {', '.join(map(str, self.choices))}", param, ctx)


def _py_type(f) -> type:
    t = str(f.type)
    for name, typ in (("bool", bool), ("int", int), ("float", float)):
        if t.startswith(name):
            return typ
    return str


def option_name(f) -> str:
    """The Python keyword of a field's option: its flag without dashes (``vector_size`` -> ``dim``)."""
    return flag_of(f.name, f).lstrip("-").replace("-", "_")


def field_option(f, default=dataclasses.MISSING, help_prefix: str = "", default_note: str | None = None,
                 help_text: str | None = None):
    """A click option for one spec field (default: the spec's; ``help_text`` replaces help and range)."""
    m = f.metadata
    flag = flag_of(f.name, f)
    name = option_name(f)
    default = f.default if default is dataclasses.MISSING else default
    typ = _py_type(f)
    if help_text is not None:
        help_ = help_text
    else:
        help_ = help_prefix + m["help"]
        rng = range_text(f)
        if rng:
            help_ += f" Range: {rng}."
    if default_note:
        help_ += f" [default: {default_note}]"
    decls = [flag] + ([m["short"]] if m.get("short") else [])
    kw: dict = {"default": default, "help": help_}
    if m.get("multiple"):
        kw.update(multiple=True, metavar=m.get("metavar"))
        return click.option(*decls, name, **kw)
    if typ is bool:
        if m.get("secondary"):
            decls = [f"{flag}/{m['secondary']}"]
            kw["show_default"] = True
        else:
            kw["is_flag"] = True
    else:
        kw["show_default"] = default is not None and default_note is None
        if m.get("choices"):
            kw["type"] = SpecChoice(m["choices"])
        else:
            kw["type"] = typ
        if m.get("metavar"):
            kw["metavar"] = m["metavar"]
    return click.option(*decls, name, **kw)


def spec_options(*spec_classes, only: tuple = (), exclude: tuple = (), help_prefix: str = "",
                 command: str | None = None):
    """Decorator: one option per field of each spec class (restricted by ``only``/``exclude``).

    ``command`` picks per-command defaults from :data:`embedcli.specs.COMMAND_DEFAULTS`.
    """
    from embedcli.specs import COMMAND_DEFAULTS

    overrides = COMMAND_DEFAULTS.get(command, {})

    def deco(func):
        for cls in reversed(spec_classes):
            for f in reversed(dataclasses.fields(cls)):
                if (only and f.name not in only) or f.name in exclude:
                    continue
                default = overrides.get(f.name, dataclasses.MISSING)
                func = field_option(f, default=default, help_prefix=help_prefix)(func)
        return func

    return deco


def build_spec(cls, kwargs: dict, pop: bool = True):
    """Construct ``cls`` from the command's keyword arguments (keys: :func:`option_name`).

    Values that are None fall back to the spec's default (options shared by several
    specs with different defaults default to None).  Raises ParameterError.
    """
    values = {}
    for f in dataclasses.fields(cls):
        key = option_name(f)
        if key in kwargs:
            v = kwargs.pop(key) if pop else kwargs[key]
            if v is None:
                continue
            if isinstance(v, list):
                v = tuple(v)
            if _py_type(f) is int and isinstance(v, float):  # an option shared with a float parameter
                if not v.is_integer():
                    from embedcli.errors import ParameterError

                    raise ParameterError(f.name, v, "must be a whole number")
                v = int(v)
            values[f.name] = v
    return cls(**values)


class OneLineUsageError(click.ClickException):
    """A usage mistake shown as one line (no usage block), exit code 2."""

    exit_code = 2

    def show(self, file=None):
        click.echo(f"embedcli: error: {self.format_message()}", err=True)


# ----------------------------------------------------------------------------- aliases
class Command(click.Command):
    """A command whose ``--help`` ends with the docstring's ``Example:`` block (shown after the
    options), and that honours deprecated aliases: ``ctx.meta['embedcli_aliases']`` maps a new
    option's keyword to the old spelling and the value given under it."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.help and "Example:" in self.help and not self.epilog:
            head, example = self.help.split("Example:", 1)
            self.help = head.rstrip().removesuffix("\b").rstrip()
            lines = textwrap.dedent(example.strip("\n")).rstrip().splitlines()
            self.epilog = "\b\nExample:\n" + "\n".join("  " + line for line in lines)

    def invoke(self, ctx):
        for new, (old, value) in ctx.meta.get("embedcli_aliases", {}).items():
            source = ctx.get_parameter_source(new)
            if source is not None and source.name not in ("DEFAULT", "DEFAULT_MAP"):
                raise click.UsageError(f"{old} is the old name of {_flag(self, new)}; give only one of them", ctx)
            ctx.params[new] = value
        return super().invoke(ctx)


def _flag(cmd: click.Command, name: str) -> str:
    for p in cmd.params:
        if p.name == name:
            return p.opts[0]
    return name


def alias(old: str, new: str, type_=None, is_flag: bool = False):
    """A hidden deprecated spelling ``old`` of the option whose keyword is ``new``: still works
    (for one release) and prints a warning line."""

    def store(ctx, param, value):
        if value is None or (is_flag and not value):
            return
        warn(f"{old} is deprecated and will be removed; use {_flag(ctx.command, new)}")
        ctx.meta.setdefault("embedcli_aliases", {})[new] = (old, value)

    kw = {"is_flag": True, "default": False} if is_flag else {"type": type_, "default": None}
    return click.option(old, "_alias_" + new, hidden=True, expose_value=False, callback=store, **kw)


def command(group: click.Group, name: str | None = None):
    """``@command(cli)``: a :class:`Command` with the shared context settings."""
    return group.command(name, cls=Command, context_settings=CONTEXT_SETTINGS)


# ----------------------------------------------------------------------------- shared options
quiet_option = click.option("-q", "--quiet", is_flag=True, help="No progress or summary on stderr.")


def progress(label: str, unit: str | None, quiet: bool):
    from embedcli.fileio import Progress

    return Progress(label, unit, quiet)


def vectors_output_options(f):
    """``-o/--output VECTORS`` and ``--file-format`` (old spelling ``--format``)."""
    from embedcli.specs import VECTOR_FORMATS

    f = alias("--format", "file_format", click.Choice(VECTOR_FORMATS))(f)
    f = click.option("--file-format", "file_format", type=click.Choice(VECTOR_FORMATS), default=None,
                     help="Vectors file format, instead of the one implied by the extension.")(f)
    return click.option("-o", "--output", required=True, metavar="VECTORS",
                        help="Vectors file: .npz (native, memory-mapped), .bin (word2vec binary), "
                             "other (word2vec text); .gz/.bz2/.xz compress (v.bin.gz: binary).")(f)


def sibling_path(output: str, tag: str, option: str | None = None) -> str:
    """``vectors.npz`` -> ``vectors.TAG.npz`` (a compression suffix kept last), checked to be writable.

    Raises:
        click.UsageError: ``output`` is stdout, a pipe or a device (no name to put TAG into);
            ``option`` names the flag that gives the second file a name of its own.
        InputError: the sibling cannot be written (:func:`~embedcli.outputs.check_output_path`).
    """
    import os

    from embedcli.outputs import check_output_path

    if output == "-" or (os.path.exists(output) and not os.path.isfile(output)):
        alt = f", or give {option} FILE" if option else ""
        raise click.UsageError(f"-o {output}: the second output (NAME.{tag}.EXT) is named after -o, which needs "
                               f"a file name here{alt}")
    from embedcli.outputs import compression_of

    comp = compression_of(output) or ""  # .gz/.bz2/.xz in any case stays last: v.bin.xz -> v.TAG.bin.xz
    base, ext = os.path.splitext(output[: len(output) - len(comp)])
    path = f"{base}.{tag}{ext}{output[len(output) - len(comp):]}"
    check_output_path(path)
    return path


def stdin_is_tty() -> bool:
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


def merged_spec_options(groups: list[tuple[str, type, tuple]], command: str | None = None,
                        help_texts: dict[str, str] | None = None):
    """Options for a command that runs several stages (``pipeline``): one option per flag.

    ``groups`` are ``(label, spec_class, excluded_fields)``.  A flag shared by
    several specs with the same default gets that default; with different
    defaults it defaults to None ("each stage's default", listed in the help)
    and :func:`build_spec` lets each spec fall back to its own.  Help of an
    option used by some stages only is prefixed with their labels.  ``help_texts``: a
    field name -> one help text for the whole command, instead of the stages' texts run together.
    """
    from embedcli.specs import COMMAND_DEFAULTS

    overrides = COMMAND_DEFAULTS.get(command, {})
    by_name: dict[str, list] = {}
    for label, cls, excluded in groups:
        for f in dataclasses.fields(cls):
            if f.name in excluded:
                continue
            by_name.setdefault(option_name(f), []).append((label, f))

    def deco(func):
        all_labels = {label for label, _, _ in groups}
        for name in reversed(list(by_name)):
            entries = by_name[name]
            labels = list(dict.fromkeys(label for label, _ in entries))
            f = entries[0][1]
            defaults = {repr(e.default) for _, e in entries}
            prefix = "" if set(labels) == all_labels else f"[{', '.join(labels)}] "
            texts: dict[str, list[str]] = {}  # help text (with range) -> the stages it describes
            for label, e in entries:
                rng = range_text(e)
                texts.setdefault(e.metadata["help"] + (f" Range: {rng}." if rng else ""), []).append(label)
            help_text = None
            if help_texts and f.name in help_texts:
                help_text = help_texts[f.name]
            elif len(texts) > 1:
                help_text = " ".join(f"[{', '.join(dict.fromkeys(ls))}] {t}" for t, ls in texts.items())
            if f.name in overrides:
                func = field_option(f, default=overrides[f.name], help_prefix=prefix, help_text=help_text)(func)
            elif len(defaults) == 1:
                func = field_option(f, help_prefix=prefix, help_text=help_text)(func)
            else:
                note = ", ".join(f"{label} {e.default}" for label, e in entries if e.default is not None)
                func = field_option(f, default=None, help_prefix=prefix, default_note=note,
                                    help_text=help_text)(func)
        return func

    return deco


def preset_option(func):
    """``--preset NAME``: a named set of defaults from :data:`embedcli.specs.PRESETS`."""
    from embedcli.specs import PRESETS

    text = "; ".join(f"{k}: " + (", ".join(f"--{o.replace('_', '-')} {v}" for o, v in p.items()) or "the defaults")
                     for k, p in PRESETS.items())
    return click.option("--preset", type=click.Choice(list(PRESETS)), default="default", show_default=True,
                        help=f"Named defaults ({text}); options given explicitly win. See the README, "
                             "'Why these defaults'.")(func)


def apply_preset(kw: dict, preset: str) -> None:
    """Set the preset's values in ``kw`` for the options the user did not give."""
    from embedcli.specs import PRESETS

    ctx = click.get_current_context()
    for key, value in PRESETS[preset].items():
        source = ctx.get_parameter_source(key)
        if source is None or source.name in ("DEFAULT", "DEFAULT_MAP"):
            kw[key] = value


def refuse_workers_with(scheduler) -> None:
    """--workers sizes this process's own pool; with --scheduler the cluster's workers do the work, so a
    typed --workers would be ignored: refused instead."""
    from click.core import ParameterSource

    ctx = click.get_current_context()
    if scheduler is not None and ctx.get_parameter_source("workers") == ParameterSource.COMMANDLINE:
        raise click.UsageError("--workers: with --scheduler the cluster's workers do the work (start more of "
                               "them, or local:N); leave --workers out")


scheduler_option = click.option(
    "--scheduler", default=None, metavar="ADDRESS|local:N",
    help="Run on a Dask cluster: the address of a running dask scheduler (tcp://host:8786), or local:N for N "
         "worker processes started for the run; the result is the same bytes as without it. The workers read a tokens file by byte ranges (vocab, cooccur, termdoc): it must be "
         "uncompressed, not stdin, and at the same path on every worker (a shared filesystem) or an fsspec URL "
         "(s3://...); tokenize needs no shared files. See the README, 'Bigger than one machine'. Needs pip install "
         "'embedcli[dask]'. Default: run in this process.")
