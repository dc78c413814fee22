"""Writing outputs: atomically (temporary file + rename, with the sidecar committed alongside),
compressed by name (.gz/.bz2/.xz, reproducibly), in place for devices and pipes, never over an input."""

from __future__ import annotations

import bz2
import contextlib
import gzip
import io
import lzma
import os
import sys
import tempfile
from typing import IO, Iterator

from embedcli.errors import InputError


#: exit codes of signals received by the CLI (set by its handler; see :mod:`embedcli.cli`). A
#: non-empty list stops every later commit of an output, even if the handler's SystemExit was
#: swallowed by code that ignores exceptions.
PENDING_EXIT: list[int] = []


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


#: Output name suffixes that embedcli compresses by (and reads back).
COMPRESSED_SUFFIXES = (".gz", ".bz2", ".xz")


def compression_of(path: str) -> str | None:
    """``.gz``, ``.bz2`` or ``.xz`` when ``path`` names a compressed file, else None."""
    low = path.lower()
    return next((s for s in COMPRESSED_SUFFIXES if low.endswith(s)), None)


def refuse_compressed(path: str, what: str) -> None:
    """Refuse a compression suffix on a format that cannot be compressed (memory-mapped or read by name).

    Raises:
        InputError: ``path`` ends with .gz/.bz2/.xz.
    """
    ext = compression_of(path)
    if ext:
        raise InputError(f"{path}: {what} files cannot be compressed ({ext}); drop the {ext} suffix")


def refuse_stdout(path: str, what: str) -> None:
    """Refuse ``-`` (stdout) and named pipes for outputs that need a seekable file.

    Raises:
        InputError: ``path`` is ``-`` or a FIFO.
    """
    import stat

    if path == "-":
        raise InputError(f"a {what} cannot be written to stdout; give a file name with -o")
    try:
        if stat.S_ISFIFO(os.stat(path).st_mode):
            raise InputError(f"{path}: a {what} cannot be written to a named pipe; give a file name")
    except OSError:
        pass


def _same_file(a: str, b: str) -> bool:
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def check_distinct(inputs, outputs) -> None:
    """Refuse a run whose output would overwrite one of its inputs or another of its outputs.

    ``inputs`` and ``outputs`` are paths (``-`` and None are ignored); devices
    such as ``/dev/null`` may repeat.

    Raises:
        InputError: naming the two clashing paths.
    """
    outs = [p for p in outputs if p and p != "-"]
    ins = [p for p in inputs if p and p != "-"]
    for i, out in enumerate(outs):
        if _write_through(out):
            continue
        for src in ins:
            if _same_file(out, src):
                raise InputError(f"{out}: is also an input of this run ({src}); refusing to overwrite it")
            if _same_file(out, src + ".meta.json"):  # the input's provenance: the input would not read again
                raise InputError(f"{out}: is the .meta.json sidecar of the input {src}; refusing to overwrite it")
            if os.path.exists(src) and _same_file(out + ".meta.json", src):  # its provenance would replace the input
                raise InputError(f"{src}: is an input of this run and would be replaced by the .meta.json sidecar "
                                 f"of the output {out}; give another output name")
        for other in outs[i + 1:]:
            if _same_file(out, other):
                raise InputError(f"{out}: is given for two outputs of this run ({other}); give distinct names")


def _write_through(path: str) -> bool:
    """True for targets that must be written in place, not replaced: devices, pipes, /dev and /proc entries."""
    real = os.path.realpath(path)
    if real.startswith(("/dev/", "/proc/")):
        return True
    return os.path.exists(real) and not os.path.isfile(real)


def _check_name_fits(path: str) -> None:
    """Refuse a name whose sidecar (``PATH.meta.json``) or temporary name would be too long for the folder."""
    folder = os.path.dirname(os.path.abspath(path)) or "."
    try:
        limit = os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):
        limit = 255
    # the longest name written beside it: NAME.meta.json (temporary names hold at most 100 bytes of NAME)
    if len(os.path.basename(path).encode("utf-8", "surrogateescape")) + len(".meta.json") > limit:
        raise InputError(f"{path}: file name too long (with its .meta.json and temporary names it would exceed "
                         f"{limit} bytes)")


