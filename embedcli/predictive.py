"""Predictive embeddings through gensim: word2vec and fastText (phrase detection: :mod:`embedcli.phrases`).

gensim does the training; this module feeds it tokens files (gensim's fast
``corpus_file`` path), reports progress, validates inputs before long work and
turns the results into :class:`~embedcli.vectors.Vectors` (or a Facebook
fastText ``.bin`` for models that must build vectors for unseen words).
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import time
from typing import NamedTuple

import numpy as np

from embedcli.arguments import entry_point
from embedcli.errors import DataError
from embedcli.fileio import Progress, naming_scratch_errors, scratch_prefix, spooled
from embedcli.phrases import learn_phrases  # noqa: F401  (re-exported; phrases live in embedcli.phrases)
from embedcli.provenance import file_provenance, stage_record
from embedcli.specs import FastTextSpec, VocabSpec, Word2VecSpec
from embedcli.vectorfile import save_fasttext  # noqa: F401  (re-exported: the fastText writer)
from embedcli.vectors import Vectors


def plain_tokens_file(path: str):
    """gensim's ``corpus_file`` needs an uncompressed file: stdin or a compressed file is copied to a temporary one."""
    return spooled(path, decompress=True)


class _EpochProgress:
    """Progress of gensim's training from the ends of its epochs, with a heartbeat in between.

    gensim's own progress lines are no guide in ``corpus_file`` mode (the mode embedcli uses): each
    worker thread reports once, when it has trained its share of the file, so the first line comes
    when the first thread is done ("50%" with two threads, near the epoch's real end) and its
    words/s counts the finished threads' words only.  Here an epoch's end (gensim's
    ``on_epoch_end`` callback) is exact; inside an epoch the share done is ``reading()`` -- the share
    of the corpus file the threads have read (:func:`file_read_share`) -- when it is known, else it is
    estimated from the time the finished epochs took (a heartbeat thread updates the line; capped
    below the epoch's end).  With neither (the first epoch, no ``/proc``) only the elapsed time is
    shown.  Words/s: the corpus's raw words times the epochs done, over the training time.
    """

    def __init__(self, progress: Progress, epochs: int, corpus_words: int, reading=None):
        import threading

        self.progress, self.epochs, self.corpus_words = progress, epochs, corpus_words
        self.reading = reading or (lambda: None)
        self.done = 0
        self.t0 = self.epoch_t0 = time.perf_counter()
        progress.start = self.t0  # the ETA counts training only, not reading the vocabulary before it
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.words_per_s = self.per_epoch = 0.0

    def epoch_ended(self) -> None:
        with self.lock:
            now = time.perf_counter()
            self.done += 1
            self.epoch_t0 = now
            self.per_epoch = (now - self.t0) / self.done
            self.words_per_s = self.corpus_words * self.done / max(now - self.t0, 1e-9)
            self._update(now)

    def tick(self) -> None:
        with self.lock:
            self._update(time.perf_counter())

    def _update(self, now: float) -> None:
        epoch = f"epoch {min(self.done + 1, self.epochs)}/{self.epochs}"
        share = self.reading() if self.done < self.epochs else None
        if self.done == 0 and share is None:
            self.progress.update(0, None, f"{epoch}, {now - self.t0:,.0f} s")
            return
        if share is not None:
            inside = min(share, 0.99)
        else:
            inside = min((now - self.epoch_t0) / max(self.per_epoch, 1e-9), 0.95) if self.done < self.epochs else 0.0
        rate = self.words_per_s or self.corpus_words * inside / max(now - self.t0, 1e-9)
        self.progress.update(self.done + inside, self.epochs, f"{epoch}, {rate:,.0f} words/s")

    def beat(self, every: float = 1.0) -> None:
        while not self.stop.wait(every):
            try:
                self.tick()
            except SystemExit:  # a pending signal: the main thread stops the run
                return


