"""Collocations (``new york`` -> ``new_york``) through gensim's ``Phrases``: learn them, save them, apply them.

Learning reads the whole corpus; the learned phrases can be written as a *phrase table* and
applied later to other text (new documents to fold into an LSA space, queries), so that new
text is joined exactly as the training text was.

Phrase table (``phrases --phrases-output``), UTF-8 text::

    #embedcli-phrases {"delimiter": "_", "connector_words": "none", "scoring": "default", ...}
    1<TAB>new_york<TAB>523.1796448087432
    2<TAB>new_york_times<TAB>41.07482993197279

The first line holds the settings as JSON; then one line per phrase: the pass that learned it
(1-based), the phrase as gensim keys it (its words joined by the delimiter) and its score
(shortest repr that reads back the same float).  Lines are sorted by pass, then by phrase.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile

from embedcli.arguments import entry_point
from embedcli.errors import DataError, FormatError, parse_json
from embedcli.fileio import Progress, is_url, open_binary, scratch_prefix
from embedcli.provenance import file_provenance, stage_record
from embedcli.specs import PhrasesSpec, cores

TABLE_MAGIC = "#embedcli-phrases"
_SETTINGS = ("min_count", "threshold", "scoring", "passes", "delimiter", "connector_words")


def _connectors(spec: PhrasesSpec) -> frozenset:
    from gensim.models.phrases import ENGLISH_CONNECTOR_WORDS

    return ENGLISH_CONNECTOR_WORDS if spec.connector_words == "english" else frozenset()


def _frozen(spec: PhrasesSpec, phrasegrams: dict | None = None):
    """A gensim ``FrozenPhrases`` with ``spec``'s settings; ``phrasegrams`` replaces the (empty) learned table."""
    from gensim.models.phrases import Phrases

    frozen = Phrases(min_count=spec.min_count, threshold=spec.effective_threshold, scoring=spec.scoring,
                     delimiter=spec.delimiter, connector_words=_connectors(spec)).freeze()
    if phrasegrams is not None:
        frozen.phrasegrams = phrasegrams
    return frozen


def table_bytes(spec: PhrasesSpec, tables: list[dict]) -> bytes:
    """The phrase table (module docstring) of ``tables`` (one ``{phrase: score}`` per pass)."""
    settings = {k: getattr(spec, k) for k in _SETTINGS}
    settings["threshold"] = spec.effective_threshold
    lines = [f"{TABLE_MAGIC} {json.dumps(settings, ensure_ascii=False)}\n"]
    for p, table in enumerate(tables, 1):
        lines += [f"{p}\t{phrase}\t{float(score)!r}\n" for phrase, score in sorted(table.items())]
    return "".join(lines).encode("utf-8")


#: Largest phrase table read (decompressed): millions of phrases, and a bound on memory.
MAX_TABLE_BYTES = 1 << 30