def host_tag() -> str:
    """A short hash of the host name and PID namespace: pids in temporary names are this host's."""
    import hashlib
    import socket

    try:  # processes in another PID namespace (a container) share the host name, not the pids
        ns = str(os.stat("/proc/self/ns/pid").st_ino)
    except OSError:
        ns = ""
    return hashlib.sha1((socket.gethostname() + "/" + ns).encode("utf-8", "surrogateescape")).hexdigest()[:6]


def temp_prefix(target: str) -> str:
    """The prefix of this process's temporary files beside ``target``: ``.NAME.HOST-PID.``, where
    HOST is :func:`host_tag`, so that a later run can tell a leftover of a killed process
    (:func:`remove_leftovers`) from a file another run is writing."""
    # at most 100 bytes of NAME (cut between characters): the temporary names fit any folder's limit
    name = os.path.basename(target).encode("utf-8", "surrogateescape")[:100].decode("utf-8", "ignore")
    return f".{name}.{host_tag()}-{os.getpid()}."


_SWEPT: list = []


def scratch_prefix(kind: str) -> str:
    """The prefix of a scratch file or folder in the temporary folder (``$TMPDIR``):
    ``embedcli-KIND.HOST-PID.`` (a decompressed corpus, walks, ...).  The first call in a process
    removes the scratch files of this host's embedcli runs that no longer exist: a run killed by
    SIGKILL or the out-of-memory killer cannot remove its own, and a decompressed corpus can be
    gigabytes.  A live run's files, another host's and untagged ones are kept."""
    import re
    import shutil

    mine = host_tag()
    if not _SWEPT:
        _SWEPT.append(True)
        folder = tempfile.gettempdir()
        try:
            names = os.listdir(folder)
        except OSError:
            names = []
        for name in names:
            m = re.match(r"embedcli-[a-z]+\.([0-9a-f]{6})-(\d+)\.", name)
            if m and m.group(1) == mine and int(m.group(2)) != os.getpid() and not alive(int(m.group(2))):
                path = os.path.join(folder, name)
                with contextlib.suppress(OSError):
                    if os.path.isdir(path) and not os.path.islink(path):
                        shutil.rmtree(path, ignore_errors=True)
                    else:
                        os.unlink(path)
    return f"embedcli-{kind}.{mine}-{os.getpid()}."


def remove_leftovers(target: str) -> list[str]:
    """Remove the temporary files beside ``target`` left by writers on this host that no longer run
    (a run killed by SIGKILL or the out-of-memory killer cannot remove its own); returns their paths.

    A file is removed only when its name carries this host's tag and the pid of a process that does
    not exist; a file of a live process, of another host (a shared folder) or of an older embedcli
    (no tag) is kept.
    """
    folder = os.path.dirname(target) or "."
    mine = temp_prefix(target)
    stem, host = mine[: mine.rindex(".", 0, -1) + 1], mine.rsplit(".", 2)[1].split("-")[0]
    removed = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    for name in names:
        if not (name.startswith(stem) and name.endswith(".tmp")):
            continue
        tag = name[len(stem):].split(".", 1)[0]
        h, _, pid = tag.partition("-")
        if h != host or not (pid.isascii() and pid.isdigit()) or int(pid) == os.getpid() or alive(int(pid)):
            continue
        with contextlib.suppress(OSError):
            os.unlink(os.path.join(folder, name))
            removed.append(os.path.join(folder, name))
    return removed


