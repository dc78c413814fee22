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
This module sits below :class:`embedcli.vectors.Vectors`: it deals in
:class:`VectorData` (words, array, counts, metadata) and imports no other
embedcli module above :mod:`embedcli.fileio`.
"""

from __future__ import annotations

import gzip
import io
import os
import struct
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from embedcli import __version__
from embedcli.errors import DataError, FormatError, InputError, ParameterError
from embedcli.fileio import atomic_output, atomic_path, read_head
from embedcli.npzfile import NpzReader, blob_words, text_blob, write_npz
from embedcli.specs import VECTOR_FORMATS

VECTORS_FORMAT = "embedcli-vectors"
VECTORS_FORMAT_VERSION = 1
FASTTEXT_MAGIC = 793712314  # first int32 of a Facebook fastText .bin (gensim/_fasttext_bin.py)


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
                  meta: dict | None = None, fmt: str | None = None, norms: np.ndarray | None = None) -> str:
    """Write vectors atomically in ``fmt`` (default: implied by the extension); returns the format.

    ``native`` stores ``meta`` inside the file; for the other formats the caller
    writes a sidecar (see :meth:`embedcli.vectors.Vectors.save`).

    Raises:
        ParameterError: unknown format.
        DataError: a word that a text/binary format cannot hold (empty or with white space).
        InputError: an unwritable output folder.
    """
    fmt = fmt or format_from_extension(path)
    if fmt not in VECTOR_FORMATS:
        raise ParameterError("file_format", fmt, f"choose one of {', '.join(VECTOR_FORMATS)}")
    dim = int(vectors.shape[1])
    if fmt == "native":
        meta = dict(meta or {})
        meta.update(format=VECTORS_FORMAT, format_version=VECTORS_FORMAT_VERSION)
        meta.setdefault("embedcli_version", __version__)
        meta["shape"] = [len(words), dim]
        arrays = {
            "vectors": np.ascontiguousarray(vectors, dtype=np.float32),
            "norms": (row_norms(vectors) if norms is None else norms).astype(np.float32),
            "words": text_blob(words),
        }
        if counts is not None:
            arrays["counts"] = np.asarray(counts, dtype=np.int64)
        write_npz(path, meta, arrays)
        return fmt
    _check_words_writable(words)
    step = 4096
    with atomic_output(path, "wb") as raw:
        f = gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) if path.endswith(".gz") else raw
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
                np.savetxt(buf, block, fmt="%.8g", delimiter=" ")
                rows = buf.getvalue().split("\n")
                f.write("".join(f"{w} {r}\n" for w, r in zip(words[i : i + step], rows)).encode("utf-8"))
        if f is not raw:
            f.close()
    return fmt


def read_vectors(path: str, fmt: str | None = None, mmap: bool = True) -> VectorData:
    """Read a vectors file; the format is detected from the content unless ``fmt`` is given.

    Raises:
        InputError: the file does not exist, is a folder, is ``-``, or cannot be opened.
        FormatError: malformed content (naming the line): truncated file,
            header that disagrees with the rows, rows of different lengths,
            non-numeric/NaN/inf values, duplicate or undecodable words, a
            pickle, an embedcli matrix file, a newer format version.
    """
    head = read_head(path, "vectors")
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


def row_norms(m: np.ndarray) -> np.ndarray:
    """``(n,) float32`` Euclidean norms of the rows, computed in float64 blocks."""
    out = np.empty(m.shape[0], np.float32)
    step = 1 << 16
    for i in range(0, m.shape[0], step):
        block = np.asarray(m[i : i + step], dtype=np.float64)
        out[i : i + step] = np.sqrt(np.einsum("ij,ij->i", block, block))
    return out


def format_from_extension(path: str) -> str:
    """``native`` for .npz, ``binary`` for .bin, else ``word2vec`` (text)."""
    p = path[:-3] if path.endswith(".gz") else path
    ext = os.path.splitext(p)[1].lower()
    return {".npz": "native", ".bin": "binary"}.get(ext, "word2vec")


def _check_words_writable(words: list[str]) -> None:
    for w in words:
        if not w or any(ch.isspace() for ch in w):
            raise DataError(f"word {w!r} is empty or holds white space: not representable in a text/binary vectors "
                            "file; write .npz")


def _load_native(path: str, mmap: bool) -> VectorData:
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
        return VectorData(words, vecs, counts, meta, None if norms is None else norms.astype(np.float32))
    finally:
        r.close()


def _parse_text_or_binary(path: str, data: bytes, fmt: str | None) -> VectorData:
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
    raise ParameterError("file_format", fmt, f"choose one of {', '.join(VECTOR_FORMATS)}")


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


def _parse_text(path: str, data: bytes, first_lineno: int, n: int | None, dim: int | None) -> VectorData:
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
    return VectorData(words, vecs, None, {"source_format": "word2vec" if n is not None else "glove"})


def _parse_binary(path: str, data: bytes, pos: int, n: int, dim: int) -> VectorData:
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
    return VectorData(words, vecs, None, {"source_format": "binary"})


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


# ---------------------------------------------------------------------------- fastText
def save_fasttext(model, path: str) -> None:
    """Write a Facebook fastText ``.bin`` atomically (gensim's ``save_facebook_model``; no pickle).

    The file's size is about ``(n_words + bucket) * dim * 4`` bytes.  The
    training parameters go to ``PATH.meta.json`` (the format has no room).

    Raises:
        InputError: an unwritable output folder.
    """
    from gensim.models.fasttext import save_facebook_model

    from embedcli.provenance import write_sidecar

    with atomic_path(path) as tmp:
        save_facebook_model(model, tmp)
    meta = getattr(model, "embedcli_meta", None) or {}
    write_sidecar(path, "fasttext-model", meta.get("provenance") or {},
                  meta={k: v for k, v in meta.items() if k != "provenance"},
                  format="fasttext-bin", shape=[len(model.wv), model.wv.vector_size])


def is_fasttext_bin(path: str) -> bool:
    """True when the file starts with the Facebook fastText magic number."""
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError:
        return False
    return len(head) == 4 and int.from_bytes(head, "little") == FASTTEXT_MAGIC


def _check_fasttext_size(path: str) -> None:
    """Check the header against the file size before gensim reads it.

    gensim's reader loops forever on a file truncated inside the vocabulary,
    so a file shorter than its header implies is refused first.  Layout
    (fastText ``FastText::saveModel``): magic, version, 12 int32 and one
    float64 of arguments, then vocab_size, nwords, nlabels (int32), ntokens,
    pruneidx_size (int64), the words (each >= 11 bytes), then the input
    matrix of ``(nwords + bucket) x dim`` float32.
    """
    with open(path, "rb") as f:
        head = f.read(92)
    size = os.path.getsize(path)
    if len(head) < 92:
        raise FormatError(f"{path}: corrupt or truncated fastText model (header)")
    args = struct.unpack("<2i12id", head[:64])
    dim, bucket, minn, maxn = args[2], args[10], args[11], args[12]
    vocab_size, nwords, nlabels = struct.unpack("<3i", head[64:76])
    if not (0 < dim <= 100000 and 0 <= bucket and 0 <= nwords <= vocab_size and 0 <= minn <= maxn < 1000):
        raise FormatError(f"{path}: corrupt fastText model header")
    if nlabels:
        raise FormatError(f"{path}: supervised fastText models (labels) are not supported")
    need = 92 + 11 * vocab_size + (nwords + bucket) * dim * 4
    if size < need:
        raise FormatError(f"{path}: corrupt or truncated fastText model ({size:,} bytes, header implies >= {need:,})")


def load_fasttext(path: str) -> VectorData:
    """Load a Facebook fastText ``.bin`` (as written by ``embedcli fasttext`` or fastText itself).

    Raises:
        FormatError: the file is not a fastText model, or is corrupt/truncated.
        InputError: the file does not exist.
    """
    if not os.path.isfile(path):
        raise InputError(f"{path}: no such file")
    if not is_fasttext_bin(path):
        raise FormatError(f"{path}: not a fastText model (.bin from 'embedcli fasttext' or fastText)")
    _check_fasttext_size(path)
    from gensim.models.fasttext import load_facebook_vectors

    try:
        kv = load_facebook_vectors(path)
    except Exception as e:  # gensim raises many kinds on corrupt input (struct.error, ValueError, EOFError, ...)
        raise FormatError(f"{path}: corrupt or truncated fastText model ({type(e).__name__}: {e})") from None
    counts = np.asarray([kv.get_vecattr(w, "count") for w in kv.index_to_key], dtype=np.int64)
    meta = {"method": "fasttext", "source_format": "fasttext-bin", "minn": kv.min_n, "maxn": kv.max_n,
            "bucket": kv.bucket}

    def oov(word: str) -> np.ndarray:
        return np.asarray(kv.get_vector(word), dtype=np.float32)

    return VectorData(list(kv.index_to_key), np.asarray(kv.vectors, dtype=np.float32), counts, meta, None, oov)




# ---------------------------------------------------------------------------- describe (embedcli info)
def describe(path: str) -> dict:
    """What a file is and what made it, as a JSON-serializable dict (``embedcli info``).

    Matrix and native vector files carry their metadata inside; other files
    written by embedcli have a ``PATH.meta.json`` sidecar, reported with
    ``"sidecar": {"status": "ok" | "stale"}`` -- stale when the file's size or
    SHA-256 no longer matches what the sidecar recorded (its provenance is then
    not to be trusted).  Other vector files are described by their format and shape.

    Raises:
        InputError: no such file.
        FormatError: a pickle, or a file that is none of the above.
    """
    from embedcli.provenance import read_sidecar, sidecar_path, sidecar_status

    head = read_head(path, "embedcli")
    doc = read_sidecar(path)
    if doc is not None:
        out = dict(doc)
        out["sidecar"] = {"path": sidecar_path(path), "status": sidecar_status(path, doc)}
        return out
    if head.startswith(b"PK"):
        r = NpzReader(path)
        try:
            return dict(r.meta)
        finally:
            r.close()
    d = read_vectors(path)
    out = {"kind": "vectors", "format": d.meta.get("source_format"), "shape": [len(d.words), int(d.vectors.shape[1])],
           "note": "no embedcli metadata: not written by embedcli (or its .meta.json was removed)"}
    out.update({k: d.meta[k] for k in ("minn", "maxn", "bucket") if k in d.meta})
    return out
