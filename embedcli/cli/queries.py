"""Query commands: neighbors, analogy, similarity, doesnt-match, evaluate, info.

They parse queries, call :class:`embedcli.vectors.Vectors` (which batches
them) and print; every stdin batch is answered one matrix product per block.
"""

from __future__ import annotations

import json
import sys

import click

from embedcli.cli import EXIT_DATA, cli
from embedcli.cli.options import OneLineUsageError, build_spec, command, quiet_option, spec_options, warn
from embedcli.specs import DISPLAY_FORMATS, REPORT_FORMATS, AnalogySpec, EvaluateSpec, NeighborsSpec, SearchSpec

format_option = click.option("--format", "fmt", type=click.Choice(DISPLAY_FORMATS), default=DISPLAY_FORMATS[0],
                             show_default=True, help="tsv rows, or one JSON object per query (JSON lines).")


def read_queries(args: tuple[str, ...]):
    """``(line_number or None, text)``: the arguments, or one query per stdin line when the only argument is '-'.

    Blank lines and lines starting with '#' are skipped.
    """
    if len(args) == 1 and args[0] == "-":
        for lineno, line in enumerate(sys.stdin, 1):
            line = line.strip()
            if line and not line.startswith("#"):
                yield lineno, line
    else:
        for a in args:
            yield None, a


def _where(lineno) -> str:
    return f"line {lineno}: " if lineno else ""


def _report(ans, lineno, quiet: bool) -> bool:
    """Notes on stderr for unknown and n-gram-built words; False when the query was not answered."""
    if ans.unknown:
        if not quiet:
            warn(f"{_where(lineno)}not in vocabulary: {' '.join(ans.unknown)}")
        return False
    if ans.oov and not quiet:
        warn(f"{_where(lineno)}not in vocabulary, vector built from character n-grams: {' '.join(ans.oov)}")
    return True


def _emit(fmt: str, record: dict, tsv_rows: list[list]) -> None:
    if fmt == "json":
        click.echo(json.dumps(record, ensure_ascii=False))
    else:
        click.echo("".join("\t".join(str(x) for x in row) + "\n" for row in tsv_rows), nl=False)


def _load(path: str):
    from embedcli.vectors import Vectors

    return Vectors.load(path)


@command(cli)
@click.argument("vectors_path", metavar="VECTORS")
@click.argument("queries", nargs=-1, required=True, metavar="QUERY...|-")
@spec_options(NeighborsSpec)
@spec_options(SearchSpec)
@format_option
@quiet_option
def neighbors(vectors_path, queries, fmt, quiet, **kw):
    """Cosine nearest neighbours of each QUERY (gensim's most_similar).

    A QUERY is one word, or several words separated by spaces whose unit
    vectors are averaged; a word written -word is subtracted ('king woman
    -man'). With '-' queries are read from stdin, one per line. The query's
    own words are never answers. TSV output: query, neighbour, cosine. Unknown
    words are reported on stderr and the batch goes on.

    \b
    Example:
      embedcli neighbors vectors.npz liberty -k 5
      embedcli neighbors vectors.npz 'king woman -man'
      printf 'war\\npeace\\n' | embedcli neighbors vectors.npz - --format json
    """
    from embedcli.vectors import Query

    spec = build_spec(NeighborsSpec, kw)
    search = build_spec(SearchSpec, kw)
    v = _load(vectors_path)
    pending: list = []

    def parsed():
        for lineno, text in read_queries(queries):
            pending.append((lineno, text))
            yield Query.parse(text)

    for ans in v.most_similar_batch(parsed(), spec.topn, search.limit):
        lineno, text = pending.pop(0)
        if not _report(ans, lineno, quiet):
            continue
        rec = {"query": text, "neighbors": [{"word": w, "similarity": round(sc, 6)} for w, sc in ans.answers]}
        if ans.oov:
            rec["oov"] = ans.oov
        _emit(fmt, rec, [[text, w, f"{sc:.6f}"] for w, sc in ans.answers])


