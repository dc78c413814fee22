#!/usr/bin/env python
"""The speed and quality anchor of `embedcli netmf`: NetMF as a competent user would script it.

Qiu et al. 2018 (NetMF for a large window, as their reference code): the 256 largest eigenpairs of
D^-1/2 A D^-1/2 (scipy eigsh), the filter sum_{r<=T} l^r / T (T = 10) clipped at 0, the dense matrix
vol/b D^-1/2 U f(L) U^T D^-1/2, its truncated log, scikit-learn's randomized SVD to 128 dimensions,
vectors U Sigma^1/2.  Writes word2vec text ("node v1 ... v128").

Usage: python benchmarks/plain_netmf.py EDGELIST OUTPUT
"""

import gzip
import sys

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import eigsh
from sklearn.utils.extmath import randomized_svd

T, b, h, dim = 10, 1.0, 256, 128
edges = np.loadtxt(gzip.open(sys.argv[1]) if sys.argv[1].endswith(".gz") else sys.argv[1], dtype=np.int64)
n = int(edges.max()) + 1
A = sp.coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(n, n)).tocsr()
A = ((A + A.T) > 0).astype(np.float64)  # undirected, unweighted
d = np.asarray(A.sum(axis=1)).ravel()
d_rt_inv = sp.diags(1 / np.sqrt(d))
lam, U = eigsh(d_rt_inv @ A @ d_rt_inv, h, which="LA")
f = np.maximum(sum(lam**r for r in range(1, T + 1)) / T, 0)
X = d_rt_inv @ (U * np.sqrt(f))
M = np.log(np.maximum(X @ X.T * (d.sum() / b), 1))
u, s, _ = randomized_svd(M, dim, n_iter=5, random_state=0)
vectors = u * np.sqrt(s)
with open(sys.argv[2], "w") as out:
    out.write(f"{n} {dim}\n")
    for i in range(n):
        out.write(f"{i} " + " ".join(f"{x:.6f}" for x in vectors[i]) + "\n")
