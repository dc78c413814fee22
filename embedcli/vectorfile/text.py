"""word2vec text and binary, GloVe text and native ``.npz`` vector files: parsing and checks."""

from __future__ import annotations

import warnings

import numpy as np

from embedcli.errors import DataError, FormatError, ParameterError, WrongKindError
from embedcli.npzfile import NpzReader, blob_words
from embedcli.specs import VECTOR_FORMATS
from embedcli.vectorfile import VECTORS_FORMAT, VECTORS_FORMAT_VERSION, VectorData


#: What separates a word from its values in text and binary vector files, for every reader (gensim,
#: word2vec.c, GloVe): a word cannot hold it.  Other white space (a no-break space, which fastText's
#: published .vec files hold in some words) is written and read back as part of the word.
_SEPARATORS = frozenset(" \t\n\r\x0b\x0c")


def _check_words_writable(path: str, words: list[str]) -> None:
    for i, w in enumerate(words):
        if not w or not _SEPARATORS.isdisjoint(w):
            raise DataError(f"{path}: word {w!r} (row {i + 1}) is empty or holds a space, tab or line break: not "
                            "representable in a text or binary vectors file; write .npz")


def check_vectors_meta(path: str, meta: dict) -> None:
    """The metadata fields that commands read without further checks have the right types.

    Raises:
        FormatError: naming the field (a corrupt or edited file).
    """
    from embedcli.errors import json_number, json_numbers

    bad = None
    if not isinstance(meta.get("provenance", {}), dict):
        bad = "provenance"
    elif not isinstance(meta.get("kind", ""), str):
        bad = "kind"
    elif "singular_values" in meta and not json_numbers(meta["singular_values"]):
        bad = "singular_values"
    elif meta.get("energy_captured") is not None and not json_number(meta["energy_captured"]):
        bad = "energy_captured"
    else:
        bad = next((k for k in ("lsa", "docvec", "alignment") if not isinstance(meta.get(k) or {}, dict)), None)
    if bad is not None:
        raise FormatError(f"{path}: corrupt metadata (the field {bad!r} has the wrong type)")


def _load_native(path: str, mmap: bool) -> VectorData:
    r = NpzReader(path)
    try:
        fmt = r.meta.get("format")
        if fmt == "embedcli-matrix":
            raise WrongKindError(f"{path}: a count matrix, not vectors (run embedcli svd on it)")
        if fmt != VECTORS_FORMAT:
            raise FormatError(f"{path}: not an embedcli vectors file")
        r.check_version(VECTORS_FORMAT_VERSION)
        vecs = r.array("vectors", mmap=mmap)
        if vecs.ndim != 2 or vecs.dtype not in (np.float32, np.float64) or vecs.shape[1] == 0:
            raise FormatError(f"{path}: vectors must be a 2-d float32 array of dimension >= 1, got {vecs.dtype} "
                              f"{vecs.shape}")
        n = vecs.shape[0]
        words = blob_words(r.array("words"), path, n)
        distinct = set(words)
        if len(distinct) != n:
            raise FormatError(f"{path}: duplicate words in vocabulary")
        if "" in distinct or "\x00" in "".join(words):
            raise FormatError(f"{path}: an empty word, or a word holding a NUL byte")
        norms = r.array("norms") if "norms" in r.names else None
        if norms is not None and (norms.shape != (n,) or norms.dtype.kind != "f"):
            raise FormatError(f"{path}: norms do not match vectors")
        if norms is not None and not (np.isfinite(norms).all() and (norms >= 0).all()):
            raise FormatError(f"{path}: vectors hold NaN or infinite values (or the stored norms are negative)")
        if norms is not None and n:  # a corrupt or edited file, found early (queries compute their own norms)
            rows = np.unique(np.linspace(0, n - 1, min(n, 257)).astype(np.int64))
            with np.errstate(over="ignore", invalid="ignore"):
                got = np.linalg.norm(np.asarray(vecs[rows], dtype=np.float64), axis=1)
            if not np.isfinite(got).all():
                raise FormatError(f"{path}: vectors hold NaN or infinite values")
            if not np.allclose(got, norms[rows], rtol=1e-3, atol=1e-6):
                raise FormatError(f"{path}: the stored norms do not match the vectors (a corrupt or edited file)")
        counts = r.array("counts") if "counts" in r.names else None
        if counts is not None and (counts.shape != (n,) or counts.dtype.kind not in "iu"):
            raise FormatError(f"{path}: counts do not match vectors (one whole number per word)")
        meta = {k: v for k, v in r.meta.items() if k not in ("format", "format_version")}
        check_vectors_meta(path, meta)
        return VectorData(words, vecs, counts, meta, None if norms is None else norms.astype(np.float32))
    finally:
        r.close()


