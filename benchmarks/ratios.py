#!/usr/bin/env python
"""Speed as ratios: embedcli against the tool a user would otherwise use, in one run.

Absolute seconds from one machine do not transfer to another; a ratio measured
with both sides alternating in the same run does.  Each pair below runs
embedcli and its anchor alternately (the order flips every round), each in a
fresh process, and prints the medians and the ratio embedcli / anchor of wall
time (and peak RSS).

  pipeline   `embedcli pipeline CORPUS` (.gz -> tokens -> vocabulary -> matrix ->
             PPMI-SVD vectors) vs `benchmarks/plain_pipeline.py`, the same work as a
             plain numpy/scipy/scikit-learn script; the vectors of both are scored
  cooccur    `embedcli cooccur TOKENS --vocab V --window 5 --window-weighting harmonic` (the
             default) vs the GloVe C tool's
             `cooccur -window-size 5 -distance-weighting 1` (1/d) on the same tokens and a
             vocabulary of the same size (GloVe's `vocab_count -min-count 5`).  GloVe
             is built from source with the C compiler (`--glove-src DIR`, or a
             shallow clone of github.com/stanfordnlp/GloVe); skipped with a message
             when there is no compiler or no source
  word2vec   `embedcli word2vec TOKENS --sg` vs gensim's Word2Vec called directly
             on the same tokens file (skip-gram, negative 5, 100 dims, window 5,
             5 epochs, min count 5, all cores)
  svd        `embedcli svd MATRIX`: CPU time / wall time of the whole process (how
             busy the cores are), then `benchmarks/svd_probe.py` (the same work in one
             process): CPU / wall during the sparse products and during the whole solve,
             and the largest relative error of the top-100 singular values against ARPACK
             for the default solver and for the randomized solver at 5 iterations (the
             solvers themselves are compared in bench_solvers.py)

embedcli's bytecode is compiled first (``compileall``), as a pip install does, and embedcli runs
as the console script beside this Python, as the anchors run as ``sys.executable`` (not through a
launcher such as pyenv's shim that may come first on PATH: :func:`embedcli_script`).

Usage: python benchmarks/ratios.py [--corpus PATH] [--rounds N] [--only pipeline,cooccur,...]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Runs a command in a fresh helper so that RUSAGE_CHILDREN is that command's alone.
HELPER = (
    "import resource, subprocess, sys, time, json;"
    "t = time.perf_counter();"
    "p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE);"
    "el = time.perf_counter() - t;"
    "r = resource.getrusage(resource.RUSAGE_CHILDREN);"
    "print(json.dumps([el, r.ru_maxrss / 1024, r.ru_utime + r.ru_stime, p.returncode,"
    " p.stderr[-2000:].decode('utf-8', 'replace')]))"
)

GENSIM = """
import sys
from gensim.models import Word2Vec
m = Word2Vec(corpus_file=sys.argv[1], sg=1, vector_size=100, window=5, negative=5, min_count=5, epochs=5,
             workers=int(sys.argv[3]), seed=1)
