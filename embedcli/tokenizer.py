"""Tokenizing a corpus into one document per line, tokens separated by single spaces.

This output is the "LineSentence" format that gensim's ``LineSentence``/
``corpus_file`` and the word2vec and GloVe C tools read.  Reading streams in
blocks of :data:`embedcli.io.CHUNK_BYTES`, so memory does not grow with the
corpus.
"""

from __future__ import annotations

import codecs
import re
import threading
from collections import Counter, deque
from dataclasses import dataclass, field
from itertools import chain
from typing import IO

from embedcli.arguments import entry_point
from embedcli.errors import DataError, InputError, ParameterError
from embedcli.fileio import Progress, find_inputs, iter_line_chunks
from embedcli.parallel import ProcessBlocks
from embedcli.provenance import corpus_records, stage_record
from embedcli.linetokens import (  # noqa: F401 -- re-exported: embedcli.tokenizer.load_stopwords etc.
    MAX_STOPWORDS_BYTES,
    REGEX_SECONDS,
    _times_out,
    line_tokenizer,
    load_stopwords,
    make_line_tokenizer,
    prepare_text,
    stopwords_files,
    stopwords_record,
)
from embedcli.specs import DEFAULT_TOKEN_PATTERN, TokenizeSpec, cores

# The default token pattern (specs.DEFAULT_TOKEN_PATTERN) is maximal runs of Unicode
# letters, digits and combining marks (``\w`` without the underscore, plus the marks that Python's
# ``re`` leaves out of ``\w``: Devanagari vowel signs, Arabic vowel marks, an accent typed as its
# own character): "Don't" gives ``don`` and ``t``.


@dataclass
class TokenizeStats:
    """What :func:`tokenize` read and wrote, and the provenance record of the run."""

    n_files: int = 0
    n_docs: int = 0
    n_tokens: int = 0
    n_bytes: int = 0
    provenance: dict | None = None
    skipped: list = field(default_factory=list)  # (path, reason) of inputs left out
    undecodable: int = 0  # bytes that --errors replace/ignore replaced or dropped

    def as_dict(self) -> dict:
        out = {"files": self.n_files, "documents": self.n_docs, "tokens": self.n_tokens}
        return {**out, "undecodable_bytes": self.undecodable} if self.undecodable else out


# --errors replace/ignore as Python's handlers, counting the bytes they replace or drop (per thread:
# a Dask worker tokenizes several blocks at once), so a corpus read in the wrong encoding is noticed
_UNDECODABLE = threading.local()


def _counting(replacement: str):
    def handler(e: UnicodeDecodeError) -> tuple[str, int]:
        _UNDECODABLE.n = getattr(_UNDECODABLE, "n", 0) + (e.end - e.start)
        return replacement, e.end
    return handler


codecs.register_error("embedcli-replace", _counting("\ufffd"))
codecs.register_error("embedcli-ignore", _counting(""))


#: Text per block sent to a worker: small enough that both cores stay busy on a corpus of a few blocks.
TOKENIZE_CHUNK_BYTES = 1 << 20
#: Longest line read whole with --id-column/--text-column (other long lines come in pieces): the
#: worker holding it needs about 20 times its size (a 16 MB line: about 300 MB).
TSV_MAX_LINE = 16 << 20

def _check_encoding(encoding: str) -> None:
    try:
        info = codecs.lookup(encoding)
    except LookupError:
        raise ParameterError("encoding", encoding, "unknown encoding") from None
    if not getattr(info, "_is_text_encoding", True):
        raise ParameterError("encoding", encoding, "not a text encoding")
    try:  # utf-8-sig writes a byte-order mark first, and is read as UTF-8 (the mark dropped)
        ok = info.name == "utf-8-sig" or "\n".encode(encoding) == b"\n" and " ".encode(encoding) == b" "
    except Exception:  # codecs may raise anything on encode
        ok = False
    if not ok:
        raise ParameterError("encoding", encoding, "only ASCII-compatible encodings are supported")
    if info.name in ("utf-7", "hz") or info.name.startswith("iso2022"):
        raise ParameterError("encoding", encoding, "a stateful encoding (escape sequences switch character sets, "
                             "so blocks cannot be decoded apart): convert it to UTF-8 first, e.g. iconv -t UTF-8")


