"""``embedcli plot``: a 2-D map of words, documents or nodes, or the spectrum of a matrix (--spectrum)."""

from __future__ import annotations

import click

from embedcli.cli import cli
from embedcli.cli.options import build_spec, command, progress, quiet_option, spec_options, warn
from embedcli.specs import PlotSpec, SVDSpec, WeightingSpec


def _keys_of_lines(lines, path: str) -> list[str]:
    """Keys from text lines: a line with a tab gives its first field (a vocab.tsv), any other line
    every word on it; blank lines and '#' comments skipped."""
    from embedcli.errors import FormatError

    keys = []
    for lineno, raw in enumerate(lines, 1):
        try:
            line = raw.decode("utf-8-sig" if lineno == 1 else "utf-8") if isinstance(raw, bytes) else raw
        except UnicodeDecodeError:
            raise FormatError(f"{path}:{lineno}: not UTF-8 text") from None
        line = line.strip()
        if line and not line.startswith("#"):
            keys.extend([line.split("\t")[0].strip()] if "\t" in line else line.split())
    return keys


def _keys_from(path: str) -> list[str]:
    """The keys listed in ``path`` (see :func:`_keys_of_lines`; .gz ok)."""
    from embedcli.fileio import open_binary

    with open_binary(path) as f:
        return _keys_of_lines(f, path)


@command(cli)
@click.argument("input_path", metavar="VECTORS")
@click.argument("words", nargs=-1, metavar="[WORD]...")
@click.option("-o", "--output", required=True, metavar="FILE",
              help="The picture: .png, .svg or .pdf (chosen by the extension; text stays text in SVG/PDF).")
@click.option("--words", "words_file", default=None, metavar="FILE",
              help="Plot the keys listed in FILE (first field per line; '-': stdin), e.g. a vocab.tsv head.")
@click.option("--color-by", "color_by", default=None, metavar="LABELS",
              help="'key<TAB>label' lines (as classify reads): one colour per label, with a legend (a key's "
                   "first label counts).")
@click.option("--spectrum", is_flag=True,
              help="Plot singular values and captured energy instead: of the matrix svd factorized (vectors "
                   "from svd/netmf), of a count matrix (.npz from cooccur/termdoc: weighted and factorized "
                   "here to --dim values), or of the vectors themselves.")
@click.option("--data", "data_path", default=None, metavar="FILE",
              help="Also write the plotted numbers as TSV (key, x, y[, label]; with --spectrum: k, sigma, energy).")
@click.option("--title", default=None, help="Title [the input file and method].")
@spec_options(PlotSpec)
@spec_options(WeightingSpec, help_prefix="--spectrum of a matrix: ")
@spec_options(SVDSpec, only=("dim",), help_prefix="--spectrum: singular values to compute (a count matrix) or, "
              "given, to show (vectors). ")
@quiet_option
def plot(input_path, words, output, words_file, color_by, spectrum, data_path, title, quiet, **kw):
    """Draw VECTORS in two dimensions, or (--spectrum) a matrix's spectrum.

    The WORDs given (or those in --words FILE, or '-' to read them from
    stdin, or else the --top N most frequent) are projected to 2-D by PCA
    (deterministic), t-SNE or UMAP, and labelled with their keys (labels are
    moved apart so that they do not overlap). Works for any keyed vectors:
    words, documents (docvec, svd) or nodes (netmf, deepwalk); --color-by
    colours the points by a labels file. Needs the plot extra: pip install
    'embedcli[plot]' (matplotlib, adjustText). Memory: the vectors file plus
    a few hundred MB (6,000 points with 300 labels: 320 MB).

    \b
    Example:
      embedcli plot vectors.npz king queen man woman paris france -o map.svg
      embedcli plot nodes.npz --top 2708 --color-by cora.labels.gz --method tsne -o cora.png
      embedcli plot --spectrum run/cooccur.npz --dim 300 -o spectrum.png
    """
    import os

    from embedcli.fileio import check_distinct, check_output_path
    from embedcli.plot import plot_format

    spec = build_spec(PlotSpec, kw)
    plot_format(output)
    check_output_path(output)
    if data_path:
        check_output_path(data_path)
    check_distinct([input_path] + [p for p in (words_file, color_by) if p and p != "-"],
                   [output] + ([data_path] if data_path else []))
    name = os.path.basename(input_path)
    if spectrum:
        if words or words_file or color_by:
            from embedcli.cli.options import OneLineUsageError

            raise OneLineUsageError("--spectrum takes no WORDs, --words or --color-by")
        return _spectrum(input_path, output, data_path, title or f"spectrum of {name}", quiet,
                         build_spec(WeightingSpec, kw), build_spec(SVDSpec, kw))
    _map(input_path, words, output, words_file, color_by, data_path, title, quiet, spec)


