"""The ``embedcli`` command line: a thin layer over the library.

Each command parses options, calls one library function and formats output.
Heavy modules (numpy, scipy, scikit-learn, gensim) are imported inside the
commands, so ``embedcli --help`` starts fast.
"""

from __future__ import annotations

import json
import os
import signal
import sys

import click

from embedcli import __version__
from embedcli.errors import EXIT_DATA, EXIT_USAGE, EmbedcliError

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _fail(msg: str, code: int) -> None:
    click.echo(f"embedcli: error: {msg}", err=True)
    sys.exit(code)


def warn(msg: str) -> None:
    """One line on stderr."""
    click.echo(f"embedcli: {msg}", err=True)


class _Group(click.Group):
    def main(self, args=None, prog_name=None, **kwargs):  # noqa: D401
        """Run with one-line errors: EmbedcliError -> its exit code, never a traceback."""

        def on_term(signum, frame):
            raise SystemExit(143)

        if hasattr(signal, "SIGTERM"):
            signal.signal(signal.SIGTERM, on_term)
        try:
            rv = super().main(args=args, prog_name=prog_name or "embedcli", standalone_mode=False, **kwargs)
            if isinstance(rv, int) and rv:
                sys.exit(rv)
            sys.exit(0)
        except click.exceptions.Abort:
            click.echo("embedcli: interrupted", err=True)
            sys.exit(130)
        except click.ClickException as e:
            e.show()
            sys.exit(e.exit_code)
        except EmbedcliError as e:
            _fail(str(e), e.exit_code)
        except KeyboardInterrupt:
            click.echo("\nembedcli: interrupted", err=True)
            sys.exit(130)
        except BrokenPipeError:
            # downstream closed the pipe (e.g. `| head`): exit 1 quietly, as click does
            sys.stdout = open(os.devnull, "w")
            sys.exit(1)
        except MemoryError:
            _fail("out of memory (try a smaller --window/--dim, a larger --min-count or --max-vocab-size)", EXIT_DATA)
        except OSError as e:
            if getattr(e, "filename", None):
                _fail(f"{e.filename}: {e.strerror}", EXIT_USAGE)
            raise


@click.group(cls=_Group, context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, "-V", "--version", prog_name="embedcli")
def cli() -> None:
    """Word and document embeddings from raw text.

    \b
    Count-based:  tokenize -> vocab -> cooccur|termdoc -> svd      (or: pipeline)
    Predictive:   tokenize [-> phrases] -> word2vec|fasttext      (gensim)
    Queries:      neighbors, analogy, similarity, evaluate, info

    Exit codes: 0 ok, 2 usage error (bad option, missing path), 3 data error
    (unusable input content), 130/143 interrupted.  Outputs are written
    atomically: an interrupted run leaves no partial file.
    """


def main() -> None:
    """Console-script entry point."""
    cli.main()


# ----------------------------------------------------------------------------- helpers
quiet_option = click.option("-q", "--quiet", is_flag=True, help="No progress on stderr.")


def _progress(label: str, unit: str, quiet: bool):
    from embedcli.io import Progress

    return Progress(label, unit, quiet)


def _positive(name: str, value, minimum=1):
    from embedcli.errors import UsageError

    if value is not None and value < minimum:
        raise UsageError(f"{name} {value}: must be at least {minimum}")


# ----------------------------------------------------------------------------- tokenize
@cli.command(context_settings=CONTEXT_SETTINGS)
@click.argument("inputs", nargs=-1, required=True, metavar="INPUT...")
@click.option("-o", "--output", default="-", show_default=True, metavar="TOKENS",
              help="Tokens file to write ('-': stdout).")
@click.option("--lowercase/--no-lowercase", default=True, show_default=True, help="Lowercase tokens.")
@click.option("--token-pattern", default=None, metavar="REGEX",
              help=r"Python regex of one token, applied after lowercasing. Default: [^\W_]+ (Unicode letters and digits).")
@click.option("--min-length", default=1, show_default=True, type=int, help="Drop tokens shorter than this (characters).")
@click.option("--stopwords", default="none", show_default=True, metavar="none|english|FILE",
              help="Drop these words: none, the bundled English list, or a file with one word per line.")
@click.option("--doc", type=click.Choice(["line", "paragraph", "file"]), default="line", show_default=True,
              help="What one output line (document) is: an input line, a blank-line-separated paragraph, or a file.")
@click.option("--encoding", default="utf-8", show_default=True, help="Encoding of the input (ASCII-compatible).")
@click.option("--errors", "errors", type=click.Choice(["strict", "replace", "ignore"]), default="strict",
              show_default=True, help="Undecodable bytes: fail naming file and line, replace with U+FFFD, or drop.")
@click.option("--workers", default=None, type=int,
              help="Processes tokenizing in parallel [cores, at most 4]; the output does not depend on it.")
