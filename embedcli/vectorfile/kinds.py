"""What a file is: embedcli's guess from a sidecar or the first 64 kB, and ``embedcli info``'s description."""

from __future__ import annotations

from embedcli.errors import FormatError
from embedcli.fileio import read_head
from embedcli.npzfile import NpzReader


def sniff_kind(path: str, sample: bytes | None = None) -> str:
    """A guess of what an embedcli-related file is, from its sidecar or its first 64 kB:
    ``matrix``, ``vectors``, ``fasttext-model``, ``vocabulary``, ``edges`` (a graph edge list with integer
    nodes), ``projector-vectors`` (tab-separated numbers, no keys), ``phrases`` (a phrase table), ``tokens``,
    ``sidecar`` or ``unknown``."""
    from embedcli.errors import InputError
    from embedcli.provenance import read_sidecar
    from embedcli.vectorfile import FASTTEXT_MAGIC, read_sample

    try:
        doc = read_sidecar(path)
    except FormatError:
        doc = None
    if doc and doc.get("kind"):
        return str(doc["kind"])
    if sample is None:
        try:
            sample = read_sample(path)
        except (FormatError, InputError, OSError, EOFError):
            return "unknown"
    if sample.startswith(b"#embedcli-phrases "):
        return "phrases"
    kind, lines = _sample_kind(sample, FASTTEXT_MAGIC)
    if kind is not None:
        return kind
    if not lines:
        return "unknown"
    rows = [ln.split() for ln in lines]
    if all(2 <= len(r) <= 3 and r[0].lstrip("-").isdigit() and r[1].lstrip("-").isdigit() for r in rows):
        if len(rows) == 1 and len(rows[0]) == 2:
            return "unknown"  # one 'N D' line: as much an empty model's header (gensim writes '0 5') as an edge
        return "edges"  # 'u v [weight]': a graph edge list with integer node names
    cells = [ln.split("\t") for ln in lines]
    if all(len(c) > 1 and len(c) == len(cells[0]) and all(map(_is_number, c)) for c in cells):
        return "projector-vectors"  # numbers only, tab-separated: export's vectors.tsv
    numeric = [sum(map(_is_number, r[1:])) / max(len(r) - 1, 1) for r in map(_vector_row, lines)]
    if sum(n > 0.9 for n in numeric) >= 0.9 * len(rows):
        return "vectors"
    return "tokens"


def _vector_row(line: str) -> list[str]:
    """A text vectors row as the readers split it: the word ends at the first ASCII space (it may
    hold other white space, as some of fastText's words do), the values are split on any."""
    word, _, rest = line.strip(" \t\r").partition(" ")
    return [word, *rest.split()]


def _is_number(x: str) -> bool:
    try:
        float(x)
        return True
    except ValueError:
        return False


def _sample_kind(sample: bytes, fasttext_magic: int) -> tuple[str | None, list[str]]:
    """The kinds a file's first bytes show for certain (an npz matrix or vectors, a fastText model,
    binary word2vec, a sidecar, a vocabulary) or None, and the sample's non-blank whole lines."""
    if sample.startswith(b"PK"):
        return ("matrix" if b"embedcli-matrix" in sample else "vectors"), []
    if len(sample) >= 4 and int.from_bytes(sample[:4], "little") == fasttext_magic:
        return "fasttext-model", []
    try:
        text = sample.decode("utf-8")
    except UnicodeDecodeError as e:
        text = sample[: e.start].decode("utf-8")
        if e.start < len(sample) - 4:
            return "vectors", []  # binary word2vec
    lines = [ln for ln in text.split("\n")[:200] if ln.strip()]
    if len(lines) > 1 and text.lstrip().startswith("{") and '"embedcli_version"' in text:
        return "sidecar", []
    if len(lines) > 1:
        lines = lines[:-1]  # the last line of a sample may be cut
    if lines and all(len(ln.split("\t")) == 2 and ln.split("\t")[1].strip().isdigit() for ln in lines):
        return "vocabulary", lines
    return None, lines