def file_read_share(path: str, workers: int) -> float | None:
    """The share (0..1) of ``path`` that gensim's ``corpus_file`` threads have read in this epoch.

    Each of the ``workers`` threads opens the file and trains on its ``1/workers`` of the bytes,
    starting at ``size / workers * k`` (gensim's ``_train_epoch_corpusfile``); the read offsets of
    this process's descriptors of the file (``/proc/self/fdinfo``, Linux) say how far each got.
    None when that is not knowable: no ``/proc``, or not exactly ``workers`` descriptors open
    (an epoch starting or ending).
    """
    try:
        real, size = os.path.realpath(path), os.path.getsize(path)
        fds = os.listdir("/proc/self/fd")
    except OSError:
        return None
    pos = []
    for fd in fds:
        try:
            if os.readlink(f"/proc/self/fd/{fd}") != real:
                continue
            with open(f"/proc/self/fdinfo/{fd}", encoding="ascii") as f:
                pos += [int(line.split()[1]) for line in f if line.startswith("pos:")]
        except (OSError, ValueError, IndexError):
            continue
    if len(pos) != workers or size == 0:
        return None
    part = size / workers
    return sum(min(max(p - part * k, 0.0), part) for k, p in enumerate(sorted(pos))) / size


@contextlib.contextmanager
def _report_scan(progress: Progress | None, corpus: str, every: float = 1.0):
    """Progress while gensim reads the corpus once to build its vocabulary (one reader: the share of
    the file read, :func:`file_read_share`), on a heartbeat thread."""
    if progress is None or progress.quiet:
        yield
        return
    import threading

    stop = threading.Event()
    t0 = time.perf_counter()

    last: list = [None]

    def beat():
        while not stop.wait(every):
            share = file_read_share(corpus, 1)
            if share is None:
                share = last[0]  # the file closed: gensim is sorting what it read, not starting again
            last[0] = share
            try:
                if share is None:
                    progress.update(0, None, f"reading the vocabulary, {time.perf_counter() - t0:,.0f} s")
                else:
                    progress.update(share, 1, "reading the vocabulary")
            except SystemExit:  # a pending signal: the main thread stops the run
                return

    thread = threading.Thread(target=beat, name="embedcli-scan-progress", daemon=True)
    progress.start = t0
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


@contextlib.contextmanager
def _report_progress(progress: Progress | None, epochs: int, corpus_words: int, corpus: str | None = None,
                     workers: int = 1):
    """Yield the callbacks to pass to gensim's ``train`` (none without progress); ``corpus``: the
    file gensim reads with ``workers`` threads, watched for progress inside an epoch."""
    if progress is None or progress.quiet:
        yield []
        return
    import threading

    from gensim.models.callbacks import CallbackAny2Vec

    state = _EpochProgress(progress, epochs, corpus_words,
                           (lambda: file_read_share(corpus, workers)) if corpus else None)

    class _OnEpochEnd(CallbackAny2Vec):
        def on_epoch_end(self, model):
            state.epoch_ended()

    beat = threading.Thread(target=state.beat, name="embedcli-progress", daemon=True)
    beat.start()
    try:
        yield [_OnEpochEnd()]
    finally:
        state.stop.set()
        beat.join()
        progress.close()


#: gensim trains a line of more tokens as chunks of this many (``MAX_WORDS_IN_BATCH``, its
#: ``max_sentence_length``)
GENSIM_MAX_SENTENCE = 10_000


#: White space that Python's ``str.split`` (gensim's vocabulary scan) splits on and C++'s ``>>`` (gensim's
#: ``corpus_file`` training reader) does not, as UTF-8 bytes: a token holding one is counted as two words
#: and trained as one unknown token, so both words keep their random vectors.
_FOREIGN_SPACE = re.compile(rb"[\x1c-\x1f]|\xc2[\x85\xa0]|\xe1\x9a\x80|\xe2\x80[\x80-\x8a\xa8\xa9\xaf]|\xe2\x81\x9f"
                            rb"|\xe3\x80\x80")
#: every byte that cannot begin a :data:`_FOREIGN_SPACE`; what ``bytes.translate`` leaves of a block
#: without them says whether the regular expression need look (0.015 s against 0.53 s over
#: english-mix's tokens, whose blocks are nearly all ASCII)
_NOT_FOREIGN_LEAD = bytes(sorted(set(range(256)) - set(range(0x1C, 0x20)) - {0xC2, 0xE1, 0xE2, 0xE3}))


def _has_foreign_space(b: bytes) -> bool:
    return bool(b.translate(None, _NOT_FOREIGN_LEAD)) and _FOREIGN_SPACE.search(b) is not None