@quiet_option
def tokenize(inputs, output, lowercase, token_pattern, min_length, stopwords, doc, encoding, errors, workers, quiet):
    """Tokenize a corpus into one document per line, tokens separated by single spaces.

    INPUT is a file, a folder (read recursively), a glob pattern or '-' (stdin);
    .gz, .bz2 and .xz files are decompressed. Documents without tokens are not
    written. The output is what gensim's LineSentence and the word2vec/GloVe
    tools read.
    """
    from embedcli.io import atomic_output
    from embedcli.tokenize import load_stopwords
    from embedcli.tokenize import tokenize as run

    from embedcli.io import write_sidecar

    stop = load_stopwords(stopwords)
    with atomic_output(output, "wb") as out:
        st = run(inputs, out, lowercase=lowercase, token_pattern=token_pattern, min_length=min_length,
                 stopwords=stop, doc=doc, encoding=encoding, errors=errors, workers=workers,
                 progress=_progress("tokenize", "bytes", quiet))
    write_sidecar(output, {"kind": "tokens", "params": {
        "inputs": list(inputs), "lowercase": lowercase, "token_pattern": token_pattern, "min_length": min_length,
        "stopwords": stopwords, "doc": doc, "encoding": encoding, "errors": errors},
        "stats": {"files": st.n_files, "documents": st.n_docs, "tokens": st.n_tokens}})
    if not quiet:
        warn(f"tokenize: {st.n_files} file(s), {st.n_docs:,} documents, {st.n_tokens:,} tokens")


# ----------------------------------------------------------------------------- vocab
@cli.command(context_settings=CONTEXT_SETTINGS)
@click.argument("tokens", metavar="TOKENS")
@click.option("-o", "--output", default="-", show_default=True, metavar="VOCAB.tsv", help="Where to write ('-': stdout).")
@click.option("--min-count", default=1, show_default=True, type=int, help="Keep words seen at least this often.")
@click.option("--max-size", default=None, type=int, help="Keep at most this many most frequent words.")
@quiet_option
def vocab(tokens, output, min_count, max_size, quiet):
    """Count words: 'word<TAB>count' lines, most frequent first (ties by word)."""
    from embedcli.io import atomic_output, write_sidecar
    from embedcli.vocab import build_vocab

    _positive("--min-count", min_count)
    _positive("--max-size", max_size)
    v = build_vocab(tokens, min_count, max_size, _progress("vocab", "bytes", quiet))
    with atomic_output(output, "w") as out:
        v.write(out)
    write_sidecar(output, {"kind": "vocabulary", "params": {"tokens": tokens, "min_count": min_count,
                                                             "max_size": max_size},
                           "stats": {"words": len(v), "tokens": v.total}})
    if not quiet:
        warn(f"vocab: {len(v):,} words, {v.total:,} tokens")


def _load_or_build_vocab(tokens: str, vocab_path: str | None, min_count: int, max_size: int | None, quiet: bool):
    from embedcli.vocab import build_vocab, read_vocab

    if vocab_path:
        return read_vocab(vocab_path).restricted(min_count, max_size, vocab_path)
    return build_vocab(tokens, min_count, max_size, _progress("vocab", "bytes", quiet))


# ----------------------------------------------------------------------------- cooccur
@cli.command(context_settings=CONTEXT_SETTINGS)
@click.argument("tokens", metavar="TOKENS")
@click.option("-o", "--output", required=True, metavar="MATRIX", help="Matrix file to write (.npz).")
@click.option("--window", default=5, show_default=True, type=int, help="Maximum distance between word and context.")
@click.option("--context", type=click.Choice(["symmetric", "left", "right"]), default="symmetric", show_default=True,
              help="Which side of the word its contexts are taken from.")
@click.option("--weighting", type=click.Choice(["uniform", "harmonic", "linear"]), default="uniform", show_default=True,
              help="Weight of a context at distance d: 1, 1/d (GloVe), or (window-d+1)/window "
                   "(the expectation of word2vec's dynamic window).")
@click.option("--dynamic-window", is_flag=True,
              help="word2vec-style: each occurrence's window is drawn uniformly from 1..window (seeded).")
@click.option("--subsample", default=0.0, show_default=True, type=float, metavar="T",
              help="word2vec's 'sample': drop frequent tokens before windowing with probability "
                   "1-(sqrt(f/(T*N))+1)*(T*N)/f; 0 disables (typical: 1e-5).")
@click.option("--cross-documents", is_flag=True,
              help="Let windows span document (line) ends. By default they stop at them.")
@click.option("--min-count", default=5, show_default=True, type=int, help="Ignore words seen fewer times.")
@click.option("--max-vocab-size", default=None, type=int, help="Keep at most this many most frequent words.")
@click.option("--vocab", "vocab_path", default=None, metavar="VOCAB.tsv",
              help="Use this vocabulary (from 'embedcli vocab') instead of counting one; --min-count still applies.")
@click.option("--seed", default=1, show_default=True, type=int, help="Seed of --dynamic-window and --subsample.")
@quiet_option
def cooccur(tokens, output, window, context, weighting, dynamic_window, subsample, cross_documents, min_count,
            max_vocab_size, vocab_path, seed, quiet):
    """Count the sliding-window word-context co-occurrence matrix of a tokens file.

    Words outside the vocabulary keep their position (they are not removed
    before windowing), as in hyperwords and GloVe. Memory is bounded by the
    number of distinct pairs, not the corpus length.
    """
    from embedcli.cooccur import CooccurrenceParams, cooccurrence_matrix
    from embedcli.io import check_output_path, spooled
    from embedcli.matrix import CountMatrix

    _positive("--min-count", min_count)
    _positive("--max-vocab-size", max_vocab_size)
    check_output_path(output)
    p = CooccurrenceParams(window, context, weighting, dynamic_window, subsample, cross_documents, seed)
    p.validate()
    with spooled(tokens) as path:
        v = _load_or_build_vocab(path, vocab_path, min_count, max_vocab_size, quiet)
        M = cooccurrence_matrix(path, v, p, _progress("cooccur", "tokens", quiet))
    params = {"window": window, "context": context, "weighting": weighting, "dynamic_window": dynamic_window,
              "subsample": subsample, "cross_documents": cross_documents, "min_count": min_count,
              "max_vocab_size": max_vocab_size, "seed": seed, "tokens": tokens}
    CountMatrix(M, v.words, v.words, v.counts, v.counts, "cooccurrence", params).save(output)
    if not quiet:
        warn(f"cooccur: {len(v):,} words, {M.nnz:,} non-zero pairs, total weight {M.sum():,.0f}")


