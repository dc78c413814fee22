"""Facebook fastText ``.bin`` models: checked record by record before gensim reads them, and written
through gensim's ``save_facebook_model`` (never pickled)."""

from __future__ import annotations

import os
import struct
from typing import TYPE_CHECKING

import numpy as np

from embedcli.errors import FormatError, InputError
from embedcli.fileio import atomic_path

if TYPE_CHECKING:
    from embedcli.vectorfile import VectorData

FASTTEXT_MAGIC = 793712314  # first int32 of a Facebook fastText .bin (gensim/_fasttext_bin.py)


def save_fasttext(model, path: str) -> None:
    """Write a Facebook fastText ``.bin`` atomically (gensim's ``save_facebook_model``; no pickle).

    The file's size is about ``(n_words + bucket) * dim * 4`` bytes.  The
    training parameters go to ``PATH.meta.json`` (the format has no room).

    Raises:
        InputError: an unwritable output folder.
    """
    from gensim.models.fasttext import save_facebook_model

    from embedcli.fileio import refuse_compressed, refuse_stdout

    refuse_compressed(path, "fastText model")
    refuse_stdout(path, "fastText model")
    meta = getattr(model, "embedcli_meta", None) or {}
    side = {"kind": "fasttext-model", "provenance": meta.get("provenance") or {},
            "meta": {k: v for k, v in meta.items() if k != "provenance"},
            "format": "fasttext-bin", "shape": [len(model.wv), model.wv.vector_size]}
    from embedcli.outputs import naming_write_errors

    with naming_write_errors(path), atomic_path(path, side) as tmp:
        save_facebook_model(model, tmp)


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
    if not (0 < dim <= 100000 and 0 <= bucket and 0 <= nwords <= vocab_size and 0 <= minn < 1000 and 0 <= maxn < 1000
            and (maxn == 0 or minn <= maxn)):  # -maxn 0: no character n-grams (any minn)
        raise FormatError(f"{path}: corrupt fastText model header")
    if nlabels:
        raise FormatError(f"{path}: supervised fastText models (labels) are not supported")
    need = 92 + 11 * vocab_size + (nwords + bucket) * dim * 4
    if size < need:
        raise FormatError(f"{path}: corrupt or truncated fastText model ({size:,} bytes, header implies >= {need:,})")
    _check_fasttext_records(path, vocab_size, nwords, bucket, dim, size)


def _check_fasttext_records(path: str, vocab_size: int, nwords: int, bucket: int, dim: int, size: int) -> None:
    """Walk the vocabulary record by record (NUL-terminated word, int64 count, int8 type) and check the
    input matrix header, so that gensim never sees a file it would loop on."""
    import mmap

    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
        pos = 92
        for i in range(vocab_size):
            end = m.find(b"\0", pos, min(pos + 65536, size))
            if end < 0:
                raise FormatError(f"{path}: corrupt fastText model: vocabulary record {i + 1} of {vocab_size} "
                                  "has no terminated word (truncated?)")
            pos = end + 1 + 8 + 1
            if pos > size:
                raise FormatError(f"{path}: truncated fastText model (in vocabulary record {i + 1})")
            if m[pos - 1] > 1:
                raise FormatError(f"{path}: corrupt fastText model: vocabulary record {i + 1} has type {m[pos - 1]}")
        if pos + 8 > size:
            raise FormatError(f"{path}: truncated fastText model (after the vocabulary)")
        pruneidx = struct.unpack("<q", m[84:92])[0]
        if pruneidx < -1 or pruneidx > 10**8:
            raise FormatError(f"{path}: corrupt fastText model (pruneidx_size {pruneidx})")
        pos += max(pruneidx, 0) * 8
        if pos + 17 > size:
            raise FormatError(f"{path}: truncated fastText model (before the input matrix)")
        quant = m[pos]
        rows, cols = struct.unpack("<qq", m[pos + 1 : pos + 17])
        if quant != 0:
            raise FormatError(f"{path}: quantized fastText models (.ftz) are not supported")
        if rows != nwords + bucket or cols != dim:
            raise FormatError(f"{path}: corrupt fastText model: input matrix is {rows} x {cols}, "
                              f"expected {nwords + bucket} x {dim}")
        if pos + 17 + rows * cols * 4 > size:
            raise FormatError(f"{path}: truncated fastText model (input matrix)")


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

    ngrams = kv.bucket > 0 and 0 < kv.max_n and kv.min_n <= kv.max_n  # else unseen words have no vector

    from embedcli.vectorfile import VectorData

    return VectorData(list(kv.index_to_key), np.asarray(kv.vectors, dtype=np.float32), counts, meta, None,
                      oov if ngrams else None)


