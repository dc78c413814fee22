"""The array lookup of word ids (embedcli.wordids) against str.split() and a dict."""

import os

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import embedcli.cooccur as co
from embedcli.wordids import WIDTH, WordTable

SPACES = [" ", "\t", "\r", "\x0b", "\x0c", "\x1c", "\x1f", "\n"]
UNICODE_SPACES = ["\x85", "\xa0", "\u1680", "\u2003", "\u2028", "\u202f", "\u3000"]
# short, exactly WIDTH bytes, a WIDTH-byte word plus one, long, non-ASCII (2-4 bytes a character)
WORDS = ["a", "the", "é", "naïve", "中文", "😀", "p" * WIDTH, "p" * (WIDTH + 1), "q" * 40, "ab" * 4, "ab" * 4 + "c",
         "x" * 7 + "é", "y" * 15 + "é"]


def reference(text: str, index: dict) -> tuple[np.ndarray, np.ndarray]:
    """str.split() and a dict, per line: what the table must give."""
    ids, ends = [], []
    for line in text.split("\n")[:-1] if text.endswith("\n") else text.split("\n"):
        ids += [index.get(t, -1) for t in line.split()]
        ends.append(len(ids))
    if not text.endswith("\n"):
        ends.pop()
    return np.array(ids, np.int32), np.array(ends, np.int64)


@settings(max_examples=int(os.environ.get("EMBEDCLI_FUZZ_EXAMPLES", "120")), deadline=None)
@given(
    parts=st.lists(st.one_of(st.sampled_from(WORDS), st.sampled_from(SPACES), st.text(min_size=1, max_size=20).filter(
        lambda s: "\x00" not in s)), max_size=60),
    vocab=st.lists(st.one_of(st.sampled_from(WORDS), st.text(min_size=1, max_size=20), st.just(""), st.just("a\x00b")),
                   max_size=30, unique=True),
)
def test_lookup_matches_split_and_dict(parts, vocab):
    text = "".join(parts)
    index = {w: i for i, w in enumerate(vocab)}
    got = WordTable(index).lookup(text.encode("utf-8"))
    if got is None:  # left to the caller: only when the text holds non-ASCII whitespace
        assert any(c in text for c in UNICODE_SPACES)
        return
    want_ids, want_ends = reference(text, index)
    np.testing.assert_array_equal(got[0], want_ids)
    np.testing.assert_array_equal(got[1], want_ends)


def test_crowded_table_and_prefixes():
    """Many words whose first 8 or 16 bytes agree, and tokens one byte longer than a vocabulary word."""
    words = [f"{'w' * 8}{i:08d}" for i in range(3000)] + [f"{i:07d}" for i in range(3000)]
    index = {w: i for i, w in enumerate(words)}
    rng = np.random.default_rng(0)
    toks = [words[i] + ("z" if rng.random() < 0.3 else "") for i in rng.integers(0, len(words), 5000)]
    text = "\n".join(" ".join(toks[i:i + 7]) for i in range(0, len(toks), 7)) + "\n"
    ids, ends = WordTable(index).lookup(text.encode())
    want_ids, want_ends = reference(text, index)
    np.testing.assert_array_equal(ids, want_ids)
    np.testing.assert_array_equal(ends, want_ends)
    assert (ids == -1).sum() > 1000 and (ids >= 0).sum() > 3000


def test_blocks_with_unicode_spaces_take_the_slow_path(monkeypatch):
    """The reader gives the same ids whether a block goes through the table or str.split()."""
    index = {"a": 0, "b": 1, "c\xa0d": 2}
    co._install_index(index)
    try:
        data = "a\xa0b c\n\u3000a\n".encode()
        ids, ends = co._ids_of_block(data, "t.txt", 1)
        np.testing.assert_array_equal(ids, [0, 1, -1, 0])
        np.testing.assert_array_equal(ends, [3, 4])
    finally:
        co._install_index(None)


def test_non_ascii_whitespace_is_found_and_its_neighbours_are_not():
    from embedcli.wordids import _unicode_space

    spaces = {c for c in range(0x80, 0x110000) if chr(c).isspace()}
    near = {c + d for c in spaces for d in (-1, 1)} | {0x80, 0xFF, 0x1000, 0x2FFF, 0x30000} | spaces
    for c in sorted(near - set(range(0xD800, 0xE000))):
        for s in (chr(c), f"x{chr(c)}y"):
            assert _unicode_space(np.frombuffer(s.encode(), np.uint8)) == (c in spaces), hex(c)


def test_the_table_only_for_text_long_enough_to_pay_for_it(small_tokens, monkeypatch):
    """A vocabulary large for its text is looked up by the dict (no table built); the matrix is the
    same either way."""
    from embedcli.cooccur import cooccurrence_matrix
    from embedcli.specs import CooccurSpec, VocabSpec
    from embedcli.vocab import build_vocab

    vocab = build_vocab(str(small_tokens), VocabSpec(min_count=1))
    built = []
    real = co.WordTable
    monkeypatch.setattr(co, "WordTable", lambda index: built.append(len(index)) or real(index))
    monkeypatch.setattr(co, "TABLE_BYTES_PER_WORD", 1)
    with_table = cooccurrence_matrix(str(small_tokens), vocab, CooccurSpec())
    assert built
    built.clear()
    monkeypatch.setattr(co, "TABLE_BYTES_PER_WORD", 10**9)
    without = cooccurrence_matrix(str(small_tokens), vocab, CooccurSpec())
    assert not built
    for a in ("data", "indices", "indptr"):
        assert np.array_equal(getattr(with_table, a), getattr(without, a))