def decode_block(data: bytes, path: str, lineno: int, encoding: str, errors: str, raw_text: bool = True) -> str:
    """Decode a block of lines; a failure names the file and line.

    ``raw_text`` is False for embedcli's own UTF-8 files (tokens, vocabulary): the hint then says
    to (re-)tokenize the text rather than naming tokenize's options.

    Raises:
        DataError: NUL bytes (a binary file) or undecodable bytes under ``errors="strict"``.
    """
    if b"\x00" in data:
        line = lineno + data[: data.index(b"\x00")].count(b"\n")
        hint = " (UTF-16 or UTF-32 text? convert it to UTF-8 first: iconv -f UTF-16 -t UTF-8)" if raw_text else ""
        raise DataError(f"{path}:{line}: NUL byte: this looks like a binary file, not text{hint}")
    try:
        return data.decode(encoding, errors)
    except UnicodeDecodeError as e:
        line = lineno + data[: e.start].count(b"\n")
        raise DataError(
            f"{path}:{line}: cannot decode byte 0x{data[e.start]:02x} as {encoding} "
            + ("(use --errors replace/ignore, or --encoding)" if raw_text else
               "(tokens and vocabulary files are UTF-8: make them with embedcli tokenize, whose "
               "--encoding/--errors read other text)")
        ) from None