def read_table(path: str) -> tuple[PhrasesSpec, list[dict], str]:
    """Read a phrase table: ``(spec, [{phrase: score} per pass], sha256 of its text)``.

    Blank lines and a leading byte-order mark are ignored (hand-edited tables).

    Raises:
        InputError: the file cannot be opened.
        FormatError: more than :data:`MAX_TABLE_BYTES`, or not a phrase table (naming the line): a
            missing or unreadable settings line,
            a line without three tab-separated fields, a pass out of range, a score that is not a number
            above the threshold, or a last line without its end (a cut file).
    """
    with contextlib.closing(open_binary(path)) as f:
        data = f.read(65536)
        if not data.removeprefix(b"\xef\xbb\xbf").startswith(TABLE_MAGIC.encode()):  # before reading the rest
            raise FormatError(f"{path}:1: not a phrase table: it should start with '{TABLE_MAGIC} {{settings}}' "
                              "(write one with 'embedcli phrases --phrases-output')")
        data += f.read(max(0, MAX_TABLE_BYTES + 1 - len(data)))
    if len(data) > MAX_TABLE_BYTES:  # a decompression bomb, or not a table: memory stays bounded
        raise FormatError(f"{path}: more than {MAX_TABLE_BYTES:,} bytes (decompressed): not a phrase table")
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")  # a byte-order mark from an editor
    except UnicodeDecodeError:
        raise FormatError(f"{path}: not UTF-8 text (a phrase table from 'embedcli phrases --phrases-output')") from None
    if text and not text.endswith("\n"):
        raise FormatError(f"{path}: the last line has no end: a cut table? (write it again with --phrases-output)")
    lines = text.splitlines()
    head = lines[0] if lines else ""
    if not head.startswith(TABLE_MAGIC + " "):
        raise FormatError(f"{path}:1: not a phrase table: it should start with '{TABLE_MAGIC} {{settings}}' "
                          "(write one with 'embedcli phrases --phrases-output')")
    try:
        settings = parse_json(head[len(TABLE_MAGIC) + 1:])
        spec = PhrasesSpec(**{k: settings[k] for k in _SETTINGS})
    except KeyError as e:
        raise FormatError(f"{path}:1: the phrase-table settings lack {e.args[0]!r}") from None
    except (ValueError, TypeError, AttributeError) as e:
        raise FormatError(f"{path}:1: unreadable phrase-table settings ({e})") from None
    tables: list[dict] = [{} for _ in range(spec.passes)]
    for lineno, line in enumerate(lines[1:], 2):
        if not line.strip():
            continue
        fields = line.split("\t")
        try:
            if len(fields) != 3 or not fields[1] or fields[1] != fields[1].strip():
                raise ValueError("expected pass<TAB>phrase<TAB>score")
            p = int(fields[0]) if fields[0].isascii() and fields[0].isdigit() else 0
            try:
                score = float(fields[2])
            except ValueError:
                raise ValueError(f"score {fields[2]!r} is not a number") from None
            if not 1 <= p <= spec.passes:
                raise ValueError(f"pass {p} outside 1..{spec.passes}")
            if not score > spec.effective_threshold:  # NaN too: gensim would never join it
                raise ValueError(f"score {fields[2]} is not above the table's threshold {spec.effective_threshold:g}: "
                                 "the phrase would never be joined")
        except ValueError as e:
            raise FormatError(f"{path}:{lineno}: {e}") from None
        tables[p - 1][fields[1]] = score
    return spec, tables, hashlib.sha256(data).hexdigest()


_FROZEN: list = [None]  # the FrozenPhrases of the current pass, in this process and in forked workers


def _install_frozen(frozen) -> None:
    _FROZEN[0] = frozen


