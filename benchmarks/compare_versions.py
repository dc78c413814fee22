#!/usr/bin/env python
"""Same-run A/B of two embedcli source trees: `embedcli pipeline` stage times, cold `neighbors`,
and 10,000 stdin neighbour queries, alternating the two trees, medians and ratios (new / old).

Make the old tree with `git worktree add /tmp/old COMMIT`; both trees get their bytecode
compiled first.  Each run uses `python -m embedcli` with PYTHONPATH set to the tree.

Usage: python benchmarks/compare_versions.py OLD_TREE [--new .] [--rounds 4] [--corpus C]
"""

from __future__ import annotations

import argparse
import compileall
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(tree: str, args: list[str], stdin: bytes | None = None, capture: bool = False):
    env = dict(os.environ, PYTHONPATH=os.path.abspath(tree))
    t = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "embedcli", *args], input=stdin, env=env, cwd=tempfile.gettempdir(),
                         stdout=subprocess.PIPE if capture else subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         check=True)
    return time.perf_counter() - t, (out.stdout.decode() if capture else "")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("old")
    ap.add_argument("--new", default=str(ROOT))
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpora" / "english-mix.txt.gz"))
    args = ap.parse_args()
    trees = {"new": args.new, "old": args.old}
    for t in trees.values():
        compileall.compile_dir(os.path.join(t, "embedcli"), quiet=1)
    res: dict = {k: {} for k in trees}
    with tempfile.TemporaryDirectory() as tmp:
        vec = None
        for i in range(args.rounds):
            for name, tree in trees.items():
                out = os.path.join(tmp, f"{name}{i}")
                el, text = run(tree, ["pipeline", args.corpus, "-o", out], capture=True)
                stages = {m.group(1): float(m.group(2)) for m in re.finditer(r"^(\w+)\s+([\d.]+) s", text, re.M)}
                stages["pipeline wall"] = el
                vec = vec or os.path.join(out, "vectors.npz")
                for k, v in stages.items():
                    res[name].setdefault(k, []).append(v)
        queries = ("\n".join(["war", "peace", "liberty", "freedom", "nation"] * 2000) + "\n").encode()
        for i in range(max(args.rounds, 5)):
            for name, tree in trees.items():
                res[name].setdefault("cold neighbors", []).append(run(tree, ["neighbors", vec, "liberty"])[0])
                res[name].setdefault("10,000 stdin queries", []).append(run(tree, ["neighbors", vec, "-"], queries)[0])
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, {time.strftime('%Y-%m-%d')}")
    print("| measurement | new (median s) | old (median s) | new / old |")
    print("| --- | ---: | ---: | ---: |")
    for k in res["new"]:
        n, o = statistics.median(res["new"][k]), statistics.median(res["old"][k])
        print(f"| {k} | {n:.3f} | {o:.3f} | {o and n / o:.3f} |")


if __name__ == "__main__":
    main()
