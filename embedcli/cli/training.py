"""Training commands: word2vec, fasttext (gensim) and the whole pipeline."""

from __future__ import annotations

import click

from embedcli.cli import cli
from embedcli.cli.options import (alias, apply_preset, build_spec, command, merged_spec_options, preset_option,
                                  progress, quiet_option, refuse_workers_with, scheduler_option, sibling_path,
                                  spec_options,
                                  vectors_output_options, warn)
from embedcli.specs import (CooccurSpec, FastTextSpec, GloveSpec, PipelineSpec, SVDSpec, TokenizeSpec, VocabSpec,
                            WeightingSpec, Word2VecSpec, choices_of)


@command(cli)
@click.argument("tokens", metavar="TOKENS")
@vectors_output_options
@click.option("--save-context", is_flag=True,
              help="Also write the output (context) vectors to OUTPUT with .context before the extension.")
@spec_options(Word2VecSpec)
@spec_options(VocabSpec)
@quiet_option
def word2vec(tokens, output, file_format, save_context, quiet, **kw):
    """Train word2vec (gensim) on a tokens file, one document per line.

    Uses gensim's fast corpus_file path (stdin or compressed input is first
    copied to a temporary file). Progress (epoch, words/s, ETA) goes to
    stderr; Ctrl-C stops without leaving an output file. Memory: about
    (words x dim x 8) bytes for the two weight matrices, plus gensim's vocabulary.

    \b
    Example:
      embedcli word2vec tokens.txt --sg --dim 300 --epochs 5 -o sgns.npz
      embedcli word2vec tokens.txt --workers 1 --seed 7 -o reproducible.bin
    """
    from embedcli.errors import ParameterError
    from embedcli.fileio import check_output_path
    from embedcli.predictive import train_word2vec

    from embedcli.vectorfile.kinds import check_tokens_input

    spec = build_spec(Word2VecSpec, kw)
    vspec = build_spec(VocabSpec, kw)
    check_tokens_input(tokens)
    if save_context and spec.negative == 0:
        raise ParameterError("negative", 0, "--save-context needs negative sampling (negative > 0)")
    check_output_path(output)
    from embedcli.fileio import check_distinct

    context_path = sibling_path(output, "context") if save_context else None
    check_distinct([tokens], [output, context_path])
    main_v, ctx, t = train_word2vec(tokens, spec, vspec, progress("word2vec", None, quiet))
    used = main_v.save(output, file_format)
    if save_context:
        ctx.save(context_path, file_format)
    if not quiet:
        warn(f"word2vec: {len(main_v):,} x {main_v.dim} {used} vectors -> {output} "
             f"({t['train_seconds']:.1f} s, {t['words_per_second']:,} words/s)")


@command(cli)
@click.argument("tokens", metavar="TOKENS")
@click.option("-o", "--output", required=True, metavar="MODEL.bin",
              help="Facebook fastText .bin model (gensim save_facebook_model; no pickle).")
@click.option("--vectors-output", default=None, metavar="VECTORS",
              help="Also write the in-vocabulary vectors (any vectors format).")
@spec_options(FastTextSpec, exclude=("vectors",))
@spec_options(VocabSpec)
@quiet_option
def fasttext(tokens, output, vectors_output, quiet, **kw):
    """Train fastText (gensim) with character n-grams on a tokens file.

    The model file lets neighbors, analogy and similarity answer for words
    that were never seen in training (their vectors are built from character
    n-grams; the output says so). Its size is about (words + bucket) x dim x 4
    bytes.

    \b
    Example:
      embedcli fasttext tokens.txt --sg --bucket 200000 -o model.bin
      embedcli neighbors model.bin governmnet
    """
    from embedcli.fileio import check_output_path
    from embedcli.predictive import kv_to_vectors, train_fasttext
    from embedcli.vectorfile import save_fasttext

    from embedcli.fileio import check_distinct
    from embedcli.vectorfile.kinds import check_tokens_input

    spec = build_spec(FastTextSpec, kw)
    vspec = build_spec(VocabSpec, kw)
    check_tokens_input(tokens)
    if output.lower().endswith((".npz", ".txt", ".vec", ".tsv", ".gz", ".bz2", ".xz")):
        raise click.UsageError(f"-o {output}: a fastText model is a Facebook .bin file; name it MODEL.bin "
                                 "(--vectors-output writes the vectors in another format)")
    check_output_path(output)
    check_distinct([tokens], [output, vectors_output])
    if vectors_output:
        check_output_path(vectors_output)
    model, stats = train_fasttext(tokens, spec, vspec, progress("fasttext", None, quiet))
    save_fasttext(model, output)
    if vectors_output:
        kv_to_vectors(model.wv, model.embedcli_meta).save(vectors_output)
    if not quiet:
        warn(f"fasttext: {len(model.wv):,} words x {model.wv.vector_size} -> {output} "
             f"({stats['train_seconds']:.1f} s, {stats['words_per_second']:,} words/s)")