def _check_corpus(path: str, name: str | None = None) -> tuple[bool, bool]:
    """Refuse an empty tokens file, or one that is not UTF-8 (gensim would fail with a traceback),
    naming the line.  Returns whether some line is long enough (over ``2 * GENSIM_MAX_SENTENCE``
    bytes) that it may hold more than :data:`GENSIM_MAX_SENTENCE` tokens, and whether the file
    holds white space gensim's two readers disagree on (:data:`_FOREIGN_SPACE`)."""
    import codecs

    name = name or path
    if os.path.getsize(path) == 0 or not _has_token(path):
        raise DataError(f"{name}: no tokens (empty corpus)")
    dec = codecs.getincrementaldecoder("utf-8")()
    lineno = 1
    long_line, since_newline = False, 0  # bytes of the current line seen so far
    foreign, tail = False, b""
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            # the block, and its first bytes after the last block's (a character cut by the block's edge)
            foreign = foreign or _has_foreign_space(block) or _has_foreign_space(tail + block[:2])
            tail = block[-2:]
            try:
                dec.decode(block)
            except UnicodeDecodeError as e:
                line = lineno + block[: max(e.start, 0)].count(b"\n")
                raise DataError(f"{name}:{line}: not valid UTF-8 (tokens files are UTF-8; tokenize the text with "
                                "embedcli tokenize --encoding/--errors)") from None
            ends = np.flatnonzero(np.frombuffer(block, np.uint8) == 10)
            lineno += len(ends)
            if not long_line:
                gaps = np.diff(ends, prepend=-1 - since_newline) if len(ends) else np.array([since_newline + len(block)])
                long_line = bool(gaps.max() > 2 * GENSIM_MAX_SENTENCE)
            since_newline = len(block) - 1 - int(ends[-1]) if len(ends) else since_newline + len(block)
    try:
        dec.decode(b"", final=True)  # a character cut by the end of the file
    except UnicodeDecodeError:
        raise DataError(f"{name}:{lineno}: not valid UTF-8 (the file ends inside a "
                        "character)") from None
    return long_line or since_newline > 2 * GENSIM_MAX_SENTENCE, foreign


def _ascii_spaces_copy(src: str, dst: str) -> int:
    """Copy a tokens file with every :data:`_FOREIGN_SPACE` made an ASCII space; returns how many were."""
    n, rest = 0, b""
    with open(src, "rb") as f, open(dst, "wb") as out:
        for block in iter(lambda: f.read(1 << 22), b""):
            block = rest + block
            cut = block.rfind(b"\n") + 1  # whole lines: no character is cut
            text, k = _FOREIGN_SPACE.subn(b" ", block[:cut])
            out.write(text)
            n, rest = n + k, block[cut:]
        text, k = _FOREIGN_SPACE.subn(b" ", rest)
        out.write(text)
    return n + k


_WHITE = np.zeros(256, bool)
_WHITE[[9, 10, 11, 12, 13, 32]] = True


class _Cuts(NamedTuple):
    positions: np.ndarray  # token starts, in the part, that begin a new chunk
    ordinal: int  # tokens of the part's last line so far


def _cuts(a: np.ndarray, ordinal: int, prev_white: bool, max_tokens: int) -> _Cuts:
    """Where :func:`split_long_lines` cuts a part ``a`` (uint8) of a tokens file: the starts of the
    tokens whose 0-based place in their line is a positive multiple of ``max_tokens``.
    ``ordinal``: tokens of the part's first line before the part; ``prev_white``: whether the byte
    before the part is white space.  Only the part's first and last lines, and lines of more than
    ``2 * max_tokens - 1`` bytes, can hold a cut (a line of L bytes holds at most ``(L + 1) // 2``
    tokens), so only those are looked at: about a fifth of english-mix's bytes."""
    ends = np.flatnonzero(a == 10)
    starts = np.concatenate(([0], ends + 1))
    stops = np.concatenate((ends, [len(a)]))
    look = (stops - starts + 1) // 2 > max_tokens
    look[0] = look[-1] = True
    found = []
    for i in np.flatnonzero(look).tolist():
        s, e = int(starts[i]), int(stops[i])
        o, before = (ordinal, prev_white) if i == 0 else (0, True)  # a later line follows a newline
        white = _WHITE[a[s:e]]
        start = ~white
        if e > s:
            start[1:] &= white[:-1]
            start[0] &= before
        first = np.flatnonzero(start)
        j = (-o) % max_tokens or (max_tokens if o == 0 else 0)  # the first start at a positive multiple
        found.append(s + first[j::max_tokens])
        ordinal = o + len(first)
    cut = np.concatenate(found)
    return _Cuts(cut[cut > 0], ordinal)


