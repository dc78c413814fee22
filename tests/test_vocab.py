from conftest import run


def test_vocab_order_ties_and_filters(tmp_path):
    t = tmp_path / "t.txt"
    t.write_text("b a c a b d\ne a b\n")
    assert run("vocab", t, "-q").stdout == "a\t3\nb\t3\nc\t1\nd\t1\ne\t1\n"
    assert run("vocab", t, "-q", "--min-count", "2").stdout == "a\t3\nb\t3\n"
    assert run("vocab", t, "-q", "--max-size", "3").stdout == "a\t3\nb\t3\nc\t1\n"
    run("vocab", t, "-o", tmp_path / "v.tsv")
    assert (tmp_path / "v.tsv").read_text().startswith("a\t3\n")


def test_vocab_on_real_text(small_tokens):
    lines = run("vocab", small_tokens, "-q", "--min-count", "2").stdout.splitlines()
    counts = [int(line.split("\t")[1]) for line in lines]
    assert lines[0] == "the\t" + str(small_tokens.read_text().split().count("the"))
    assert counts == sorted(counts, reverse=True) and min(counts) == 2


def test_bad_vocab_file(small_tokens, tmp_path):
    bad = tmp_path / "bad.tsv"
    bad.write_text("the\t10\nof 5\n")
    res = run("cooccur", small_tokens, "--vocab", bad, "-o", tmp_path / "m.npz", ok=False)
    assert res.exit_code == 3 and f"{bad}:2:" in res.stderr
