"""Graph commands: walks (DeepWalk / node2vec random walks), netmf, deepwalk."""

from __future__ import annotations

import click

from embedcli.cli import cli
from embedcli.cli.options import build_spec, command, progress, quiet_option, spec_options, vectors_output_options, warn
from embedcli.specs import NetMFSpec, VocabSpec, WalksSpec, Word2VecSpec

GRAPH_HELP = ("GRAPH is an edge list: 'u v' or 'u v weight' per line (white space between fields; lines "
              "starting with '#' are comments; .gz/.bz2/.xz ok; '-': stdin); node names are any strings "
              "without spaces. A repeated edge counts once, or with its weights added up.")


def _read(graph_path: str, undirected: bool, quiet: bool):
    from embedcli.graph import read_graph

    g = read_graph(graph_path, undirected=undirected)
    if not quiet:
        kind = ("weighted " if g.weighted else "") + ("directed" if g.directed else "undirected")
        warn(f"graph: {g.n_nodes:,} node{'s' * (g.n_nodes != 1)}, {g.n_edges:,} {kind} "
             f"edge{'s' * (g.n_edges != 1)} ({graph_path})")
    if g.edge_like_comments and not quiet:
        warn(f"graph: {g.edge_like_comments:,} line(s) starting with '#' skipped as comments although shaped "
             f"like edges (e.g. {g.edge_like_example!r}); if '#' starts node names, rename those nodes, in "
             "every column (comment lines keep their '#')")
    return g


def _warn_short_walks(name: str, g, spec, steps: int) -> None:
    """On a directed graph, say so when most of the walks' steps were cut short at nodes without out-edges
    (an undirected edge list read without --undirected)."""
    full = g.n_nodes * spec.walks_per_node * spec.walk_length
    if g.directed and steps < full / 2:
        warn(f"{name}: warning: the walks have {steps / full:.0%} of their full length: many stop at nodes "
             "without out-edges (the graph is read as directed; add --undirected if each line is an edge both ways)")


@command(cli)
@click.argument("graph_path", metavar="GRAPH")
@click.option("-o", "--output", default="-", show_default=True, metavar="WALKS",
              help="Tokens file to write, one walk per line ('-': stdout; .gz/.bz2/.xz compress).")
@spec_options(WalksSpec)
@quiet_option
def walks(graph_path, output, quiet, **kw):
    """Random walks on a graph, written as a tokens file (one walk per line).

    Walks are sentences and nodes are words (DeepWalk, Perozzi et al. 2014):
    the output feeds word2vec, cooccur + svd, and every query unchanged. Each
    of --walks-per-node rounds starts one walk from every node, in a random
    order; a step goes to an out-neighbour with probability proportional to
    the edge weight (uniform without weights). --p/--q bias the walk as
    node2vec (Grover & Leskovec 2016). The same --seed gives the same file.
    Memory: the graph and one batch of about a million steps, however many
    walks.

    \b
    Example:
      embedcli walks graph.edgelist.gz --undirected -o walks.txt
      embedcli word2vec walks.txt --sg --window 10 --dim 128 --min-count 1 -o nodes.npz
      embedcli walks graph.edgelist --undirected --p 0.25 --q 4 --walks-per-node 10 | head
    """
    from embedcli.fileio import atomic_output, check_distinct
    from embedcli.graph import graph_stats, write_walks
    from embedcli.provenance import raw_file_record, stage_record

    spec = build_spec(WalksSpec, kw)
    check_distinct([graph_path], [output])
    g = _read(graph_path, spec.undirected, quiet)
    side: dict = {}
    with atomic_output(output, "wb", sidecar=side) as out:
        st = write_walks(g, out, spec, progress("walks", "steps", quiet))
        inputs = {"graph": raw_file_record(graph_path)} if graph_path != "-" else {}
        stats = {**graph_stats(g), "walks": st["walks"], "steps": st["steps"]}
        side.update(kind="tokens", provenance=stage_record("walks", spec, inputs, stats))
    _warn_short_walks("walks", g, spec, st["steps"])
    if not quiet:
        warn(f"walks: {st['walks']:,} walks, {st['steps']:,} steps ({st['seconds']:.1f} s, "
             f"{st['steps_per_second'] or 0:,} steps/s) -> {output}")


