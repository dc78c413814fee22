"""Counting and factorizing commands: cooccur, termdoc, svd."""

from __future__ import annotations

import click

from embedcli.cli import cli
from embedcli.cli.options import (alias, apply_preset, build_spec, command, preset_option, progress, quiet_option,
                                  refuse_workers_with, scheduler_option, sibling_path, spec_options,
                                  vectors_output_options, warn)
from embedcli.specs import CooccurSpec, SVDSpec, TermdocSpec, VocabSpec, WeightingSpec, choices_of

vocab_file_option = click.option(
    "--vocab", "vocab_path", default=None, metavar="VOCAB.tsv",
    help="Use this vocabulary (from 'embedcli vocab') instead of counting one; --min-count and "
         "--max-vocab-size still apply.")


def _rename_input(record, old: str, new: str) -> None:
    """Every ``"path": old`` in a provenance record (and the records inside it) becomes ``new``."""
    if isinstance(record, dict):
        if record.get("path") == old:
            record["path"] = new
        for v in record.values():
            _rename_input(v, old, new)
    elif isinstance(record, list):
        for v in record:
            _rename_input(v, old, new)


def count_matrix(stage, tokens: str, output: str, vocab_path: str | None, vspec: VocabSpec, spec, quiet: bool,
                 scheduler: str | None = None, **extra):
    """The body of a counting command: vocabulary (read from ``--vocab`` and restricted, or
    counted), then ``stage(path, vocab, spec, progress)``, saved to ``output``; with ``scheduler``
    both counts run on that Dask cluster."""
    import contextlib

    from embedcli.errors import DataError
    from embedcli.fileio import check_distinct, check_output_path, spooled
    from embedcli.vectorfile.kinds import check_tokens_input
    from embedcli.vocab import build_vocab, read_vocab

    check_tokens_input(tokens)
    check_output_path(output)
    check_distinct([tokens, vocab_path], [output])
    refuse_workers_with(scheduler)
    if scheduler is not None:
        from embedcli.distributed import check_input, check_spec, connect

        check_spec(spec)
        check_input(tokens)  # before connecting: a missing or compressed file fails at once
        ctx = connect(scheduler)
    else:
        ctx = contextlib.nullcontext(None)
    with spooled(tokens) as path, ctx as client:
        if scheduler is not None:
            extra = dict(extra, client=client)
        try:
            if vocab_path:
                v = read_vocab(vocab_path).restricted(vspec, vocab_path)
            else:
                v = build_vocab(path, vspec, progress("vocab", "bytes", quiet), client=client)
            cm = stage(path, v, spec, progress(stage.__name__.split("_")[0], "bytes", quiet), **extra)
        except DataError as e:  # messages name stdin '-', not its temporary copy
            if path != tokens and e.args and isinstance(e.args[0], str):
                e.args = (e.args[0].replace(path, "-"), *e.args[1:])
            raise
        if tokens == "-":  # not the temporary copy's random name: the same input gives the same bytes
            _rename_input(cm.provenance, path, "-")
    cm.save(output)
    return cm


@command(cli)
@click.argument("tokens", metavar="TOKENS")
@click.option("-o", "--output", required=True, metavar="MATRIX", help="Matrix file to write (.npz).")
@spec_options(CooccurSpec)
@alias("--weighting", "window_weighting", click.Choice(choices_of(CooccurSpec, "window_weighting")))
@alias("--subsample", "sample", float)
@spec_options(VocabSpec)
@vocab_file_option
@scheduler_option
@quiet_option
def cooccur(tokens, output, vocab_path, scheduler, quiet, **kw):
    """Count the sliding-window word-context co-occurrence matrix of a tokens file.

    TOKENS is a tokens file ('-': stdin), or an fsspec URL (s3://bucket/tokens.txt)
    when fsspec and the protocol's backend are installed.

    Words outside the vocabulary keep their position (they are not removed
    before windowing), as in hyperwords and GloVe. Memory: the distinct pairs
    (12 bytes each) times the partial sums held at once, which grow with the
    log of the corpus length; a dense table for the pairs of frequent words, as
    in GloVe's cooccur (114 MiB for 31k words, at most about 250 MiB, twice
    that with --dynamic-window; smaller when the text is too short to fill
    it); and a working set of about 100 MB whatever the window (measured with
    31k words: 375 MB for 4.3M tokens, 487 MB for 43M).

    \b
    Example:
      embedcli cooccur tokens.txt --vocab vocab.tsv --window 5 -o cooccur.npz
      embedcli cooccur tokens.txt --window 10 --window-weighting harmonic -o glove-style.npz
      embedcli cooccur tokens.txt --scheduler tcp://10.0.0.5:8786 -o cooccur.npz
    """
    from embedcli.cooccur import cooccur as run

    cm = count_matrix(run, tokens, output, vocab_path, build_spec(VocabSpec, kw), build_spec(CooccurSpec, kw), quiet,
                      scheduler)
    if not quiet:
        warn(f"cooccur: {len(cm.row_words):,} words, {cm.matrix.nnz:,} non-zero pairs, total weight {cm.matrix.sum():,.0f}")


@command(cli)
@click.argument("tokens", metavar="TOKENS")
@click.option("-o", "--output", required=True, metavar="MATRIX", help="Matrix file to write (.npz).")
@spec_options(TermdocSpec)
@spec_options(VocabSpec, command="termdoc")
@vocab_file_option
@click.option("--ids", "ids_path", default=None, metavar="FILE",
              help="One document id per line of TOKENS (tokenize --ids-output) [d1, d2, ...: the line number].")
