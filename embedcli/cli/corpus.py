"""Corpus commands: tokenize, vocab, phrases."""

from __future__ import annotations

import contextlib
import dataclasses

import click

from embedcli.cli import cli
from embedcli.cli.options import (alias, build_spec, command, progress, quiet_option, refuse_workers_with,
                                  scheduler_option, spec_options,
                                  warn)
from embedcli.specs import PhrasesSpec, TokenizeSpec, VocabSpec


@command(cli)
@click.argument("inputs", nargs=-1, required=True, metavar="INPUT...")
@click.option("-o", "--output", default="-", show_default=True, metavar="TOKENS",
              help="Tokens file to write ('-': stdout).")
@spec_options(TokenizeSpec)
@click.option("--ids-output", default=None, metavar="FILE",
              help="Also write one id per document written: the --id-column field, else PATH:LINE (PATH for "
                   "--doc file); white space and % in an id are percent-encoded (a space is %20) so that each id "
                   "stays one key. termdoc and docvec take it with --ids.")
@scheduler_option
@quiet_option
def tokenize(inputs, output, ids_output, scheduler, quiet, **kw):
    """Tokenize a corpus into one document per line, tokens separated by single spaces.

    INPUT is a file, a folder (read recursively), a glob pattern, '-' (stdin) or
    the fsspec URL of one file (s3://bucket/corpus.txt.gz; pip install
    'embedcli[remote]' and the protocol's backend); .gz, .bz2 and .xz files
    are decompressed. Inside folders and globs, links to
    folders are not followed, files are read once, and anything that is not a
    regular file (named pipes, devices) is skipped and named on stderr.
    Documents without tokens are not written; a UTF-8 byte-order mark is dropped. The output is what gensim's LineSentence and the word2vec/GloVe
    tools read; its provenance goes to TOKENS.meta.json. Memory does not grow
    with the corpus (1 MB blocks). With --scheduler, blocks are tokenized on the
    cluster's workers; this process reads the inputs and writes the output (the
    same bytes; the workers need no access to the files).

    \b
    Example:
      embedcli tokenize corpus/ speeches.txt.gz -o tokens.txt --stopwords english
      zcat big.txt.gz | embedcli tokenize - -q | head
      embedcli tokenize reviews.tsv --header --id-column 1 --text-column 3 -o t.txt --ids-output t.ids
      embedcli tokenize corpus/ --scheduler local:4 -o tokens.txt
    """
    import contextlib

    from embedcli.fileio import atomic_output, check_distinct, check_output_path
    from embedcli.tokenizer import stopwords_files
    from embedcli.tokenizer import tokenize as run

    spec = build_spec(TokenizeSpec, kw)

    check_distinct([*inputs, *stopwords_files(spec.stopwords)], [output, ids_output])
    if ids_output:
        check_output_path(ids_output)
        if ids_output == output:
            raise click.UsageError("--ids-output and -o must be different files")
    side: dict = {}
    with contextlib.ExitStack() as stack:
        client = None
        if scheduler is not None:
            from embedcli.distributed import connect
            from embedcli.fileio import expand_inputs

            refuse_workers_with(scheduler)
            expand_inputs(inputs)  # a missing input fails before connecting
            check_output_path(output) if output != "-" else None
            client = stack.enter_context(connect(scheduler))
        ids = stack.enter_context(atomic_output(ids_output, "wb")) if ids_output else None
        out = stack.enter_context(atomic_output(output, "wb", sidecar=side))
        st = run(inputs, out, spec, progress=progress("tokenize", "bytes", quiet), ids_out=ids, client=client)
        side.update(kind="tokens", provenance=st.provenance)
    report_skipped(st.skipped, quiet, st.undecodable, spec.errors)
    if not quiet:
        extra = f", {len(st.skipped)} skipped" if st.skipped else ""
        warn(f"tokenize: {st.n_files} file(s){extra}, {st.n_docs:,} documents, {st.n_tokens:,} tokens")


def report_skipped(skipped, quiet: bool, undecodable: int = 0, errors: str = "strict") -> None:
    """Name each input left out on stderr, and count the undecodable bytes --errors replaced or
    dropped (even with -q: data left out or changed is never silent)."""
    for path, reason in skipped:
        warn(f"skipped {reason}" if reason.startswith(f"{path}:") else f"skipped {path}: {reason}")  # the name once
    if undecodable:
        what = "replaced by U+FFFD" if errors == "replace" else "dropped"
        warn(f"{undecodable:,} undecodable byte(s) {what} (--errors {errors}); is --encoding right?")


@command(cli)
@click.argument("tokens", metavar="TOKENS")
@click.option("-o", "--output", default="-", show_default=True, metavar="VOCAB.tsv", help="Where to write ('-': stdout).")
@spec_options(VocabSpec, command="vocab")
@alias("--max-size", "max_vocab_size", int)
@click.option("--workers", type=click.IntRange(1, 1024), default=None,
              help="Processes counting [number of cores]; the output does not depend on it.")
