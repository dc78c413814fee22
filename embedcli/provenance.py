"""Provenance: what made a file, recorded by one mechanism for every stage.

Every stage function returns its result with a *record*::

    {"stage": "cooccur", "spec": {...the spec's parameters...},
     "inputs": {"tokens": <the input file's record>, "vocabulary": <...>},
     "stats": {...deterministic counts...}}

An input's record is the provenance stored with that input file plus its
``path`` (and ``sha256`` when a sidecar gave one), so a vectors file carries the
whole chain: tokenizer settings, vocabulary, matrix, SVD.  ``embedcli
pipeline`` and the step-by-step commands build the same records the same way,
so identical work gives identical provenance.

Where it is stored: inside matrix and native vector files (``embedcli_meta``
JSON member), and in a ``FILE.meta.json`` *sidecar* for formats with no room
(tokens, vocabulary, word2vec/GloVe/binary vectors, fastText models).  A
sidecar also records the size and SHA-256 of the file it describes; when they
no longer match, the sidecar is *stale* and is not trusted.

Nothing here imports numpy (except :func:`file_provenance` on ``.npz`` files).
"""

from __future__ import annotations

import hashlib
import json
import os

from embedcli.errors import EmbedcliError, FormatError, parse_json

SIDECAR_SUFFIX = ".meta.json"


def stage_record(stage: str, specs=(), inputs: dict | None = None, stats: dict | None = None, **extra) -> dict:
    """The record of one stage run: its name, its specs' parameters merged, its inputs' records, stats.

    Args:
        specs: one spec or several (e.g. ``WeightingSpec`` and ``SVDSpec``);
            their :meth:`~embedcli.specs.Spec.provenance` dicts are merged.
        inputs: ``name -> record`` (see :func:`file_provenance`), or a list of records.
        stats: deterministic statistics (no timings: outputs stay byte-reproducible).
    """
    if not isinstance(specs, (list, tuple)):
        specs = (specs,)
    spec: dict = {}
    for s in specs:
        spec.update(s.provenance())
    rec = {"stage": stage, "spec": spec, "inputs": inputs or {}}
    if stats:
        rec["stats"] = stats
    rec.update(extra)
    return rec


def file_sha256(path: str) -> str:
    """Hex SHA-256 of a file's bytes (read in 1 MB blocks)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def sidecar_path(path: str) -> str:
    return path + SIDECAR_SUFFIX


def sidecar_document(data_path: str, kind: str, provenance: dict, **extra) -> dict:
    """The sidecar of a data file: embedcli version, kind, provenance, and the file's size and SHA-256."""
    from embedcli import __version__

    return {"embedcli_version": __version__, "kind": kind, "provenance": provenance,
            "file": {"size": os.path.getsize(data_path), "sha256": file_sha256(data_path)}, **extra}


def sidecar_tmp_for(data_tmp: str, target: str, sidecar: dict) -> str:
    """Write the sidecar of ``target`` (whose new content is in ``data_tmp``) to a temporary file beside
    it and return that file's path; :func:`embedcli.fileio.atomic_path` renames both.

    ``sidecar`` holds ``kind``, ``provenance`` and any extra keys.
    """
    import tempfile

    extra = dict(sidecar)
    doc = sidecar_document(data_tmp, extra.pop("kind"), extra.pop("provenance", {}) or {}, **extra)
    from embedcli.outputs import temp_prefix

    fd, tmp = tempfile.mkstemp(prefix=temp_prefix(target), suffix=".meta.tmp",
                               dir=os.path.dirname(target))
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            json.dump(doc, f, indent=1, sort_keys=True, default=str)
            f.write("\n")
        os.chmod(tmp, os.stat(data_tmp).st_mode & 0o7777)
    except BaseException:
        os.unlink(tmp)
        raise
    return tmp


def read_sidecar(path: str) -> dict | None:
    """The sidecar of ``path`` as a dict, or None when there is none.

    Fields of the wrong type (``provenance``, ``file`` or ``meta`` not an object, ``kind`` not a
    string) are left out, as if absent.

    Raises:
        FormatError: the sidecar exists but is not a JSON object.
    """
    sc = sidecar_path(path)
    if path == "-" or not os.path.isfile(sc):
        return None
    try:
        with open(sc, encoding="utf-8") as f:
            doc = parse_json(f.read())
    except (OSError, ValueError) as e:
        raise FormatError(f"{sc}: unreadable metadata ({e})") from None
    if not isinstance(doc, dict):
        raise FormatError(f"{sc}: unreadable metadata (not a JSON object)")
    # fields of the wrong type (an edited or foreign file) are as good as absent: nothing reads them
    for key, kind in (("provenance", dict), ("file", dict), ("meta", dict), ("kind", str)):
        if key in doc and not isinstance(doc[key], kind):
            del doc[key]
    return doc


