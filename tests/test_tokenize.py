import bz2
import gzip
import lzma
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import run

from embedcli.specs import DEFAULT_TOKEN_PATTERN
from embedcli.tokenizer import load_stopwords


def test_tokenize_sample_corpus(sample_corpus, tmp_path, sample_text):
    out = tmp_path / "tokens.txt"
    res = run("tokenize", sample_corpus, "-o", out)
    lines = out.read_text("utf-8").split("\n")
    assert lines[-1] == ""
    lines = lines[:-1]
    assert len(lines) == len([l for l in sample_text.splitlines() if l.strip()])
    assert all(re.fullmatch(r"[^\W_]+( [^\W_]+)*", l) for l in lines)
    assert lines[0].startswith("fellow citizens of the senate and of the house of representatives among")
    assert not any(ch.isupper() for ch in lines[0])
    n_tokens = sum(len(l.split()) for l in lines)
    assert f"{n_tokens:,} tokens" in res.stderr


def test_stdin_and_compressed_inputs_agree(tmp_path, small_speeches):
    raw = small_speeches.read_bytes()
    (tmp_path / "c.gz").write_bytes(gzip.compress(raw))
    (tmp_path / "c.bz2").write_bytes(bz2.compress(raw))
    (tmp_path / "c.xz").write_bytes(lzma.compress(raw))
    ref = run("tokenize", small_speeches, "-q").stdout
    assert ref.count("\n") == 20
    for name in ("c.gz", "c.bz2", "c.xz"):
        assert run("tokenize", tmp_path / name, "-q").stdout == ref
    assert run("tokenize", "-", "-q", input=raw).stdout == ref


def test_folders_recursive_and_globs(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "one.txt").write_text("Alpha beta\n")
    (tmp_path / "a" / "b" / "two.txt").write_text("Gamma, delta!\n")
    # files are read in path order: a/b/two.txt before a/one.txt
    assert run("tokenize", tmp_path / "a", "-q").stdout == "gamma delta\nalpha beta\n"
    assert run("tokenize", str(tmp_path / "a" / "**" / "*.txt"), "-q").stdout == "gamma delta\nalpha beta\n"


def test_document_modes(tmp_path):
    p = tmp_path / "c.txt"
    p.write_text("First line.\nsecond line\n\n\nNew paragraph\nends here\n")
    assert run("tokenize", p, "-q").stdout == "first line\nsecond line\nnew paragraph\nends here\n"
    assert run("tokenize", p, "--doc", "paragraph", "-q").stdout == "first line second line\nnew paragraph ends here\n"
    assert run("tokenize", p, p, "--doc", "file", "-q").stdout == "first line second line new paragraph ends here\n" * 2


def test_unicode_case_pattern_and_filters(tmp_path):
    p = tmp_path / "u.txt"
    p.write_text("Ünïcode Straße naïve café_bar 3.14 a an THE\n", encoding="utf-8")
    assert run("tokenize", p, "-q").stdout == "ünïcode straße naïve café bar 3 14 a an the\n"
    assert run("tokenize", p, "-q", "--no-lowercase").stdout == "Ünïcode Straße naïve café bar 3 14 a an THE\n"
    assert run("tokenize", p, "-q", "--min-length", "3").stdout == "ünïcode straße naïve café bar the\n"
    assert run("tokenize", p, "-q", "--stopwords", "english").stdout == "ünïcode straße naïve café bar 3 14\n"
    assert run("tokenize", p, "-q", "--token-pattern", r"[a-z]+").stdout == "n code stra e na ve caf bar a an the\n"
    stop = tmp_path / "stop.txt"
    stop.write_text("# mine\ncafé\nbar\n")
    assert run("tokenize", p, "-q", "--stopwords", stop).stdout == "ünïcode straße naïve 3 14 a an the\n"
    assert "the" in load_stopwords("english") and len(load_stopwords("english")) > 300


