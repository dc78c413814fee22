"""Stage specs are the one place for defaults, choices and validation; the CLI takes its options from them."""

import dataclasses
import re
import subprocess
import sys

import click
import numpy as np
import pytest
import scipy.sparse as sp
from conftest import ROOT, run

from embedcli.cli import cli, message
from embedcli.cli.options import SpecChoice, option_name
from embedcli.errors import ParameterError
from embedcli.specs import (ALL_SPECS, COMMAND_DEFAULTS, CooccurSpec, FastTextSpec, TokenizeSpec,
                            WeightingSpec, Word2VecSpec, flag_of)


def _spec_fields_by_option():
    out: dict = {}
    for cls in ALL_SPECS:
        for f in dataclasses.fields(cls):
            out.setdefault(option_name(f), []).append(f)
    return out


def test_every_cli_option_default_and_choices_come_from_a_spec():
    """A grep-able check: no option default or choice list is written twice.

    Every option whose keyword is a spec parameter has the spec's default (or the
    command's documented override, or None where a pipeline option serves several
    specs with different defaults) and exactly the spec's choices."""
    by_option = _spec_fields_by_option()
    checked = 0
    for name, cmd in cli.commands.items():
        for p in cmd.params:
            if not isinstance(p, click.Option) or p.hidden or p.name not in by_option:
                continue
            fields = by_option[p.name]
            defaults = [f.default for f in fields] + list(COMMAND_DEFAULTS.get(name, {}).values())
            assert p.default in defaults or (p.default is None and len({repr(f.default) for f in fields}) > 1), \
                (name, p.name, p.default)
            with_choices = [f.metadata["choices"] for f in fields if f.metadata["choices"]]
            if with_choices:
                assert isinstance(p.type, SpecChoice) and p.type.choices in with_choices, (name, p.name)
            checked += 1
    assert checked > 100


def test_no_choice_list_is_written_outside_specs():
    """The literal choice tuples of the specs appear in specs.py only."""
    pkg = ROOT / "embedcli"
    sources = {p: p.read_text() for p in pkg.rglob("*.py") if p.name != "specs.py"}
    for cls in ALL_SPECS:
        for f in dataclasses.fields(cls):
            ch = f.metadata["choices"]
            if not ch or len(ch) < 2 or not all(isinstance(c, str) for c in ch):
                continue
            literal = re.compile(r"[\(\[]\s*" + r"\s*,\s*".join(re.escape(repr(c)).replace("'", "[\"']") for c in ch))
            for path, text in sources.items():
                assert not literal.search(text), f"{path}: repeats the choices of {cls.__name__}.{f.name}"
    # and no click.Choice with a literal list in the CLI
    for path in (pkg / "cli").glob("*.py"):
        assert not re.search(r"click\.Choice\(\s*[\[\(]", path.read_text()), path


def test_every_command_has_help_on_every_option_and_ends_with_an_example():
    for name, cmd in cli.commands.items():
        text = run(name, "--help").stdout.rstrip()
        assert "Options:" in text and "Example:" in text.split("Options:")[1], name
        example = text.split("Example:")[1].strip().splitlines()
        assert example and all(line.strip().split()[0] in ("embedcli", "printf", "zcat") for line in example), name
        assert any(f"embedcli {name}" in line for line in example), name
        for p in cmd.params:
            if isinstance(p, click.Option) and not p.hidden:
                assert p.help, (name, p.name)


def test_query_commands_have_quiet():
    for name in ("neighbors", "analogy", "similarity", "doesnt-match", "evaluate", "info"):
        assert any("-q" in p.opts for p in cli.commands[name].params), name


def test_restrict_default_is_the_same_everywhere():
    defaults = {name: p.default for name, cmd in cli.commands.items() for p in cmd.params if p.name == "restrict"}
    assert set(defaults) >= {"neighbors", "analogy", "evaluate"} and len(set(defaults.values())) == 1


