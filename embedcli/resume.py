"""Which of an earlier pipeline run's stage files can be reused (``pipeline --resume``).

A stage file is reused when the provenance recorded with it says that the same stage made it
with the same parameters from the same inputs as this run would.  Inputs are compared by
content where the record allows: tokens and vocabulary files by the SHA-256 their sidecars
recorded, a matrix by its own provenance (which names its inputs' hashes and parameters), and
raw corpus files, which are not hashed (they may be huge), by resolved path, size and modification
time; a stop-word file by the SHA-256 of the words it holds.  Paths of the
pipeline's own files are not compared (``-o out`` and ``-o ./out/`` name the same files).

Nothing here changes a file; :func:`embedcli.pipeline.run_pipeline` decides what to run.
"""

from __future__ import annotations

import json
import os

from embedcli.errors import EmbedcliError
from embedcli.provenance import SIDECAR_SUFFIX, corpus_records, file_provenance, stage_record


def comparable(x):
    """``x`` as it reads back from JSON, without the ``path`` of records identified by content
    (a ``sha256`` or a ``stage``): the same file under another spelling is the same input."""
    x = json.loads(json.dumps(x, sort_keys=True, default=str))

    def strip(v):
        if isinstance(v, dict):
            keep = not ("sha256" in v or "stage" in v)
            return {k: strip(w) for k, w in v.items() if keep or k != "path"}
        if isinstance(v, list):
            return [strip(w) for w in v]
        return v

    return strip(x)


def recorded(path: str) -> dict | None:
    """The provenance recorded with ``path``, or None when there is none to trust: no file, an
    unreadable record, a stale sidecar (size changed), or a data file modified after its sidecar
    was written (edited in place)."""
    if not os.path.isfile(path):
        return None
    try:
        rec = file_provenance(path)
    except (EmbedcliError, OSError, ValueError):
        return None
    if rec.get("sidecar") == "stale" or "stage" not in rec:
        return None
    side = path + SIDECAR_SUFFIX
    if os.path.isfile(side) and os.path.getmtime(path) > os.path.getmtime(side):
        return None
    return rec


def same_work(path: str, stage: str, specs, inputs: dict) -> bool:
    """Whether ``path`` records ``stage`` run with ``specs`` (one spec or several, merged as
    :func:`~embedcli.provenance.stage_record` merges them) on ``inputs`` (``name -> record``).
    Statistics and versions are not compared."""
    rec = recorded(path)
    if rec is None:
        return False
    want = stage_record(stage, specs, inputs)
    return (rec.get("stage") == stage and comparable(rec.get("spec")) == comparable(want["spec"])
            and comparable(rec.get("inputs")) == comparable(want["inputs"]))


def tokens_reusable(path: str, files: list[str], spec) -> bool:
    """Whether the tokens file ``path`` was made by ``spec`` from exactly ``files`` (local files, in
    this order): each the same file (the same path once resolved), of the same size and
    modification time as recorded, and a stop-word file (``spec.stopwords``) holding the words
    recorded (by content: a file replaced with ``cp -p`` or ``mv`` is noticed).  Stdin and URLs are
    never reused; neither is a run that skipped an
    unreadable file (which files would be skipped is known only by reading them)."""
    from embedcli.fileio import is_url

    if not files or any(f == "-" or is_url(f) or not os.path.isfile(f) for f in files):
        return False
    rec = recorded(path)
    if rec is None or rec.get("stage") != "tokenize" or comparable(rec.get("spec")) != comparable(spec.provenance()):
        return False
    done = (rec.get("inputs") or {}).get("corpus")
    if not isinstance(done, list) or len(done) != len(files):
        return False
    for r, f in zip(done, files, strict=True):
        if not isinstance(r, dict) or not isinstance(r.get("path"), str) or not _same_path(r["path"], f):
            return False
        st = os.stat(f)
        if r.get("mtime_ns") != st.st_mtime_ns or r.get("size") != corpus_records([f])[0].get("size"):
            return False
    from embedcli.tokenizer import load_stopwords, stopwords_files, stopwords_record

    if stopwords_files(spec.stopwords):  # the list now against the one applied (recorded by content)
        if not os.path.isfile(spec.stopwords):  # a pipe is read once, by the run: never here
            return False
        try:
            now = stopwords_record(load_stopwords(spec.stopwords, normal_form=spec.normal_form))
            if (rec.get("inputs") or {}).get("stopwords") != now:
                return False
        except EmbedcliError:
            return False
    return True


def _same_path(recorded_path: str, path: str) -> bool:
    """The recorded corpus path names ``path``: the same file when both exist (``c.txt``,
    ``./c.txt`` and its absolute path alike), else the same spelling."""
    try:
        return os.path.samefile(recorded_path, path)
    except OSError:
        return os.path.normpath(recorded_path) == os.path.normpath(path)
