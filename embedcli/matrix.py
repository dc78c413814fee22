"""Count matrices (co-occurrence and term-document) and their self-describing file format.

A matrix file is an embedcli ``.npz`` (see :mod:`embedcli.npzfile`) with members
``data``, ``indices``, ``indptr`` (CSR), ``shape``, ``row_words``/``col_words``
(newline-joined UTF-8), ``row_counts``/``col_counts`` and ``embedcli_meta``
(JSON: format, format_version, kind, embedcli version, the parameters that
built it), and ``format`` (``b"csr"``).  ``scipy.sparse.load_npz`` reads the matrix (files
of embedcli 0.3 and later); ``numpy.load`` reads every member, and
``scipy.sparse.csr_matrix((data, indices, indptr), shape)`` rebuilds the matrix.  A matrix
made elsewhere becomes an input of ``embedcli svd`` through :class:`CountMatrix` and :meth:`CountMatrix.save`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from embedcli import __version__
from embedcli.arguments import entry_point
from embedcli.errors import FormatError
from embedcli.fileio import read_head
from embedcli.npzfile import NpzReader, blob_words, text_blob, write_npz

MATRIX_FORMAT = "embedcli-matrix"
MATRIX_FORMAT_VERSION = 1
KINDS = ("cooccurrence", "termdoc")


@dataclass
class CountMatrix:
    """A sparse matrix with labelled rows and columns.

    Attributes:
        matrix: ``(n_rows, n_cols) float64`` CSR.
        row_words: ``n_rows`` labels (words).
        col_words: ``n_cols`` labels (context words, or document labels for a
            term-document matrix: ``d<line number>``).
        row_counts, col_counts: ``int64`` corpus frequencies of the labels (for
            documents: their length in tokens).
        kind: ``cooccurrence`` or ``termdoc``.
        provenance: the record of the stage that built it (see :mod:`embedcli.provenance`).
    """

    matrix: sp.csr_matrix
    row_words: list[str]
    col_words: list[str]
    row_counts: np.ndarray
    col_counts: np.ndarray
    kind: str
    provenance: dict[str, Any] = field(default_factory=dict)
    path: str | None = None
    #: term-document matrices: ``(n_rows,) float64`` global weight of each term (idf, entropy), for fold-in
    term_weights: np.ndarray | None = None

    def __repr__(self) -> str:
        n, m = self.matrix.shape
        return f"<CountMatrix {self.kind}: {n:,} x {m:,}, {self.matrix.nnz:,} non-zeros{f' ({self.path})' if self.path else ''}>"

    def record(self) -> dict:
        """This matrix's provenance as an input record: with its file's ``path`` once saved or loaded."""
        return {"path": self.path, **self.provenance} if self.path else dict(self.provenance)

    @entry_point
    def save(self, path: str) -> None:
        """Write atomically to ``path`` (any extension; ``.npz`` by convention).

        Raises:
            InputError: the output folder is missing or not writable.
        """
        m = self.matrix.tocsr()
        m.sum_duplicates()
        meta = {
            "format": MATRIX_FORMAT,
            "format_version": MATRIX_FORMAT_VERSION,
            "kind": self.kind,
            "embedcli_version": __version__,
            "shape": list(m.shape),
            "nnz": int(m.nnz),
            "provenance": self.provenance,
        }
        write_npz(
            path,
            meta,
            {
                "data": m.data,
                "indices": m.indices,
                "indptr": m.indptr,
                "shape": np.asarray(m.shape, dtype=np.int64),
                "format": np.asarray(b"csr"),  # what scipy.sparse.load_npz needs to read the matrix
                "row_words": text_blob(self.row_words),
                "col_words": text_blob(self.col_words),
                "row_counts": np.asarray(self.row_counts, dtype=np.int64),
                "col_counts": np.asarray(self.col_counts, dtype=np.int64),
                **({"term_weights": np.asarray(self.term_weights, dtype=np.float64)}
                   if self.term_weights is not None else {}),
            },
        )
        self.path = path

    @classmethod
    @entry_point
    def load(cls, path: str) -> "CountMatrix":
        """Read a matrix file, validating structure; nothing is unpickled.

        Raises:
            FormatError: not an embedcli matrix file, a newer format version, or
                inconsistent arrays (shape, index ranges, label counts).
            WrongKindError: plainly another kind of file (tokens, vectors text, a vocabulary).
            InputError: the file cannot be opened.
        """
        head = read_head(path, "matrix")
        if not head.startswith(b"PK"):
            from embedcli.vectorfile.kinds import other_kind_error

            wrong = other_kind_error(path, "a matrix (a .npz written by embedcli cooccur/termdoc)", "matrix")
            if wrong is not None:
                raise wrong
            raise FormatError(f"{path}: not an embedcli matrix file (expected a .npz written by embedcli cooccur/termdoc)")
        r = NpzReader(path, MATRIX_FORMAT)
        try:
            r.check_version(MATRIX_FORMAT_VERSION)
            kind = r.meta.get("kind")
            if kind not in KINDS:
                raise FormatError(f"{path}: unknown matrix kind {kind!r}")
            shape = r.array("shape")
            if shape.shape != (2,) or shape.dtype.kind not in "iu" or (shape < 0).any():
                raise FormatError(f"{path}: bad shape array")
            n_rows, n_cols = int(shape[0]), int(shape[1])
            data, indices, indptr = r.array("data"), r.array("indices"), r.array("indptr")
            if data.ndim != 1 or indices.ndim != 1 or indptr.ndim != 1 or len(indptr) != n_rows + 1:
                raise FormatError(f"{path}: CSR arrays do not match shape {n_rows}x{n_cols}")
            if data.dtype.kind != "f" or indices.dtype.kind not in "iu" or indptr.dtype.kind not in "iu":
                raise FormatError(f"{path}: CSR arrays have wrong dtypes")
            if len(data) != len(indices) or (len(indptr) and (indptr[0] != 0 or indptr[-1] != len(data))):
                raise FormatError(f"{path}: CSR arrays are inconsistent")
            if np.any(np.diff(indptr) < 0) or (len(indices) and (indices.min() < 0 or indices.max() >= n_cols)):
                raise FormatError(f"{path}: CSR indices out of range")
            if not np.isfinite(data).all():
                raise FormatError(f"{path}: matrix holds NaN or infinite values")
            if len(data) and data.min() < 0:
                raise FormatError(f"{path}: matrix holds negative values (counts and weights are never negative)")
            if len(data) and data.max() > np.finfo(np.float32).max:
                raise FormatError(f"{path}: matrix holds values beyond float32's range (up to {data.max():.3g}); "
                                  "the factorizations work in float32")
            if data.dtype not in (np.float32, np.float64):  # float16, longdouble: computed in float64
                data = data.astype(np.float64)
            matrix = sp.csr_matrix((data, indices, indptr), shape=(n_rows, n_cols))
            if not matrix.has_canonical_format:  # unsorted or repeated columns in a row (not written by embedcli)
                matrix = matrix.copy()  # the file's arrays may be read-only memory maps
                matrix.sum_duplicates()
            row_words = blob_words(r.array("row_words"), path, n_rows)
            col_words = blob_words(r.array("col_words"), path, n_cols)
            row_counts, col_counts = r.array("row_counts"), r.array("col_counts")
            if row_counts.shape != (n_rows,) or col_counts.shape != (n_cols,):
                raise FormatError(f"{path}: label counts do not match shape")
            prov = r.meta.get("provenance")
            if prov is None:  # files of embedcli 0.1 recorded only their parameters
                prov = {"stage": kind, "spec": r.meta.get("params") or {}}
            if not isinstance(prov, dict):
                raise FormatError(f"{path}: corrupt provenance in metadata")
            tw = None
            if "term_weights" in r.names:
                tw = np.asarray(r.array("term_weights"), dtype=np.float64)
                if tw.shape != (n_rows,) or not np.isfinite(tw).all():
                    raise FormatError(f"{path}: term_weights do not match the matrix")
            return cls(matrix, row_words, col_words, row_counts, col_counts, kind, prov, path, tw)
        except (ValueError, TypeError, IndexError, OverflowError) as e:
            raise FormatError(f"{path}: inconsistent matrix arrays ({type(e).__name__}: {e})") from None
        finally:
            r.close()
