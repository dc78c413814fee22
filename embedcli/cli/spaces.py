"""Commands about whole vector spaces: align (Procrustes), export (the Embedding Projector's TSV
files), convert (another vectors format), and the cross-space parts of neighbors and evaluate
(``--target``)."""

from __future__ import annotations

import click

from embedcli.cli import cli
from embedcli.cli.options import (OneLineUsageError, build_spec, command, progress, quiet_option, spec_options,
                                  vectors_output_options, warn)
from embedcli.specs import DISPLAY_FORMATS, AlignSpec, CrossSpec, DriftSpec, ExportSpec


def target_options(command_name: str):
    """``--target TARGET`` (and ``--csls K``; for evaluate ``--dictionary``) on a query command."""

    def deco(f):
        if command_name == "evaluate":
            f = click.option("--dictionary", "dictionary", default=None, metavar="FILE",
                             help="With --target: 'source<TAB>target' test pairs; prints P@1/5/10 (BLI).")(f)
        f = spec_options(CrossSpec, command=command_name)(f)
        return click.option("--target", "target_path", default=None, metavar="TARGET",
                            help="VECTORS is a space aligned onto TARGET ('embedcli align'): answers are TARGET's "
                                 "words.")(f)

    return deco


@command(cli)
@click.argument("source_path", metavar="SOURCE")
@click.argument("target_path", metavar="TARGET")
@vectors_output_options
@click.option("--dictionary", default=None, metavar="FILE",
              help="Seed pairs 'source<TAB>target' (or space-separated), one per line; '#' comments; .gz ok "
                   "[the words the two spaces share].")
@spec_options(AlignSpec)
@quiet_option
def align(source_path, target_path, output, file_format, dictionary, quiet, **kw):
    """Rotate SOURCE onto TARGET by orthogonal Procrustes (one SVD).

    Both spaces are normalized (unit length, centred, unit length: Artetxe et
    al. 2016/2018), then the rotation that best maps the seed pairs is
    applied to every source word. Seeds: --dictionary, or the shared words
    (same-language spaces: corpora, eras). --refine N adds self-learning
    rounds (Artetxe et al. 2017): mutual nearest neighbours (CSLS) among the
    most frequent words join the seeds and the rotation is refitted. OUTPUT
    is an ordinary vectors file in TARGET's coordinates (its provenance holds
    the rotation and pair counts); query it against TARGET with neighbors
    --target and evaluate --target --dictionary.

    \b
    Example:
      embedcli align fr.npz en.npz --dictionary fr-en.train.tsv --refine 3 -o fr-in-en.npz
      embedcli neighbors fr-in-en.npz chat --target en.npz --csls 10
      embedcli evaluate fr-in-en.npz --target en.npz --dictionary fr-en.test.tsv
    """
    from embedcli.align import align as run, read_dictionary
    from embedcli.fileio import check_distinct, check_output_path
    from embedcli.provenance import file_provenance, raw_file_record, stage_record
    from embedcli.vectors import Vectors

    spec = build_spec(AlignSpec, kw)
    check_output_path(output)
    check_distinct([source_path, target_path] + ([dictionary] if dictionary else []), [output])
    src, tgt = Vectors.load(source_path), Vectors.load(target_path)
    pairs = read_dictionary(dictionary) if dictionary else None
    v, info = run(src, tgt, spec, pairs, progress("align", None, quiet))
    if info["seed_pairs"] < v.dim:
        warn(f"align: warning: only {info['seed_pairs']} seed pairs for {v.dim} dimensions: the rotation is "
             "underdetermined (add pairs, or --refine)")
    inputs = {"source": file_provenance(source_path), "target": file_provenance(target_path)}
    if dictionary:
        inputs["dictionary"] = raw_file_record(dictionary)
    v.meta["provenance"] = stage_record("align", spec, inputs, {k: info[k] for k in ("seed_pairs", "pairs")})
    used = v.save(output, file_format)
    if not quiet:
        rounds = f"{spec.refine} refinement round{'s' * (spec.refine != 1)}"
        warn(f"align: {len(v):,} x {v.dim} {used} -> {output} ({info['seed_pairs']:,} seed pairs"
             + (f", {info['pairs']:,} after {rounds}" if spec.refine else "") + ")")


@command(cli)
@click.argument("a_path", metavar="A")
@click.argument("b_path", metavar="B")
@spec_options(DriftSpec)
@click.option("--top", type=click.IntRange(min=1), default=None, metavar="N",
              help="Print only the first N words [all].")