def _parse_text_or_binary(path: str, data: bytes, fmt: str | None, lenient: bool = False,
                          limit: int | None = None) -> VectorData:
    """Parse a text or binary vectors file's bytes; ``limit``: its first ``limit`` rows only (a
    header's word count is then checked against those rows only, see :class:`RowsEnd`)."""
    data, fmt, n, dim, start = _detect(path, data, fmt, lenient)
    if limit is not None and n is not None:
        n = min(n, limit)
    if fmt == "binary":
        return _parse_binary(path, data, start, n, dim, lenient)
    if fmt == "word2vec":
        return _parse_text(path, data, 2, n, dim, start=start, lenient=lenient)  # no copy of the rows' bytes
    return _parse_text(path, data, 1, None, None, lenient=lenient)


def _detect(path: str, data: bytes, fmt: str | None, lenient: bool = False
            ) -> tuple[bytes, str, int | None, int | None, int]:
    """``(data, fmt, n, dim, start)``: the format (``fmt`` if given, else detected), the header's
    word count and dimension (None for GloVe) and where the rows start in ``data`` (a UTF-8 byte
    order mark dropped).

    Raises:
        FormatError: an empty file, a header that disagrees with the first row or is missing.
        ParameterError: an unknown ``fmt``.
    """
    if data.startswith(b"\xef\xbb\xbf"):  # a UTF-8 byte order mark (Windows editors): not part of the first word
        data = data[3:]
    if not data[:65536].strip() and not data.strip():  # (the whole file is copied only when its start is blank)
        raise FormatError(f"{path}: empty vectors file")
    nl = data.find(b"\n")
    first = data[: nl if nl >= 0 else len(data)]
    try:
        fields = first.decode("utf-8", "replace" if lenient else "strict").split()
    except UnicodeDecodeError:
        raise FormatError(f"{path}:1: undecodable first line (if it is a row of GloVe text, {LENIENT_HINT})") from None
    header = len(fields) == 2 and all(f.isascii() and f.isdigit() for f in fields)
    if header and int(fields[0]) == 0 and not data[nl + 1 :].strip():  # gensim writes an empty model so
        raise FormatError(f"{path}:1: the header declares 0 words: the file holds no vectors")
    if fmt is None:
        if not header:
            fmt = "glove"
        else:
            k = _text_row_values(data[nl + 1 : nl + 1 + _first_row_bytes(first)])
            if k == int(fields[1]):
                fmt = "word2vec"
            elif k:  # a text row of another length: the header is wrong (or the rows are)
                raise FormatError(f"{path}:2: the header says dimension {fields[1]} but the first row has {k} values")
            else:
                fmt = "binary"
    if fmt in ("word2vec", "binary") and not header:
        raise FormatError(f"{path}:1: expected a 'count dim' header line")
    if fmt not in ("word2vec", "binary", "glove"):
        raise ParameterError("file_format", fmt, f"choose one of {', '.join(VECTOR_FORMATS)}")
    if fmt == "glove":
        return data, fmt, None, None, 0
    return data, fmt, int(fields[0]), int(fields[1]), nl + 1