def test_encodings_and_error_policies(tmp_path):
    p = tmp_path / "latin1.txt"
    p.write_bytes("ok line\ncaf\xe9 cr\xe8me\n".encode("latin-1"))
    res = run("tokenize", p, "-q", ok=False)
    assert res.exit_code == 3
    assert f"{p}:2: cannot decode byte 0xe9 as utf-8" in res.stderr
    assert "Traceback" not in res.stderr and res.stderr.count("\n") == 1
    assert run("tokenize", p, "-q", "--errors", "replace").stdout == "ok line\ncaf cr me\n"
    assert run("tokenize", p, "-q", "--errors", "ignore").stdout == "ok line\ncaf crme\n"
    assert run("tokenize", p, "-q", "--encoding", "latin-1").stdout == "ok line\ncafé crème\n"
    res = run("tokenize", p, "--encoding", "utf-16", ok=False)
    assert res.exit_code == 2 and "ASCII-compatible" in res.stderr


def test_no_output_file_on_error(tmp_path):
    p = tmp_path / "bad.txt"
    p.write_bytes(b"fine\n\xff\xfe broken\n")
    out = tmp_path / "tokens.txt"
    res = run("tokenize", p, "-o", out, ok=False)
    assert res.exit_code == 3 and not out.exists()
    assert [f.name for f in tmp_path.iterdir()] == ["bad.txt"]  # no temporary left behind


