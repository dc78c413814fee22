"""Tokenizing a corpus into one document per line, tokens separated by single spaces.

This output is the "LineSentence" format that gensim's ``LineSentence``/
``corpus_file`` and the word2vec and GloVe C tools read.  Reading streams in
blocks of :data:`embedcli.io.CHUNK_BYTES`, so memory does not grow with the
corpus.
"""

from __future__ import annotations

import codecs
import re
from collections import Counter
from dataclasses import dataclass
from importlib import resources
from typing import IO, Iterable

from embedcli.errors import DataError, UsageError
from embedcli.io import Progress, expand_inputs, iter_line_chunks

#: Default token pattern: maximal runs of Unicode letters and digits (``\w``
#: without the underscore).  "Don't" gives ``don`` and ``t``.
DEFAULT_TOKEN_PATTERN = r"[^\W_]+"
DOC_MODES = ("line", "paragraph", "file")
ERROR_POLICIES = ("strict", "replace", "ignore")


@dataclass
class TokenizeStats:
    """What :func:`tokenize` read and wrote."""

    n_files: int = 0
    n_docs: int = 0
    n_tokens: int = 0
    n_bytes: int = 0


def load_stopwords(spec: str | None) -> frozenset[str]:
    """Stop words for ``--stopwords``: ``none``/None, ``english`` (bundled list) or a file path.

    A file holds one word per line (``#`` starts a comment); UTF-8.

    Raises:
        UsageError: the file does not exist or cannot be decoded.
    """
    if spec is None or spec == "none":
        return frozenset()
    if spec == "english":
        text = resources.files("embedcli").joinpath("data/stopwords-english.txt").read_text("utf-8")
    else:
        try:
            with open(spec, encoding="utf-8") as f:
                text = f.read()
        except (OSError, UnicodeDecodeError) as e:
            raise UsageError(f"--stopwords {spec}: cannot read: {e}") from None
    return frozenset(w.strip() for w in text.splitlines() if w.strip() and not w.startswith("#"))


def make_line_tokenizer(
    lowercase: bool = True,
    token_pattern: str | None = None,
    min_length: int = 1,
    stopwords: Iterable[str] = (),
):
    """Return ``(tokenize_line, lower_after)``: ``tokenize_line(str) -> str`` of space-joined tokens.

    With the default pattern and no filters the line is matched as is and the
    caller lowercases whole blocks afterwards (``lower_after`` is True): the
    default pattern matches the same spans in either case, and one ``lower()``
    per block is much faster than one per line.

    Raises:
        UsageError: ``token_pattern`` is not a valid regular expression, or
            ``min_length`` < 1.
    """
    if min_length < 1:
        raise UsageError(f"--min-length {min_length}: must be at least 1")
    try:
        pat = re.compile(token_pattern or DEFAULT_TOKEN_PATTERN)
    except re.error as e:
        raise UsageError(f"--token-pattern {token_pattern!r}: {e}") from None
    if pat.groups:
        raise UsageError(f"--token-pattern {token_pattern!r}: use non-capturing groups (?:...)")
    findall = pat.findall
    stop = frozenset(stopwords)
    if token_pattern is None and min_length == 1 and not stop:
        return (lambda line: " ".join(findall(line))), lowercase

    def tok(line: str) -> str:
        if lowercase:
            line = line.lower()
        toks = findall(line)
        if min_length > 1 or stop:
            toks = [t for t in toks if len(t) >= min_length and t not in stop]
        return " ".join(toks)

    return tok, False


def _check_encoding(encoding: str, errors: str) -> None:
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise UsageError(f"--encoding {encoding}: unknown encoding") from None
    if "\n".encode(encoding) != b"\n" or " ".encode(encoding) != b" ":
        raise UsageError(f"--encoding {encoding}: only ASCII-compatible encodings are supported")
    if errors not in ERROR_POLICIES:
        raise UsageError(f"--errors {errors}: choose one of {', '.join(ERROR_POLICIES)}")