@scheduler_option
@quiet_option
def termdoc(tokens, output, vocab_path, ids_path, scheduler, quiet, **kw):
    """Build the term-document matrix of a tokens file (one document per line).

    TOKENS is a tokens file ('-': stdin), or an fsspec URL (s3://bucket/tokens.txt)
    when fsspec and the protocol's backend are installed.

    Memory: the matrix (12 bytes per non-zero, a few copies while weighting)
    plus 4 MB blocks.

    \b
    Example:
      embedcli termdoc tokens.txt --weighting tfidf --min-df 2 -o termdoc.npz
      embedcli svd termdoc.npz --eig 0 -o lsa.npz        # LSA; also lsa.docs.npz
      embedcli termdoc tokens.txt --scheduler local:4 -o termdoc.npz
    """
    from embedcli.docvec import read_ids
    from embedcli.fileio import check_distinct
    from embedcli.termdoc import termdoc_matrix

    check_distinct([tokens, vocab_path, ids_path], [output])
    ids = read_ids(ids_path) if ids_path else None
    cm = count_matrix(termdoc_matrix, tokens, output, vocab_path, build_spec(VocabSpec, kw), build_spec(TermdocSpec, kw),
                      quiet, scheduler, ids=ids)
    if not quiet:
        warn(f"termdoc: {cm.matrix.shape[0]:,} terms x {cm.matrix.shape[1]:,} documents, {cm.matrix.nnz:,} non-zeros")


@command(cli)
@click.argument("matrix", metavar="MATRIX")
@vectors_output_options
@spec_options(WeightingSpec)
@alias("--weight", "association", click.Choice(choices_of(WeightingSpec, "association")))
@alias("--neg", "negative", float)
@spec_options(SVDSpec)
@click.option("--doc-output", default=None, metavar="VECTORS",
              help="Term-document input: where to write document vectors [OUTPUT with .docs before the extension].")
@preset_option
@scheduler_option
@quiet_option
def svd(matrix, output, file_format, doc_output, preset, scheduler, quiet, **kw):
    """Reweight a count matrix and factorize it with a truncated sparse SVD.

    On a co-occurrence matrix this gives PPMI-SVD word vectors (Levy, Goldberg
    & Dagan 2015); on a term-document matrix, LSA term vectors and also
    document vectors. The singular values and the whole provenance chain are
    recorded in the output (see 'embedcli info'). A row or column with no
    weight left gets an exact zero vector (documents: listed on stderr); a
    warning names singular values below 1e-6 of the largest (--dim above the
    matrix's rank: those dimensions are noise). Memory: the matrix, its
    reweighted float32 copy twice (as rows and as columns, so that both
    products run on all cores; once if it is symmetric) and the solver's
    float32 blocks: krylov's basis, n x n_iter x block_size (120 MB for 31k
    words at --dim 100; about half of that on each side of a non-symmetric
    matrix) and an (n_iter x block_size)^2 float64 matrix, or randomized's
    few (n + m) x (dim + oversamples). The default krylov settings give way
    to the randomized solver where their basis would not fit in the matrix's
    smaller side, or would exceed 3,072 columns (--dim above about 320).

    \b
    Example:
      embedcli svd cooccur.npz --dim 300 --eig 0.5 -o vectors.npz
      embedcli svd cooccur.npz --association sppmi --negative 5 -o vectors.txt.gz
    """
    from embedcli.fileio import check_distinct, check_output_path
    from embedcli.matrix import CountMatrix
    from embedcli.svd import factorize

    apply_preset(kw, preset)
    weighting = build_spec(WeightingSpec, kw)
    spec = build_spec(SVDSpec, kw)
    check_output_path(output)
    check_distinct([matrix], [output, doc_output])
    if doc_output:
        check_output_path(doc_output)
    cm = CountMatrix.load(matrix)
    dpath = doc_output
    if cm.kind == "termdoc":
        dpath = doc_output or sibling_path(output, "docs", "--doc-output")
        check_distinct([matrix], [output, dpath])
        if output == dpath == "-":
            raise click.UsageError("-o - and --doc-output -: one of them needs a file (one stream holds one file)")
    elif doc_output:
        raise click.UsageError(f"--doc-output: {matrix} is a {cm.kind} matrix; document vectors come from a "
                               "term-document matrix (termdoc)")
    refuse_workers_with(scheduler)
    if scheduler is not None:
        from embedcli.distributed import check_spec, connect

        check_spec(spec)
        with connect(scheduler) as client:
            wv, dv = factorize(cm, weighting, spec, progress("svd", None, quiet), client=client)
    else:
        wv, dv = factorize(cm, weighting, spec, progress("svd", None, quiet))
    used = wv.save(output, file_format)
    if dv is not None:
        from embedcli.docvec import model_stamp

        dv.meta["source_model"] = model_stamp(output)  # the LSA model (saved above), for 'neighbors --text'
        dv.save(dpath, file_format)
        if not quiet:
            warn(f"svd: {len(dv):,} document vectors -> {dpath}")
        empty = dv.meta["empty_documents"]
        if empty:
            shown = ", ".join(dv.words[i] for i in empty[:5]) + (", ..." if len(empty) > 5 else "")
            warn(f"svd: {len(empty):,} document(s) with no weighted term got a zero vector: {shown}")
    from embedcli.svd import RANK_TOLERANCE

    s = wv.meta["singular_values"]
    noise = sum(x < RANK_TOLERANCE * s[0] for x in s)
    if noise:
        warn(f"svd: {noise} of the {len(s)} singular values are below {RANK_TOLERANCE:g} x the largest: the "
             f"matrix has rank {len(s) - noise} or less, and those dimensions are rounding noise (use --dim "
             f"{len(s) - noise})")
    if not quiet:
        warn(f"svd: {len(wv):,} x {wv.dim} {used} vectors -> {output}; singular values {s[0]:.4g} .. {s[-1]:.4g}")
