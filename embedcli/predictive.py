"""Predictive embeddings through gensim: word2vec, fastText and phrase detection.

gensim does the training; this module feeds it tokens files (gensim's fast
``corpus_file`` path), reports progress, validates inputs before long work and
turns the results into :class:`~embedcli.vectors.Vectors` (or a Facebook
fastText ``.bin`` for models that must build vectors for unseen words).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import tempfile
import time
from dataclasses import asdict, dataclass, field
import numpy as np

from embedcli import __version__
from embedcli.errors import DataError, FormatError, UsageError
from embedcli.io import Progress, atomic_path, spooled
from embedcli.vectors import Vectors

FASTTEXT_MAGIC = 793712314  # first int32 of a Facebook fastText .bin (gensim/_fasttext_bin.py)


@dataclass
class Word2VecParams:
    """word2vec hyperparameters, named and defaulting as in gensim's ``Word2Vec``.

    ``workers`` defaults to the number of cores.  fastText adds ``minn``,
    ``maxn`` (character n-gram lengths) and ``bucket`` (hash buckets).
    """

    sg: int = 0
    vector_size: int = 100
    window: int = 5
    negative: int = 5
    hs: int = 0
    ns_exponent: float = 0.75
    sample: float = 1e-3
    min_count: int = 5
    max_vocab_size: int | None = None
    epochs: int = 5
    alpha: float = 0.025
    min_alpha: float = 0.0001
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    seed: int = 1

    def validate(self) -> None:
        """Raise UsageError naming the first out-of-range option."""
        checks = [
            ("--dim", self.vector_size, self.vector_size >= 1),
            ("--window", self.window, self.window >= 1),
            ("--negative", self.negative, self.negative >= 0),
            ("--epochs", self.epochs, self.epochs >= 1),
            ("--min-count", self.min_count, self.min_count >= 1),
            ("--workers", self.workers, self.workers >= 1),
            ("--alpha", self.alpha, self.alpha > 0),
            ("--min-alpha", self.min_alpha, 0 <= self.min_alpha <= self.alpha),
            ("--sample", self.sample, self.sample >= 0),
            ("--max-vocab-size", self.max_vocab_size, self.max_vocab_size is None or self.max_vocab_size >= 1),
        ]
        for name, value, ok in checks:
            if not ok:
                raise UsageError(f"{name} {value}: out of range")
        if self.hs not in (0, 1):
            raise UsageError(f"--hs {self.hs}: must be 0 or 1")
        if self.negative == 0 and self.hs == 0:
            raise UsageError("--negative 0 needs --hs: no training objective left")

    def gensim_kwargs(self) -> dict:
        return asdict(self)


@dataclass
class FastTextParams(Word2VecParams):
    """fastText hyperparameters (gensim's ``FastText`` names and defaults)."""

    minn: int = 3
    maxn: int = 6
    bucket: int = 2000000

    def validate(self) -> None:
        super().validate()
        if self.minn < 1 or self.maxn < self.minn:
            raise UsageError(f"--minn {self.minn} --maxn {self.maxn}: need 1 <= minn <= maxn")
        if self.bucket < 1:
            raise UsageError(f"--bucket {self.bucket}: must be at least 1")

    def gensim_kwargs(self) -> dict:
        d = asdict(self)
        d["min_n"], d["max_n"] = d.pop("minn"), d.pop("maxn")
        return d


def plain_tokens_file(path: str):
    """gensim's ``corpus_file`` needs an uncompressed file: stdin or a compressed file is copied to a temporary one."""
    return spooled(path, decompress=True)


class _GensimProgress(logging.Handler):
    """Turns gensim's periodic "EPOCH n - PROGRESS: at x% ..., y words/s" log lines into our progress line."""

    PATTERN = re.compile(r"EPOCH (\d+)\D.*?PROGRESS: at ([\d.]+)% \w+, ([\d.]+) words/s")

    def __init__(self, progress: Progress, epochs: int):
        super().__init__(logging.INFO)
        self.progress = progress
        self.epochs = epochs
        self.words_per_s = 0.0

    def emit(self, record: logging.LogRecord) -> None:
        m = self.PATTERN.search(record.getMessage())
        if not m:
            return
        epoch, pct, wps = int(m.group(1)), float(m.group(2)), float(m.group(3))
        self.words_per_s = wps
        done = min(epoch, self.epochs - 1) + pct / 100  # gensim numbers epochs from 0
        self.progress.update(done, self.epochs, f"epoch {min(epoch, self.epochs - 1) + 1}/{self.epochs}, {wps:,.0f} words/s")


@contextlib.contextmanager
def _report_progress(progress: Progress | None, epochs: int):
    if progress is None or progress.quiet:
        yield None
        return
    loggers = [logging.getLogger(n) for n in ("gensim.models.word2vec", "gensim.models.fasttext")]
    handler = _GensimProgress(progress, epochs)
    saved = [(lg.level, lg.propagate) for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.INFO)
        lg.addHandler(handler)
        lg.propagate = False
    try:
        yield handler
    finally:
        for lg, (level, prop) in zip(loggers, saved):
            lg.removeHandler(handler)
            lg.setLevel(level)
            lg.propagate = prop
        progress.close()


def _check_corpus(path: str) -> None:
    if os.path.getsize(path) == 0 or not _has_token(path):
        raise DataError(f"{path}: no tokens (empty corpus)")


def _has_token(path: str) -> bool:
    with open(path, "rb") as f:
        while True:
            block = f.read(1 << 20)
            if not block:
                return False
            if block.strip():
                return True


def _train(cls, tokens: str, params: Word2VecParams, progress: Progress | None):
    """Build the vocabulary, check it, train; returns (model, stats)."""
    params.validate()
    with plain_tokens_file(tokens) as path:
        _check_corpus(path)
        kwargs = params.gensim_kwargs()
        epochs = kwargs.pop("epochs")
        model = cls(**kwargs, epochs=epochs)
        t0 = time.perf_counter()
        model.build_vocab(corpus_file=path)
        if len(model.wv) == 0:
            raise DataError(f"{tokens}: no word occurs --min-count {params.min_count} times; lower --min-count")
        with _report_progress(progress, epochs):
            trained, raw = model.train(corpus_file=path, total_examples=model.corpus_count,
                                       total_words=model.corpus_total_words, epochs=epochs)
        elapsed = time.perf_counter() - t0
    stats = {"train_seconds": round(elapsed, 3), "words_trained": int(trained), "raw_words": int(raw),
             "words_per_second": round(raw / elapsed) if elapsed > 0 else None,
             "corpus_words": int(model.corpus_total_words), "corpus_documents": int(model.corpus_count)}
    return model, stats


_TIMING = ("train_seconds", "words_per_second")  # not written to files: outputs stay byte-reproducible


def _meta(method: str, params: Word2VecParams, tokens: str, stats: dict) -> dict:
    import gensim

    return {"embedcli_version": __version__, "method": method, "gensim_version": gensim.__version__,
            "params": {**asdict(params), "tokens": tokens},
            "training": {k: v for k, v in stats.items() if k not in _TIMING}}


def kv_to_vectors(kv, meta: dict, vectors: np.ndarray | None = None) -> Vectors:
    """A gensim ``KeyedVectors`` (words in frequency order) as :class:`Vectors` (float32, copied)."""
    counts = np.asarray([kv.get_vecattr(w, "count") for w in kv.index_to_key], dtype=np.int64)
    vecs = np.ascontiguousarray(kv.vectors if vectors is None else vectors, dtype=np.float32)
    return Vectors(list(kv.index_to_key), vecs, counts, meta)


def train_word2vec(tokens: str, params: Word2VecParams | None = None, vectors: str = "w",
                   progress: Progress | None = None) -> tuple[Vectors, Vectors | None, dict]:
    """Train gensim ``Word2Vec`` on a tokens file (one document per line).

    Args:
        vectors: what the main output holds: ``w`` (input vectors, ``wv``),
            ``c`` (output/context vectors, ``syn1neg``) or ``w+c`` (their sum).

    Returns:
        ``(main, contexts, stats)``: ``(n_words, dim) float32`` vectors;
        ``contexts`` are the negative-sampling output vectors (None with
        ``negative=0``); ``stats`` has training time and words/s.

    Raises:
        UsageError: a parameter out of range, or ``c``/``w+c`` without negative sampling.
        DataError: an empty corpus, or no word reaching ``min_count``.
    """
    from gensim.models import Word2Vec

    params = params or Word2VecParams()
    if vectors not in ("w", "c", "w+c"):
        raise UsageError(f"--vectors {vectors}: choose one of w, c, w+c")
    if vectors != "w" and params.negative == 0:
        raise UsageError(f"--vectors {vectors} needs negative sampling (--negative > 0): "
                         "hierarchical softmax has no per-word output vectors")
    model, stats = _train(Word2Vec, tokens, params, progress)
    meta = _meta("word2vec", params, tokens, stats)
    ctx = None
    if params.negative > 0:
        ctx = kv_to_vectors(model.wv, {**meta, "kind": "context"}, model.syn1neg)
    if vectors == "w":
        main = kv_to_vectors(model.wv, meta)
    elif vectors == "c":
        main = ctx
    else:
        main = kv_to_vectors(model.wv, {**meta, "vectors": "w+c"}, model.wv.vectors + model.syn1neg)
    return main, ctx, stats


def train_fasttext(tokens: str, params: FastTextParams | None = None, progress: Progress | None = None):
    """Train gensim ``FastText``; returns ``(model, stats)`` (save with :func:`save_fasttext`).

    Raises:
        UsageError, DataError: as :func:`train_word2vec`.
    """
    from gensim.models import FastText

    params = params or FastTextParams()
    model, stats = _train(FastText, tokens, params, progress)
    model.embedcli_meta = _meta("fasttext", params, tokens, stats)
    return model, stats


def save_fasttext(model, path: str) -> None:
    """Write a Facebook fastText ``.bin`` atomically (gensim's ``save_facebook_model``; no pickle).

    The file's size is about ``(n_words + bucket) * dim * 4`` bytes.  The
    training parameters go to ``PATH.meta.json`` (the format has no room).

    Raises:
        UsageError: an unwritable output folder.
    """
    from gensim.models.fasttext import save_facebook_model

    from embedcli.io import write_sidecar

    with atomic_path(path) as tmp:
        save_facebook_model(model, tmp)
    meta = getattr(model, "embedcli_meta", None)
    if meta:
        write_sidecar(path, {**meta, "format": "fasttext-bin", "shape": [len(model.wv), model.wv.vector_size]})


def is_fasttext_bin(path: str) -> bool:
    """True when the file starts with the Facebook fastText magic number."""
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError:
        return False
    return len(head) == 4 and int.from_bytes(head, "little") == FASTTEXT_MAGIC


def _check_fasttext_size(path: str) -> None:
    """Check the header against the file size before gensim reads it.

    gensim's reader loops forever on a file truncated inside the vocabulary,
    so a file shorter than its header implies is refused first.  Layout
    (fastText ``FastText::saveModel``): magic, version, 12 int32 and one
    float64 of arguments, then vocab_size, nwords, nlabels (int32), ntokens,
    pruneidx_size (int64), the words (each >= 11 bytes), then the input
    matrix of ``(nwords + bucket) x dim`` float32.
    """
    import struct

    with open(path, "rb") as f:
        head = f.read(92)
    size = os.path.getsize(path)
    if len(head) < 92:
        raise FormatError(f"{path}: corrupt or truncated fastText model (header)")
    args = struct.unpack("<2i12id", head[:64])
    dim, bucket, minn, maxn = args[2], args[10], args[11], args[12]
    vocab_size, nwords, nlabels = struct.unpack("<3i", head[64:76])
    if not (0 < dim <= 100000 and 0 <= bucket and 0 <= nwords <= vocab_size and 0 <= minn <= maxn < 1000):
        raise FormatError(f"{path}: corrupt fastText model header")
    if nlabels:
        raise FormatError(f"{path}: supervised fastText models (labels) are not supported")
    need = 92 + 11 * vocab_size + (nwords + bucket) * dim * 4
    if size < need:
        raise FormatError(f"{path}: corrupt or truncated fastText model ({size:,} bytes, header implies >= {need:,})")


class FastTextVectors(Vectors):
    """Vectors of a fastText model: in-vocabulary rows plus :meth:`oov_vector` for any other word."""

    kv = None

    def oov_vector(self, word: str) -> np.ndarray:
        """``(dim,) float32`` vector of ``word`` built from its character n-grams."""
        return np.asarray(self.kv.get_vector(word), dtype=np.float32)


def load_fasttext(path: str) -> FastTextVectors:
    """Load a Facebook fastText ``.bin`` (as written by ``embedcli fasttext`` or fastText itself).

    Raises:
        FormatError: the file is not a fastText model, or is corrupt/truncated.
        UsageError: the file does not exist.
    """
    if not os.path.isfile(path):
        raise UsageError(f"{path}: no such file")
    if not is_fasttext_bin(path):
        raise FormatError(f"{path}: not a fastText model (.bin from 'embedcli fasttext' or fastText)")
    _check_fasttext_size(path)
    from gensim.models.fasttext import load_facebook_vectors

    try:
        kv = load_facebook_vectors(path)
    except Exception as e:  # gensim raises many kinds on corrupt input (struct.error, ValueError, EOFError, ...)
        raise FormatError(f"{path}: corrupt or truncated fastText model ({type(e).__name__}: {e})") from None
    counts = np.asarray([kv.get_vecattr(w, "count") for w in kv.index_to_key], dtype=np.int64)
    v = FastTextVectors(list(kv.index_to_key), np.asarray(kv.vectors, dtype=np.float32), counts,
                        {"method": "fasttext", "source_format": "fasttext-bin", "minn": kv.min_n, "maxn": kv.max_n,
                         "bucket": kv.bucket})
    v.kv = kv
    return v


def learn_phrases(
    tokens: str,
    out,
    min_count: int = 5,
    threshold: float | None = None,
    scoring: str = "default",
    passes: int = 1,
    delimiter: str = "_",
    connector_words: str = "none",
    max_vocab_size: int = 40000000,
    progress: Progress | None = None,
) -> dict:
    """Join frequent collocations (``new york`` -> ``new_york``) with gensim's ``Phrases``.

    Each pass learns bigrams on the previous pass's output, so ``passes=2``
    can form 3- and 4-word phrases.  ``threshold`` defaults to gensim's 10 for
    ``default`` scoring (Mikolov et al. 2013) and 0.5 for ``npmi`` (Bouma 2009,
    range -1..1).  Writes a tokens file to the binary stream ``out``.

    Returns statistics: phrases learned per pass, tokens in and out.

    Raises:
        UsageError: bad parameters.  DataError: an empty corpus.
    """
    from gensim.models.phrases import ENGLISH_CONNECTOR_WORDS, Phrases
    from gensim.models.word2vec import LineSentence

    if scoring not in ("default", "npmi"):
        raise UsageError(f"--scoring {scoring}: choose default or npmi")
    if threshold is None:
        threshold = 10.0 if scoring == "default" else 0.5
    if scoring == "npmi" and not -1 <= threshold <= 1:
        raise UsageError(f"--threshold {threshold}: npmi scores lie in [-1, 1]")
    if scoring == "default" and threshold <= 0:
        raise UsageError(f"--threshold {threshold}: must be positive for default scoring")
    if min_count < 1:
        raise UsageError(f"--min-count {min_count}: must be at least 1")
    if passes < 1:
        raise UsageError(f"--passes {passes}: must be at least 1")
    if not delimiter or any(c.isspace() for c in delimiter):
        raise UsageError("--delimiter must be non-empty and hold no white space")
    connectors = ENGLISH_CONNECTOR_WORDS if connector_words == "english" else frozenset()
    stats: dict = {"phrases_per_pass": [], "passes": passes}
    with contextlib.ExitStack() as stack:
        current = stack.enter_context(plain_tokens_file(tokens))
        _check_corpus(current)
        tmpdir = stack.enter_context(tempfile.TemporaryDirectory(prefix="embedcli-phrases-"))
        for i in range(passes):
            model = Phrases(LineSentence(current, max_sentence_length=10**9), min_count=min_count,
                            threshold=threshold, scoring=scoring, delimiter=delimiter,
                            connector_words=connectors, max_vocab_size=max_vocab_size)
            frozen = model.freeze()
            stats["phrases_per_pass"].append(len(frozen.phrasegrams))
            last = i == passes - 1
            target = out if last else open(os.path.join(tmpdir, f"pass{i}.txt"), "wb")
            n_in = n_out = 0
            done = 0
            with open(current, "rb") as src:
                for lineno, raw in enumerate(src, 1):
                    try:
                        toks = raw.decode("utf-8").split()
                    except UnicodeDecodeError:
                        raise DataError(f"{tokens}:{lineno}: not valid UTF-8 (tokens files are UTF-8)") from None
                    if not toks:
                        continue
                    joined = frozen[toks]
                    n_in += len(toks)
                    n_out += len(joined)
                    target.write((" ".join(joined) + "\n").encode("utf-8"))
                    done += len(raw)
                    if progress is not None:
                        progress.update(done, extra=f"pass {i + 1}/{passes}")
            if i == 0:
                stats["tokens_in"] = n_in
            stats["tokens_out"] = n_out
            if not last:
                target.close()
                current = os.path.join(tmpdir, f"pass{i}.txt")
    if progress is not None:
        progress.close()
    return stats