class RowsEnd:
    """Where the first ``limit`` rows of a text or binary vectors file end, found as its bytes
    arrive: ``read_bounded``'s ``enough``, so ``convert --top N`` reads only those rows (gensim's
    ``load_word2vec_format(limit=N)`` does the same).  Called with the bytes read so far, it
    returns the length of the prefix holding the header and the first ``limit`` rows, or None
    while they have not all arrived (and always when the file has at most ``limit`` rows by its
    header: it is read whole and checked as without a limit).  Each call scans only the new bytes.

    Raises:
        FormatError: as :func:`_detect`, on the file's first two lines.
    """

    def __init__(self, path: str, fmt: str | None, limit: int):
        self.path, self.fmt, self.limit = path, fmt, limit
        self.kind: tuple | None = None  # (fmt, rows wanted or 0: read whole, dim, start)
        self.pos = 0  # bytes of the rows scanned
        self.rows = 0  # rows found before pos
        self.cut = False  # a prefix was given: the file holds more rows

    def __call__(self, buf: bytearray) -> int | None:
        if self.kind is None:
            first = buf.find(b"\n")
            if first < 0 or buf.find(b"\n", first + 1) < 0:  # the first row too, for the format
                return None
            bom = 3 if buf.startswith(b"\xef\xbb\xbf") else 0
            _, fmt, n, dim, start = _detect(self.path, bytes(buf[: first + 1 + _first_row_bytes(buf[:first])]),
                                            self.fmt)
            self.kind = (fmt, 0 if n is not None and n <= self.limit else self.limit, dim, start + bom)
            self.pos = start + bom
        fmt, want, dim, _ = self.kind
        if not want:
            return None
        if fmt != "binary":
            more = buf.count(b"\n", self.pos)
            if self.rows + more < want:
                self.rows += more
                self.pos = len(buf)
                return None
            while self.rows < want:
                self.pos = buf.find(b"\n", self.pos) + 1
                self.rows += 1
            last = buf.rfind(b"\n", 0, self.pos - 1) + 1
            if not bytes(buf[last : self.pos]).strip():  # a blank last row: read whole, for the error
                self.kind = (fmt, 0, dim, None)
                return None
            self.cut = True
            return self.pos
        width = dim * 4
        while self.rows < want:  # records as _parse_binary reads them: [newlines] word, space, width bytes
            pos = self.pos
            while pos < len(buf) and buf[pos] in (10, 13):
                pos += 1
            sp_ = buf.find(b" ", pos)
            if sp_ < 0 or sp_ + 1 + width > len(buf):
                return None
            self.pos = sp_ + 1 + width
            self.rows += 1
        self.cut = True
        return self.pos


def _first_row_bytes(header: bytes) -> int:
    """Bytes enough for a header's first text row: 64 kB, or 32 per value of a wide one."""
    fields = header.split()
    dim = int(fields[1]) if len(fields) == 2 and fields[1].isdigit() and len(fields[1]) < 10 else 0
    return max(65536, 32 * dim + 4096)


def _text_row_values(body: bytes) -> int:
    """The number of values of the first row after a header when it is a text row ``word v1 .. vk``
    (k >= 1, every value a number), else 0 (a binary record, or not a vectors row)."""
    end = body.find(b"\n")
    parts = (body[:end] if end >= 0 else body).split()
    if len(parts) < 2:
        return 0
    try:
        [float(x) for x in parts[1:]]
    except ValueError:
        return 0
    return len(parts) - 1


#: How a user repairs what the strict reader refuses and gensim's reader tolerates.
LENIENT_HINT = "'embedcli convert --lenient' repairs such a file"

#: Bytes of text rows parsed at a time: memory is the file's bytes, the float32 output and a few
#: times this, not several copies of the whole text.
TEXT_BLOCK = 32 << 20