# ----------------------------------------------------------------------------- termdoc
@cli.command(context_settings=CONTEXT_SETTINGS)
@click.argument("tokens", metavar="TOKENS")
@click.option("-o", "--output", required=True, metavar="MATRIX", help="Matrix file to write (.npz).")
@click.option("--weighting", type=click.Choice(["count", "tfidf", "log-entropy"]), default="count", show_default=True,
              help="count: term frequency; tfidf: tf*ln(N/df); log-entropy: ln(1+tf) * (1 + sum p ln p / ln N).")
@click.option("--min-count", default=1, show_default=True, type=int, help="Ignore terms seen fewer times.")
@click.option("--max-vocab-size", default=None, type=int, help="Keep at most this many most frequent terms.")
@click.option("--min-df", default=1, show_default=True, type=int, help="Keep terms in at least this many documents.")
@click.option("--max-df", default=1.0, show_default=True, type=float,
              help="Keep terms in at most this fraction of the documents.")
@click.option("--vocab", "vocab_path", default=None, metavar="VOCAB.tsv", help="Use this vocabulary.")
@quiet_option
def termdoc(tokens, output, weighting, min_count, max_vocab_size, min_df, max_df, vocab_path, quiet):
    """Build the term-document matrix of a tokens file (one document per line)."""
    from embedcli.io import check_output_path, spooled
    from embedcli.termdoc import termdoc_matrix

    _positive("--min-count", min_count)
    check_output_path(output)
    with spooled(tokens) as path:
        v = _load_or_build_vocab(path, vocab_path, min_count, max_vocab_size, quiet)
        cm = termdoc_matrix(path, v, weighting, min_df, max_df, _progress("termdoc", "tokens", quiet))
    cm.params.update(min_count=min_count, max_vocab_size=max_vocab_size, tokens=tokens)
    cm.save(output)
    if not quiet:
        warn(f"termdoc: {cm.matrix.shape[0]:,} terms x {cm.matrix.shape[1]:,} documents, {cm.matrix.nnz:,} non-zeros")


# ----------------------------------------------------------------------------- svd
def _sibling_path(output: str, tag: str) -> str:
    """``vectors.npz`` -> ``vectors.TAG.npz`` (``.gz`` kept last)."""
    gz = output.endswith(".gz")
    base, ext = os.path.splitext(output[:-3] if gz else output)
    return f"{base}.{tag}{ext}" + (".gz" if gz else "")


def _vectors_output_options(f):
    f = click.option("--format", "fmt", type=click.Choice(["native", "word2vec", "binary", "glove"]), default=None,
                     help="Override the format implied by the extension.")(f)
    return click.option("-o", "--output", required=True, metavar="VECTORS",
                        help="Vectors file: .npz (native, memory-mapped), .bin (word2vec binary), "
                             "other (word2vec text; .gz compresses).")(f)


@cli.command(context_settings=CONTEXT_SETTINGS)
@click.argument("matrix", metavar="MATRIX")
@_vectors_output_options
@click.option("--weight", type=click.Choice(["none", "ppmi", "sppmi", "log"]), default="ppmi", show_default=True,
              help="Reweighting before the SVD: none, PPMI, shifted PPMI (log neg), log(1+x).")
@click.option("--neg", default=None, type=float, help="PPMI shift log(neg) [ppmi: 1, sppmi: 5].")
@click.option("--cds", default=0.75, show_default=True, type=float,
              help="Context-distribution smoothing exponent (Levy et al. 2015); 1 disables.")
@click.option("--dim", default=100, show_default=True, type=int, help="Number of dimensions (singular vectors).")
@click.option("--eig", default=0.5, show_default=True, type=float, help="Eigenvalue weighting p: vectors are U Sigma^p.")
@click.option("--vectors", "which", type=click.Choice(["w", "c", "w+c"]), default="w", show_default=True,
              help="Word vectors U Sigma^p, context vectors V Sigma^p, or their sum.")
@click.option("--solver", type=click.Choice(["randomized", "arpack"]), default="randomized", show_default=True,
              help="randomized (Halko et al., scikit-learn) or arpack (scipy svds, exact, slower).")
@click.option("--n-iter", default=5, show_default=True, type=int, help="Power iterations of the randomized solver.")
@click.option("--seed", default=1, show_default=True, type=int, help="Random seed of the solver.")
@click.option("--doc-output", default=None, metavar="VECTORS",
              help="Term-document input: where to write document vectors [OUTPUT with .docs before the extension].")