@command(cli)
@click.argument("matrix", metavar="MATRIX")
@vectors_output_options
@click.option("--vocab", "glove_vocab", default=None, metavar="VOCAB",
              help="MATRIX is the GloVe C tool's cooccurrence.bin (or .shuf.bin) and VOCAB its vocab_count output.")
@spec_options(GloveSpec)
@quiet_option
def glove(matrix, output, file_format, glove_vocab, quiet, **kw):
    """Train GloVe vectors (Pennington, Socher & Manning 2014) on a co-occurrence matrix.

    MATRIX is an 'embedcli cooccur' matrix (its default 1/d window weighting
    is GloVe's) or, with --vocab, the GloVe C tool's own cooccurrence file.
    AdaGrad over the non-zero entries, shuffled once and then visited in a new
    order of blocks each epoch (--no-reshuffle: one order, as the reference),
    on all cores without locks (Hogwild), with the reference tool's update
    rule and defaults;
    progress shows each epoch's cost. Writes W + C by default (the
    reference's -model 2). Needs numba: pip install 'embedcli[glove]'.
    Memory: the matrix, 16 bytes per non-zero entry and 16 (dim + 1) bytes
    per word.

    \b
    Example:
      embedcli cooccur tokens.txt --vocab vocab.tsv --window 10 -o cooccur.npz
      embedcli glove cooccur.npz --dim 300 --x-max 100 -o glove.npz
      embedcli glove cooccurrence.shuf.bin --vocab vocab.txt -o glove.txt
    """
    from embedcli.fileio import check_distinct, check_output_path
    from embedcli.glove import read_glove_cooccurrence, train_glove
    from embedcli.matrix import CountMatrix

    spec = build_spec(GloveSpec, kw)
    check_output_path(output)
    check_distinct([matrix] + ([glove_vocab] if glove_vocab else []), [output])
    cm = read_glove_cooccurrence(matrix, glove_vocab) if glove_vocab else CountMatrix.load(matrix)
    v, st = train_glove(cm, spec, progress("glove", None, quiet))
    if st["diverged"]:
        warn(f"glove: warning: the cost rose from {st['costs'][0]:.4g} to {st['costs'][-1]:.4g}: training diverged; "
             "lower --eta or --grad-clip")
    used = v.save(output, file_format)
    if not quiet:
        warn(f"glove: {len(v):,} x {v.dim} {used} vectors -> {output} ({st['train_seconds']:.1f} s, "
             f"{st['entries_per_second']:,} entries/s, final cost {st['costs'][-1]:.6f})")


_PIPELINE_STAGES = [
    ("tokenize", TokenizeSpec, ()),
    ("vocab", VocabSpec, ()),
    ("svd", CooccurSpec, ()),
    ("svd", WeightingSpec, ()),
    ("svd", SVDSpec, ()),
    ("glove", CooccurSpec, ()),
    ("glove", GloveSpec, ()),
    ("word2vec", Word2VecSpec, ()),
    ("fasttext", FastTextSpec, ()),
]


@command(cli)
@click.argument("corpus", nargs=-1, metavar="[CORPUS]...")
@click.option("-o", "--output", default="embedcli-output", show_default=True, metavar="DIR",
              help="Folder for every intermediate and the vectors.")
