"""Spaces: same-language alignment (the spaces issue's protocol), embedcli against a plain script.

1. `english-mix.txt.gz` split into odd and even lines; `embedcli pipeline` (defaults) on each half.
2. Words with count >= 50 in both halves; a random two-thirds (seed 0) are the seed dictionary
   (each word to itself), the other third the test pairs.
3. The plain-script anchor (unit length, centring, unit length, one Procrustes SVD; nearest
   neighbour and CSLS k = 10 among all target words), then `embedcli align` (`--method
   procrustes|multistep`, `--refine N`) and `embedcli evaluate ALIGNED --target B --dictionary TEST`.
4. Also: word2vec (`embedcli word2vec --sg`) aligned onto the default pipeline's SVD vectors of the
   whole corpus, with the same kind of split over words of count >= 50.

Usage: python benchmarks/spaces.py [--corpus PATH] [--refine 0,1] [--skip-word2vec]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def plain_procrustes(a_path: str, b_path: str, seed_words, test_words, k: int = 10) -> tuple[float, float]:
    """The plain 20-line numpy script: P@1 by nearest neighbour and by CSLS."""
    from scipy.linalg import orthogonal_procrustes

    from embedcli.vectors import Vectors

    A, B = Vectors.load(a_path), Vectors.load(b_path)

    def norm(X):
        X = X / np.linalg.norm(X, axis=1, keepdims=True)
        X = X - X.mean(axis=0)
        return X / np.linalg.norm(X, axis=1, keepdims=True)

    XA, XB = norm(np.asarray(A.vectors, np.float64)), norm(np.asarray(B.vectors, np.float64))
    ia, ib = A.index, B.index
    R, _ = orthogonal_procrustes(XA[[ia[w] for w in seed_words]], XB[[ib[w] for w in seed_words]])
    M = XA @ R
    Q = M[[ia[w] for w in test_words]]
    sims = Q @ XB.T
    gold = np.array([ib[w] for w in test_words])
    nn = float((sims.argmax(axis=1) == gold).mean())
    r_b = np.array([np.sort(XB[i:i + 2048] @ M.T, axis=1)[:, -k:].mean(axis=1) for i in range(0, len(XB), 2048)],
                   dtype=object)
    r_b = np.concatenate(list(r_b))
    csls = float(((2 * sims - r_b[None, :]).argmax(axis=1) == gold).mean())
    return nn, csls


def counts_of(path: str) -> dict[str, int]:
    from embedcli.vectors import Vectors

    v = Vectors.load(path)
    return dict(zip(v.words, np.asarray(v.counts).tolist()))


def split_dictionary(words: list[str], tmp: str, tag: str) -> tuple[str, str, list[str], list[str]]:
    rng = np.random.default_rng(0)
    words = sorted(words)
    order = rng.permutation(len(words))
    cut = 2 * len(words) // 3
    seed = [words[i] for i in order[:cut]]
    test = [words[i] for i in order[cut:]]
    paths = []
    for name, ws in (("seed", seed), ("test", test)):
        p = os.path.join(tmp, f"{tag}-{name}.tsv")
        Path(p).write_text("".join(f"{w}\t{w}\n" for w in ws), encoding="utf-8")
        paths.append(p)
    return paths[0], paths[1], seed, test


def embedcli_bli(a: str, b: str, seed: str, test: str, tmp: str, refine: int, method: str = "procrustes") -> dict:
    out = os.path.join(tmp, f"aligned-{method}-{refine}.npz")
    t = time.perf_counter()
    subprocess.run(["embedcli", "align", a, b, "--dictionary", seed, "--refine", str(refine), "--method", method,
                    "-o", out, "-q"], check=True)
    secs = time.perf_counter() - t
    res = json.loads(subprocess.run(["embedcli", "evaluate", out, "--target", b, "--dictionary", test,
                                     "--format", "json"], check=True, capture_output=True, text=True).stdout)
    res["align_seconds"] = secs
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpora" / "english-mix.txt.gz"))
    ap.add_argument("--refine", default="0,1")
    ap.add_argument("--skip-word2vec", action="store_true")
    args = ap.parse_args()
    if not os.path.exists(args.corpus):
        sys.exit(f"{args.corpus}: not found")
    with tempfile.TemporaryDirectory() as tmp:
        halves = [os.path.join(tmp, "odd.txt"), os.path.join(tmp, "even.txt")]
        with gzip.open(args.corpus, "rt", encoding="utf-8") as f, open(halves[0], "w", encoding="utf-8") as odd, \
                open(halves[1], "w", encoding="utf-8") as even:
            for i, line in enumerate(f):
                (odd if i % 2 == 0 else even).write(line)
        vecs = []
        for h in halves:
            d = h[:-4]
            subprocess.run(["embedcli", "pipeline", h, "-o", d, "-q"], check=True)
            vecs.append(os.path.join(d, "vectors.npz"))
        ca, cb = counts_of(vecs[0]), counts_of(vecs[1])
        words = [w for w in ca if ca[w] >= 50 and cb.get(w, 0) >= 50]
        seed, test, seed_w, test_w = split_dictionary(words, tmp, "halves")
        print(f"{time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores; halves of {os.path.basename(args.corpus)}: "
              f"{len(ca):,} and {len(cb):,} words; {len(words):,} with count >= 50 in both: "
              f"{len(seed_w):,} seed pairs, {len(test_w):,} test pairs")
        print()
        print("| method | P@1 nn | P@1 CSLS (k = 10) | P@5 CSLS | P@10 CSLS |")
        print("| --- | ---: | ---: | ---: | ---: |")
        nn, csls = plain_procrustes(vecs[0], vecs[1], seed_w, test_w)
        print(f"| plain script (unit, centre, unit, one Procrustes) | {nn:.3f} | {csls:.3f} | | |")
        for method in ("procrustes", "multistep"):
            for r in [int(x) for x in args.refine.split(",") if x != ""]:
                res = embedcli_bli(vecs[0], vecs[1], seed, test, tmp, r, method)
                print(f"| `embedcli align --method {method} --refine {r}` ({res['align_seconds']:.1f} s) | "
                      f"{res['nn']['p@1']:.3f} | {res['csls']['p@1']:.3f} | {res['csls']['p@5']:.3f} | "
                      f"{res['csls']['p@10']:.3f} |", flush=True)
        if not args.skip_word2vec:
            full = os.path.join(tmp, "full")
            subprocess.run(["embedcli", "pipeline", args.corpus, "-o", full, "-q"], check=True)
            w2v = os.path.join(tmp, "w2v.npz")
            subprocess.run(["embedcli", "word2vec", os.path.join(full, "tokens.txt"), "--sg", "--seed", "1", "-o",
                            w2v, "-q"], check=True)
            cs = counts_of(os.path.join(full, "vectors.npz"))
            cw = counts_of(w2v)
            words = [w for w in cs if cs[w] >= 50 and w in cw]
            seed, test, seed_w, test_w = split_dictionary(words, tmp, "w2v")
            print()
            print(f"word2vec (skip-gram, 100 dims) aligned onto the default SVD vectors of the whole corpus: "
                  f"{len(seed_w):,} seed, {len(test_w):,} test words")
            for method in ("procrustes", "multistep"):
                res = embedcli_bli(w2v, os.path.join(full, "vectors.npz"), seed, test, tmp, 0, method)
                print(f"- `--method {method}`: P@1 nn {res['nn']['p@1']:.3f}, CSLS {res['csls']['p@1']:.3f} "
                      f"(P@10 CSLS {res['csls']['p@10']:.3f})")


if __name__ == "__main__":
    main()