@quiet_option
def svd(matrix, output, fmt, weight, neg, cds, dim, eig, which, solver, n_iter, seed, doc_output, quiet):
    """Reweight a count matrix and factorize it with a truncated sparse SVD.

    On a co-occurrence matrix this gives PPMI-SVD word vectors (Levy, Goldberg
    & Dagan 2015); on a term-document matrix, LSA term vectors and also
    document vectors. The singular values are recorded in the output (see
    'embedcli info').
    """
    from embedcli.io import check_output_path
    from embedcli.matrix import CountMatrix
    from embedcli.svd import SVDParams, factorize

    check_output_path(output)
    params = SVDParams(dim=dim, eig=eig, vectors=which, solver=solver, n_iter=n_iter, seed=seed)
    _positive("--dim", dim)
    cm = CountMatrix.load(matrix)
    if doc_output:
        check_output_path(doc_output, "--doc-output")
    wv, dv = factorize(cm, weight, cds, neg, params)
    used = wv.save(output, fmt)
    if dv is not None:
        dpath = doc_output or _sibling_path(output, "docs")
        dv.save(dpath, fmt)
        if not quiet:
            warn(f"svd: {len(dv):,} document vectors -> {dpath}")
    if not quiet:
        s = wv.meta["singular_values"]
        warn(f"svd: {len(wv):,} x {wv.dim} {used} vectors -> {output}; singular values {s[0]:.4g} .. {s[-1]:.4g}")


# ----------------------------------------------------------------------------- pipeline
@cli.command(context_settings=CONTEXT_SETTINGS)
@click.argument("corpus", nargs=-1, metavar="[CORPUS]...")
@click.option("-o", "--outdir", default="embedcli-output", show_default=True, help="Folder for every intermediate.")
@click.option("--min-count", default=5, show_default=True, type=int)
@click.option("--max-vocab-size", default=None, type=int)
@click.option("--window", default=5, show_default=True, type=int)
@click.option("--weight", type=click.Choice(["none", "ppmi", "sppmi", "log"]), default="ppmi", show_default=True)
@click.option("--neg", default=None, type=float, help="PPMI shift log(neg).")
@click.option("--cds", default=0.75, show_default=True, type=float)
@click.option("--dim", default=100, show_default=True, type=int)
@click.option("--eig", default=0.5, show_default=True, type=float)
@click.option("--solver", type=click.Choice(["randomized", "arpack"]), default="randomized", show_default=True)
@click.option("--seed", default=1, show_default=True, type=int)
@click.option("--vectors-name", default="vectors.npz", show_default=True,
              help="File name of the vectors in OUTDIR; its extension picks the format.")
@click.option("--method", type=click.Choice(["svd", "word2vec", "fasttext"]), default="svd", show_default=True,
              help="Count-based PPMI-SVD, or gensim word2vec / fastText (their gensim defaults: CBOW, "
                   "negative 5, 5 epochs) on the same tokens.")
@click.option("--sg/--cbow", default=False, show_default=True, help="word2vec/fasttext: skip-gram or CBOW.")
@click.option("--epochs", default=5, show_default=True, type=int, help="word2vec/fasttext: training epochs.")
@click.option("--probe", multiple=True, metavar="WORD", help="Show neighbours of these words (repeatable).")
@quiet_option
def pipeline(corpus, outdir, min_count, max_vocab_size, window, weight, neg, cds, dim, eig, solver, seed,
             vectors_name, method, sg, epochs, probe, quiet):
    """Run tokenize -> vocab -> cooccur -> svd (or -> word2vec / fasttext) with good defaults.

    Without CORPUS it runs on the bundled sample corpus (US presidential
    speeches). Keeps tokens.txt, vocab.tsv, cooccur.npz (svd) or model.bin
    (fasttext), and the vectors in OUTDIR, and prints each stage's wall time
    and a few nearest neighbours.
    """
    import time

    from embedcli.pipeline import run_pipeline, sample_corpus_path

    _positive("--min-count", min_count)
    t0 = time.perf_counter()
    res = run_pipeline(list(corpus), outdir, min_count=min_count, max_vocab_size=max_vocab_size, window=window,
                       weight=weight, cds=cds, neg=neg, dim=dim, eig=eig, seed=seed, solver=solver,
                       vectors_name=vectors_name, method=method, sg=sg, epochs=epochs, quiet=quiet)
    total = time.perf_counter() - t0
    click.echo(f"corpus: {', '.join(corpus) if corpus else sample_corpus_path() + ' (bundled sample)'}")
    for name, secs, detail in res.stages:
        click.echo(f"{name:<9} {secs:7.2f} s  {detail}")
    click.echo(f"{'total':<9} {total:7.2f} s  -> {res.files['vectors']}")
    _show_probes(res.vectors, list(probe))


_DEFAULT_PROBES = ("freedom", "war", "economy", "congress", "president", "good", "city", "money", "music", "science")


def _show_probes(vectors, probes: list[str], k: int = 6) -> None:
    from embedcli.query import Searcher

    idx = vectors.index
    words = [w for w in probes if w in idx] or [w for w in _DEFAULT_PROBES if w in idx][:4]
    if not words:
        words = vectors.words[50:54]
    s = Searcher(vectors)
    click.echo("nearest neighbours:")
    for w, (ids, scores) in zip(words, s.neighbors([idx[w] for w in words], k)):
        click.echo(f"  {w}: " + ", ".join(f"{vectors.words[i]} ({sc:.2f})" for i, sc in zip(ids, scores) if i >= 0))


# ----------------------------------------------------------------------------- queries
def _read_queries(args: tuple[str, ...]):
    """Queries from arguments, or one per line from stdin when the only argument is '-'."""
    if len(args) == 1 and args[0] == "-":
        for lineno, line in enumerate(sys.stdin, 1):
            line = line.strip()
            if line and not line.startswith("#"):
                yield lineno, line
    else:
        for a in args:
            yield None, a


