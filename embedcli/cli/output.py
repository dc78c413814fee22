"""How query commands read queries and print answers: one record per query, strict JSON, TSV rows
that keep their columns, notes on stderr, and the exit status of a query run."""

from __future__ import annotations

import json
import math
import os
import sys

import click

from embedcli.cli import EXIT_DATA
from embedcli.cli.options import OneLineUsageError, warn

EXIT_NONE_ANSWERED = 4

skip_unknown_option = click.option(
    "--skip-unknown", is_flag=True,
    help="Print nothing for a query that cannot be answered. By default every query gives exactly one record: "
         "JSON with an empty answer and an 'unknown' list, or one TSV row with empty answer fields.")
verbatim_option = click.option(
    "--verbatim", is_flag=True,
    help="Look words up exactly as typed. By default a query is lowercased when the vectors' tokenizer "
         "lowercased their text (read from their provenance).")


def read_queries(args: tuple[str, ...], flush: bool = False):
    """``(line_number or None, text)``: the arguments, or one query per stdin line when the only argument is '-'.

    Blank lines and lines starting with '#' are not queries.  A UTF-8 byte-order mark is
    dropped; bytes that are not UTF-8 become U+FFFD (so output stays valid UTF-8).  With
    ``flush``, ``(None, FLUSH)`` is yielded whenever no more input is waiting, so that a batching
    caller answers what it has (an interactive user or a coprocess gets each answer at once).

    Raises:
        click.UsageError: '-' with standard input closed, or '-' among other arguments.
    """
    if "-" in args and len(args) > 1:
        raise OneLineUsageError("'-' (read queries from stdin) must be the only query argument")
    if args != ("-",):
        for a in args:
            yield None, a
        return
    if sys.stdin is None:
        raise OneLineUsageError("standard input is closed; give queries as arguments")
    from embedcli.vectorfile import STDIN_TAKEN

    if STDIN_TAKEN and STDIN_TAKEN[0] is sys.stdin:
        raise OneLineUsageError("the vectors were read from standard input ('-'); give the queries as arguments")
    from embedcli.markers import FLUSH

    try:
        fd = sys.stdin.fileno()
    except (OSError, ValueError, AttributeError):  # not a real file (tests): read it whole
        fd = None
    if fd is None:
        buf = getattr(sys.stdin, "buffer", None)
        lines = buf if buf is not None else (ln.encode("utf-8", "replace") for ln in sys.stdin)
        yield from _query_lines(lines)
        return
    import select

    def chunks():
        buf = b""
        while True:
            data = os.read(fd, 1 << 16)
            if not data:
                if buf:
                    yield [buf]
                return
            buf += data
            *complete, buf = buf.split(b"\n")
            waiting = bool(select.select([fd], [], [], 0)[0]) if flush else True
            yield complete + ([] if waiting else [FLUSH])

    def lines():
        for group in chunks():
            yield from group

    yield from _query_lines(lines())


def _query_lines(lines):
    from embedcli.markers import FLUSH

    lineno = 0
    for raw in lines:
        if raw is FLUSH:
            yield None, FLUSH
            continue
        lineno += 1
        line = raw.decode("utf-8", "replace")
        if lineno == 1:
            line = line.lstrip("\ufeff")
        line = line.strip()
        if line and not line.startswith("#"):
            yield lineno, line


def _where(lineno) -> str:
    return f"line {lineno}: " if lineno else ""


