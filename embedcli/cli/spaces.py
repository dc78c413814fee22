"""Commands about whole vector spaces: export (the Embedding Projector's TSV files)."""

from __future__ import annotations

import click

from embedcli.cli import cli
from embedcli.cli.options import build_spec, command, quiet_option, spec_options, warn
from embedcli.specs import ExportSpec


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
    projector ('Load'). Any vectors file embedcli reads.

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

    spec = build_spec(ExportSpec, kw)
    check_distinct([vectors_path, *label_files],
                   [os.path.join(output, "vectors.tsv"), os.path.join(output, "metadata.tsv")])
    v = Vectors.load(vectors_path)
    labels = []
    for path in label_files:
        name = os.path.basename(path)
        for ext in (".gz", ".bz2", ".xz", ".tsv", ".txt", ".labels"):
            name = name[: -len(ext)] if name.endswith(ext) and len(name) > len(ext) else name
        labels.append((name, read_labels(path)))
    st = write_projector(v, output, labels, spec.top)
    if not quiet:
        extra = "".join(f", {name}: {n:,} labelled" for name, n in st["labelled"].items())
        warn(f"export: {st['rows']:,} x {st['dim']} -> {output}/vectors.tsv, metadata.tsv "
             f"({st['columns']} column{'s' * (st['columns'] > 1)}{extra})")