@entry_point
def tokenize(
    inputs: list[str] | tuple[str, ...],
    out: IO[bytes],
    spec: TokenizeSpec | None = None,
    *,
    counter: Counter | None = None,
    progress: Progress | None = None,
    ids_out: IO[bytes] | None = None,
    client=None,
) -> TokenizeStats:
    """Tokenize files into ``out`` (a binary stream, or a path: written atomically with its
    ``.meta.json`` provenance sidecar, as the command line does): UTF-8, one document per line.

    Args:
        inputs: files, folders (recursive), glob patterns or ``-`` for stdin (one path alone may be
            given as a string); ``.gz``/``.bz2``/``.xz`` are decompressed.
        spec: the :class:`~embedcli.specs.TokenizeSpec` (lowercasing, token
            pattern, min length, stop words, what a document is -- ``line``,
            ``paragraph`` or ``file`` --, encoding and error policy, worker
            processes).  Documents with no token are not written.  The output
            does not depend on ``workers``.
        counter: if given, updated with the count of every token written (so a
            pipeline gets its vocabulary without reading the output again).
        ids_out: if given, receives one id per document written, one per line:
            the ``id_column`` field of its line, else ``PATH:LINE`` (``doc`` line; the
            first line for ``paragraph``) or ``PATH`` (``doc`` file).
        client: a ``dask.distributed`` client: blocks are tokenized as tasks on its workers
            (:class:`embedcli.distributed.DaskBlocks`; this process reads and writes; the same output).

    Returns:
        :class:`TokenizeStats`, with ``provenance`` (the stage record).

    Raises:
        ParameterError: a bad pattern or encoding; ``out`` a text stream.
        InputError: a missing input or stop-word file.
        DataError: binary or undecodable input, or no token in the whole corpus.
    """
    import io
    import os

    spec = spec or TokenizeSpec()
    if isinstance(inputs, (str, os.PathLike)):
        inputs = [os.fspath(inputs)]
    if isinstance(out, str):
        from embedcli.fileio import atomic_output

        side: dict = {}
        with atomic_output(out, "wb", sidecar=side) as f:
            st = tokenize(inputs, f, spec, counter=counter, progress=progress, ids_out=ids_out, client=client)
            side.update(kind="tokens", provenance=st.provenance)
        return st
    if isinstance(out, io.TextIOBase):
        raise ParameterError("out", getattr(out, "name", "stream"), "must be a binary stream (open(path, 'wb'))")
    doc, encoding, errors = spec.doc, spec.encoding, spec.errors
    _check_encoding(encoding)
    stopwords = load_stopwords(spec.stopwords, normal_form=spec.normal_form)
    options = (spec.lowercase, spec.token_pattern, spec.min_length, stopwords, spec.normal_form)
    fields = (spec.id_column, spec.text_column, spec.header, ids_out is not None)
    make_line_tokenizer(*options[:4])  # validate the options before any work
    workers = min(spec.workers or 4, cores())
    bom = _BOM.get(encoding.lower().replace("_", "-"))
    timeout = None if spec.token_pattern == DEFAULT_TOKEN_PATTERN else REGEX_SECONDS
    files, skipped_paths = find_inputs(inputs, spec.include, spec.exclude)
    from embedcli.fileio import disk_size

    # progress counts the inputs' bytes as stored (compressed ones too): a percentage and ETA unless
    # an input's size is unknown (stdin)
    sizes = [disk_size(f) for f in files]
    total_bytes = None if None in sizes else sum(sizes)
    read = [0]  # stored bytes of the inputs read so far
    tsv = bool(spec.id_column or spec.text_column)
    max_line = TSV_MAX_LINE if tsv else None  # tab-separated lines are read whole, up to this
    starts = [0]  # stored bytes of the inputs before each one
    for x in sizes:
        starts.append(starts[-1] + (x or 0))
    stats = TokenizeStats(skipped=list(skipped_paths))
    progress = progress or Progress(None)
    spaces = 0  # every output document of n tokens holds n - 1 spaces
    want_counts = counter is not None
    skip = spec.skip_unreadable
    if client is not None:
        from embedcli.distributed import DaskBlocks

        blocks_runner = DaskBlocks(client, _tokenize_block)
    else:
        blocks_runner = ProcessBlocks(_tokenize_block, workers, eager=(total_bytes or 0) > TOKENIZE_CHUNK_BYTES)
    with blocks_runner as runner:
        # Blocks are tokenized in worker processes (in order, a few in flight); this
        # process only stitches documents across block ends and writes.  With
        # skip_unreadable each file's output is staged and written once the whole
        # file was read, so a file failing half-way leaves nothing behind.
        pending: deque = deque()

        def blocks():
            for fi, path in enumerate(files):
                before, at = starts[fi], [0]
                try:
                    first = True
                    for lineno, data, ends_line in iter_line_chunks(path, TOKENIZE_CHUNK_BYTES, stored=at,
                                                                    encoding=encoding, max_line=max_line):
                        if tsv and not ends_line:  # fields are split per line: a piece of one would lose them
                            raise DataError(f"{path}:{lineno}: a line longer than {max_line >> 20} MB; "
                                            "--id-column/--text-column read whole lines", params=("text_column",))
                        read[0] = before + (at[0] if at[0] is not None else 0)
                        if first and bom and data.startswith(bom):  # a UTF-8 byte-order mark is not text
                            data = data[len(bom):]
                        first = False
                        stats.n_bytes += len(data)
                        yield fi, ends_line, runner.submit(data, path, lineno, encoding, errors, options,
                                                           doc == "paragraph", want_counts, timeout, fields), read[0]
                except (DataError, InputError) as e:
                    if not skip:
                        raise
                    yield fi, e, None, read[0]  # the file failed while being read
                yield fi, None, None, read[0]  # end of file

        is_open = False  # the current output document has tokens written
        n_futures = 0
        stage = _Stage(out, counter, skip, ids_out)
        cur_id = ""  # id of the open document
        seen_ids: set[str] = set()  # --id-column ids so far: they must be unique
        failed: dict[int, Exception] = {}
        bad_in: dict[int, int] = {}  # undecodable bytes per file being read
        for item in chain(blocks(), [None]):
            if item is not None:
                pending.append(item)
                n_futures += item[2] is not None
            while pending and (n_futures > runner.in_flight or item is None or pending[0][2] is None):
                fi, ends_line, fut, at_block = pending.popleft()  # at_block: stored bytes read up to this block
                n_futures -= fut is not None
                if fut is None and isinstance(ends_line, Exception):
                    failed.setdefault(fi, ends_line)
                    continue
                if fut is None:  # end of a file: close its last document, commit or drop it
                    stats.undecodable += 0 if fi in failed else bad_in.pop(fi, 0)
                    if fi in failed:
                        stats.skipped.append((files[fi], str(failed[fi])))
                        spaces, stats.n_docs = stage.rollback()
                        is_open = False
                        continue
                    stats.n_files += 1
                    if is_open:
                        stage.write(b"\n", (id_without_space(files[fi]) if doc == "file" else cur_id) + "\n")
                        stats.n_docs += 1
                        is_open = False
                    stage.commit(spaces, stats.n_docs)
                    continue
                if fi in failed:
                    continue
                try:
                    toks, blank, counts, line_ids, bad = fut.result()
                    bad_in[fi] = bad_in.get(fi, 0) + bad  # counted once the file is read whole
                except (DataError, ParameterError) as e:
                    if not skip or isinstance(e, ParameterError):
                        raise
                    failed[fi] = e
                    continue
                last = len(toks) - 1
                out_parts: list[str] = []
                add = out_parts.append
                id_parts: list[str] = []
                n_docs = 0
                for i, t in enumerate(toks):
                    terminated = i < last or ends_line
                    if blank is not None and terminated and blank[i]:
                        if is_open:
                            add("\n")
                            id_parts.append(cur_id + "\n")
                            n_docs += 1
                            is_open = False
                        continue
                    if t:
                        if is_open:
                            add(" ")
                        elif line_ids is not None:
                            cur_id = line_ids[i]
                            if cur_id in seen_ids:
                                why = ("(--id-column) occurs twice; ids must be unique" if spec.id_column else
                                       "occurs twice: is this file given twice?")
                                raise DataError(f"{files[fi]}: document id {cur_id!r} {why}",
                                                params=("id_column",) if spec.id_column else ())
                            seen_ids.add(cur_id)
                        add(t)
                        is_open = True
                    if doc == "line" and terminated and is_open:
                        add("\n")
                        id_parts.append(cur_id + "\n")
                        n_docs += 1
                        is_open = False
                chunk = "".join(out_parts)
                if counts:
                    stage.count(counts)
                spaces += chunk.count(" ")
                stats.n_docs += n_docs
                stats.n_tokens = spaces + stats.n_docs + is_open
                stage.write(chunk.encode("utf-8"), "".join(id_parts) if doc != "file" else "")
                progress.update(at_block if total_bytes is not None else stats.n_bytes, total_bytes,
                                extra=f"{stats.n_tokens:,} tokens")
    stats.n_tokens = spaces + stats.n_docs
    progress.close()
    if stats.n_tokens == 0:
        n = len(files) - sum(1 for f, _ in stats.skipped if f in files)
        where = files[0] if len(files) == 1 else f"{len(files)} inputs"
        hint = (f"; with --id-column {spec.id_column} and no --text-column the text is the other tab-separated fields: "
                "is the file tab-separated?" if spec.id_column and not spec.text_column else "")
        if skip and n == 0:  # nothing was read: say why, not "empty"
            first, why = stats.skipped[0]
            why = why if why.startswith(f"{first}:") else f"{first}: {why}"
            raise DataError(f"{where}: nothing could be read: {len(stats.skipped)} file(s) skipped ({why})")
        raise DataError(f"{where}: no tokens found (empty corpus?)" + (f"; {len(files) - n} file(s) skipped" if skip and n < len(files) else "") + hint)
    inputs = {"corpus": corpus_records([f for f in files if f not in {p for p, _ in stats.skipped}])}
    if stopwords_files(spec.stopwords):  # a file's list, by content: its name and time tell too little
        inputs["stopwords"] = stopwords_record(stopwords)
    stats.provenance = stage_record("tokenize", spec, inputs, stats.as_dict())
    return stats