def _refuse_zeros(path: str, head: bytes) -> None:
    if head and not head.strip(b"\0"):
        raise FormatError(f"{path}: starts with 64 kB of zero bytes: no embedcli file (a device?)")


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
    from embedcli.vectorfile import is_stream, read_vectors, spooled_stream

    if path == "-" or is_stream(path):  # stdin, a named pipe or <(...): described from a copy
        import sys

        src = getattr(sys.stdin, "buffer", None) if path == "-" else None
        if path == "-" and (src is None or sys.stdin.isatty()):
            from embedcli.errors import InputError

            raise InputError("'-': pipe a file to standard input, or give its path")
        with spooled_stream(path if path != "-" else "standard input", _refuse_zeros, src) as tmp:
            out = describe(tmp)
        where = "standard input" if path == "-" else f"a pipe ({path})"
        out["note"] = f"read from {where}; " + out.get("note", "no sidecar metadata: a stream has none")
        return out
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
    note = "no embedcli metadata: not written by embedcli (or its .meta.json was removed)"
    kind = sniff_kind(path)
    if kind in ("tokens", "vocabulary", "sidecar", "edges", "projector-vectors", "projector-metadata", "phrases"):
        return {"kind": kind, "note": note if kind != "sidecar" else "provenance of " + path[: -len(".meta.json")]}
    d = read_vectors(path)
    out = {"kind": "vectors", "format": d.meta.get("source_format"), "shape": [len(d.words), int(d.vectors.shape[1])],
           "note": note}
    out.update({k: d.meta[k] for k in ("minn", "maxn", "bucket") if k in d.meta})
    return out




#: what a tokens-reading command is given by mistake, and what to give it instead
_NOT_TOKENS = {
    "vocabulary": "a vocabulary (word<TAB>count per line); give the tokens file it was counted from",
    "vectors": "a vectors file; give a tokens file (one document per line, e.g. from 'embedcli tokenize')",
    "words": "a vectors file; give a tokens file (one document per line, e.g. from 'embedcli tokenize')",
    "documents": "a document-vectors file; give a tokens file (one document per line)",
    "nodes": "a node-vectors file; give a tokens file (one document per line)",
    "matrix": "a matrix (embedcli cooccur/termdoc); give a tokens file (one document per line)",
    "fasttext-model": "a fastText model; give a tokens file (one document per line)",
    "sidecar": "a .meta.json provenance sidecar; give the tokens file next to it",
    "plot": "a plot; give a tokens file (one document per line)",
    "projector-vectors": "export's projector vectors (numbers only); give a tokens file (one document per line)",
    "projector-metadata": "export's projector metadata; give a tokens file (one document per line)",
    "phrases": "a phrase table (phrases --phrases-output); give it with 'phrases --apply', and a tokens file here",
}


#: What each kind of :func:`sniff_kind` is called in a message.
_KIND_NAMES = {"tokens": "a tokens file", "vocabulary": "a vocabulary (word<TAB>count)", "vectors": "a vectors file",
               "words": "a vectors file", "documents": "a document-vectors file", "nodes": "a node-vectors file",
               "matrix": "a count matrix (embedcli cooccur/termdoc)", "fasttext-model": "a fastText model",
               "sidecar": "a .meta.json provenance sidecar", "edges": "a graph edge list", "plot": "a plot",
               "projector-vectors": "export's projector vectors", "projector-metadata": "export's projector metadata",
               "phrases": "a phrase table (phrases --phrases-output)"}


def other_kind_error(path: str, expected: str, expected_kind: str):
    """The :class:`~embedcli.errors.WrongKindError` for ``path`` when it plainly is another kind of
    file than ``expected_kind`` (``expected``: what the command wanted, for the message), or None.
    Called after a reader failed, to say why in user terms -- only on strong signs (its valid
    ``.meta.json`` sidecar; an embedcli ``.npz``; a fastText model; a word2vec header with a row to
    match, or word-and-decimals rows; ``word<TAB>count`` on every line), so that a file that is
    merely malformed keeps the reader's precise message."""
    from embedcli.errors import InputError, WrongKindError
    from embedcli.provenance import read_sidecar, sidecar_status
    from embedcli.vectorfile import FASTTEXT_MAGIC, read_sample

    try:
        doc = read_sidecar(path)
    except FormatError:
        doc = None
    if doc and doc.get("kind") and sidecar_status(path, doc, check_hash=False) == "ok":
        kind = str(doc["kind"])
    else:
        try:
            sample = read_sample(path)
        except (OSError, EOFError, InputError, FormatError):
            return None
        kind = _sniff_not_tokens(sample, FASTTEXT_MAGIC)
        if kind in ("vectors", "matrix") and sample.startswith(b"PK") and b"embedcli-" not in sample[:4096]:
            kind = None  # a zip or .npz that embedcli did not write
    if kind is None or kind == expected_kind or kind not in _KIND_NAMES:
        return None
    return WrongKindError(f"{path}: this looks like {_KIND_NAMES[kind]}, not {expected}")


