#!/usr/bin/env python
"""Node embeddings on BlogCatalog (and Cora): embedcli against the script it replaces, in one run.

  netmf      `embedcli netmf GRAPH` vs `benchmarks/plain_netmf.py` (the same NetMF, as a plain
             numpy/scipy/scikit-learn script), alternating, each in a fresh process: median wall
             time and peak RSS, and the ratio embedcli / script
  scores     `embedcli classify` with the DeepWalk protocol (one-vs-rest logistic regression, each
             test node gets as many labels as it has) at 10%..90% labelled, --shuffles splits
             each: Micro-F1 and Macro-F1 (in %) of every embedding
  best       `embedcli netmf --normalize --dim 160`, the best options found on BlogCatalog (the
             issue's bars; checked on Cora): one timed run, scores
  walks      `embedcli walks` steps per second (DeepWalk walks; node2vec p=0.25 q=4)
  deepwalk   `embedcli deepwalk` (gensim skip-gram on the walks, the paper's settings), time and
             scores (skip with --skip-deepwalk: about 2.5 minutes here)

Usage: python benchmarks/graphs.py [--graphs DIR] [--rounds 3] [--shuffles 10] [--skip-deepwalk]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ratios import alternate, measured, med  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
#: the best options on BlogCatalog (chosen there, checked on Cora: benchmarks/README.md, "Graphs")
BEST = ("--normalize", "--dim", "160")
FRACTIONS = ("0.1", "0.2", "0.3", "0.4", "0.5", "0.6", "0.7", "0.8", "0.9")


def classify(vectors: str, labels: str, shuffles: int) -> dict[float, tuple[float, float]]:
    args = [a for f in FRACTIONS for a in ("--train-fraction", f)]
    out = subprocess.run(["embedcli", "classify", vectors, labels, *args, "--shuffles", str(shuffles),
                          "--format", "json", "-q"], capture_output=True, text=True, check=True).stdout
    return {s["train_fraction"]: (100 * s["micro_f1"], 100 * s["macro_f1"]) for s in json.loads(out)["summary"]}


def table(rows: dict[str, dict]) -> None:
    print("| embedding | " + " | ".join(f"{float(f):.0%}" for f in FRACTIONS) + " |")
    print("| --- |" + " --- |" * len(FRACTIONS))
    for name, sc in rows.items():
        print(f"| {name} Micro-F1 | " + " | ".join(f"{sc[float(f)][0]:.2f}" for f in FRACTIONS) + " |")
        print(f"| {name} Macro-F1 | " + " | ".join(f"{sc[float(f)][1]:.2f}" for f in FRACTIONS) + " |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--graphs", default=str(ROOT.parent / "shared" / "graphs"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--shuffles", type=int, default=10)
    ap.add_argument("--skip-deepwalk", action="store_true")
    args = ap.parse_args()
    graphs = Path(args.graphs)
    edges, labels = graphs / "blogcatalog.edgelist.gz", graphs / "blogcatalog.labels.gz"
    if not edges.exists():
        sys.exit(f"{edges} not found (--graphs DIR)")
    work = tempfile.mkdtemp(prefix="embedcli-graphs-")
    ours_out, plain_out = f"{work}/netmf.npz", f"{work}/plain.txt"
    print(f"# graphs benchmark ({edges.name}, {args.rounds} alternating rounds, {args.shuffles} shuffles)\n")

    ours, plain = alternate(
        "netmf",
        lambda: measured(["embedcli", "netmf", str(edges), "-o", ours_out, "-q"]),
        lambda: measured([sys.executable, str(ROOT / "benchmarks" / "plain_netmf.py"), str(edges), plain_out]),
        args.rounds)
    print("| work | embedcli | plain script | ratio |\n| --- | --- | --- | --- |")
    print(f"| NetMF embedding, wall (median of {args.rounds}) | {med(ours, 'wall'):.1f} s | "
          f"{med(plain, 'wall'):.1f} s | **{med(ours, 'wall') / med(plain, 'wall'):.2f}** |")
    print(f"| peak RSS | {med(ours, 'rss'):,.0f} MB | {med(plain, 'rss'):,.0f} MB | "
          f"{med(ours, 'rss') / med(plain, 'rss'):.2f} |\n")

    rows = {"embedcli netmf": classify(ours_out, str(labels), args.shuffles),
            "plain NetMF script": classify(plain_out, str(labels), args.shuffles)}
    norm_out = f"{work}/netmf-normalized.npz"
    subprocess.run(["embedcli", "netmf", str(edges), "--normalize", "-o", norm_out, "-q"], check=True)
    rows["embedcli netmf --normalize"] = classify(norm_out, str(labels), args.shuffles)
    # the best recipe on BlogCatalog (the bars): unit-length vectors, 160 dimensions
    best_out = f"{work}/netmf-best.npz"
    best = measured(["embedcli", "netmf", str(edges), *BEST, "-o", best_out, "-q"])
    rows["embedcli netmf " + " ".join(BEST)] = classify(best_out, str(labels), args.shuffles)
    print(f"netmf {' '.join(BEST)}: {best['wall']:.1f} s, {best['rss']:,.0f} MB")
    exact_out = f"{work}/netmf-exact.npz"
    exact = measured(["embedcli", "netmf", str(edges), "--method", "exact", "-o", exact_out, "-q"])
    rows["embedcli netmf --method exact"] = classify(exact_out, str(labels), args.shuffles)
    print(f"netmf --method exact: {exact['wall']:.1f} s, {exact['rss']:,.0f} MB\n")

    for extra, name in (([], "DeepWalk walks"), (["--p", "0.25", "--q", "4"], "node2vec walks p=0.25 q=4")):
        rates = []
        for _ in range(args.rounds):
            err = subprocess.run(["embedcli", "walks", str(edges), "--undirected", *extra, "-o", f"{work}/w.txt"],
                                 capture_output=True, text=True, check=True).stderr
            rates.append(int(err.rsplit("s, ", 1)[1].split(" steps/s")[0].replace(",", "")))
        print(f"{name}: {statistics.median(rates):,} steps/s (median of {args.rounds}; 80 walks x 40 per node)")
    print()

    if not args.skip_deepwalk:
        dw_out = f"{work}/deepwalk.npz"
        dw = measured(["embedcli", "deepwalk", str(edges), "--undirected", "-o", dw_out, "-q"])
        rows["embedcli deepwalk (gensim)"] = classify(dw_out, str(labels), args.shuffles)
        print(f"deepwalk (walks + gensim skip-gram, hs, window 10, 128 dims, 1 epoch, "
              f"all cores): {dw['wall']:.1f} s, {dw['rss']:,.0f} MB\n")

    print(f"BlogCatalog, {args.shuffles} shuffles per fraction (%):\n")
    table(rows)

    cora = graphs / "cora.edgelist.gz"
    if cora.exists():
        subprocess.run(["embedcli", "netmf", str(cora), "-o", f"{work}/cora.npz", "-q"], check=True)
        subprocess.run(["embedcli", "netmf", str(cora), "--method", "exact", "-o", f"{work}/cora-exact.npz", "-q"],
                       check=True)
        subprocess.run(["embedcli", "netmf", str(cora), *BEST, "-o", f"{work}/cora-best.npz", "-q"], check=True)
        print(f"\nCora (check graph), {args.shuffles} shuffles per fraction (%):\n")
        table({"embedcli netmf": classify(f"{work}/cora.npz", str(graphs / "cora.labels.gz"), args.shuffles),
               "embedcli netmf --method exact": classify(f"{work}/cora-exact.npz", str(graphs / "cora.labels.gz"),
                                                         args.shuffles),
               "embedcli netmf " + " ".join(BEST): classify(f"{work}/cora-best.npz", str(graphs / "cora.labels.gz"),
                                                           args.shuffles)})


if __name__ == "__main__":
    main()