def test_validation_names_the_parameter_not_the_flag():
    with pytest.raises(ParameterError) as e:
        WeightingSpec(cds=2)
    assert e.value.param == "cds" and isinstance(e.value, ValueError) and "--" not in str(e.value)
    from embedcli.weighting import ppmi

    with pytest.raises(ValueError) as e:
        ppmi(sp.csr_matrix(np.ones((3, 3))), cds=2)
    assert e.value.param == "cds" and "--" not in str(e.value)
    assert message(e.value) == "--cds 2: must be in (0, 1]"
    for bad in (dict(seed=-1), dict(seed=2**32), dict(window=0), dict(sample=float("nan")),
                dict(window_weighting="cubic")):
        with pytest.raises(ParameterError):
            CooccurSpec(**bad)
    for bad in (dict(alpha=float("inf")), dict(ns_exponent=float("nan")), dict(sample=float("inf")),
                dict(alpha=1e39), dict(min_alpha=0.5), dict(negative=0), dict(vectors="c", negative=0, hs=1)):
        with pytest.raises(ParameterError):
            Word2VecSpec(**bad)
    with pytest.raises(ParameterError):
        FastTextSpec(minn=5, maxn=3)
    with pytest.raises(ParameterError):
        TokenizeSpec(doc="sentence")
    assert flag_of("vector_size") == "--dim" and flag_of("min_count") == "--min-count"


def test_bad_values_are_one_line_usage_errors_naming_the_flag(small_tokens, tmp_path):
    for cmd, opt, val in (("svd", "--cds", "nan"), ("cooccur", "--seed", "-1"), ("word2vec", "--alpha", "1e39"),
                          ("word2vec", "--ns-exponent", "nan"), ("cooccur", "--sample", "inf")):
        target = tmp_path / "m.npz" if cmd == "svd" else small_tokens
        if cmd == "svd":
            run("cooccur", small_tokens, "-o", target, "-q")
        res = run(cmd, target, "-o", tmp_path / "out.npz", opt, val, "-q", ok=False)
        assert res.exit_code == 2 and res.stderr.count("\n") == 1 and opt in res.stderr, (cmd, opt, res.stderr)


def test_specs_module_is_light():
    code = "import sys, embedcli.specs; assert 'numpy' not in sys.modules, sorted(sys.modules)"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_vectors_import_pulls_in_no_cli_sklearn_or_gensim():
    code = ("import sys, embedcli.vectors, embedcli.vectorfile, embedcli.pipeline, embedcli.svd;"
            "bad = [m for m in ('click', 'sklearn', 'gensim', 'embedcli.cli') if m in sys.modules];"
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_module_sizes():
    pkg = ROOT / "embedcli"
    for p in (pkg / "cli").glob("*.py"):
        assert len(p.read_text().splitlines()) < 400, p
    for p in pkg.glob("*.py"):
        assert len(p.read_text().splitlines()) <= 600, p
    assert not (pkg / "io.py").exists() and not (pkg / "tokenize.py").exists()


# --------------------------------------------------------------------------- deprecated aliases
def test_old_option_names_still_work_with_a_warning(small_tokens, tmp_path):
    m = tmp_path / "m.npz"
    res = run("cooccur", small_tokens, "-o", m, "--weighting", "harmonic", "--subsample", "1e-4", "-q")
    assert "--weighting is deprecated" in res.stderr and "--window-weighting" in res.stderr
    from embedcli.matrix import CountMatrix

    spec = CountMatrix.load(str(m)).provenance["spec"]
    assert spec["window_weighting"] == "harmonic" and spec["sample"] == 1e-4
    res = run("svd", m, "-o", tmp_path / "a.npz", "--weight", "sppmi", "--neg", "2", "--dim", "5", "-q")
    assert "--weight is deprecated" in res.stderr and "--neg is deprecated" in res.stderr
    new = run("svd", m, "-o", tmp_path / "b.npz", "--association", "sppmi", "--negative", "2", "--dim", "5", "-q")
    assert "deprecated" not in new.stderr
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    res = run("svd", m, "-o", tmp_path / "t.txt", "--format", "glove", "--dim", "5", "-q")
    assert "--format is deprecated" in res.stderr and not (tmp_path / "t.txt").read_text().startswith("5")
    res = run("vocab", small_tokens, "--max-size", "3", "-q")
    assert len(res.stdout.splitlines()) == 3 and "--max-size is deprecated" in res.stderr
    both = run("svd", m, "-o", tmp_path / "c.npz", "--weight", "none", "--association", "ppmi", ok=False)
    assert both.exit_code == 2 and "give only one" in both.stderr


def test_pipeline_outdir_alias(tmp_path, small_speeches):
    res = run("pipeline", small_speeches, "--outdir", tmp_path / "o", "--dim", "5", "-q")
    assert "--outdir is deprecated" in res.stderr and (tmp_path / "o" / "vectors.npz").exists()
