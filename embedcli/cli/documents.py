"""Document commands: docvec (document vectors from word vectors), classify (labelled-task scores)."""

from __future__ import annotations

import click

from embedcli.cli import cli
from embedcli.cli.options import (OneLineUsageError, build_spec, command, progress, quiet_option, spec_options,
                                  vectors_output_options, warn)
from embedcli.cli.output import dumps
from embedcli.specs import REPORT_FORMATS, ClassifySpec, DocvecSpec


@command(cli)
@click.argument("vectors_path", metavar="VECTORS")
@click.argument("tokens", metavar="TOKENS")
@vectors_output_options
@spec_options(DocvecSpec)
@click.option("--ids", "ids_path", default=None, metavar="FILE",
              help="One document id per line of TOKENS (e.g. 'cut -f1' of a TSV) [d1, d2, ...: the line number].")
@click.option("--reference", default=None, metavar="DOCVECS",
              help="Embed like an earlier docvec output: its weighting, idf and SIF component (new documents "
                   "in the same space).")
@quiet_option
def docvec(vectors_path, tokens, output, file_format, ids_path, reference, quiet, **kw):
    """Document vectors: combine each document's word vectors (one document per line of TOKENS).

    VECTORS is any word-vector file embedcli reads (native, word2vec text or
    binary, GloVe, fastText .bin: a fastText model also covers unseen words).
    Documents are weighted means of their (unit-length) word vectors: mean,
    tf-idf, or SIF (Arora, Liang & Ma 2017: weights a/(a + p(w)) with p(w)
    from the vectors' corpus counts, else from TOKENS, then the first principal
    component removed). What was fitted (idf, p(w), component) and a
    fingerprint of VECTORS are stored in the output: --reference embeds new
    documents the same way, refuses other word vectors, and refuses options
    that differ from the reference's. A document with no known word gets a
    zero vector and a warning (rows stay aligned with lines; their rows are
    listed in 'embedcli info'). Memory: the word vectors, the output, and one
    4 MB block of the tokens file (a longer document: its distinct words).

    \b
    Example:
      embedcli docvec vectors.npz reviews.tokens.txt --ids reviews.ids -o docs.npz
      embedcli docvec vectors.npz new.tokens.txt --reference docs.npz -o new-docs.npz
      embedcli neighbors docs.npz cv000_29416 -k 5
    """
    from embedcli.docvec import document_vectors, model_stamp, read_ids
    from embedcli.fileio import check_distinct, check_output_path
    from embedcli.vectors import Vectors

    from embedcli.vectorfile.kinds import check_tokens_input

    spec = build_spec(DocvecSpec, kw)
    if vectors_path == "-" and tokens == "-":
        raise click.UsageError("VECTORS and TOKENS cannot both be '-' (standard input): give one as a file")
    check_tokens_input(tokens)
    check_output_path(output)
    from embedcli.docvec import check_reference
    from embedcli.tokenizer import stopwords_files

    check_distinct([vectors_path, tokens, ids_path, reference, *stopwords_files(spec.stopwords)], [output])
    ref = None
    if reference:
        ref = Vectors.load(reference).meta.get("docvec")
        if not ref:
            raise click.UsageError(f"--reference {reference}: not a docvec output (no 'docvec' metadata)")
        check_reference(ref, f"--reference {reference}")
        _refuse_overridden(ref["spec"], spec.provenance(), reference)
    vectors = Vectors.load(vectors_path)
    _warn_phrases("docvec", vectors, tokens)
    ids = read_ids(ids_path) if ids_path else None
    dv = document_vectors(vectors, tokens, spec, ids, ref, progress("docvec", None, quiet),
                          names=(vectors_path, f"--reference {reference}"))
    dv.meta["source_model"] = model_stamp(vectors_path)  # for 'neighbors --text'
    used = dv.save(output, file_format)
    _warn_empty(dv, "docvec", "no known word")
    if spec.weighting == "sif" and not reference and dv.meta["docvec"].get("component") is None:
        warn("docvec: SIF's common component was not removed (fewer than 2 documents with a known word); "
             "embed new documents with --reference DOCVECS of a larger run")
    if not quiet:
        warn(f"docvec: {len(dv):,} documents x {dv.dim} ({dv.meta['docvec']['spec']['weighting']}) {used} -> {output}")


@command(cli)
@click.argument("model_path", metavar="LSA_MODEL")
@click.argument("tokens", metavar="TOKENS")
@vectors_output_options
@click.option("--ids", "ids_path", default=None, metavar="FILE",
              help="One document id per line of TOKENS [d1, d2, ...: the line number].")
@click.option("--workers", type=click.IntRange(1, 1024), default=None,
              help="Processes reading TOKENS [number of cores].")