def test_empty_and_missing_inputs(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n  ,;  \n")
    res = run("tokenize", empty, ok=False)
    assert res.exit_code == 3 and "no tokens" in res.stderr
    res = run("tokenize", tmp_path / "nope.txt", ok=False)
    assert res.exit_code == 2 and "no such file" in res.stderr
    (tmp_path / "d").mkdir()
    res = run("tokenize", tmp_path / "d", ok=False)
    assert res.exit_code == 2 and "holds no files" in res.stderr


def test_parallel_workers_give_identical_output(tmp_path, sample_corpus, monkeypatch):
    import embedcli.tokenizer as tk

    monkeypatch.setattr(tk, "TOKENIZE_CHUNK_BYTES", 50_000)  # about 60 blocks: the process pool is used
    outs = [run("tokenize", sample_corpus, "-q", "--workers", w).stdout for w in (1, 2, 3)]
    assert outs[0] == outs[1] == outs[2] and outs[0].count("\n") == 124
    for doc in ("paragraph", "file"):
        a, b = (run("tokenize", sample_corpus, "-q", "--doc", doc, "--workers", w).stdout for w in (1, 2))
        assert a == b
    res = run("tokenize", sample_corpus, "--workers", "0", ok=False)
    assert res.exit_code == 2 and "--workers 0" in res.stderr


def test_long_line_streams_in_pieces(tmp_path, monkeypatch):
    import embedcli.fileio as eio
    import embedcli.tokenizer as tk

    monkeypatch.setattr(tk, "TOKENIZE_CHUNK_BYTES", 1000)
    words = " ".join(f"w{i % 50}" for i in range(5000))  # one 25 kB line, no newline at the end
    p = tmp_path / "long.txt"
    p.write_text("short one\n" + words, encoding="utf-8")
    from io import BytesIO

    from embedcli.tokenizer import tokenize

    out = BytesIO()
    chunks = list(eio.iter_line_chunks(str(p), 1000))
    assert len(chunks) >= 15 and max(len(d) for _, d, _ in chunks) <= 2000
    st = tokenize([str(p)], out)
    assert out.getvalue().decode() == "short one\n" + words + "\n"
    assert st.n_tokens == 5002 and st.n_docs == 2
    # a line with no white space in a two-byte encoding is cut between characters, not inside one
    for enc, size, text in (("gbk", 1001, "我爱北京天安门"), ("shift_jis", 999, "日本語のテキスト"),
                            ("utf-8", 1000, "我爱北京天安门")):
        data = (text * 400 + "\n").encode(enc)
        (tmp_path / "g.txt").write_bytes(data)
        chunks = list(eio.iter_line_chunks(str(tmp_path / "g.txt"), size, encoding=enc))
        assert len(chunks) > 1 and b"".join(d for _, d, _ in chunks) == data
        for _, d, _ in chunks:
            d.decode(enc)  # each piece whole characters
        res = run("tokenize", tmp_path / "g.txt", "--encoding", enc, "-q")
        assert res.exit_code == 0 and "\ufffd" not in res.stdout


def test_tokenize_reads_an_fsspec_url(tmp_path, small_speeches):
    """The URL of one file (file:// here, the code path of s3:// and gs://), compressed or not, gives
    the same bytes as its path; the corpus record keeps the URL and its size; a missing URL is exit 2."""
    import gzip
    import json

    pytest.importorskip("fsspec")
    gz = tmp_path / "speeches.txt.gz"
    gz.write_bytes(gzip.compress(small_speeches.read_bytes()))
    run("tokenize", small_speeches, "-o", tmp_path / "p.txt", "-q")
    run("tokenize", "file://" + str(gz), "-o", tmp_path / "u.txt", "-q")
    assert (tmp_path / "p.txt").read_bytes() == (tmp_path / "u.txt").read_bytes()
    rec = json.loads((tmp_path / "u.txt.meta.json").read_text())["provenance"]["inputs"]["corpus"][0]
    assert rec == {"path": "file://" + str(gz), "size": gz.stat().st_size}
    r = run("tokenize", "file://" + str(tmp_path / "missing.txt"), "-o", tmp_path / "x.txt", ok=False)
    assert r.exit_code == 2 and "no such file" in r.stderr and not (tmp_path / "x.txt").exists()


# NFD spelling (an accent typed as its own character), Devanagari and Arabic marks, Turkish and Greek case
MULTILINGUAL = ("cafe\u0301 e\u0301te\u0301 a\u0300 \u0939\u093f\u0928\u094d\u0926\u0940 "
                "\u0627\u0644\u0639\u064e\u0631\u064e\u0628\u0650\u064a\u064e\u0651\u0629 \u0130stanbul "
                "\u039f\u0394\u039f\u03a3.\u039a\u0391\u0399 \ufb01nance\n")


def test_marks_normal_forms_and_case_in_every_path(tmp_path):
    """Words whose marks Python's re leaves out of \\w stay whole (NFD accents, Hindi vowel signs,
    Arabic vowel marks); NFC by default makes NFD and NFC text the same tokens; the filters do not
    change where words are cut (Turkish İ, Greek final sigma); stop-word files are matched as the
    text is (byte-order mark dropped, NFC, lowercased)."""
    import unicodedata

    src = tmp_path / "m.txt"
    src.write_text(MULTILINGUAL, "utf-8")
    (tmp_path / "nfc.txt").write_text(unicodedata.normalize("NFC", MULTILINGUAL), "utf-8")
    want = ["café", "été", "à", "हिन्दी", "العَرَبِيَّة", "i\u0307stanbul", "οδος", "και", "\ufb01nance"]

    def toks(*args, path=src):
        return run("tokenize", path, "-q", *args).stdout.split()

    assert toks() == want
    assert toks(path=tmp_path / "nfc.txt") == want
    assert toks("--normal-form", "nfkc")[-1] == "finance"
    none = toks("--normal-form", "none")
    assert none[:2] == ["cafe\u0301", "e\u0301te\u0301"] and len(none) == len(want)  # as typed, still whole
    assert toks("--min-length", "2") == [w for w in want if len(w) >= 2]  # the same cuts with a filter
    (tmp_path / "sw.txt").write_bytes("\ufeffÀ\nI\n".encode("utf-8"))  # a BOM, capitals, NFC "à" against NFD text
    assert toks("--stopwords", tmp_path / "sw.txt") == [w for w in want if w != "à"]
    assert toks("--no-lowercase")[5:7] == ["\u0130stanbul", "ΟΔΟΣ"]
    assert toks("--token-pattern", r"[^\W_]+") == want  # the regex module's \w holds the marks too


def test_encoding_hints_for_utf16_and_utf8_sig(tmp_path):
    (tmp_path / "sig.txt").write_bytes(b"\xef\xbb\xbfLe caf\xc3\xa9\n")
    assert run("tokenize", tmp_path / "sig.txt", "--encoding", "utf-8-sig", "-q").stdout == "le café\n"
    (tmp_path / "u16.txt").write_bytes("le café\n".encode("utf-16"))
    res = run("tokenize", tmp_path / "u16.txt", "-q", ok=False)
    assert res.exit_code == 3 and "UTF-16" in res.stderr and "iconv" in res.stderr


def test_queries_and_benchmarks_typed_in_nfd_find_nfc_words(tmp_path):
    """A query or a benchmark pair typed in NFD (as some keyboards and macOS file names give them)
    finds the NFC key the tokenizer wrote; Turkish İ matches its lowercase in evaluate."""
    import numpy as np

    from embedcli.vectors import Vectors

    words = ["été", "café", "hiver", "thé", "i\u0307stanbul", "ankara"]
    rng = np.random.default_rng(0)
    Vectors(words, rng.standard_normal((6, 4)).astype(np.float32)).save(str(tmp_path / "v.npz"))
    res = run("similarity", tmp_path / "v.npz", "e\u0301te\u0301", "cafe\u0301")
    assert res.exit_code == 0 and "not in vocabulary" not in res.stderr
    assert run("neighbors", tmp_path / "v.npz", "the\u0301", "-k", "2").exit_code == 0
    (tmp_path / "sim.txt").write_text("e\u0301te\u0301\tcafe\u0301\t3\nhiver\tthe\u0301\t2\n\u0130stanbul\tAnkara\t8\n"
                                      "ankara\tcafé\t1\n", "utf-8")
    res = run("evaluate", tmp_path / "v.npz", "--similarity", tmp_path / "sim.txt", "--format", "json", "-q")
    import json

    mine = [r for r in json.loads(res.stdout)["similarity"] if r["name"] == "sim.txt"][0]
    assert mine["pairs_used"] == 4


def test_errors_replace_and_ignore_count_what_they_change(tmp_path):
    """--errors replace/ignore say how many bytes they replaced or dropped (even with -q), and the
    count is in the provenance: a corpus read in the wrong encoding is noticed."""
    import json

    src = tmp_path / "cp1252.txt"
    src.write_bytes(b"le caf\xe9 \xe9tait l\x92h\xf4tel\nrien\n")
    res = run("tokenize", src, "--errors", "replace", "-q", "-o", tmp_path / "t.txt")
    assert "4 undecodable byte(s) replaced by U+FFFD" in res.stderr
    assert (tmp_path / "t.txt").read_text("utf-8") == "le caf tait l h tel\nrien\n"
    prov = json.loads((tmp_path / "t.txt.meta.json").read_text())["provenance"]
    assert prov["stats"]["undecodable_bytes"] == 4
    assert "4 undecodable byte(s) dropped" in run("tokenize", src, "--errors", "ignore", "-q").stderr
    assert "undecodable" not in run("tokenize", src, "--encoding", "cp1252", "--errors", "replace", "-q").stderr


def test_review_fixes_ids_emoji_stopword_forms_and_old_models(tmp_path):
    """--id-column ids are kept as given (only the text is normalized); emoji keycaps and
    variation selectors make no tokens; stop words take --normal-form; a model recorded before
    --normal-form existed embeds query texts as it was tokenized (marks cut words then)."""
    import unicodedata

    import numpy as np

    from embedcli.vectors import Vectors

    nfd_id = unicodedata.normalize("NFD", "doc-é1")
    (tmp_path / "ids.tsv").write_text(f"{nfd_id}\thello cafe\u0301\n\ufb01le-2\tother\nfile-2\tthird\n", "utf-8")
    res = run("tokenize", tmp_path / "ids.tsv", "--id-column", 1, "--ids-output", tmp_path / "ids.out",
              "--normal-form", "nfkc", "-q")
    assert res.stdout == "hello café\nother\nthird\n"
    assert (tmp_path / "ids.out").read_text("utf-8").split("\n")[:3] == [nfd_id, "\ufb01le-2", "file-2"]
    assert run("tokenize", "-", "-q", input="I \u2764\ufe0f NY 1\ufe0f\u20e3 ok\n").stdout == "i ny 1 ok\n"
    (tmp_path / "sw.txt").write_text("\ufb01le\n\uff46\uff55\uff4c\uff4c\n", "utf-8")  # ligature, full width
    res = run("tokenize", "-", "-q", "--normal-form", "nfkc", "--stopwords", tmp_path / "sw.txt",
              input="the \ufb01le is \uff46\uff55\uff4c\uff4c\n")
    assert res.stdout == "the is\n"

    words = ["ह", "न", "द", "भ", "ष", "क", "त", "ब"]  # Hindi as the tokenizer cut it before marks were kept
    spec = {"lowercase": True, "token_pattern": r"[^\W_]+", "min_length": 1, "stopwords": "none"}
    prov = {"stage": "svd", "spec": {}, "inputs": {"matrix": {"stage": "cooccur", "spec": {}, "inputs": {
        "tokens": {"stage": "tokenize", "spec": spec}}}}}
    rng = np.random.default_rng(0)
    Vectors(words, rng.standard_normal((8, 5)).astype(np.float32), np.arange(8, 0, -1),
            {"provenance": prov}).save(str(tmp_path / "w.npz"))
    (tmp_path / "t.txt").write_text("ह न द\nभ ष\nक त ब\n", "utf-8")
    run("docvec", tmp_path / "w.npz", tmp_path / "t.txt", "-o", tmp_path / "d.npz", "-q")
    res = run("neighbors", tmp_path / "d.npz", "--text", "हिन्दी", "-k", 1)
    assert res.stdout.split("\t")[1] == "d1"


def test_resume_never_reads_a_piped_stopword_list(tmp_path):
    """Comparing a stop-word list by content must not read a pipe: the run that follows reads it."""
    import os
    import threading

    from embedcli.resume import tokens_reusable
    from embedcli.specs import TokenizeSpec

    (tmp_path / "c.txt").write_text("the cat\n", "utf-8")
    run("tokenize", tmp_path / "c.txt", "-o", tmp_path / "t.txt", "-q")
    fifo = tmp_path / "sw"
    os.mkfifo(fifo)
    answer = []
    t = threading.Thread(target=lambda: answer.append(tokens_reusable(str(tmp_path / "t.txt"), [str(tmp_path / "c.txt")],
                                                                      TokenizeSpec(stopwords=str(fifo)))), daemon=True)
    t.start()
    t.join(10)
    assert answer == [False]  # at once, without opening the pipe (which would wait for a writer)


def test_long_lines_tsv_fields_and_encodings_from_a_property_audit(tmp_path, monkeypatch):
    """A tab-separated line longer than a block keeps its fields (read whole up to TSV_MAX_LINE,
    refused beyond it); --text-column alone keeps PATH:LINE ids; a long UTF-8 line without ASCII
    space is cut at other white space or punctuation, never before a mark; stateful encodings are
    refused; ideographic variation selectors stay in their word."""
    from io import BytesIO

    import embedcli.tokenizer as tk
    from embedcli.specs import TokenizeSpec

    monkeypatch.setattr(tk, "TOKENIZE_CHUNK_BYTES", 1000)
    monkeypatch.setattr(tk, "TSV_MAX_LINE", 20_000)
    (tmp_path / "long.tsv").write_text("doc1\t" + "word " * 2000 + "\ndoc2\tshort\n", "utf-8")
    out = BytesIO()
    tk.tokenize([str(tmp_path / "long.tsv")], out, TokenizeSpec(id_column=1, workers=1))
    assert [len(x.split()) for x in out.getvalue().decode().splitlines()] == [2000, 1]
    (tmp_path / "huge.tsv").write_text("doc1\t" + "word " * 5000 + "\n", "utf-8")
    with pytest.raises(Exception, match=r"huge.tsv:1: a line longer than"):
        tk.tokenize([str(tmp_path / "huge.tsv")], BytesIO(), TokenizeSpec(id_column=1, workers=1))
    for text, words in (("हिन्दी।" * 300, 300), ("mot\u00a0" * 600, 600), ("e\u0301t\u00e9 " * 300, 300)):
        (tmp_path / "l.txt").write_text(text.replace(" ", "\u3000") + "\n", "utf-8")
        out = BytesIO()
        tk.tokenize([str(tmp_path / "l.txt")], out, TokenizeSpec(workers=1))
        toks = out.getvalue().decode().split()
        assert len(toks) == words and len(set(toks)) == 1, (text[:8], set(toks))

    (tmp_path / "tc.tsv").write_text("a\tx\nb\ty\n", "utf-8")
    run("tokenize", tmp_path / "tc.tsv", "--text-column", 2, "--ids-output", tmp_path / "i", "-q")
    assert (tmp_path / "i").read_text().split() == [f"{tmp_path / 'tc.tsv'}:1", f"{tmp_path / 'tc.tsv'}:2"]
    res = run("tokenize", tmp_path / "tc.tsv", tmp_path / "tc.tsv", "--ids-output", tmp_path / "i", "-q", ok=False)
    assert "given twice" in res.stderr and "--id-column" not in res.stderr
    for enc in ("iso2022_jp", "utf-7"):
        res = run("tokenize", tmp_path / "tc.tsv", "--encoding", enc, ok=False)
        assert res.exit_code == 2 and "stateful" in res.stderr
    name = "\u845b\U000e0100\u57ce\u5e02 \u1820\u180b\u182f\u1820"
    assert run("tokenize", "-", "-q", input=name + "\n").stdout == name + "\n"


def test_long_line_cuts_with_bad_bytes_marks_and_skipped_files(tmp_path, monkeypatch):
    """From a review: a bad byte near a long line's cut neither shifts the cut into a character
    nor inflates the count (UTF-8 and GBK); a cut with no white space or punctuation keeps marks
    with their letter; a file --skip-unreadable leaves out adds nothing to the count."""
    from io import BytesIO

    import numpy as np

    import embedcli.tokenizer as tk
    from embedcli.specs import TokenizeSpec
    from embedcli.vectorfile import read_vectors

    monkeypatch.setattr(tk, "TOKENIZE_CHUNK_BYTES", 1000)

    def toks(data: bytes, **kw) -> tuple[str, int]:
        (tmp_path / "x.txt").write_bytes(data)
        out = BytesIO()
        st = tk.tokenize([str(tmp_path / "x.txt")], out, TokenizeSpec(workers=1, errors="replace", **kw))
        return out.getvalue().decode(), st.undecodable

    text, bad = toks(("中文" * 200).encode()[:990] + b"caf\xe9" + ("中" * 400).encode() + b"\n")
    assert bad == 1 and text.count("中") + text.count("文") == 330 + 400 and "\ufffd" not in text
    text, bad = toks(b"\xff" + ("中文字" * 700).encode("gbk") + b"\n", encoding="gbk")
    assert bad == 1 and len(text.replace(" ", "").strip()) == 2100
    text, _ = toks(("हिन्दी" * 700 + "\n").encode())
    assert len(text.replace(" ", "").strip()) == 6 * 700  # no vowel sign lost at a cut
    (tmp_path / "nul.txt").write_bytes(b"caf\xe9 ok\n" * 500 + b"\x00\n")
    (tmp_path / "good.txt").write_bytes(b"fine words\n")
    st = tk.tokenize([str(tmp_path / "nul.txt"), str(tmp_path / "good.txt")], BytesIO(),
                     TokenizeSpec(workers=1, errors="replace", skip_unreadable=True))
    assert st.undecodable == 0 and len(st.skipped) == 1
    (tmp_path / "v.txt").write_text("3 2\na 1 2\nb 3 4\nc 5 6\n")
    assert read_vectors(str(tmp_path / "v.txt"), limit=np.int64(2)).words == ["a", "b"]


@settings(max_examples=300, deadline=None)
@given(st.text(st.sampled_from([chr(i) for i in range(128)] + list("éÉß_İΣ\u00a0\u2019\u0301٣")), max_size=60),
       st.booleans(), st.sampled_from([(1, ()), (2, ("the",))]))
def test_ascii_lines_are_cut_as_the_pattern_cuts_them(line, lowercase, filters):
    """The default tokenizer's shortcut for ASCII lines (a translation table) gives the regular
    expression's tokens, on every ASCII character (controls, punctuation, ``_``) and beside
    non-ASCII lines."""
    from embedcli.linetokens import make_line_tokenizer

    line = line.replace("\n", " ")
    min_length, stop = filters
    tok, lower_after = make_line_tokenizer(lowercase, min_length=min_length, stopwords=stop)
    want = re.findall(r"[^\W_]+", line)
    if lowercase:
        want = " ".join(want).lower().split() if lower_after or not line.isascii() else re.findall(
            r"[^\W_]+", line.lower())
    want = [t for t in want if len(t) >= min_length and t not in stop]
    got = tok(line)
    if lower_after:
        got = got.lower()
    assert got == " ".join(want)


@settings(max_examples=400, deadline=None)
@given(st.text(st.sampled_from(list("aZ9 _-.'\t\x1c") + list("éßİΣ\u00a0\u2019\u2028\u3000«»—€٣中\u0301\u0308\u093e\udcff")),
               max_size=60), st.sampled_from(["", "\u0301\u0308\u093e"]))
def test_lines_with_non_ascii_characters_are_cut_as_the_pattern_cuts_them(line, marks):
    """The default tokenizer's shortcut for lines with non-ASCII characters (cut at ASCII
    punctuation and white space first, the regular expression only on the pieces that are not all
    letters and digits) gives the regular expression's tokens, with or without combining marks
    kept in words, beside Unicode white space, punctuation and a lone surrogate."""
    from embedcli.linetokens import make_line_tokenizer

    line = line.replace("\n", " ")
    tok, _ = make_line_tokenizer(False, marks=marks)
    pattern = r"[^\W_]+" if not marks else "[^\\W_](?:[^\\W_]|[" + marks + "])*"
    assert tok.tokens(line) == re.findall(pattern, line)


@settings(max_examples=300, deadline=None)
@given(st.text(st.sampled_from(list("aAbB .\n'") + list("ΣσςİıIiǅǄßẞﬁΟΔé\u0301")), max_size=80),
       st.booleans(), st.sampled_from([1, 2]))
def test_block_counts_are_the_counts_of_the_output(text, lowercase, min_length):
    """A block's token counts (the vocabulary's, counted as tokens are found and folded to lower
    case afterwards) are the counts of the tokens it writes, whatever the case rules: Greek final
    sigma, Turkish dotted I, titlecase digraphs, ß."""
    from collections import Counter

    from embedcli.tokenizer import _tokenize_block

    options = (lowercase, DEFAULT_TOKEN_PATTERN, min_length, frozenset(), "nfc")
    toks, _, counts, _, _ = _tokenize_block(text.encode("utf-8"), "t.txt", 1, "utf-8", "strict", options, False, True)
    assert counts == Counter(" ".join(toks).split())


@settings(max_examples=200, deadline=None)
@given(st.text(st.sampled_from(list("ab \n") + ["\u0301", "\u0308", "\u20dd", "\ufe0f", "\udcff", "\u1161", "é", "\U000e0100",
                                                  "\u0e31", "\U0001f600"]), max_size=40))
def test_marks_are_found_from_the_utf8_bytes(text):
    """prepare_text's combining marks (from the text's UTF-8 bytes without the ASCII ones) are the
    marks among its characters, with lone surrogates (undecodable bytes kept) among them."""
    from embedcli.linetokens import _joins_letter, prepare_text

    got, marks = prepare_text(text, "none")
    assert got == text
    assert marks == "".join(sorted(c for c in set(text) if c > "\x7f" and _joins_letter(c)))
