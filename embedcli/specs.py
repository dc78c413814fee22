"""Stage specs: the one place for every parameter's default, choices, range and help text.

Each stage (tokenize ... svd, word2vec, glove, graphs, spaces, the queries) has one frozen
dataclass here; constructing it validates it and raises :class:`~embedcli.errors.ParameterError`
(a ``ValueError``) naming the parameter.  Stage functions take specs; the CLI builds its options
from them (``embedcli.cli.options``); writers record ``spec.provenance()``.  No numpy/scipy
import here, so ``embedcli --help`` stays fast.  A new parameter is a :func:`param` field; the
CLI option, help, default and choices follow; cross-field checks go in the spec's ``_check``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from embedcli.errors import ParameterError
from embedcli.specbase import (DISPLAY_FORMATS, MAX_SEED, REPORT_FORMATS, VECTOR_FORMATS, Spec, _seed,  # noqa: F401
                               choices_of, cores, flag_of, param, range_text)

# --------------------------------------------------------------------------- corpus
DEFAULT_TOKEN_PATTERN = r"[^\W_]+"


@dataclass(frozen=True, eq=False, repr=False)
class TokenizeSpec(Spec):
    """How raw text becomes tokens (``embedcli tokenize``)."""

    lowercase: bool = param(True, "Lowercase tokens.", secondary="--no-lowercase")
    normal_form: str = param("nfc", "Unicode normalization of the text first: nfc composes an accent typed as its "
                             "own character with its letter (e + U+0301 -> é), so each word has one spelling; "
                             "nfkc also folds compatibility forms (the ligature ﬁ -> fi, full-width letters, "
                             "superscripts); none keeps the text as is.", choices=("nfc", "nfkc", "none"))
    token_pattern: str = param(DEFAULT_TOKEN_PATTERN, "Python regex of one token (the regex module), applied after "
                               "lowercasing (default: runs of Unicode letters, digits and combining marks, "
                               "matched before lowercasing).", metavar="REGEX")
    min_length: int = param(1, "Drop tokens shorter than this many characters (code points, after --normal-form: "
                            "an accent is part of its letter in NFC).", lo=1)
    stopwords: str = param("none", "Drop these words: none, the bundled English list, or a file with one word "
                           "per line.", metavar="none|english|FILE")
    doc: str = param("line", "What one output line (document) is: an input line, a blank-line-separated "
                     "paragraph, or a whole file.", choices=("line", "paragraph", "file"))
    encoding: str = param("utf-8", "Encoding of the input (ASCII-compatible).")
    errors: str = param("strict", "Undecodable bytes: fail naming file and line, replace with U+FFFD, or drop.",
                        choices=("strict", "replace", "ignore"))
    workers: int | None = param(None, "Processes tokenizing in parallel [4; never more than the cores]; the output "
                                "does not depend on it.", lo=1, hi=1024, provenance=False)
    include: tuple = param((), "Inside folders and globs, read only files whose name or path matches this glob "
                           "(repeatable).", metavar="GLOB", multiple=True)
    exclude: tuple = param((), "Inside folders and globs, leave out files whose name or path matches this glob "
                           "(repeatable).", metavar="GLOB", multiple=True)
    skip_unreadable: bool = param(False, "Leave out (and name on stderr) input files that cannot be read or "
                                  "decoded, instead of stopping. Each file's output is then staged until the "
                                  "file is read whole.")
    id_column: int | None = param(None, "Tab-separated input: the field (1-based) that holds each line's document "
                                  "id; it is not tokenized. tokenize writes the ids with --ids-output; pipeline keeps none.", lo=1, hi=100000, metavar="N")
    text_column: int | None = param(None, "Tab-separated input: the field (1-based) that holds the text [the "
                                    "whole line, or every field but --id-column: a label column too, so give it "
                                    "for id<TAB>label<TAB>text files].", lo=1, hi=100000, metavar="N")
    header: bool = param(False, "Skip the first line of every input file (a header line).")

    def _check(self) -> None:
        if not self.token_pattern:
            raise ParameterError("token_pattern", self.token_pattern, "must not be empty")
        import codecs

        try:
            codecs.lookup(self.encoding)
        except LookupError:
            raise ParameterError("encoding", self.encoding, "unknown encoding") from None
        if self.token_pattern != DEFAULT_TOKEN_PATTERN:
            import regex

            try:
                regex.compile(self.token_pattern)
            except (regex.error, OverflowError, RecursionError, ValueError) as e:
                raise ParameterError("token_pattern", self.token_pattern,
                                     f"not a valid regular expression ({e})") from None
        if (self.id_column or self.text_column) and self.doc != "line":
            raise ParameterError("id_column" if self.id_column else "text_column",
                                 self.id_column or self.text_column, "needs --doc line (one document per line)")
        if self.id_column and self.id_column == self.text_column:
            raise ParameterError("text_column", self.text_column, "must differ from --id-column")


@dataclass(frozen=True, eq=False, repr=False)
class VocabSpec(Spec):
    """Which words are kept (``embedcli vocab``; also every stage that counts its own vocabulary)."""

    min_count: int = param(5, "Keep words seen at least this often.", lo=1)
    max_vocab_size: int | None = param(None, "Keep at most this many most frequent words, ties broken by word "
                                       "[all].", lo=1)


@dataclass(frozen=True, eq=False, repr=False)
class PhrasesSpec(Spec):
    """gensim ``Phrases`` collocation detection (``embedcli phrases``)."""

    min_count: int = param(5, "Ignore words and bigrams seen fewer times.", lo=1)
    threshold: float | None = param(None, "Score a bigram needs to become a phrase [default scoring: 10; "
                                    "npmi: 0.5].")
    scoring: str = param("default", "Mikolov et al. (2013) score or normalized PMI (Bouma 2009).",
                         choices=("default", "npmi"))
    passes: int = param(1, "Repeat on the output: 2 passes can form phrases of 3-4 words.", lo=1, hi=10)
    delimiter: str = param("_", "Joins the words of a phrase.")
    connector_words: str = param("none", "Words allowed inside phrases without scoring (gensim's "
                                 "ENGLISH_CONNECTOR_WORDS: 'of', 'the', ...).", choices=("none", "english"))
    workers: int | None = param(None, "Processes joining the phrases into the text [number of cores]; the output "
                                "does not depend on it (learning them is gensim's, on one core).", lo=1, hi=1024,
                                provenance=False)

    def _check(self) -> None:
        if not self.delimiter or any(c.isspace() for c in self.delimiter):
            raise ParameterError("delimiter", self.delimiter, "must be non-empty and hold no white space")
        t = self.threshold
        if t is not None:
            if not math.isfinite(t):
                raise ParameterError("threshold", t, "must be a finite number")
            if self.scoring == "npmi" and not -1 <= t <= 1:
                raise ParameterError("threshold", t, "npmi scores lie in [-1, 1]")
            if self.scoring == "default" and t <= 0:
                raise ParameterError("threshold", t, "must be positive for default scoring")

    @property
    def effective_threshold(self) -> float:
        if self.threshold is not None:
            return self.threshold
        return 10.0 if self.scoring == "default" else 0.5


# --------------------------------------------------------------------------- counting
@dataclass(frozen=True, eq=False, repr=False)
class CooccurSpec(Spec):
    """Sliding-window word-context counting (``embedcli cooccur``)."""

    window: int = param(5, "Maximum distance between word and context.", lo=1, hi=1000)
    context: str = param("symmetric", "Which side of the word its contexts are taken from.",
                         choices=("symmetric", "left", "right"))
    window_weighting: str | None = param(None, "Weight of a context at distance d: 1, 1/d (GloVe), or "
                                         "(window-d+1)/window (the expectation of word2vec's dynamic window) "
                                         "[default: harmonic; uniform with --dynamic-window].",
                                         choices=("uniform", "harmonic", "linear"))
    dynamic_window: bool = param(False, "word2vec-style: each occurrence's window is drawn uniformly from "
                                 "1..window (seeded); weights multiply with --window-weighting.")
    sample: float = param(0.0, "word2vec's subsampling threshold t: drop frequent tokens before windowing with "
                          "word2vec.c's probability 1-(sqrt(f/(t*N))+1)*(t*N)/f, f a word's count and N the "
                          "in-vocabulary token total (hyperwords uses 1-sqrt(t*N/f)); dropped tokens leave no "
                          "gap ('dirty' subsampling, Levy et al. 2015 sec. 3.1), while out-of-vocabulary tokens "
                          "keep their positions; 0 disables (typical: 1e-5).",
                          lo=0, hi=1, hi_open=True, metavar="T")
    cross_documents: bool = param(False, "Let windows span document (line) ends. By default they stop at them.")
    seed: int = _seed("Seed of --dynamic-window and --sample.")
    workers: int | None = param(None, "Processes reading the tokens file and threads counting [number of cores]; "
                                "the matrix does not depend on it.", lo=1, hi=1024, provenance=False)

    def provenance(self) -> dict:
        rec = super().provenance()
        if not self.dynamic_window and not self.sample:
            del rec["seed"]  # nothing is drawn: the matrix (and its record) does not depend on the seed
        return rec

    def _check(self) -> None:
        # None: the default, resolved here so that the spec (and its provenance) holds the weighting used
        if self.window_weighting is None:
            object.__setattr__(self, "window_weighting", "uniform" if self.dynamic_window else "harmonic")


@dataclass(frozen=True, eq=False, repr=False)
class TermdocSpec(Spec):
    """Term-document matrix (``embedcli termdoc``)."""

    weighting: str = param("count", "count: term frequency; tfidf: tf*ln(N/df); log-entropy: "
                           "ln(1+tf) * (1 + sum p ln p / ln N).", choices=("count", "tfidf", "log-entropy"))
    normalize: bool = param(False, "Scale each document (column) to unit length after weighting, as scikit-learn's "
                            "TfidfVectorizer: long documents no longer dominate the SVD.")
    binary: bool = param(False, "Term presence: every term frequency counts as 1 before weighting, as scikit-learn's "
                         "binary=True (presence beat frequency for sentiment in Pang, Lee & Vaithyanathan 2002).")
    min_df: int = param(1, "Keep terms in at least this many documents.", lo=1)
    max_df: float = param(1.0, "Keep terms in at most this fraction of the documents.", lo=0, hi=1, lo_open=True)
    workers: int | None = param(None, "Processes reading the tokens file [number of cores]; the matrix does not "
                                "depend on it.", lo=1, hi=1024, provenance=False)


# --------------------------------------------------------------------------- factorizing
@dataclass(frozen=True, eq=False, repr=False)
class WeightingSpec(Spec):
    """Association measure applied to a count matrix before the SVD."""

    association: str | None = param(None, "Reweighting before the SVD: none, PPMI, shifted PPMI (minus log "
                                    "negative), log(1+x) [default: ppmi on a co-occurrence matrix; none on a "
                                    "term-document matrix, whose tf-idf/log-entropy weighting is already applied].",
                                    choices=("none", "ppmi", "sppmi", "log"))
    negative: float | None = param(None, "Shift PMI by log(negative), as SGNS with this many negative samples "
                                   "(Levy & Goldberg 2014, 'Neural word embedding as implicit matrix factorization') [ppmi: 1, sppmi: 5]; "
                                   "ppmi and sppmi only.", lo=1, hi=1_000_000, metavar="K")
    cds: float = param(1.0, "Context-distribution smoothing exponent (Levy, Goldberg & Dagan 2015, sec. 3.2): "
                       "context counts raised to it in PMI's P(c); 1 disables; ppmi and sppmi only.",
                       lo=0, hi=1, lo_open=True)

    def _check(self) -> None:
        # cds and the shift act on PMI only: recording them for none/log would claim what was not done
        if self.association in ("none", "log"):
            if self.cds != 1.0:
                raise ParameterError("cds", self.cds, f"context-distribution smoothing applies to ppmi and sppmi, "
                                     f"not to association {self.association}")
            if self.negative is not None:
                raise ParameterError("negative", self.negative, f"the PMI shift applies to ppmi and sppmi, not to "
                                     f"association {self.association}")

    @property
    def shift(self) -> float:
        """The effective ``negative``: 1 for ppmi, 5 for sppmi unless given."""
        if self.negative is not None:
            return float(self.negative)
        return 5.0 if self.association == "sppmi" else 1.0


def krylov_block(dim: int) -> int:
    """The krylov solver's default block size for ``dim`` vectors: ``ceil(0.4 dim)``, at least 2."""
    return max(2, -(-2 * dim // 5))


@dataclass(frozen=True, eq=False, repr=False)
class SVDSpec(Spec):
    """Truncated SVD and the vectors taken from it (``embedcli svd``)."""

    dim: int = param(100, "Number of dimensions (singular vectors).", lo=1, hi=100000)
    eig: float = param(0.25, "Eigenvalue weighting p: vectors are U Sigma^p (0: U; 1: classic LSA).", lo=0, hi=1)
    vectors: str = param("w", "Word vectors U Sigma^p, context vectors V Sigma^p, or their sum.",
                         choices=("w", "c", "w+c"))
    solver: str = param("krylov", "krylov (randomized block Krylov, Musco & Musco 2015: block Lanczos, float32, "
                        "on --workers threads), randomized (Halko et al. subspace iteration, float32, on --workers "
                        "threads) or arpack (scipy svds: exact, slower, one thread).",
                        choices=("krylov", "randomized", "arpack"))
    n_iter: int | None = param(None, "Iterations: the Krylov space's degree (krylov; about one sparse product "
                               "each; an odd value runs as the next even one on a non-symmetric matrix) [24], or "
                               "power iterations (randomized; two products each) [15].", lo=0, hi=100)
    block_size: int | None = param(None, "Columns per Krylov block (krylov only) [0.4 x --dim].", lo=1, hi=100000)
    oversamples: int | None = param(None, "Extra random vectors (randomized only) [20].", lo=0, hi=10000)
    seed: int = _seed("Random seed of the solver.")
    workers: int | None = param(None, "Threads for the sparse products [number of cores]; the result does not "
                                "depend on it.", lo=1, hi=256, provenance=False)

    #: Iterations of each solver when ``n_iter`` is None: chosen on ../shared/eval (benchmarks/README.md,
    #: "SVD solver"): the Krylov degree for krylov, power iterations for randomized.
    ITERATIONS = {"krylov": 24, "randomized": 15}
    #: Largest Krylov basis (``n_iter x block_size`` columns) the default runs: beyond it (``dim`` above
    #: about 320) the dense steps (a full eigendecomposition of a basis-sized matrix) outgrow the
    #: products they save, and the randomized solver runs instead (benchmarks/README.md, "SVD solver").
    KRYLOV_MAX_BASIS = 3072

    def _check(self) -> None:
        if self.solver == "krylov" and self.n_iter == 0:
            raise ParameterError("n_iter", 0, "the krylov solver needs at least one block (1 or more)")
        if self.block_size is not None and self.solver != "krylov":
            raise ParameterError("block_size", self.block_size, f"applies to the krylov solver only, not {self.solver}",
                                 also=("solver",))
        if self.oversamples is not None and self.solver != "randomized":
            raise ParameterError("oversamples", self.oversamples,
                                 f"applies to the randomized solver only, not {self.solver}", also=("solver",))
        if self.n_iter is not None and self.solver == "arpack":
            raise ParameterError("n_iter", self.n_iter, "does not apply to the arpack solver", also=("solver",))

    def krylov_fits(self, shape: tuple[int, int]) -> bool:
        """Whether the krylov solver's basis (``n_iter`` and ``block_size`` as resolved), with a
        block to spare, fits in the smaller side of an ``(n, m)`` matrix."""
        spec = self.resolved()
        d, b = spec.n_iter, spec.block_size
        return max(d, -(-d // 2) + 1) * b <= min(shape)

    def resolved(self, shape: tuple[int, int] | None = None) -> "SVDSpec":
        """This spec as applied and as provenance records it: the solver's defaults written out
        (``n_iter``: :attr:`ITERATIONS`; krylov's ``block_size``: 0.4 ``dim``, at least 2;
        randomized's ``oversamples``: 20), the others None.  With the matrix's ``shape``, the
        default krylov settings give way to the randomized solver where their basis would not fit
        in the matrix's smaller side (there the randomized solver is exact) or would exceed
        :attr:`KRYLOV_MAX_BASIS` columns."""
        spec = self
        if (spec.solver == "krylov" and spec.n_iter is None and spec.block_size is None and shape is not None):
            full = spec.resolved()
            if not full.krylov_fits(shape) or full.n_iter * full.block_size > self.KRYLOV_MAX_BASIS:
                spec = spec.replace(solver="randomized")
        if spec.n_iter is None and spec.solver in self.ITERATIONS:
            spec = spec.replace(n_iter=self.ITERATIONS[spec.solver])
        if spec.block_size is None and spec.solver == "krylov":
            spec = spec.replace(block_size=krylov_block(spec.dim))
        if spec.oversamples is None and spec.solver == "randomized":
            spec = spec.replace(oversamples=20)
        return spec


# --------------------------------------------------------------------------- predictive
@dataclass(frozen=True, eq=False, repr=False)
class Word2VecSpec(Spec):
    """gensim ``Word2Vec`` (``embedcli word2vec``): gensim's names (CLI ``--dim`` for vector_size) and defaults.

    The vocabulary (``min_count``, ``max_vocab_size``) comes from a :class:`VocabSpec`.
    """

    sg: bool = param(False, "Skip-gram or CBOW (gensim default: CBOW).", secondary="--cbow")
    vector_size: int = param(100, "Vector size (gensim: vector_size).", lo=1, hi=100000, flag="--dim")
    window: int = param(5, "Maximum distance between word and context.", lo=1, hi=1000)
    negative: int = param(5, "Negative samples (0: none, then --hs 1 is needed).", lo=0, hi=1000)
    hs: int = param(0, "1: hierarchical softmax.", choices=(0, 1))
    ns_exponent: float = param(0.75, "Exponent of the negative-sampling distribution.", lo=-10, hi=10)
    sample: float = param(1e-3, "Subsampling threshold (0: off).", lo=0, hi=1, hi_open=True)
    epochs: int = param(5, "Passes over the corpus.", lo=1, hi=10000)
    alpha: float = param(0.025, "Initial learning rate.", lo=0, hi=10, lo_open=True)
    min_alpha: float = param(0.0001, "Final learning rate (at most --alpha).", lo=0, hi=10)
    workers: int | None = param(None, "Training threads [number of cores].", lo=1, hi=256, provenance=False)
    seed: int = _seed("Seed (runs are reproducible with --workers 1).")
    vectors: str = param("w", "Input (word) vectors, output (context) vectors, or their sum.",
                         choices=("w", "c", "w+c"))

    def _check(self) -> None:
        if self.vectors != "w" and self.negative == 0:
            raise ParameterError("vectors", self.vectors, "needs negative sampling (negative > 0): hierarchical "
                                 "softmax has no per-word output vectors")
        if self.min_alpha > self.alpha:
            raise ParameterError("min_alpha", self.min_alpha, f"must be at most alpha={self.alpha}", also=("alpha",))
        if self.negative == 0 and self.hs == 0:
            raise ParameterError("negative", 0, "needs hs=1: no training objective left")

    @property
    def n_workers(self) -> int:
        return self.workers or cores()


@dataclass(frozen=True, eq=False, repr=False)
class FastTextSpec(Word2VecSpec):
    """gensim ``FastText`` (``embedcli fasttext``): word2vec's parameters plus character n-grams."""

    minn: int = param(3, "Shortest character n-gram.", lo=1, hi=100)
    maxn: int = param(6, "Longest character n-gram; 0: no character n-grams (as fastText's -maxn 0: plain "
                      "word vectors, no hash table, so no vectors for unseen words).", lo=0, hi=100)
    bucket: int | None = param(2000000, "Hash buckets for character n-grams: fastText's default, 4 x dim bytes "
                               "each (800 MB at 100 dims). pipeline sizes it from the vocabulary instead "
                               "(embedcli.predictive.auto_bucket); None in the library does the same. "
                               "Ignored (0) with maxn 0.", lo=0, hi=2**31 - 1)

    def _check(self) -> None:
        super()._check()
        if self.maxn and self.maxn < self.minn:
            raise ParameterError("maxn", self.maxn, f"must be 0 (no character n-grams) or at least minn={self.minn}",
                                 also=("minn",))
        if self.bucket == 0 and self.maxn:
            raise ParameterError("bucket", 0, "leaves no room for character n-grams: give maxn=0 to train "
                                 "without them", also=("maxn",))

    @property
    def ngrams(self) -> bool:
        """Whether the model has character n-grams (``maxn`` > 0)."""
        return self.maxn > 0


# --------------------------------------------------------------------------- documents
@dataclass(frozen=True, eq=False, repr=False)
class DocvecSpec(Spec):
    """Document vectors from word vectors (``embedcli docvec``)."""

    weighting: str = param("sif", "How a document's word vectors are combined: mean; tfidf (tf * ln(N/df), df "
                           "over the documents embedded); sif: a/(a + p(w)) weights and the first principal "
                           "component removed (Arora, Liang & Ma 2017).", choices=("mean", "tfidf", "sif"))
    sif_a: float = param(1e-3, "SIF's a: a word of corpus frequency p(w) weighs a/(a + p(w)).", lo=0, hi=1,
                         lo_open=True, metavar="A")
    stopwords: str = param("none", "Leave out these words: none, the bundled English list, or a file with one "
                           "word per line.", metavar="none|english|FILE")
    word_norm: bool = param(True, "Scale word vectors to unit length before weighting them.",
                            secondary="--no-word-norm")
    normalize: bool = param(True, "Scale document vectors to unit length.", secondary="--no-normalize")
    workers: int | None = param(None, "Processes reading the tokens file [number of cores]; the output does not "
                                "depend on it.", lo=1, hi=1024, provenance=False)


@dataclass(frozen=True, eq=False, repr=False)
class ClassifySpec(Spec):
    """Cross-validated logistic regression on keyed vectors (``embedcli classify``)."""

    folds: int = param(10, "Stratified cross-validation folds (ignored with --train-fraction).", lo=2, hi=1000)
    train_fraction: tuple = param((), "Instead of folds: train on this fraction of the keys, test on the rest "
                                  "(repeatable: a learning curve).", metavar="F", multiple=True)
    shuffles: int = param(10, "Random splits per --train-fraction.", lo=1, hi=10000)
    C: float = param(1.0, "Inverse regularization strength of the logistic regression (scikit-learn's C).",
                     lo=0, lo_open=True, hi=1e12, flag="--C")
    seed: int = _seed("Seed of the folds and splits.")
    workers: int | None = param(None, "Folds fitted in parallel [number of cores].", lo=1, hi=256, provenance=False)

    def _check(self) -> None:
        fractions = []
        for f in self.train_fraction:  # from the command line they arrive as strings
            try:
                x = float(f)
            except (TypeError, ValueError):
                raise ParameterError("train_fraction", f, "must be a number") from None
            if not 0 < x < 1:
                raise ParameterError("train_fraction", f, "must be in (0, 1)")
            fractions.append(x)
        object.__setattr__(self, "train_fraction", tuple(fractions))


# --------------------------------------------------------------------------- graphs
@dataclass(frozen=True, eq=False, repr=False)
class WalksSpec(Spec):
    """Random walks on a graph (``embedcli walks``, ``embedcli deepwalk``): DeepWalk's uniform (or
    weighted) walks, node2vec's biased ones with ``p``/``q``."""

    walks_per_node: int = param(80, "Walks started from every node (DeepWalk's gamma).", lo=1, hi=1_000_000)
    walk_length: int = param(40, "Nodes per walk (DeepWalk's t); a walk that reaches a node without out-edges "
                             "stops there.", lo=1, hi=1_000_000)
    p: float = param(1.0, "node2vec return parameter: a step back to the previous node weighs 1/p.", lo=0,
                     lo_open=True, hi=1e6)
    q: float = param(1.0, "node2vec in-out parameter: a step to a node not adjacent to the previous one "
                     "weighs 1/q (q = p = 1: DeepWalk's first-order walks). Not -q, which is --quiet.", lo=0,
                     lo_open=True, hi=1e6)
    undirected: bool = param(False, "Each edge line is an edge both ways (otherwise u -> v only).")
    seed: int = _seed("Seed of the walks (the output is the same for a seed).")


@dataclass(frozen=True, eq=False, repr=False)
class NetMFSpec(Spec):
    """NetMF (Qiu et al. 2018): the factorization of the matrix that DeepWalk factorizes implicitly
    (``embedcli netmf``)."""

    window: int = param(10, "Window T: walk steps 1..T are summed.", lo=1, hi=1000)
    negative: float = param(1.0, "Negative samples b: the matrix is shifted by log b.", lo=0, lo_open=True,
                            hi=1e6, metavar="B")
    dim: int = param(128, "Number of dimensions.", lo=1, hi=100000)
    method: str = param("eigen", "eigen: the matrix from the --rank top eigenpairs of D^-1/2 A D^-1/2 (NetMF "
                        "for large T); exact: the sum of the T walk-matrix powers, computed densely.",
                        choices=("eigen", "exact"))
    rank: int = param(256, "Eigenpairs of the eigen method (NetMF's h).", lo=1, hi=100000)
    max_nodes: int = param(30000, "Largest graph (nodes) accepted: the matrix is dense, 4 n^2 bytes (x3 for "
                           "--method exact).", lo=1, hi=10_000_000, provenance=False)
    eig: float = param(0.5, "Eigenvalue weighting p: vectors are U Sigma^p (NetMF: 0.5).", lo=0, hi=1)
    n_iter: int = param(5, "Power iterations of the randomized SVD of the dense matrix.", lo=0, hi=100)
    normalize: bool = param(False, "Scale the node vectors to unit length (with --dim 160 the best options "
                             "on BlogCatalog, not on Cora: README, Graphs).")
    seed: int = _seed("Seed of the eigensolver's start vector and of the randomized SVD.")
    workers: int | None = param(None, "Threads for the matrix products [number of cores]; the result does not "
                                "depend on it.", lo=1, hi=256, provenance=False)


@dataclass(frozen=True, eq=False, repr=False)
class GloveSpec(Spec):
    """GloVe (Pennington et al. 2014) on a co-occurrence matrix (``embedcli glove``), the C tool's names."""

    vector_size: int = param(100, "Vector size (GloVe: -vector-size).", lo=1, hi=100000, flag="--dim")
    x_max: float = param(10.0, "Cutoff of f(x) = min(1, (x/x_max)^alpha) (GloVe: -x-max). 10, as the reference "
                         "demo: on 4M tokens it beat the paper's 100 (meant for billions).", lo=0, lo_open=True)
    alpha: float = param(0.75, "Exponent of the weighting function (GloVe: -alpha).", lo=0, hi=10)
    eta: float = param(0.05, "Initial AdaGrad learning rate (GloVe: -eta).", lo=0, lo_open=True, hi=10)
    epochs: int = param(15, "Passes over the non-zero entries (GloVe: -iter).", lo=1, hi=10000)
    reshuffle: bool = param(True, "Visit the entries in a new random order of 4,096-entry blocks each epoch after the "
                            "first; --no-reshuffle keeps one order, as the reference does.", secondary="--no-reshuffle")
    grad_clip: float = param(100.0, "Clip each gradient component to [-C, C] (GloVe: -grad-clip).", lo=0,
                             lo_open=True, metavar="C")
    vectors: str = param("w+c", "Word vectors W, context vectors C, or W + C (the reference's -model 2).",
                         choices=("w", "c", "w+c"))
    seed: int = _seed("Seed of the initial vectors and of the order of the entries (reproducible with "
                      "--workers 1).")
    workers: int | None = param(None, "Training threads (Hogwild, as the reference's -threads) [number of cores].",
                                lo=1, hi=256, provenance=False)


@dataclass(frozen=True, eq=False, repr=False)
class ExportSpec(Spec):
    """Vectors exported for other tools (``embedcli export``)."""

    format: str = param("projector", "projector: the Embedding Projector's vectors.tsv + metadata.tsv.",
                        choices=("projector",))
    top: int | None = param(None, "Only the first N rows (the most frequent words) [all].", lo=1, metavar="N")


@dataclass(frozen=True, eq=False, repr=False)
class PlotSpec(Spec):
    """A 2-D map of chosen rows of a vectors file (``embedcli plot``)."""

    method: str = param("pca", "Projection to 2-D: pca (deterministic), tsne (scikit-learn) or umap (needs "
                        "umap-learn).", choices=("pca", "tsne", "umap"))
    top: int = param(100, "Without WORDs or --words: the first N rows (the most frequent words).", lo=2,
                     hi=100000, metavar="N")
    normalize: bool = param(True, "Scale rows to unit length first (the cosine geometry the queries use).",
                            secondary="--no-normalize")
    perplexity: float = param(30.0, "t-SNE perplexity (lowered to (points-1)/3 for few points).", lo=1, hi=1000)
    annotate: str = param("auto", "Label points with their keys: all (at most the first 300), none, or auto "
                          "(all when at most 100 points).", choices=("auto", "all", "none"))
    seed: int = _seed("Random seed of UMAP (t-SNE starts from the PCA layout and is deterministic).")


@dataclass(frozen=True, eq=False, repr=False)
class AlignSpec(Spec):
    """Orthogonal Procrustes alignment of one space onto another (``embedcli align``)."""

    normalization: str = param("unit-center-unit", "Normalization of both spaces first (Artetxe et al. 2016/2018): "
                               "unit length, centring, unit length.", choices=("unit-center-unit", "unit", "none"))
    method: str = param("procrustes", "procrustes: one rotation of the source (the target untouched); multistep: "
                        "Artetxe et al. 2018's supervised mapping (whiten, orthogonal map, re-weight, de-whiten) of "
                        "both spaces; queries apply the target's map.", choices=("procrustes", "multistep"))
    reweight: float = param(0.5, "multistep: re-weight both spaces by the dictionary's singular values to this "
                            "power (Artetxe et al. 2018's default 0.5).", lo=0, hi=2)
    refine: int = param(0, "Self-learning rounds: mutual nearest neighbours (CSLS) among the --refine-vocab most "
                        "frequent words join the seed pairs; refit.", lo=0, hi=100, metavar="N")
    refine_vocab: int = param(20000, "Words of each space searched when re-inducing the dictionary.", lo=1,
                              metavar="N")
    csls: int = param(10, "Neighbours k of CSLS (Conneau et al. 2018) when re-inducing; 0: plain nearest neighbours.",
                      lo=0, hi=1000, metavar="K")


@dataclass(frozen=True, eq=False, repr=False)
class DriftSpec(Spec):
    """Words ranked by how far they moved between two spaces (``embedcli drift``)."""

    measure: str = param("cosine", "Rank by cosine (distance after Procrustes) or local (Hamilton et al. 2016: "
                         "change of the similarities to the union of both k-neighbourhoods).",
                         choices=("cosine", "local"))
    k: int = param(25, "Neighbours of the local measure.", lo=1, hi=1000, metavar="K", short="-k")
    min_count: int = param(50, "Rank words with at least this count in both spaces.", lo=0)
    dim: int | None = param(None, "Compare the first N dimensions only: for vectors from svd, the N largest "
                            "singular directions (the small ones are the noisiest between two samples) [all].",
                            lo=1, hi=100000, metavar="N")
    frequency_bins: int = param(20, "Rank by the measure's robust z-score (median, MAD) among words of similar "
                                "frequency: N quantile bins of log min(count in A, count in B), as rare words move "
                                "by sampling noise alone; 0: by the raw measure.", lo=0, hi=1000, metavar="N")


@dataclass(frozen=True, eq=False, repr=False)
class CrossSpec(Spec):
    """Queries across two aligned spaces (``neighbors --target``, ``evaluate --target``)."""

    csls: int = param(10, "Retrieve by CSLS with K neighbours (Conneau et al. 2018: demotes hub words); 0: cosine "
                      "nearest neighbours. evaluate --target reports both.", lo=0, hi=1000, metavar="K")


# --------------------------------------------------------------------------- queries
@dataclass(frozen=True, eq=False, repr=False)
class SearchSpec(Spec):
    """Which rows a query searches (every query command and ``evaluate``)."""

    restrict: int = param(30000, "Search only the N most frequent words (0: all). Files list words most "
                          "frequent first, as gensim's restrict_vocab. Document and node vectors: all unless "
                          "given.",
                          lo=0, metavar="N")

    @property
    def limit(self) -> int | None:
        return self.restrict or None


@dataclass(frozen=True, eq=False, repr=False)
class NeighborsSpec(Spec):
    topn: int = param(10, "Number of neighbours.", lo=1, hi=1000000, flag="--topn", short="-k")


@dataclass(frozen=True, eq=False, repr=False)
class AnalogySpec(Spec):
    topn: int = param(1, "Number of answers.", lo=1, hi=1000000, flag="--topn", short="-k")
    method: str = param("3cosadd", "3CosAdd (vector offset) or 3CosMul (Levy & Goldberg 2014).",
                        choices=("3cosadd", "3cosmul"))


@dataclass(frozen=True, eq=False, repr=False)
class EvaluateSpec(Spec):
    method: str = param("both", "Analogy method(s).", choices=("3cosadd", "3cosmul", "both"))

    @property
    def methods(self) -> tuple[str, ...]:
        return ("3cosadd", "3cosmul") if self.method == "both" else (self.method,)


# --------------------------------------------------------------------------- pipeline
@dataclass(frozen=True, eq=False, repr=False)
class PipelineSpec(Spec):
    method: str = param("svd", "Count-based PPMI-SVD, GloVe on the same co-occurrence counts, or gensim "
                        "word2vec / fastText on the same tokens.", choices=("svd", "glove", "word2vec", "fasttext"))


#: Defaults that differ by command, for parameters shared by several commands: the commands that
#: count (vocab, termdoc) keep every word; the model-building ones (cooccur, word2vec, fasttext,
#: pipeline) cut at VocabSpec's min_count.  The CLI applies these and nothing else.
#: ``deepwalk`` trains with the DeepWalk paper's settings (Perozzi et al. 2014: skip-gram, hierarchical
#: softmax, window 10, 128 dimensions, one pass over the walks, every node kept, no subsampling).
#: ``pipeline`` sizes fastText's bucket table from the vocabulary unless --bucket is given (fastText's
#: 2,000,000 makes an 800 MB model of a 3 MB corpus).
COMMAND_DEFAULTS = {"neighbors": {"csls": 0}, "vocab": {"min_count": 1}, "termdoc": {"min_count": 1},
                    "pipeline": {"bucket": None},
                    "deepwalk": {"sg": True, "vector_size": 128, "window": 10, "hs": 1, "negative": 0, "sample": 0.0,
                                 "epochs": 1, "min_count": 1}}

#: Named sets of defaults for ``pipeline`` and ``svd`` (``--preset NAME``), keyed by spec field; an option
#: given on the command line wins over its preset value.  Chosen by benchmarks/quality_study.py (see the
#: README, "Why these defaults").
PRESETS = {
    "default": {},
    "quality": {"solver": "arpack"},
}

#: Every stage spec, for documentation and for the test that the CLI takes its options from them.
ALL_SPECS = (TokenizeSpec, VocabSpec, PhrasesSpec, CooccurSpec, TermdocSpec, WeightingSpec, SVDSpec, Word2VecSpec,
             FastTextSpec, DocvecSpec, ClassifySpec, WalksSpec, NetMFSpec, GloveSpec, ExportSpec, PlotSpec,
             AlignSpec,
             DriftSpec, CrossSpec, SearchSpec, NeighborsSpec, AnalogySpec, EvaluateSpec, PipelineSpec)