def check_tokens_input(path: str) -> None:
    """Refuse, before any work, a tokens argument that is plainly something else: a folder, or a
    file that its ``.meta.json`` sidecar or its first 64 kB show to be a vocabulary, vectors, a
    matrix, a fastText model or a sidecar.  Only strong signs count (a ``word<TAB>count`` on every
    sampled line; a word2vec ``N D`` header followed by a word and ``D`` numbers; word + decimal
    numbers on every line), so a corpus of numbers (random walks over integer node names) is
    still tokens.  stdin is checked from the bytes already waiting (peeked, not consumed); URLs
    are not checked.

    Raises:
        InputError: the path is missing, a folder, or one of the kinds above.
    """
    import os

    from embedcli.errors import InputError
    from embedcli.fileio import is_url, not_a_file
    from embedcli.provenance import read_sidecar, sidecar_status
    from embedcli.vectorfile import FASTTEXT_MAGIC, read_sample

    if path == "-":
        _check_stdin_tokens()
        return
    if is_url(path):
        return
    if not os.path.isfile(path):
        raise not_a_file(path, "tokens")
    try:
        doc = read_sidecar(path)
    except FormatError:
        doc = None
    if doc and sidecar_status(path, doc, check_hash=False) != "ok":
        doc = None  # a sidecar left from an earlier file of this name (another size): not evidence
    kind = str(doc.get("kind")) if doc and doc.get("kind") else None
    if kind is None:
        try:
            sample = read_sample(path)
        except (OSError, EOFError, InputError, FormatError):
            return  # the reader itself reports what is wrong
        kind = _sniff_not_tokens(sample, FASTTEXT_MAGIC)
    if kind in _NOT_TOKENS:
        raise InputError(f"{path}: this is {_NOT_TOKENS[kind]}")


def _check_stdin_tokens() -> None:
    """:func:`check_tokens_input` for ``-``: sniff what is waiting on standard input without
    consuming it (``peek``; nothing when stdin cannot peek, e.g. a test's in-memory stream)."""
    import sys

    from embedcli.errors import InputError
    from embedcli.vectorfile import FASTTEXT_MAGIC

    peek = getattr(getattr(sys.stdin, "buffer", None), "peek", None)
    if peek is None or sys.stdin.isatty():
        return
    try:
        sample = peek(65536)[:65536]
    except (OSError, ValueError):
        return
    kind = _sniff_not_tokens(sample, FASTTEXT_MAGIC)
    if kind in _NOT_TOKENS:
        raise InputError(f"standard input: this is {_NOT_TOKENS[kind]}")


def _sniff_not_tokens(sample: bytes, fasttext_magic: int) -> str | None:
    """:func:`_sample_kind`, plus text vectors by strong signs only: a word2vec ``N D`` header then
    a word and ``D`` numbers, or a word and decimal numbers on every line (GloVe)."""
    import re

    if sample.startswith(b"#embedcli-phrases "):
        return "phrases"
    kind, lines = _sample_kind(sample, fasttext_magic)
    if kind == "vectors" and not sample.startswith(b"PK") and not re.match(rb"\d+ \d+\r?\n", sample):
        return None  # undecodable text without a binary word2vec header: the reader names the bad line
    if kind is not None or not lines:
        return kind
    head = lines[0].split()
    if len(lines) > 1 and len(head) == 2 and all(x.isascii() and x.isdigit() for x in head):  # word2vec text header
        second = _vector_row(lines[1])
        if len(second) == int(head[1]) + 1 and all(map(_is_number, second[1:])):
            return "vectors"
    if all(len(r) > 2 and all(map(_is_number, r[1:])) and any("." in x or "e" in x for x in r[1:])
           for r in map(_vector_row, lines)):
        return "vectors"  # GloVe text: word and decimals, no header
    return None
