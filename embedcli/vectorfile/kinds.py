"""What a file is: embedcli's guess from a sidecar or the first 64 kB, and ``embedcli info``'s description."""

from __future__ import annotations

from embedcli.errors import FormatError
from embedcli.fileio import read_head
from embedcli.npzfile import NpzReader


def sniff_kind(path: str, sample: bytes | None = None) -> str:
    """A guess of what an embedcli-related file is, from its sidecar or its first 64 kB:
    ``matrix``, ``vectors``, ``fasttext-model``, ``vocabulary``, ``tokens``, ``sidecar`` or ``unknown``."""
    from embedcli.provenance import read_sidecar
    from embedcli.vectorfile import FASTTEXT_MAGIC, read_bounded

    try:
        doc = read_sidecar(path)
    except FormatError:
        doc = None
    if doc and doc.get("kind"):
        return str(doc["kind"])
    if sample is None:
        try:
            sample = read_bounded(path)[:65536]
        except (FormatError, OSError):
            return "unknown"
    if sample.startswith(b"PK"):
        return "matrix" if b"embedcli-matrix" in sample else "vectors"
    if len(sample) >= 4 and int.from_bytes(sample[:4], "little") == FASTTEXT_MAGIC:
        return "fasttext-model"
    try:
        text = sample.decode("utf-8")
    except UnicodeDecodeError as e:
        text = sample[: e.start].decode("utf-8")
        if e.start < len(sample) - 4:
            return "vectors"  # binary word2vec
    lines = [ln for ln in text.split("\n")[:200] if ln.strip()]
    if len(lines) > 1 and text.lstrip().startswith("{") and '"embedcli_version"' in text:
        return "sidecar"
    if not lines:
        return "unknown"
    if len(lines) > 1:
        lines = lines[:-1]  # the last line of a sample may be cut

    def is_number(x: str) -> bool:
        try:
            float(x)
            return True
        except ValueError:
            return False

    if all(len(ln.split("\t")) == 2 and ln.split("\t")[1].strip().isdigit() for ln in lines):
        return "vocabulary"
    rows = [ln.split() for ln in lines]
    numeric = [sum(map(is_number, r[1:])) / max(len(r) - 1, 1) for r in rows]
    if sum(n > 0.9 for n in numeric) >= 0.9 * len(rows):
        return "vectors"
    return "tokens"


def describe(path: str) -> dict:
    """What a file is and what made it, as a JSON-serializable dict (``embedcli info``).

    Matrix and native vector files carry their metadata inside; other files
    written by embedcli have a ``PATH.meta.json`` sidecar, reported with
    ``"sidecar": {"status": "ok" | "stale"}`` -- stale when the file's size or
    SHA-256 no longer matches what the sidecar recorded (its provenance is then
    not to be trusted).  Other vector files are described by their format and shape.

    Raises:
        InputError: no such file.
        FormatError: a pickle, or a file that is none of the above.
    """
    from embedcli.provenance import read_sidecar, sidecar_path, sidecar_status
    from embedcli.vectorfile import read_vectors

    head = read_head(path, "embedcli")
    doc = read_sidecar(path)
    if doc is not None:
        out = dict(doc)
        out["sidecar"] = {"path": sidecar_path(path), "status": sidecar_status(path, doc)}
        return out
    if head.startswith(b"PK"):
        r = NpzReader(path)
        try:
            return dict(r.meta)
        finally:
            r.close()
    note = "no embedcli metadata: not written by embedcli (or its .meta.json was removed)"
    kind = sniff_kind(path)
    if kind in ("tokens", "vocabulary", "sidecar"):
        return {"kind": kind, "note": note if kind != "sidecar" else "provenance of " + path[: -len(".meta.json")]}
    d = read_vectors(path)
    out = {"kind": "vectors", "format": d.meta.get("source_format"), "shape": [len(d.words), int(d.vectors.shape[1])],
           "note": note}
    out.update({k: d.meta[k] for k in ("minn", "maxn", "bucket") if k in d.meta})
    return out


