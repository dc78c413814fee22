"""Export vectors for other tools: the TensorFlow Embedding Projector's TSV pair.

``vectors.tsv``: one row per key, the components separated by tabs, no header.
``metadata.tsv``: the key per line (no header) when it is the only column; with label columns
(``--labels``), a header line ``key<TAB>name...`` then one row per key (several labels of one key
joined by ``|``; a key without a label gets an empty field).  Both files have the same number of
data rows, in the same order (the vectors file's, most frequent first), as
https://projector.tensorflow.org expects ("Load" -> the two files).
"""

from __future__ import annotations

import io
import os

import numpy as np

from embedcli.arguments import entry_point
from embedcli.errors import DataError
from embedcli.vectors import Vectors


def _field(text: str) -> str:
    return text.replace("\t", " ").replace("\n", " ").replace("\r", " ")


@entry_point
def write_projector(vectors: Vectors, outdir: str, labels: list[tuple[str, dict[str, list[str]]]] = (),
                    top: int | None = None, provenance: dict | None = None) -> dict:
    """Write ``outdir/vectors.tsv`` and ``outdir/metadata.tsv`` (see the module doc), atomically.

    Args:
        vectors: any :class:`~embedcli.vectors.Vectors` (``(n, dim)`` float32 rows).
        labels: ``(column name, key -> labels)`` per extra metadata column
            (:func:`embedcli.classify.read_labels`).
        top: only the first ``top`` rows (None: all).
        provenance: the stage record written to each file's ``.meta.json`` sidecar (kinds
            ``projector-vectors`` and ``projector-metadata``); None: no sidecar.

    Returns:
        ``{"rows", "dim", "columns", "labelled"}``: rows written, dimensions, metadata columns, and
        per label column the number of rows that have a label.

    Raises:
        InputError: ``outdir`` exists and is not a folder, or cannot be created.
        DataError: NaN or infinite values in the rows written.
    """
    from embedcli.outputs import atomic_output, make_folder

    n = len(vectors) if top is None else min(top, len(vectors))
    X = np.asarray(vectors.vectors[:n], dtype=np.float32)
    if not np.isfinite(X).all():
        i = int(np.flatnonzero(~np.isfinite(X).all(axis=1))[0])
        raise DataError(f"the vector of {vectors.words[i]!r} holds NaN or infinite values; nothing written")
    make_folder(outdir)
    keys = vectors.words[:n]
    def side(kind: str) -> dict | None:
        return None if provenance is None else {"kind": kind, "provenance": provenance, "shape": [n, int(X.shape[1])]}

    with atomic_output(os.path.join(outdir, "vectors.tsv"), "wb", sidecar=side("projector-vectors")) as f:
        for i in range(0, n, 4096):
            buf = io.StringIO()
            np.savetxt(buf, X[i:i + 4096], fmt="%.9g", delimiter="\t")  # 9 digits: float32 read back exactly
            f.write(buf.getvalue().encode("utf-8"))
    labelled = {}
    with atomic_output(os.path.join(outdir, "metadata.tsv"), "wb", sidecar=side("projector-metadata")) as f:
        if not labels:
            f.write("".join(_field(k) + "\n" for k in keys).encode("utf-8"))
        else:
            rows = ["\t".join(["key"] + [_field(name) for name, _ in labels])]
            for name, table in labels:
                labelled[name] = sum(1 for k in keys if k in table)
            rows += ["\t".join([_field(k)] + [_field("|".join(table.get(k, ()))) for _, table in labels])
                     for k in keys]
            f.write(("\n".join(rows) + "\n").encode("utf-8"))
    return {"rows": n, "dim": int(X.shape[1]), "columns": 1 + len(labels), "labelled": labelled}