def _join_block(data: bytes, name: str, lineno: int) -> tuple[bytes, int, int]:
    """Worker: whole lines of a tokens file with the installed phrases joined, one line out per line in."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = lineno + data[: e.start].count(b"\n")
        raise DataError(f"{name}:{line}: not valid UTF-8 (tokens files are UTF-8)") from None
    frozen, out, n_in, n_out = _FROZEN[0], [], 0, 0
    for line in text.split("\n")[:-1] if text.endswith("\n") else text.split("\n"):
        toks = line.split()
        joined = frozen[toks] if toks else toks
        n_in += len(toks)
        n_out += len(joined)
        out.append(" ".join(joined))
    return ("\n".join(out) + "\n").encode("utf-8"), n_in, n_out


def _join(src_path: str, target, frozen, name: str, progress: Progress | None, label: str,
          workers: int = 1) -> tuple[int, int]:
    """Write each line of ``src_path`` with ``frozen``'s phrases joined, blocks of lines on ``workers``
    processes (in order: the output does not depend on them); empty lines stay (documents keep their
    line).  Returns the tokens read and written."""
    from collections import deque

    from embedcli.fileio import iter_line_chunks
    from embedcli.parallel import ProcessBlocks

    size = os.path.getsize(src_path)
    counts = [0, 0, 0]  # tokens in, tokens out, bytes done
    pending: deque = deque()

    def write_first() -> None:
        future, n_bytes = pending.popleft()
        data, a, b = future.result()
        target.write(data)
        counts[0] += a
        counts[1] += b
        counts[2] += n_bytes
        if progress is not None:
            progress.update(counts[2], size, extra=label)

    piece, first = b"", 1  # a line longer than a block comes in pieces: joined whole, as gensim would
    with ProcessBlocks(_join_block, workers, _install_frozen, (frozen,)) as runner:
        try:
            for lineno, data, ends_line in iter_line_chunks(src_path):
                first = first if piece else lineno
                piece += data
                if ends_line:
                    pending.append((runner.submit(piece, name, first), len(piece)))
                    piece = b""
                    while len(pending) > runner.in_flight:
                        write_first()
            if piece:
                pending.append((runner.submit(piece, name, first), len(piece)))
            while pending:
                write_first()
        finally:
            _install_frozen(None)
    return counts[0], counts[1]


def _passes(tokens: str, out, spec: PhrasesSpec, frozen_for_pass, progress: Progress | None) -> dict:
    """Run ``spec.passes`` passes over ``tokens`` (each on the previous one's output), writing the last to ``out``."""
    from embedcli.predictive import _check_corpus, plain_tokens_file

    stats: dict = {"passes": spec.passes}
    with contextlib.ExitStack() as stack:
        current = stack.enter_context(plain_tokens_file(tokens))
        _check_corpus(current, tokens)  # empty or not UTF-8 (gensim's Phrases splits as str.split)
        tmpdir = stack.enter_context(tempfile.TemporaryDirectory(prefix=scratch_prefix("phrases")))
        for i in range(spec.passes):
            frozen = frozen_for_pass(i, current)
            last = i == spec.passes - 1
            nxt = os.path.join(tmpdir, f"pass{i}.txt")
            with contextlib.ExitStack() as s2:
                target = out if last else s2.enter_context(open(nxt, "wb"))
                n_in, n_out = _join(current, target, frozen, tokens, progress, f"pass {i + 1}/{spec.passes}",
                                    min(spec.workers or cores(), cores()))
            stats.setdefault("tokens_in", n_in)
            stats["tokens_out"] = n_out
            current = nxt
    if progress is not None:
        progress.close()
    return stats


@entry_point
def learn_phrases(tokens: str, out, spec: PhrasesSpec | None = None, progress: Progress | None = None,
                  max_vocab_size: int = 40000000, table_out=None, table_name: str | None = None) -> dict:
    """Join frequent collocations (``new york`` -> ``new_york``) with gensim's ``Phrases``.

    Each pass learns bigrams on the previous pass's output, so ``passes=2``
    can form 3- and 4-word phrases.  ``threshold`` defaults to gensim's 10 for
    ``default`` scoring (Mikolov et al. 2013) and 0.5 for ``npmi`` (Bouma 2009,
    range -1..1).  Writes a tokens file to the binary stream ``out``, one line
    per input line (empty lines stay, so document ids stay aligned), and, given
    ``table_out`` (a binary stream), the phrase table that :func:`apply_phrases`
    applies to other text; ``table_name`` (its path) is recorded, so that
    ``neighbors --text`` (:func:`~embedcli.docvec.embed_texts`) joins query
    texts as the model's text was.

    Returns statistics: phrases learned per pass, tokens in and out,
    ``phrase_table_sha256`` (of the table's text, written or not: it names the
    phrases that joined the output) and ``provenance`` (the stage record).

    Raises:
        DataError: an empty corpus or a tokens file that is not UTF-8.
    """
    from gensim.models.word2vec import LineSentence

    spec = spec or PhrasesSpec()
    tables: list[dict] = []

    def learn(_i: int, current: str):
        from gensim.models.phrases import Phrases

        learned = Phrases(LineSentence(current, max_sentence_length=10**9), min_count=spec.min_count,
                          threshold=spec.effective_threshold, scoring=spec.scoring, delimiter=spec.delimiter,
                          connector_words=_connectors(spec), max_vocab_size=max_vocab_size).freeze()
        tables.append(learned.phrasegrams)
        return learned

    stats = _passes(tokens, out, spec, learn, progress)
    stats["phrases_per_pass"] = [len(t) for t in tables]
    data = table_bytes(spec, tables)
    if table_out is not None:
        table_out.write(data)
        if table_name and table_name != "-":
            stats["phrase_table"] = os.path.abspath(table_name)
    stats["phrase_table_sha256"] = hashlib.sha256(data).hexdigest()
    stats["provenance"] = stage_record("phrases", spec, {"tokens": file_provenance(tokens)}, dict(stats))
    return stats


@entry_point(documents="tokens")
def apply_phrases(tokens: str, out, table: str, progress: Progress | None = None, workers: int | None = None) -> dict:
    """Join the phrases of a saved phrase table (:func:`read_table`) in ``tokens``, learning nothing.

    Text joined by :func:`learn_phrases` comes out byte-identical when its own table is applied to
    it again; new text is joined the same way (gensim's ``FrozenPhrases``, pass after pass).
    Writes a tokens file to the binary stream ``out``, one line per input line; ``workers``:
    processes joining blocks of lines (default: the cores; the output does not depend on it).

    Returns statistics as :func:`learn_phrases` (``phrases_per_pass`` counts the table's phrases).

    Raises:
        FormatError: ``table`` is not a phrase table.
        DataError: an empty corpus or a tokens file that is not UTF-8.
    """
    spec, tables, sha = read_table(table)
    spec = spec.replace(workers=workers)  # processes joining: this run's, not the table's
    stats = _passes(tokens, out, spec, lambda i, _current: _frozen(spec, tables[i]), progress)
    stats["phrases_per_pass"] = [len(t) for t in tables]
    stats["phrase_table"] = table if table == "-" or is_url(table) else os.path.abspath(table)
    stats["phrase_table_sha256"] = sha
    stats["provenance"] = stage_record("phrases", spec, {"tokens": file_provenance(tokens),
                                                         "phrase_table": file_provenance(table)}, dict(stats))
    return stats


def phrases_mismatch(model_record: dict, tokens_record: dict) -> str | None:
    """Why new tokens may not be joined as the text behind a model was, or None.

    The model's chain names a ``phrases`` stage (with its table's hash) and the tokens' record is
    known but names none, or another table.  Unknown provenance (stdin, no sidecar) is not
    doubted.
    """
    from embedcli.provenance import find_stage

    m = find_stage(model_record, "phrases")
    if m is None or not isinstance(tokens_record, dict) or "stage" not in tokens_record:
        return None
    t = find_stage(tokens_record, "phrases")
    m_sha = (m.get("stats") or {}).get("phrase_table_sha256")
    if t is None:
        return ("the model was built from text joined by 'embedcli phrases', these tokens were not: join them "
                "first with 'embedcli phrases TOKENS --apply TABLE' (the table from 'phrases --phrases-output')")
    t_sha = (t.get("stats") or {}).get("phrase_table_sha256")
    if m_sha and t_sha and m_sha != t_sha:
        return (f"these tokens were joined by other phrases (table {t_sha[:12]}) than the model's text "
                f"(table {m_sha[:12]}): apply the model's phrase table with 'embedcli phrases --apply'")
    return None


def joiner_of(model_record: dict, notes: list | None = None):
    """A function joining tokenized lines (``list[str]`` -> ``list[str]``) with the phrases that joined the
    text behind a model, or None when no ``phrases`` stage is recorded or its table was not saved (then
    ``notes``, if a list, gets a sentence saying so).

    Raises:
        InputError: the recorded phrase table is missing or no longer the one that joined the text.
    """
    from embedcli.errors import InputError
    from embedcli.provenance import find_stage

    stage = find_stage(model_record, "phrases")
    stats = (stage or {}).get("stats") or {}
    path = stats.get("phrase_table")
    if not path or path == "-":
        if stage is not None and notes is not None:
            notes.append("the model's text was joined by 'embedcli phrases' without a saved table, so this text "
                         "is not joined (rerun phrases with --phrases-output TABLE: the same options give the same "
                         "text, and the table is then used)")
        return None
    if not is_url(path) and not os.path.isfile(path):
        raise InputError(f"{path}: not found: the phrase table that joined the model's text (texts must be joined "
                         "alike; put it back)")
    spec, tables, sha = read_table(path)
    if sha != stats.get("phrase_table_sha256"):
        raise InputError(f"{path}: changed since it joined the model's text (SHA-256 differs)")
    frozen = [_frozen(spec, t) for t in tables]

    def join(lines: list[str]) -> list[str]:
        out = []
        for line in lines:
            toks = line.split()
            for f in frozen:
                toks = f[toks] if toks else toks
            out.append(" ".join(toks))
        return out

    return join