def _resolve(vectors, words: list[str], where: str):
    """:func:`embedcli.query.resolve_words`, reporting unknown words on stderr (None: skip the query)."""
    from embedcli.query import resolve_words

    try:
        units, rows, oov = resolve_words(vectors, words)
    except KeyError as e:
        warn(f"{where}not in vocabulary: {' '.join(e.args[0])}")
        return None
    if oov:
        warn(f"{where}not in vocabulary, vector built from character n-grams: {' '.join(oov)}")
    return units, rows, oov


def _batched(items, size: int = 256):
    """Lists of up to ``size`` items: stdin queries are answered one matrix product per batch."""
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _emit(fmt: str, record: dict, tsv_rows: list[list]) -> None:
    if fmt == "json":
        click.echo(json.dumps(record, ensure_ascii=False))
    else:
        click.echo("".join("\t".join(str(x) for x in row) + "\n" for row in tsv_rows), nl=False)


format_option = click.option("--format", "fmt", type=click.Choice(["tsv", "json"]), default="tsv", show_default=True,
                             help="tsv rows, or one JSON object per query (JSON lines).")
restrict_option = click.option("--restrict", default=None, type=int, metavar="N",
                               help="Search only the N most frequent words (files list words by frequency).")


@cli.command(context_settings=CONTEXT_SETTINGS)
@click.argument("vectors_path", metavar="VECTORS")
@click.argument("words", nargs=-1, required=True, metavar="WORD...|-")
@click.option("-k", default=10, show_default=True, type=int, help="Number of neighbours.")
@restrict_option
@format_option
def neighbors(vectors_path, words, k, restrict, fmt):
    """Cosine nearest neighbours of each WORD.

    With '-' queries are read from stdin, one per line; a line of several
    words asks for the neighbours of their summed unit vectors. TSV output:
    query, neighbour, cosine. Unknown words are reported on stderr and the
    batch goes on.
    """
    from embedcli.query import Searcher
    from embedcli.vectors import Vectors

    _positive("-k", k)
    v = Vectors.load(vectors_path)
    s = Searcher(v, restrict)
    import numpy as np

    def answer(batch):
        # one matrix product per batch of queries
        Q = np.vstack([u for _, u, _, _ in batch])
        ids, scores = s.top_k(s.cosines(Q), k, [ex for _, _, ex, _ in batch])
        for (q, _, _, oov), row_ids, row_scores in zip(batch, ids, scores):
            pairs = [(v.words[i], float(sc)) for i, sc in zip(row_ids, row_scores) if i >= 0]
            rec = {"query": q, "neighbors": [{"word": w, "similarity": round(sc, 6)} for w, sc in pairs]}
            if oov:
                rec["oov"] = oov
            _emit(fmt, rec, [[q, w, f"{sc:.6f}"] for w, sc in pairs])

    def prepared():
        for lineno, q in _read_queries(words):
            qwords = q.split() if lineno is not None else [q]
            got = _resolve(v, qwords, f"line {lineno}: " if lineno else "")
            if got is None:
                continue
            units, rows, oov = got
            u = units.sum(axis=0)
            u /= max(float(np.linalg.norm(u)), 1e-12)
            yield q, u, [r for r in rows if r >= 0], oov

    for batch in _batched(prepared()):
        answer(batch)


@cli.command(context_settings=CONTEXT_SETTINGS)
@click.argument("vectors_path", metavar="VECTORS")
@click.argument("words", nargs=-1, required=True, metavar="A B C|-")
@click.option("--method", type=click.Choice(["3cosadd", "3cosmul"]), default="3cosadd", show_default=True,
              help="3CosAdd (vector offset) or 3CosMul (Levy & Goldberg 2014).")
@click.option("-k", default=1, show_default=True, type=int, help="Number of answers.")
@restrict_option
@format_option
def analogy(vectors_path, words, method, k, restrict, fmt):
    """Solve A is to B as C is to ?  (answers exclude A, B and C).

    With '-' read 'A B C' per line from stdin (a fourth word, the expected
    answer, adds a 'correct' field). TSV output: A, B, C, answer, score.
    """
    from embedcli.errors import UsageError
    from embedcli.query import Searcher
    from embedcli.vectors import Vectors

    _positive("-k", k)
    stdin = len(words) == 1 and words[0] == "-"
    if not stdin and len(words) != 3:
        raise UsageError(f"analogy needs three words A B C (or '-' for stdin), got {len(words)}")
    v = Vectors.load(vectors_path)
    s = Searcher(v, restrict)
    import numpy as np

    queries = _read_queries(words) if stdin else iter([(None, " ".join(words))])

    def answer(batch):
        # one set of matrix products per batch of questions
        A, B, C = (np.vstack([units[j] for _, units, _, _ in batch]) for j in range(3))
        results = s.analogies_from_units(A, B, C, [ex for _, _, ex, _ in batch], k, method)
        for (parts, _, _, oov), (ids, scores) in zip(batch, results):
            answers = [(v.words[i], float(sc)) for i, sc in zip(ids, scores) if i >= 0]
            rec = {"query": parts[:3], "method": method,
                   "answers": [{"word": w, "score": round(sc, 6)} for w, sc in answers]}
            if oov:
                rec["oov"] = oov
            if len(parts) == 4:
                rec["expected"] = parts[3]
                rec["correct"] = bool(answers) and answers[0][0] == parts[3]
            _emit(fmt, rec, [[*parts[:3], w, f"{sc:.6f}"] for w, sc in answers])

    bad = 0

    def prepared():
        nonlocal bad
        for lineno, q in queries:
            parts = q.split()
            if len(parts) not in (3, 4):
                warn(f"line {lineno}: expected 'A B C' (or 'A B C D'), got {len(parts)} word(s)")
                bad += 1
                continue
            got = _resolve(v, parts[:3], f"line {lineno}: " if lineno else "")
            if got is None:
                continue
            units, rows, oov = got
            yield parts, units, [r for r in rows if r >= 0], oov

    for batch in _batched(prepared()):
        answer(batch)
    if bad:
        return EXIT_DATA