@command(cli)
@click.argument("vectors_path", metavar="VECTORS")
@click.argument("words", nargs=-1, required=True, metavar="A B C|-")
@spec_options(AnalogySpec)
@spec_options(SearchSpec)
@format_option
@quiet_option
def analogy(vectors_path, words, fmt, quiet, **kw):
    """Solve A is to B as C is to ?  (answers exclude A, B and C).

    With '-' read 'A B C' per line from stdin (a fourth word, the expected
    answer, adds a 'correct' field). TSV output: A, B, C, answer, score.
    3CosAdd is most_similar(positive=[B, C], negative=[A]).

    \b
    Example:
      embedcli analogy vectors.npz man king woman
      embedcli analogy vectors.npz - --method 3cosmul < questions.txt
    """
    spec = build_spec(AnalogySpec, kw)
    search = build_spec(SearchSpec, kw)
    stdin = len(words) == 1 and words[0] == "-"
    if not stdin and len(words) != 3:
        raise OneLineUsageError(f"analogy needs three words A B C (or '-' for stdin), got {len(words)}")
    v = _load(vectors_path)
    queries = read_queries(words) if stdin else iter([(None, " ".join(words))])
    bad = 0
    pending: list = []

    def triples():
        nonlocal bad
        for lineno, q in queries:
            parts = q.split()
            if len(parts) not in (3, 4):
                if not quiet:
                    warn(f"line {lineno}: expected 'A B C' (or 'A B C D'), got {len(parts)} word(s)")
                bad += 1
                continue
            pending.append((lineno, parts))
            yield tuple(parts[:3])

    for ans in v.analogy_batch(triples(), spec.topn, spec.method, search.limit):
        lineno, parts = pending.pop(0)
        if not _report(ans, lineno, quiet):
            continue
        rec = {"query": parts[:3], "method": spec.method,
               "answers": [{"word": w, "score": round(sc, 6)} for w, sc in ans.answers]}
        if ans.oov:
            rec["oov"] = ans.oov
        if len(parts) == 4:
            rec["expected"] = parts[3]
            rec["correct"] = bool(ans.answers) and ans.answers[0][0] == parts[3]
        _emit(fmt, rec, [[*parts[:3], w, f"{sc:.6f}"] for w, sc in ans.answers])
    if bad:
        return EXIT_DATA


@command(cli)
@click.argument("vectors_path", metavar="VECTORS")
@click.argument("words", nargs=-1, required=True, metavar="W1 W2|-")
@format_option
@quiet_option
def similarity(vectors_path, words, fmt, quiet):
    """Cosine similarity of W1 and W2, or of each 'W1 W2' line on stdin ('-').

    W1 and W2 may be word sets (quoted, words separated by spaces; on stdin
    the two sets separated by a tab): then the cosine of their mean vectors
    (gensim's n_similarity). TSV output: W1, W2, cosine. Unknown words are
    reported on stderr and the batch goes on; a malformed line is reported
    and makes the exit code 3.

    \b
    Example:
      embedcli similarity vectors.npz king queen
      embedcli similarity vectors.npz 'king queen' 'man woman'
    """
    stdin = len(words) == 1 and words[0] == "-"
    if not stdin and len(words) != 2:
        raise OneLineUsageError(f"similarity needs two words W1 W2 (or '-' for stdin), got {len(words)}")
    v = _load(vectors_path)
    queries = read_queries(words) if stdin else iter([(None, "\t".join(words))])
    bad = 0
    for lineno, q in queries:
        sets = [p.split() for p in q.split("\t")] if "\t" in q else [[w] for w in q.split()]
        if len(sets) != 2 or not all(sets):
            if not quiet:
                warn(f"line {lineno}: expected 'W1 W2' (or two tab-separated word sets), got {q!r}")
            bad += 1
            continue
        unknown = [w for w in sets[0] + sets[1] if w not in v and v.oov is None]
        if unknown:
            if not quiet:
                warn(f"{_where(lineno)}not in vocabulary: {' '.join(unknown)}")
            continue
        oov = [w for w in sets[0] + sets[1] if v.is_oov(w)]
        if oov and not quiet:
            warn(f"{_where(lineno)}not in vocabulary, vector built from character n-grams: {' '.join(oov)}")
        if len(sets[0]) == 1 and len(sets[1]) == 1:
            sim = v.similarity(sets[0][0], sets[1][0])
        else:
            sim = v.n_similarity(sets[0], sets[1])
        w1, w2 = " ".join(sets[0]), " ".join(sets[1])
        rec = {"w1": w1, "w2": w2, "similarity": round(sim, 6)}
        if oov:
            rec["oov"] = oov
        _emit(fmt, rec, [[w1, w2, f"{sim:.6f}"]])
    if bad:
        return EXIT_DATA


