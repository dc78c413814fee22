"""Word (or document) vectors and their file formats.

Formats, chosen from the extension on write and detected from the content on read:

=============  ===========  =====================================================
format         extension    content
=============  ===========  =====================================================
``native``     ``.npz``     embedcli ``.npz``: ``vectors`` ``(n, dim) float32``,
                            ``norms``, ``words``, ``counts``, optional
                            ``singular_values``, JSON metadata.  Memory-mapped
                            on read, so a query does not parse text.
``word2vec``   any other    word2vec text: ``n dim`` header, ``word v1 .. vdim``
``binary``     ``.bin``     word2vec binary (the C tool's and gensim's)
``glove``      (read;       GloVe text: no header.  Written with --format glove.
               detected)
=============  ===========  =====================================================

Text formats may be gzip-compressed (``.gz``).  Nothing is ever unpickled.
"""

from __future__ import annotations

import gzip
import io
import os
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from embedcli import __version__
from embedcli.errors import FormatError, UsageError
from embedcli.io import atomic_output
from embedcli.npzfile import NpzReader, blob_words, refuse_pickle, sniff, text_blob, write_npz

VECTORS_FORMAT = "embedcli-vectors"
VECTORS_FORMAT_VERSION = 1
FORMATS = ("native", "word2vec", "binary", "glove")


