"""Every vector file format in one place: read, write, detect, refuse pickles.

=============  ===========  =====================================================
format         extension    content
=============  ===========  =====================================================
``native``     ``.npz``     embedcli ``.npz``: ``vectors`` ``(n, dim) float32``,
                            ``norms``, ``words``, ``counts``, JSON metadata
                            (provenance, singular values).  Memory-mapped on
                            read, so a query does not parse text.
``word2vec``   any other    word2vec text: ``n dim`` header, ``word v1 .. vdim``
``binary``     ``.bin``     word2vec binary (the C tool's and gensim's)
``glove``      (read;       GloVe text: no header.  Written with
               detected)    ``--file-format glove``.
``fasttext``   ``.bin``     Facebook fastText model (read; written by
               (detected)   :func:`save_fasttext`); builds vectors for unseen
                            words from character n-grams.
=============  ===========  =====================================================

Text formats may be gzip-compressed (``.gz``).  Nothing is ever unpickled.
This package sits below :class:`embedcli.vectors.Vectors`: it deals in
:class:`VectorData` (words, array, counts, metadata) and imports no other
embedcli module above :mod:`embedcli.fileio`.  Its modules: this one (reading,
writing, compression), :mod:`.text` (word2vec text/binary, GloVe, native
parsing), :mod:`.fasttext` (fastText models), :mod:`.kinds` (what a file is).
"""

from __future__ import annotations

import bz2
import contextlib
import gzip
import io
import lzma
import operator
import os
from dataclasses import dataclass, field, replace
from typing import Any, Callable

import numpy as np

from embedcli import __version__
from embedcli.errors import DataError, FormatError, ParameterError, WrongKindError
from embedcli.fileio import CORRUPT_DATA_ERRORS, atomic_output, read_head, scratch_prefix
from embedcli.npzfile import text_blob, write_npz
from embedcli.specs import VECTOR_FORMATS

VECTORS_FORMAT = "embedcli-vectors"
VECTORS_FORMAT_VERSION = 1


@dataclass
class VectorData:
    """What a vector file holds.

    Attributes:
        words: ``n`` distinct words.
        vectors: ``(n, dim) float32`` (a read-only memory map for native files).
        counts: ``(n,) int64`` corpus counts, or None.
        meta: metadata (provenance, singular values, ``source_format``).
        norms: ``(n,) float32`` row norms when stored, else None.
        oov: for fastText models, ``word -> (dim,) float32`` vector built from
            character n-grams; None otherwise.
    """

    words: list[str]
    vectors: np.ndarray
    counts: np.ndarray | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    norms: np.ndarray | None = None
    oov: Callable[[str], np.ndarray] | None = None


