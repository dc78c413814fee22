"""File plumbing shared by every command: reading inputs (files, folders, globs, stdin, compression), sniffing, progress; outputs live in :mod:`embedcli.outputs` (re-exported here)."""

from __future__ import annotations

import bz2
import contextlib
import glob
import gzip
import lzma
import os
import re
import shutil
import sys
import zlib
import tempfile
import time
from typing import IO, Iterator

from embedcli.errors import DataError, InputError
from embedcli.outputs import (COMPRESSED_SUFFIXES, PENDING_EXIT, atomic_output, atomic_path, scratch_prefix,  # noqa: F401
                              check_distinct, check_output_path, compression_of, refuse_compressed, refuse_stdout)

#: What reading corrupt gzip/bz2/xz data raises (zlib.error and LZMAError are not OSErrors).
CORRUPT_DATA_ERRORS = (OSError, EOFError, ValueError, zlib.error, lzma.LZMAError)

#: Bytes read per chunk by the streaming readers.  Memory use of every streaming
#: command is a small multiple of this, independent of the corpus length.
CHUNK_BYTES = 4 << 20

_OPENERS = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")


def is_url(path: str) -> bool:
    """``path`` is an fsspec URL (``s3://``, ``gs://``, ``hdfs://``, ``file://`` ...), not a local path."""
    return isinstance(path, str) and _URL.match(path) is not None


def url_fs(url: str):
    """``(filesystem, path)`` of an fsspec URL.

    Raises:
        DependencyError: fsspec, or the backend of the URL's protocol (s3fs, gcsfs ...), is not installed.
    """
    from embedcli.errors import DependencyError

    try:
        import fsspec
    except ImportError:
        raise DependencyError(f"{url}: reading URLs needs fsspec: pip install 'embedcli[remote]' "
                              "(and the protocol's backend, e.g. s3fs)") from None
    try:
        return fsspec.core.url_to_fs(url)
    except (ImportError, ValueError) as e:  # fsspec's message names the package to install
        raise DependencyError(f"{url}: {str(e).splitlines()[0]}") from None


def not_a_file(path: str, what: str = "") -> InputError:
    """The error for an input path that is not a regular file: missing, a folder, or a device."""
    expected = f", expected {_a(what)} {what} file" if what else ", expected a file"
    if os.path.isdir(path):
        return InputError(f"{path}: is a folder{expected}")
    if os.path.exists(path):
        return InputError(f"{path}: not a regular file (a device or pipe){expected}")
    return InputError(f"{path}: no such file")


def plain_size(path: str) -> int | None:
    """The bytes a reader of ``path`` will see, when known before reading: the size of an
    uncompressed local file or URL; None for stdin, a compressed file, or one that cannot be sized
    (progress then shows a rate without a percentage)."""
    if path == "-" or compression_of(path):
        return None
    try:
        return input_size(path)
    except Exception:  # noqa: BLE001 -- only a progress display depends on it
        return None


def disk_size(path: str) -> int | None:
    """The bytes ``path`` takes where it is stored (compressed or not), or None for stdin or a file
    that cannot be sized: the total of a progress display in stored bytes (see :func:`iter_line_chunks`'
    ``stored``)."""
    if path == "-":
        return None
    try:
        return input_size(path)
    except Exception:  # noqa: BLE001 -- only a progress display depends on it
        return None


def _stored_position(f) -> int | None:
    """How far a reader has got in the stored (compressed) file under ``f``, or None."""
    raw = getattr(f, "fileobj", None) or getattr(f, "_fp", None)  # GzipFile; BZ2File / LZMAFile
    try:
        return raw.tell() if raw is not None else f.tell()
    except (OSError, AttributeError, ValueError):
        return None


def input_size(path: str) -> int:
    """Size in bytes of a local file or an fsspec URL.

    Raises:
        InputError: no such file (or not a file).
        DependencyError: see :func:`url_fs`.
    """
    if not is_url(path):
        if not os.path.isfile(path):
            raise not_a_file(path)
        return os.path.getsize(path)
    fs, p = url_fs(path)
    try:
        if not fs.isfile(p):
            raise InputError(f"{path}: no such file")
        return int(fs.size(p))
    except OSError as e:
        raise InputError(f"{path}: cannot read: {e}") from None