def sidecar_status(path: str, doc: dict | None = None, check_hash: bool = True) -> str | None:
    """``"ok"``, ``"stale"`` (the file's size or SHA-256 differs from what the sidecar recorded,
    or it recorded none) or None (no sidecar)."""
    doc = read_sidecar(path) if doc is None else doc
    if doc is None:
        return None
    rec = doc.get("file") or {}
    try:
        if rec.get("size") != os.path.getsize(path):
            return "stale"
        if check_hash and rec.get("sha256") != file_sha256(path):
            return "stale"
    except OSError:
        return "stale"
    return "ok"


def file_provenance(path: str) -> dict:
    """The record of an input file: its ``path`` plus whatever provenance it carries.

    Native ``.npz`` files carry it inside; other files in a sidecar, whose
    recorded size is checked (a cheap staleness test; ``embedcli info`` also
    checks the hash).  A stale sidecar is not trusted: the record then says
    ``"sidecar": "stale"`` and holds no inherited provenance.
    """
    if path == "-":
        return {"path": "-"}
    from embedcli.fileio import is_url

    if is_url(path):
        return _url_provenance(path)
    if os.path.exists(path) and not os.path.isfile(path) and not os.path.isdir(path):
        return {"path": path}  # a pipe or device: opening it again would block, or consume input
    doc = read_sidecar(path)
    if doc is not None:
        if sidecar_status(path, doc, check_hash=False) != "ok":
            return {"path": path, "sidecar": "stale"}
        return {"path": path, "sha256": (doc.get("file") or {}).get("sha256"), **(doc.get("provenance") or {})}
    try:
        with open(path, "rb") as f:
            head = f.read(2)
    except OSError:
        return {"path": path}
    if head == b"PK":
        from embedcli.npzfile import NpzReader

        try:
            r = NpzReader(path)
        except FormatError:
            return {"path": path}
        try:
            return {"path": path, **(r.meta.get("provenance") or {})}
        finally:
            r.close()
    return {"path": path}


def _url_provenance(url: str) -> dict:
    """:func:`file_provenance` of an fsspec URL: its sidecar (``URL.meta.json``) read through fsspec,
    trusted when the recorded size matches."""
    from embedcli.fileio import url_fs

    try:
        fs, p = url_fs(url)
        if not fs.isfile(p + ".meta.json"):
            return {"path": url}
        doc = parse_json(fs.cat_file(p + ".meta.json"))
        if not isinstance(doc, dict) or (doc.get("file") or {}).get("size") != fs.size(p):
            return {"path": url, "sidecar": "stale"}
    except (OSError, ValueError, EmbedcliError):
        return {"path": url}
    return {"path": url, "sha256": (doc.get("file") or {}).get("sha256"), **(doc.get("provenance") or {})}


def corpus_records(files: list[str]) -> list[dict]:
    """Records of raw corpus files: path, size and, for local files, modification time in ns
    (``mtime_ns``; corpora are not hashed: they may be huge).  ``pipeline --resume`` compares them."""
    out = []
    for p in files:
        rec: dict = {"path": p}
        if p != "-":
            from embedcli.errors import EmbedcliError
            from embedcli.fileio import input_size, is_url

            try:
                rec["size"] = input_size(p)
                if not is_url(p):
                    rec["mtime_ns"] = os.stat(p).st_mtime_ns
            except (OSError, EmbedcliError):
                pass
        out.append(rec)
    return out


def raw_file_record(path: str) -> dict:
    """The record of a raw input that embedcli did not write (a graph, a dictionary): its
    :func:`file_provenance` plus size and ``mtime_ns`` as :func:`corpus_records` gives them, so
    that the version of the file that was read can be told apart."""
    rec = file_provenance(path)
    if path != "-" and os.path.isfile(path):
        rec.update({k: v for k, v in corpus_records([path])[0].items() if k != "path"})
    return rec


def find_stage(record: dict, stage: str) -> dict | None:
    """The first record of ``stage`` in a provenance chain (depth first), e.g. the tokenizer's settings."""
    if not isinstance(record, dict):
        return None
    if record.get("stage") == stage:
        return record
    inputs = record.get("inputs") or {}
    children = inputs.values() if isinstance(inputs, dict) else inputs
    for child in children:
        for c in child if isinstance(child, list) else [child]:
            found = find_stage(c, stage)
            if found is not None:
                return found
    return None