_BOM = {"utf-8": b"\xef\xbb\xbf", "utf8": b"\xef\xbb\xbf", "utf-8-sig": b"\xef\xbb\xbf"}


class _Stage:
    """Where tokenized text goes: straight to ``out``, or (skip mode) into a per-file spool that is
    copied to ``out`` when the file ends without error, together with its token counts."""

    def __init__(self, out, counter, skip: bool, ids_out=None):
        self.out, self.counter, self.skip, self.ids_out = out, counter, skip, ids_out
        self.buf = None
        self.ids: list[str] = []  # skip mode: the file's document ids, written with its text
        self.counts: Counter = Counter()
        self.saved = (0, 0)

    def write(self, data: bytes, ids: str = "") -> None:
        if not self.skip:
            self.out.write(data)
            if self.ids_out is not None and ids:
                self.ids_out.write(ids.encode("utf-8"))
            return
        if self.buf is None:
            import tempfile

            self.buf = tempfile.SpooledTemporaryFile(max_size=64 << 20)
        self.buf.write(data)
        if self.ids_out is not None and ids:
            self.ids.append(ids)

    def count(self, counts: dict) -> None:
        (self.counts if self.skip else self.counter).update(counts)

    def commit(self, spaces: int, n_docs: int) -> None:
        if self.skip:
            if self.buf is not None:
                import shutil

                self.buf.seek(0)
                shutil.copyfileobj(self.buf, self.out, 1 << 20)
                self.buf.close()
                self.buf = None
            if self.ids_out is not None and self.ids:
                self.ids_out.write("".join(self.ids).encode("utf-8"))
            self.ids = []
            if self.counter is not None:
                self.counter.update(self.counts)
            self.counts = Counter()
        self.saved = (spaces, n_docs)

    def rollback(self) -> tuple[int, int]:
        if self.buf is not None:
            self.buf.close()
            self.buf = None
        self.ids = []
        self.counts = Counter()
        return self.saved


