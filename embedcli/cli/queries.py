"""Query commands: neighbors, analogy, similarity, doesnt-match, evaluate, info.

They parse queries, call :class:`embedcli.vectors.Vectors` (which batches
them) and print; every stdin batch is answered one matrix product per block.
"""

from __future__ import annotations

import json
from collections import deque

import click

from embedcli.cli import cli
from embedcli.cli.options import OneLineUsageError, build_spec, command, quiet_option, spec_options, warn
from embedcli.cli.output import (Reporter, dumps, read_queries, scored_status, skip_unknown_option, table as _table,
                                 verbatim_option)
from embedcli.cli.spaces import bli_report, cross_neighbors, target_options
from embedcli.markers import FLUSH
from embedcli.specs import (DISPLAY_FORMATS, REPORT_FORMATS, AnalogySpec, CrossSpec, EvaluateSpec, NeighborsSpec,
                            SearchSpec)

format_option = click.option("--format", "fmt", type=click.Choice(DISPLAY_FORMATS), default=DISPLAY_FORMATS[0],
                             show_default=True, help="tsv rows, or one JSON object per query (JSON lines).")


def _load(path: str):
    from embedcli.vectors import Vectors

    return Vectors.load(path)


@command(cli)
@click.argument("vectors_path", metavar="VECTORS")
@click.argument("queries", nargs=-1, metavar="QUERY...|-")
@spec_options(NeighborsSpec)
@spec_options(SearchSpec)
@click.option("--text", "texts", multiple=True, metavar="TEXT",
              help="Document vectors: embed this raw text as their documents were (tokenized with the model's "
                   "settings; --verbatim does not apply) and show its nearest documents (repeatable; instead "
                   "of QUERY).")
@click.option("--model", "model_path", default=None, metavar="VECTORS",
              help="With --text: the word vectors (docvec) or LSA model (svd/foldin) to embed with "
                   "[the one recorded in VECTORS].")
@target_options("neighbors")
@format_option
@skip_unknown_option
@verbatim_option
@quiet_option
def neighbors(vectors_path, queries, texts, model_path, target_path, fmt, skip_unknown, verbatim, quiet, **kw):
    """Cosine nearest neighbours of each QUERY (gensim's most_similar).

    A QUERY is one word, or several words separated by spaces whose unit
    vectors are averaged; a word written -word is subtracted ('king woman
    -man'; a key that starts with '-' is written '\\-key'; a query starting
    with '-' goes after '--'). With '-' queries are read from stdin, one per
    line (blank and '#' lines skipped); VECTORS '-' reads the vectors from
    stdin. The query's own words are never answers. TSV: query, neighbour,
    cosine (--csls: the CSLS value); JSON lines: one object per query. Every
    query gives one record; exit 4 when none is answered. Memory: native .npz
    memory-mapped; text/binary read whole (about 2.5x the file); scores in
    64 MB blocks.

    \b
    Example:
      embedcli neighbors vectors.npz liberty -k 5
      embedcli neighbors vectors.npz 'king woman -man'
      printf 'war\\npeace\\n' | embedcli neighbors vectors.npz - --format json
      embedcli neighbors docs.npz --text "a gripping thriller with a weak ending" -k 3
      embedcli neighbors fr-in-en.npz chat --target en.npz --csls 10
    """
    from embedcli.vectors import Query

    spec, cross = build_spec(NeighborsSpec, kw), build_spec(CrossSpec, kw)
    search = build_spec(SearchSpec, kw)
    if target_path and queries:
        return cross_neighbors(_load(vectors_path), target_path, queries, spec.topn, cross.csls, search.limit or 0,
                               fmt, quiet, skip_unknown, verbatim, vectors_path)
    if cross.csls:
        raise OneLineUsageError("--csls applies to --target queries (across two aligned spaces)")
    if bool(queries) == bool(texts):
        raise OneLineUsageError("give QUERY... (or -) or --text TEXT, not both" if queries else
                                "give QUERY... (or -) or --text TEXT")
    v = _load(vectors_path)
    restrict_source = click.get_current_context().get_parameter_source("restrict")
    keyed = v.meta.get("kind") in ("documents", "nodes")  # no frequency order: --restrict is about words
    if keyed and restrict_source is not None and restrict_source.name == "DEFAULT":
        search = search.replace(restrict=0)
    if texts:
        from embedcli.cli.documents import text_neighbors

        return text_neighbors(v, list(texts), model_path, spec.topn, fmt, quiet)
    rep = Reporter(v, fmt, quiet, skip_unknown, verbatim)
    pending: deque = deque()

    def parsed():
        for lineno, text in read_queries(queries, flush=True):
            if text is FLUSH:
                yield FLUSH
                continue
            words = text.split()
            pending.append((lineno, " ".join(words)))
            yield Query.from_words([rep.key(w) for w in words])

    for ans in v.most_similar_batch(parsed(), spec.topn, search.limit):
        lineno, label = pending.popleft()
        rep.note(lineno, ans.unknown, ans.oov)
        rec = {"query": label, "neighbors": [{"word": w, "similarity": round(sc, 6)} for w, sc in ans.answers]}
        if ans.unknown:
            rec["unknown"] = ans.unknown
        if ans.error:
            rec["error"] = ans.error
            if not quiet:
                warn(f"{'line ' + str(lineno) + ': ' if lineno else ''}{label}: {ans.error}")
        if ans.oov:
            rec["oov"] = ans.oov
        rows = [[label, w, f"{sc:.6f}"] for w, sc in ans.answers] or [[label, "", ""]]
        rep.emit(rec, rows, bool(ans.answers))
    return rep.status()