def _map(input_path, words, output, words_file, color_by, data_path, title, quiet, spec):
    import os

    import numpy as np

    from embedcli.cli.output import read_queries
    from embedcli.cli.options import OneLineUsageError
    from embedcli.classify import read_labels
    from embedcli.plot import _matplotlib, draw_map, project, select_rows
    from embedcli.vectors import Vectors

    if words and words_file:
        raise OneLineUsageError("give WORDs or --words FILE, not both")
    if "-" in words and len(words) > 1:
        raise OneLineUsageError("'-' (read the words from stdin) must be the only WORD")
    if color_by == "-" and (words == ("-",) or words_file == "-"):
        raise OneLineUsageError("standard input can give the words or --color-by, not both")
    if words_file:
        keys = _keys_from(words_file)
    elif words == ("-",):
        keys = _keys_of_lines((t for _, t in read_queries(words) if isinstance(t, str)), "<stdin>")
    else:
        keys = list(words)
    if (words or words_file) and not keys:
        raise OneLineUsageError(f"no keys in {words_file or 'standard input'}")
    _matplotlib()  # a missing dependency is said before any work
    v = Vectors.load(input_path)
    rows, missing = select_rows(v, keys or None, spec.top)
    if missing and not quiet:
        hint = v.suggest(missing[0]) if len(missing) == 1 else []
        warn(f"plot: {len(missing):,} key{'s' * (len(missing) != 1)} not in {input_path}: "
             f"{', '.join(missing[:8])}{' ...' if len(missing) > 8 else ''}"
             + (f" (did you mean: {', '.join(hint)}?)" if hint else ""))
    keys = [v.words[i] for i in rows]
    labels = read_labels(color_by) if color_by else None
    groups = [labels.get(k, [None])[0] for k in keys] if labels else None
    if labels and not any(g is not None for g in groups):
        warn(f"plot: warning: no plotted key has a label in {color_by} (keys differ?)")
    coords, info = project(v.vectors[rows], spec.method, spec.seed, spec.perplexity, spec.normalize)
    if spec.method == "tsne" and info["perplexity"] < spec.perplexity and not quiet:
        warn(f"plot: {len(rows)} points: t-SNE perplexity lowered to {info['perplexity']:.3g}")
    axes = ("", "")
    if spec.method == "pca":
        axes = tuple(f"PC{i + 1} ({100 * e:.1f}% of the variance)" for i, e in enumerate(info["explained"]))
    if title is None:
        title = f"{os.path.basename(input_path)}: {len(rows):,} points, {spec.method}" + \
            (", unit length" if spec.normalize else "")
    from embedcli.provenance import file_provenance, stage_record

    inputs = {"vectors": file_provenance(input_path)}
    if color_by and color_by != "-":
        inputs["labels"] = file_provenance(color_by)
    rec = stage_record("plot", spec, inputs, {"points": len(rows), "keys": keys[:1000]})
    res = draw_map(coords, keys, output, groups, spec.annotate, title, axes, rec)
    if res["missing_glyphs"]:
        warn("plot: warning: some characters of the keys have no glyph in matplotlib's font (drawn as boxes); "
             "set matplotlib's font.family to a font that has them")
    if data_path:
        from embedcli.outputs import atomic_output

        with atomic_output(data_path, "w") as f:
            f.write("key\tx\ty" + ("\tlabel" if groups else "") + "\n")
            for i, (k, (x, y)) in enumerate(zip(keys, np.asarray(coords))):
                f.write(f"{k}\t{x:.6g}\t{y:.6g}" + (f"\t{groups[i] or ''}" if groups else "") + "\n")
    if not quiet:
        hint = ""
        if 0 < res["labelled"] < res["points"]:
            hint = " (the first; placing labels is quadratic)"
        elif res["labelled"] == 0 and spec.annotate == "auto":
            hint = " (more than 100 points: --annotate all labels the first 300)"
        overlaps = res["overlaps"]
        warn(f"plot: {res['points']:,} points ({spec.method}), {res['labelled']:,} labelled{hint}"
             + (f", {overlaps} label overlap{'s' * (overlaps != 1)} left" if overlaps else "")
             + (f", {res['groups']} label{'s' * (res['groups'] != 1)}" if groups else "") + f" -> {output}")


def _spectrum(input_path, output, data_path, title, quiet, weighting, svd_spec):
    from embedcli.plot import draw_spectrum, energy, matrix_spectrum, vectors_spectrum
    from embedcli.vectorfile.kinds import sniff_kind

    if sniff_kind(input_path) == "matrix":
        from embedcli.matrix import CountMatrix

        cm = CountMatrix.load(input_path)
        s, total = matrix_spectrum(cm, weighting, svd_spec, progress("plot", None, quiet))
        how = weighting.association or ("none" if cm.kind == "termdoc" else "ppmi")
        source = f"the top {len(s)} singular values of the {cm.kind} matrix ({how})"
        used = [weighting, svd_spec]
    else:
        from embedcli.vectors import Vectors

        s, total, source = vectors_spectrum(Vectors.load(input_path))
        used = []
        if click.get_current_context().get_parameter_source("dim").name == "COMMANDLINE" and svd_spec.dim < len(s):
            s, source = s[: svd_spec.dim], f"{source}, the first {svd_spec.dim}"  # --dim: the first N values
    from embedcli.provenance import file_provenance, stage_record

    rec = stage_record("plot", used, {"input": file_provenance(input_path)},
                       {"spectrum": source, "values": len(s)})
    res = draw_spectrum(s, total, output, title, rec)
    if data_path:
        from embedcli.outputs import atomic_output

        e = energy(s, total)
        with atomic_output(data_path, "w") as f:
            f.write("k\tsigma\tenergy\n")
            f.writelines(f"{i + 1}\t{x:.9g}\t{'' if e is None else format(e[i], '.6g')}\n" for i, x in enumerate(s))
    if not quiet:
        got = f"{100 * res['energy']:.1f}% of the energy" if res["energy"] is not None else "total energy unknown"
        warn(f"plot: {source}: {res['k']} value{'s' * (res['k'] != 1)}, {got} -> {output}")
