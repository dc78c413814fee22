"""Vocabularies: word counts, most frequent first, as ``word<TAB>count`` files."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import IO

import numpy as np

from embedcli.errors import DataError, FormatError, UsageError
from embedcli.io import Progress, iter_line_chunks


@dataclass
class Vocabulary:
    """An ordered vocabulary.

    Attributes:
        words: list of ``n`` words, most frequent first, ties by word (code point order).
        counts: ``(n,) int64`` corpus frequencies, non-increasing.
        total: number of tokens in the corpus the counts come from (including
            words that were cut by ``min_count``/``max_size``).
    """

    words: list[str]
    counts: np.ndarray
    total: int = 0
    _index: dict | None = field(default=None, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.words)

    @property
    def index(self) -> dict[str, int]:
        """``word -> row`` mapping (built on first use)."""
        if self._index is None:
            self._index = {w: i for i, w in enumerate(self.words)}
        return self._index

    @classmethod
    def from_counter(cls, counter: Counter, min_count: int = 1, max_size: int | None = None) -> "Vocabulary":
        """Sort a ``Counter`` (count descending, then word), keep counts >= ``min_count``
        and at most ``max_size`` words.

        Raises:
            UsageError: ``min_count`` < 1 or ``max_size`` < 1.
        """
        if min_count < 1:
            raise UsageError(f"--min-count {min_count}: must be at least 1")
        if max_size is not None and max_size < 1:
            raise UsageError(f"--max-size {max_size}: must be at least 1")
        total = sum(counter.values())
        items = [(w, c) for w, c in counter.items() if c >= min_count]
        items.sort(key=lambda wc: (-wc[1], wc[0]))
        if max_size is not None:
            items = items[:max_size]
        words = [w for w, _ in items]
        counts = np.fromiter((c for _, c in items), dtype=np.int64, count=len(items))
        return cls(words, counts, total)

    def restricted(self, min_count: int = 1, max_size: int | None = None, source: str = "vocabulary") -> "Vocabulary":
        """The words with count >= ``min_count``, at most ``max_size`` of them (order kept).

        Raises:
            DataError: no word is left (``source`` names the file in the message).
        """
        keep = self.counts >= min_count
        words = [w for w, k in zip(self.words, keep) if k][:max_size]
        if not words:
            raise DataError(f"{source}: no word has count >= --min-count {min_count}")
        return Vocabulary(words, self.counts[keep][: len(words)], self.total)

    def write(self, f: IO[str]) -> None:
        """Write ``word<TAB>count`` lines (a text stream)."""
        f.write("".join(f"{w}\t{c}\n" for w, c in zip(self.words, self.counts.tolist())))


def count_tokens(path: str, progress: Progress | None = None) -> Counter:
    """Count the tokens of a tokens file (``-`` for stdin): whitespace-separated, UTF-8.

    Raises:
        DataError: the file is not UTF-8.
    """
    from embedcli.tokenize import decode_block

    counter: Counter = Counter()
    done = 0
    progress = progress or Progress(None)
    for lineno, data, _ in iter_line_chunks(path):
        counter.update(decode_block(data, path, lineno, "utf-8", "strict").split())
        done += len(data)
        progress.update(done)
    progress.close()
    return counter


def build_vocab(path: str, min_count: int = 1, max_size: int | None = None, progress: Progress | None = None) -> Vocabulary:
    """Vocabulary of a tokens file.

    Raises:
        DataError: the file holds no token, or no word reaches ``min_count``.
    """
    counter = count_tokens(path, progress)
    if not counter:
        raise DataError(f"{path}: no tokens (empty corpus)")
    vocab = Vocabulary.from_counter(counter, min_count, max_size)
    if not len(vocab):
        raise DataError(
            f"{path}: no word occurs --min-count {min_count} times "
            f"(most frequent: {max(counter.values())}); lower --min-count"
        )
    return vocab


def read_vocab(path: str) -> Vocabulary:
    """Read a ``word<TAB>count`` file as written by ``embedcli vocab``.

    Raises:
        FormatError: a line without exactly two fields, a non-integer count, or a
            repeated word, naming the line.
    """
    words: list[str] = []
    counts: list[int] = []
    seen: set[str] = set()
    from embedcli.tokenize import decode_block

    for lineno, data, _ in iter_line_chunks(path):
        for i, line in enumerate(decode_block(data, path, lineno, "utf-8", "strict").splitlines()):
            if not line.strip():
                continue
            parts = line.split("\t")
            if len(parts) != 2:
                raise FormatError(f"{path}:{lineno + i}: expected 'word<TAB>count', got {len(parts)} field(s)")
            w, c = parts
            try:
                n = int(c)
            except ValueError:
                raise FormatError(f"{path}:{lineno + i}: count {c!r} is not an integer") from None
            if w in seen:
                raise FormatError(f"{path}:{lineno + i}: word {w!r} appears twice")
            seen.add(w)
            words.append(w)
            counts.append(n)
    if not words:
        raise FormatError(f"{path}: empty vocabulary file")
    return Vocabulary(words, np.asarray(counts, dtype=np.int64), int(sum(counts)))