@alias("--outdir", "output", str)
@spec_options(PipelineSpec)
@merged_spec_options(_PIPELINE_STAGES, command="pipeline", help_texts={
    "workers": "Workers of every stage: tokenize's processes [4, at most the cores]; cooccur's reading "
               "processes and counting threads, and svd's, glove's, word2vec's and fasttext's threads [number "
               "of cores]. tokenize, cooccur and svd give the same output whatever it is; glove, word2vec and "
               "fasttext are reproducible with 1.",
    "seed": "Seed of every seeded stage: cooccur's --dynamic-window and --sample, svd's solver, glove's "
            "initial vectors and entry order, word2vec's and fasttext's training (reproducible with --workers 1)."})
@alias("--weight", "association", click.Choice(choices_of(WeightingSpec, "association")))
@alias("--neg", "negative", float)
@click.option("--vectors-name", default="vectors.npz", show_default=True,
              help="File name of the vectors in DIR; its extension picks the format.")
@click.option("--probe", multiple=True, metavar="WORD", help="Show neighbours of these words (repeatable).")
@click.option("--resume", is_flag=True,
              help="Reuse the files in DIR that an earlier run made from the same corpus with the same options "
                   "(read from their provenance; a corpus changed since, by path, size or modification time, or "
                   "a --stopwords list with other words, is tokenized again) and run only the "
                   "stages after them: after an interrupt, or to try another --dim on the same counts.")
@preset_option
@scheduler_option
@click.option("-q", "--quiet", is_flag=True,
              help="No progress on stderr and no report (stage times, neighbours) on stdout.")
def pipeline(corpus, output, method, vectors_name, probe, resume, preset, scheduler, quiet, **kw):
    """Run tokenize -> vocab -> cooccur -> svd (or -> glove, or -> word2vec / fasttext) with good defaults.

    Without CORPUS it runs on the bundled sample corpus (US presidential
    speeches). Keeps tokens.txt, vocab.tsv, cooccur.npz (svd, glove) or model.bin
    (fasttext), and the vectors in DIR, and prints each stage's wall time
    and a few nearest neighbours (a report, on stdout; progress goes to stderr). The options of its stages that shape
    the vectors are available (not those naming other outputs, such as
    --ids-output); options marked [svd], [glove], [word2vec] or [fasttext] apply
    to that method only. Memory: the largest of its stages' (see their --help); for
    fasttext the bucket table is sized from the vocabulary unless --bucket is given.

    \b
    Example:
      embedcli pipeline corpus.txt.gz -o out --dim 300
      embedcli pipeline corpus.txt.gz -o out --dim 500 --resume   # reuses out's tokens, vocab, counts
      embedcli pipeline corpus.txt.gz -o out-sgns --method word2vec --sg --epochs 5
      embedcli pipeline corpus.txt.gz -o out-glove --method glove --window 10
      embedcli pipeline corpus/ -o out --scheduler tcp://10.0.0.5:8786  # tokenize, cooccur, svd on a cluster
    """
    import time

    from embedcli.pipeline import run_pipeline, sample_corpus_path

    apply_preset(kw, preset)
    _warn_unused(click.get_current_context(), method)
    specs = {"tokenize": build_spec(TokenizeSpec, kw, pop=False), "vocab": build_spec(VocabSpec, kw, pop=False)}
    if method == "svd":
        specs.update(cooccur=build_spec(CooccurSpec, kw, pop=False), weighting=build_spec(WeightingSpec, kw, pop=False),
                     svd=build_spec(SVDSpec, kw, pop=False))
    elif method == "glove":
        specs.update(cooccur=build_spec(CooccurSpec, kw, pop=False), glove=build_spec(GloveSpec, kw, pop=False))
    else:
        specs["word2vec"] = build_spec(FastTextSpec if method == "fasttext" else Word2VecSpec, kw, pop=False)
        if method == "fasttext" and kw.get("bucket") is None:
            specs["word2vec"] = specs["word2vec"].replace(bucket=None)  # sized from the vocabulary
    t0, started = time.perf_counter(), time.time()
    try:
        if scheduler is not None:
            from embedcli.distributed import connect
            from embedcli.fileio import expand_inputs
            from embedcli.outputs import check_output_folder
            from embedcli.pipeline import check_cluster_pipeline

            check_cluster_pipeline(method, specs.get("cooccur"), specs.get("svd"))  # before connecting
            refuse_workers_with(scheduler)
            check_output_folder(output)
            if corpus:
                expand_inputs(list(corpus))
            with connect(scheduler) as client:
                res = run_pipeline(list(corpus), output, method=method, vectors_name=vectors_name, quiet=quiet,
                                   client=client, resume=resume, **specs)
        else:
            res = run_pipeline(list(corpus), output, method=method, vectors_name=vectors_name, quiet=quiet,
                               resume=resume, **specs)
    except (KeyboardInterrupt, SystemExit) as e:  # Ctrl-C, or a signal's exit: say what is complete
        if isinstance(e, KeyboardInterrupt) or (isinstance(e.code, int) and e.code >= 128):
            _name_completed(output, started)
        raise
    from embedcli.cli.corpus import report_skipped

    report_skipped(res.skipped, quiet, res.undecodable, kw.get("errors") or "strict")
    for line in res.warnings:
        warn(line)
    import sys

    if quiet or type(sys.stdout).__name__ == "_ClosedStdout":  # the files are written: a summary nobody reads
        return
    total = time.perf_counter() - t0
    click.echo(f"corpus: {', '.join(corpus) if corpus else sample_corpus_path() + ' (bundled sample)'}")
    for name, secs, detail in res.stages:
        click.echo(f"{name:<9} {secs:7.2f} s  {detail}")
    click.echo(f"{'total':<9} {total:7.2f} s  -> {res.files['vectors']}")
    _show_probes(res.vectors, list(probe))


