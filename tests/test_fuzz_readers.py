"""Property-based tests: every reader, fed random bytes or mutated valid files, returns a valid
object or raises the documented error (an EmbedcliError: exit code 2 or 3) -- nothing else."""

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from embedcli.cli import exit_code
from embedcli.errors import EmbedcliError
from embedcli.evaluate import read_analogies, read_similarity
from embedcli.matrix import CountMatrix
from embedcli.vectors import Vectors
from embedcli.vocab import read_vocab

# EMBEDCLI_FUZZ_EXAMPLES=3000 for a longer search (passed 3,000 per reader when written)
SETTINGS = settings(max_examples=int(os.environ.get("EMBEDCLI_FUZZ_EXAMPLES", "250")), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _valid_vectors(v):
    assert isinstance(v, Vectors)
    M = np.asarray(v.vectors)
    assert M.ndim == 2 and M.shape[0] == len(v.words) == len(set(v.words))
    assert np.isfinite(np.asarray(v.norms)).all()


def _valid_matrix(cm):
    assert cm.matrix.shape == (len(cm.row_words), len(cm.col_words))
    assert np.isfinite(cm.matrix.data).all()


def _reference_files(folder):
    rng = np.random.default_rng(0)
    v = Vectors(["the", "of", "naïve", "x"], rng.normal(size=(4, 3)).astype(np.float32), np.array([4, 3, 2, 1]))
    files = {}
    for name in ("v.npz", "v.txt", "v.bin"):
        p = os.path.join(folder, name)
        v.save(p)
        files[name] = open(p, "rb").read()
    import scipy.sparse as sp

    m = os.path.join(folder, "m.npz")
    CountMatrix(sp.csr_matrix(np.array([[0, 2.0], [1, 3]])), ["a", "b"], ["a", "b"], np.array([3, 2]), np.array([3, 2]),
                "cooccurrence", {"window": 2}).save(m)
    files["m.npz"] = open(m, "rb").read()
    files["ws.tsv"] = b"# c\nold\tnew\t1.5\nsmart\tbright\t8\n"
    files["an.txt"] = b": capitals\nathens greece rome italy\n: gram\ngood better bad worse\n"
    files["vocab.tsv"] = b"the\t10\nof\t5\n"
    return files


READERS = {
    "v.npz": lambda p: _valid_vectors(Vectors.load(p)),
    "v.txt": lambda p: _valid_vectors(Vectors.load(p)),
    "v.bin": lambda p: _valid_vectors(Vectors.load(p)),
    "m.npz": lambda p: _valid_matrix(CountMatrix.load(p)),
    "ws.tsv": lambda p: read_similarity(p),
    "an.txt": lambda p: read_analogies(p),
    "vocab.tsv": lambda p: read_vocab(p),
}


@pytest.fixture(scope="module")
def refs(tmp_path_factory):
    return _reference_files(str(tmp_path_factory.mktemp("refs")))


def _feed(tmp_path, name, data):
    p = str(tmp_path / ("fuzz-" + name))
    with open(p, "wb") as f:
        f.write(data)
    try:
        READERS[name](p)
    except EmbedcliError as e:
        assert exit_code(e) in (2, 3) and "\n" not in str(e)


@pytest.mark.parametrize("name", sorted(READERS))
@SETTINGS
@given(data=st.binary(max_size=3000))
def test_random_bytes(tmp_path, name, data):
    _feed(tmp_path, name, data)


@st.composite
def mutations(draw):
    kind = draw(st.sampled_from(["flip", "truncate", "insert", "delete", "overwrite"]))
    pos = draw(st.floats(0, 1))
    count = draw(st.integers(1, 8))
    byte = draw(st.integers(0, 255))
    return kind, pos, count, byte


def _mutate(data, muts):
    b = bytearray(data)
    for kind, pos, count, byte in muts:
        i = int(pos * max(len(b) - 1, 0))
        if kind == "flip" and b:
            b[i] ^= 1 << (byte % 8)
        elif kind == "truncate":
            del b[i:]
        elif kind == "insert":
            b[i:i] = bytes([byte]) * count
        elif kind == "delete":
            del b[i : i + count]
        elif kind == "overwrite" and b:
            b[i : i + count] = bytes([byte]) * len(b[i : i + count])
    return bytes(b)


@pytest.mark.parametrize("name", sorted(READERS))
@SETTINGS
@given(muts=st.lists(mutations(), min_size=1, max_size=4))
def test_mutated_valid_files(tmp_path, refs, name, muts):
    _feed(tmp_path, name, _mutate(refs[name], muts))


@pytest.mark.parametrize("name", sorted(READERS))
def test_unmutated_reference_files_are_valid(tmp_path, refs, name):
    p = str(tmp_path / name)
    with open(p, "wb") as f:
        f.write(refs[name])
    READERS[name](p)
