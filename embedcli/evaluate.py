"""Word-similarity and analogy benchmarks with gensim's conventions.

Scores agree with gensim's ``KeyedVectors.evaluate_word_pairs`` and
``evaluate_word_analogies`` (case-insensitive matching, the most frequent
casing of a word wins, ``restrict_vocab``) -- a test checks it to 1e-6.
"""

from __future__ import annotations

import os
import unicodedata
from dataclasses import asdict, dataclass, field
from importlib import resources

import numpy as np

from embedcli.arguments import entry_point
from embedcli.errors import FormatError
from embedcli.specs import EvaluateSpec, SearchSpec
from embedcli.vectors import Vectors

BUNDLED_SIMILARITY = {"ws353": "wordsim353.tsv", "simlex999": "simlex999.txt"}
BUNDLED_ANALOGY = {"google": "questions-words.txt"}


def bundled_path(filename: str) -> str:
    """Path of a bundled benchmark file (see ``embedcli/data/eval/README.md``)."""
    return str(resources.files("embedcli.data").joinpath("eval", filename))


def check_files(paths) -> None:
    """Fail before loading vectors when a benchmark file is missing or a folder.

    Raises:
        InputError: naming the first such path.
    """
    from embedcli.fileio import not_a_file

    for p in paths:
        if not os.path.isfile(p):
            raise not_a_file(p, "benchmark")


def _read_lines(path: str) -> list[str]:
    """The lines of a benchmark file (.gz/.bz2/.xz decompressed).

    Raises:
        InputError: the file cannot be opened.
        FormatError: not UTF-8 (naming the line), or corrupt compressed data.
    """
    from embedcli.fileio import open_binary

    try:
        with open_binary(path) as f:
            data = f.read()
    except (OSError, EOFError, ValueError) as e:  # open_binary names an unopenable file itself
        raise FormatError(f"{path}: cannot read: {getattr(e, 'strerror', None) or e}") from None
    try:
        # -sig: a byte order mark is not part of line 1; NFC: as embedcli's tokenizer writes words
        return unicodedata.normalize("NFC", data.decode("utf-8-sig")).splitlines()
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise FormatError(f"{path}:{line}: not valid UTF-8") from None