def _open_raw(path: str, compression: str | None = None) -> IO[bytes]:
    """A binary file object for a local path or an fsspec URL (seekable unless ``compression``)."""
    if not is_url(path):
        return open(path, "rb")
    fs, p = url_fs(path)
    try:
        return fs.open(p, "rb", compression=compression)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None


def find_inputs(inputs, include=(), exclude=()) -> tuple[list[str], list[tuple[str, str]]]:
    """Expand corpus arguments into file paths, and the paths left out with the reason.

    Each input is ``-`` (standard input), a file, a folder (read recursively,
    hidden files skipped, sorted by path), a glob pattern, or the URL of one file
    (``s3://bucket/corpus.txt.gz``, read through fsspec: :func:`is_url`).  Inside folders
    and globs, ``include``/``exclude`` glob patterns (matched against the file
    name and the path) select files; symbolic links to folders are not
    followed, a file reached twice (through links) is read once, and anything
    that is not a regular file (named pipes, devices, sockets) is left out --
    so no input makes the walk loop or block.  Inputs named explicitly are
    always read (a named pipe or ``/dev/fd/N`` included).

    Raises:
        InputError: an input matches nothing, or a folder holds no files.
    """
    import fnmatch
    import stat

    out: list[str] = []
    skipped: list[tuple[str, str]] = []
    seen: set = set()
    if not inputs:
        raise InputError("no input given")

    def wanted(p: str) -> bool:
        name = os.path.basename(p)
        if include and not any(fnmatch.fnmatch(name, g) or fnmatch.fnmatch(p, g) for g in include):
            return False
        return not any(fnmatch.fnmatch(name, g) or fnmatch.fnmatch(p, g) for g in exclude)

    def add_found(p: str) -> None:
        try:
            st = os.stat(p)
        except OSError as e:
            skipped.append((p, f"cannot read: {e.strerror}"))
            return
        if not stat.S_ISREG(st.st_mode):
            skipped.append((p, "not a regular file"))
            return
        key = (st.st_dev, st.st_ino)
        if key in seen:
            skipped.append((p, "the same file was already read (symbolic link)"))
            return
        seen.add(key)
        out.append(p)

    for item in inputs:
        if item == "-":
            out.append("-")
        elif is_url(item):  # one file through fsspec (no folders or patterns there)
            input_size(item)  # exists, and is a file?
            out.append(item)
        elif os.path.isdir(item):
            found = []
            for root, dirs, files in os.walk(item):  # does not follow links to folders: no cycles
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                found.extend(os.path.join(root, f) for f in sorted(files) if not f.startswith("."))
            if not found:
                raise InputError(f"{item}: folder holds no files")
            for p in sorted(found):
                if wanted(p):
                    add_found(p)
        elif os.path.exists(item):
            try:
                st = os.stat(item)
                seen.add((st.st_dev, st.st_ino))
            except OSError:
                pass
            out.append(item)
        elif glob.has_magic(item):
            matches = sorted(_glob(item))
            if not matches:
                raise InputError(f"{item}: pattern matches no file")
            for p in matches:
                if os.path.isdir(p):
                    continue
                if wanted(p):
                    add_found(p)
        else:
            raise InputError(f"{item}: no such file or folder")
    if not out:
        raise InputError(f"{', '.join(inputs)}: no file left to read" + (" after --include/--exclude" if
                                                                        include or exclude else ""))
    return out, skipped