@dataclass
class Vectors:
    """Vectors keyed by word.

    Attributes:
        words: ``n`` distinct words; row ``i`` of ``vectors`` belongs to ``words[i]``.
            Files written by embedcli list words most frequent first.
        vectors: ``(n, dim) float32`` (a read-only memory map when loaded from
            the native format).
        counts: ``(n,) int64`` corpus counts, or None when unknown.
        meta: provenance: embedcli version, parameters, and for SVD outputs
            the singular values (``meta["singular_values"]``).
    """

    words: list[str]
    vectors: np.ndarray
    counts: np.ndarray | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    _index: dict | None = field(default=None, repr=False, compare=False)
    _norms: np.ndarray | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.vectors.ndim != 2 or len(self.words) != self.vectors.shape[0]:
            raise ValueError("vectors must be (len(words), dim)")

    def __len__(self) -> int:
        return len(self.words)

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    @property
    def index(self) -> dict[str, int]:
        """``word -> row`` (built on first use)."""
        if self._index is None:
            self._index = dict(zip(self.words, range(len(self.words))))
        return self._index

    @property
    def norms(self) -> np.ndarray:
        """``(n,) float32`` Euclidean norms (stored in native files, else computed once)."""
        if self._norms is None:
            self._norms = _row_norms(self.vectors)
        return self._norms

    # ------------------------------------------------------------------ writing
    def save(self, path: str, fmt: str | None = None) -> str:
        """Write atomically; ``fmt`` defaults to the one implied by the extension.

        Returns the format used.

        Raises:
            UsageError: unknown format, or an unwritable output folder.
        """
        fmt = fmt or format_from_extension(path)
        if fmt == "native":
            meta = dict(self.meta)
            meta.update(format=VECTORS_FORMAT, format_version=VECTORS_FORMAT_VERSION)
            meta.setdefault("embedcli_version", __version__)
            meta["shape"] = [len(self.words), self.dim]
            arrays = {
                "vectors": np.ascontiguousarray(self.vectors, dtype=np.float32),
                "norms": self.norms.astype(np.float32),
                "words": text_blob(self.words),
            }
            if self.counts is not None:
                arrays["counts"] = np.asarray(self.counts, dtype=np.int64)
            write_npz(path, meta, arrays)
        elif fmt in ("word2vec", "glove"):
            _check_words_writable(self.words)
            self._write_sidecar(path, fmt)
            with atomic_output(path, "wb") as raw:
                f = gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) if path.endswith(".gz") else raw
                if fmt == "word2vec":
                    f.write(f"{len(self.words)} {self.dim}\n".encode())
                step = 4096
                for i in range(0, len(self.words), step):
                    block = np.asarray(self.vectors[i : i + step], dtype=np.float32)
                    buf = io.StringIO()
                    np.savetxt(buf, block, fmt="%.8g", delimiter=" ")
                    rows = buf.getvalue().split("\n")
                    f.write("".join(f"{w} {r}\n" for w, r in zip(self.words[i : i + step], rows)).encode("utf-8"))
                if f is not raw:
                    f.close()
        elif fmt == "binary":
            _check_words_writable(self.words)
            self._write_sidecar(path, fmt)
            with atomic_output(path, "wb") as f:
                f.write(f"{len(self.words)} {self.dim}\n".encode())
                step = 4096
                for i in range(0, len(self.words), step):
                    block = np.asarray(self.vectors[i : i + step], dtype="<f4")
                    f.write(b"".join(w.encode("utf-8") + b" " + row.tobytes() + b"\n"
                                     for w, row in zip(self.words[i : i + step], block)))
        else:
            raise UsageError(f"--format {fmt}: choose one of {', '.join(FORMATS)}")
        return fmt

    def _write_sidecar(self, path: str, fmt: str) -> None:
        from embedcli.io import write_sidecar

        meta = {k: v for k, v in self.meta.items() if k != "source_format"}
        if meta:
            write_sidecar(path, {**meta, "format": fmt, "shape": [len(self.words), self.dim]})

    # ------------------------------------------------------------------ reading
    @classmethod
    def load(cls, path: str, fmt: str | None = None, mmap: bool = True) -> "Vectors":
        """Read a vectors file; the format is detected unless ``fmt`` is given.

        Raises:
            UsageError: the file cannot be opened.
            FormatError: malformed content (naming the line): truncated file,
                header that disagrees with the rows, rows of different lengths,
                non-numeric/NaN/inf values, duplicate or undecodable words, a
                pickle, an embedcli matrix file, a newer format version.
        """
        if path == "-":
            raise UsageError("vectors cannot be read from stdin; give a file")
        if not os.path.exists(path):
            raise UsageError(f"{path}: no such file")
        if os.path.isdir(path):
            raise UsageError(f"{path}: is a folder, expected a vectors file")
        head = sniff(path)
        refuse_pickle(path, head)
        from embedcli.predictive import FASTTEXT_MAGIC, load_fasttext

        if len(head) >= 4 and int.from_bytes(head[:4], "little") == FASTTEXT_MAGIC and fmt in (None, "fasttext"):
            return load_fasttext(path)
        if fmt is None:
            fmt = "native" if head.startswith(b"PK") else None
        if fmt == "native":
            return _load_native(path, mmap)
        if head.startswith(b"\x1f\x8b"):
            with gzip.open(path, "rb") as f:
                try:
                    data = f.read()
                except (OSError, EOFError) as e:
                    raise FormatError(f"{path}: corrupt gzip data ({e})") from None
        else:
            with open(path, "rb") as f:
                data = f.read()
        return _parse_text_or_binary(path, data, fmt)


def format_from_extension(path: str) -> str:
    """``native`` for .npz, ``binary`` for .bin, else ``word2vec`` (text)."""
    p = path[:-3] if path.endswith(".gz") else path
    ext = os.path.splitext(p)[1].lower()
    return {".npz": "native", ".bin": "binary"}.get(ext, "word2vec")


def _check_words_writable(words: list[str]) -> None:
    for w in words:
        if not w or any(ch.isspace() for ch in w):
            raise UsageError(f"word {w!r} is empty or holds white space: not representable in a text/binary vectors file; use .npz")


def _row_norms(m: np.ndarray) -> np.ndarray:
    out = np.empty(m.shape[0], np.float32)
    step = 1 << 16
    for i in range(0, m.shape[0], step):
        block = np.asarray(m[i : i + step], dtype=np.float64)
        out[i : i + step] = np.sqrt(np.einsum("ij,ij->i", block, block))
    return out