def alive(pid: int) -> bool:
    """Whether a process ``pid`` exists on this host (one we may not signal counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


@contextlib.contextmanager
def atomic_path(path: str, sidecar: dict | None = None) -> Iterator[str]:
    """Yield a temporary path in ``path``'s folder; rename it to ``path`` when the block succeeds.

    For libraries that write by file name.  On any exception (including
    KeyboardInterrupt and the SystemExit raised by the CLI's signal handlers)
    the temporary file is removed and ``path`` is left as it was.  A symlink
    is followed (its target is replaced, the link kept); an existing file's
    permission bits are kept.  When ``sidecar`` is non-empty at the end of the
    block (``kind``, ``provenance`` and extra keys), ``PATH.meta.json`` is
    written for the new file and committed with it: data first, then sidecar,
    both prepared before either is renamed.  Temporary files beside ``path`` left by a killed
    writer (:func:`remove_leftovers`) are removed first.

    Raises:
        InputError: the folder does not exist or is not writable, or the name is too long.
    """
    check_output_path(path)
    _check_name_fits(path)
    target = os.path.realpath(path)
    folder = os.path.dirname(target)
    remove_leftovers(target)
    try:
        fd, tmp = tempfile.mkstemp(prefix=temp_prefix(target), suffix=".tmp", dir=folder)
    except OSError as e:
        raise InputError(f"{path}: cannot write in {folder}: {e.strerror}") from None
    os.close(fd)
    side_tmp = None
    try:
        yield tmp
        try:
            mode = os.stat(target).st_mode & 0o7777
        except OSError:
            mode = 0o666 & ~_umask()
        os.chmod(tmp, mode)
        if sidecar:
            from embedcli.provenance import sidecar_tmp_for

            side_tmp = sidecar_tmp_for(tmp, target, sidecar)
        if PENDING_EXIT:  # a signal's SystemExit was swallowed somewhere (e.g. a fork handler): never commit
            raise SystemExit(PENDING_EXIT[0])
        os.replace(tmp, target)
        if side_tmp:
            from embedcli.provenance import sidecar_path

            os.replace(side_tmp, sidecar_path(target))
    except BaseException:
        for t in (tmp, side_tmp):
            if t:
                with contextlib.suppress(OSError):
                    os.unlink(t)
        raise


class _WriteAll(io.RawIOBase):
    """A binary stream over a pipe, terminal or device that writes every byte or raises.

    ``BufferedWriter.write`` of a large buffer to a pipe whose reader has gone can
    return a short count without an error (the rest is silently lost); this loops
    until all is written, so the closed pipe surfaces as ``BrokenPipeError``.
    """

    def __init__(self, raw):
        self.raw = raw

    def writable(self) -> bool:
        return True

    def write(self, b) -> int:
        view = memoryview(b).cast("B")
        total = len(view)
        while view:
            n = self.raw.write(view)
            if not n:
                raise BrokenPipeError(32, "Broken pipe")
            view = view[n:]
        return total

    def flush(self) -> None:
        self.raw.flush()

    def fileno(self) -> int:
        return self.raw.fileno()

    def isatty(self) -> bool:
        return self.raw.isatty()

    @property
    def name(self):
        return self.raw.name


def write_all_stdout(stdout):
    """``stdout`` (a text stream over a ``BufferedWriter`` or, with ``PYTHONUNBUFFERED``/``-u``, a
    ``FileIO``, as Python's own) again, over :class:`_WriteAll`: ``print`` and ``click.echo`` of a
    large string to a pipe whose reader leaves in the middle of it raise ``BrokenPipeError``
    instead of losing the rest unnoticed.  (Unbuffered, the text layer ignores a short write's
    count: ``neighbors -k 20000 | head -1`` wrote 73,728 of 508,596 bytes and exited 0.)  Any
    other stream is returned as it is."""
    raw = getattr(stdout, "buffer", None)
    if not isinstance(stdout, io.TextIOWrapper) or type(raw) not in (io.BufferedWriter, io.FileIO):
        return stdout
    stdout.flush()
    return io.TextIOWrapper(_WriteAll(raw), encoding=stdout.encoding, errors=stdout.errors, newline="\n",
                            line_buffering=stdout.line_buffering, write_through=type(raw) is io.FileIO)


def _compressed_writer(raw, ext: str | None, name: str):
    if ext == ".gz":
        # no file name and time 0 in the header: identical runs give identical bytes
        return gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0)
    if ext == ".bz2":
        return bz2.BZ2File(raw, "wb")
    if ext == ".xz":
        return lzma.LZMAFile(raw, "wb")
    return raw


@contextlib.contextmanager
def atomic_output(path: str, mode: str = "wb", encoding: str = "utf-8", sidecar: dict | None = None) -> Iterator[IO]:
    """Open ``path`` for writing atomically (see :func:`atomic_path`); compressed when the name ends
    with .gz/.bz2/.xz (reproducibly: no name or time in a gzip header).

    ``-`` writes to stdout; devices, named pipes and ``/dev/std*`` are written in
    place (not replaced, no sidecar).  ``sidecar`` as in :func:`atomic_path`.

    Raises:
        InputError: the folder does not exist or is not writable; stdout is closed.
    """
    text = "b" not in mode
    ext = compression_of(path) if path != "-" else None
    if path == "-" or _write_through(path):
        if path == "-":
            if sys.stdout is None or not hasattr(sys.stdout, "buffer"):
                raise InputError("standard output is closed; give a file with -o")
            raw, close = sys.stdout.buffer, False
        else:
            try:
                raw, close = open(path, "wb"), True
            except OSError as e:
                raise InputError(f"{path}: cannot write: {e.strerror}") from None
        raw = raw if isinstance(raw, _WriteAll) else _WriteAll(raw)
        try:
            with naming_write_errors("standard output" if path == "-" else path):
                comp = _compressed_writer(raw, ext, path)
                f = io.TextIOWrapper(comp, encoding=encoding, newline="\n", write_through=False) if text else comp
                yield f
                f.flush()
                if f is not raw:
                    if text:
                        f.detach()
                    if comp is not raw:
                        comp.close()
                raw.flush()
        finally:
            if close:
                with contextlib.suppress(OSError):
                    raw.raw.close()
        return
    with naming_write_errors(path), atomic_path(path, sidecar) as tmp:
        with open(tmp, "wb") as raw:
            comp = _compressed_writer(raw, ext, path)
            f = io.TextIOWrapper(comp, encoding=encoding, newline="\n") if text else comp
            yield f
            if text:
                f.flush()
                f.detach()
            if comp is not raw:
                comp.close()


@contextlib.contextmanager
def naming_write_errors(name: str):
    """A full disk or a failing device while writing: a one-line error naming the output (exit 2)."""
    import errno

    try:
        yield
    except OSError as e:
        if e.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO, errno.EROFS):
            raise InputError(f"{name}: cannot write: {e.strerror}") from None
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def check_output_folder(path: str) -> None:
    """Fail early (before long work) when :func:`make_folder` could not create ``path`` or it cannot be written.

    Raises:
        InputError: ``path`` exists and is not a folder, or its nearest existing ancestor is not a
            writable folder.
    """
    if os.path.exists(path) and not os.path.isdir(path):
        raise InputError(f"{path}: exists and is not a folder")
    p = os.path.abspath(path)
    while not os.path.exists(p):
        p = os.path.dirname(p)
    if not os.path.isdir(p) or not os.access(p, os.W_OK):
        raise InputError(f"{path}: cannot write: {p} is not a writable folder")


def make_folder(path: str) -> None:
    """Create the output folder ``path`` (and its parents) unless it exists.

    Raises:
        InputError: ``path`` exists and is not a folder, or cannot be created.
    """
    if os.path.exists(path) and not os.path.isdir(path):
        raise InputError(f"{path}: exists and is not a folder")
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as e:
        raise InputError(f"{path}: cannot create: {e.strerror}") from None