@command(cli, "doesnt-match")
@click.argument("vectors_path", metavar="VECTORS")
@click.argument("words", nargs=-1, required=True, metavar="WORD...|-")
@format_option
@quiet_option
def doesnt_match(vectors_path, words, fmt, quiet):
    """Which of the WORDs does not belong with the others (gensim's doesnt_match).

    The answer is the word furthest from the mean of the words' unit vectors.
    With '-' each stdin line is one set of words. TSV output: the words, the odd one.

    \b
    Example:
      embedcli doesnt-match vectors.npz breakfast cereal dinner lunch
    """
    stdin = len(words) == 1 and words[0] == "-"
    v = _load(vectors_path)
    queries = read_queries(words) if stdin else iter([(None, " ".join(words))])
    bad = 0
    for lineno, q in queries:
        ws = q.split()
        unknown = [w for w in ws if w not in v and v.oov is None]
        if len(ws) < 2 or unknown:
            if not quiet:
                warn(f"{_where(lineno)}" + (f"not in vocabulary: {' '.join(unknown)}" if unknown
                                            else "needs at least two words"))
            bad += len(ws) < 2
            continue
        odd = v.doesnt_match(ws)
        _emit(fmt, {"words": ws, "doesnt_match": odd}, [[" ".join(ws), odd]])
    if bad:
        return EXIT_DATA


@command(cli)
@click.argument("vectors_path", metavar="VECTORS")
@click.option("--similarity", "sim_files", multiple=True, metavar="FILE",
              help="Add a word-similarity file ('w1<TAB>w2<TAB>score', # comments). Repeatable.")
@click.option("--analogy", "ana_files", multiple=True, metavar="FILE",
              help="Add an analogy file (': section' headers, 'a b c d' lines). Repeatable.")
@click.option("--bundled/--no-bundled", default=True, show_default=True,
              help="Include the bundled WordSim-353, SimLex-999 and Google analogy sets.")
@spec_options(EvaluateSpec)
@spec_options(SearchSpec)
@click.option("--format", "fmt", type=click.Choice(REPORT_FORMATS), default=REPORT_FORMATS[0], show_default=True,
              help="A readable table, or one JSON object for the whole run.")