# ----------------------------------------------------------------------------- info
@cli.command(context_settings=CONTEXT_SETTINGS)
@click.argument("path", metavar="FILE")
def info(path):
    """Show what a file is and the parameters that made it (JSON).

    Matrix and native vector files carry this inside; tokens, vocabulary and
    word2vec/GloVe vector files written by embedcli have it in FILE.meta.json.
    """
    from embedcli.errors import FormatError, UsageError
    from embedcli.io import SIDECAR_SUFFIX
    from embedcli.npzfile import NpzReader, refuse_pickle, sniff

    if not os.path.isfile(path):
        raise UsageError(f"{path}: no such file")
    head = sniff(path)
    refuse_pickle(path, head)
    sidecar = path + SIDECAR_SUFFIX
    out: dict = {}
    if os.path.isfile(sidecar):
        try:
            with open(sidecar, encoding="utf-8") as f:
                out = json.load(f)
        except (OSError, ValueError) as e:
            raise FormatError(f"{sidecar}: unreadable metadata ({e})") from None
        if not isinstance(out, dict):
            raise FormatError(f"{sidecar}: unreadable metadata")
    elif head.startswith(b"PK"):
        r = NpzReader(path)
        out = dict(r.meta)
        r.close()
    else:
        from embedcli.vectors import Vectors

        v = Vectors.load(path)
        out = {"format": v.meta.get("source_format"), "shape": [len(v), v.dim],
               "note": "no embedcli metadata: not written by embedcli (or its .meta.json was removed)"}
        out.update({k: v.meta[k] for k in ("minn", "maxn", "bucket") if k in v.meta})
    click.echo(json.dumps(out, indent=2, ensure_ascii=False))


# ----------------------------------------------------------------------------- similarity / evaluate
@cli.command(context_settings=CONTEXT_SETTINGS)
@click.argument("vectors_path", metavar="VECTORS")
@click.argument("words", nargs=-1, required=True, metavar="W1 W2|-")
@format_option
def similarity(vectors_path, words, fmt):
    """Cosine similarity of W1 and W2, or of each 'W1 W2' line on stdin ('-').

    TSV output: W1, W2, cosine. Unknown words are reported on stderr and the
    batch goes on; a line without exactly two words is reported and makes the
    exit code 3.
    """
    import numpy as np

    from embedcli.errors import UsageError
    from embedcli.vectors import Vectors

    stdin = len(words) == 1 and words[0] == "-"
    if not stdin and len(words) != 2:
        raise UsageError(f"similarity needs two words W1 W2 (or '-' for stdin), got {len(words)}")
    v = Vectors.load(vectors_path)
    queries = _read_queries(words) if stdin else iter([(None, " ".join(words))])
    bad = 0
    for lineno, q in queries:
        parts = q.split()
        if len(parts) != 2:
            warn(f"line {lineno}: expected 'W1 W2', got {len(parts)} word(s)")
            bad += 1
            continue
        got = _resolve(v, parts, f"line {lineno}: " if lineno else "")
        if got is None:
            continue
        units, _, oov = got
        sim = float(units[0].astype(np.float64) @ units[1].astype(np.float64))
        rec = {"w1": parts[0], "w2": parts[1], "similarity": round(sim, 6)}
        if oov:
            rec["oov"] = oov
        _emit(fmt, rec, [[parts[0], parts[1], f"{sim:.6f}"]])
    if bad:
        return EXIT_DATA


@cli.command(context_settings=CONTEXT_SETTINGS)
@click.argument("vectors_path", metavar="VECTORS")
@click.option("--similarity", "sim_files", multiple=True, metavar="FILE",
              help="Add a word-similarity file ('w1<TAB>w2<TAB>score', # comments). Repeatable.")
@click.option("--analogy", "ana_files", multiple=True, metavar="FILE",
              help="Add an analogy file (': section' headers, 'a b c d' lines). Repeatable.")
@click.option("--bundled/--no-bundled", default=True, show_default=True,
              help="Include the bundled WordSim-353, SimLex-999 and Google analogy sets.")
@click.option("--method", type=click.Choice(["3cosadd", "3cosmul", "both"]), default="both", show_default=True,
              help="Analogy method(s).")
