"""Word ids of a block of a tokens file by whole-array operations, without a Python string per token.

A tokens file is words separated by whitespace.  Looking each word up in a ``dict`` makes a
Python ``str`` for every token (about 55 bytes of fresh memory each) and was the costliest part
of reading one.  Here a block's bytes are split at whitespace with numpy, and every word of at
most :data:`WIDTH` bytes is read as two little-endian ``uint64`` numbers (its bytes, zero-padded:
exact, as a word holds no NUL byte).  Those numbers are hashed into an open-addressing table of
the vocabulary (linear probing, at least 4 slots a word), and a slot matches only when both
numbers are equal, so hash collisions cannot give a wrong id.  Longer words (about 1 in 10,000 tokens of
English) are looked up one by one in a ``dict``.

The split is that of Python's ``str.split()``: ASCII whitespace and the separators ``\\x1c`` to
``\\x1f``.  A block holding one of the non-ASCII characters that ``str.split()`` also splits at
(U+0085, U+00A0, U+1680, U+2000-U+200A, U+2028, U+2029, U+202F, U+205F, U+3000) is left to the
caller (:meth:`WordTable.lookup` returns None), which then decodes it the slow way; the ids are
the same either way.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

#: Words of at most this many bytes (UTF-8) are looked up by array operations.
WIDTH = 16

_SPACE = np.zeros(256, bool)
_SPACE[[0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x1F, 0x20]] = True
_LEAD = np.zeros(256, bool)  # first bytes of the UTF-8 of the other characters str.split() splits at
_LEAD[[0xC2, 0xE1, 0xE2, 0xE3]] = True
_MULT = (np.uint64(0x9E3779B97F4A7C15), np.uint64(0xC2B2AE3D27D4EB4F))
#: _LOW[b]: the low b bytes of a uint64 set (little-endian: a word's first b bytes)
_LOW = np.array([(1 << (8 * b)) - 1 for b in range(9)], np.uint64)
#: slots of the open-addressing table per vocabulary word (at least)
_LOAD = 4


def _keys(rows: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(n, WIDTH) uint8`` rows starting with words of ``lengths`` bytes -> the two ``uint64``
    halves of each word (bytes past its end zeroed) and a hash of both."""
    k = rows.view("<u8")
    n = np.minimum(lengths, WIDTH)
    k0 = k[:, 0] & _LOW[np.minimum(n, 8)]
    k1 = k[:, 1] & _LOW[np.maximum(n - 8, 0)]
    h = k0 * _MULT[0]
    h ^= k1 * _MULT[1]
    h ^= h >> np.uint64(29)
    return k0, k1, h


def _unicode_space(a: np.ndarray) -> bool:
    """Whether UTF-8 bytes ``a`` hold U+0085, U+00A0, U+1680, U+2000-U+200A, U+2028, U+2029,
    U+202F, U+205F or U+3000."""
    at = np.flatnonzero(_LEAD[a[:-1]])
    lead, b1 = a[at], a[at + 1]
    b2 = a[np.minimum(at + 2, len(a) - 1)]
    two = (lead == 0xC2) & ((b1 == 0x85) | (b1 == 0xA0))
    three = ((lead == 0xE1) & (b1 == 0x9A) & (b2 == 0x80)) | ((lead == 0xE3) & (b1 == 0x80) & (b2 == 0x80))
    e2 = (lead == 0xE2) & (((b1 == 0x80) & (((b2 >= 0x80) & (b2 <= 0x8A)) | (b2 == 0xA8) | (b2 == 0xA9) | (b2 == 0xAF)))
                           | ((b1 == 0x81) & (b2 == 0x9F)))
    return bool((two | three | e2).any())