def write_vectors(path: str, words: list[str], vectors: np.ndarray, counts: np.ndarray | None = None,
                  meta: dict | None = None, fmt: str | None = None, norms: np.ndarray | None = None,
                  sidecar: dict | None = None) -> str:
    """Write vectors atomically in ``fmt`` (default: implied by the extension); returns the format.

    ``native`` stores ``meta`` inside the file; the other formats get ``sidecar``
    (``kind``, ``provenance``, extra keys) as ``PATH.meta.json``, committed with
    the file.  Text and binary formats are compressed when the name ends with
    .gz/.bz2/.xz.  Never writes a NaN or infinite vector.

    Raises:
        ParameterError: unknown format.
        DataError: a NaN/infinite value, or a word that a text/binary format cannot
            hold (empty or with white space).
        InputError: an unwritable output, ``-`` or a compressed name for ``native``.
    """
    from embedcli.fileio import refuse_compressed, refuse_stdout

    fmt = fmt or format_from_extension(path)
    if fmt not in VECTOR_FORMATS:
        raise ParameterError("file_format", fmt, f"choose one of {', '.join(VECTOR_FORMATS)}")
    norms = row_norms(vectors) if norms is None else norms
    if not np.isfinite(norms).all():
        i = int(np.flatnonzero(~np.isfinite(norms))[0])
        raise DataError(f"the vector of {words[i]!r} holds NaN or infinite values; nothing written to {path}")
    dim = int(vectors.shape[1])
    if fmt == "native":
        refuse_compressed(path, "native .npz vectors")
        refuse_stdout(path, "native .npz vectors file")
        meta = dict(meta or {})
        meta.update(format=VECTORS_FORMAT, format_version=VECTORS_FORMAT_VERSION)
        meta.setdefault("embedcli_version", __version__)
        meta["shape"] = [len(words), dim]
        arrays = {
            "vectors": np.ascontiguousarray(vectors, dtype=np.float32),
            "norms": norms.astype(np.float32),
            "words": text_blob(words),
        }
        if counts is not None:
            arrays["counts"] = np.asarray(counts, dtype=np.int64)
        write_npz(path, meta, arrays)
        return fmt
    _check_words_writable(path, words)
    step = 4096
    side = dict(sidecar or {}, format=fmt) if sidecar else None
    with atomic_output(path, "wb", sidecar=side) as f:
        if fmt != "glove":
            f.write(f"{len(words)} {dim}\n".encode())
        for i in range(0, len(words), step):
            if fmt == "binary":
                block = np.asarray(vectors[i : i + step], dtype="<f4")
                f.write(b"".join(w.encode("utf-8") + b" " + row.tobytes() + b"\n"
                                 for w, row in zip(words[i : i + step], block)))
            else:
                block = np.asarray(vectors[i : i + step], dtype=np.float32)
                buf = io.StringIO()
                np.savetxt(buf, block, fmt="%.9g", delimiter=" ")  # 9 digits: float32 read back exactly
                rows = buf.getvalue().split("\n")
                f.write("".join(f"{w} {r}\n" for w, r in zip(words[i : i + step], rows)).encode("utf-8"))
    return fmt


def read_vectors(path: str, fmt: str | None = None, mmap: bool = True, lenient: bool = False,
                 limit: int | None = None) -> VectorData:
    """Read a vectors file; the format is detected from the content unless ``fmt`` is given.

    ``lenient`` (text and binary formats) repairs what gensim's reader tolerates instead of
    refusing it: words that are not valid UTF-8 (their bad bytes become U+FFFD, as gensim's
    ``unicode_errors="replace"``; word2vec.c cuts long words mid-character), repeated words (the
    first row is kept) and, in text files, a header whose word count differs from the rows.
    ``meta["repaired"]`` counts each repair.

    ``limit``: the first ``limit`` rows only (gensim's ``limit``).  A text or binary file is then
    read only up to them (a header's word count is not checked against the rest); a native file
    is memory-mapped and sliced; from standard input or a pipe only those rows are copied and
    parsed (a compressed stream is copied whole first); a fastText ``.bin`` and a ``lenient``
    read (whose repairs may drop rows) are read whole and then cut, the same rows either way.

    Raises:
        ParameterError: an unknown ``fmt``; ``limit`` not a positive integer.
        InputError: the file does not exist, is a folder, or cannot be opened; ``-`` on a terminal.
            ``-`` (vectors piped to standard input), a named pipe or a process substitution
            (``<(zcat v.txt.gz)``) is read whole first (:func:`is_stream`).
        FormatError: malformed content (naming the line): truncated file,
            header that disagrees with the rows, rows of different lengths,
            non-numeric/NaN/inf values, duplicate or undecodable words, a
            pickle, an embedcli matrix file, a newer format version.
    """
    if fmt is not None and fmt not in (*VECTOR_FORMATS, "fasttext"):
        raise ParameterError("file_format", fmt, f"choose one of {', '.join((*VECTOR_FORMATS, 'fasttext'))}")
    if limit is not None:
        try:  # any integer (numpy's too, as gensim takes), not a bool or a float
            if isinstance(limit, bool) or (limit := operator.index(limit)) < 1:
                raise TypeError
        except TypeError:
            raise ParameterError("limit", limit, "must be a positive integer (None: every row)") from None
    if path == "-":
        return _first_rows(_read_stdin(fmt, lenient, limit), limit)
    if is_stream(path):
        return _first_rows(_read_stream(path, fmt, lenient, limit), limit)
    head = read_head(path, "vectors")
    if len(head) >= 4 and int.from_bytes(head[:4], "little") == FASTTEXT_MAGIC and fmt in (None, "fasttext"):
        return _first_rows(load_fasttext(path), limit)
    if fmt is None:
        fmt = "native" if head.startswith(b"PK") else None
    if fmt == "native":
        return _first_rows(_load_native(path, mmap), limit)
    scan = RowsEnd(path, fmt, limit) if limit is not None and not lenient else None
    data = read_bounded(path, head, scan)
    if data.startswith(b"PK") and not head.startswith(b"PK"):  # a compressed .npz
        raise FormatError(f"{path}: a compressed native .npz; decompress it first (native files are read "
                          "memory-mapped, and are not compressed)")
    try:
        # cut at `limit` rows: those are parsed; read whole: parsed and checked whole, then cut
        return _first_rows(_parse_text_or_binary(path, data, fmt, lenient, limit if scan and scan.cut else None),
                           limit)
    except FormatError as e:
        kind = sniff_kind(path, data[:65536])
        if kind in ("tokens", "vocabulary", "sidecar", "edges", "projector-vectors", "projector-metadata", "phrases"):
            from embedcli.vectorfile.kinds import _KIND_NAMES

            raise WrongKindError(f"{path}: this looks like {_KIND_NAMES.get(kind, kind)}, not vectors; give a vectors file "
                              "(from embedcli svd, word2vec or fasttext)") from None
        raise e from None