m.wv.save_word2vec_format(sys.argv[2], binary=True)
"""


def embedcli_script() -> str:
    """The ``embedcli`` console script installed beside this Python (a venv's ``bin/``), so that
    embedcli starts as its anchors do, with no launcher in between: the anchors run as
    ``sys.executable`` or a compiled binary, while the ``embedcli`` first on PATH may be a
    launcher; pyenv's shim (bash, then ``pyenv exec``) added 0.07-0.08 s to every run here.
    The ``embedcli`` on PATH when there is no such script."""
    here = os.path.join(os.path.dirname(sys.executable), "embedcli")
    return here if os.access(here, os.X_OK) else "embedcli"


def measured(cmd: list[str], stdin: str | None = None, stdout: str | None = None) -> dict:
    """Wall seconds, peak RSS (MB) and CPU seconds of one command in a fresh process."""
    if cmd[0] == "embedcli":
        cmd = [embedcli_script(), *cmd[1:]]
    if stdin or stdout:  # the GloVe tools read stdin and write stdout
        shell = " ".join(cmd) + (f" < {stdin}" if stdin else "") + (f" > {stdout}" if stdout else "")
        cmd = ["sh", "-c", shell]
    out = subprocess.run([sys.executable, "-c", HELPER, *cmd], capture_output=True, text=True, check=True)
    el, rss, cpu, rc, err = json.loads(out.stdout)
    if rc:
        sys.exit(f"failed ({rc}): {' '.join(cmd)}\n{err}")
    return {"wall": el, "rss": rss, "cpu": cpu}


def svd_probe(matrix: str, reference: bool = False) -> dict:
    """``benchmarks/svd_probe.py`` on ``matrix`` in a fresh process: CPU / wall during the
    products and the solve (and with ``reference``, the errors against ARPACK)."""
    cmd = [sys.executable, str(ROOT / "benchmarks" / "svd_probe.py"), matrix] + (["--reference"] if reference else [])
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode:
        sys.exit(f"failed ({out.returncode}): {' '.join(cmd)}\n{out.stderr[-2000:]}")
    return json.loads(out.stdout)


def alternate(name: str, ours, anchor, rounds: int) -> tuple[list[dict], list[dict]]:
    a, b = [], []
    for r in range(rounds):
        first, second = (ours, anchor) if r % 2 == 0 else (anchor, ours)
        x, y = first(), second()
        (a if first is ours else b).append(x)
        (b if first is ours else a).append(y)
        print(f"  {name} round {r + 1}: embedcli {a[-1]['wall']:.2f} s, anchor {b[-1]['wall']:.2f} s",
              file=sys.stderr, flush=True)
    return a, b


def med(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def scores(path: str) -> str:
    from embedcli.evaluate import bundled_path, evaluate_analogy, evaluate_similarity
    from embedcli.vectors import Vectors

    if path.endswith(".npz") and "plain" in os.path.basename(path):
        import numpy as np

        with np.load(path) as z:
            v = Vectors(list(z["words"]), z["vectors"])
    else:
        v = Vectors.load(path)
    ws = evaluate_similarity(v, bundled_path("wordsim353.tsv")).spearman
    sl = evaluate_similarity(v, bundled_path("simlex999.txt")).spearman
    an = evaluate_analogy(v, bundled_path("questions-words.txt"), method="3cosadd", restrict=30000).accuracy
    return f"WS353 {ws:.3f}, SimLex-999 {sl:.3f}, Google {an:.3f}"


def build_glove(src: str | None, work: str) -> str | None:
    """Path of GloVe's build/ folder, or None (with a message) when it cannot be built here."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if not cc or not shutil.which("make"):
        print("cooccur: skipped (no C compiler or make to build GloVe)")
        return None
    dest = os.path.join(work, "GloVe")
    if src:
        if os.path.isdir(os.path.join(src, "src")):
            shutil.copytree(src, dest)
        else:  # a bare git directory
            r = subprocess.run(f"mkdir -p {dest} && git --git-dir={src} archive HEAD | tar x -C {dest}", shell=True,
                               capture_output=True, text=True)
            if r.returncode:
                print(f"cooccur: skipped (cannot read GloVe's source from {src}: {r.stderr.strip()[:200]})")
                return None
    else:
        r = subprocess.run(["git", "clone", "-q", "--depth", "1", "https://github.com/stanfordnlp/GloVe", dest],
                           capture_output=True, text=True)
        if r.returncode:
            print(f"cooccur: skipped (cannot clone GloVe: {r.stderr.strip()[:200]}; pass --glove-src DIR)")
            return None
    r = subprocess.run(["make", "-C", dest], capture_output=True, text=True)
    if r.returncode:
        print(f"cooccur: skipped (GloVe did not build: {r.stderr.strip()[-300:]})")
        return None
    return os.path.join(dest, "build")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpora" / "english-mix.txt.gz"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--glove-src", default=None, help="GloVe source checkout (or bare git dir) instead of cloning")
    ap.add_argument("--only", default="pipeline,cooccur,word2vec,svd")
    args = ap.parse_args()
    if not os.path.exists(args.corpus):
        sys.exit(f"{args.corpus}: not found")
    only = set(args.only.split(","))
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    rows = []
    notes = []
    # embedcli as pip installs it: with its bytecode compiled (an editable checkout under
    # PYTHONDONTWRITEBYTECODE=1 would otherwise compile its sources in every process, 0.1 s each)
    import compileall

    import embedcli

    compileall.compile_dir(os.path.dirname(embedcli.__file__), quiet=1)
    with tempfile.TemporaryDirectory() as tmp:
        base = os.path.join(tmp, "base")
        subprocess.run([embedcli_script(), "pipeline", args.corpus, "-o", base, "-q"], check=True)
        tokens, vocab, matrix = (os.path.join(base, f) for f in ("tokens.txt", "vocab.tsv", "cooccur.npz"))

        if "pipeline" in only:
            out = os.path.join(tmp, "p")
            plain = os.path.join(tmp, "plain.npz")

            def ours():
                shutil.rmtree(out, ignore_errors=True)
                return measured(["embedcli", "pipeline", args.corpus, "-o", out, "-q"])

            a, b = alternate("pipeline", ours,
                             lambda: measured([sys.executable, str(ROOT / "benchmarks" / "plain_pipeline.py"),
                                               args.corpus, plain]), args.rounds)
            rows.append(("whole pipeline, .gz -> 100-dim PPMI-SVD vectors", "plain numpy/scipy/scikit-learn script",
                         a, b))
            notes.append(f"pipeline vectors: embedcli {scores(os.path.join(out, 'vectors.npz'))}; "
                         f"plain script {scores(plain)}")

        if "cooccur" in only:
            build = build_glove(args.glove_src, tmp)
            if build:
                gv = os.path.join(tmp, "glove-vocab.txt")
                subprocess.run(f"{build}/vocab_count -min-count 5 -verbose 0 < {tokens} > {gv}", shell=True, check=True)
                n_ours = sum(1 for line in open(vocab, encoding="utf-8") if line.strip() and not line.startswith("#"))
                n_glove = sum(1 for _ in open(gv, encoding="utf-8"))
                a, b = alternate(
                    "cooccur",
                    lambda: measured(["embedcli", "cooccur", tokens, "--vocab", vocab, "--window", "5",
                                      "--window-weighting", "harmonic", "-o",
                                      os.path.join(tmp, "m.npz"), "-q"]),
                    lambda: measured([f"{build}/cooccur", "-verbose", "0", "-symmetric", "1", "-window-size", "5",
                                      "-distance-weighting", "1", "-vocab-file", gv, "-overflow-file",
                                      os.path.join(tmp, "overflow")], stdin=tokens,
                                     stdout=os.path.join(tmp, "cooc.bin")), args.rounds)
                rows.append((f"co-occurrence counting, window 5 ({n_ours:,} words)",
                             f"GloVe `cooccur` ({n_glove:,} words)", a, b))

        if "word2vec" in only:
            a, b = alternate(
                "word2vec",
                lambda: measured(["embedcli", "word2vec", tokens, "--sg", "-o", os.path.join(tmp, "w.bin"), "-q"]),
                lambda: measured([sys.executable, "-c", GENSIM, tokens, os.path.join(tmp, "g.bin"), str(cores)]),
                args.rounds)
            rows.append(("word2vec skip-gram, 5 epochs", "gensim Word2Vec called directly", a, b))

        if "svd" in only:
            runs = [measured(["embedcli", "svd", matrix, "-o", os.path.join(tmp, "v.npz"), "-q"])
                    for _ in range(args.rounds)]
            notes.append(f"`embedcli svd` process: median wall {med(runs, 'wall'):.2f} s, CPU / wall "
                         f"{statistics.median(r['cpu'] / r['wall'] for r in runs):.2f} on {cores} cores")
            probes = [svd_probe(matrix, reference=(i == 0)) for i in range(args.rounds)]
            ref = probes[0]
            notes.append(
                f"its solver, in process (`benchmarks/svd_probe.py`): CPU / wall "
                f"{statistics.median(p['product_cpu'] / p['product_wall'] for p in probes):.2f} during its "
                f"{ref['products']} sparse products ({med(probes, 'product_wall'):.2f} s), "
                f"{statistics.median(p['solve_cpu'] / p['solve_wall'] for p in probes):.2f} over the whole solve "
                f"({med(probes, 'solve_wall'):.2f} s); largest relative error of the top-{len(ref['s'])} singular "
                f"values against ARPACK: {ref['error_default']:.4f} (the randomized solver at 5 iterations, "
                f"the default when the bars were set: {ref['error_randomized5']:.4f})")

    print(f"corpus {os.path.basename(args.corpus)}; {cores} cores; {time.strftime('%Y-%m-%d')}; medians of "
          f"{args.rounds} alternating rounds")
    print()
    print("| work | embedcli | anchor | ratio wall | ratio peak RSS |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for work, anchor, a, b in rows:
        print(f"| {work} | {med(a, 'wall'):.2f} s, {med(a, 'rss'):.0f} MB | {anchor}: {med(b, 'wall'):.2f} s, "
              f"{med(b, 'rss'):.0f} MB | **{med(a, 'wall') / med(b, 'wall'):.2f}** | "
              f"{med(a, 'rss') / med(b, 'rss'):.2f} |")
    print()
    for n in notes:
        print(f"- {n}")


if __name__ == "__main__":
    main()