def _glob(pattern: str) -> list[str]:
    """``glob.glob`` whose ``**`` does not follow symbolic links to folders (Python's does, and loops on
    a link cycle): ``**`` is expanded by ``os.walk`` and matched with a translated regular expression."""
    import re as _re

    if "**" not in pattern:
        return glob.glob(pattern)
    parts = pattern.split(os.sep)
    k = next(i for i, part in enumerate(parts) if glob.has_magic(part))
    root = os.sep.join(parts[:k]) or ("." if not pattern.startswith(os.sep) else os.sep)
    rx, i = "", 0
    rest = os.sep.join(parts[k:])
    while i < len(rest):
        if rest.startswith("**/", i):
            rx += "(?:.*/)?"
            i += 3
        elif rest.startswith("**", i):
            rx += ".*"
            i += 2
        elif rest[i] == "*":
            rx += "[^/]*"
            i += 1
        elif rest[i] == "?":
            rx += "[^/]"
            i += 1
        elif rest[i] == "[" and "]" in rest[i + 1:]:
            j = rest.index("]", i + 2) if rest[i + 1:i + 2] == "]" else rest.index("]", i + 1)
            body = rest[i + 1:j].replace("\\", "\\\\")
            rx += "[" + ("^" + body[1:] if body.startswith("!") else body) + "]"
            i = j + 1
        else:
            rx += _re.escape(rest[i])
            i += 1
    match = _re.compile(rx + r"\Z", _re.DOTALL).match
    out = []
    for dirpath, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for f in files:
            full = os.path.join(dirpath, f)
            rel = os.path.relpath(full, root)
            if not f.startswith(".") and match(rel):
                out.append(full if root != "." or pattern.startswith("./") else rel)
    return out


def expand_inputs(inputs) -> list[str]:
    """The file paths of :func:`find_inputs` (without the skipped ones).

    Raises:
        InputError: an input matches nothing, or a folder holds no files.
    """
    return find_inputs(inputs)[0]


