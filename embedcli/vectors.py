"""Vectors keyed by word, and every query on them: a ``KeyedVectors`` for embedcli's files.

:class:`Vectors` reads and writes every format of :mod:`embedcli.vectorfile`
and answers queries by word, as gensim's ``KeyedVectors`` does:
:meth:`~Vectors.most_similar`, :meth:`~Vectors.most_similar_cosmul`,
:meth:`~Vectors.similarity`, :meth:`~Vectors.n_similarity`,
:meth:`~Vectors.doesnt_match`, :meth:`~Vectors.analogy`,
:meth:`~Vectors.get_vector`.  Batches of queries
(:meth:`~Vectors.most_similar_batch`, :meth:`~Vectors.analogy_batch`) are
answered with one matrix product per block of queries (see
:class:`embedcli.query.Searcher`).  Words outside the vocabulary of a fastText
model get a vector from their character n-grams and are flagged as ``oov``.

This module imports numpy only: no CLI, click, scikit-learn or gensim.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator

import numpy as np

from embedcli import query as _query
from embedcli.arguments import entry_point
from embedcli.errors import DataError
from embedcli.query import BLOCK, Searcher
from embedcli.vectorfile import read_vectors, row_norms, write_vectors


from embedcli.markers import FLUSH  # noqa: E402  (re-exported)


@dataclass
class Query:
    """One similarity query: the words added and subtracted (gensim's ``positive``/``negative``)."""

    positive: list[str]
    negative: list[str] = field(default_factory=list)

    @classmethod
    def parse(cls, text: str) -> "Query":
        """``"king woman -man"`` -> positive ``[king, woman]``, negative ``[man]``.

        Words are separated by white space; a word written with a leading ``-``
        is subtracted (``\\-word`` looks up a word that starts with ``-``).
        """
        return cls.from_words(text.split())

    @classmethod
    def from_words(cls, words: list[str]) -> "Query":
        """As :meth:`parse`, for words already split."""
        pos, neg = [], []
        for w in words:
            if w.startswith("-") and len(w) > 1:
                neg.append(w[1:])
            else:
                pos.append(w[1:] if w.startswith("\\-") else w)
        return cls(pos, neg)

    @property
    def words(self) -> list[str]:
        return self.positive + self.negative


@dataclass
class Answer:
    """The answer to one query of a batch.

    Attributes:
        answers: ``(word, score)`` pairs, best first (empty when a word is unknown).
        unknown: query words with no vector (the query was not answered).
        oov: query words outside the vocabulary whose vectors were built from
            character n-grams (fastText models).
    """

    answers: list[tuple[str, float]]
    unknown: list[str] = field(default_factory=list)
    oov: list[str] = field(default_factory=list)
    error: str | None = None


@dataclass
class Vectors:
    """Vectors keyed by word.

    Attributes:
        words: ``n`` distinct words; row ``i`` of ``vectors`` belongs to ``words[i]``.
            Files written by embedcli list words most frequent first.
        vectors: ``(n, dim) float32`` (a read-only memory map when loaded from
            the native format).  An array of another dtype given to the constructor is kept
            as it is (queries compute in float32; files are written float32); a list of rows
            becomes float32.
        counts: ``(n,) int64`` corpus counts, or None when unknown.
        meta: ``provenance`` (the record of the stage that made them, see
            :mod:`embedcli.provenance`), ``singular_values`` for SVD outputs,
            ``source_format`` when read from a file.
        oov: for fastText models, ``word -> (dim,) float32`` from character n-grams.
    """

    words: list[str]
    vectors: np.ndarray
    counts: np.ndarray | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    oov: Callable[[str], np.ndarray] | None = field(default=None, repr=False, compare=False)
    _index: dict | None = field(default=None, repr=False, compare=False)
    _norms: np.ndarray | None = field(default=None, repr=False, compare=False)
    _searchers: dict = field(default_factory=dict, repr=False, compare=False)
    _lower: bool | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.vectors, np.ndarray):  # a list of rows, say; arrays keep their dtype until saved
            self.vectors = np.asarray(self.vectors, dtype=np.float32)
        if self.vectors.ndim != 2 or len(self.words) != self.vectors.shape[0]:
            raise ValueError("vectors must be (len(words), dim)")

    def __len__(self) -> int:
        return len(self.words)

    def __repr__(self) -> str:
        stage = self.provenance.get("stage") or self.meta.get("source_format") or "?"
        return f"<Vectors: {len(self):,} words x {self.dim} ({stage})>"

    def __contains__(self, word: str) -> bool:
        return word in self.index

    def __getitem__(self, word: str) -> np.ndarray:
        """``v[word]`` is :meth:`get_vector` (KeyError for an unknown word)."""
        return self.get_vector(word)

    @property
    def key_to_index(self) -> dict[str, int]:
        """gensim's name for :attr:`index`."""
        return self.index

    @property
    def index_to_key(self) -> list[str]:
        """gensim's name for :attr:`words`."""
        return self.words

    @property
    def vector_size(self) -> int:
        """gensim's name for :attr:`dim`."""
        return self.dim

    def get_index(self, word: str, default: int | None = None) -> int:
        """Row of ``word`` (gensim ``get_index``).

        Raises:
            KeyError: an unknown word and no ``default``."""
        if word in self.index:
            return self.index[word]
        if default is not None:
            return default
        raise KeyError(word)

    def distance(self, w1: str, w2: str) -> float:
        """Cosine distance ``1 - similarity`` (gensim ``distance``).

        Raises:
            KeyError: a word has no vector."""
        return 1.0 - self.similarity(w1, w2)

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    @property
    def index(self) -> dict[str, int]:
        """``word -> row`` (built on first use).

        Raises:
            DataError: a key appears twice (a row would be unreachable, and no file could hold it).
        """
        if self._index is None:
            index = dict(zip(self.words, range(len(self.words))))
            if len(index) != len(self.words):
                seen: set = set()
                dup = next(w for w in self.words if w in seen or seen.add(w))
                raise DataError(f"duplicate key {dup!r}: {len(self.words) - len(index):,} key(s) appear more than once")
            self._index = index
        return self._index

    @property
    def norms(self) -> np.ndarray:
        """``(n,) float32`` Euclidean norms (stored in native files, else computed once)."""
        if self._norms is None:
            self._norms = row_norms(self.vectors)
        return self._norms

    @property
    def provenance(self) -> dict:
        return self.meta.get("provenance") or {}

    @property
    def lowercased(self) -> bool:
        """True when the provenance says the text was lowercased by embedcli's tokenizer (and
        no later stage, e.g. phrases, could have reintroduced case); without a tokenizer record,
        True when none of the first 100,000 keys has an upper-case letter."""
        from embedcli.provenance import find_stage

        if self.meta.get("kind") == "documents" or self.provenance.get("stage") in ("docvec", "foldin"):
            return False  # keys are document ids, kept as given
        tok = find_stage(self.provenance, "tokenize")
        if tok is not None:
            return bool((tok.get("spec") or {}).get("lowercase"))
        # no record of the tokenizer (tokens piped through stdin, or vectors from elsewhere): queries
        # are lowercased when no key has an upper-case letter, since an upper-case query cannot match
        return bool(self.words) and not any(w != w.lower() for w in self.words[:100_000])

    def query_key(self, word: str) -> str:
        """``word`` as the vectors' tokenizer wrote words: in its Unicode normal form (NFC unless it recorded
        another; a key stored as typed is kept), lowercased when it lowercased (:attr:`lowercased`)."""
        if self._lower is None:
            self._lower = self.lowercased
        if not word.isascii() and word not in self.index:
            from embedcli.provenance import find_stage
            from embedcli.tokenizer import prepare_text

            form = ((find_stage(self.provenance, "tokenize") or {}).get("spec") or {}).get("normal_form", "nfc")
            word = prepare_text(word, form if form in ("nfc", "nfkc") else "none")[0]
        return word.lower() if self._lower else word

    def suggest(self, word: str, n: int = 3, restrict_vocab: int = 30000) -> list[str]:
        """Up to ``n`` vocabulary words spelled like ``word`` (difflib ratio >= 0.75), among the
        ``restrict_vocab`` most frequent."""
        import difflib

        return difflib.get_close_matches(word, self.words[:restrict_vocab], n=n, cutoff=0.75)

    # ------------------------------------------------------------------ files
    @entry_point
    def save(self, path: str, fmt: str | None = None) -> str:
        """Write atomically in ``fmt`` (default: implied by the extension, see
        :mod:`embedcli.vectorfile`); formats other than ``native`` get their
        metadata in ``PATH.meta.json``.  Returns the format used.

        Raises:
            ParameterError: unknown format.
            DataError: a word that a text format cannot hold; a duplicate key.
            InputError: an unwritable output folder.
        """
        self.index  # noqa: B018 -- refuses duplicate keys before anything is written
        meta = {k: v for k, v in self.meta.items() if k not in ("provenance", "source_format")}
        side = {"kind": "vectors", "provenance": self.provenance, "meta": meta, "shape": [len(self), self.dim]}
        return write_vectors(path, self.words, self.vectors, self.counts, self.meta, fmt, self._norms, side)

    @classmethod
    @entry_point
    def load(cls, path: str, fmt: str | None = None, mmap: bool = True, lenient: bool = False,
             limit: int | None = None) -> "Vectors":
        """Read a vectors file (any format of :mod:`embedcli.vectorfile`, detected from the content).

        The metadata of a sidecar ``PATH.meta.json`` is merged in when it still
        matches the file (size).  ``lenient``: repair what gensim tolerates (words that are not
        UTF-8, repeated words, a wrong word count in a text header), counted in
        ``meta["repaired"]`` (see :func:`~embedcli.vectorfile.read_vectors`).  ``limit``: the first
        ``limit`` rows only; a text or binary file is read only up to them (gensim's ``limit``).

        Raises:
            InputError: the file does not exist or cannot be opened (or is ``-``).
            WrongKindError: the file is another kind (tokens, a vocabulary, a matrix).
            FormatError: malformed content, naming the line or record.
            ParameterError: an unknown ``fmt``.
        """
        d = read_vectors(path, fmt, mmap, lenient, limit)
        meta = dict(d.meta)
        if "provenance" not in meta:
            from embedcli.provenance import read_sidecar, sidecar_path, sidecar_status

            doc = read_sidecar(path)
            if doc is not None and sidecar_status(path, doc, check_hash=False) == "ok":
                from embedcli.vectorfile.text import check_vectors_meta

                meta.update(doc.get("meta") or {})
                meta["provenance"] = doc.get("provenance") or {}
                check_vectors_meta(sidecar_path(path), meta)
        return cls(d.words, d.vectors, d.counts, meta, d.oov, _norms=d.norms)

    # ------------------------------------------------------------------ vectors
    def get_vector(self, word: str, norm: bool = False) -> np.ndarray:
        """``(dim,) float32`` vector of ``word`` (unit length with ``norm``).

        fastText models build vectors for unseen words (see :meth:`is_oov`).

        Raises:
            KeyError: the word has no vector.
        """
        r = self.index.get(word)
        if r is not None:
            vec = np.asarray(self.vectors[r], dtype=np.float32)
        elif self.oov is None:
            raise KeyError(word)
        else:
            vec = self.oov(word)
        if norm:
            n = float(np.linalg.norm(vec.astype(np.float64)))  # float32 squares overflow beyond ~1e19
            vec = (vec / n).astype(np.float32) if n > 0 else vec
        return vec

    def is_oov(self, word: str) -> bool:
        """True when ``word`` is outside the vocabulary but gets a vector from n-grams (fastText)."""
        return word not in self.index and self.oov is not None

    def _resolve(self, words: list[str]) -> tuple[np.ndarray, list[int], list[str]]:
        """Unit vectors ``(len(words), dim) float32``, rows (-1 for n-gram vectors), and the oov words.

        Raises:
            KeyError: with the list of words that have no vector.
        """
        idx = self.index
        missing = [w for w in words if w not in idx]
        if missing and self.oov is None:
            raise KeyError(missing)
        units = np.vstack([self.get_vector(w, norm=True) for w in words]).astype(np.float32)
        if not np.isfinite(units).all():
            from embedcli.errors import DataError

            bad = words[int(np.flatnonzero(~np.isfinite(units).all(axis=1))[0])]
            raise DataError(f"the vector of {bad!r} holds NaN or infinite values: no meaningful similarity")
        rows = [idx.get(w, -1) for w in words]
        return units, rows, missing

    def searcher(self, restrict_vocab: int | None = None) -> Searcher:
        """The :class:`~embedcli.query.Searcher` over the first ``restrict_vocab`` rows (cached)."""
        key = restrict_vocab or None  # 0 or None: every row
        if key not in self._searchers:
            self._searchers[key] = Searcher(self.vectors, key)
        return self._searchers[key]

    # ------------------------------------------------------------------ queries
    def most_similar_batch(self, queries: Iterable[Query], topn: int = 10, restrict_vocab: int | None = None,
                           cosmul: bool = False) -> Iterator[Answer]:
        """Answer similarity queries in blocks of :data:`~embedcli.query.BLOCK`; one :class:`Answer` per query, in order.

        Each query's words (positive and negative) are never answers.  See
        :meth:`most_similar` and :meth:`most_similar_cosmul` for the scores.
        A :data:`FLUSH` item has the queries before it answered at once.  A query
        whose words cancel out (a zero vector) gets no answer and an ``error``.

        Raises:
            ParameterError: ``topn`` < 1 or ``restrict_vocab`` < 0 (0 or None: every word).
        """
        from embedcli.errors import ParameterError

        if isinstance(topn, bool) or not isinstance(topn, (int, np.integer)) or topn < 1:
            raise ParameterError("topn", topn, "must be a whole number of at least 1")
        topn = int(topn)
        if restrict_vocab is not None and restrict_vocab < 0:
            raise ParameterError("restrict_vocab", restrict_vocab, "must be at least 0 (0 or None: every word)")
        s = self.searcher(restrict_vocab)
        block: list = []
        for q in queries:
            if q is FLUSH:
                if block:
                    yield from self._answer_block(s, block, topn, cosmul)
                    block = []
                continue
            block.append(q)
            if len(block) == BLOCK:
                yield from self._answer_block(s, block, topn, cosmul)
                block = []
        if block:
            yield from self._answer_block(s, block, topn, cosmul)

    def _answer_block(self, s: Searcher, block: list[Query], topn: int, cosmul: bool) -> Iterator[Answer]:
        resolved: list = []
        for q in block:
            if not q.words:
                resolved.append((np.zeros((0, self.dim), np.float32), [], []))
                continue
            try:
                units, rows, oov = self._resolve(q.words)
            except KeyError as e:
                resolved.append((None, e.args[0], []))
                continue
            resolved.append((units, rows, oov))
        zero = set()
        combined: dict[int, np.ndarray] = {}
        if not cosmul:
            for i, r in enumerate(resolved):
                if r[0] is not None and block[i].words:
                    combined[i] = self._combined(block[i], r[0])
                    if not np.any(combined[i]):
                        zero.add(i)  # e.g. 'woman -woman': no direction to search
        ok = [i for i, r in enumerate(resolved) if r[0] is not None and block[i].words and i not in zero]
        results: dict[int, tuple] = {}
        if ok:
            exclude = [[r for r in resolved[i][1] if r >= 0] for i in ok]
            if cosmul:
                def tile_scores(a, e):
                    return np.stack([self._cosmul_scores(s, block[i], resolved[i][0], a, e) for i in ok])
            else:
                Q = np.vstack([combined[i] for i in ok])

                def tile_scores(a, e):
                    return s.cosines(Q, a, e)
            ids, scores = s.search(tile_scores, len(ok), topn, exclude)
            results = {i: (row_ids, row_scores) for i, row_ids, row_scores in zip(ok, ids, scores)}
        for i, q in enumerate(block):
            units, rows_or_missing, oov = resolved[i]
            if units is None:
                yield Answer([], list(rows_or_missing), [])
                continue
            if i in zero:
                one = len(q.words) == 1 and not q.negative
                yield Answer([], [], oov, f"{q.words[0]!r} has a zero vector (a document with no known word, or an "
                             "empty node) and no neighbours" if one else "the query's vectors cancel out (a zero vector)")
                continue
            if i not in results:
                yield Answer([], [], oov)
                continue
            row_ids, row_scores = results[i]
            yield Answer([(self.words[j], float(sc)) for j, sc in zip(row_ids, row_scores) if j >= 0], [], oov)

    @staticmethod
    def _combined(q: Query, units: np.ndarray) -> np.ndarray:
        """gensim's ``most_similar``: mean of +unit (positive) and -unit (negative) vectors, unit length."""
        if len(units) == 1 and not q.negative:
            return units[:1]  # already unit length (or zero)
        w = np.array([1.0] * len(q.positive) + [-1.0] * len(q.negative), dtype=np.float32)
        v = (units * w[:, None]).mean(axis=0)
        n = float(np.linalg.norm(v))
        return (v / n if n > 0 else v)[None, :]

    @staticmethod
    def _cosmul_scores(s: Searcher, q: Query, units: np.ndarray, start: int, end: int) -> np.ndarray:
        sims = (s.cosines(units, start, end) + 1) / 2  # (len(words), end - start) in [0, 1]
        npos = len(q.positive)
        pos = np.prod(sims[:npos], axis=0)
        neg = np.prod(sims[npos:], axis=0) if len(q.negative) else np.float32(1)  # empty product, as gensim
        return pos / (neg + _query.COSMUL_EPSILON)

    def most_similar(self, positive: Iterable[str] | str = (), negative: Iterable[str] = (), topn: int | None = 10,
                     restrict_vocab: int | None = None):
        """Words closest by cosine to the mean of the positive words' unit vectors minus the
        negative ones' (gensim ``KeyedVectors.most_similar``); the query words are excluded.

        Args:
            restrict_vocab: search only the first N rows (the N most frequent words).

        Returns:
            up to ``topn`` ``(word, cosine)`` pairs, best first; with ``topn=None``, as gensim,
            the cosine of every searched word ``(n_words,) float32`` in file order, query words
            included.

        Raises:
            KeyError: a query word has no vector (its ``args[0]`` is the list of unknown words).
            ValueError: no query word, or the words cancel out (a zero vector).
            ParameterError: ``topn`` < 1 or ``restrict_vocab`` < 0.
        """
        q = Query([positive] if isinstance(positive, str) else list(positive), list(negative))
        if not q.words:
            raise ValueError("most_similar needs at least one positive or negative word")
        if topn is None:
            unknown = [w for w in q.words if w not in self.index]
            if unknown:
                raise KeyError(unknown)
            next(self.most_similar_batch([], 1, restrict_vocab), None)  # validates restrict_vocab
            s = self.searcher(restrict_vocab)
            units = s.unit(np.asarray([self.index[w] for w in q.words], dtype=np.int64))
            signs = np.asarray([1.0] * len(q.positive) + [-1.0] * len(q.negative), dtype=np.float32)
            return self.similar_by_vector((units * signs[:, None]).mean(axis=0), None, restrict_vocab)
        ans = next(self.most_similar_batch([q], topn, restrict_vocab))
        if ans.unknown:
            raise KeyError(ans.unknown)
        if ans.error:
            raise ValueError(ans.error)
        return ans.answers

    def similar_by_vector(self, vector, topn: int | None = 10, restrict_vocab: int | None = None):
        """Words closest by cosine to ``vector`` ``(dim,)``, any array-like (gensim
        ``similar_by_vector``); no word is excluded.

        Returns:
            up to ``topn`` ``(word, cosine)`` pairs, best first; with ``topn=None``, as gensim,
            the cosine of every searched word, ``(n_words,) float32`` in file order.

        Raises:
            ValueError: ``vector`` is not ``(dim,)``, is zero, or is not finite.
            ParameterError: ``topn`` < 1 or ``restrict_vocab`` < 0.
        """
        v = np.asarray(vector, dtype=np.float64)
        if v.shape != (self.dim,):
            raise ValueError(f"the vector must have shape ({self.dim},), not {v.shape}")
        n = float(np.linalg.norm(v))
        if not np.isfinite(n) or n == 0:
            raise ValueError("the vector is zero or not finite: no direction to search")
        Q = (v / n).astype(np.float32)[None, :]
        if topn is None:
            next(self.most_similar_batch([], 1, restrict_vocab), None)  # validates restrict_vocab
            return self.searcher(restrict_vocab).cosines(Q)[0]
        next(self.most_similar_batch([], topn, restrict_vocab), None)  # validates topn and restrict_vocab
        s = self.searcher(restrict_vocab)
        ids, scores = s.search(lambda a, e: s.cosines(Q, a, e), 1, int(topn), [[]])
        return [(self.words[j], float(sc)) for j, sc in zip(ids[0], scores[0]) if j >= 0]

    def most_similar_cosmul(self, positive: Iterable[str] | str = (), negative: Iterable[str] = (), topn: int = 10,
                            restrict_vocab: int | None = None) -> list[tuple[str, float]]:
        """Multiplicative combination (Levy & Goldberg 2014, "Linguistic regularities in sparse
        and explicit word representations"; gensim ``most_similar_cosmul``):
        ``prod_pos cos'(d, p) / (prod_neg cos'(d, n) + 0.001)`` with ``cos' = (cos + 1) / 2`` (an empty
        product is 1, as in gensim; gensim's epsilon is 1e-6, the paper's 0.001 is used here).

        Raises:
            KeyError: a query word has no vector.
        """
        q = Query([positive] if isinstance(positive, str) else list(positive), list(negative))
        if not q.positive:
            raise ValueError("most_similar_cosmul needs at least one positive word")
        ans = next(self.most_similar_batch([q], topn, restrict_vocab, cosmul=True))
        if ans.unknown:
            raise KeyError(ans.unknown)
        return ans.answers

    def analogy_batch(self, triples: Iterable[tuple[str, str, str]], topn: int = 1, method: str = "3cosadd",
                      restrict_vocab: int | None = None) -> Iterator[Answer]:
        """``a : b :: c : ?`` for each triple, in blocks: 3CosAdd is
        ``most_similar(positive=[b, c], negative=[a])`` and 3CosMul
        ``most_similar_cosmul`` of the same words (Levy & Goldberg 2014).
        ``a``, ``b``, ``c`` are never answers.

        Raises:
            ParameterError: unknown method.
        """
        from embedcli.specs import AnalogySpec

        AnalogySpec(method=method)  # validates
        queries = (t if t is FLUSH else Query([t[1], t[2]], [t[0]]) if t is not None else Query([]) for t in triples)
        return self.most_similar_batch(queries, topn, restrict_vocab, cosmul=method == "3cosmul")

    def analogy(self, a: str, b: str, c: str, topn: int = 1, method: str = "3cosadd",
                restrict_vocab: int | None = None) -> list[tuple[str, float]]:
        """Answers to ``a : b :: c : ?`` (see :meth:`analogy_batch`).

        Raises:
            KeyError: a word has no vector.
        """
        ans = next(self.analogy_batch([(a, b, c)], topn, method, restrict_vocab))
        if ans.unknown:
            raise KeyError(ans.unknown)
        return ans.answers

    def similarity(self, w1: str, w2: str) -> float:
        """Cosine similarity of two words (0 when a vector is zero).

        Raises:
            KeyError: a word has no vector.
        """
        units, _, _ = self._resolve([w1, w2])
        return float(units[0].astype(np.float64) @ units[1].astype(np.float64))

    def n_similarity(self, ws1: Iterable[str], ws2: Iterable[str]) -> float:
        """Cosine similarity of the means of two word sets' vectors (gensim ``n_similarity``); a
        bare string is one word, not a set of letters.

        Raises:
            KeyError: a word has no vector.
            ValueError: an empty set.
        """
        ws1 = [ws1] if isinstance(ws1, str) else list(ws1)
        ws2 = [ws2] if isinstance(ws2, str) else list(ws2)
        if not ws1 or not ws2:
            raise ValueError("n_similarity needs two non-empty word sets")
        m1 = np.mean([self.get_vector(w) for w in ws1], axis=0, dtype=np.float64)
        m2 = np.mean([self.get_vector(w) for w in ws2], axis=0, dtype=np.float64)
        d = float(np.linalg.norm(m1) * np.linalg.norm(m2))
        return float(m1 @ m2 / d) if d > 0 else 0.0

    def doesnt_match(self, words: Iterable[str]) -> str:
        """The word furthest from the mean of the words' unit vectors (gensim ``doesnt_match``).

        Raises:
            KeyError: a word has no vector.
            ValueError: fewer than two words.
            TypeError: a bare string (one word, not a list of them).
        """
        if isinstance(words, str):
            raise TypeError(f"doesnt_match needs a list of words, not the string {words!r}")
        words = list(words)
        if len(words) < 2:
            raise ValueError("doesnt_match needs at least two words")
        units, _, _ = self._resolve(words)
        mean = units.astype(np.float64).mean(axis=0)
        n = float(np.linalg.norm(mean))
        sims = units.astype(np.float64) @ (mean / n if n > 0 else mean)
        return words[int(np.argmin(sims))]


def model_fingerprint(vectors: "Vectors") -> str:
    """A short identity of word vectors (their shape, first 1,000 words and first 10 rows, float32,
    and whether they build vectors for unseen words: a fastText model, not its ``.vec``): the same
    in every file format, different for another model of the same vocabulary."""
    import hashlib

    ngrams = "ngrams" if getattr(vectors, "oov", None) is not None else "words"  # fastText vs its .vec
    h = hashlib.sha256(f"{len(vectors)} {vectors.dim} {ngrams}\n".encode()
                       + "\n".join(vectors.words[:1000]).encode("utf-8"))
    h.update(np.ascontiguousarray(np.asarray(vectors.vectors[:10], dtype="<f4")).tobytes())
    return h.hexdigest()[:16]