def _parse_text(path: str, data: bytes, first_lineno: int, n: int | None, dim: int | None,
                start: int = 0, lenient: bool = False) -> VectorData:
    """The text rows of ``data[start:]`` (``first_lineno`` is their first line's number);
    ``lenient``: see :func:`~embedcli.vectorfile.read_vectors`."""
    repaired: dict = {}
    if dim == 0 or n == 0:
        raise FormatError(f"{path}:1: header declares {n} words of dimension {dim}")
    end = len(data)  # trailing blank lines and spaces are not rows (found without copying the data)
    while True:
        while end > start and data[end - 1] in b" \t\r\n\x0b\x0c":
            end -= 1
        last = data.rfind(b"\n", start, end) + 1
        if end == start or data[last:end].decode("utf-8", "replace").strip():
            break
        end = last  # a last line of other white space only (a no-break space)
    if end <= start:
        raise FormatError(f"{path}: no vectors in file")
    if n is not None:
        rows = data.count(b"\n", start, end) + 1
        if rows != n and lenient:
            repaired["header_words"] = {"declared": n, "rows": rows}
            n = rows
        if rows != n:
            lineno = first_lineno
            for pos, stop in _row_blocks(data, start, end):  # a blank or indented line is the better answer
                lineno += len(_split_rows(path, data[pos:stop], lineno)[0])
            why = ("truncated? a header that overcounts, not a cut file: " if rows < n else "a wrong header? ") + LENIENT_HINT
            raise FormatError(f"{path}: the header says {n} words but the file has {rows} rows ({why})")
    words: list[str] = []
    parts: list[np.ndarray] = []
    out = None  # (n, dim) float32, filled block by block when the header gives n
    lineno = first_lineno
    for pos, stop in _row_blocks(data, start, end):
        chunk = data[pos:stop]
        block_words, rests = _split_rows(path, chunk, lineno, repaired if lenient else None)
        if dim is None:
            dim = len(rests[0].split())
            if dim == 0:
                raise FormatError(f"{path}:{first_lineno}: a word with no values")
        values = _row_values(path, rests, dim, lineno, any(c in chunk for c in _IRREGULAR))
        if n is not None:
            out = np.empty((n, dim), np.float32) if out is None else out
            out[len(words) : len(words) + len(block_words)] = values
        else:
            parts.append(values)
        words.extend(block_words)
        lineno += len(block_words)
    vecs = out if out is not None else np.concatenate(parts) if len(parts) > 1 else parts[0]
    words, vecs = _validate_rows(path, words, vecs, first_lineno, repaired if lenient else None)
    meta = {"source_format": "word2vec" if n is not None else "glove"}
    return VectorData(words, vecs, None, {**meta, "repaired": repaired} if repaired else meta)


def _row_blocks(data: bytes, start: int, end: int):
    """``(start, stop)`` byte ranges of about :data:`TEXT_BLOCK` whole lines of ``data[start:end]``."""
    pos = start
    while pos < end:
        stop = end if end - pos <= TEXT_BLOCK else data.rfind(b"\n", pos, pos + TEXT_BLOCK) + 1
        if stop <= pos:  # one line longer than a block
            stop = data.find(b"\n", pos + TEXT_BLOCK) + 1 or end
        yield pos, stop
        pos = stop


def _split_rows(path: str, chunk: bytes, lineno: int, repaired: dict | None = None) -> tuple[list[str], list[str]]:
    """Whole text rows -> (words, the rest of each row); ``lineno`` is the first row's line number.
    With ``repaired`` (a dict), bytes that are not UTF-8 become U+FFFD and are counted there."""
    try:
        text = chunk.decode("utf-8")
    except UnicodeDecodeError as e:
        if repaired is None:
            line = lineno + chunk[: e.start].count(b"\n")
            raise FormatError(f"{path}:{line}: word or value is not valid UTF-8 ({LENIENT_HINT})") from None
        text = chunk.decode("utf-8", "replace")
        bad = sum(1 for line in text.split("\n") if "\ufffd" in line.partition(" ")[0])
        repaired["words_not_utf8"] = repaired.get("words_not_utf8", 0) + bad
    lines = text.split("\n")
    if text.endswith("\n"):
        lines.pop()
    words: list[str] = []
    rests: list[str] = []
    for line in lines:
        word, _, rest = line.rstrip().partition(" ")
        words.append(word)
        rests.append(rest)
    if "" in words:  # a blank line, or one starting with white space
        i = words.index("")
        what = "a blank line among the vectors" if not rests[i].strip() else "a row that starts with white space"
        raise FormatError(f"{path}:{lineno + i}: {what}")
    return words, rests


#: White space other than spaces between values.  Without it, a row with ``dim - 1`` spaces holds at
#: most ``dim`` values, so the block's total (checked after parsing) catches any row short of values
#: (two spaces in a row); with it, a row may also hold more, and two such rows could add up: then
#: every row is counted.  (Searching for two spaces in a row would cost more than the parse's tenth.)
_IRREGULAR = (b"\t", b"\x0b", b"\x0c")