_PICKLE_MAGIC = (b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05")


def _a(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def read_head(path: str, what: str = "input") -> bytes:
    """First 8 bytes of an input file that must be a regular file (not stdin), refusing pickles.

    The one place where embedcli sniffs files before reading them: vectors,
    matrices and ``embedcli info`` all start here.

    Raises:
        InputError: ``-`` (stdin), a missing path, a folder, or an unreadable file
            (``what`` names the expected kind: "vectors", "matrix").
        FormatError: the file starts like a Python pickle (never loaded).
    """
    from embedcli.errors import FormatError

    if path == "-":
        raise InputError(f"{_a(what)} {what} file cannot be read from stdin; give a file")
    if not os.path.isfile(path):
        raise not_a_file(path, what)
    try:
        with open(path, "rb") as f:
            head = f.read(8)
    except OSError as e:
        raise InputError(f"{path}: cannot open: {e.strerror or e}") from None
    if head[:2] in _PICKLE_MAGIC or head[:1] == b"(":
        raise FormatError(f"{path}: looks like a Python pickle; embedcli never loads pickles (a gensim model or "
                          "KeyedVectors: write it with save_word2vec_format, or a fastText model with "
                          "gensim.models.fasttext.save_facebook_model)")
    return head


def open_binary(path: str) -> IO[bytes]:
    """Open ``path`` for binary reading; ``-`` is stdin; .gz/.bz2/.xz are decompressed; an fsspec URL
    (``s3://bucket/tokens.txt``) is read through fsspec when it and the protocol's backend are installed.

    Raises:
        InputError: the file cannot be opened.
        DependencyError: a URL whose fsspec backend is missing.
    """
    if path == "-":
        if sys.stdin is None:
            raise InputError("standard input is closed; give a file")
        return sys.stdin.buffer
    ext = os.path.splitext(path)[1].lower()
    try:
        if is_url(path):
            f = _open_raw(path, {".gz": "gzip", ".bz2": "bz2", ".xz": "xz"}.get(ext))
        else:
            f = _OPENERS.get(ext, open)(path, "rb")
    except OSError as e:
        raise InputError(f"{path}: cannot open: {e.strerror or e}") from None
    return _CheckedReader(f, path) if ext in _OPENERS else f


class _CheckedReader:
    """A decompressing reader whose errors on corrupt data (zlib.error, LZMAError, "Invalid data
    stream", EOFError) are :class:`DataError` naming the file; everything else is the reader's."""

    def __init__(self, f, path: str):
        self._f, self._path = f, path

    def _call(self, name: str, *args):
        try:
            return getattr(self._f, name)(*args)
        except CORRUPT_DATA_ERRORS as e:
            raise DataError(f"{self._path}: cannot read: corrupt compressed data ({e})") from None

    def read(self, *args) -> bytes:
        return self._call("read", *args)

    def readline(self, *args) -> bytes:
        return self._call("readline", *args)

    def __iter__(self):
        while line := self.readline():
            yield line

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self._f.close()

    def __getattr__(self, name: str):
        return getattr(self._f, name)


def iter_line_chunks(path: str, chunk_bytes: int | None = None,
                     segment: tuple[int, int] | None = None, stored: list | None = None,
                     encoding: str = "utf-8", max_line: int | None = None) -> Iterator[tuple[int, bytes, bool]]:
    """Yield ``(first_line_number, data, ends_line)`` blocks of about ``chunk_bytes``.

    ``stored``: a one-item list set, before each block is yielded, to the bytes read so far of the
    file as stored (of the compressed stream for .gz/.bz2/.xz; None when unknown): progress on a
    compressed input, whose uncompressed size is unknown until the end.

    ``segment=(start, end)``: only bytes ``start..end`` of an uncompressed file (cut at line ends by
    :func:`line_segments`), line numbers counted from the segment's first line.

    ``data`` holds whole lines (terminators kept) when ``ends_line`` is true.  A
    line longer than ``max_line`` (default ``chunk_bytes``) comes in several pieces, cut at white space
    (or else at a character boundary of ``encoding``: GBK or Shift-JIS text is not cut
    inside a character), all but the last with
    ``ends_line=False``: memory stays bounded on a file with no newline at all.
    Line numbers are 1-based.  A UTF-8 byte-order mark at the start is dropped.

    Raises:
        InputError: the file cannot be opened.
        DataError: the compressed stream is corrupt.
    """
    chunk_bytes = chunk_bytes or CHUNK_BYTES
    f = open_binary(path)
    lineno = 1
    buf = b""
    first = True
    left = None
    if segment is not None:
        f.seek(segment[0])
        first = segment[0] == 0
        left = segment[1] - segment[0]
    try:
        while True:
            try:
                block = f.read(chunk_bytes if left is None else min(chunk_bytes, left))
                if left is not None:
                    left -= len(block)
            except CORRUPT_DATA_ERRORS as e:
                raise DataError(f"{path}: cannot read: {e}") from None
            if stored is not None:
                stored[0] = _stored_position(f)
            if first:
                first = False
                if block.startswith(b"\xef\xbb\xbf"):  # a UTF-8 byte-order mark is not text
                    block = block[3:]
            if not block:
                if buf:
                    yield lineno, buf, True
                break
            buf = buf + block if buf else block
            cut = buf.rfind(b"\n")
            if cut >= 0:
                data, buf = buf[: cut + 1], buf[cut + 1 :]
                yield lineno, data, True
                lineno += data.count(b"\n")
            elif len(buf) >= (max_line or chunk_bytes):
                cut = max(buf.rfind(b" "), buf.rfind(b"\t"))
                if cut <= 0:
                    from embedcli.linetokens import character_end

                    cut = character_end(buf, encoding)
                data, buf = buf[:cut], buf[cut:]
                yield lineno, data, False
    finally:
        if f is not getattr(sys.stdin, "buffer", None):
            f.close()


def line_segments(path: str, size: int) -> list[tuple[int, int]]:
    """Byte ranges ``(start, end)`` of about ``size`` bytes covering an uncompressed file (local or an
    fsspec URL), each starting at a line start (cut after the first newline at or past every
    multiple of ``size``), so that each can be read alone (:func:`iter_line_chunks` ``segment``).

    Raises:
        InputError: a compressed file or stdin (they cannot be cut without reading them whole), or
            a missing file.
    """
    if path == "-" or os.path.splitext(path)[1].lower() in _OPENERS:
        raise InputError(f"{path}: a cluster reads uncompressed files by byte ranges; decompress it first")
    total = input_size(path)
    cuts = [0]
    with _open_raw(path) as f:
        pos = size
        while pos < total:
            f.seek(pos)
            while True:
                piece = f.read(1 << 16)
                if not piece:
                    pos = total
                    break
                nl = piece.find(b"\n")
                if nl >= 0:
                    pos = f.tell() - len(piece) + nl + 1
                    break
            if pos >= total:
                break
            cuts.append(pos)
            pos += size
    cuts.append(total)
    return [(a, b) for a, b in zip(cuts, cuts[1:]) if b > a]


@contextlib.contextmanager
def naming_scratch_errors(path: str):
    """A full disk while writing a temporary file (in ``$TMPDIR``): one line naming it and what to
    do, not an unnamed OSError (which the command line would blame on standard output).

    Raises:
        InputError: no space (or quota, or an I/O error) for ``path``.
    """
    import errno

    try:
        yield
    except OSError as e:
        if e.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO):
            raise InputError(f"{path}: cannot write this temporary file: {e.strerror} (set TMPDIR to a folder "
                             "with more room)") from None
        raise


@contextlib.contextmanager
def spooled(path: str, decompress: bool = False) -> Iterator[str]:
    """A path that can be read several times: stdin (and, with ``decompress``, a
    .gz/.bz2/.xz file) is first copied to a temporary file, removed afterwards.

    An fsspec URL is read again from its store (or, compressed with ``decompress``, copied too).

    Raises:
        InputError: ``path`` does not exist.
    """
    if is_url(path):
        input_size(path)  # exists?
    elif path != "-" and not os.path.isfile(path):
        raise not_a_file(path)
    if path != "-" and not (decompress and os.path.splitext(path)[1].lower() in _OPENERS):
        yield path
        return
    fd, tmp = tempfile.mkstemp(prefix=scratch_prefix("spool"), suffix=".txt")
    try:
        with naming_scratch_errors(tmp), os.fdopen(fd, "wb") as out:
            src = open_binary(path)
            shutil.copyfileobj(src, out, 1 << 20)
        yield tmp
    finally:
        os.unlink(tmp)


class Progress:
    """Progress on stderr: a live ``\\r`` line on a terminal, a line every ``every`` seconds otherwise.

    ``Progress(None)`` (or ``quiet=True``) is silent.  ``update(done, total=None)``
    with counts in ``unit``; rates are per second of wall time.  With ``unit=None``
    only the percentage, ETA and the caller's ``extra`` text are shown.
    """

    def __init__(self, label: str | None, unit: str | None = "tokens", quiet: bool = False, every: float = 10.0):
        self.label = label
        self.unit = unit
        self.quiet = quiet or label is None
        self.start = time.perf_counter()
        self.last = self.start  # nothing is printed for work shorter than one interval
        self.every = every
        self.tty = sys.stderr.isatty()
        self._shown = False
        self._held = None  # the last update not shown (too soon after the one before)

    def update(self, done: float, total: float | None = None, extra: str = "") -> None:
        if PENDING_EXIT:  # a signal whose exception a library swallowed: stop now, not at the end
            raise SystemExit(PENDING_EXIT[0])
        if self.quiet:
            return
        now = time.perf_counter()
        interval = 0.2 if self.tty else self.every
        if now - self.last < interval:
            self._held = (done, total, extra)
            return
        self.last, self._held = now, None
        self._emit(done, total, extra)

    def _emit(self, done: float, total: float | None, extra: str) -> None:
        elapsed = max(time.perf_counter() - self.start, 1e-9)
        rate = done / elapsed
        msg = f"{self.label}: {_human(done)} {self.unit}, {_human(rate)} {self.unit}/s" if self.unit else f"{self.label}:"
        if total:
            frac = min(done / total, 1.0)
            eta = (total - done) / rate if rate > 0 else float("inf")
            bar = f" [{'#' * int(20 * frac):<20}]" if self.tty else ""
            msg += f"{bar} {100 * frac:.0f}%, ETA {_duration(eta)}"
        if extra:
            msg += (" " if msg.endswith(":") else ", ") + extra
        if self.tty:
            sys.stderr.write("\r\x1b[K" + msg)
        else:
            sys.stderr.write(msg + "\n")
        sys.stderr.flush()
        self._shown = True

    def close(self) -> None:
        """End a terminal's line, redrawn first with the last update if that one was not shown."""
        if not self.quiet and self._shown and self.tty:
            if self._held is not None:
                self._emit(*self._held)
            sys.stderr.write("\n")
            sys.stderr.flush()


def _human(x: float) -> str:
    for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= div:
            return f"{x / div:.1f}{suffix}"
    return f"{x:.0f}"


def _duration(s: float) -> str:
    if s == float("inf"):
        return "?"
    s = int(s)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"