@command(cli)
@click.argument("vectors_path", metavar="VECTORS")
@click.argument("words", nargs=-1, required=True, metavar="A B C|-")
@spec_options(AnalogySpec)
@spec_options(SearchSpec)
@format_option
@skip_unknown_option
@verbatim_option
@quiet_option
def analogy(vectors_path, words, fmt, skip_unknown, verbatim, quiet, **kw):
    """Solve A is to B as C is to ?  (answers exclude A, B and C).

    With '-' read 'A B C' per line from stdin, words separated by white space
    (a fourth word, the expected answer, adds a 'correct' field to JSON output). TSV output:
    A, B, C, answer, score. Every line gives one record (a malformed one gets
    an 'error' and makes the exit code 3; exit code 4 when no question could be
    answered). Lines starting with ':' are section headers (the word2vec
    questions-words.txt format) and are skipped. 3CosAdd is most_similar(positive=[B, C], negative=[A]).
    Memory: as neighbors (scores computed 64 MB at a time).

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
    rep = Reporter(v, fmt, quiet, skip_unknown, verbatim)
    queries = read_queries(words, flush=True) if stdin else iter([(None, " ".join(words))])
    pending: deque = deque()

    def triples():
        for lineno, q in queries:
            if q is FLUSH:
                yield FLUSH
                continue
            if stdin and q.lstrip().startswith(":"):  # questions-words.txt's section headers
                continue
            typed = q.split()
            parts = [rep.key(w) for w in typed]
            if len(parts) not in (3, 4):
                # answered in order: flush what is pending first
                pending.append((lineno, typed, f"expected 'A B C' (or 'A B C D'), got {len(parts)} word(s)", q, parts))
                yield None
                continue
            pending.append((lineno, typed, None, q, parts))
            yield tuple(parts[:3])

    for ans in v.analogy_batch(triples(), spec.topn, spec.method, search.limit):
        lineno, parts, error, text, keys = pending.popleft()
        if error:
            rep.malformed(lineno, text, error, {"query": parts}, 5)
            continue
        rep.note(lineno, ans.unknown, ans.oov, keys[:3])
        rec = {"query": parts[:3], "method": spec.method,
               "answers": [{"word": w, "score": round(sc, 6)} for w, sc in ans.answers]}
        if ans.unknown:
            rec["unknown"] = ans.unknown
        if ans.error:
            rec["error"] = ans.error
        if ans.oov:
            rec["oov"] = ans.oov
        if len(parts) == 4:
            rec["expected"] = parts[3]
            rec["correct"] = bool(ans.answers) and ans.answers[0][0] == keys[3]
        rows = [[*parts[:3], w, f"{sc:.6f}"] for w, sc in ans.answers] or [[*parts[:3], "", ""]]
        rep.emit(rec, rows, bool(ans.answers))
    return rep.status()


@command(cli)
@click.argument("vectors_path", metavar="VECTORS")
@click.argument("words", nargs=-1, required=True, metavar="W1 W2|-")
@format_option
@skip_unknown_option
@verbatim_option
@quiet_option
def similarity(vectors_path, words, fmt, skip_unknown, verbatim, quiet):
    """Cosine similarity of W1 and W2, or of each 'W1 W2' line on stdin ('-').

    A stdin line is two words separated by white space, or two word sets
    separated by a tab (then, as for quoted multi-word arguments, the cosine
    of their mean vectors: gensim's n_similarity). TSV output: W1, W2,
    cosine (empty when a word is unknown). Every line gives one record; a
    malformed line makes the exit code 3, no answer at all 4. Memory: the
    vectors (memory-mapped for native files); one line at a time.

    \b
    Example:
      embedcli similarity vectors.npz king queen
      embedcli similarity vectors.npz 'king queen' 'man woman'
    """
    stdin = len(words) == 1 and words[0] == "-"
    if not stdin and len(words) != 2:
        raise OneLineUsageError(f"similarity needs two words W1 W2 (or '-' for stdin), got {len(words)}")
    v = _load(vectors_path)
    rep = Reporter(v, fmt, quiet, skip_unknown, verbatim)
    queries = read_queries(words) if stdin else iter([(None, "\t".join(words))])
    for lineno, q in queries:
        sets = [rep.words(p) for p in q.split("\t")] if "\t" in q else [[w] for w in rep.words(q)]
        if len(sets) != 2 or not all(sets):
            rep.malformed(lineno, q, f"expected 'W1 W2' (or two tab-separated word sets), got {q!r} (pairs with "
                          "scores, a benchmark: embedcli evaluate VECTORS --similarity FILE)", {"line": q}, 3)
            continue
        w1, w2 = (" ".join(p.split()) for p in q.split("\t")) if "\t" in q else q.split()  # as typed
        unknown = [w for w in sets[0] + sets[1] if w not in v and v.oov is None]
        oov = [w for w in sets[0] + sets[1] if v.is_oov(w)]
        rep.note(lineno, unknown, oov, sets[0] + sets[1])
        rec: dict = {"w1": w1, "w2": w2, "similarity": None}
        if unknown:
            rec["unknown"] = unknown
            rep.emit(rec, [[w1, w2, ""]], False)
            continue
        sim = v.similarity(*sets[0], *sets[1]) if len(sets[0]) == len(sets[1]) == 1 else v.n_similarity(*sets)
        rec["similarity"] = round(sim, 6)
        if oov:
            rec["oov"] = oov
        rep.emit(rec, [[w1, w2, f"{sim:.6f}"]], True)
    return rep.status()


@command(cli, "doesnt-match")
@click.argument("vectors_path", metavar="VECTORS")
@click.argument("words", nargs=-1, required=True, metavar="WORD...|-")
@format_option
@skip_unknown_option
@verbatim_option
@quiet_option
def doesnt_match(vectors_path, words, fmt, skip_unknown, verbatim, quiet):
    """Which of the WORDs does not belong with the others (gensim's doesnt_match).

    The answer is the word furthest from the mean of the words' unit vectors.
    With '-' each stdin line is one set of words. TSV output: the words, the
    odd one (empty when a word is unknown). Memory: the vectors (memory-mapped
    for native files); one line at a time.

    \b
    Example:
      embedcli doesnt-match vectors.npz breakfast cereal dinner lunch
    """
    stdin = len(words) == 1 and words[0] == "-"
    if not stdin and len(words) < 2:
        raise OneLineUsageError(f"doesnt-match needs at least two words (or '-' for stdin), got {len(words)}")
    v = _load(vectors_path)
    rep = Reporter(v, fmt, quiet, skip_unknown, verbatim)
    queries = read_queries(words) if stdin else iter([(None, " ".join(words))])
    for lineno, q in queries:
        ws = rep.words(q)
        if len(ws) < 2:
            rep.malformed(lineno, q, "needs at least two words", {"words": ws}, 2)
            continue
        unknown = [w for w in ws if w not in v and v.oov is None]
        rep.note(lineno, unknown, [w for w in ws if v.is_oov(w)], ws)
        if unknown:
            rep.emit({"words": q.split(), "doesnt_match": None, "unknown": unknown}, [[" ".join(q.split()), ""]], False)
            continue
        typed = q.split()  # echoed as typed; the answer too
        odd = typed[ws.index(v.doesnt_match(ws))]
        rep.emit({"words": typed, "doesnt_match": odd}, [[" ".join(typed), odd]], True)
    return rep.status()


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
@target_options("evaluate")
@click.option("--format", "fmt", type=click.Choice(REPORT_FORMATS), default=REPORT_FORMATS[0], show_default=True,
              help="A readable table, or one JSON object for the whole run.")
@click.option("--sections/--no-sections", default=True, show_default=True, help="Table: per-section analogy rows.")
@quiet_option
def evaluate(vectors_path, sim_files, ana_files, bundled, target_path, dictionary, fmt, sections, quiet, **kw):
    """Score vectors on word-similarity (Spearman's rho, Pearson's r) and analogy benchmarks.

    Similarity: pairs whose words are among the 300,000 most frequent (gensim's
    default; --restrict is for analogies), others left out (coverage shown;
    hyperwords' ws_eval scores them 0). Analogies: accuracy over questions whose
    four words are among the --restrict most frequent, question words excluded
    from answers, and over all questions (uncovered ones wrong). gensim's
    evaluate_word_pairs / evaluate_word_analogies conventions (case-insensitive).
    Undefined scores: '-' in the table, null in JSON. Memory: the vectors plus
    64 MB score blocks.

    \b
    Example:
      embedcli evaluate vectors.npz
      embedcli evaluate vectors.npz --similarity my-pairs.tsv --no-bundled --format json
      embedcli evaluate fr-in-en.npz --target en.npz --dictionary fr-en.test.tsv
    """
    import os

    from embedcli.evaluate import BUNDLED_ANALOGY, BUNDLED_SIMILARITY, bundled_path, check_files, evaluate as run

    spec, search, cross = build_spec(EvaluateSpec, kw), build_spec(SearchSpec, kw), build_spec(CrossSpec, kw)
    if target_path or dictionary:
        given = click.get_current_context().get_parameter_source("restrict").name == "COMMANDLINE"
        return bli_report(vectors_path, target_path, dictionary, cross.csls, search.restrict if given else 0, fmt)
    sims = [(n, bundled_path(f)) for n, f in BUNDLED_SIMILARITY.items()] if bundled else []
    anas = [(n, bundled_path(f)) for n, f in BUNDLED_ANALOGY.items()] if bundled else []
    check_files(sim_files + ana_files)
    sims += [(os.path.basename(p), p) for p in sim_files]
    anas += [(os.path.basename(p), p) for p in ana_files]
    if not sims and not anas:
        raise OneLineUsageError("nothing to evaluate: give --similarity/--analogy files or drop --no-bundled")
    v = _load(vectors_path)
    res = run(v, sims, anas, spec.methods, search.limit)
    res["vectors"] = vectors_path
    click.echo(dumps(res)) if fmt == "json" else _print_table(res, search.restrict, sections)
    return scored_status(res, vectors_path, quiet)


def _num(x, fmt: str = ".4f") -> str:
    """A score for the table: '-' where it is undefined (no covered pair or question)."""
    return "-" if x is None or (isinstance(x, float) and x != x) else format(x, fmt)


def _print_table(res: dict, restrict: int, sections: bool) -> None:
    click.echo(f"{res['vectors']}: {res['n_words']:,} words x {res['dim']}")
    if res["similarity"]:
        rows = [[s["name"], _num(s["spearman"]), _num(s["pearson"]),
                 f"{s['pairs_used']}/{s['pairs_total']} ({100 * s['coverage']:.0f}%)"] for s in res["similarity"]]
        click.echo("")
        for line in _table(["similarity", "spearman", "pearson", "pairs used"], rows):
            click.echo(line)
    if res["analogy"]:
        rows = []
        for a in res["analogy"]:
            cov = a["questions_used"] / a["questions_total"] if a["questions_total"] else 0
            rows.append([a["name"], a["method"], _num(a["accuracy"]), _num(a["semantic"]["accuracy"]),
                         _num(a["syntactic"]["accuracy"]),
                         f"{a['questions_used']}/{a['questions_total']} ({100 * cov:.0f}%)", _num(a["accuracy_all"])])
            if sections:
                rows += [["  " + s["section"], "", _num(s["accuracy"]), "", "", f"{s['used']}/{s['total']}", ""]
                         for s in a["sections"]]
        click.echo("")
        head = [f"analogy (restrict {restrict or 'none'})", "method", "accuracy", "semantic", "syntactic",
                "questions used", "acc. all"]
        for line in _table(head, rows, left=2):
            click.echo(line)


@command(cli)
@click.argument("path", metavar="FILE")
@click.option("--full", is_flag=True, help="Print matrices in full (an alignment's maps: dim x dim numbers); "
              "by default a matrix of over 100 numbers is shown by its shape.")
@quiet_option
def info(path, full, quiet):
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
    from embedcli.cli.output import compact_numbers
    from embedcli.vectorfile import describe

    out = describe(path) if full else compact_numbers(describe(path))
    if (out.get("sidecar") or {}).get("status") == "stale" and not quiet:
        warn(f"{path}: stale metadata: the file changed after {out['sidecar']['path']} was written; "
             "its provenance does not describe it")
    click.echo(json.dumps(out, indent=2, ensure_ascii=False))