@click.option("--format", "fmt", type=click.Choice(DISPLAY_FORMATS), default=DISPLAY_FORMATS[0], show_default=True,
              help="tsv rows (header line first), or one JSON object per word (JSON lines).")
@quiet_option
def drift(a_path, b_path, top, fmt, quiet, **kw):
    """Rank words by how much they changed between two spaces of one language.

    Two measures for each word with --min-count in both spaces (Hamilton,
    Leskovec & Jurafsky 2016): cosine, the distance between its vector in A
    and its vector in B rotated onto A (Procrustes over all those words);
    local, the change of its similarities to the union of its K nearest
    words in A and in B (no alignment). Sorted by --measure, largest change
    first, as a robust z-score among words of similar frequency (rarer
    words move more by noise alone; --frequency-bins 0 sorts by the raw
    measure). TSV columns: rank, word, local, cosine, local_z, cosine_z,
    count in A, count in B.

    \b
    Example:
      embedcli drift speeches-1900s.npz speeches-2000s.npz --top 50
      embedcli drift a.npz b.npz --measure cosine --min-count 100 --format json | head
    """
    import json

    from embedcli.align import drift as run
    from embedcli.vectors import Vectors

    spec = build_spec(DriftSpec, kw)
    res = run(Vectors.load(a_path), Vectors.load(b_path), spec)
    n = len(res["words"]) if not top else min(top, len(res["words"]))
    if fmt == "tsv":
        click.echo("rank\tword\tlocal\tcosine\tlocal_z\tcosine_z\tcount_a\tcount_b")
    for r in range(n):
        w, lo, co, lz, cz, na, nb = (res[k][r] for k in ("words", "local", "cosine", "local_z", "cosine_z",
                                                           "count_a", "count_b"))
        if fmt == "json":
            click.echo(json.dumps({"rank": r + 1, "word": w, "local": round(float(lo), 6),
                                   "cosine": round(float(co), 6), "local_z": round(float(lz), 4),
                                   "cosine_z": round(float(cz), 4), "count_a": na, "count_b": nb},
                                  ensure_ascii=False))
        else:
            click.echo(f"{r + 1}\t{w}\t{lo:.6f}\t{co:.6f}\t{lz:.4f}\t{cz:.4f}\t{'' if na is None else na}\t"
                       f"{'' if nb is None else nb}")  # a space without counts: empty fields
    if not quiet:
        how = f" z-score in {spec.frequency_bins} frequency bins" if spec.frequency_bins else ""
        warn(f"drift: {len(res['words']):,} words with count >= {spec.min_count} in both; sorted by "
             f"{spec.measure}{how}")


def cross_neighbors(v, target_path: str, queries, topn: int, csls: int, restrict: int, fmt: str, quiet: bool,
                    skip_unknown: bool = False, verbatim: bool = False, vectors_path: str = "VECTORS"):
    """``neighbors ALIGNED QUERY --target TARGET``: TARGET's nearest words to each query of the
    aligned space (one word, or words whose unit vectors are summed, ``-word`` subtracted)."""
    import json

    import numpy as np

    from embedcli.align import check_target, knn_mean, normalize_space, retrieve, target_space
    from embedcli.cli.output import read_queries
    from embedcli.vectors import Query, Vectors

    tgt = Vectors.load(target_path)
    T = target_space(tgt, check_target(v, tgt, vectors_path, target_path))[: restrict or None]
    A = normalize_space(v.vectors, "unit")
    r_t = knn_mean(T, A[: restrict or None], csls) if csls else None

    def key(w):
        return w if verbatim or w in v.index or w.lower() not in v.index else w.lower()

    missing = answered = 0
    for _, text in read_queries(queries):
        if not isinstance(text, str) or not text.split():
            continue
        parsed = Query.from_words(text.split())  # '-word' subtracted, '\-word' a key starting with '-'
        terms = [(1.0, t) for t in parsed.positive] + [(-1.0, t) for t in parsed.negative]
        unknown = [w for _, w in terms if key(w) not in v.index]
        label = " ".join(text.split())
        if unknown:
            missing += 1
            if skip_unknown:
                continue
            rec, rows = {"query": label, "neighbors": [], "unknown": unknown}, [[label, "", ""]]
        else:
            q = sum(sign * A[v.index[key(w)]] for sign, w in terms)
            q = normalize_space(np.asarray(q, np.float32)[None, :], "unit")
            idx, val = retrieve(q, T, topn, r_t)
            if csls:  # the query's own term too: CSLS values as Conneau et al. (2018) define them
                val = val - knn_mean(q, T, csls)[:, None]
            rec = {"query": label, "retrieval": f"csls k={csls}" if csls else "cosine",
                   "neighbors": [{"word": tgt.words[i], "similarity": round(float(x), 6)}
                                 for i, x in zip(idx[0], val[0])]}
            rows = [[label, tgt.words[i], f"{x:.6f}"] for i, x in zip(idx[0], val[0])]
            answered += 1
        if fmt == "json":
            click.echo(json.dumps(rec, ensure_ascii=False))
        else:
            click.echo("\n".join("\t".join(r) for r in rows))
    if missing and not quiet:
        warn(f"neighbors: {missing} quer{'y' if missing == 1 else 'ies'} with words not in the "
             f"{len(v):,}-word aligned space")
    return 0 if answered else 4