def split_long_lines(src: str, dst: str | None, max_tokens: int = GENSIM_MAX_SENTENCE, block_size: int = 1 << 22,
                     progress: Progress | None = None) -> int:
    """Copy a tokens file, ending a line after every ``max_tokens`` tokens of a longer one
    (``dst=None``: in place, writing only the changed bytes -- for a temporary copy that embedcli
    owns, e.g. a decompressed ``.gz``, so that no second copy is made).

    gensim's ``corpus_file`` training cuts such a line into the same chunks itself, but it first
    holds the whole line as C++ strings and re-copies its pending chunks for every batch:
    gigabytes and quadratic time for a line of millions of tokens (``text8`` is one line of 17M).
    Here the white-space byte before each cut becomes a newline, so the copy has the same size
    and byte offsets (gensim divides the file among its threads by offset): training on it is
    training on the original -- when the file ends with a newline: without one, gensim drops the
    last line's chunks that it still holds at the end of the file, and the copy (whose last line is
    short) trains them.  Streams in ``block_size`` blocks, vectorized; ``progress`` gets the bytes
    read.  Returns the lines added.
    """
    total, done = os.path.getsize(src), 0
    added, ordinal, prev_white = 0, 0, True  # tokens of the current line so far; the byte before the part
    carry, pos = b"", 0  # pos: the file offset of the part
    with open(src, "rb") as f, open(dst if dst is not None else src, "wb" if dst is not None else "r+b") as out:
        while True:
            block = f.read(block_size)
            done += len(block)
            if progress is not None and not progress.quiet:
                progress.update(done, total, "cutting lines of over 10,000 tokens (as gensim would)")
            buf = carry + block
            if not buf:
                break
            # cut before the last white space, so that the byte before each token start is in this part
            last = max(buf.rfind(c) for c in (b" ", b"\n", b"\t", b"\r", b"\x0b", b"\x0c")) if block else -1
            part, carry = (buf[:last], buf[last:]) if last >= 0 else (buf, b"")
            if not part:  # the white space is the first byte: wait for what follows it
                continue
            a = np.frombuffer(part, np.uint8)
            cut, ordinal = _cuts(a, ordinal, prev_white, max_tokens)
            if len(cut):
                added += len(cut)
                if dst is None:  # a few bytes per 10,000 tokens: written where they are
                    for c in (cut - 1).tolist():
                        out.seek(pos + c)
                        out.write(b"\n")
                else:
                    a = a.copy()
                    a[cut - 1] = 10
            if dst is not None:
                out.write(a.tobytes() if len(cut) else part)
            pos += len(part)
            prev_white = bool(_WHITE[a[-1]])
    return added


def _has_token(path: str) -> bool:
    with open(path, "rb") as f:
        while True:
            block = f.read(1 << 20)
            if not block:
                return False
            if block.strip():
                return True


def _gensim_kwargs(spec: Word2VecSpec, vocab: VocabSpec) -> dict:
    """gensim's keyword arguments for a spec (names are gensim's already)."""
    kw = {f: getattr(spec, f) for f in ("vector_size", "window", "negative", "hs", "ns_exponent", "sample",
                                         "epochs", "alpha", "min_alpha", "seed")}
    kw.update(sg=int(spec.sg), workers=spec.n_workers, min_count=vocab.min_count)  # max_vocab_size: _top_words_rule
    if isinstance(spec, FastTextSpec):
        kw.update(min_n=spec.minn, max_n=spec.maxn, bucket=spec.bucket)
    return kw