@quiet_option
def foldin(model_path, tokens, output, file_format, ids_path, workers, quiet):
    """Fold new documents into an LSA space: d = Sigma^-1 U^T x (Deerwester et al. 1990).

    LSA_MODEL is the term-vector output of 'embedcli svd' on a term-document
    matrix; each line of TOKENS is weighted as the training documents were
    (tf-idf / log-entropy with the stored global weights) and projected, so
    the vectors are comparable with the training documents' (the svd's
    NAME.docs output): a training document folds in onto its own vector.
    Documents with no known term get zero vectors (named on stderr).
    Memory: the model, the output, and one 4 MB block of TOKENS (a longer
    document: its distinct words).

    \b
    Example:
      embedcli termdoc train.tokens --ids train.ids --weighting tfidf -o td.npz
      embedcli svd td.npz --dim 200 -o lsa.npz          # also lsa.docs.npz
      embedcli foldin lsa.npz new.tokens --ids new.ids -o new-docs.npz
    """
    from embedcli.docvec import model_stamp, read_ids
    from embedcli.fileio import check_distinct, check_output_path
    from embedcli.lsa import fold_in
    from embedcli.vectorfile.kinds import check_tokens_input
    from embedcli.vectors import Vectors

    check_tokens_input(tokens)
    check_output_path(output)
    check_distinct([model_path, tokens, ids_path], [output])
    model = Vectors.load(model_path)
    _warn_phrases("foldin", model, tokens)
    ids = read_ids(ids_path) if ids_path else None
    dv = fold_in(model, tokens, ids, workers, progress("foldin", None, quiet), name=model_path)
    dv.meta["source_model"] = model_stamp(model_path)  # for 'neighbors --text'
    used = dv.save(output, file_format)
    _warn_empty(dv, "foldin", "no term of the model")
    if not quiet:
        warn(f"foldin: {len(dv):,} documents x {dv.dim} {used} -> {output}")


def _warn_phrases(command: str, model, tokens: str) -> None:
    """Warn when TOKENS were not joined by the phrases that joined the model's text (known from provenance)."""
    from embedcli.phrases import phrases_mismatch
    from embedcli.provenance import file_provenance

    why = phrases_mismatch(model.provenance, file_provenance(tokens))
    if why:
        warn(f"{command}: {tokens}: {why}")


def _refuse_overridden(ref_spec: dict, given: dict, reference: str) -> None:
    """An option typed with --reference that the reference fixes otherwise (it would be ignored)."""
    import dataclasses

    from click.core import ParameterSource

    from embedcli.specbase import flag_of

    import os

    from embedcli.tokenizer import stopwords_files

    ctx = click.get_current_context()
    typed = {f.name for f in dataclasses.fields(DocvecSpec)
             if ctx.get_parameter_source(f.name) == ParameterSource.COMMANDLINE}
    ref_stop, my_stop = stopwords_files(ref_spec.get("stopwords")), stopwords_files(given.get("stopwords"))
    if ref_stop and "stopwords" in typed and my_stop:  # the same file by another path, or found from here
        if not os.path.exists(ref_stop[0]) or os.path.samefile(ref_stop[0], my_stop[0]):
            ref_spec["stopwords"] = my_stop[0]
    elif ref_stop and not os.path.exists(ref_stop[0]):
        raise click.UsageError(f"--reference {reference} used the stop-word file {ref_stop[0]}, not found from "
                               "here; give it with --stopwords PATH")
    for f in dataclasses.fields(DocvecSpec):
        if f.name in ref_spec and f.name != "workers" and f.name in typed and given.get(f.name) != ref_spec[f.name]:
            raise click.UsageError(f"{flag_of(f.name, f)}: --reference {reference} fixes it ({ref_spec[f.name]}); "
                                   "drop the option, or embed without --reference")


def _warn_empty(dv, stage: str, what: str) -> None:
    empty = dv.meta["empty_documents"]
    if empty:
        shown = ", ".join(dv.words[i] for i in empty[:5]) + (", ..." if len(empty) > 5 else "")
        warn(f"{stage}: {len(empty):,} document(s) with {what} got a zero vector: {shown}")


@command(cli)
@click.argument("vectors_path", metavar="VECTORS")
@click.argument("labels_path", metavar="LABELS")
@click.option("--header", is_flag=True, default=False, help="LABELS starts with a header line (skipped).")
@spec_options(ClassifySpec)
@click.option("--format", "fmt", type=click.Choice(REPORT_FORMATS), default=REPORT_FORMATS[0], show_default=True,
              help="A readable table, or one JSON object (summary and every split).")