def read_similarity(path: str) -> list[tuple[str, str, float]]:
    """Read ``w1<TAB>w2<TAB>score`` lines (``#`` comments, blank lines skipped).

    Lines without a tab are split on white space.

    Raises:
        FormatError: a line without exactly three fields or a non-numeric or
            non-finite score, naming file and line; a file with no pair.
    """
    pairs = []
    for i, line in enumerate(_read_lines(path), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t") if "\t" in line else line.split()
        if len(parts) != 3:
            raise FormatError(f"{path}:{i}: expected 'word1<TAB>word2<TAB>score', got {len(parts)} field(s)")
        try:
            score = float(parts[2])
        except ValueError:
            raise FormatError(f"{path}:{i}: score {parts[2].strip()!r} is not a number") from None
        if not np.isfinite(score):
            raise FormatError(f"{path}:{i}: score is not finite")
        pairs.append((parts[0].strip(), parts[1].strip(), score))
    if not pairs:
        raise FormatError(f"{path}: no word pairs")
    return pairs


def read_analogies(path: str) -> list[tuple[str, list[tuple[str, str, str, str]]]]:
    """Read the Google analogy format: ``: section`` lines, then ``a b c d`` lines.

    Raises:
        FormatError: a question line without four words, or before any section
            header, naming file and line; a file with no question.
    """
    sections: list[tuple[str, list]] = []
    for i, line in enumerate(_read_lines(path), 1):
        if not line.strip() or line.startswith("#"):
            continue
        if line.startswith(":"):
            sections.append((line[1:].strip(), []))
            continue
        parts = line.split()
        if len(parts) != 4:
            raise FormatError(f"{path}:{i}: expected four words 'a b c d', got {len(parts)}")
        if not sections:
            raise FormatError(f"{path}:{i}: question before the first ': section' header")
        sections[-1][1].append(tuple(parts))
    if not any(q for _, q in sections):
        raise FormatError(f"{path}: no analogy questions")
    return sections


def _upper(word: str) -> str:
    """``word`` upper-cased as gensim's evaluations match words, then NFC-normalized: Turkish
    ``İ`` and its lowercase ``i`` + U+0307 both become ``İ``."""
    return word.upper() if word.isascii() else unicodedata.normalize("NFC", word.upper())


def _ok_vocab(vectors: Vectors, restrict: int | None, case_insensitive: bool) -> dict[str, int]:
    words = vectors.words[: restrict or len(vectors)]
    if case_insensitive:
        return {_upper(w): i for i, w in reversed(list(enumerate(words)))}
    return {w: i for i, w in enumerate(words)}


@dataclass
class SimilarityResult:
    """Spearman's rho and Pearson's r over the pairs whose words are in the vocabulary."""

    name: str
    path: str
    spearman: float
    pearson: float
    pairs_used: int
    pairs_total: int
    #: The covered pairs' human scores and cosine similarities, in file order (for paired tests).
    gold: list[float] = field(default_factory=list, repr=False)
    predicted: list[float] = field(default_factory=list, repr=False)

    @property
    def coverage(self) -> float:
        return self.pairs_used / self.pairs_total if self.pairs_total else 0.0


@entry_point
def evaluate_similarity(vectors: Vectors, path: str, name: str | None = None, restrict: int | None = 300000,
                        case_insensitive: bool = True) -> SimilarityResult:
    """Correlate cosine similarities with human scores (gensim's ``evaluate_word_pairs``).

    Returns a :class:`SimilarityResult`; rho/r are NaN when fewer than 2 pairs
    are covered.

    Raises:
        FormatError: a malformed benchmark file.
    """
    from scipy import stats

    from embedcli.query import cosine_similarity

    pairs = read_similarity(path)
    ok = _ok_vocab(vectors, restrict, case_insensitive)
    norm = _upper if case_insensitive else (lambda w: w)
    used, gold = [], []
    for a, b, s in pairs:
        a, b = norm(a), norm(b)
        if a in ok and b in ok:
            used.append((ok[a], ok[b]))
            gold.append(s)
    model = cosine_similarity(vectors.searcher(), used)
    if len(used) >= 2:
        import warnings

        with warnings.catch_warnings():  # constant scores: the correlation is undefined (NaN, reported as such)
            warnings.simplefilter("ignore", stats.ConstantInputWarning)
            rho = float(stats.spearmanr(gold, model).statistic)
            r = float(stats.pearsonr(gold, model).statistic)
    else:
        rho = r = float("nan")
    return SimilarityResult(name or path, path, rho, r, len(used), len(pairs), list(map(float, gold)),
                            [float(x) for x in model])


@dataclass
class AnalogyResult:
    """Accuracy of one method on one analogy file, per section and in total."""

    name: str
    path: str
    method: str
    correct: int
    questions_used: int
    questions_total: int
    sections: list[dict] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        """Correct / questions whose four words are in the restricted vocabulary."""
        return self.correct / self.questions_used if self.questions_used else float("nan")

    @property
    def accuracy_all(self) -> float:
        """Correct / all questions (out-of-vocabulary questions count as wrong)."""
        return self.correct / self.questions_total if self.questions_total else float("nan")

    def subtotal(self, kind: str) -> dict:
        """``semantic`` or ``syntactic`` (sections named ``gram*``) totals."""
        secs = [s for s in self.sections if (s["section"].startswith("gram")) == (kind == "syntactic")]
        c, u = sum(s["correct"] for s in secs), sum(s["used"] for s in secs)
        return {"correct": c, "used": u, "accuracy": c / u if u else float("nan")}


@entry_point
def evaluate_analogy(vectors: Vectors, path: str, name: str | None = None, method: str = "3cosadd",
                     restrict: int | None = SearchSpec.restrict, case_insensitive: bool = True) -> AnalogyResult:
    """Answer every question ``a b c d`` (is ``d`` the best answer to ``a : b :: c : ?``).

    Questions count when all four words are among the ``restrict`` most
    frequent words (gensim's ``restrict_vocab``, default 30,000); answers are
    searched among those words with ``a``, ``b``, ``c`` excluded, as gensim's
    ``evaluate_word_analogies`` (which keeps the best of the top 5 candidates
    that is not a casing of a question word).

    Raises:
        FormatError: a malformed benchmark file.
        ParameterError: unknown method.
    """
    sections = read_analogies(path)
    ok = _ok_vocab(vectors, restrict, case_insensitive)
    norm = _upper if case_insensitive else (lambda w: w)
    searcher = vectors.searcher(restrict)
    out_sections = []
    total_q = correct_all = used_all = 0
    words_upper = [norm(w) for w in vectors.words[: searcher.n]]
    for sec_name, questions in sections:
        triples, expected, ignore = [], [], []
        for q in questions:
            a, b, c, d = (norm(w) for w in q)
            if a in ok and b in ok and c in ok and d in ok:
                triples.append((ok[a], ok[b], ok[c]))
                expected.append(d)
                ignore.append({a, b, c})
        correct = 0
        if triples:
            for (ids, _), exp, ign in zip(searcher.analogies(triples, 5, method), expected, ignore):
                predicted = None
                for i in ids:
                    if i < 0:
                        break
                    predicted = words_upper[i]
                    if predicted in ok and predicted not in ign:
                        break
                correct += predicted == exp
        out_sections.append({"section": sec_name, "correct": correct, "used": len(triples), "total": len(questions),
                             "accuracy": correct / len(triples) if triples else float("nan")})
        total_q += len(questions)
        correct_all += correct
        used_all += len(triples)
    return AnalogyResult(name or path, path, method, correct_all, used_all, total_q, out_sections)


def evaluate(vectors: Vectors, similarity: list[tuple[str, str]] | None = None,
             analogy: list[tuple[str, str]] | None = None, methods: tuple[str, ...] = EvaluateSpec().methods,
             restrict: int | None = SearchSpec.restrict) -> dict:
    """Run every benchmark; returns one dict that strict JSON can hold (see ``embedcli evaluate --format
    json``): an undefined score (no pair or question covered) is None.

    Args:
        similarity, analogy: ``(name, path)`` of each benchmark file; None (both): the bundled ones
            (:data:`BUNDLED_SIMILARITY`, :data:`BUNDLED_ANALOGY`).

    Raises:
        InputError: a missing benchmark file.  FormatError: a malformed one.
    """
    if similarity is None and analogy is None:
        similarity = [(n, bundled_path(f)) for n, f in BUNDLED_SIMILARITY.items()]
        analogy = [(n, bundled_path(f)) for n, f in BUNDLED_ANALOGY.items()]
    similarity, analogy = similarity or [], analogy or []
    check_files([p for _, p in [*similarity, *analogy]])
    sims = [evaluate_similarity(vectors, p, n) for n, p in similarity]
    anas = [evaluate_analogy(vectors, p, n, m, restrict) for n, p in analogy for m in methods]
    return _no_nan({
        "n_words": len(vectors),
        "dim": vectors.dim,
        "similarity": [{**{k: v for k, v in asdict(s).items() if k not in ("gold", "predicted")},
                        "coverage": s.coverage} for s in sims],
        "analogy": [
            {**asdict(a), "accuracy": a.accuracy, "accuracy_all": a.accuracy_all,
             "semantic": a.subtotal("semantic"), "syntactic": a.subtotal("syntactic"), "restrict": restrict}
            for a in anas
        ],
    })


def _no_nan(x):
    if isinstance(x, float) and x != x:
        return None
    if isinstance(x, dict):
        return {k: _no_nan(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_no_nan(v) for v in x]
    return x