@command(cli)
@click.argument("graph_path", metavar="GRAPH")
@vectors_output_options
@spec_options(NetMFSpec)
@quiet_option
def netmf(graph_path, output, file_format, quiet, **kw):
    """Node vectors by NetMF: the SVD of the matrix DeepWalk factorizes (Qiu et al. 2018).

    Factorizes log(max(M, 1)) with M = vol(G)/(b T) (sum_{r=1..T} P^r) D^-1,
    P = D^-1 A, and writes U Sigma^eig per node (highest degree first). The
    graph is taken as undirected (each line an edge both ways). --method
    eigen (default) builds M from the --rank top eigenpairs of
    D^-1/2 A D^-1/2, as the paper's NetMF for large windows; exact sums the
    T matrix powers. Both hold a dense n x n float32 matrix (4 n^2 bytes, 3x
    for exact): up to --max-nodes nodes; use walks + cooccur + svd, or
    deepwalk, beyond.

    \b
    Example:
      embedcli netmf blogcatalog.edgelist.gz -o nodes.npz
      embedcli classify nodes.npz blogcatalog.labels.gz --train-fraction 0.1 --train-fraction 0.9
      embedcli neighbors nodes.npz 42
    """
    from embedcli.fileio import check_distinct, check_output_path
    from embedcli.netmf import netmf as run

    spec = build_spec(NetMFSpec, kw)
    check_output_path(output)
    check_distinct([graph_path], [output])
    g = _read(graph_path, True, quiet)
    v = run(g, spec, progress("netmf", None, quiet))
    used = v.save(output, file_format)
    if not quiet:
        warn(f"netmf: {len(v):,} nodes x {v.dim} ({spec.method}) {used} -> {output}")


@command(cli)
@click.argument("graph_path", metavar="GRAPH")
@vectors_output_options
@spec_options(WalksSpec)
@spec_options(Word2VecSpec, exclude=("vectors", "seed"), command="deepwalk")
@spec_options(VocabSpec, only=("min_count",), command="deepwalk")
@quiet_option
def deepwalk(graph_path, output, file_format, quiet, **kw):
    """DeepWalk: random walks, then word2vec skip-gram on them (Perozzi et al. 2014).

    The same as 'embedcli walks' into a temporary file (in $TMPDIR, about 6
    bytes per step; removed afterwards) followed by 'embedcli word2vec'
    with the paper's settings: skip-gram, hierarchical softmax, window 10,
    128 dimensions, one pass, every node kept, no subsampling. Every walks
    and word2vec option can be changed; --seed seeds both. Reproducible with
    --workers 1.

    \b
    Example:
      embedcli deepwalk blogcatalog.edgelist.gz --undirected -o deepwalk.npz
      embedcli deepwalk graph.txt --undirected --p 1 --q 0.5 --negative 5 --hs 0 -o node2vec.npz
    """
    from embedcli.fileio import check_distinct, check_output_path
    from embedcli.graph import deepwalk as run

    wspec = build_spec(WalksSpec, kw, pop=False)  # --seed seeds the walks and word2vec
    spec = build_spec(Word2VecSpec, kw)
    vspec = build_spec(VocabSpec, kw)
    check_output_path(output)
    check_distinct([graph_path], [output])
    if wspec.walk_length < 2:
        warn("deepwalk: --walk-length 1 gives walks of one node: word2vec sees no context and the vectors stay "
             "at their random start")
    g = _read(graph_path, wspec.undirected, quiet)
    v, st = run(g, wspec, spec, vspec, progress("deepwalk", None, quiet), progress("walks", "steps", quiet))
    _warn_short_walks("deepwalk", g, wspec, st["steps"])
    used = v.save(output, file_format)
    if not quiet:
        warn(f"deepwalk: {len(v):,} nodes x {v.dim} {used} -> {output} (walks {st['walk_seconds']:.1f} s, "
             f"word2vec {st['train_seconds']:.1f} s)")