_TOKENIZERS: dict = {}


def _tokenize_block(data: bytes, path: str, lineno: int, encoding: str, errors: str, options: tuple,
                    paragraphs: bool, want_counts: bool, timeout: float | None = None,
                    fields: tuple = (None, None, False, False)):
    """Worker: decode one block and tokenize each line.

    ``fields`` is ``(id_column, text_column, header, want_ids)`` (see TokenizeSpec).
    Returns ``(tokens_per_line, blank_per_line or None, token_counts or None, ids_per_line or None,
    undecodable bytes replaced or dropped)``.

    Raises:
        DataError: undecodable input, or a user token pattern that runs past its time
            budget on a line (catastrophic backtracking).
    """
    if errors != "strict" and codecs.lookup(encoding).name == "utf-8":
        # Python's own handler (a Python callback per bad sequence made decoding 8x slower on
        # French read as UTF-8 from Latin-1); the bytes it replaced or dropped follow from the lengths, as valid UTF-8
        # re-encodes to itself and each U+FFFD it added is 3 bytes
        text = decode_block(data, path, lineno, encoding, errors)
        added = text.count("\ufffd") - data.count(b"\xef\xbf\xbd") if errors == "replace" else 0
        bad = len(data) - len(text.encode("utf-8", "surrogatepass")) + 3 * added
    else:
        _UNDECODABLE.n = 0
        text = decode_block(data, path, lineno, encoding, errors if errors == "strict" else f"embedcli-{errors}")
        bad = _UNDECODABLE.n
    id_col, text_col, header, want_ids = fields
    if not (id_col or text_col):  # the whole block is text: normalized at once
        text, marks = prepare_text(text, options[4], options[1])
    parts = text.split("\n")
    if text.endswith("\n"):
        parts.pop()
    ids = None
    if want_ids and not id_col:
        where = id_without_space(path)
        ids = [f"{where}:{lineno + i}" for i in range(len(parts))]
    if id_col or text_col:  # only the text field is normalized: ids stay as given
        parts, got = _split_fields(parts, id_col, text_col, path, lineno, header and lineno == 1, want_ids)
        if want_ids and id_col:  # (with --text-column alone the ids stay PATH:LINE)
            ids = got
        joined, marks = prepare_text("\n".join(parts), options[4], options[1])
        parts = joined.split("\n") if parts else []
    if header and lineno == 1 and parts:
        parts[0] = ""
    if (options, marks) not in _TOKENIZERS:
        if len(_TOKENIZERS) > 64:  # a text in many scripts: one pattern per set of marks met
            _TOKENIZERS.clear()
        _TOKENIZERS[options, marks] = make_line_tokenizer(*options[:4], timeout=timeout, marks=marks)
    tok, lower_after = _TOKENIZERS[options, marks]
    lists = None
    try:
        if want_counts and hasattr(tok, "tokens"):
            lists = [tok.tokens(p) for p in parts]  # counted as they are (below), not split again
            toks = [" ".join(x) for x in lists]
        else:
            toks = [tok(p) for p in parts]
    except TimeoutError:
        i = next((k for k, p in enumerate(parts) if _times_out(tok, p)), 0)
        raise DataError(f"{path}:{lineno + i}: the token pattern ran for more than {timeout:g} s on this line "
                        "(catastrophic backtracking?); simplify --token-pattern", params=("token_pattern",)) from None
    if lower_after:
        toks = "\n".join(toks).lower().split("\n")  # lower() never adds a newline: lines stay aligned
    blank = [not p.strip() for p in parts] if paragraphs else None
    counts = None
    if lists is not None:
        counts = _token_counts(lists, lower_after)
    elif want_counts:
        counts = dict(Counter(" ".join(toks).split()))
    return toks, blank, counts, ids, bad


