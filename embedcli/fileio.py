"""File plumbing shared by every command: inputs, compression, atomic outputs, progress."""

from __future__ import annotations

import bz2
import contextlib
import glob
import gzip
import lzma
import os
import shutil
import sys
import tempfile
import time
from typing import IO, Iterator

from embedcli.errors import DataError, InputError

#: Bytes read per chunk by the streaming readers.  Memory use of every streaming
#: command is a small multiple of this, independent of the corpus length.
CHUNK_BYTES = 4 << 20

_OPENERS = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}


def expand_inputs(inputs: list[str] | tuple[str, ...]) -> list[str]:
    """Expand corpus arguments into a sorted list of file paths.

    Each input is ``-`` (standard input), a file, a folder (read recursively,
    hidden files skipped, sorted by path) or a glob pattern.

    Raises:
        InputError: an input matches nothing, or a folder holds no files.
    """
    out: list[str] = []
    if not inputs:
        raise InputError("no input given")
    for item in inputs:
        if item == "-":
            out.append("-")
        elif os.path.isdir(item):
            found = []
            for root, dirs, files in os.walk(item):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                found.extend(os.path.join(root, f) for f in sorted(files) if not f.startswith("."))
            if not found:
                raise InputError(f"{item}: folder holds no files")
            out.extend(sorted(found))
        elif os.path.exists(item):
            out.append(item)
        elif glob.has_magic(item):
            matches = sorted(p for p in glob.glob(item, recursive=True) if os.path.isfile(p))
            if not matches:
                raise InputError(f"{item}: pattern matches no file")
            out.extend(matches)
        else:
            raise InputError(f"{item}: no such file or folder")
    return out


_PICKLE_MAGIC = (b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05")


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
        raise InputError(f"a {what} file cannot be read from stdin; give a file")
    if not os.path.exists(path):
        raise InputError(f"{path}: no such file")
    if os.path.isdir(path):
        raise InputError(f"{path}: is a folder, expected a {what} file")
    try:
        with open(path, "rb") as f:
            head = f.read(8)
    except OSError as e:
        raise InputError(f"{path}: cannot open: {e.strerror or e}") from None
    if head[:2] in _PICKLE_MAGIC or head[:1] == b"(":
        raise FormatError(f"{path}: looks like a Python pickle; embedcli never loads pickles")
    return head


def open_binary(path: str) -> IO[bytes]:
    """Open ``path`` for binary reading; ``-`` is stdin; .gz/.bz2/.xz are decompressed.

    Raises:
        InputError: the file cannot be opened.
    """
    if path == "-":
        return sys.stdin.buffer
    ext = os.path.splitext(path)[1].lower()
    try:
        return _OPENERS.get(ext, open)(path, "rb")
    except OSError as e:
        raise InputError(f"{path}: cannot open: {e.strerror or e}") from None


def iter_line_chunks(path: str, chunk_bytes: int | None = None) -> Iterator[tuple[int, bytes, bool]]:
    """Yield ``(first_line_number, data, ends_line)`` blocks of about ``chunk_bytes``.

    ``data`` holds whole lines (terminators kept) when ``ends_line`` is true.  A
    line longer than ``chunk_bytes`` comes in several pieces, cut at white space
    (or else at a UTF-8 character boundary), all but the last with
    ``ends_line=False``: memory stays bounded on a file with no newline at all.
    Line numbers are 1-based.

    Raises:
        InputError: the file cannot be opened.
        DataError: the compressed stream is corrupt.
    """
    chunk_bytes = chunk_bytes or CHUNK_BYTES
    f = open_binary(path)
    lineno = 1
    buf = b""
    try:
        while True:
            try:
                block = f.read(chunk_bytes)
            except (OSError, EOFError, lzma.LZMAError, ValueError) as e:
                raise DataError(f"{path}: cannot read: {e}") from None
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
            elif len(buf) >= chunk_bytes:
                cut = max(buf.rfind(b" "), buf.rfind(b"\t"))
                if cut <= 0:
                    cut = len(buf)
                    while cut > 0 and 0x80 <= buf[cut - 1] < 0xC0 and len(buf) - cut < 4:
                        cut -= 1
                    if cut > 0 and buf[cut - 1] >= 0xC0:
                        cut -= 1  # do not split a multi-byte character
                    if cut <= 0:
                        cut = len(buf)
                data, buf = buf[:cut], buf[cut:]
                yield lineno, data, False
    finally:
        if f is not sys.stdin.buffer:
            f.close()


@contextlib.contextmanager
def spooled(path: str, decompress: bool = False) -> Iterator[str]:
    """A path that can be read several times: stdin (and, with ``decompress``, a
    .gz/.bz2/.xz file) is first copied to a temporary file, removed afterwards.

    Raises:
        InputError: ``path`` does not exist.
    """
    if path != "-" and not os.path.isfile(path):
        raise InputError(f"{path}: no such file")
    if path != "-" and not (decompress and os.path.splitext(path)[1].lower() in _OPENERS):
        yield path
        return
    fd, tmp = tempfile.mkstemp(prefix="embedcli-spool-", suffix=".txt")
    try:
        with os.fdopen(fd, "wb") as out:
            src = open_binary(path)
            shutil.copyfileobj(src, out, 1 << 20)
        yield tmp
    finally:
        os.unlink(tmp)


def check_output_path(path: str) -> None:
    """Fail early (before long work) when ``path`` cannot be written.

    Raises:
        InputError: the folder does not exist or is not writable, or path is a folder.
    """
    if path == "-":
        return
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise InputError(f"{path}: cannot write: is a folder")
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise InputError(f"{path}: cannot write: {folder} is not a folder")
    if not os.path.isdir(folder):
        raise InputError(f"{path}: cannot write: folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise InputError(f"{path}: cannot write: folder {folder} is not writable")


@contextlib.contextmanager
def atomic_path(path: str) -> Iterator[str]:
    """Yield a temporary path in ``path``'s folder; rename it to ``path`` when the block succeeds.

    For libraries that write by file name.  On any exception (including
    KeyboardInterrupt and the SystemExit raised by the CLI's SIGTERM handler)
    the temporary file is removed and ``path`` is left as it was.

    Raises:
        InputError: the folder does not exist or is not writable.
    """
    check_output_path(path)
    folder = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=folder)
    except OSError as e:
        raise InputError(f"{path}: cannot write in {folder}: {e.strerror}") from None
    os.close(fd)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def atomic_output(path: str, mode: str = "wb", encoding: str = "utf-8") -> Iterator[IO]:
    """Open ``path`` for writing atomically (see :func:`atomic_path`); ``-`` writes to stdout (not atomic).

    Raises:
        InputError: the folder does not exist or is not writable.
    """
    if path == "-":
        stream = sys.stdout.buffer if "b" in mode else sys.stdout
        yield stream
        stream.flush()
        return
    with atomic_path(path) as tmp:
        kwargs = {} if "b" in mode else {"encoding": encoding, "newline": "\n"}
        with open(tmp, mode, **kwargs) as f:
            yield f


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


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

    def update(self, done: float, total: float | None = None, extra: str = "") -> None:
        if self.quiet:
            return
        now = time.perf_counter()
        interval = 0.2 if self.tty else self.every
        if now - self.last < interval:
            return
        self.last = now
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
            msg += ", " + extra
        if self.tty:
            sys.stderr.write("\r\x1b[K" + msg)
        else:
            sys.stderr.write(msg + "\n")
        sys.stderr.flush()
        self._shown = True

    def close(self) -> None:
        if not self.quiet and self._shown and self.tty:
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
