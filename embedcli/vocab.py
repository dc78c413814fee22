"""Vocabularies: word counts, most frequent first, as ``word<TAB>count`` files."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import IO

import numpy as np

from embedcli.arguments import entry_point
from embedcli.errors import DataError, FormatError
from embedcli.fileio import Progress, iter_line_chunks
from embedcli.provenance import file_provenance, stage_record
from embedcli.specs import VocabSpec


@dataclass
class Vocabulary:
    """An ordered vocabulary.

    Attributes:
        words: list of ``n`` words, most frequent first, ties by word (code point order).
        counts: ``(n,) int64`` corpus frequencies, non-increasing.
        total: number of tokens in the corpus the counts come from (including
            words that were cut by ``min_count``/``max_vocab_size``).
        provenance: the record of how it was made (see :mod:`embedcli.provenance`).
    """

    words: list[str]
    counts: np.ndarray
    total: int = 0
    provenance: dict = field(default_factory=dict, compare=False)
    _index: dict | None = field(default=None, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.words)

    def __repr__(self) -> str:
        head = ", ".join(self.words[:5]) + (", ..." if len(self.words) > 5 else "")
        return f"<Vocabulary: {len(self):,} words ({head}), {self.total:,} tokens>"

    @property
    def index(self) -> dict[str, int]:
        """``word -> row`` mapping (built on first use)."""
        if self._index is None:
            self._index = {w: i for i, w in enumerate(self.words)}
        return self._index

    @classmethod
    def from_counter(cls, counter: Counter, spec: VocabSpec | None = None, tokens: dict | None = None) -> "Vocabulary":
        """Sort a ``Counter`` (count descending, then word), keep counts >= ``spec.min_count``
        and at most ``spec.max_vocab_size`` words.

        ``tokens`` is the provenance record of the tokens the counts come from.
        """
        spec = spec or VocabSpec()
        total = sum(counter.values())
        words = [w for w, c in counter.items() if c >= spec.min_count]
        # two stable sorts (by word, then by count descending) rather than one on (-count, word) tuples:
        # 4x faster on 2M distinct words, and no list of tuples beside the Counter
        words.sort()
        words.sort(key=counter.__getitem__, reverse=True)
        if spec.max_vocab_size is not None:
            del words[spec.max_vocab_size:]
        counts = np.fromiter(map(counter.__getitem__, words), dtype=np.int64, count=len(words))
        prov = stage_record("vocab", spec, {"tokens": tokens or {}}, {"words": len(words), "tokens": total})
        return cls(words, counts, total, prov)

    def restricted(self, spec: VocabSpec, source: str = "vocabulary") -> "Vocabulary":
        """The words with count >= ``spec.min_count``, at most ``spec.max_vocab_size`` of them (order kept).

        When nothing is cut the vocabulary (and its provenance) is returned as is;
        otherwise the provenance records the restriction on top of the original.

        Raises:
            DataError: no word is left (``source`` names the file in the message).
        """
        keep = self.counts >= spec.min_count
        words = [w for w, k in zip(self.words, keep) if k][: spec.max_vocab_size]
        if not words:
            raise DataError(f"{source}: no word has count >= min_count={spec.min_count}", params=("min_count",))
        if len(words) == len(self.words):
            return self
        prov = stage_record("restrict", spec, {"vocabulary": self.provenance}, {"words": len(words)})
        return Vocabulary(words, self.counts[keep][: len(words)], self.total, prov)

    def write(self, f: IO[str]) -> None:
        """Write ``word<TAB>count`` lines (a text stream)."""
        f.write("".join(f"{w}\t{c}\n" for w, c in zip(self.words, self.counts.tolist())))

    @entry_point
    def save(self, path: str) -> None:
        """Write ``word<TAB>count`` lines to ``path`` atomically (``-``: stdout) and its
        provenance to ``PATH.meta.json``.

        Raises:
            InputError: the output folder is missing or not writable.
        """
        from embedcli.fileio import atomic_output

        with atomic_output(path, "w", sidecar={"kind": "vocabulary", "provenance": self.provenance}) as out:
            self.write(out)


def _count_block(data: bytes, path: str, lineno: int) -> Counter:
    """Worker: the token counts of one block of a tokens file (whole lines)."""
    from embedcli.tokenizer import decode_block

    return Counter(decode_block(data, path, lineno, "utf-8", "strict", raw_text=False).split())


def count_tokens(path: str, progress: Progress | None = None, segment: tuple[int, int] | None = None,
                 workers: int = 1) -> Counter:
    """Count the tokens of a tokens file (``-`` for stdin): whitespace-separated, UTF-8.
    ``segment``: only that byte range (``fileio.line_segments``).  ``workers`` > 1: that many worker
    processes count byte ranges of the file (at most :data:`SEGMENT_BYTES` each, cut at line ends;
    a compressed file or stdin: blocks of :data:`~embedcli.fileio.CHUNK_BYTES` read here), and their
    counts are added here in the file's order; the counts do not depend on ``workers``.

    Raises:
        DataError: the file is not UTF-8 (naming the line).
    """
    from embedcli.fileio import disk_size
    from embedcli.tokenizer import decode_block  # imported before the workers fork, not in each

    counter: Counter = Counter()
    done = 0
    progress = progress or Progress(None)
    total = disk_size(path) if segment is None else segment[1] - segment[0]  # bytes as stored (.gz too)
    at = [None]
    if workers <= 1 or segment is not None:  # Counter.update of a list counts in C; adding Counters: a Python loop
        for lineno, data, _ in iter_line_chunks(path, None, segment, stored=at if segment is None else None):
            counter.update(decode_block(data, path, lineno, "utf-8", "strict", raw_text=False).split())
            done += len(data)
            progress.update(at[0] if at[0] is not None and total else done, total)
        progress.close()
        return counter
    from collections import deque
    from itertools import chain

    from embedcli.fileio import CHUNK_BYTES, is_url, line_segments
    from embedcli.outputs import compression_of
    from embedcli.parallel import ProcessBlocks

    big = bool(total) and total > CHUNK_BYTES  # several blocks: workers from the first
    if big and path != "-" and not compression_of(path) and not is_url(path):
        # byte ranges that each worker reads itself: fewer, larger Counters to add up here than blocks
        size = min(max(-(-total // (2 * workers)), CHUNK_BYTES), SEGMENT_BYTES)
        tasks = [(_count_segment, (path, seg), seg[1] - seg[0]) for seg in line_segments(path, size)]
    else:  # a stream: blocks read here
        tasks = ((_count_block, (data, path, lineno), len(data))
                 for lineno, data, _ in iter_line_chunks(path, None, None, stored=at))
    pending: deque = deque()
    with ProcessBlocks(_run, workers, eager=big) as runner:
        for item in chain(tasks, [None]):
            if item is not None:
                pending.append((runner.submit(item[0], *item[1]), at[0], item[2]))
            while pending and (len(pending) > runner.in_flight or item is None):
                future, stored, size = pending.popleft()
                counter.update(future.result())
                done += size
                progress.update(stored if stored is not None and total else done, total)
    progress.close()
    return counter


#: Largest byte range a worker of :func:`count_tokens` counts at once: progress after each
SEGMENT_BYTES = 256 << 20


def _run(fn, *args):
    return fn(*args)


def _count_segment(path: str, segment: tuple[int, int]) -> Counter:
    """Worker: the token counts of one byte range of a tokens file; an error names the line of the
    whole file."""
    from embedcli.distributed import whole_file_lines

    with whole_file_lines(path, segment):
        return count_tokens(path, None, segment)


@entry_point(documents="path")
def build_vocab(path: str, spec: VocabSpec | None = None, progress: Progress | None = None,
                client=None, workers: int | None = None) -> Vocabulary:
    """Vocabulary of a tokens file (``-``: stdin), with its provenance.  ``client``: a
    ``dask.distributed`` client to count on (:func:`embedcli.distributed.count_tokens_on`; the
    same counts).  ``workers``: processes counting (:func:`count_tokens`; None: the cores).

    Raises:
        DataError: the file holds no token, or no word reaches ``spec.min_count``.
    """
    spec = spec or VocabSpec()
    if client is not None:
        from embedcli.distributed import count_tokens_on

        counter = count_tokens_on(client, path, progress)
    else:
        from embedcli.specbase import cores

        counter = count_tokens(path, progress, workers=workers or cores())
    return vocab_from_counter(counter, spec, file_provenance(path), path)


def vocab_from_counter(counter: Counter, spec: VocabSpec, tokens: dict, where: str) -> Vocabulary:
    """:meth:`Vocabulary.from_counter`, refusing an empty result.

    Raises:
        DataError: no token at all, or no word reaches ``spec.min_count`` (``where`` names the input).
    """
    if not counter:
        raise DataError(f"{where}: no tokens (empty corpus)")
    vocab = Vocabulary.from_counter(counter, spec, tokens)
    if not len(vocab):
        raise DataError(
            f"{where}: no word occurs min_count={spec.min_count} times "
            f"(most frequent: {max(counter.values())}); lower the minimum count", params=("min_count",)
        )
    return vocab


@entry_point
def read_vocab(path: str) -> Vocabulary:
    """Read a ``word<TAB>count`` file as written by ``embedcli vocab``.

    Raises:
        FormatError: a line without exactly two fields, a non-integer count, or a
            repeated word, naming the line.
        WrongKindError: the file is plainly something else (tokens, vectors, a matrix).
    """
    words: list[str] = []
    counts: list[int] = []
    seen: set[str] = set()
    try:
        _read_vocab_lines(path, words, counts, seen)
    except DataError:  # FormatError too
        from embedcli.vectorfile.kinds import other_kind_error

        wrong = None if words else other_kind_error(path, "a vocabulary (word<TAB>count per line)", "vocabulary")
        if wrong is not None:
            raise wrong from None
        raise
    if not words:
        raise FormatError(f"{path}: empty vocabulary file")
    prov = file_provenance(path)
    total = int(((prov.get("stats") or {}).get("tokens")) or sum(counts))
    return Vocabulary(words, np.asarray(counts, dtype=np.int64), total, prov)


def _read_vocab_lines(path: str, words: list, counts: list, seen: set) -> None:
    from embedcli.tokenizer import decode_block

    sep = None  # the first line's: a tab, or the space of GloVe's vocab_count (a word holds no space)
    for lineno, data, _ in iter_line_chunks(path):
        for i, line in enumerate(decode_block(data, path, lineno, "utf-8", "strict", raw_text=False).splitlines()):
            if not line.strip():
                continue
            if sep is None:
                sep = "\t" if "\t" in line else " "
            parts = line.rstrip("\r").split(sep) if sep == " " else line.split(sep)
            if len(parts) != 2:
                want = "'word<TAB>count'" if sep == "\t" else "'word count' (GloVe's vocab_count form, as line 1)"
                raise FormatError(f"{path}:{lineno + i}: expected {want}, got {len(parts)} field(s)")
            w, c = parts
            if not w:
                raise FormatError(f"{path}:{lineno + i}: empty word")
            try:
                n = int(c)
            except ValueError:
                raise FormatError(f"{path}:{lineno + i}: count {c!r} is not an integer") from None
            if not 0 <= n < 2**62:
                raise FormatError(f"{path}:{lineno + i}: count {n} is out of range (0 to 2^62)")
            if w in seen:
                raise FormatError(f"{path}:{lineno + i}: word {w!r} appears twice")
            seen.add(w)
            words.append(w)
            counts.append(n)