@scheduler_option
@quiet_option
def vocab(tokens, output, workers, scheduler, quiet, **kw):
    """Count words: 'word<TAB>count' lines, most frequent first (ties by word).

    TOKENS is a tokens file ('-': stdin; an fsspec URL such as s3://bucket/tokens.txt when fsspec
    and the protocol's backend are installed). The provenance goes to VOCAB.tsv.meta.json.
    --workers processes count byte ranges of the file (at most 256 MB each; a compressed file or
    stdin: 4 MB blocks read by this process). Memory: one entry per distinct word (about 160
    bytes each for 11-letter words) in this process and in each worker, plus the blocks.

    \b
    Example:
      embedcli vocab tokens.txt --min-count 5 -o vocab.tsv
      embedcli vocab big-tokens.txt --scheduler local:4 -o vocab.tsv
    """
    from embedcli.fileio import check_distinct, check_output_path
    from embedcli.vocab import build_vocab

    from embedcli.vectorfile.kinds import check_tokens_input

    spec = build_spec(VocabSpec, kw)
    check_tokens_input(tokens)
    check_distinct([tokens], [output])
    if output != "-":
        check_output_path(output)
    refuse_workers_with(scheduler)
    if scheduler is not None:
        from embedcli.distributed import check_input, connect

        check_input(tokens)  # before connecting: a missing or compressed file fails at once
        with connect(scheduler) as client:
            v = build_vocab(tokens, spec, progress("vocab", "bytes", quiet), client=client)
    else:
        v = build_vocab(tokens, spec, progress("vocab", "bytes", quiet), workers=workers)
    v.save(output)
    if not quiet:
        warn(f"vocab: {len(v):,} words, {v.total:,} tokens")


@command(cli)
@click.argument("tokens", metavar="TOKENS")
@click.option("-o", "--output", default="-", show_default=True, metavar="TOKENS", help="Tokens file to write.")
@spec_options(PhrasesSpec)
@click.option("--phrases-output", default=None, metavar="TABLE",
              help="Also write the learned phrases as a phrase table (pass, phrase, score per line; a JSON "
                   "settings line first), for --apply on other text.")
@click.option("--apply", "table", default=None, metavar="TABLE",
              help="Learn nothing: join the phrases of TABLE (from --phrases-output) as they joined the "
                   "training text, e.g. in new documents before 'foldin' or 'docvec'.")
@quiet_option
def phrases(tokens, output, phrases_output, table, quiet, **kw):
    """Join frequent collocations into single tokens (new york -> new_york) with gensim's Phrases.

    Reads and writes tokens files (one line out per line in, empty lines
    too), so the output feeds every other command. Text that a model was
    built from and text given to it later must be joined alike: save the
    phrases with --phrases-output and join new text with --apply.
    Memory: gensim's Phrases table of words and bigrams (pruned at 40M entries).

    \b
    Example:
      embedcli phrases tokens.txt -o phrased.txt --passes 2 --phrases-output phrases.tsv
      embedcli phrases new.txt --apply phrases.tsv -o new-phrased.txt
    """
    from embedcli.fileio import atomic_output, check_distinct
    from embedcli.phrases import apply_phrases, learn_phrases
    from embedcli.vectorfile.kinds import check_tokens_input

    if table is not None:
        _refuse_learning_options(table, phrases_output)
        if table == "-" and tokens == "-":
            raise click.UsageError("--apply -: TOKENS already reads standard input; give TABLE as a file")
    if phrases_output == "-" and output == "-":
        raise click.UsageError("--phrases-output -: the tokens go to standard output; give -o or a TABLE file")
    spec = build_spec(PhrasesSpec, kw)
    check_tokens_input(tokens)
    check_distinct([tokens, table], [output, phrases_output])
    side: dict = {}
    table_side: dict = {}
    with contextlib.ExitStack() as stack:
        out = stack.enter_context(atomic_output(output, "wb", sidecar=side))
        bar = progress("phrases", "bytes", quiet)
        if table is not None:
            st = apply_phrases(tokens, out, table, progress=bar, workers=spec.workers)
        else:
            tab = stack.enter_context(atomic_output(phrases_output, "wb", sidecar=table_side)) if phrases_output \
                else None
            st = learn_phrases(tokens, out, spec, progress=bar, table_out=tab, table_name=phrases_output)
            table_side.update(kind="phrases", provenance=st["provenance"])
        side.update(kind="tokens", provenance=st["provenance"])
    if not quiet:
        how = f"{sum(st['phrases_per_pass']):,} phrases of {table} applied" if table else \
            f"{sum(st['phrases_per_pass']):,} phrases learned in {st['passes']} pass(es)"
        warn(f"phrases: {how}; {st['tokens_in']:,} -> {st['tokens_out']:,} tokens")


def _refuse_learning_options(table: str, phrases_output) -> None:
    """--apply takes every setting from its table: a learning option typed with it would be ignored."""
    from click.core import ParameterSource

    from embedcli.specbase import flag_of

    ctx = click.get_current_context()
    if phrases_output:
        raise click.UsageError("--phrases-output: --apply learns nothing to write (the table is TABLE itself)")
    for f in dataclasses.fields(PhrasesSpec):
        if f.name != "workers" and ctx.get_parameter_source(f.name) == ParameterSource.COMMANDLINE:
            raise click.UsageError(f"{flag_of(f.name, f)}: --apply {table} fixes every setting of the phrases; "
                                   "leave it out")