def _train(cls, tokens: str, spec: Word2VecSpec, vocab: VocabSpec, progress: Progress | None):
    """Build the vocabulary, check it, train; returns (model, stats)."""
    spaces = 0
    with plain_tokens_file(tokens) as path, contextlib.ExitStack() as stack:
        long_lines, foreign = _check_corpus(path, tokens)
        owned = path != tokens  # our own temporary copy (stdin, .gz)
        try:
            path.encode("utf-8")
        except UnicodeEncodeError:  # gensim's reader threads die on such a name and training never ends
            tmpdir = stack.enter_context(tempfile.TemporaryDirectory(prefix=scratch_prefix("link")))
            os.symlink(os.path.abspath(path), os.path.join(tmpdir, "tokens.txt"))
            path = os.path.join(tmpdir, "tokens.txt")
        if foreign:  # train on the words the vocabulary counts: a copy with ASCII spaces
            fd, copy = tempfile.mkstemp(prefix=scratch_prefix("spaces"), suffix=".txt")
            os.close(fd)
            stack.callback(os.unlink, copy)
            with naming_scratch_errors(copy):
                spaces = _ascii_spaces_copy(path, copy)
            path, owned = copy, True
        if long_lines and owned:  # cut our own copy in place
            split_long_lines(path, None, progress=progress)
        elif long_lines:  # a line gensim would cut into chunks: cut a copy first (see split_long_lines)
            fd, cut = tempfile.mkstemp(prefix=scratch_prefix("lines"), suffix=".txt")
            os.close(fd)
            stack.callback(os.unlink, cut)
            with naming_scratch_errors(cut):
                added = split_long_lines(path, cut, progress=progress)
            if added:
                path = cut
            else:  # long in bytes, not in tokens: the original will do, and the copy goes at once
                os.unlink(cut)
                stack.pop_all()
        kwargs = _gensim_kwargs(spec, vocab)
        epochs = kwargs["epochs"]
        model = cls(**kwargs)
        t0 = time.perf_counter()
        trim = _top_words_rule(path, vocab, progress) if vocab.max_vocab_size is not None else None
        with _report_scan(progress, path):
            model.build_vocab(corpus_file=path, trim_rule=trim)
        if len(model.wv) == 0:
            raise DataError(f"{tokens}: no word occurs min_count={vocab.min_count} times; lower the minimum count",
                            params=("min_count",))
        if len(model.wv) == 1 and spec.hs:  # gensim's Huffman tree needs two words (it crashes on one)
            fix = "raise --max-vocab-size" if vocab.max_vocab_size == 1 else "lower --min-count"
            raise DataError(f"{tokens}: only one word is kept (min_count={vocab.min_count}, max_vocab_size="
                            f"{vocab.max_vocab_size}); hierarchical softmax needs at least two ({fix}, or use "
                            "--hs 0 --negative 5)", params=("max_vocab_size" if vocab.max_vocab_size == 1
                                                            else "min_count",))
        with _report_progress(progress, epochs, model.corpus_total_words, path, model.workers) as callbacks:
            trained, raw = model.train(corpus_file=path, total_examples=model.corpus_count,
                                       total_words=model.corpus_total_words, epochs=epochs, callbacks=callbacks)
        elapsed = time.perf_counter() - t0
    stats = {"train_seconds": round(elapsed, 3), "words_trained": int(trained), "raw_words": int(raw),
             "words_per_second": round(raw / elapsed) if elapsed > 0 else None,
             "corpus_words": int(model.corpus_total_words), "corpus_documents": int(model.corpus_count)}
    if spaces:
        stats["non_ascii_spaces_replaced"] = spaces
    return model, stats


def _top_words_rule(path: str, vocab: VocabSpec, progress: Progress | None):
    """gensim ``trim_rule`` keeping exactly the words ``embedcli vocab`` keeps: the ``max_vocab_size`` most
    frequent with count >= ``min_count``, ties broken by word.  (gensim's own ``max_final_vocab`` raises
    the minimum count instead, dropping every word tied at the cut.)"""
    from gensim.utils import RULE_DISCARD, RULE_KEEP

    from embedcli.vocab import build_vocab

    keep = set(build_vocab(path, vocab, progress).words)
    return lambda word, count, min_count: RULE_KEEP if word in keep else RULE_DISCARD


_TIMING = ("train_seconds", "words_per_second")  # not written to files: outputs stay byte-reproducible


def _meta(method: str, spec: Word2VecSpec, vocab: VocabSpec, tokens: str, stats: dict) -> dict:
    import gensim

    kept = {k: v for k, v in stats.items() if k not in _TIMING}
    kept["workers"] = spec.n_workers  # the result is reproducible with 1 only, so a reader needs to know
    rec = stage_record(method, (vocab, spec), {"tokens": file_provenance(tokens)}, kept,
                       gensim_version=gensim.__version__)
    return {"provenance": rec}