def bli_report(aligned_path: str, target_path: str, dictionary: str | None, csls: int, restrict: int, fmt: str):
    """``evaluate ALIGNED --target TARGET --dictionary TEST``: P@1/5/10 by nearest neighbour and CSLS."""
    import json

    from embedcli.align import bli_scores, read_dictionary
    from embedcli.vectors import Vectors

    if not dictionary:
        raise OneLineUsageError("--target needs --dictionary FILE (the test pairs)")
    if not target_path:
        raise OneLineUsageError("--dictionary needs --target TARGET (the space VECTORS was aligned onto)")
    res = bli_scores(Vectors.load(aligned_path), Vectors.load(target_path), read_dictionary(dictionary), csls,
                     restrict, names=(aligned_path, target_path))
    res.update(vectors=aligned_path, target=target_path, dictionary=dictionary, csls_k=csls)
    if fmt == "json":
        click.echo(json.dumps(res))
        return
    among = f" (candidates: the {restrict:,} most frequent target words)" if restrict else ""
    click.echo(f"{aligned_path} -> {target_path}: {res['covered']:,} of {res['sources']:,} test source words "
               f"covered ({100 * res['coverage']:.1f}%), {res['pairs']:,} pairs{among}")
    click.echo("retrieval   P@1     P@5     P@10")
    for name in ("nn", "csls"):
        if name in res:
            label = f"csls k={csls}" if name == "csls" else "nn"
            click.echo(f"{label:<10}  " + "  ".join(f"{res[name][k]:.4f}" for k in ("p@1", "p@5", "p@10")))


@command(cli)
@click.argument("vectors_path", metavar="VECTORS")
@click.option("-o", "--output", required=True, metavar="DIR",
              help="Folder for vectors.tsv and metadata.tsv (created if missing; the two files are replaced).")
@click.option("--labels", "label_files", multiple=True, metavar="FILE",
              help="'key<TAB>label' lines (as classify reads; a key on several lines gets its labels joined by "
                   "'|'): one more metadata column, named after the file (repeatable).")