def _load_native(path: str, mmap: bool) -> Vectors:
    r = NpzReader(path)
    try:
        fmt = r.meta.get("format")
        if fmt == "embedcli-matrix":
            raise FormatError(f"{path}: is a count matrix, not vectors (run embedcli svd on it)")
        if fmt != VECTORS_FORMAT:
            raise FormatError(f"{path}: not an embedcli vectors file")
        r.check_version(VECTORS_FORMAT_VERSION)
        vecs = r.array("vectors", mmap=mmap)
        if vecs.ndim != 2 or vecs.dtype not in (np.float32, np.float64):
            raise FormatError(f"{path}: vectors must be a 2-d float32 array, got {vecs.dtype} {vecs.shape}")
        n = vecs.shape[0]
        words = blob_words(r.array("words"), path, n)
        if len(set(words)) != n:
            raise FormatError(f"{path}: duplicate words in vocabulary")
        norms = r.array("norms") if "norms" in r.names else None
        if norms is not None and norms.shape != (n,):
            raise FormatError(f"{path}: norms do not match vectors")
        if norms is not None and not np.isfinite(norms).all():
            raise FormatError(f"{path}: vectors hold NaN or infinite values")
        counts = r.array("counts") if "counts" in r.names else None
        if counts is not None and counts.shape != (n,):
            raise FormatError(f"{path}: counts do not match vectors")
        meta = {k: v for k, v in r.meta.items() if k not in ("format", "format_version")}
        v = Vectors(words, vecs, counts, meta)
        v._norms = None if norms is None else norms.astype(np.float32)
        return v
    finally:
        r.close()


def _parse_text_or_binary(path: str, data: bytes, fmt: str | None) -> Vectors:
    if not data.strip():
        raise FormatError(f"{path}: empty vectors file")
    nl = data.find(b"\n")
    first = data[: nl if nl >= 0 else len(data)]
    try:
        fields = first.decode("utf-8").split()
    except UnicodeDecodeError:
        raise FormatError(f"{path}:1: not a vectors file (undecodable header)") from None
    header = len(fields) == 2 and all(f.isdigit() for f in fields)
    if fmt is None:
        if not header:
            fmt = "glove"
        else:
            fmt = "word2vec" if _looks_like_text_row(data[nl + 1 : nl + 1 + 65536], int(fields[1])) else "binary"
    if fmt in ("word2vec", "binary") and not header:
        raise FormatError(f"{path}:1: expected a 'count dim' header line")
    if fmt == "binary":
        n, dim = int(fields[0]), int(fields[1])
        return _parse_binary(path, data, nl + 1, n, dim)
    if fmt == "word2vec":
        n, dim = int(fields[0]), int(fields[1])
        return _parse_text(path, data[nl + 1 :], 2, n, dim)
    if fmt == "glove":
        return _parse_text(path, data, 1, None, None)
    raise UsageError(f"format {fmt}: choose one of {', '.join(FORMATS)}")


def _looks_like_text_row(body: bytes, dim: int) -> bool:
    """True when the first row after a header is ``word v1 .. vdim`` in text (else: binary)."""
    end = body.find(b"\n")
    parts = (body[:end] if end >= 0 else body).split()
    if len(parts) != dim + 1:
        return False
    try:
        [float(x) for x in parts[1:]]
    except ValueError:
        return False
    return True