@click.option("--restrict", default=30000, show_default=True, type=int,
              help="Analogy questions and answers within the N most frequent words (as gensim).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="A readable table, or one JSON object for the whole run.")
@click.option("--sections/--no-sections", default=True, show_default=True, help="Table: per-section analogy rows.")
def evaluate(vectors_path, sim_files, ana_files, bundled, method, restrict, fmt, sections):
    """Score vectors on word-similarity (Spearman's rho, Pearson's r) and analogy benchmarks.

    Similarity uses pairs whose words are in the vocabulary (coverage shown).
    Analogy accuracy is over questions whose four words are among the
    --restrict most frequent words, with the question words excluded from
    answers; accuracy over all questions (uncovered ones counted wrong) is
    shown too. Scores follow gensim's evaluate_word_pairs /
    evaluate_word_analogies conventions (case-insensitive).
    """
    import os as _os

    from embedcli.errors import UsageError
    from embedcli.evaluate import BUNDLED_ANALOGY, BUNDLED_SIMILARITY, bundled_path, evaluate as run
    from embedcli.vectors import Vectors

    _positive("--restrict", restrict)
    sims = [(n, bundled_path(f)) for n, f in BUNDLED_SIMILARITY.items()] if bundled else []
    anas = [(n, bundled_path(f)) for n, f in BUNDLED_ANALOGY.items()] if bundled else []
    for p in sim_files + ana_files:
        if not _os.path.isfile(p):
            raise UsageError(f"{p}: no such file")
    sims += [(_os.path.basename(p), p) for p in sim_files]
    anas += [(_os.path.basename(p), p) for p in ana_files]
    if not sims and not anas:
        raise UsageError("nothing to evaluate: give --similarity/--analogy files or drop --no-bundled")
    v = Vectors.load(vectors_path)
    methods = ("3cosadd", "3cosmul") if method == "both" else (method,)
    res = run(v, sims, anas, methods, restrict)
    res["vectors"] = vectors_path
    if fmt == "json":
        click.echo(json.dumps(res, ensure_ascii=False, default=float))
        return
    click.echo(f"{vectors_path}: {res['n_words']:,} words x {res['dim']}")
    if res["similarity"]:
        click.echo(f"\n{'similarity':<22} {'spearman':>9} {'pearson':>9} {'pairs used':>16}")
        for s in res["similarity"]:
            click.echo(f"{s['name']:<22} {s['spearman']:>9.4f} {s['pearson']:>9.4f} "
                       f"{s['pairs_used']:>7}/{s['pairs_total']:<4} ({100 * s['coverage']:.0f}%)")
    if res["analogy"]:
        click.echo(f"\n{'analogy (restrict ' + str(restrict) + ')':<22} {'method':<8} {'accuracy':>9} "
                   f"{'semantic':>9} {'syntactic':>9} {'questions used':>20} {'acc. all':>9}")
        for a in res["analogy"]:
            cov = a["questions_used"] / a["questions_total"] if a["questions_total"] else 0
            click.echo(f"{a['name']:<22} {a['method']:<8} {a['accuracy']:>9.4f} {a['semantic']['accuracy']:>9.4f} "
                       f"{a['syntactic']['accuracy']:>9.4f} {a['questions_used']:>9}/{a['questions_total']:<5} "
                       f"({100 * cov:.0f}%) {a['accuracy_all']:>9.4f}")
            if sections:
                for s in a["sections"]:
                    click.echo(f"  {s['section']:<20} {'':<8} {s['accuracy']:>9.4f} {'':>9} {'':>9} "
                               f"{s['used']:>9}/{s['total']:<5}")


# ----------------------------------------------------------------------------- predictive (gensim)
def _w2v_options(f):
    """Options shared by word2vec and fasttext: gensim's names and defaults."""
    opts = [
        click.option("--sg/--cbow", default=False, show_default=True, help="Skip-gram or CBOW (gensim default: CBOW)."),
        click.option("--dim", default=100, show_default=True, type=int, help="Vector size (gensim: vector_size)."),
        click.option("--window", default=5, show_default=True, type=int, help="Maximum distance word-context."),
        click.option("--negative", default=5, show_default=True, type=int, help="Negative samples (0: none)."),
        click.option("--hs", default=0, show_default=True, type=click.IntRange(0, 1), help="1: hierarchical softmax."),
        click.option("--ns-exponent", default=0.75, show_default=True, type=float,
                     help="Exponent of the negative-sampling distribution."),
        click.option("--sample", default=1e-3, show_default=True, type=float, help="Subsampling threshold (0: off)."),
        click.option("--min-count", default=5, show_default=True, type=int, help="Ignore rarer words."),
        click.option("--max-vocab-size", default=None, type=int, help="Prune the vocabulary while counting (gensim)."),
        click.option("--epochs", default=5, show_default=True, type=int),
        click.option("--alpha", default=0.025, show_default=True, type=float, help="Initial learning rate."),
        click.option("--min-alpha", default=0.0001, show_default=True, type=float, help="Final learning rate."),
        click.option("--workers", default=None, type=int, help="Training threads [number of cores]."),
        click.option("--seed", default=1, show_default=True, type=int,
                     help="Seed (runs are reproducible with --workers 1)."),
        quiet_option,
    ]
    for o in reversed(opts):
        f = o(f)
    return f


def _w2v_params(cls, sg, dim, window, negative, hs, ns_exponent, sample, min_count, max_vocab_size, epochs, alpha,
                min_alpha, workers, seed, **extra):
    p = cls(sg=int(sg), vector_size=dim, window=window, negative=negative, hs=hs, ns_exponent=ns_exponent,
            sample=sample, min_count=min_count, max_vocab_size=max_vocab_size, epochs=epochs, alpha=alpha,
            min_alpha=min_alpha, seed=seed, **extra)
    if workers is not None:
        p.workers = workers
    p.validate()
    return p


@cli.command(context_settings=CONTEXT_SETTINGS)
@click.argument("tokens", metavar="TOKENS")
@_vectors_output_options
@click.option("--vectors", "which", type=click.Choice(["w", "c", "w+c"]), default="w", show_default=True,
              help="Input (word) vectors, output (context) vectors, or their sum.")
@click.option("--save-context", is_flag=True,
              help="Also write the output (context) vectors to OUTPUT with .context before the extension.")
@_w2v_options
def word2vec(tokens, output, fmt, which, save_context, quiet, **kw):
    """Train word2vec (gensim) on a tokens file, one document per line.

    Uses gensim's fast corpus_file path (stdin or compressed input is first
    copied to a temporary file). Progress (epoch, words/s, ETA) goes to
    stderr; Ctrl-C stops without leaving an output file.
    """
    from embedcli.io import check_output_path
    from embedcli.predictive import Word2VecParams, train_word2vec

    check_output_path(output)
    p = _w2v_params(Word2VecParams, **kw)
    main_v, ctx, t = train_word2vec(tokens, p, which, _progress("word2vec", None, quiet))
    used = main_v.save(output, fmt)
    if save_context:
        if ctx is None:
            from embedcli.errors import UsageError

            raise UsageError("--save-context needs negative sampling (--negative > 0)")
        ctx.save(_sibling_path(output, "context"), fmt)
    if not quiet:
        warn(f"word2vec: {len(main_v):,} x {main_v.dim} {used} vectors -> {output} "
             f"({t['train_seconds']:.1f} s, {t['words_per_second']:,} words/s)")


@cli.command(context_settings=CONTEXT_SETTINGS)
@click.argument("tokens", metavar="TOKENS")
@click.option("-o", "--output", required=True, metavar="MODEL.bin",
              help="Facebook fastText .bin model (gensim save_facebook_model; no pickle).")
@click.option("--vectors-output", default=None, metavar="VECTORS",
              help="Also write the in-vocabulary vectors (any vectors format).")
@click.option("--minn", default=3, show_default=True, type=int, help="Shortest character n-gram.")
@click.option("--maxn", default=6, show_default=True, type=int, help="Longest character n-gram.")
@click.option("--bucket", default=2000000, show_default=True, type=int, help="Hash buckets for n-grams.")
@_w2v_options
def fasttext(tokens, output, vectors_output, minn, maxn, bucket, quiet, **kw):
    """Train fastText (gensim) with character n-grams on a tokens file.

    The model file lets neighbors, analogy and similarity answer for words
    that were never seen in training (their vectors are built from character
    n-grams; the output says so).
    """
    from embedcli.io import check_output_path
    from embedcli.predictive import FastTextParams, kv_to_vectors, save_fasttext, train_fasttext

    check_output_path(output)
    if vectors_output:
        check_output_path(vectors_output, "--vectors-output")
    p = _w2v_params(FastTextParams, minn=minn, maxn=maxn, bucket=bucket, **kw)
    model, stats = train_fasttext(tokens, p, _progress("fasttext", None, quiet))
    save_fasttext(model, output)
    if vectors_output:
        kv_to_vectors(model.wv, model.embedcli_meta).save(vectors_output)
    if not quiet:
        warn(f"fasttext: {len(model.wv):,} words x {model.wv.vector_size} -> {output} "
             f"({stats['train_seconds']:.1f} s, {stats['words_per_second']:,} words/s)")


@cli.command(context_settings=CONTEXT_SETTINGS)
@click.argument("tokens", metavar="TOKENS")
@click.option("-o", "--output", default="-", show_default=True, metavar="TOKENS", help="Tokens file to write.")
@click.option("--min-count", default=5, show_default=True, type=int, help="Ignore rarer words and bigrams.")
@click.option("--threshold", default=None, type=float,
              help="Score a bigram needs to become a phrase [default scoring: 10; npmi: 0.5].")
@click.option("--scoring", type=click.Choice(["default", "npmi"]), default="default", show_default=True,
              help="Mikolov et al. (2013) score or normalized PMI (Bouma 2009).")
@click.option("--passes", default=1, show_default=True, type=int,
              help="Repeat on the output: 2 passes can form phrases of 3-4 words.")
@click.option("--delimiter", default="_", show_default=True, help="Joins the words of a phrase.")
@click.option("--connector-words", type=click.Choice(["none", "english"]), default="none", show_default=True,
              help="Words allowed inside phrases without scoring (gensim's ENGLISH_CONNECTOR_WORDS: 'of', 'the', ...).")
@quiet_option
def phrases(tokens, output, min_count, threshold, scoring, passes, delimiter, connector_words, quiet):
    """Join frequent collocations into single tokens (new york -> new_york) with gensim's Phrases.

    Reads and writes tokens files, so the output feeds every other command.
    """
    from embedcli.io import atomic_output, check_output_path
    from embedcli.predictive import learn_phrases

    from embedcli.io import write_sidecar

    check_output_path(output)
    with atomic_output(output, "wb") as out:
        st = learn_phrases(tokens, out, min_count, threshold, scoring, passes, delimiter, connector_words,
                           progress=_progress("phrases", "bytes", quiet))
    write_sidecar(output, {"kind": "tokens", "params": {
        "tokens": tokens, "method": "phrases", "min_count": min_count, "threshold": threshold, "scoring": scoring,
        "passes": passes, "delimiter": delimiter, "connector_words": connector_words}, "stats": st})
    if not quiet:
        warn(f"phrases: {sum(st['phrases_per_pass']):,} phrases learned in {passes} pass(es); "
             f"{st['tokens_in']:,} -> {st['tokens_out']:,} tokens")