@spec_options(ExportSpec)
@quiet_option
def export(vectors_path, output, label_files, quiet, **kw):
    """Export vectors for the TensorFlow Embedding Projector (projector.tensorflow.org).

    Writes DIR/vectors.tsv (tab-separated components, no header) and
    DIR/metadata.tsv (the key per line; with --labels, a header line and one
    column per labels file), rows in the file's order (most frequent first),
    so that --top N keeps the N most frequent words. Load both files in the
    projector ('Load'). Any vectors file embedcli reads. The provenance goes to
    the two files' .meta.json sidecars.

    \b
    Example:
      embedcli export vectors.npz --top 10000 -o projector/
      embedcli export nodes.npz --labels cora.labels.gz -o cora-projector/
    """
    import os

    from embedcli.classify import read_labels
    from embedcli.export import write_projector
    from embedcli.fileio import check_distinct
    from embedcli.vectors import Vectors

    from embedcli.provenance import file_provenance, raw_file_record, stage_record

    spec = build_spec(ExportSpec, kw)
    if output == "-":
        raise OneLineUsageError("-o -: export writes two files (vectors.tsv, metadata.tsv); give a folder")
    check_distinct([vectors_path, *label_files],
                   [os.path.join(output, "vectors.tsv"), os.path.join(output, "metadata.tsv")])
    v = Vectors.load(vectors_path, limit=spec.top)  # reads only the rows kept
    labels = []
    for path in label_files:
        name = os.path.basename(path)
        for ext in (".gz", ".bz2", ".xz", ".tsv", ".txt", ".labels"):
            name = name[: -len(ext)] if name.endswith(ext) and len(name) > len(ext) else name
        taken = {n for n, _ in labels}
        name = next(f"{name}.{i}" if i > 1 else name for i in range(1, len(taken) + 2)
                    if (f"{name}.{i}" if i > 1 else name) not in taken)  # two files of one name: x, x.2
        labels.append((name, read_labels(path)))
    inputs = {"vectors": file_provenance(vectors_path), **{f"labels{i + 1}": raw_file_record(p)
                                                           for i, p in enumerate(label_files)}}
    st = write_projector(v, output, labels, spec.top, stage_record("export", spec, inputs))
    for name, n in st["labelled"].items():
        if n == 0:
            warn(f"export: warning: no exported key has a label in column {name!r} (keys differ? --top too small?)")
    if not quiet:
        extra = "".join(f", {name}: {n:,} labelled" for name, n in st["labelled"].items())
        warn(f"export: {st['rows']:,} x {st['dim']} -> {os.path.join(output, 'vectors.tsv')}, metadata.tsv "
             f"({st['columns']} column{'s' * (st['columns'] > 1)}{extra})")


@command(cli)
@click.argument("vectors_path", metavar="VECTORS")
@vectors_output_options
@click.option("--top", type=click.IntRange(1), default=None, metavar="N",
              help="Keep the first N rows (the N most frequent words of a frequency-ordered file) [all]. A text or "
                   "binary file is read only up to them, as gensim's limit=N.")
@click.option("--lenient", is_flag=True,
              help="Repair what gensim's reader tolerates instead of refusing the file: words that are not "
                   "UTF-8 (bad bytes become U+FFFD), repeated words (the first row is kept), a text header's "
                   "wrong word count. Each repair is counted on stderr and in the metadata.")
@quiet_option
def convert(vectors_path, output, file_format, top, lenient, quiet):
    """Write VECTORS in another format, e.g. a big text file as .npz for fast queries.

    VECTORS is any vectors file embedcli reads (word2vec text or binary,
    GloVe, fastText .vec, .gz; '-' reads stdin); a fastText .bin model gives
    its in-vocabulary vectors. The output format follows the extension
    (.npz native and memory-mapped, .bin binary, else text) or
    --file-format. Metadata and provenance are kept, with 'converted_from'.
    Memory: the vectors (a text or binary file is read whole, about 2.5x its
    size; with --top only its first N rows, unless --lenient). Other commands refuse a file with undecodable or repeated words;
    convert --lenient repairs such a file once.

    \b
    Example:
      embedcli convert crawl-300d-2M.vec.gz -o crawl.npz
      embedcli convert vectors.npz --top 50000 -o vectors.bin
      embedcli convert old-word2vec.bin --lenient -o repaired.npz
    """
    from embedcli.fileio import check_distinct, check_output_path
    from embedcli.vectors import Vectors

    check_output_path(output)
    check_distinct([vectors_path], [output])
    v = Vectors.load(vectors_path, lenient=lenient, limit=top)
    rep = v.meta.get("repaired") or {}
    for what, text in (("words_not_utf8", "{} word(s) that were not UTF-8 (bad bytes are now U+FFFD)"),
                       ("duplicates_dropped", "{} repeated word(s) dropped (the first row of each kept)"),
                       ("header_words", "the header declared {0[declared]:,} words, the file has {0[rows]:,} rows")):
        if what in rep and lenient and v.meta.get("source_format") != "native" and not quiet:  # this run's repairs
            warn("convert: repaired: " + text.format(rep[what]))
    if top is not None and top < len(v):
        v = Vectors(v.words[:top], v.vectors[:top], None if v.counts is None else v.counts[:top], dict(v.meta))
    v.meta["converted_from"] = {"path": vectors_path, "format": v.meta.get("source_format") or "native"}
    if getattr(v, "oov", None) is not None and not quiet:
        warn(f"convert: {vectors_path} is a fastText model: its in-vocabulary vectors are written (vectors for "
             "unseen words need the model itself)")
    used = v.save(output, file_format)
    if not quiet:
        warn(f"convert: {len(v):,} x {v.dim} {used} vectors -> {output}")