def _first_rows(d: VectorData, limit: int | None) -> VectorData:
    """``d`` cut to its first ``limit`` rows (a fastText model's subword table is kept)."""
    if limit is None or limit >= len(d.words):
        return d
    return replace(d, words=d.words[:limit], vectors=d.vectors[:limit],
                      counts=None if d.counts is None else d.counts[:limit],
                      norms=None if d.norms is None else d.norms[:limit])


def is_stream(path: str) -> bool:
    """Whether ``path`` names a named pipe or a process substitution (``<(zcat v.txt.gz)``, seen as
    ``/dev/fd/N``).  Devices (``/dev/zero``) are not streams: they stay refused."""
    import stat

    try:
        return path != "-" and stat.S_ISFIFO(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


#: the ``sys.stdin`` the vectors were read from ('-'): the queries cannot come from there too
STDIN_TAKEN: list = []


def _read_stdin(fmt: str | None, lenient: bool = False, limit: int | None = None) -> VectorData:
    """Vectors piped to standard input (``-``), read as a named pipe is (:func:`_read_stream`)."""
    import sys

    from embedcli.errors import InputError

    stream = getattr(sys.stdin, "buffer", None)
    if stream is None:
        raise InputError("standard input is closed ('-' as VECTORS); pipe a vectors file in or give a file")
    if sys.stdin.isatty():
        raise InputError("a vectors file cannot be read from a terminal ('-'); pipe one in or give a file")
    STDIN_TAKEN[:] = [sys.stdin]
    return _read_stream("standard input", fmt, lenient, limit, stream)


@contextlib.contextmanager
def spooled_stream(path: str, check_head=None, source=None, enough=None):
    """Copy a pipe's bytes to a temporary file (in ``TMPDIR``) and yield its path; the copy is
    removed afterwards.  ``check_head(path, head)`` sees the first 64 kB before the rest is copied
    (a pipe has no other bound); errors raised inside name ``path``, not the copy.  ``source``: an
    open binary stream to copy instead of opening ``path`` (standard input).  ``enough``: as
    :func:`read_bounded`'s, for a stream that is not compressed: the copy stops at the prefix it
    gives (the rest of the stream is left unread).

    Raises:
        InputError: the pipe cannot be read, or TMPDIR is full (named).
    """
    import shutil
    import tempfile

    from embedcli.errors import EmbedcliError, InputError
    from embedcli.fileio import naming_scratch_errors

    fd, tmp = tempfile.mkstemp(prefix=scratch_prefix("stream"))
    try:
        try:
            with naming_scratch_errors(tmp), os.fdopen(fd, "wb") as out, \
                    (contextlib.nullcontext(source) if source is not None else open(path, "rb")) as src:
                head = b""
                while len(head) < 65536 and (more := src.read(65536 - len(head))):
                    head += more
                if check_head is not None:
                    check_head(path, head)  # before copying what may be a corpus, or endless
                if enough is None or any(head.startswith(m) for m in (*_MAGIC, b"PK")) or (
                        len(head) >= 4 and int.from_bytes(head[:4], "little") == FASTTEXT_MAGIC):
                    out.write(head)
                    shutil.copyfileobj(src, out, 1 << 22)
                else:  # only the rows wanted: `zcat big.vec.gz | embedcli convert - --top N`
                    buf = bytearray(head)
                    while (cut := enough(buf)) is None and (more := src.read(1 << 22)):
                        buf += more
                    out.write(memoryview(buf)[:cut])
        except OSError as e:
            raise InputError(f"{path}: cannot read: {e.strerror or e}") from None
        try:
            yield tmp
        except EmbedcliError as e:
            e.args = tuple(a.replace(tmp, path) if isinstance(a, str) else a for a in e.args)
            raise
    finally:
        os.unlink(tmp)


def _read_stream(path: str, fmt: str | None, lenient: bool = False, limit: int | None = None,
                 source=None) -> VectorData:
    """Read vectors from a pipe (:func:`spooled_stream`), into memory (not memory-mapped).  With
    ``limit`` (not ``lenient``), an uncompressed stream is copied only up to its first ``limit``
    rows, and only those are parsed."""
    enough = RowsEnd(path, fmt, limit) if limit is not None and not lenient else None
    with spooled_stream(path, _check_stream_head, source, enough) as tmp:
        return read_vectors(tmp, fmt, mmap=False, lenient=lenient, limit=limit)


def _check_stream_head(path: str, head: bytes) -> None:
    """Refuse a piped input whose first bytes are plainly not vectors (tokens, a vocabulary, binary
    zeros), before it is copied whole: the copy has no other bound.

    Raises:
        WrongKindError: another kind of file.  FormatError: binary data that is no vectors format.
    """
    from embedcli.vectorfile.kinds import _KIND_NAMES, _sniff_not_tokens, sniff_kind

    if not head or head.startswith(b"PK") or (len(head) >= 4 and int.from_bytes(head[:4], "little") == FASTTEXT_MAGIC):
        return
    opener = next((o for magic, o in _MAGIC.items() if head.startswith(magic)), None)
    text = head
    if opener is not None:
        try:
            with opener(io.BytesIO(head), "rb") as f:
                text = f.read(16384)
        except CORRUPT_DATA_ERRORS:
            return  # the reader reports corrupt data
    kind = _sniff_not_tokens(text, FASTTEXT_MAGIC)
    if kind == "vectors":
        return
    if kind in _KIND_NAMES:
        raise WrongKindError(f"{path}: this looks like {_KIND_NAMES[kind]}, not vectors")
    first = text.split(b"\n", 1)[0][:4096]
    if b"\x00" in first or not first.strip():
        raise FormatError(f"{path}: does not start like a vectors file (binary data or a blank line)")
    if sniff_kind(path, text) == "tokens":  # the weaker test: most lines are not a word and numbers
        raise WrongKindError(f"{path}: this looks like a tokens file (text), not vectors")


#: A compressed input may expand to at most this many times its size (plus 64 MB): a bound on memory
#: whatever a file claims.  Vector text compresses about 2-3x.
MAX_EXPANSION = 100
_MAGIC = {b"\x1f\x8b": gzip.open, b"BZh": bz2.open, b"\xfd7zXZ\x00": lzma.open}


def read_sample(path: str, size: int = 65536) -> bytes:
    """The first ``size`` bytes of a file, decompressed when it is gzip/bz2/xz (detected by content).

    Raises:
        InputError: the file cannot be opened.  FormatError: corrupt compressed data.
    """
    head = read_head(path, "file")
    opener = next((o for magic, o in _MAGIC.items() if head.startswith(magic)), open)
    try:
        with opener(path, "rb") as f:
            return f.read(size)
    except CORRUPT_DATA_ERRORS as e:
        raise FormatError(f"{path}: corrupt compressed data ({e})") from None


def read_bounded(path: str, head: bytes | None = None, enough=None) -> bytes:
    """The bytes of a (possibly gzip/bz2/xz-compressed, detected by content) file, refusing one that
    decompresses to more than ``MAX_EXPANSION`` times its size plus 64 MB before it fills memory.
    ``enough(bytes_so_far) -> int | None``: reading stops as soon as it gives a length, and that
    prefix is returned (:class:`~embedcli.vectorfile.text.RowsEnd`).

    Raises:
        FormatError: corrupt compressed data, or an expansion over the bound.
    """
    head = read_head(path, "vectors") if head is None else head
    opener = next((o for magic, o in _MAGIC.items() if head.startswith(magic)), None)
    if opener is None and enough is None:
        with open(path, "rb") as f:
            return f.read()
    bound = os.path.getsize(path) * MAX_EXPANSION + (64 << 20) if opener is not None else None
    buf = bytearray()
    try:
        with (opener or open)(path, "rb") as f:
            while block := f.read(1 << 22):
                buf += block
                if bound is not None and len(buf) > bound:
                    raise FormatError(f"{path}: decompresses to more than {bound:,} bytes ({MAX_EXPANSION}x its "
                                      "size): refusing it (a decompression bomb or not a vectors file)")
                if enough is not None and (cut := enough(buf)) is not None:
                    del buf[cut:]
                    break
    except CORRUPT_DATA_ERRORS as e:
        raise FormatError(f"{path}: corrupt compressed data ({e})") from None
    return bytes(buf)


def row_norms(m: np.ndarray) -> np.ndarray:
    """``(n,) float32`` Euclidean norms of the rows, in blocks, summed in float64 (no overflow for
    any float32 value, and the same last digit on any machine) without a float64 copy."""
    out = np.empty(m.shape[0], np.float32)
    step = 1 << 16
    for i in range(0, m.shape[0], step):
        block = m[i : i + step]
        out[i : i + step] = np.sqrt(np.einsum("ij,ij->i", block, block, dtype=np.float64))
    return out


def format_from_extension(path: str) -> str:
    """``native`` for .npz, ``binary`` for .bin, else ``word2vec`` (text); a compression suffix
    (.gz/.bz2/.xz, any case) is looked through: ``v.bin.xz`` is binary."""
    from embedcli.outputs import compression_of

    ext = compression_of(path)
    p = path[: -len(ext)] if ext else path
    ext = os.path.splitext(p)[1].lower()
    return {".npz": "native", ".bin": "binary"}.get(ext, "word2vec")


from embedcli.vectorfile.fasttext import FASTTEXT_MAGIC, load_fasttext, save_fasttext  # noqa: E402
from embedcli.vectorfile.kinds import describe, sniff_kind  # noqa: E402
from embedcli.vectorfile.text import RowsEnd, _check_words_writable, _load_native, _parse_text_or_binary  # noqa: E402
