"""Score keyed vectors (documents, nodes, words) on a labelled task (``embedcli classify``).

Logistic regression (scikit-learn) on the vectors of the labelled keys, cross-validated:

- ``folds``: stratified k-fold (single-label) or k-fold (multi-label);
- ``train_fraction``: ``shuffles`` random splits training on that fraction (stratified when
  single-label) -- the learning-curve protocol of node-embedding papers.

Multi-label keys (several labels for one key) are fitted one-vs-rest, and each test key is
given as many labels as it truly has, the highest-scoring ones: the protocol of DeepWalk
(Perozzi et al. 2014) and its ``scoring.py``.  Reported per split and as mean and
standard deviation across splits: accuracy (exact match for multi-label), micro-F1, macro-F1.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from embedcli.arguments import entry_point
from embedcli.errors import DataError, FormatError
from embedcli.specs import ClassifySpec, cores
from embedcli.vectors import Vectors


@entry_point
def read_labels(path: str, header: bool = False) -> dict[str, list[str]]:
    """``key label`` per line (tab- or space-separated; further fields ignored; ``.gz`` ok).

    A key on several lines has several labels.  Blank lines and ``#`` comments are skipped;
    ``header`` skips the first line.

    Raises:
        InputError: missing file.  FormatError: a line with one field (naming the line).
        WrongKindError: a file embedcli wrote as another kind (vectors, a matrix).
    """
    from embedcli.fileio import open_binary

    labels: dict[str, list[str]] = {}
    with open_binary(path) as f:
        for lineno, raw in enumerate(f, 1):
            if header and lineno == 1:
                continue
            try:
                line = raw.decode("utf-8-sig" if lineno == 1 else "utf-8").rstrip("\r\n")
            except UnicodeDecodeError:
                from embedcli.vectorfile.kinds import other_kind_error

                wrong = other_kind_error(path, "a labels file (key<TAB>label lines)", "labels") if path != "-" else None
                raise (wrong or FormatError(f"{path}:{lineno}: not UTF-8 text")) from None
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            parts = line.split("\t") if "\t" in line else line.split()
            if len(parts) < 2 or not parts[0] or not parts[1].strip():
                raise FormatError(f"{path}:{lineno}: expected 'key<TAB>label', got {line[:60]!r}")
            got = labels.setdefault(parts[0], [])
            if parts[1].strip() not in got:
                got.append(parts[1].strip())
    if not labels:
        raise DataError(f"{path}: no labels")
    return labels


@dataclass
class ClassifyResult:
    """Scores of every split and their summary."""

    protocol: str  # "10-fold" or "train 0.1"
    multilabel: bool
    n_keys: int  # labelled keys with a vector
    n_labels: int
    missing: int  # labelled keys without a vector
    splits: list[dict] = field(default_factory=list)  # one per fold / shuffle, per train fraction

    def summary(self) -> list[dict]:
        """Mean and standard deviation of each metric, per train fraction (or for the folds)."""
        out = []
        for frac in dict.fromkeys(s["train_fraction"] for s in self.splits):
            rows = [s for s in self.splits if s["train_fraction"] == frac]
            rec = {"protocol": self.protocol if frac is None else f"train {frac:g}", "train_fraction": frac,
                   "splits": len(rows), "n_train": int(np.mean([r["n_train"] for r in rows])),
                   "n_test": int(np.mean([r["n_test"] for r in rows]))}
            for m in ("accuracy", "micro_f1", "macro_f1"):
                vals = np.array([r[m] for r in rows])
                rec[m], rec[m + "_std"] = float(vals.mean()), float(vals.std())
            out.append(rec)
        return out


@entry_point
def classify(vectors: Vectors, labels: dict[str, list[str]], spec: ClassifySpec | None = None,
             progress=None) -> ClassifyResult:
    """Cross-validated logistic regression of ``labels`` on ``vectors`` (see the module doc).

    Args:
        vectors: ``(n, dim)`` keyed vectors; keys are looked up as given, else percent-encoded as
            ``tokenize --ids-output`` writes ids (:func:`embedcli.tokenizer.id_without_space`).
        labels: ``key -> [label, ...]`` (:func:`read_labels`), or ``key -> label`` (a string: one label).

    Returns:
        :class:`ClassifyResult`.

    Raises:
        DataError: fewer than two labelled keys with a vector, one class only, or a
            class with fewer members than folds (single-label k-fold).
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.model_selection import KFold, ShuffleSplit, StratifiedKFold, StratifiedShuffleSplit
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.preprocessing import MultiLabelBinarizer

    spec = spec or ClassifySpec()
    if not labels:
        raise DataError("no labelled keys (the labels are empty)")
    labels = {k: [v] if isinstance(v, str) else list(v) if isinstance(v, (list, tuple, set)) else [str(v)]
              for k, v in labels.items()}
    index = vectors.index
    from embedcli.tokenizer import id_without_space

    # a key as tokenize --ids-output writes it (white space and % percent-encoded) matches too
    rows = {k: k if k in index else id_without_space(k) for k in labels}
    keys = [k for k in labels if rows[k] in index]
    missing = len(labels) - len(keys)
    if len(keys) < 2:
        example = next(iter(labels))
        raise DataError(f"only {len(keys)} of {len(labels):,} labelled keys have a vector (e.g. {example!r} has none; "
                        f"the vectors' keys look like {vectors.words[0]!r})")
    X = np.asarray(vectors.vectors[[index[rows[k]] for k in keys]], dtype=np.float64)
    multilabel = any(len(labels[k]) > 1 for k in keys)
    jobs = min(spec.workers or cores(), cores())
    if multilabel:
        mlb = MultiLabelBinarizer()
        Y = mlb.fit_transform([labels[k] for k in keys])
        n_labels = Y.shape[1]
    else:
        y = np.array([labels[k][0] for k in keys])
        classes, counts = np.unique(y, return_counts=True)
        n_labels = len(classes)
        if n_labels < 2:
            raise DataError(f"one class only ({str(classes[0])!r}) among the {len(keys):,} keys with a vector: "
                            "nothing to classify")
        if not spec.train_fraction and counts.min() < spec.folds:
            raise DataError(f"class {str(classes[np.argmin(counts)])!r} has {counts.min()} key(s), fewer than "
                            f"--folds {spec.folds}")
    result = ClassifyResult(f"{spec.folds}-fold" if not spec.train_fraction else "train fraction", multilabel,
                            len(keys), n_labels, missing)
    plans = [(None, (StratifiedKFold if not multilabel else KFold)(spec.folds, shuffle=True,
                                                                    random_state=spec.seed))]
    if spec.train_fraction:
        plans = [(f, (StratifiedShuffleSplit if not multilabel else ShuffleSplit)(
            spec.shuffles, train_size=f, random_state=spec.seed)) for f in spec.train_fraction]
    target = Y if multilabel else y
    total = sum(s.get_n_splits() for _, s in plans)
    done = 0
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():  # scikit-learn's notes on rare labels / slow convergence are not ours to print
        warnings.filterwarnings("ignore", message="Label .* is present in all training examples")
        warnings.filterwarnings("ignore", category=ConvergenceWarning)
        for frac, splitter in plans:
            try:  # too few keys for the folds, or for a stratified split at this fraction: name the option
                splits = list(splitter.split(X, target))
            except ValueError:
                if frac is None:
                    raise DataError(f"--folds {spec.folds}: cannot split the {len(keys):,} labelled keys "
                                    f"({n_labels} labels) into {spec.folds} folds") from None
                n_train = int(np.floor(frac * len(keys)))  # scikit-learn's rule; the test part is the rest
                raise DataError(f"--train-fraction {frac:g}: a training part of {n_train:,} and a test part of "
                                f"{len(keys) - n_train:,} of the {len(keys):,} labelled keys cannot each hold every one "
                                f"of the {n_labels} labels (a stratified split needs that); use a fraction nearer 0.5"
                                ) from None
            for train, test in splits:
                lr = LogisticRegression(C=spec.C, max_iter=2000)
                if multilabel:
                    model = OneVsRestClassifier(lr, n_jobs=jobs).fit(X[train], Y[train])
                    pred = _top_k(model.predict_proba(X[test]), Y[test].sum(axis=1))
                    truth = Y[test]
                else:
                    if len(np.unique(y[train])) < 2:
                        raise DataError(f"a training split of fraction {frac} has one class only; use a larger "
                                        "--train-fraction")
                    pred = lr.fit(X[train], y[train]).predict(X[test])
                    truth = y[test]
                result.splits.append({
                    "train_fraction": frac, "n_train": int(len(train)), "n_test": int(len(test)),
                    "accuracy": float(accuracy_score(truth, pred)),
                    "micro_f1": float(f1_score(truth, pred, average="micro", zero_division=0)),
                    "macro_f1": float(f1_score(truth, pred, average="macro", zero_division=0)),
                })
                done += 1
                if progress is not None:
                    progress.update(done, total)
    if progress is not None:
        progress.close()
    return result


def _top_k(scores: np.ndarray, k: np.ndarray) -> np.ndarray:
    """0/1 matrix with the ``k[i]`` highest scores of row ``i`` set (DeepWalk's ``TopKRanker``)."""
    order = np.argsort(-scores, axis=1, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(scores.shape[1])[None, :].repeat(len(scores), 0), axis=1)
    return (ranks < np.asarray(k)[:, None]).astype(int)
