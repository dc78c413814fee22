"""Graphs: edge lists, random walks (DeepWalk, node2vec) and DeepWalk training.

Random walks on a graph are sentences and nodes are words (Perozzi, Al-Rfou & Skiena 2014,
*DeepWalk*): :func:`write_walks` writes an ordinary tokens file, one walk per line, that every
later stage (``word2vec``, ``cooccur``/``svd``, ``neighbors``) reads unchanged.  The walkers of a
batch advance one step at a time together (numpy over a CSR adjacency): no per-step Python.
:mod:`embedcli.netmf` factorizes the matrix these walks estimate.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import BinaryIO, Iterator

import numpy as np
import scipy.sparse as sp

from embedcli.arguments import entry_point
from embedcli.errors import DataError, FormatError
from embedcli.specs import VocabSpec, WalksSpec, Word2VecSpec

#: Graphs up to this many nodes get an adjacency bitmap for node2vec's edge tests (n^2 bits, <= 64 MB).
BITMAP_NODES = 23000
#: Walk steps per batch: bounds the memory of walking and formatting (about 40 bytes a step).
BATCH_STEPS = 1 << 20


@dataclass
class Graph:
    """A graph read from an edge list.

    Attributes:
        nodes: ``n`` node names, highest (weighted) degree first, ties in order of first appearance.
        adjacency: ``(n, n)`` CSR float64, sorted indices; row ``u`` holds the out-edges of
            ``nodes[u]`` and their weights (1.0 when the file has none; a repeated
            unweighted edge counts once, repeated weighted edges add up).
        weighted: the file gave weights.
        directed: edges are one-way (``u v`` is ``u -> v`` only).
        source: the file it came from.
    """

    nodes: list[str]
    adjacency: sp.csr_matrix
    weighted: bool = False
    directed: bool = True
    source: str = ""
    #: comment lines ('#' first) shaped like edges ('#tag alice'): a hashtag node's edges, perhaps
    edge_like_comments: int = 0
    edge_like_example: str = ""
    _keys: np.ndarray | None = field(default=None, repr=False)
    _bits: np.ndarray | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        kind = "directed" if self.directed else "undirected"
        return (f"<Graph: {self.n_nodes:,} nodes, {self.adjacency.nnz:,} {kind} edge entries"
                f"{', weighted' if self.weighted else ''}{f' ({self.source})' if self.source else ''}>")

    @property
    def n_nodes(self) -> int:
        return len(self.nodes)

    @property
    def n_edges(self) -> int:
        """Distinct edges: arcs of a directed graph, ``{u, v}`` pairs of an undirected one."""
        A = self.adjacency
        if self.directed:
            return int(A.nnz)
        return int((A.nnz + A.diagonal().astype(bool).sum()) // 2)

    @property
    def out_degree(self) -> np.ndarray:
        """``(n,) int64`` number of out-neighbours."""
        return np.diff(self.adjacency.indptr).astype(np.int64)

    def has_edge(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Vectorized ``u -> v`` edge test: ``(k,) bool``.  Graphs up to :data:`BITMAP_NODES` nodes use an
        ``n^2``-bit adjacency bitmap (at most 64 MB; a lookup is one memory access), larger ones a
        binary search in the sorted edge keys."""
        n = self.n_nodes
        if n > BITMAP_NODES:
            return self.edge_weight(u, v) > 0
        if self._bits is None:
            A = self.adjacency
            keys = np.repeat(np.arange(n, dtype=np.int64), np.diff(A.indptr)) * n + A.indices
            bits = np.zeros(n * n, dtype=bool)
            bits[keys] = True
            self._bits = np.packbits(bits, bitorder="little")
        key = u.astype(np.int64) * n + v
        return (self._bits[key >> 3] >> (key & 7).astype(np.uint8)) & 1 == 1

    def edge_weight(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Vectorized weight of the edge ``u -> v`` (0 where there is none): ``(k,) float64`` for
        ``(k,)`` integer node arrays."""
        A = self.adjacency
        if self._keys is None:
            rows = np.repeat(np.arange(A.shape[0], dtype=np.int64), np.diff(A.indptr))
            self._keys = rows * A.shape[0] + A.indices  # sorted: CSR rows in order, sorted indices
        if not len(self._keys):
            return np.zeros(len(u))
        target = u.astype(np.int64) * self.n_nodes + v
        pos = np.minimum(np.searchsorted(self._keys, target), len(self._keys) - 1)
        return np.where(self._keys[pos] == target, A.data[pos], 0.0)


def _refuse_embedcli_files(path: str) -> None:
    """A file whose ``.meta.json`` says embedcli wrote it as something else (a vocabulary's
    ``word<TAB>count`` lines parse as edges) is not read as a graph.

    Raises:
        WrongKindError: naming what the file is.
    """
    from embedcli.errors import WrongKindError
    from embedcli.provenance import read_sidecar, sidecar_status
    from embedcli.vectorfile.kinds import _KIND_NAMES

    from embedcli.vectorfile import FASTTEXT_MAGIC

    if path != "-":
        try:
            with open(path, "rb") as f:
                head = f.read(4096)
        except OSError:
            head = b""
        if head.startswith(b"PK") and b"embedcli-" in head:
            kind = "matrix" if b"embedcli-matrix" in head else "vectors"
            raise WrongKindError(f"{path}: this is {_KIND_NAMES[kind]} (an embedcli .npz), not a graph edge list "
                                 "('u v' or 'u v weight' lines)")
        if len(head) >= 4 and int.from_bytes(head[:4], "little") == FASTTEXT_MAGIC:
            raise WrongKindError(f"{path}: this is a fastText model, not a graph edge list")
    try:
        doc = read_sidecar(path)
    except FormatError:
        return
    kind = doc.get("kind") if isinstance(doc, dict) else None
    if isinstance(kind, str) and kind != "edges" and sidecar_status(path, doc, check_hash=False) == "ok":
        raise WrongKindError(f"{path}: this is {_KIND_NAMES.get(kind, 'a ' + str(kind) + ' file')} (its .meta.json "
                             "says so), not a graph edge list ('u v' or 'u v weight' lines)")


@entry_point
def read_graph(path: str, undirected: bool = False) -> Graph:
    """Read an edge list: ``u v`` or ``u v weight`` per line (whitespace-separated; ``.gz``/``.bz2``/
    ``.xz`` ok; ``-`` is stdin), blank lines and comment lines (first field starting with ``#``)
    skipped.  Node names are any strings without white space (a name cannot start a line with
    ``#``).  Every line has weights or none does.  A repeated unweighted edge counts once; the
    weights of a repeated weighted edge add up (undirected: ``a b 1`` and ``b a 2`` give 3).

    Args:
        undirected: each line is an edge both ways.

    Returns:
        a :class:`Graph`.  Memory: about 100 bytes per edge while reading.

    Raises:
        InputError: the file cannot be opened.
        FormatError: a line without 2 or 3 fields, a weight that is not a positive number, bytes
            that are not UTF-8 (the message names the file and line).
        WrongKindError: a file embedcli wrote as another kind (a vocabulary, tokens).
        DataError: no edge.
    """
    from embedcli.fileio import iter_line_chunks

    _refuse_embedcli_files(path)
    us: list[np.ndarray] = []
    vs: list[np.ndarray] = []
    ws: list[np.ndarray] = []
    n_fields = None
    edge_like, example = 0, ""
    for lineno, data, whole in iter_line_chunks(path):
        if not whole:
            raise FormatError(f"{path}:{lineno}: line too long for an edge")
        if lineno == 1 and (data[:2] == b"\x1f\x8b" or data[:3] == b"BZh" or data[:6] == b"\xfd7zXZ\x00"
                            or b"\x00" in data[:65536]):
            raise FormatError(f"{path}: compressed or binary data, not an edge list (name a .gz/.bz2/.xz file by "
                              "its extension, or decompress it into the pipe)")
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as e:
            bad_line = lineno + data.count(b"\n", 0, e.start)
            raise FormatError(f"{path}:{bad_line}: not UTF-8 text") from None
        lines = data.split(b"\n")
        parts = [line.split() for line in lines]
        counts = np.fromiter(map(len, parts), np.int64, len(parts))
        comment = np.fromiter((bool(p) and p[0].startswith(b"#") for p in parts), bool, len(parts))
        keep = (counts > 0) & ~comment
        shaped = np.flatnonzero(comment & ((counts == 2) | (counts == 3)))
        shaped = [i for i in shaped.tolist() if len(parts[i][0]) > 1]  # '#tag alice', not '# a note'
        if shaped:
            edge_like += len(shaped)
            example = example or lines[shaped[0]].decode("utf-8", "replace").strip()[:60]
        if not keep.any():
            continue
        first = int(np.flatnonzero(keep)[0])
        if n_fields is None:
            n_fields = int(counts[first])
        bad = np.flatnonzero(keep & (counts != n_fields))
        if n_fields not in (2, 3):
            bad = np.array([first])
        if bad.size:
            i = int(bad[0])
            shown = lines[i].decode("utf-8", "replace").strip()[:60]
            raise FormatError(f"{path}:{lineno + i}: expected 'u v' or 'u v weight' (the same on every line), "
                              f"got {shown!r}")
        rows = [parts[i] for i in np.flatnonzero(keep)]
        us.append(np.array([r[0] for r in rows]))
        vs.append(np.array([r[1] for r in rows]))
        if n_fields == 3:
            ws.append(_weights([r[2] for r in rows], path, lineno, lines, keep))
    if n_fields is None:
        raise DataError(f"{path}: no edges")
    u = np.concatenate(us)
    v = np.concatenate(vs)
    names, inverse = np.unique(np.concatenate([u, v]), return_inverse=True)
    decoded = [b.decode("utf-8") for b in names.tolist()]  # checked per chunk above
    spaced = next((name for name in decoded if len(name.split()) != 1), None)
    if spaced is not None:  # a Unicode space (no-break, em...): walks and tokens files would split the name
        raise FormatError(f"{path}: node name {spaced!r} contains a Unicode space; walks files separate "
                          "nodes by white space, so rename such nodes (e.g. with '_')")
    iu, iv = inverse[: len(u)], inverse[len(u):]
    w = np.concatenate(ws) if ws else np.ones(len(u))
    if undirected:
        loop = iu == iv
        iu, iv, w = np.concatenate([iu, iv[~loop]]), np.concatenate([iv, iu[~loop]]), np.concatenate([w, w[~loop]])
    n = len(names)
    A = sp.csr_matrix((w, (iu, iv)), shape=(n, n), dtype=np.float64)
    A.sum_duplicates()
    if not ws:
        A.data[:] = 1.0
    # order: highest degree first, ties by first appearance in the file
    first_seen = np.full(n, len(inverse), dtype=np.int64)
    np.minimum.at(first_seen, inverse, np.arange(len(inverse)))
    with np.errstate(over="ignore"):  # weights near 1e308: such nodes simply come first
        degree = np.asarray(A.sum(axis=0)).ravel() + np.asarray(A.sum(axis=1)).ravel()
    order = np.lexsort((first_seen, -degree))
    A = A[order][:, order].tocsr()
    A.sort_indices()
    return Graph([decoded[i] for i in order], A, weighted=bool(ws), directed=not undirected, source=path,
                 edge_like_comments=edge_like, edge_like_example=example)


def _weights(raw: list[bytes], path: str, lineno: int, lines: list[bytes], keep: np.ndarray) -> np.ndarray:
    arr = np.array(raw)
    try:
        w = arr.astype(np.float64)
    except ValueError:
        w = None
    if w is not None and (np.char.find(arr, b"_") >= 0).any():  # Python's float() takes 1_0 as 10
        w[np.char.find(arr, b"_") >= 0] = np.nan
    bad = None
    if w is None:
        for j, x in enumerate(raw):
            try:
                float(x)
            except ValueError:
                bad = j
                break
    else:
        nonpos = np.flatnonzero(~(np.isfinite(w) & (w > 0)))
        bad = int(nonpos[0]) if nonpos.size else None
    if bad is None:
        return w
    i = int(np.flatnonzero(keep)[bad])
    raise FormatError(f"{path}:{lineno + i}: the weight {raw[bad].decode('utf-8', 'replace')!r} is not a positive "
                      "finite number")


#: Rejection rounds of a node2vec step before the walkers still undecided are drawn exactly
MAX_REJECTION_ROUNDS = 50


class Walker:
    """Random walks on a :class:`Graph`, all walkers of a batch advanced together.

    First-order walks (``p = q = 1``) step to an out-neighbour with probability proportional to
    the edge weight (uniform when unweighted): DeepWalk.  Otherwise node2vec's second-order walk
    (Grover & Leskovec 2016): from ``t`` (previous) at ``v``, the next node ``x`` weighs
    ``w(v, x) / p`` if ``x = t``, ``w(v, x)`` if ``x -> t`` is an edge, ``w(v, x) / q`` otherwise;
    sampled exactly by rejection (propose by weight, accept with probability
    ``alpha / max(1/p, 1, 1/q)``), vectorized over the walkers still undecided.
    """

    def __init__(self, graph: Graph, spec: WalksSpec | None = None):
        self.graph = graph
        self.spec = spec or WalksSpec()
        A = graph.adjacency
        self.indptr = A.indptr.astype(np.int64)
        self.indices = A.indices.astype(np.int32)
        self.degree = np.diff(self.indptr)
        with np.errstate(over="ignore"):  # weights near 1e308: only node2vec's way-back mass uses it
            self.strength = np.asarray(A.sum(axis=1)).ravel()  # total out-weight of each node
        self._keys = None
        if graph.weighted:  # row + cumulative share of the row's weight: one sorted array for all rows
            # each row's weights as shares of the row (scaled by its largest first: no overflow), so one
            # cumulative sum over all rows adds numbers <= 1 and a row's small weights keep their precision
            rows_i = np.repeat(np.arange(graph.n_nodes), self.degree)
            starts = self.indptr[:-1][self.degree > 0]
            w = A.data / np.repeat(np.maximum.reduceat(A.data, starts), self.degree[self.degree > 0])
            w /= np.repeat(np.add.reduceat(w, starts), self.degree[self.degree > 0])
            cum = np.cumsum(w)
            before = np.concatenate([[0.0], cum])[self.indptr[:-1]]
            share = np.minimum(cum - np.repeat(before, self.degree), 1.0)
            share[self.indptr[1:][self.degree > 0] - 1] = 1.0  # exactly 1 at each row's end
            rows = rows_i.astype(np.float64)
            self._keys = rows + share

    @property
    def total_steps(self) -> int:
        """Upper bound of the steps (nodes written): every walk at full length."""
        return self.graph.n_nodes * self.spec.walks_per_node * self.spec.walk_length

    def _first_order(self, cur: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        start = self.indptr[cur]
        last = start + self.degree[cur] - 1
        if self._keys is None:
            idx = start + (rng.random(len(cur)) * self.degree[cur]).astype(np.int64)
        else:
            idx = np.searchsorted(self._keys, cur + rng.random(len(cur)), side="right")
        return self.indices[np.clip(idx, start, last)]

    def _second_order(self, prev: np.ndarray, cur: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """node2vec's step by rejection under an envelope that treats the way back as an outlier
        (as KnightKing, Yang et al. 2019): proposals by weight scaled by ``m = max(1, 1/q)``,
        accepted with probability ``min(alpha, m) / m``, plus a separate mass
        ``w(v, t) (1/p - m)`` (when positive) that returns to ``t`` directly -- exact, and the
        acceptance rate does not fall with a small ``p``."""
        p, q = self.spec.p, self.spec.q
        m = max(1.0, 1 / q)
        extra = max(0.0, 1 / p - m)
        out = np.empty(len(cur), dtype=np.int32)
        todo = np.arange(len(cur))
        back = None
        if extra:  # the weight of the way back, v -> t
            g = self.graph
            back = (g.edge_weight(cur, prev) if g.weighted else g.has_edge(cur, prev).astype(np.float64)) * extra
        rounds = 0
        while todo.size:
            rounds += 1
            if rounds > MAX_REJECTION_ROUNDS:  # extreme p or q: the few walkers left are drawn exactly
                out[todo] = self._exact_second_order(prev[todo], cur[todo], rng)
                break
            c, t = cur[todo], prev[todo]
            x = self._first_order(c, rng)
            alpha = np.where(x == t, min(1 / p, m), np.where(self.graph.has_edge(x, t), 1.0, 1 / q))
            ok = rng.random(len(todo)) * m < alpha
            if back is not None:
                home = rng.random(len(todo)) * (self.strength[c] * m + back[todo]) >= self.strength[c] * m
                x = np.where(home, t, x)
                ok |= home
            out[todo[ok]] = x[ok]
            todo = todo[~ok]
        return out

    def _exact_second_order(self, prev: np.ndarray, cur: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """node2vec's step drawn from its exact distribution, one walker at a time: for the walkers a
        very small acceptance rate (e.g. ``p = 1e6`` at a leaf, where going back is the only way)
        leaves undecided after :data:`MAX_REJECTION_ROUNDS` proposals."""
        p, q = self.spec.p, self.spec.q
        data = self.graph.adjacency.data
        out = np.empty(len(cur), dtype=np.int32)
        for k, (t, c) in enumerate(zip(prev.tolist(), cur.tolist())):
            s, e = self.indptr[c], self.indptr[c + 1]
            nb = self.indices[s:e]
            w = data[s:e].astype(np.float64) if self.graph.weighted else np.ones(e - s)
            alpha = np.where(nb == t, 1 / p, np.where(self.graph.has_edge(nb, np.full(e - s, t)), 1.0, 1 / q))
            cum = np.cumsum(w / w.max() * alpha)
            out[k] = nb[min(int(np.searchsorted(cum, rng.random() * cum[-1], side="right")), e - s - 1)]
        return out

    def batches(self) -> Iterator[np.ndarray]:
        """Yield ``(b, walk_length) int32`` arrays of node indices, ``-1`` after a walk's end.

        Round ``r`` of ``walks_per_node`` starts one walk from every node, in a fresh random order
        (as DeepWalk).  Deterministic for ``spec.seed``.
        """
        spec = self.spec
        rng = np.random.default_rng(spec.seed)
        n, length = self.graph.n_nodes, spec.walk_length
        size = max(1, BATCH_STEPS // length)
        biased = spec.p != 1 or spec.q != 1
        for _ in range(spec.walks_per_node):
            order = rng.permutation(n).astype(np.int32)
            for lo in range(0, n, size):
                starts = order[lo:lo + size]
                W = np.full((len(starts), length), -1, dtype=np.int32)
                W[:, 0] = starts
                rows = np.arange(len(starts))
                cur, prev = starts, None
                for t in range(1, length):
                    going = self.degree[cur] > 0
                    if not going.all():
                        rows, cur = rows[going], cur[going]
                        prev = prev[going] if prev is not None else None
                    if not rows.size:
                        break
                    nxt = self._second_order(prev, cur, rng) if biased and prev is not None \
                        else self._first_order(cur, rng)
                    W[rows, t] = nxt
                    prev, cur = cur, nxt
                yield W


class _Formatter:
    """Node indices -> text lines, vectorized: each walk is its node names joined by spaces."""

    def __init__(self, nodes: list[str]):
        encoded = [s.encode("utf-8") for s in nodes]
        self.pool = np.frombuffer(b" ".join(encoded) + b" ", dtype=np.uint8)
        self.size = np.fromiter(map(len, encoded), np.int64, len(encoded)) + 1  # name + separator
        self.start = np.concatenate([[0], np.cumsum(self.size)[:-1]])

    def __call__(self, W: np.ndarray) -> bytes:
        valid = W >= 0
        tokens = W[valid]
        size = self.size[tokens]
        ends = np.cumsum(size)
        offset = np.repeat(self.start[tokens] - (ends - size), size)
        out = self.pool[np.arange(int(ends[-1]), dtype=np.int64) + offset]
        line_ends = ends[np.cumsum(valid.sum(axis=1)) - 1] - 1
        out[line_ends] = ord("\n")  # each walk's last separator ends its line
        return out.tobytes()


@entry_point
def write_walks(graph: Graph, out: BinaryIO, spec: WalksSpec | None = None, progress=None) -> dict:
    """Write random walks (:class:`Walker`) to ``out``: one walk per line, node names separated by
    single spaces -- a tokens file.

    Memory: the graph plus one batch (:data:`BATCH_STEPS` steps), whatever the number of walks.

    Returns:
        stats: ``walks`` and ``steps`` (nodes written; fewer than walks x length when walks reach
        nodes without out-edges), ``seconds``, ``steps_per_second``.
    """
    walker = Walker(graph, spec)
    fmt = _Formatter(graph.nodes)
    walks = steps = 0
    t0 = time.perf_counter()
    for W in walker.batches():
        out.write(fmt(W))
        walks += W.shape[0]
        steps += int((W >= 0).sum())
        if progress is not None:
            progress.update(steps, walker.total_steps)
    if progress is not None:
        progress.close()
    seconds = time.perf_counter() - t0
    return {"walks": walks, "steps": steps, "seconds": round(seconds, 3),
            "steps_per_second": round(steps / seconds) if seconds > 0 else None}


def graph_stats(graph: Graph) -> dict:
    """Deterministic facts for provenance: nodes, edges, weighted, directed."""
    return {"nodes": graph.n_nodes, "edges": graph.n_edges, "weighted": graph.weighted, "directed": graph.directed}


@entry_point
def deepwalk(graph: Graph, walks: WalksSpec | None = None, spec: Word2VecSpec | None = None,
             vocab: VocabSpec | None = None, progress=None, walk_progress=None):
    """DeepWalk (Perozzi et al. 2014): random walks (:func:`write_walks`, to a temporary tokens file
    in ``$TMPDIR``, removed afterwards) then gensim word2vec on them
    (:func:`embedcli.predictive.train_word2vec`).

    ``spec`` defaults to the paper's settings: skip-gram, hierarchical softmax, window 10,
    128 dimensions, one pass, no subsampling; ``vocab`` keeps every node.

    Returns:
        ``(vectors, stats)``: ``(n_nodes, dim) float32`` node vectors (meta ``kind`` ``nodes``),
        and the walk and training statistics.

    Raises:
        DataError: as :func:`~embedcli.predictive.train_word2vec`.
    """
    import os
    import tempfile

    from embedcli.fileio import naming_scratch_errors, scratch_prefix
    from embedcli.predictive import train_word2vec
    from embedcli.provenance import raw_file_record, stage_record

    walks = walks or WalksSpec()
    spec = spec or Word2VecSpec(sg=True, vector_size=128, window=10, hs=1, negative=0, sample=0.0, epochs=1)
    vocab = vocab or VocabSpec(min_count=1)
    with tempfile.TemporaryDirectory(prefix=scratch_prefix("walks")) as tmp:
        path = os.path.join(tmp, "walks.txt")
        with naming_scratch_errors(path), open(path, "wb", buffering=1 << 20) as f:
            wstats = write_walks(graph, f, walks, walk_progress)
        try:
            vectors, _, tstats = train_word2vec(path, spec, vocab, progress)
        except DataError as e:  # name the graph, not the temporary walks file
            raise DataError(str(e).replace(path, f"{graph.source or 'graph'} (its walks)"), params=e.params) from None
    stats = {"walks": wstats["walks"], "steps": wstats["steps"], **{k: v for k, v in tstats.items()
                                                                     if k.startswith("corpus_")},
             "workers": spec.n_workers}  # as word2vec records it: the result is reproducible with 1 only
    inputs = {"graph": raw_file_record(graph.source)} if graph.source and graph.source != "-" else {}
    vectors.meta = {"kind": "nodes", "provenance": stage_record("deepwalk", (walks, vocab, spec), inputs,
                                                                {**graph_stats(graph), **stats},
                                                                gensim_version=vectors.provenance.get("gensim_version"))}
    return vectors, {**stats, "walk_seconds": wstats["seconds"], "train_seconds": tstats["train_seconds"]}