def decode_block(data: bytes, path: str, lineno: int, encoding: str, errors: str) -> str:
    """Decode a block of lines; a failure names the file and line.

    Raises:
        DataError: NUL bytes (a binary file) or undecodable bytes under ``errors="strict"``.
    """
    if b"\x00" in data:
        line = lineno + data[: data.index(b"\x00")].count(b"\n")
        raise DataError(f"{path}:{line}: NUL byte: this looks like a binary file, not text")
    try:
        return data.decode(encoding, errors)
    except UnicodeDecodeError as e:
        line = lineno + data[: e.start].count(b"\n")
        raise DataError(
            f"{path}:{line}: cannot decode byte 0x{data[e.start]:02x} as {encoding} "
            f"(use --errors replace/ignore, or --encoding)"
        ) from None


def tokenize(
    inputs: list[str] | tuple[str, ...],
    out: IO[bytes],
    *,
    lowercase: bool = True,
    token_pattern: str | None = None,
    min_length: int = 1,
    stopwords: Iterable[str] = (),
    doc: str = "line",
    encoding: str = "utf-8",
    errors: str = "strict",
    counter: Counter | None = None,
    progress: Progress | None = None,
) -> TokenizeStats:
    """Tokenize files into ``out`` (a binary stream): UTF-8, one document per line.

    Args:
        inputs: files, folders (recursive), glob patterns or ``-`` for stdin;
            ``.gz``/``.bz2``/``.xz`` are decompressed.
        doc: what a document is: ``line`` (each input line), ``paragraph``
            (runs of lines separated by blank lines) or ``file``.  Documents
            with no token are not written.
        encoding, errors: how input bytes are decoded (``errors`` is Python's
            policy: strict, replace, ignore).  Any ASCII-compatible encoding.
        counter: if given, updated with the count of every token written (so a
            pipeline gets its vocabulary without reading the output again).

    Returns:
        :class:`TokenizeStats`.

    Raises:
        UsageError: a bad option or a missing input.
        DataError: binary or undecodable input, or no token in the whole corpus.
    """
    if doc not in DOC_MODES:
        raise UsageError(f"--doc {doc}: choose one of {', '.join(DOC_MODES)}")
    _check_encoding(encoding, errors)
    tok, lower_after = make_line_tokenizer(lowercase, token_pattern, min_length, stopwords)
    files = expand_inputs(inputs)
    stats = TokenizeStats()
    progress = progress or Progress(None)
    spaces = 0  # every output document of n tokens holds n - 1 spaces
    for path in files:
        stats.n_files += 1
        is_open = False  # the current output document has tokens written
        for lineno, data, ends_line in iter_line_chunks(path):
            stats.n_bytes += len(data)
            text = decode_block(data, path, lineno, encoding, errors)
            parts = text.split("\n")
            if text.endswith("\n"):
                parts.pop()
            last = len(parts) - 1
            out_parts: list[str] = []
            add = out_parts.append
            n_docs = 0
            for i, part in enumerate(parts):
                terminated = i < last or ends_line
                toks = tok(part)
                if doc == "paragraph" and terminated and not toks and not part.strip():
                    if is_open:
                        add("\n")
                        n_docs += 1
                        is_open = False
                    continue
                if toks:
                    if is_open:
                        add(" ")
                    add(toks)
                    is_open = True
                if doc == "line" and terminated and is_open:
                    add("\n")
                    n_docs += 1
                    is_open = False
            chunk = "".join(out_parts)
            if lower_after:
                chunk = chunk.lower()
            if counter is not None:
                counter.update(chunk.split())
            spaces += chunk.count(" ")
            stats.n_docs += n_docs
            stats.n_tokens = spaces + stats.n_docs + is_open
            out.write(chunk.encode("utf-8"))
            progress.update(stats.n_bytes, extra=f"{stats.n_tokens:,} tokens")
        if is_open:
            out.write(b"\n")
            stats.n_docs += 1
    stats.n_tokens = spaces + stats.n_docs
    progress.close()
    if stats.n_tokens == 0:
        where = files[0] if len(files) == 1 else f"{len(files)} inputs"
        raise DataError(f"{where}: no tokens found (empty corpus?)")
    return stats