class WordTable:
    """A vocabulary (``word -> id``, ids int32) prepared for :meth:`lookup`: ``k0``, ``k1``
    ``(slots,) uint64`` (a word's two halves; 0 in an empty slot, which no word has), ``ids``
    ``(slots,) int32`` (-1: empty), ``probes`` (the longest probe a word needed) and ``long``
    (words over :data:`WIDTH` bytes, a ``bytes -> id`` dict).  Empty words and words holding NUL
    are left out: they are never tokens.  Building takes about 0.35 us a word (english-mix's 79,807: 0.028 s)."""

    def __init__(self, index: dict[str, int]) -> None:
        words = list(index)
        all_ids = np.fromiter(index.values(), np.int32, len(words))  # (an id past int32 raises OverflowError)
        blob = "\x00".join(words)
        if blob.count("\x00") > max(0, len(words) - 1):  # a word holding NUL: never a token, nor kept here
            keep = np.array(["\x00" not in w for w in words], bool)
            words = [w for w, k in zip(words, keep) if k]
            all_ids = all_ids[keep]
            blob = "\x00".join(words)
        # every word's UTF-8 bytes, NUL-separated, cut by array operations (no Python loop a word)
        data = blob.encode("utf-8")
        a = np.frombuffer(data, np.uint8)
        seps = np.flatnonzero(a == 0)
        starts = np.concatenate([[0], seps + 1]).astype(np.int64)[:len(words)]
        lengths = np.concatenate([seps, [len(a)]]).astype(np.int64)[:len(words)] - starts
        short = (lengths > 0) & (lengths <= WIDTH)  # (empty words are never tokens)
        long = lengths > WIDTH
        self.long = {data[b:b + n]: i for b, n, i in zip(starts[long].tolist(), lengths[long].tolist(),
                                                         all_ids[long].tolist())}
        padded = np.frombuffer(data + bytes(WIDTH), np.uint8)
        rows = as_strided(padded, shape=(len(data) + 1, WIDTH), strides=(1, 1), writeable=False)[starts[short]]
        k0, k1, h = _keys(rows, lengths[short])  # bytes past a word's end are masked
        ids = all_ids[short]
        # open addressing with linear probing: slot (h >> shift) + d, d < self.probes
        bits = max(4, int(_LOAD * max(1, len(ids)) - 1).bit_length())
        self.shift = np.uint64(64 - bits)
        size = 1 << bits
        self.k0 = np.zeros(size, np.uint64)
        self.k1 = np.zeros(size, np.uint64)
        self.ids = np.full(size, -1, np.int32)
        self.probes = 0
        slot = (h >> self.shift).astype(np.int64)
        todo = np.arange(len(ids))
        while len(todo):  # each word goes to the first free slot from its own, one probe a round
            s = slot[todo] % size
            place = np.zeros(len(s), bool)
            place[np.unique(s, return_index=True)[1]] = True  # one word a slot per round
            place &= self.ids[s] < 0
            w = todo[place]
            self.k0[s[place]], self.k1[s[place]], self.ids[s[place]] = k0[w], k1[w], ids[w]
            slot[todo[~place]] += 1
            todo = todo[~place]
            self.probes += 1

    def lookup(self, data: bytes) -> tuple[np.ndarray, np.ndarray] | None:
        """The words of a block of UTF-8 lines (no NUL byte) as ``ids (n,) int32`` (-1: not in
        the vocabulary) and ``ends (k,) int64``: for each newline, the number of words before it.
        None when the block holds non-ASCII whitespace (see the module's docstring)."""
        a = np.frombuffer(data, np.uint8)
        if not data.isascii() and _unicode_space(a):
            return None
        word = ~_SPACE[a]
        edges = np.diff(word.view(np.int8), prepend=np.int8(0), append=np.int8(0))
        starts = np.flatnonzero(edges == 1)
        stops = np.flatnonzero(edges == -1)
        ends = np.searchsorted(starts, np.flatnonzero(a == 0x0A))
        if not len(starts) or not self.probes:
            return self._long_words(data, np.full(len(starts), -1, np.int32), starts, stops), ends
        padded = np.frombuffer(data + bytes(WIDTH), np.uint8)
        rows = as_strided(padded, shape=(len(data), WIDTH), strides=(1, 1), writeable=False)[starts]
        lengths = stops - starts
        k0, k1, h = _keys(rows, lengths)
        slot = (h >> self.shift).astype(np.int64)
        short = lengths <= WIDTH
        # probe 0 for every word at once; an empty slot has k0 == 0, which no word has
        hit = (self.k0[slot] == k0) & (self.k1[slot] == k1) & short
        ids = np.where(hit, self.ids[slot], np.int32(-1))
        todo = np.flatnonzero(~hit & short & (self.ids[slot] >= 0))  # its slot holds another word
        size = len(self.ids)
        for d in range(1, self.probes):  # a word is in one of its first `probes` slots, if anywhere
            if not len(todo):
                break
            s = (slot[todo] + d) % size
            hit = (self.k0[s] == k0[todo]) & (self.k1[s] == k1[todo])
            ids[todo[hit]] = self.ids[s[hit]]
            todo = todo[~hit & (self.ids[s] >= 0)]  # an empty slot ends the search
        return self._long_words(data, ids, starts, stops), ends

    def _long_words(self, data: bytes, ids: np.ndarray, starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
        if self.long:
            get = self.long.get
            for i in np.flatnonzero(stops - starts > WIDTH).tolist():
                ids[i] = get(data[starts[i]:stops[i]], -1)
        return ids