def kv_to_vectors(kv, meta: dict, vectors: np.ndarray | None = None) -> Vectors:
    """A gensim ``KeyedVectors`` (words in frequency order) as :class:`Vectors` (float32, copied)."""
    counts = np.asarray([kv.get_vecattr(w, "count") for w in kv.index_to_key], dtype=np.int64)
    vecs = np.ascontiguousarray(kv.vectors if vectors is None else vectors, dtype=np.float32)
    return Vectors(list(kv.index_to_key), vecs, counts, meta)


@entry_point(documents="tokens")
def train_word2vec(tokens: str, spec: Word2VecSpec | None = None, vocab: VocabSpec | None = None,
                   progress: Progress | None = None) -> tuple[Vectors, Vectors | None, dict]:
    """The word2vec stage: gensim ``Word2Vec`` on a tokens file (one document per line), through
    gensim's ``corpus_file`` path (Mikolov et al. 2013; gensim's implementation).

    Args:
        spec: the :class:`~embedcli.specs.Word2VecSpec` (gensim's names and defaults).
        vocab: ``min_count`` and ``max_vocab_size`` (the words ``embedcli vocab`` keeps; not gensim's
            ``max_final_vocab``, which drops every word tied at the cut).

    ``spec.vectors`` says what the main output holds: ``w`` (input vectors,
    ``wv``), ``c`` (output/context vectors, ``syn1neg``) or ``w+c`` (their sum).

    Returns:
        ``(main, contexts, stats)``: ``(n_words, dim) float32`` vectors;
        ``contexts`` are the negative-sampling output vectors (None with
        ``negative=0``); ``stats`` has training time and words/s.

    Raises:
        DataError: an empty corpus, or no word reaching ``min_count``.
    """
    from gensim.models import Word2Vec

    spec = spec or Word2VecSpec()
    vocab = vocab or VocabSpec()
    vectors = spec.vectors
    model, stats = _train(Word2Vec, tokens, spec, vocab, progress)
    meta = _meta("word2vec", spec, vocab, tokens, stats)
    ctx = None
    if spec.negative > 0:
        ctx = kv_to_vectors(model.wv, {**meta, "kind": "context"}, model.syn1neg)
    if vectors == "w":
        main = kv_to_vectors(model.wv, {**meta, "kind": "words"})
    elif vectors == "c":
        main = ctx
    else:
        main = kv_to_vectors(model.wv, {**meta, "kind": "words", "vectors": "w+c"}, model.wv.vectors + model.syn1neg)
    return main, ctx, stats


def auto_bucket(n_words: int) -> int:
    """Hash buckets for a vocabulary of ``n_words``: the power of two at or above 10 per word,
    between 65,536 and fastText's 2,000,000 -- room for the character n-grams of the words
    without an 800 MB table for a small corpus (the model is ``(words + bucket) x dim x 4`` bytes)."""
    b = 1 << max(16, (10 * max(n_words, 1) - 1).bit_length())
    return min(b, 2_000_000)


@entry_point(documents="tokens")
def train_fasttext(tokens: str, spec: FastTextSpec | None = None, vocab: VocabSpec | None = None,
                   progress: Progress | None = None, n_words: int | None = None):
    """The fastText stage: gensim ``FastText`` (Bojanowski et al. 2017) with character n-grams;
    returns ``(model, stats)`` (save with :func:`~embedcli.vectorfile.save_fasttext`).

    ``spec.bucket=None`` sizes the hash table with :func:`auto_bucket` from the
    vocabulary (``n_words`` if known, else counted); ``stats["bucket_auto"]`` then says so.

    Raises:
        DataError: as :func:`train_word2vec`.
    """
    from gensim.models import FastText

    spec = spec or FastTextSpec()
    vocab = vocab or VocabSpec()
    if not spec.ngrams:  # fastText's -maxn 0: no n-grams, no table (recorded as such)
        spec = spec.replace(bucket=0)
    auto = spec.bucket is None
    if auto:
        if n_words is None:
            from embedcli.vocab import count_tokens

            with plain_tokens_file(tokens) as path:
                n_words = sum(1 for c in count_tokens(path).values() if c >= vocab.min_count)
        spec = spec.replace(bucket=auto_bucket(n_words))
    model, stats = _train(FastText, tokens, spec, vocab, progress)
    if auto:
        stats["bucket_auto"] = spec.bucket
    model.embedcli_meta = _meta("fasttext", spec, vocab, tokens, stats)
    return model, stats
