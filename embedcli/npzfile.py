"""The container of embedcli's native files: an uncompressed ``.npz`` (a zip of ``.npy``).

Any ``numpy.load(path)`` can read these files.  embedcli writes each member
stored (not compressed) and pads the zip local header (extra field 0xD935, as
Android's zipalign does) so that array data starts 64-byte aligned; the reader
then memory-maps a member in place instead of reading it.  ``allow_pickle`` is
never enabled: object arrays are refused.
"""

from __future__ import annotations

import io
import json
import os
import struct
import zipfile
from typing import Any

import numpy as np

from embedcli.errors import FormatError, parse_json
from embedcli.fileio import atomic_output

META = "embedcli_meta"
_ALIGN = 64


def text_blob(words: list[str]) -> np.ndarray:
    """Words joined by newlines as a ``uint8`` array (words never contain a newline)."""
    return np.frombuffer("\n".join(words).encode("utf-8"), dtype=np.uint8)


def blob_words(blob: np.ndarray, path: str, n: int | None = None) -> list[str]:
    """Inverse of :func:`text_blob`.

    Raises:
        FormatError: not UTF-8, or not ``n`` words.
    """
    try:
        words = bytes(blob).decode("utf-8").split("\n") if len(blob) else []
    except UnicodeDecodeError:
        raise FormatError(f"{path}: vocabulary is not valid UTF-8") from None
    if n is not None and len(words) != n:
        if n == 1 and not words:
            words = [""]
        else:
            raise FormatError(f"{path}: vocabulary has {len(words)} words but the data has {n} rows")
    return words


