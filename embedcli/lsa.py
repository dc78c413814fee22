"""LSA fold-in: new documents projected into an existing term-document SVD space (``embedcli foldin``).

A term-document matrix ``X ≈ U Σ Vᵀ`` (terms x documents) gives training documents the
coordinates ``v_j = Σ⁻¹ Uᵀ x_j``; a new document ``d``, weighted as the training documents
were (local weight x the term's stored global weight), is placed at ``d̂ = Σ⁻¹ Uᵀ d``
(Deerwester et al. 1990, "Indexing by latent semantic analysis", section 4.4;
Berry, Dumais & O'Brien 1995).  embedcli writes documents as ``V Σ^eig``, so fold-in
returns ``d̂ Σ^eig = dᵀ U Σ^(eig-1)`` -- for a training document exactly its own vector.

The model is the term-vector output of ``embedcli svd`` on a ``termdoc`` matrix: term
vectors ``U Σ^eig``, the singular values, and (``meta["lsa"]``) the weighting and the
terms' global weights.
"""

from __future__ import annotations

import numpy as np

from embedcli.arguments import entry_point
from embedcli.errors import DataError, FormatError, InputError, json_number, json_numbers
from embedcli.fileio import Progress, spooled
from embedcli.specs import cores
from embedcli.vectors import Vectors


#: Fields of an LSA record's ``requires`` list that this version applies in fold-in.
UNDERSTOOD = frozenset({"binary"})


def lsa_parts(model: Vectors, name: str = "") -> tuple[np.ndarray, np.ndarray, float, dict]:
    """``(U (terms, k) float64, s (k,), eig, lsa record)`` of an LSA model.

    Raises:
        InputError: not the term vectors of an SVD of a term-document matrix, or made with an
            association (PPMI) that cannot be applied to one new document.
        FormatError: its LSA metadata has fields of the wrong type or length (an edited file), or
            requires a fold-in step this version does not know (made by a newer embedcli).
    """
    lsa = model.meta.get("lsa")
    s = model.meta.get("singular_values")
    where = f"{name or model.meta.get('path') or 'model'}: "
    if not lsa or s is None:
        hint = (" (its .meta.json sidecar, which holds what fold-in needs, is missing or stale)"
                if model.meta.get("source_format") not in (None, "native") and not model.provenance else "")
        raise InputError(where + "not an LSA model: expected the term vectors that 'embedcli svd' writes for a "
                         "term-document matrix (embedcli termdoc)" + hint)
    if lsa.get("association") not in ("none", "log"):
        raise InputError(where + f"factorized after {lsa.get('association')}, which depends on the whole matrix; "
                         "fold-in needs 'svd --association none' (the default) or log")
    needs = lsa.get("requires") or []
    unknown = sorted(str(x) for x in needs if x not in UNDERSTOOD) if isinstance(needs, list) else [str(needs)]
    if unknown:
        raise FormatError(where + f"made by a newer embedcli: fold-in must apply {', '.join(unknown)}, which this "
                          "version does not know; upgrade embedcli")
    if lsa.get("term_weights") is None and lsa.get("termdoc_weighting") != "count":
        raise InputError(where + "no stored term weights (made by an older embedcli); rebuild it")
    spec = model.provenance.get("spec") or {}
    tw = lsa.get("term_weights")
    if not (isinstance(spec, dict) and json_number(spec.get("eig", 0.0)) and len(s) == model.dim
            and (tw is None or (json_numbers(tw) and len(tw) == len(model)))):
        raise FormatError(where + "corrupt LSA metadata (eig, singular values or term weights of the wrong type or "
                          "length)")
    eig = float(spec.get("eig", 0.0))
    s = np.asarray(s, dtype=np.float64)
    if not len(s) or not s[0] > 0:
        raise DataError(where + "the LSA model's singular values are all zero")
    U = np.asarray(model.vectors, dtype=np.float64) / np.where(s > 0, s, 1.0) ** eig
    return U, s, eig, lsa


@entry_point(documents="tokens_path")
def fold_in(model: Vectors, tokens_path: str, ids: list[str] | None = None, workers: int | None = None,
            progress: Progress | None = None, name: str = "", allow_empty: bool = False) -> Vectors:
    """Document vectors for each line of ``tokens_path`` in the space of an LSA ``model``.

    Returns:
        :class:`~embedcli.vectors.Vectors` keyed by ``ids`` (default ``d1 .. dN``),
        ``(n_docs, k) float32``, comparable with the training documents' vectors;
        ``meta["empty_documents"]``: rows with no model term (zero vectors).

    Raises:
        InputError: not an LSA model (see :func:`lsa_parts`), missing tokens file.
        DataError: the tokens file is not UTF-8 text or is empty; ``ids`` of the wrong length; no
            document holds a model term (unless ``allow_empty``), as :func:`~embedcli.docvec.document_vectors`.
    """
    from embedcli.docvec import doc_term_blocks, stack_rows
    from embedcli.provenance import file_provenance, stage_record
    from embedcli.termdoc import local_weight

    U, s, eig, lsa = lsa_parts(model, name)
    weighting = lsa.get("termdoc_weighting") or "count"
    g = np.ones(len(model)) if lsa.get("term_weights") is None else np.asarray(lsa["term_weights"], np.float64)
    from embedcli.svd import RANK_TOLERANCE

    # d -> d @ P; dimensions beyond the matrix's rank (singular values at rounding level: --dim too
    # large) get 0, as in a pseudo-inverse, instead of a division by noise
    P = U * np.where(s >= RANK_TOLERANCE * s[0], np.maximum(s, 1e-300) ** (eig - 1.0), 0.0)
    workers = min(workers or cores(), cores())
    parts, empty = [], []
    with spooled(tokens_path) as path:
        for tf in doc_term_blocks(path, model.index, len(model), workers, progress):
            A = tf.tocsr(copy=True)
            if lsa.get("binary"):  # as termdoc --binary: presence
                A.data = np.ones_like(A.data)
            A.data = local_weight(A.data, weighting) * g[A.indices]
            if lsa.get("normalize"):  # as termdoc --normalize: each document to unit length
                norms = np.sqrt(np.asarray(A.multiply(A).sum(axis=1)).ravel())
                A.data /= np.repeat(np.where(norms > 0, norms, 1), np.diff(A.indptr))
            if lsa["association"] == "log":
                A.data = np.log1p(A.data)
            A.eliminate_zeros()
            parts.append(np.asarray(A @ P, dtype=np.float32))
            empty.append(np.diff(A.indptr) == 0)
    if not parts:
        raise DataError(f"{tokens_path}: no documents")
    out = stack_rows(parts, P.shape[1])
    empty_mask = np.concatenate(empty)
    if empty_mask.all() and not allow_empty:
        raise DataError(f"{tokens_path}: no line has a term of the LSA model (is TOKENS tokenized like its corpus?)")
    n = len(out)
    if ids is None:
        ids = [f"d{i + 1}" for i in range(n)]
    elif len(ids) != n:
        raise DataError(f"{len(ids):,} document ids for {n:,} documents (lines) in {tokens_path}")
    record = stage_record("foldin", (), {"model": model.provenance, "tokens": file_provenance(tokens_path)
                                         if tokens_path != "-" else {"path": "-"}},
                          {"documents": n, "empty_documents": int(empty_mask.sum())})
    meta = {"provenance": record, "kind": "documents", "singular_values": [float(x) for x in s],
            "empty_documents": [int(i) for i in np.flatnonzero(empty_mask)]}
    return Vectors(list(ids), out, None, meta)
