import gzip
from pathlib import Path

import pytest
from click.testing import CliRunner

from embedcli.cli import cli
from embedcli.pipeline import sample_corpus_path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


def _runner() -> CliRunner:
    """stderr apart from stdout: click >= 8.2 always; click 8.1 (the lowest supported) when asked."""
    try:
        return CliRunner(mix_stderr=False)
    except TypeError:
        return CliRunner()


def run(*args, input=None, ok=True):
    """Invoke the real CLI in-process; assert success unless ok=False."""
    result = _runner().invoke(cli, [str(a) for a in args], input=input, catch_exceptions=False)
    if ok:
        assert result.exit_code == 0, f"exit {result.exit_code}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    return result


@pytest.fixture(scope="session")
def sample_corpus():
    return sample_corpus_path()


@pytest.fixture(scope="session")
def sample_text(sample_corpus):
    with gzip.open(sample_corpus, "rt", encoding="utf-8") as f:
        return f.read()


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory, sample_corpus):
    """The pipeline on the bundled sample corpus, once per session (a few seconds)."""
    out = tmp_path_factory.mktemp("pipeline")
    res = run("pipeline", "-o", out)
    return out, res


@pytest.fixture(scope="session")
def small_speeches(tmp_path_factory, sample_text):
    """The first 20 speeches as a plain-text corpus (about 80k tokens)."""
    p = tmp_path_factory.mktemp("small") / "speeches.txt"
    p.write_text("\n".join(sample_text.splitlines()[:20]) + "\n", encoding="utf-8")
    return p


@pytest.fixture(scope="session")
def small_tokens(tmp_path_factory, small_speeches):
    p = tmp_path_factory.mktemp("tok") / "tokens.txt"
    run("tokenize", small_speeches, "-o", p, "-q")
    return p


def shared_path(*parts):
    p = SHARED.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"{p} not available")
    return p