def write_npz(path: str, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    """Write ``arrays`` and the JSON ``meta`` to ``path`` atomically, members aligned.

    Raises:
        InputError: the output folder does not exist or is not writable.
    """
    from embedcli.fileio import refuse_compressed, refuse_stdout

    refuse_compressed(path, ".npz")
    refuse_stdout(path, ".npz file")
    with atomic_output(path, "wb") as f:
        with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
            members = {META: np.frombuffer(json.dumps(meta, sort_keys=True).encode("utf-8"), np.uint8)}
            members.update(arrays)
            for name, arr in members.items():
                _write_member(zf, f, name + ".npy", np.ascontiguousarray(arr))


def _write_member(zf: zipfile.ZipFile, f, name: str, arr: np.ndarray) -> None:
    hdr = io.BytesIO()
    np.lib.format.write_array_header_1_0(hdr, np.lib.format.header_data_from_array_1_0(arr))
    header = hdr.getvalue()
    size = len(header) + arr.nbytes
    zinfo = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    zinfo.compress_type = zipfile.ZIP_STORED
    zinfo.file_size = size
    zip64 = size * 1.05 > zipfile.ZIP64_LIMIT
    offset = f.tell()
    fixed = 30 + len(name.encode()) + 4 + (20 if zip64 else 0)
    pad = (-(offset + fixed)) % _ALIGN
    zinfo.extra = struct.pack("<HH", 0xD935, pad) + b"\0" * pad
    with zf.open(zinfo, "w", force_zip64=zip64) as m:
        m.write(header)
        flat = arr.reshape(-1).view(np.uint8) if arr.size else b""
        step = 64 << 20
        for i in range(0, len(flat), step):
            m.write(flat[i : i + step])


def _read_npy_header(f) -> tuple[tuple[int, ...], bool, np.dtype]:
    version = np.lib.format.read_magic(f)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
    elif version in ((2, 0), (3, 0)):
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
    else:
        raise ValueError(f"unsupported .npy version {version}")
    if dtype.hasobject:
        raise FormatError("object arrays are refused (they would need pickle)")
    return shape, fortran, dtype


def _check_size(shape: tuple[int, ...], dtype: np.dtype, available: int) -> int:
    """Bytes the array needs; FormatError when the member is shorter (checked before allocating)."""
    need = dtype.itemsize
    for s in shape:
        need *= int(s)
    if need > available:
        raise FormatError(f"shape {shape} needs {need:,} bytes, the file holds {available:,} (truncated?)")
    return need


#: what each ``format`` of an embedcli .npz holds, for messages
_KIND_NAMES = {"embedcli-vectors": "a vectors file (embedcli-vectors)",
               "embedcli-matrix": "a matrix file (embedcli-matrix: cooccur, termdoc)"}


class NpzReader:
    """Read members of an embedcli ``.npz`` safely; big members memory-mapped.

    Raises (from the constructor):
        FormatError: not a zip, no ``embedcli_meta``, or an unknown format.
    """

    def __init__(self, path: str, expect_format: str | None = None):
        self.path = path
        try:
            self.zf = zipfile.ZipFile(path)
            self.names = {n[:-4] for n in self.zf.namelist() if n.endswith(".npy")}
        except Exception as e:  # a corrupt zip directory raises BadZipFile, ValueError, struct.error, ...
            raise FormatError(f"{path}: not a valid .npz file ({type(e).__name__}: {e})") from None
        if META not in self.names:
            scipy = {"data", "indices", "indptr", "shape", "format"} <= self.names
            raise FormatError(f"{path}: not an embedcli file (no {META} member)" + (
                "; a scipy.sparse.save_npz matrix has no row or column words: make an embedcli matrix of it with "
                "embedcli.matrix.CountMatrix(matrix, words, words, counts, counts, 'cooccurrence').save(path)"
                if scipy else ""))
        try:
            self.meta = parse_json(bytes(self.array(META)).decode("utf-8"))
        except ValueError as e:  # UnicodeDecodeError and JSONDecodeError too
            raise FormatError(f"{path}: corrupt metadata ({e})") from None
        if not isinstance(self.meta, dict):
            raise FormatError(f"{path}: corrupt metadata")
        fmt = self.meta.get("format")
        if expect_format is not None and fmt != expect_format:
            from embedcli.errors import WrongKindError

            raise WrongKindError(f"{path}: {_KIND_NAMES.get(fmt, 'not a file embedcli knows')}, expected "
                                 f"{_KIND_NAMES.get(expect_format, expect_format)}")

    def check_version(self, supported: int) -> None:
        """Raise FormatError when the file's format_version is newer than ``supported``."""
        v = self.meta.get("format_version")
        if not isinstance(v, int) or v < 1:
            raise FormatError(f"{self.path}: unknown format version {v!r}")
        if v > supported:
            raise FormatError(
                f"{self.path}: format version {v} is newer than this embedcli reads ({supported}); upgrade embedcli"
            )

    def array(self, name: str, mmap: bool = False) -> np.ndarray:
        """Load member ``name``; with ``mmap`` map it read-only in place when stored uncompressed.

        The ``.npy`` header is checked against the member's size before any
        data is read or allocated.

        Raises:
            FormatError: missing, truncated or corrupt member, or an object array.
        """
        if name not in self.names:
            raise FormatError(f"{self.path}: missing array {name!r}")
        info = self.zf.getinfo(name + ".npy")
        try:
            if info.compress_type == zipfile.ZIP_STORED:
                return self._stored(info, mmap)
            return self._read_compressed(info)
        except FormatError as e:
            raise FormatError(f"{self.path}: array {name!r}: {e}") from None
        except Exception as e:  # corrupt zip/npy structures raise many kinds (ValueError, SyntaxError, zlib.error, ...)
            raise FormatError(f"{self.path}: array {name!r} is corrupt or truncated ({type(e).__name__}: {e})") from None

    def _read_compressed(self, info: zipfile.ZipInfo) -> np.ndarray:
        if info.file_size > info.compress_size * 100 + (64 << 20):
            raise FormatError(f"compressed member declares {info.file_size:,} bytes from {info.compress_size:,} "
                              "(over 100x): refusing it (embedcli never writes compressed members)")
        with self.zf.open(info) as m:
            shape, fortran, dtype = _read_npy_header(m)
            need = _check_size(shape, dtype, info.file_size)
            data = m.read(need)
        if len(data) != need:
            raise FormatError("truncated")
        return np.frombuffer(data, dtype=dtype).reshape(shape, order="F" if fortran else "C")

    def _stored(self, info: zipfile.ZipInfo, mmap: bool) -> np.ndarray:
        with open(self.path, "rb") as f:
            f.seek(info.header_offset)
            local = f.read(30)
            if len(local) != 30 or local[:4] != b"PK\x03\x04":
                raise FormatError("corrupt zip member header")
            n, e = struct.unpack("<HH", local[26:30])
            start = info.header_offset + 30 + n + e
            f.seek(start)
            shape, fortran, dtype = _read_npy_header(f)
            offset = f.tell()
            need = _check_size(shape, dtype, info.file_size - (offset - start))
            if offset + need > os.path.getsize(self.path):
                raise FormatError("truncated")
            order = "F" if fortran else "C"
            if need == 0:
                return np.zeros(shape, dtype)
            if mmap:
                return np.memmap(self.path, dtype=dtype, mode="r", offset=offset, shape=shape, order=order)
            data = f.read(need)
        return np.frombuffer(data, dtype=dtype).reshape(shape, order=order)

    def close(self) -> None:
        self.zf.close()