def _token_counts(lists: list[list[str]], lower: bool) -> dict:
    """``{token: count}`` of the tokens in ``lists`` (one list per line), lowercased if ``lower``:
    what counting the split of the (lowercased) joined lines gives (same keys and counts, same order
    of first appearance), without splitting the block again (on english-mix, a split and a count
    cost about the same).  Each token is counted as found (in C), then the distinct ones (about a
    tenth as many) are folded to lower case.  Lowercasing a token alone is lowercasing it in the
    text: ``lower()``'s one context rule (a final sigma) looks no further than the letters around
    it, and tokens are cut at white space."""
    found: Counter = Counter()
    for x in lists:
        found.update(x)
    if not lower:
        return dict(found)
    counts: dict = {}
    get = counts.get
    for w, c in found.items():
        w = w.lower()
        counts[w] = get(w, 0) + c
    return counts


_ID_SPACE = re.compile(r"[\s%\udc80-\udcff]")  # and a file name's bytes that are not UTF-8 (surrogate escapes)


def id_without_space(x: str) -> str:
    """A document id as written by ``--ids-output``: each white-space character and ``%``
    percent-encoded (``my docs/a b.txt:3`` -> ``my%20docs/a%20b.txt:3``; a tab is ``%09``, ``%`` is
    ``%25``), as ids are keys in files whose fields white space separates; one-to-one
    (``urllib.parse.unquote`` gives the original back).  A file name's bytes that are not UTF-8
    (``\xff``) are percent-encoded too (``%FF``).  Nothing else is changed."""
    if not _ID_SPACE.search(x):
        return x
    return _ID_SPACE.sub(lambda m: "".join(f"%{b:02X}" for b in m.group().encode("utf-8", "surrogateescape")), x)


def _split_fields(lines: list[str], id_col: int | None, text_col: int | None, path: str = "", lineno: int = 1,
                  skip_first: bool = False, want_ids: bool = False) -> tuple[list[str], list[str]]:
    """Tab-separated lines -> (text of each line, id of each line).

    Raises:
        DataError: a non-blank line without the id or text field, or (``want_ids``) a document
            whose id field is empty (naming file and line).
    """
    texts, ids = [], []
    need = max(id_col or 0, text_col or 0)
    for i, line in enumerate(lines):
        f = line.rstrip("\r").split("\t")
        if len(f) < need and line.strip() and not (skip_first and i == 0):
            which = f"--id-column {id_col}" if id_col and len(f) < id_col else f"--text-column {text_col}"
            raise DataError(f"{path}:{lineno + i}: {len(f)} tab-separated field(s); {which} needs more "
                            "(is the file tab-separated?)", params=("id_column",) if "id" in which else
                            ("text_column",))
        key = id_without_space(f[id_col - 1].strip()) if id_col and len(f) >= id_col else ""
        if want_ids and id_col and not key and line.strip() and not (skip_first and i == 0):
            text = f[text_col - 1] if text_col and len(f) >= text_col else " ".join(f[:id_col - 1] + f[id_col:])
            if text.strip():
                raise DataError(f"{path}:{lineno + i}: empty id in --id-column {id_col} (every document needs one)",
                                params=("id_column",))
        ids.append(key)
        if text_col:
            texts.append(f[text_col - 1] if len(f) >= text_col else "")
        else:
            texts.append(" ".join(x for k, x in enumerate(f, 1) if k != id_col))
    return texts, ids
