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


def test_vocab_counts_on_workers_are_the_same_bytes(tmp_path, small_tokens, monkeypatch):
    """--workers: byte ranges of a plain file, blocks of a compressed one or of stdin, each counted
    in a worker process; the vocabulary (and the Counter's order) is the same as in one process.
    Blocks and ranges are made small here so that a small file has several."""
    import gzip

    import embedcli.fileio as fileio
    import embedcli.vocab as vocab

    monkeypatch.setattr(fileio, "CHUNK_BYTES", 20_000)
    monkeypatch.setattr(vocab, "SEGMENT_BYTES", 50_000)
    gz = tmp_path / "t.txt.gz"
    gz.write_bytes(gzip.compress(small_tokens.read_bytes()))
    want = run("vocab", small_tokens, "--workers", "1", "-q").stdout
    assert want.count("\n") > 1000
    for src in (small_tokens, gz):
        assert run("vocab", src, "--workers", "2", "-q").stdout == want
    assert run("vocab", "-", "--workers", "2", "-q", input=small_tokens.read_bytes()).stdout == want
    seen = []
    real = vocab._count_segment
    monkeypatch.setattr(vocab, "_count_segment", lambda *a: seen.append(a[1]) or real(*a))
    one = vocab.count_tokens(str(small_tokens), workers=1)
    import embedcli.parallel

    monkeypatch.setattr(embedcli.parallel, "ProcessBlocks", _InProcess)  # the ranges counted here, to see them
    two = vocab.count_tokens(str(small_tokens), workers=2)
    assert two == one and list(two) == list(one) and len(seen) > 3


class _InProcess:
    def __init__(self, fn, workers, eager=False):
        self.fn, self.in_flight = fn, workers + 1

    def submit(self, *args):
        from concurrent.futures import Future

        f = Future()
        f.set_result(self.fn(*args))
        return f

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_vocab_on_workers_names_the_line_of_the_whole_file(tmp_path, monkeypatch):
    """Bytes that are not UTF-8 in a later byte range: the error names the file's own line."""
    import embedcli.fileio as fileio
    import embedcli.vocab as vocab

    monkeypatch.setattr(fileio, "CHUNK_BYTES", 2_000)
    monkeypatch.setattr(vocab, "SEGMENT_BYTES", 3_000)
    lines = [f"word{i} other{i % 7} text" for i in range(2_000)]
    data = ("\n".join(lines[:1500]) + "\nbad \xff\xfe\n" + "\n".join(lines[1500:]) + "\n").encode("latin-1")
    (tmp_path / "t.txt").write_bytes(data)
    for w in ("1", "2"):
        res = run("vocab", tmp_path / "t.txt", "--workers", w, ok=False)
        assert res.exit_code == 3 and f"{tmp_path / 't.txt'}:1501: cannot decode byte 0xff" in res.stderr, res.stderr


def test_a_terminal_progress_line_ends_on_the_last_update(capsys):
    """On a terminal the line is redrawn at most every 0.2 s; the update that came too soon after
    the one before (with --workers, the last two ranges often end together) is drawn when the line
    closes, so the line ends at 100%, not at 75%."""
    from embedcli.fileio import Progress

    p = Progress("vocab", "bytes")
    p.tty, p.last = True, float("-inf")  # as on a terminal; the first update is drawn
    p.update(75, 100)
    p.update(100, 100)  # at once after it: held
    shown = capsys.readouterr().err
    assert "75%" in shown and "100%" not in shown
    p.close()
    err = capsys.readouterr().err
    assert "100%" in err and err.endswith("\n")
