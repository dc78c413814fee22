"""The main job: tokenize -> vocab -> cooccur -> svd (or -> word2vec/fasttext), keeping every intermediate.

It chains the same stage functions and writers as the step-by-step commands,
with the same specs, so the files it leaves carry the same provenance as
``embedcli tokenize | vocab | cooccur --vocab | svd`` run with the same
parameters and file names.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from importlib import resources

from embedcli.arguments import entry_point
from embedcli.errors import ParameterError
from embedcli.fileio import Progress, atomic_output, check_distinct, expand_inputs, find_inputs
from embedcli.outputs import alive, make_folder
from embedcli.provenance import file_provenance
from embedcli.resume import same_work, tokens_reusable
from embedcli.specs import (CooccurSpec, FastTextSpec, GloveSpec, PipelineSpec, SVDSpec, TokenizeSpec, VocabSpec,
                            WeightingSpec, Word2VecSpec)

SAMPLE_CORPUS = "us-presidential-speeches.txt.gz"


def sample_corpus_path() -> str:
    """Path of the bundled sample corpus (US presidential speeches, public domain)."""
    return str(resources.files("embedcli.sample_corpora").joinpath(SAMPLE_CORPUS))


@dataclass
class PipelineResult:
    """Stage timings (seconds, wall) and outputs of :func:`run_pipeline`.

    Attributes:
        stages: ``(name, seconds, summary)`` per stage, in order.
        files: ``tokens``, ``vocab``, ``matrix`` (svd) or ``model`` (fasttext), ``vectors`` -> path.
        vectors: the :class:`~embedcli.vectors.Vectors` written.
        skipped: ``(path, reason)`` of inputs left out (``skip_unreadable``).
        undecodable: bytes of the corpus replaced or dropped by ``errors="replace"/"ignore"``.
        warnings: one line each about the run (e.g. GloVe's cost rose: training diverged); nothing is
            printed by the library.
    """

    outdir: str
    stages: list[tuple[str, float, str]] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)
    vectors: object = field(default=None, repr=False)
    skipped: list = field(default_factory=list)
    undecodable: int = 0
    warnings: list[str] = field(default_factory=list)


def check_cluster_pipeline(method: str, cooccur: CooccurSpec | None = None, svd: SVDSpec | None = None) -> None:
    """Refuse what ``pipeline --scheduler`` cannot run (before connecting): the gensim methods, and
    the cooccur/svd options a cluster refuses (:func:`embedcli.distributed.check_spec`).

    Raises:
        ParameterError: naming the parameter.
    """
    if method not in ("svd", "glove"):
        raise ParameterError("method", method, "trains in one process (gensim); a cluster (--scheduler) counts "
                             "and factorizes: --method svd or glove")
    from embedcli.distributed import check_spec

    for spec in (cooccur, svd if method == "svd" else None):
        if spec is not None:
            check_spec(spec)


#: a pipeline's claim on its output folder (its pid); see :func:`_output_lock`
LOCK_NAME = ".embedcli-pipeline.lock"


@contextlib.contextmanager
def _output_lock(outdir: str):
    """One pipeline at a time in ``outdir``: ``LOCK_NAME`` holds the writer's pid and host while it
    runs (a lock left by a process of this host that no longer exists, e.g. after SIGKILL, is taken
    over; one of another host is not, as its pid cannot be checked from here).

    Raises:
        InputError: another live process holds the folder.
    """
    from embedcli.errors import InputError

    path = os.path.join(outdir, LOCK_NAME)
    mine = f"{os.getpid()} {_host()}\n"
    for _ in range(3):
        try:
            _create_with(path, mine)
        except FileExistsError:
            try:
                with open(path, encoding="utf-8") as fh:
                    fields = fh.read().split()
                pid, host = int(fields[0]) if fields else 0, (fields[1] if len(fields) > 1 else _host())
            except (OSError, ValueError):
                pid, host = 0, _host()
            if pid > 0 and (host != _host() or alive(pid)):  # another host's pid cannot be checked from here
                where = f"pid {pid}" + (f" on {host}" if host != _host() else "")
                raise InputError(f"{outdir}: another embedcli pipeline ({where}) is writing this folder; wait "
                                 f"for it or give another -o (if no such run exists, remove {path})") from None
            _remove_if_still(path, f"{pid} {host}" if pid > 0 else None)  # its writer is gone
            continue
        break
    else:
        raise InputError(f"{outdir}: cannot take the folder ({path} keeps reappearing)")
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            with open(path, encoding="utf-8") as fh:
                ours = fh.read() == mine
            if ours:  # not a lock another run took over meanwhile
                os.unlink(path)


def _remove_if_still(path: str, holder: str | None) -> None:
    """Remove a stale lock, unless another run took it over since it was read: it is first renamed
    to a name of this process's own (atomic), then checked; a fresh lock moved by mistake goes back."""
    import tempfile

    moved = tempfile.mktemp(prefix=".embedcli-stale.", dir=os.path.dirname(path) or ".")
    try:
        os.rename(path, moved)
    except FileNotFoundError:
        return  # another run removed it first
    try:
        with open(moved, encoding="utf-8") as fh:
            fields = fh.read().split()
        now = " ".join(fields[:2]) if len(fields) >= 2 else None
        if holder is not None and now is not None and now != holder:  # a live run's fresh lock: put it back
            with contextlib.suppress(FileExistsError):
                os.link(moved, path)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(moved)


def _create_with(path: str, text: str) -> None:
    """Create ``path`` holding ``text``, atomically: no reader sees it empty (a hard link of a
    finished temporary file; where links are not supported, O_EXCL then a write).

    Raises:
        FileExistsError: ``path`` exists.
    """
    import tempfile

    fd, tmp = tempfile.mkstemp(prefix=".embedcli-lock.", dir=os.path.dirname(path) or ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        try:
            os.link(tmp, path)
            return
        except FileExistsError:
            raise
        except OSError:  # no hard links here
            pass
    finally:
        os.unlink(tmp)
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)


def _host() -> str:
    """This host's name in a lock file (a shared folder may be written from several machines)."""
    import socket

    return socket.gethostname().split()[0] if socket.gethostname().strip() else "localhost"


def _drop(paths: list[str]) -> None:
    """Remove these files and their ``.meta.json`` sidecars, if present."""
    for p in paths:
        for q in (p, p + ".meta.json"):
            with contextlib.suppress(FileNotFoundError, IsADirectoryError):
                os.unlink(q)


def _check_vectors_name(outdir: str, name: str) -> None:
    """Fail before any work when the vectors cannot be written as ``outdir/name``."""
    from embedcli.errors import InputError
    from embedcli.fileio import refuse_compressed
    from embedcli.vectorfile import format_from_extension

    target = os.path.normpath(os.path.join(outdir, name))
    folder = os.path.dirname(target) or "."  # -o . : the vectors' folder is the current one
    if os.path.isabs(name) or os.path.normpath(name).split(os.sep)[0] == "..":
        raise InputError(f"--vectors-name {name}: a file name inside {outdir}, not a path out of it")
    if not name or name.endswith(("/", os.sep)) or os.path.isdir(target):
        raise InputError(f"--vectors-name {name!r}: expected a file name inside {outdir}")
    if folder != os.path.normpath(outdir) and not os.path.isdir(folder):
        raise InputError(f"--vectors-name {name}: folder {folder} does not exist (give a file name inside {outdir})")
    if format_from_extension(name) == "native":
        refuse_compressed(target, "native .npz vectors")


@entry_point
def run_pipeline(
    corpora: list[str] | None,
    outdir: str,
    *,
    method: str = PipelineSpec.method,
    tokenize: TokenizeSpec | None = None,
    vocab: VocabSpec | None = None,
    cooccur: CooccurSpec | None = None,
    weighting: WeightingSpec | None = None,
    svd: SVDSpec | None = None,
    word2vec: Word2VecSpec | None = None,
    glove: GloveSpec | None = None,
    vectors_name: str = "vectors.npz",
    quiet: bool = True,
    client=None,
    resume: bool = False,
) -> PipelineResult:
    """Run the pipeline on ``corpora`` (None/empty: the bundled sample; one path may be given alone).

    ``method="svd"`` (count-based): writes into ``outdir`` (created if
    missing) ``tokens.txt``, ``vocab.tsv``, ``cooccur.npz`` and the vectors
    (``vectors_name``; the extension picks the format).  ``word2vec`` and
    ``fasttext`` replace cooccur/svd by gensim training on ``tokens.txt`` with
    ``word2vec`` (a :class:`~embedcli.specs.FastTextSpec` for fasttext, which
    also writes ``model.bin``).  Every file is written atomically, with its
    provenance.  ``glove`` counts as ``svd`` does and trains GloVe (``glove`` spec) on
    ``cooccur.npz`` instead of the SVD.  Nothing is created before the inputs and
    parameters are checked.  ``client``: a ``dask.distributed`` client for the co-occurrence
    counts and the SVD's products (:mod:`embedcli.distributed`; the same results).

    ``resume``: reuse the stage files already in ``outdir`` that an earlier run made from the same
    inputs with the same parameters (:mod:`embedcli.resume`), and run only the stages after the
    last of them; reused stages are listed in ``stages`` with 0 seconds and "reused".  The first
    stage that cannot be reused removes its own and every later file before it runs, so these
    files never mix two runs (vectors written under another ``vectors_name`` are not touched).

    Raises:
        ParameterError: an unknown method, or a word2vec spec for fasttext.
        InputError: a missing corpus, or an output folder that cannot be made.
        DataError: as the individual stages.
    """
    from embedcli.tokenizer import tokenize as run_tokenize
    from embedcli.vocab import read_vocab, vocab_from_counter

    if isinstance(corpora, str):
        corpora = [corpora]
    PipelineSpec(method=method)  # validates
    if client is not None:
        check_cluster_pipeline(method, cooccur, svd)
    if method == "glove":
        from embedcli.glove import _numba

        _numba()  # numba missing: fail before anything is created
    tokenize, vocab = tokenize or TokenizeSpec(), vocab or VocabSpec()
    cooccur, weighting, svd = cooccur or CooccurSpec(), weighting or WeightingSpec(), svd or SVDSpec()
    if method == "fasttext":
        word2vec = word2vec or FastTextSpec()
        if not isinstance(word2vec, FastTextSpec):
            raise ParameterError("method", method, "fasttext needs a FastTextSpec")
    else:
        word2vec = word2vec or Word2VecSpec()
    corpora = list(corpora) if corpora else [sample_corpus_path()]
    files_in = expand_inputs(corpora)  # a missing input fails before anything is created
    counted = method in ("svd", "glove")
    names = ["tokens.txt", "vocab.tsv", "cooccur.npz" if counted else None,
             "model.bin" if method == "fasttext" else None, vectors_name]
    check_distinct(files_in, [os.path.join(outdir, n) for n in names if n])
    _check_vectors_name(outdir, vectors_name)
    make_folder(outdir)
    with _output_lock(outdir), contextlib.ExitStack() as writing:
        res = PipelineResult(outdir)
        f = {k: os.path.normpath(os.path.join(outdir, v)) for k, v in
             {"tokens": "tokens.txt", "vocab": "vocab.tsv", "matrix": "cooccur.npz", "vectors": vectors_name}.items()}
        if not counted:
            del f["matrix"]
        res.files = f

        later = [os.path.join(outdir, n) for n in ("vocab.tsv", "cooccur.npz", "model.bin", vectors_name)]
        t = time.perf_counter()
        counter: Counter | None = None
        if resume and tokens_reusable(f["tokens"], find_inputs(corpora, tokenize.include, tokenize.exclude)[0],
                                      tokenize):
            res.stages.append(("tokenize", 0.0, f"reused {f['tokens']}"))
        else:
            resume = False  # every later stage runs
            counter = Counter()
            side: dict = {}
            with atomic_output(f["tokens"], "wb", sidecar=side) as out:
                st = run_tokenize(corpora, out, tokenize, counter=counter,
                                  progress=Progress("tokenize", "bytes", quiet), client=client)
                side.update(kind="tokens", provenance=st.provenance)
            # the folder now holds this run's tokens: an earlier run's later files would not match them
            _drop(later)
            res.skipped, res.undecodable = st.skipped, st.undecodable
            res.stages.append(("tokenize", time.perf_counter() - t,
                               f"{st.n_docs:,} documents, {st.n_tokens:,} tokens"))

        t = time.perf_counter()
        tokens_rec = file_provenance(f["tokens"])
        if resume and same_work(f["vocab"], "vocab", vocab, {"tokens": tokens_rec}):
            v = read_vocab(f["vocab"])
            res.stages.append(("vocab", 0.0, f"reused {f['vocab']}"))
        else:
            if resume:
                resume = False
                _drop(later)
            if counter is None:  # the tokens were reused: count them
                from embedcli.vocab import count_tokens

                from embedcli.specbase import cores

                counter = count_tokens(f["tokens"], Progress("vocab", "bytes", quiet), workers=cores())
            v = vocab_from_counter(counter, vocab, tokens_rec, f["tokens"])
            v.save(f["vocab"])
            v.provenance = file_provenance(f["vocab"])  # as `cooccur --vocab vocab.tsv` reads it
            res.stages.append(("vocab", time.perf_counter() - t, f"{len(v):,} words with count >= {vocab.min_count}"))

        if not counted:
            if resume and _trained_reusable(f, outdir, method, word2vec, vocab, tokens_rec, len(v)):
                return _reused_vectors(res, method)
            if resume:
                _drop(later[2:])
            return _train(res, method, word2vec, vocab, quiet, len(v))

        from embedcli.cooccur import cooccur as run_cooccur
        from embedcli.svd import factorize, resolve_weighting

        t = time.perf_counter()
        if resume and same_work(f["matrix"], "cooccur", cooccur, {"tokens": tokens_rec, "vocabulary": v.provenance}):
            from embedcli.matrix import CountMatrix

            cm = CountMatrix.load(f["matrix"])
            res.stages.append(("cooccur", 0.0, f"reused {f['matrix']}"))
        else:
            if resume:
                resume = False
                _drop(later[1:])
            cm = run_cooccur(f["tokens"], v, cooccur, Progress("cooccur", "bytes", quiet),
                             client=client)
            saving = _SaveThread(cm, f["matrix"])  # written while the next stage starts
            writing.callback(saving.join)  # whatever happens next, the file is whole (or not there)
            res.stages.append(("cooccur", time.perf_counter() - t,
                               f"{cm.matrix.nnz:,} non-zero pairs, window {cooccur.window}"))

        t = time.perf_counter()
        glove = glove or GloveSpec()
        final = ("glove", glove) if method == "glove" else ("svd", (resolve_weighting(weighting, cm.kind), svd.resolved(cm.matrix.shape)))
        if (resume and same_work(f["vectors"], *final, {"matrix": cm.record()})
                and _same_threads(f["vectors"], method, glove)):
            return _reused_vectors(res, method)
        if resume:
            _drop(later[2:])  # other options' vectors: gone before these are made, as after a rerun stage
        if method == "glove":
            from embedcli.glove import train_glove

            wv, st = train_glove(cm, glove, Progress("glove", None, quiet))
            if st["diverged"]:
                res.warnings.append(f"glove: warning: the cost rose from {st['costs'][0]:.4g} to "
                                    f"{st['costs'][-1]:.4g}: training diverged; lower eta or grad_clip")
            writing.close()  # cooccur.npz written (or its error raised) before the vectors
            fmt = wv.save(f["vectors"])
            res.vectors = wv
            res.stages.append(("glove", time.perf_counter() - t, f"{len(wv):,} x {wv.dim} {fmt} vectors, {glove.epochs} "
                               f"epochs, x_max {glove.x_max:g}, final cost {st['costs'][-1]:.4f}"))
            return res
        wv, _ = factorize(cm, weighting, svd, Progress("svd", None, quiet), client=client, release_counts=True)
        writing.close()  # cooccur.npz written (or its error raised) before the vectors
        fmt = wv.save(f["vectors"])
        res.vectors = wv
        res.stages.append(("svd", time.perf_counter() - t, f"{len(wv):,} x {wv.dim} {fmt} vectors, "
                           f"{wv.provenance['spec']['association']} cds {weighting.cds}, eig {svd.eig}"))
        return res


class _SaveThread:
    """``cm.save(path)`` on a thread, so that writing the matrix (0.3 s for the default pipeline's
    117 MB: CRCs and copies into the page cache, mostly without the GIL) overlaps the next stage.
    ``cm.path`` is set at once, as ``save`` sets it (the next stage records it), and the thread
    saves a shallow copy, so that ``factorize(release_counts=True)`` may drop ``cm.matrix``.
    :meth:`join` waits and raises the save's error; the file is written atomically either way."""

    def __init__(self, cm, path: str):
        import copy
        import threading

        cm.matrix.sum_duplicates()  # a no-op on cooccur's output: neither thread changes the arrays
        self.error: BaseException | None = None
        mine = copy.copy(cm)
        cm.path = path

        self.done = threading.Event()

        def run() -> None:
            try:
                mine.save(path)
            except BaseException as e:  # noqa: BLE001 - raised by join, in the main thread
                self.error = e
            finally:
                self.done.set()

        self.thread = threading.Thread(target=run, name="embedcli-save-matrix")
        self.thread.start()

    def join(self) -> None:
        """Wait for the save, even through Ctrl-Cs and signals (raised afterwards): Python 3.11's
        ``Thread.join``, interrupted, marks the thread as ended, and the exit then cut the write
        short, leaving its temporary file.  A signal makes the save drop its file instead of
        committing it (``outputs.atomic_path``)."""
        interrupt = None
        while not self.done.is_set():
            try:
                self.done.wait()
            except BaseException as e:  # noqa: BLE001 - KeyboardInterrupt, a signal's SystemExit
                interrupt = interrupt or e
        error, self.error = self.error, None
        if interrupt is not None:
            raise interrupt
        if error is not None:
            raise error


def _trained_reusable(f: dict, outdir: str, method: str, spec, vocab: VocabSpec, tokens_rec: dict,
                      n_words: int) -> bool:
    """Whether the word2vec/fasttext vectors (and fastText's model) in ``outdir`` were trained with
    ``spec`` and ``vocab`` on these tokens, with as many threads (the result depends on them)."""
    from embedcli.resume import recorded

    if method == "fasttext" and not spec.ngrams:  # no n-grams: recorded with no table
        spec = spec.replace(bucket=0)
    elif method == "fasttext" and spec.bucket is None:  # sized from the vocabulary, recorded as sized
        from embedcli.predictive import auto_bucket

        spec = spec.replace(bucket=auto_bucket(n_words))
    files = [f["vectors"]] + ([os.path.join(outdir, "model.bin")] if method == "fasttext" else [])
    return all(same_work(p, method, (vocab, spec), {"tokens": tokens_rec})
               and ((recorded(p) or {}).get("stats") or {}).get("workers") == spec.n_workers for p in files)


def _same_threads(path: str, method: str, glove: GloveSpec) -> bool:
    """GloVe's result depends on its thread count (Hogwild): reuse only with as many (the SVD's
    does not)."""
    if method != "glove":
        return True
    from embedcli.glove import glove_threads
    from embedcli.resume import recorded

    return ((recorded(path) or {}).get("stats") or {}).get("workers") == glove_threads(glove)


def _reused_vectors(res: PipelineResult, method: str) -> PipelineResult:
    """Finish a resumed run whose vectors were already made: load them for the report."""
    from embedcli.vectors import Vectors

    if method == "fasttext":
        res.files["model"] = os.path.join(res.outdir, "model.bin")
    res.vectors = Vectors.load(res.files["vectors"])
    res.stages.append((method, 0.0, f"reused {res.files['vectors']}"))
    return res


def _train(res: PipelineResult, method: str, spec: Word2VecSpec, vocab: VocabSpec, quiet: bool,
           n_words: int) -> PipelineResult:
    from embedcli.predictive import kv_to_vectors, train_fasttext, train_word2vec
    from embedcli.vectorfile import save_fasttext

    f = res.files
    t = time.perf_counter()
    if method == "word2vec":
        wv, _, tr = train_word2vec(f["tokens"], spec, vocab, Progress("word2vec", None, quiet))
    else:
        model, tr = train_fasttext(f["tokens"], spec, vocab, Progress("fasttext", None, quiet), n_words=n_words)
        if tr.get("bucket_auto") and not quiet:
            import sys

            sys.stderr.write(f"embedcli: fasttext: bucket {tr['bucket_auto']:,} for {n_words:,} words (sized from the "
                             "vocabulary; give --bucket to choose)\n")
        f["model"] = os.path.join(res.outdir, "model.bin")
        save_fasttext(model, f["model"])
        wv = kv_to_vectors(model.wv, model.embedcli_meta)
    fmt = wv.save(f["vectors"])
    res.vectors = wv
    arch = "skip-gram" if spec.sg else "CBOW"
    res.stages.append((method, time.perf_counter() - t, f"{len(wv):,} x {wv.dim} {fmt} vectors, {arch}, "
                       f"{spec.epochs} epochs, {tr['words_per_second']:,} words/s"))
    return res