class Reporter:
    """One output record per query, notes on stderr, and the exit status of a query run:
    3 when a query line was malformed, 4 when no query could be answered, else 0."""

    def __init__(self, v, fmt: str, quiet: bool, skip_unknown: bool, verbatim: bool):
        self.v, self.fmt, self.quiet, self.skip_unknown = v, fmt, quiet, skip_unknown
        self.key = (lambda w: w) if verbatim else v.query_key
        self.answered = self.unanswered = self.bad = 0
        self.suggested = 0

    def words(self, text: str) -> list[str]:
        return [self.key(w) for w in text.split()]

    def note(self, lineno, unknown: list[str], oov: list[str], words: list[str] = ()) -> None:
        """Notes on stderr: unknown words (with suggestions), words built from character n-grams,
        and ``words`` whose vector is zero (a document with no known word, an empty node), whose
        cosine with anything is 0 by convention (as gensim's)."""
        if self.quiet:
            return
        zero = [w for w in dict.fromkeys(words) if w in self.v and not self.v.get_vector(w).any()]
        if zero:
            warn(f"{_where(lineno)}zero vector (cosine 0 with every word, by convention): {' '.join(zero)}")
        if unknown:
            hint = ""
            if self.suggested < 20:  # suggestions cost a scan of the vocabulary: the first few only
                self.suggested += 1
                close = {w: self.v.suggest(w) for w in unknown}
                hint = "".join(f"; {w}: did you mean {', '.join(c)}?" for w, c in close.items() if c)
            warn(f"{_where(lineno)}not in vocabulary: {' '.join(unknown)}{hint}")
        if oov:
            warn(f"{_where(lineno)}not in vocabulary, vector built from character n-grams: {' '.join(oov)}")

    def emit(self, record: dict, tsv_rows: list[list], answered: bool) -> None:
        if answered:
            self.answered += 1
        else:
            self.unanswered += 1
            if self.skip_unknown:
                return
        if self.fmt == "json":
            click.echo(dumps(record))
        else:
            click.echo("".join(_row(row) for row in tsv_rows), nl=False)

    def malformed(self, lineno, text: str, msg: str, record: dict, width: int) -> None:
        self.bad += 1
        if not self.quiet:
            warn(f"{_where(lineno)}{msg}")
        record["error"] = msg
        if self.fmt == "json":
            click.echo(dumps(record))
        else:
            click.echo("\t".join([_field(text)] + [""] * (width - 1)))

    def status(self) -> int:
        if self.bad:
            return EXIT_DATA
        if self.unanswered and not self.answered:
            if not self.quiet:
                warn("no query could be answered")
            return EXIT_NONE_ANSWERED
        return 0


def compact_numbers(x, limit: int = 100):
    """``x`` with every matrix (a list of lists) of more than ``limit`` numbers in the metadata, such
    as an alignment's rotation, replaced by ``{"shape": [...], "omitted": ...}``, and every flat
    list of more than ``10 * limit`` entries (a docvec output's per-word idf or p(w)) by
    ``{"length": n, "first": [...], "omitted": ...}`` (``info --full`` prints them whole)."""
    if isinstance(x, dict):
        return {k: compact_numbers(v, limit) for k, v in x.items()}
    if isinstance(x, list):
        flat, shape, level = x, [len(x)], x
        while level and isinstance(level[0], list):
            shape.append(len(level[0]))
            level = level[0]
        if len(shape) > 1:
            flat = [v for row in x for v in (row if isinstance(row, list) else [row])]
        if len(shape) > 1 and len(flat) > limit and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in flat[:1000]):
            return {"shape": shape, "omitted": "numbers left out; embedcli info --full prints them"}
        if len(shape) == 1 and len(x) > 10 * limit and all(isinstance(v, (int, float, str)) for v in x[:1000]):
            return {"length": len(x), "first": x[:3], "omitted": "the rest left out; embedcli info --full prints it"}
        return [compact_numbers(v, limit) for v in x]
    return x


def table(header: list[str], rows: list[list[str]], left: int = 1) -> list[str]:
    """Columns as wide as their widest cell: the first ``left`` left-aligned, the rest right-aligned."""
    widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]
    return ["  ".join(c.ljust(w) if i < left else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))).rstrip()
            for r in [header] + rows]


def scored_status(res: dict, vectors_path: str, quiet: bool) -> int:
    """``evaluate``'s exit status: 4 (with a warning) when no score is defined -- no benchmark pair
    or question had all its words in the vectors, or too few pairs to rank -- so that a batch job
    sees that nothing was measured."""
    if (any(s.get("spearman") is not None for s in res["similarity"])
            or any(a["questions_used"] for a in res["analogy"])):
        return 0
    if not quiet:
        warn(f"evaluate: no score could be computed on {vectors_path} (no analogy question had all its words in "
             "it, and Spearman's rho was undefined for every similarity benchmark: fewer than two covered pairs, or "
             "constant gold scores or cosines): nothing was scored")
    return EXIT_NONE_ANSWERED


def _row(row: list) -> str:
    """A TSV line; fields holding a tab or newline (rare: labels are normalized) are cleaned."""
    line = "\t".join(row)
    if line.count("\t") != len(row) - 1 or "\n" in line or "\r" in line:
        line = "\t".join(_field(x) for x in row)
    return line + "\n"


def _field(x) -> str:
    """A TSV field: tabs and newlines inside become spaces, so rows keep their columns."""
    return " ".join(str(x).split()) if isinstance(x, str) else str(x)


def dumps(record) -> str:
    """Strict JSON (NaN and infinities become null)."""
    return json.dumps(_finite(record), ensure_ascii=False, allow_nan=False)


def _finite(x):
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {k: _finite(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_finite(v) for v in x]
    return x