def _row_values(path: str, rests: list[str], dim: int, lineno: int, irregular: bool = True) -> np.ndarray:
    """``(len(rests), dim) float32`` from the value parts of text rows, naming the first bad line.
    ``irregular``: the rows may hold white space other than single spaces (:data:`_IRREGULAR`,
    checked once per block by the caller), so each row's values are counted the slow way."""
    def odd(r: str) -> bool:  # not exactly dim values separated by single spaces (a tab, two spaces)
        return r.count(" ") != dim - 1 or (irregular and ("\t" in r or "  " in r or r[:1] == " " or
                                                          "\x0b" in r or "\x0c" in r))

    bad = next((i for i, r in enumerate(rests) if odd(r)), None)
    if bad is not None:
        # tolerate repeated spaces/tabs: recheck the slow way before failing
        for i in range(bad, len(rests)):
            if odd(rests[i]):
                parts = rests[i].split()
                if len(parts) != dim:
                    raise FormatError(f"{path}:{lineno + i}: expected {dim} values after the word, got {len(parts)}")
                rests[i] = " ".join(parts)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            values = np.fromstring(" ".join(rests), dtype=np.float32, sep=" ")
        except (ValueError, DeprecationWarning):
            values = np.empty(0, np.float32)
    if values.size != len(rests) * dim:
        for i, r in enumerate(rests):
            parts = r.split()
            if len(parts) != dim:  # two spaces in a row where a value is missing
                raise FormatError(f"{path}:{lineno + i}: expected {dim} values after the word, got {len(parts)}")
            try:
                np.array(parts, dtype=np.float32)
            except ValueError:
                raise FormatError(f"{path}:{lineno + i}: non-numeric value") from None
        raise FormatError(f"{path}: could not parse values")
    return values.reshape(len(rests), dim)


def _parse_binary(path: str, data: bytes, pos: int, n: int, dim: int, lenient: bool = False) -> VectorData:
    if n == 0 or dim == 0:
        raise FormatError(f"{path}:1: header declares {n} words of dimension {dim}")
    width = dim * 4
    repaired: dict = {}
    if n * (width + 2) > len(data) - pos:
        raise FormatError(f"{path}: header declares {n} words of dimension {dim}, the file is too short (truncated?)")
    words: list[str] = []
    starts = np.empty(n, np.int64)
    end = len(data)
    for i in range(n):
        while pos < end and data[pos] in (10, 13):  # the C tool ends each row with a newline
            pos += 1
        sp_ = data.find(b" ", pos)  # words of any length, as gensim and the C tool read them
        if sp_ < 0 or b"\n" in data[pos:sp_]:
            raise FormatError(f"{path}: record {i + 1} of {n}: no space after the word (truncated or malformed "
                              "file)")
        try:
            words.append(data[pos:sp_].decode("utf-8"))
        except UnicodeDecodeError:
            if not lenient:
                raise FormatError(f"{path}: record {i + 1}: word is not valid UTF-8 ({LENIENT_HINT})") from None
            words.append(data[pos:sp_].decode("utf-8", "replace"))
            repaired["words_not_utf8"] = repaired.get("words_not_utf8", 0) + 1
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
    words, vecs = _validate_rows(path, words, vecs, None, repaired if lenient else None)
    return VectorData(words, vecs, None, {"source_format": "binary", **({"repaired": repaired} if repaired else {})})


def _validate_rows(path: str, words: list[str], vecs: np.ndarray, first_lineno: int | None,
                   repaired: dict | None = None) -> tuple[list[str], np.ndarray]:
    """Refuse NaN, huge values, empty words and repeated words (naming the line or record); with
    ``repaired`` (a dict), a repeated word's later rows are dropped instead and counted there."""
    where = (lambda i: f"{path}:{first_lineno + i}") if first_lineno is not None else (lambda i: f"{path}: record {i + 1}")
    finite = np.isfinite(vecs).all(axis=1)
    if not finite.all():
        i = int(np.flatnonzero(~finite)[0])
        raise FormatError(f"{where(i)}: NaN or infinite value for word {words[i]!r}")
    big = np.abs(vecs).max(axis=1) > 1e18  # the squared norm would overflow float32
    if big.any():
        i = int(np.flatnonzero(big)[0])
        raise FormatError(f"{where(i)}: value too large (> 1e18) for word {words[i]!r}")
    if any(not w for w in words):
        i = words.index("")
        raise FormatError(f"{where(i)}: empty word")
    if len(set(words)) != len(words):
        seen: set[str] = set()
        keep = []
        for i, w in enumerate(words):
            if w in seen and repaired is None:
                raise FormatError(f"{where(i)}: duplicate word {w!r} ({LENIENT_HINT})")
            if w not in seen:
                keep.append(i)
            seen.add(w)
        repaired["duplicates_dropped"] = len(words) - len(keep)
        words, vecs = [words[i] for i in keep], vecs[keep]
    return words, vecs