@click.option("--sections/--no-sections", default=True, show_default=True, help="Table: per-section analogy rows.")
@quiet_option
def evaluate(vectors_path, sim_files, ana_files, bundled, fmt, sections, quiet, **kw):
    """Score vectors on word-similarity (Spearman's rho, Pearson's r) and analogy benchmarks.

    Similarity uses pairs whose words are in the vocabulary (coverage shown).
    Analogy accuracy is over questions whose four words are among the
    --restrict most frequent words, with the question words excluded from
    answers; accuracy over all questions (uncovered ones counted wrong) is
    shown too. Scores follow gensim's evaluate_word_pairs /
    evaluate_word_analogies conventions (case-insensitive).

    \b
    Example:
      embedcli evaluate vectors.npz
      embedcli evaluate vectors.npz --similarity my-pairs.tsv --no-bundled --format json
    """
    import os

    from embedcli.evaluate import BUNDLED_ANALOGY, BUNDLED_SIMILARITY, bundled_path, evaluate as run

    spec = build_spec(EvaluateSpec, kw)
    search = build_spec(SearchSpec, kw)
    sims = [(n, bundled_path(f)) for n, f in BUNDLED_SIMILARITY.items()] if bundled else []
    anas = [(n, bundled_path(f)) for n, f in BUNDLED_ANALOGY.items()] if bundled else []
    for p in sim_files + ana_files:
        if not os.path.isfile(p):
            raise OneLineUsageError(f"{p}: no such file")
    sims += [(os.path.basename(p), p) for p in sim_files]
    anas += [(os.path.basename(p), p) for p in ana_files]
    if not sims and not anas:
        raise OneLineUsageError("nothing to evaluate: give --similarity/--analogy files or drop --no-bundled")
    v = _load(vectors_path)
    res = run(v, sims, anas, spec.methods, search.limit)
    res["vectors"] = vectors_path
    if fmt == "json":
        click.echo(json.dumps(res, ensure_ascii=False, default=float))
        return
    _print_table(res, search.restrict, sections)


def _print_table(res: dict, restrict: int, sections: bool) -> None:
    click.echo(f"{res['vectors']}: {res['n_words']:,} words x {res['dim']}")
    if res["similarity"]:
        click.echo(f"\n{'similarity':<22} {'spearman':>9} {'pearson':>9} {'pairs used':>16}")
        for s in res["similarity"]:
            click.echo(f"{s['name']:<22} {s['spearman']:>9.4f} {s['pearson']:>9.4f} "
                       f"{s['pairs_used']:>7}/{s['pairs_total']:<4} ({100 * s['coverage']:.0f}%)")
    if res["analogy"]:
        click.echo(f"\n{'analogy (restrict ' + str(restrict or 'none') + ')':<22} {'method':<8} {'accuracy':>9} "
                   f"{'semantic':>9} {'syntactic':>9} {'questions used':>20} {'acc. all':>9}")
        for a in res["analogy"]:
            cov = a["questions_used"] / a["questions_total"] if a["questions_total"] else 0
            click.echo(f"{a['name']:<22} {a['method']:<8} {a['accuracy']:>9.4f} {a['semantic']['accuracy']:>9.4f} "
                       f"{a['syntactic']['accuracy']:>9.4f} {a['questions_used']:>9}/{a['questions_total']:<5} "
                       f"({100 * cov:.0f}%) {a['accuracy_all']:>9.4f}")
            if sections:
                for s in a["sections"]:
                    click.echo(f"  {s['section']:<20} {'':<8} {s['accuracy']:>9.4f} {'':>9} {'':>9} "
                               f"{s['used']:>9}/{s['total']:<5}")


@command(cli)
@click.argument("path", metavar="FILE")
@quiet_option
def info(path, quiet):
    """Show what a file is and what made it (JSON): the whole provenance chain.

    Matrix and native vector files carry this inside; tokens, vocabulary,
    word2vec/GloVe vector files and fastText models written by embedcli have it
    in FILE.meta.json, which also records the file's size and SHA-256: when the
    file has changed since, the sidecar is reported stale (and a note goes to
    stderr).

    \b
    Example:
      embedcli info vectors.npz
      embedcli info tokens.txt | python -m json.tool
    """
    from embedcli.vectorfile import describe

    out = describe(path)
    if (out.get("sidecar") or {}).get("status") == "stale" and not quiet:
        warn(f"{path}: stale metadata: the file changed after {out['sidecar']['path']} was written; "
             "its provenance does not describe it")
    click.echo(json.dumps(out, indent=2, ensure_ascii=False))
