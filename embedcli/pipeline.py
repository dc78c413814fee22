"""The main job: tokenize -> vocab -> cooccur -> svd, keeping every intermediate."""

from __future__ import annotations

import os
import time
from collections import Counter
from dataclasses import dataclass, field
from importlib import resources

from embedcli.errors import UsageError
from embedcli.io import Progress, atomic_output, write_sidecar

SAMPLE_CORPUS = "us-presidential-speeches.txt.gz"


def sample_corpus_path() -> str:
    """Path of the bundled sample corpus (US presidential speeches, public domain)."""
    return str(resources.files("embedcli.sample_corpora").joinpath(SAMPLE_CORPUS))


@dataclass
class PipelineResult:
    """Stage timings (seconds, wall) and outputs of :func:`run_pipeline`."""

    outdir: str
    stages: list[tuple[str, float, str]] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)
    vectors: object = None


def run_pipeline(
    corpora: list[str] | None,
    outdir: str,
    *,
    min_count: int = 5,
    max_vocab_size: int | None = None,
    window: int = 5,
    weight: str = "ppmi",
    cds: float = 0.75,
    neg: float | None = None,
    dim: int = 100,
    eig: float = 0.5,
    seed: int = 1,
    solver: str = "randomized",
    vectors_name: str = "vectors.npz",
    method: str = "svd",
    sg: bool = False,
    epochs: int = 5,
    tokenize_options: dict | None = None,
    quiet: bool = True,
) -> PipelineResult:
    """Run the pipeline on ``corpora`` (None/empty: the bundled sample).

    ``method="svd"`` (count-based): writes into ``outdir`` (created if
    missing) ``tokens.txt``, ``vocab.tsv``, ``cooccur.npz`` and the vectors
    (``vectors_name``; the extension picks the format).  ``word2vec`` and
    ``fasttext`` replace cooccur/svd by gensim training on ``tokens.txt``
    (``window``, ``dim``, ``min_count``, ``seed`` apply; gensim's defaults for
    the rest); fastText also writes ``model.bin``.  Every file is written
    atomically.

    Raises:
        UsageError, DataError: as the individual stages.
    """
    from embedcli.cooccur import CooccurrenceParams, cooccurrence_matrix
    from embedcli.matrix import CountMatrix
    from embedcli.svd import SVDParams, factorize
    from embedcli.tokenize import tokenize
    from embedcli.vocab import Vocabulary

    corpora = list(corpora) if corpora else [sample_corpus_path()]
    if os.path.exists(outdir) and not os.path.isdir(outdir):
        raise UsageError(f"-o/--outdir {outdir}: exists and is not a folder")
    try:
        os.makedirs(outdir, exist_ok=True)
    except OSError as e:
        raise UsageError(f"-o/--outdir {outdir}: cannot create: {e.strerror}") from None
    if method not in ("svd", "word2vec", "fasttext"):
        raise UsageError(f"--method {method}: choose svd, word2vec or fasttext")
    # validate cheap parameters before the long stages
    CooccurrenceParams(window=window).validate()
    if method != "svd":
        from embedcli.predictive import FastTextParams, Word2VecParams

        w2v = (FastTextParams if method == "fasttext" else Word2VecParams)(
            sg=int(sg), vector_size=dim, window=window, min_count=min_count, max_vocab_size=max_vocab_size,
            epochs=epochs, seed=seed)
        w2v.validate()
    svd_params = SVDParams(dim=dim, eig=eig, solver=solver, seed=seed)
    if dim < 1:
        raise UsageError(f"--dim {dim}: must be at least 1")
    res = PipelineResult(outdir)
    f = {k: os.path.join(outdir, v) for k, v in
         {"tokens": "tokens.txt", "vocab": "vocab.tsv", "matrix": "cooccur.npz", "vectors": vectors_name}.items()}
    res.files = f

    t = time.perf_counter()
    counter: Counter = Counter()
    with atomic_output(f["tokens"], "wb") as out:
        st = tokenize(corpora, out, counter=counter, progress=Progress("tokenize", "bytes", quiet), **(tokenize_options or {}))
    write_sidecar(f["tokens"], {"kind": "tokens", "params": {"inputs": corpora, **(tokenize_options or {})},
                                "stats": {"files": st.n_files, "documents": st.n_docs, "tokens": st.n_tokens}})
    res.stages.append(("tokenize", time.perf_counter() - t, f"{st.n_docs:,} documents, {st.n_tokens:,} tokens"))

    t = time.perf_counter()
    vocab = Vocabulary.from_counter(counter, min_count, max_vocab_size)
    if not len(vocab):
        from embedcli.errors import DataError

        raise DataError(f"no word occurs --min-count {min_count} times in the corpus; lower --min-count")
    with atomic_output(f["vocab"], "w") as out:
        vocab.write(out)
    write_sidecar(f["vocab"], {"kind": "vocabulary", "params": {"tokens": f["tokens"], "min_count": min_count,
                                                                 "max_size": max_vocab_size},
                               "stats": {"words": len(vocab), "tokens": vocab.total}})
    res.stages.append(("vocab", time.perf_counter() - t, f"{len(vocab):,} words with count >= {min_count}"))

    if method != "svd":
        from embedcli.predictive import kv_to_vectors, save_fasttext, train_fasttext, train_word2vec

        t = time.perf_counter()
        if method == "word2vec":
            wv, _, tr = train_word2vec(f["tokens"], w2v, "w", Progress("word2vec", None, quiet))
        else:
            model, tr = train_fasttext(f["tokens"], w2v, Progress("fasttext", None, quiet))
            f["model"] = os.path.join(outdir, "model.bin")
            save_fasttext(model, f["model"])
            wv = kv_to_vectors(model.wv, model.embedcli_meta)
        fmt = wv.save(f["vectors"])
        res.vectors = wv
        arch = "skip-gram" if sg else "CBOW"
        res.stages.append((method, time.perf_counter() - t,
                           f"{len(wv):,} x {wv.dim} {fmt} vectors, {arch}, {epochs} epochs, "
                           f"{tr['words_per_second']:,} words/s"))
        return res

    t = time.perf_counter()
    cp = CooccurrenceParams(window=window, seed=seed)
    M = cooccurrence_matrix(f["tokens"], vocab, cp, Progress("cooccur", "tokens", quiet))
    params = {"window": window, "context": cp.context, "weighting": cp.weighting, "dynamic_window": False,
              "subsample": 0.0, "cross_documents": False, "min_count": min_count, "tokens": f["tokens"]}
    cm = CountMatrix(M, vocab.words, vocab.words, vocab.counts, vocab.counts, "cooccurrence", params)
    cm.save(f["matrix"])
    res.stages.append(("cooccur", time.perf_counter() - t, f"{M.nnz:,} non-zero pairs, window {window}"))

    t = time.perf_counter()
    wv, _ = factorize(cm, weight, cds, neg, svd_params)
    fmt = wv.save(f["vectors"])
    res.vectors = wv
    res.stages.append(("svd", time.perf_counter() - t, f"{len(wv):,} x {wv.dim} {fmt} vectors, {weight} cds {cds}, eig {eig}"))
    return res