def _name_completed(outdir: str, started: float) -> None:
    """After an interrupted pipeline: the stage files this run completed (written since it started),
    so that ``--resume`` (or the step-by-step commands) can go on from them."""
    import os

    names = ("tokens.txt", "vocab.tsv", "cooccur.npz")
    done = [n for n in names if os.path.isfile(p := os.path.join(outdir, n)) and os.path.getmtime(p) >= started]
    if done:
        warn(f"pipeline: completed before the interrupt: {', '.join(os.path.join(outdir, n) for n in done)} "
             "(the same command with --resume goes on from these)")


def _warn_unused(ctx: click.Context, method: str) -> None:
    """Name the options given on the command line that only another --method uses (they are ignored)."""
    import dataclasses

    from click.core import ParameterSource

    from embedcli.specbase import flag_of

    # by flag: one flag may fill differently named fields (--dim: SVDSpec.dim, Word2VecSpec.vector_size)
    used = {flag_of(f.name, f) for stage, cls, _ in _PIPELINE_STAGES if stage in ("tokenize", "vocab", method)
            for f in dataclasses.fields(cls)}
    owners: dict[str, list[str]] = {}
    for stage, cls, _ in _PIPELINE_STAGES:
        for f in dataclasses.fields(cls):
            owners.setdefault(flag_of(f.name, f), []).append(stage)
    ignored = [p for p in ctx.command.params if p.opts[0] in owners and p.opts[0] not in used
               and ctx.get_parameter_source(p.name) == ParameterSource.COMMANDLINE]
    for p in ignored:
        others = "/".join(dict.fromkeys(owners[p.opts[0]]))
        warn(f"pipeline: {p.opts[0]} applies to --method {others} only; ignored with --method {method}")


_DEFAULT_PROBES = ("freedom", "war", "economy", "congress", "president", "good", "city", "money", "music", "science")


def _show_probes(vectors, probes: list[str], k: int = 6) -> None:
    from embedcli.vectors import Query

    idx = vectors.index
    if probes:
        keys = [vectors.query_key(w) for w in probes]
        unknown = [w for w, k in zip(probes, keys) if k not in idx]
        if unknown:
            warn(f"pipeline: --probe not in the vocabulary: {', '.join(unknown)}")
        words = list(dict.fromkeys(k for k in keys if k in idx))
        if not words:
            return
    else:
        words = [w for w in _DEFAULT_PROBES if w in idx][:4] or vectors.words[50:54]
    click.echo("nearest neighbours:")
    for w, ans in zip(words, vectors.most_similar_batch([Query([w]) for w in words], k)):
        click.echo(f"  {w}: " + ", ".join(f"{n} ({sc:.2f})" for n, sc in ans.answers))
