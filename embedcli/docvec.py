"""Document vectors from word vectors: mean, tf-idf-weighted mean, SIF (``embedcli docvec``).

Every document (line) of a tokens file becomes ``sum_w weight(w) * tf(w, doc) * x_w / sum_w tf(w, doc)``
over its words that have a vector (``x_w`` scaled to unit length first unless
``word_norm`` is off), computed block by block as a sparse (documents x words)
matrix times the word vectors: memory is the output plus one block, whatever the
number of documents.

Weightings:

- ``mean``: weight 1.
- ``tfidf``: ``ln(N / df(w))``, ``N`` documents and ``df`` counted over the documents
  embedded (a first pass), or taken from a reference run.
- ``sif``: ``a / (a + p(w))`` with ``p(w)`` the word's relative frequency in the corpus the
  vectors were trained on (their counts; else the tokens file's), then the projection on
  the first principal component (uncentred, as the reference code's ``TruncatedSVD``)
  of the weighted averages is removed (Arora, Liang & Ma 2017, "A simple but
  tough-to-beat baseline for sentence embeddings", Algorithm 1;
  github.com/PrincetonML/SIF).

The fitted parts (``idf``, the SIF component) are stored in the output's metadata
(``docvec``), so new documents can be embedded the same way (``reference``).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from embedcli.arguments import entry_point
from embedcli.errors import DataError, FormatError, InputError, ParameterError
from embedcli.fileio import Progress, scratch_prefix, spooled
from embedcli.specs import DocvecSpec, cores
from embedcli.vectors import Vectors, model_fingerprint

#: rows per step when a whole document matrix is transformed in place (bounded temporaries)
ROWS_PER_BLOCK = 65536


@entry_point(documents="tokens_path")
def document_vectors(vectors: Vectors, tokens_path: str, spec: DocvecSpec | None = None,
                     ids: list[str] | None = None, reference: dict | None = None,
                     progress: Progress | None = None, allow_empty: bool = False,
                     names: tuple[str, str] = ("these word vectors", "the reference")) -> Vectors:
    """One vector per line of ``tokens_path``.

    Args:
        vectors: word vectors (any :class:`~embedcli.vectors.Vectors`; a fastText
            model's also gives vectors to words outside its vocabulary).
        tokens_path: a tokens file (one document per line, space-separated), or ``-``.
        ids: one key per document; default ``d1 .. dN`` (``N``: the line number).
        reference: the ``docvec`` metadata of an earlier run, to embed new documents with
            its weighting, idf, SIF p(w) and component (``spec`` is then taken from it, apart
            from ``workers``); refused when it was made from other word vectors
            (:func:`~embedcli.vectors.model_fingerprint`).
        names: the word vectors' and the reference's names in messages (their files).

    Returns:
        :class:`~embedcli.vectors.Vectors` keyed by document id, ``(n_docs, dim) float32``;
        ``meta["docvec"]`` holds the weighting and what was fitted (the SIF ``component`` is None
        when fewer than two documents have a known word: it would remove them whole),
        ``meta["empty_documents"]``
        the 0-based rows of documents with no word that has a vector (zero vectors, kept so
        that rows stay aligned with lines).

    Raises:
        InputError: missing tokens file or stop-word file; a reference made from other word vectors.
        DataError: ``ids`` of the wrong length or with a repeated id; the tokens file is not UTF-8 text,
            has no document, or no line has a word of
            ``vectors`` (unless ``allow_empty``).
        ParameterError: a reference whose vectors have another dimension.
    """
    from embedcli.provenance import file_provenance, stage_record
    from embedcli.tokenizer import load_stopwords

    spec = spec or DocvecSpec()
    if vectors.meta.get("kind") == "documents" or vectors.provenance.get("stage") in ("docvec", "foldin"):
        raise InputError("these are document vectors; docvec combines word vectors (the output of svd on a "
                         "co-occurrence matrix, word2vec, fasttext, GloVe, ...)")
    vectors_name, reference_name = names
    if reference is not None:
        check_reference(reference, reference_name)
        spec = DocvecSpec(**{k: v for k, v in reference["spec"].items() if k != "workers"}, workers=spec.workers)
        made = reference.get("vectors")
        if made is not None and made != model_fingerprint(vectors):
            raise InputError(f"{reference_name} was made from other word vectors than {vectors_name} "
                             f"({len(vectors):,} x {vectors.dim}); give the word vectors that made it")
    progress = progress or Progress(None)
    workers = min(spec.workers or cores(), cores())
    with spooled(tokens_path) as path:
        words, X = list(vectors.words), np.asarray(vectors.vectors, dtype=np.float32)
        index = dict(vectors.index)
        if vectors.oov is not None:  # fastText: vectors for the file's unseen words from their n-grams
            extra = sorted(_file_words(path) - index.keys())
            if extra:
                X = np.vstack([X, np.stack([vectors.oov(w) for w in extra]).astype(np.float32)])
                index.update(zip(extra, range(len(words), len(words) + len(extra))))
                words += extra
        V, dim = X.shape
        if spec.word_norm:
            n = np.linalg.norm(X, axis=1, keepdims=True)
            X = X / np.where(n > 0, n, 1)
        weight = np.ones(V, dtype=np.float64)
        for w in load_stopwords(spec.stopwords, recorded=reference is not None):
            if w in index:
                weight[index[w]] = 0.0
        fitted: dict = {"vectors": model_fingerprint(vectors)}
        if spec.weighting == "sif":
            if reference is not None and reference.get("sif_p") is not None:  # p(w) of the reference's tokens
                p = _reference_values(reference["sif_p"], "p", index, V, 0.0)
            else:  # kept, so that new documents get the same weights whatever file the model is read from
                p = _word_probabilities(vectors, V, path, index, workers)
                fitted["sif_p"] = {"words": [w for w in words if p[index[w]] > 0],
                                   "p": [float(x) for x in p if x > 0]}
            weight *= spec.sif_a / (spec.sif_a + p)
        elif spec.weighting == "tfidf":
            if reference is not None:
                idf = _reference_idf(reference, index, V)
            else:
                n_docs, df = _document_frequencies(path, index, V, workers)
                idf = np.log(n_docs / np.maximum(df, 1))
                fitted["idf"] = {"n_documents": int(n_docs), "words": [w for w in words if df[index[w]] > 0],
                                 "idf": [round(float(x), 6) for x, d in zip(idf, df) if d > 0]}
            weight *= idf
        out, empty, n_docs = _combine(path, index, V, X, weight, workers, progress)
    if n_docs == 0:
        raise DataError(f"{tokens_path}: no documents")
    if empty.all() and not allow_empty:
        raise DataError(f"{tokens_path}: no line has a word of the vectors (is TOKENS tokenized like their corpus?)")
    if spec.weighting == "sif":
        if reference is not None:
            u = np.asarray(reference["component"] if reference.get("component") is not None else np.zeros(dim),
                           dtype=np.float32)
            if u.shape != (dim,):
                raise ParameterError("reference", "component", f"has {u.size} dimensions, the vectors {dim}")
        elif (~empty).sum() >= 2:
            u = _first_component(out)
            fitted["component"] = [float(x) for x in u]
        else:  # the component of one document is the document itself: nothing would be left
            u = np.zeros(dim, np.float32)
            fitted["component"] = None
        remove_component(out, u)
        out[empty] = 0.0
    if spec.normalize:
        for lo in range(0, len(out), ROWS_PER_BLOCK):
            B = out[lo:lo + ROWS_PER_BLOCK]
            n = np.linalg.norm(B, axis=1, keepdims=True)
            B /= np.where(n > 0, n, 1)
    if ids is None:
        ids = [f"d{i + 1}" for i in range(n_docs)]
    elif len(ids) != n_docs:
        raise DataError(f"{len(ids):,} document ids for {n_docs:,} documents (lines) in {tokens_path}")
    elif len(set(ids)) != len(ids):
        seen: set = set()
        repeated = next(d for d in ids if d in seen or seen.add(d))
        raise DataError(f"document id {repeated!r} is given twice (ids are the keys of the document vectors)")
    if reference is not None:  # what was applied, so that these vectors can serve as a reference in turn
        fitted.update({k: reference[k] for k in ("component", "idf", "sif_p") if k in reference})
    meta = {"kind": "documents", "docvec": {"spec": spec.provenance(), **fitted},
            "empty_documents": [int(i) for i in np.flatnonzero(empty)]}
    meta["provenance"] = stage_record("docvec", spec, {"vectors": vectors.provenance or {"format": vectors.meta.get(
        "source_format")}, "tokens": file_provenance(tokens_path) if tokens_path != "-" else {"path": "-"}},
        {"documents": n_docs, "empty_documents": int(empty.sum())})
    return Vectors(list(ids), out, None, meta)


def _file_words(path: str) -> set[str]:
    """The distinct tokens of a tokens file (for fastText's unseen words)."""
    from embedcli.fileio import iter_line_chunks

    seen: set[str] = set()
    for _, data, _ in iter_line_chunks(path):
        try:
            seen.update(data.decode("utf-8").split())
        except UnicodeDecodeError:
            raise DataError(f"{path}: not UTF-8 text") from None
    return seen


def _has_counts(vectors: Vectors) -> bool:
    return vectors.counts is not None and np.asarray(vectors.counts).sum() > 0


def _word_probabilities(vectors: Vectors, V: int, path: str, index: dict, workers: int) -> np.ndarray:
    """p(w): the vectors' corpus counts when known, else counts in the tokens file; ``(V,) float64``."""
    counts = np.zeros(V, dtype=np.float64)
    if _has_counts(vectors):
        c = np.asarray(vectors.counts, dtype=np.float64)
        counts[: len(c)] = c
    else:
        from embedcli.cooccur import iter_id_blocks

        for ids, _ in iter_id_blocks(path, index, workers=workers):
            ids = ids[ids >= 0]
            counts += np.bincount(ids, minlength=V)
    total = counts.sum()
    return counts / total if total > 0 else counts


def _document_frequencies(path: str, index: dict, V: int, workers: int) -> tuple[int, np.ndarray]:
    """``(number of documents, (V,) int64 document frequencies)``."""
    df = np.zeros(V, dtype=np.int64)
    n_docs = 0
    for tf in doc_term_blocks(path, index, V, workers):
        df += np.bincount(tf.indices, minlength=V)  # one entry per (document, term) present
        n_docs += tf.shape[0]
    return n_docs, df


def check_reference(reference: dict, name: str) -> None:
    """A reference's fields (``meta["docvec"]`` of a docvec output) have the types docvec reads
    them as; the component's length is checked against the vectors later.

    Raises:
        FormatError: naming the reference (an edited or corrupt file).
    """
    from embedcli.errors import json_numbers

    def per_word(x, key) -> bool:
        return isinstance(x, dict) and isinstance(x.get("words", []), list) and json_numbers(x.get(key, []))

    ok = (isinstance(reference.get("spec"), dict)
          and (reference.get("component") is None or json_numbers(reference["component"]))  # its length: below
          and (reference.get("sif_p") is None or per_word(reference["sif_p"], "p"))
          and (reference.get("idf") is None or per_word(reference["idf"], "idf")))
    if not ok:
        raise FormatError(f"{name}: corrupt docvec metadata (spec, component, sif_p or idf of the wrong type)")


def _reference_idf(reference: dict, index: dict, V: int) -> np.ndarray:
    ref = reference.get("idf") or {}
    default = float(np.log(max(ref.get("n_documents", 1), 1)))  # a word no reference document had
    return _reference_values(ref, "idf", index, V, default)


def _reference_values(ref: dict, key: str, index: dict, V: int, default: float) -> np.ndarray:
    """``(V,) float64``: the reference's per-word ``ref[key]`` values (``ref["words"]``), else ``default``."""
    out = np.full(V, default, dtype=np.float64)
    for w, x in zip(ref.get("words", []), ref.get(key, [])):
        if w in index:
            out[index[w]] = x
    return out


def doc_term_blocks(path: str, index: dict, V: int, workers: int = 1, progress: Progress | None = None):
    """Stream a tokens file as ``(n_docs_in_block, V) float64`` CSR term-frequency blocks, in line order.

    Every line is a row (lines without a known token are empty rows, trailing ones included),
    so the rows of all blocks line up with the file's lines.  Memory: one block.

    Raises:
        DataError: the file is not UTF-8 text.
    """
    from embedcli.cooccur import iter_id_blocks

    start = 0  # first document of the next block to emit
    carry = None  # the last document of a block may continue in the next one: (ids, doc, counts)
    lines: list[int] = []
    for ids, doc in iter_id_blocks(path, index, progress, workers, lines):
        cnt = np.ones(len(ids), dtype=np.float64)
        if carry is not None:
            ids, doc, cnt = (np.concatenate([a, b]) for a, b in zip(carry, (ids, doc, cnt)))
        if len(doc) == 0:
            continue
        last = int(doc[-1])
        cut = int(np.searchsorted(doc, last))  # tokens of the (maybe unfinished) last document wait
        carry = _compact(ids[cut:], last, cnt[cut:])
        if last > start:
            yield _block_matrix(ids[:cut], doc[:cut], cnt[:cut], start, last, V)
            start = last
    if carry is not None and len(carry[1]):
        end = int(carry[1][-1]) + 1
        yield _block_matrix(*carry, start, end, V)
        start = end
    n_lines = lines[0]
    if n_lines > start:  # trailing documents without any token
        yield sp.csr_matrix((n_lines - start, V), dtype=np.float64)
    if progress is not None:
        progress.close()


def _compact(ids: np.ndarray, doc: int, cnt: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One document's tokens as (distinct known ids, their doc number, their counts): a document that
    spans many blocks (``--doc file`` tokens) takes memory for its distinct words, not its tokens."""
    ok = ids >= 0
    u, inv = np.unique(ids[ok], return_inverse=True)
    return u, np.full(len(u), doc, dtype=np.int64), np.bincount(inv, weights=cnt[ok], minlength=len(u))


def _block_matrix(ids: np.ndarray, doc: np.ndarray, cnt: np.ndarray, start: int, end: int, V: int) -> sp.csr_matrix:
    ok = ids >= 0
    m = sp.csr_matrix((cnt[ok], ((doc[ok] - start).astype(np.int64), ids[ok].astype(np.int64))),
                      shape=(end - start, V))
    m.sum_duplicates()
    return m


def stack_rows(parts: list, dim: int) -> np.ndarray:
    """``np.vstack(parts)`` as ``(n, dim) float32`` that empties ``parts`` while it copies: the output's
    pages are touched only as each part is freed, so the peak is the output plus one part, not twice it."""
    out = np.empty((sum(len(p) for p in parts), dim), dtype=np.float32)
    at = 0
    parts.reverse()
    while parts:
        p = parts.pop()
        out[at:at + len(p)] = p
        at += len(p)
        del p
    return out


def _combine(path: str, index: dict, V: int, X: np.ndarray, weight: np.ndarray, workers: int,
             progress: Progress) -> tuple[np.ndarray, np.ndarray, int]:
    """Weighted averages: ``(n_docs, dim) float32``, the empty-document mask, ``n_docs``."""
    parts, known = [], []
    for tf in doc_term_blocks(path, index, V, workers, progress):
        n_tok = np.asarray(tf.sum(axis=1)).ravel()  # tokens with a vector, stop words included
        A = sp.csr_matrix(tf.multiply(weight[None, :]), dtype=np.float32)
        A.eliminate_zeros()
        sums = np.asarray(A @ X, dtype=np.float32)
        sums /= np.where(n_tok > 0, n_tok, 1).astype(np.float32)[:, None]
        parts.append(sums)
        known.append(np.diff(A.indptr) > 0)
    if not parts:
        return np.zeros((0, X.shape[1]), np.float32), np.zeros(0, bool), 0
    out = stack_rows(parts, X.shape[1])
    return out, ~np.concatenate(known), len(out)


def _first_component(D: np.ndarray) -> np.ndarray:
    """First right singular vector of the document matrix (uncentred), ``(dim,) float32``.

    ``D^T D`` is summed in float64 over blocks of rows, so memory does not grow with the documents."""
    if not np.any(D):
        return np.zeros(D.shape[1], np.float32)
    G = np.zeros((D.shape[1], D.shape[1]))
    for lo in range(0, len(D), ROWS_PER_BLOCK):
        B = D[lo:lo + ROWS_PER_BLOCK].astype(np.float64)
        G += B.T @ B
    w, U = np.linalg.eigh(G)
    u = U[:, -1]
    if u[np.argmax(np.abs(u))] < 0:
        u = -u
    return u.astype(np.float32)


def remove_component(D: np.ndarray, u: np.ndarray) -> None:
    """``D -= (D u) u^T`` in place, ``D (n, dim) float32``, ``u (dim,) float32``, a block of rows at a time."""
    for lo in range(0, len(D), ROWS_PER_BLOCK):
        B = D[lo:lo + ROWS_PER_BLOCK]
        B -= np.outer(B @ u, u)


@entry_point
def read_ids(path: str) -> list[str]:
    """One document id per line (``tokenize --ids-output``).

    Raises:
        InputError: missing file.
        DataError: not UTF-8, or an id that is empty, holds white space or repeats (naming the line):
            ids are keys that queries look up.
    """
    try:
        with open(path, encoding="utf-8") as f:
            ids = [line.rstrip("\r\n") for line in f]
    except (FileNotFoundError, IsADirectoryError):
        from embedcli.fileio import not_a_file

        raise not_a_file(path, "ids") from None
    except UnicodeDecodeError:
        raise DataError(f"{path}: not UTF-8 text") from None
    seen: dict[str, int] = {}
    for i, x in enumerate(ids, 1):
        if not x or len(x.split()) != 1 or x.strip() != x:
            raise DataError(f"{path}:{i}: document id {x!r} is empty or holds white space")
        if x in seen:
            raise DataError(f"{path}:{i}: document id {x!r} repeats line {seen[x]}")
        seen[x] = i
    return ids


@entry_point
def embed_texts(docs: Vectors, texts: list[str], model_path: str | None = None, model: Vectors | None = None,
                unknown: list | None = None, notes: list | None = None) -> np.ndarray:
    """Embed raw ``texts`` as the documents of ``docs`` were: ``(len(texts), dim) float32``.

    ``texts``: raw texts (one string is one text).  ``docs`` is a ``docvec`` output (the texts are
    tokenized as its word vectors' corpus was, then
    combined with its stored weighting and SIF component) or LSA document vectors from ``svd`` or
    ``foldin`` (tokenized likewise, then folded in).  ``model_path``: the word vectors or LSA model
    to use; default the one recorded in ``docs`` (``meta["source_model"]``, written by the command
    line).  ``model``: the word vectors or LSA model themselves (a library caller holding them).
    ``unknown``: if a list is given, one list per text of its tokens the model has no vector for
    (none for a fastText model, which builds one from character n-grams).  When the model's text
    was joined by ``phrases`` whose table was saved (``--phrases-output``), the texts are joined by
    the same table; when it was not saved, ``notes`` (if a list) gets a sentence saying the texts are
    not joined.

    Raises:
        InputError: no model recorded or given, or the model is missing; the model's phrase table
            is missing or changed.
    """
    import os
    import tempfile

    if isinstance(texts, str):
        texts = [texts]  # one text, not one per character
    texts = list(texts)

    from embedcli.provenance import find_stage
    from embedcli.specs import TokenizeSpec
    from embedcli.tokenizer import REGEX_SECONDS, line_tokenizer, load_stopwords

    recorded = docs.meta.get("source_model")
    path = model_path or (recorded.get("path") if isinstance(recorded, dict) else recorded)
    if not isinstance(path, (str, type(None))):
        raise InputError("these document vectors' record of their model (source_model) is not a path; give the "
                         "model (model_path; --model on the command line)")
    if model is not None:
        path = model_path or "the model given"
    if not (docs.meta.get("docvec") or docs.meta.get("kind") == "documents"):
        kind = {"nodes": "node", "context": "context"}.get(docs.meta.get("kind"), "word")
        raise InputError("embedding a text needs document vectors (docvec, svd of a term-document matrix, foldin); "
                         f"these are {kind} vectors")
    if not path:
        raise InputError("these document vectors do not record the word vectors or LSA model that made them; "
                         "give it (model= or model_path=; --model on the command line)")
    if model is None:
        if not os.path.exists(path):
            raise InputError(f"{path}: no such file (the model of these document vectors; give another: "
                             "model_path, --model on the command line)")
        if not model_path and not os.path.isfile(path):  # a recorded pipe or device is never read
            raise InputError(f"{path}: not a regular file (recorded as the model of these document vectors; "
                             "give the model: model_path, --model on the command line)")
        if not model_path and isinstance(recorded, dict) and model_stamp(path) != recorded:
            raise InputError(f"{path}: changed since these document vectors were made (size or time differs); "
                             "give it explicitly (model_path; --model on the command line) if it is still the right one")
        model = Vectors.load(path)
    if docs.meta.get("docvec") and (model.meta.get("lsa") or model.meta.get("kind") == "documents"):
        raise InputError(f"{path}: is not word vectors, but these document vectors were made by docvec from word "
                         "vectors")
    if not docs.meta.get("docvec") and not model.meta.get("lsa"):
        raise InputError(f"{path}: is not the LSA model of these document vectors (the term vectors written by "
                         "svd on a term-document matrix)")
    if model.dim != docs.dim:
        raise InputError(f"{path}: has {model.dim} dimensions, the document vectors {docs.dim}")
    made_by = (docs.meta.get("docvec") or {}).get("vectors")
    if made_by is not None and made_by != model_fingerprint(model):
        raise InputError(f"{path}: is not the word vectors these document vectors were made from")
    stage = docs.provenance.get("stage")  # LSA documents: the svd run that made them, or folded into
    made_by_svd = docs.provenance if stage == "svd" else (docs.provenance.get("inputs") or {}).get("model") \
        if stage == "foldin" else None
    if made_by_svd and model.provenance.get("stage") == "svd":
        from embedcli.resume import comparable

        if comparable(made_by_svd) != comparable(model.provenance):
            raise InputError(f"{path}: is another SVD's model than the one that made these document vectors")
    tok = find_stage(model.provenance, "tokenize") or {}
    try:  # settings read from the model's provenance: a bad value is the file's fault, not an option's
        recorded_spec = tok.get("spec") or {}
        spec = TokenizeSpec(**{k: v for k, v in recorded_spec.items()
                               if k in ("lowercase", "token_pattern", "min_length", "stopwords", "normal_form")})
        legacy = bool(tok) and "normal_form" not in recorded_spec  # made before marks and NFC: embed alike
        form = "none" if legacy else spec.normal_form
        line_tok = line_tokenizer(spec.lowercase, spec.token_pattern, spec.min_length,
                                  load_stopwords(spec.stopwords, recorded=True, normal_form=form), form,
                                  REGEX_SECONDS, keep_marks=not legacy)
    except (ParameterError, TypeError, AttributeError) as e:
        raise InputError(f"{path}: the tokenizer settings recorded in its provenance are unusable ({e})") from None
    if not texts:
        return np.zeros((0, docs.dim), np.float32)
    try:
        lines = [line_tok(" ".join(t.split())) for t in texts]
    except TimeoutError:
        raise InputError(f"{path}: the token pattern recorded in its provenance took more than {REGEX_SECONDS:g} s on "
                         "the text (a pattern with catastrophic backtracking?)") from None
    from embedcli.phrases import joiner_of

    join = joiner_of(model.provenance, notes)  # the model's text was joined by `phrases --phrases-output`: alike
    if join is not None:
        lines = join(lines)
    if unknown is not None:
        known = model.index
        unknown.extend([] if "minn" in model.meta else list(dict.fromkeys(w for w in x.split() if w not in known))
                       for x in lines)
    fd, tmp = tempfile.mkstemp(prefix=scratch_prefix("text"), suffix=".txt")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write("".join(x + "\n" for x in lines))
        if docs.meta.get("docvec"):
            out = document_vectors(model, tmp, reference=docs.meta["docvec"], allow_empty=True)
        else:
            from embedcli.lsa import fold_in

            out = fold_in(model, tmp, name=path, allow_empty=True)
    finally:
        os.unlink(tmp)
    if out.dim != docs.dim:
        raise InputError(f"{path}: gives {out.dim}-dimensional vectors, the documents have {docs.dim}")
    return np.asarray(out.vectors, dtype=np.float32)


def model_stamp(path: str) -> dict:
    """``{"path", "size", "mtime_ns"}`` of a model file, recorded in document vectors (``source_model``) so
    that ``neighbors --text`` notices when the file was replaced."""
    import os

    from embedcli.vectorfile import is_stream

    if path == "-" or is_stream(path):  # nothing to find again: 'neighbors --text' then needs --model
        return {"path": path, "note": "read from a pipe; give --model to embed texts"}
    st = os.stat(path)
    return {"path": os.path.abspath(path), "size": st.st_size, "mtime_ns": st.st_mtime_ns}