def _parse_text(path: str, data: bytes, first_lineno: int, n: int | None, dim: int | None) -> Vectors:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = first_lineno + data[: e.start].count(b"\n")
        raise FormatError(f"{path}:{line}: word or value is not valid UTF-8") from None
    lines = text.split("\n")
    while lines and not lines[-1].strip():
        lines.pop()
    if dim == 0 or n == 0:
        raise FormatError(f"{path}:1: header declares {n} words of dimension {dim}")
    words: list[str] = []
    rests: list[str] = []
    for line in lines:
        word, _, rest = line.rstrip().partition(" ")
        words.append(word)
        rests.append(rest)
    if not words:
        raise FormatError(f"{path}: no vectors in file")
    if dim is None:
        dim = len(rests[0].split())
        if dim == 0:
            raise FormatError(f"{path}:{first_lineno}: a word with no values")
    if n is not None and len(words) != n:
        raise FormatError(f"{path}: header says {n} words but the file has {len(words)} rows (truncated?)")
    bad = next((i for i, r in enumerate(rests) if r.count(" ") != dim - 1), None)
    if bad is not None:
        # tolerate repeated spaces/tabs: recheck the slow way before failing
        for i in range(bad, len(rests)):
            if rests[i].count(" ") != dim - 1:
                parts = rests[i].split()
                if len(parts) != dim:
                    raise FormatError(f"{path}:{first_lineno + i}: expected {dim} values after the word, got {len(parts)}")
                rests[i] = " ".join(parts)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            values = np.fromstring(" ".join(rests), dtype=np.float32, sep=" ")
        except (ValueError, DeprecationWarning):
            values = np.empty(0, np.float32)
    if values.size != len(words) * dim:
        for i, r in enumerate(rests):
            try:
                np.array(r.split(), dtype=np.float32)
            except ValueError:
                raise FormatError(f"{path}:{first_lineno + i}: non-numeric value") from None
        raise FormatError(f"{path}: could not parse values")
    vecs = values.reshape(len(words), dim)
    _validate_rows(path, words, vecs, first_lineno)
    return Vectors(words, vecs, None, {"source_format": "word2vec" if n is not None else "glove"})


def _parse_binary(path: str, data: bytes, pos: int, n: int, dim: int) -> Vectors:
    if n == 0 or dim == 0:
        raise FormatError(f"{path}:1: header declares {n} words of dimension {dim}")
    width = dim * 4
    if n * (width + 2) > len(data) - pos:
        raise FormatError(f"{path}: header declares {n} words of dimension {dim}, the file is too short (truncated?)")
    words: list[str] = []
    starts = np.empty(n, np.int64)
    end = len(data)
    for i in range(n):
        while pos < end and data[pos] in (10, 13):  # the C tool ends each row with a newline
            pos += 1
        sp_ = data.find(b" ", pos, pos + 4096)
        if sp_ < 0:
            raise FormatError(f"{path}: record {i + 1} of {n}: truncated file or malformed word")
        try:
            words.append(data[pos:sp_].decode("utf-8"))
        except UnicodeDecodeError:
            raise FormatError(f"{path}: record {i + 1}: word is not valid UTF-8") from None
        starts[i] = sp_ + 1
        pos = sp_ + 1 + width
        if pos > end:
            raise FormatError(f"{path}: record {i + 1} of {n}: truncated file (header says {n} words)")
    rest = data[pos:].strip()
    if rest:
        raise FormatError(f"{path}: {len(rest)} bytes after the {n} records the header declares")
    buf = np.frombuffer(data, dtype=np.uint8)
    raw = buf[starts[:, None] + np.arange(width)]
    vecs = raw.view("<f4").reshape(n, dim).astype(np.float32)
    _validate_rows(path, words, vecs, None)
    return Vectors(words, vecs, None, {"source_format": "binary"})


def _validate_rows(path: str, words: list[str], vecs: np.ndarray, first_lineno: int | None) -> None:
    where = (lambda i: f"{path}:{first_lineno + i}") if first_lineno is not None else (lambda i: f"{path}: record {i + 1}")
    finite = np.isfinite(vecs).all(axis=1)
    if not finite.all():
        i = int(np.flatnonzero(~finite)[0])
        raise FormatError(f"{where(i)}: NaN or infinite value for word {words[i]!r}")
    big = np.abs(vecs).max(axis=1) > 1e18  # the squared norm would overflow float32
    if big.any():
        i = int(np.flatnonzero(big)[0])
        raise FormatError(f"{where(i)}: value too large (> 1e18) for word {words[i]!r}")
    if len(set(words)) != len(words):
        seen: set[str] = set()
        for i, w in enumerate(words):
            if w in seen:
                raise FormatError(f"{where(i)}: duplicate word {w!r}")
            seen.add(w)
    if any(not w for w in words):
        i = words.index("")
        raise FormatError(f"{where(i)}: empty word")