@quiet_option
def classify(vectors_path, labels_path, header, fmt, quiet, **kw):
    """Cross-validated logistic regression of LABELS on the vectors of their keys.

    LABELS has 'key<TAB>label' lines (spaces also separate; further fields
    are ignored, so an 'id<TAB>label<TAB>text' file works with --header; .gz
    ok); a key on several lines has several labels, fitted one-vs-rest, and
    each test key is given as many labels as it has (the DeepWalk protocol).
    Prints accuracy, micro-F1 and macro-F1, mean ± standard deviation across
    the folds (stratified) or, with --train-fraction, across --shuffles random
    splits per fraction. Keys without a vector are counted and left out.
    Memory: the labelled keys' vectors, a few copies per fold.

    \b
    Example:
      embedcli classify docs.npz reviews.tsv.gz --header
      embedcli classify nodes.npz blogcatalog.labels.gz --train-fraction 0.1 --train-fraction 0.9
    """
    from embedcli.classify import classify as run, read_labels
    from embedcli.vectors import Vectors

    from embedcli.errors import DataError

    spec = build_spec(ClassifySpec, kw)
    source = click.get_current_context().get_parameter_source("shuffles")
    if not spec.train_fraction and source is not None and source.name == "COMMANDLINE":
        warn("classify: --shuffles applies to --train-fraction only; ignored with --folds")
    labels = read_labels(labels_path, header)
    vectors = Vectors.load(vectors_path)
    try:
        res = run(vectors, labels, spec, progress("classify", "splits", quiet))
    except DataError as e:
        raise DataError(f"{labels_path} on {vectors_path}: {e}") from None
    if res.missing and not quiet:
        from embedcli.tokenizer import id_without_space

        first = next(iter(labels))
        hint = ("; is its first line a header? (--header)" if not header and first not in vectors.index
                and id_without_space(first) not in vectors.index else "")
        most = "; most keys have none: are these the vectors of these keys?" if res.missing > res.n_keys else ""
        warn(f"classify: {res.missing:,} of {res.missing + res.n_keys:,} labelled keys have no vector in "
             f"{vectors_path}; left out{hint}{most}")
    if res.multilabel and not quiet:
        several = [k for k, v in labels.items() if len(v) > 1]
        warn(f"classify: {len(several):,} key(s) have several labels (e.g. {several[0]}: "
             f"{', '.join(labels[several[0]][:3])}): multi-label, one-vs-rest")
    summary = res.summary()
    if fmt == "json":
        click.echo(dumps({"vectors": vectors_path, "labels": labels_path, "multilabel": res.multilabel,
                          "keys": res.n_keys, "labels_count": res.n_labels, "missing": res.missing,
                          "C": spec.C, "summary": summary, "splits": res.splits}))
        return
    click.echo(f"{vectors_path}: {res.n_keys:,} labelled keys, {res.n_labels} labels"
               f"{' (multi-label, one-vs-rest)' if res.multilabel else ''}; logistic regression, C {spec.C:g}")
    rows = [[s["protocol"], str(s["n_train"]), str(s["n_test"]),
             *(f"{s[m]:.4f} ± {s[m + '_std']:.4f}" for m in ("accuracy", "micro_f1", "macro_f1"))] for s in summary]
    from embedcli.cli.output import table as _table

    for line in _table(["protocol", "train", "test", "accuracy", "micro-F1", "macro-F1"], rows):
        click.echo(line)


def text_neighbors(docs, texts: list[str], model_path, topn: int, fmt: str, quiet: bool) -> int:
    """``neighbors --text``: embed each text like the documents and print its nearest documents; exit status."""
    ctx = click.get_current_context()
    given = [flag for name, flag in (("target_path", "--target"), ("skip_unknown", "--skip-unknown"),
                                     ("restrict", "--restrict"), ("verbatim", "--verbatim"))
             if (src := ctx.get_parameter_source(name)) is not None and src.name != "DEFAULT"]
    if given:
        raise OneLineUsageError(f"{' and '.join(given)} {'does' if len(given) == 1 else 'do'} not apply to --text "
                                "(a text is embedded like the documents and searched among all of them)")
    import numpy as np

    from embedcli.docvec import embed_texts
    from embedcli.vectors import Query, Vectors

    unknown: list[list[str]] = []
    notes: list[str] = []
    q = embed_texts(docs, texts, model_path, unknown=unknown, notes=notes)
    for note in notes if not quiet else ():
        warn(f"--text: {note}")
    keys = [f"\0text{i}" for i in range(len(texts))]  # never a document id (ids are lines of text)
    both = Vectors(list(docs.words) + keys, np.vstack([np.asarray(docs.vectors, np.float32), q]), None,
                   {"kind": "documents"})
    answered = 0
    batch = both.most_similar_batch([Query([k]) for k in keys], topn, len(docs))  # answers: documents only
    for text, vec, ans, unk in zip(texts, q, batch, unknown):
        label = " ".join(text.split())
        hits = ans.answers if np.any(vec) else []
        if not hits and not quiet:
            warn(f"--text {label[:40]!r}: no word known to the model; no neighbours")
        elif unk and not quiet:
            warn(f"--text {label[:40]!r}: not in the model, left out: {' '.join(unk[:20])}")
        answered += bool(hits)
        if fmt == "json":
            rec = {"query": label, "neighbors": [{"word": w, "similarity": round(sc, 6)} for w, sc in hits]}
            if unk or not hits:  # as a word query's record: the words that found nothing
                rec["unknown"] = unk or label.split()
            click.echo(dumps(rec))
        else:
            for w, sc in hits or [("", None)]:
                click.echo(f"{label}\t{w}\t{'' if sc is None else f'{sc:.6f}'}")
    return 0 if answered else 4
