#!/usr/bin/env python
"""Benchmark generator-backed oversampling against class weights, random oversampling and SMOTE(NC).

On each imbalanced development dataset (``attrition`` → Attrition, minority "Yes";
``cps1988`` → parttime, minority "yes", subsampled to ``--max-rows`` rows, stratified and
seeded; ``creditcard`` → card, minority "no") the script makes one stratified 70/30
train/test split (``random_state=seed``) and compares, for two classifiers —
``LogisticRegression(max_iter=2000)`` after median imputation + scaling of the numeric
columns and one-hot encoding of the categorical ones, and
``HistGradientBoostingClassifier`` with native categorical support (ordinal codes) —
these ways of handling the imbalance:

* no resampling;
* ``class_weight="balanced"`` (on both classifiers);
* ``imblearn.over_sampling.RandomOverSampler``;
* ``SMOTENC`` (``SMOTE`` without categorical columns, ``SMOTEN`` without numeric ones);
* ``ADASYN`` on the standardised + one-hot encoding, categories decoded by argmax
  (``benchmarks/_encoded_sampler.py``: ADASYN has no categorical variant);
* ``synthaug.over_sampling.GenerativeOverSampler(random_state=seed)``: the default, and the same
  with ``selection=None`` (what its classifier selection adds);
* with ``--models``, ``GenerativeOverSampler(synthesizer=get_synthesizer(name, epochs=E),
  random_state=seed)`` for each named model.

Our samplers run with ``cache=False``, so every ``fit_resample`` is timed as a full fit.

Every sampler balances the classes (``sampling_strategy="auto"``) on the training split
only; the preprocessing and the classifier are then fitted on the resampled rows, and
the test split is never resampled — what an ``imblearn.pipeline.Pipeline([sampler,
preprocessing, classifier])`` does, except that each sampler is fitted once and its
output shared by both classifiers and the distance measure below.

Reported per method and classifier on the test split: balanced accuracy, F1 of the
minority class and PR-AUC (average precision of the minority class). For every sampler:
seconds of the ``fit_resample`` call, the number of rows it added and the
*closer-to-train share* of those rows (see :class:`NeighbourShare`): the fraction of
added rows whose nearest training row is nearer than their nearest test row, with an
equally large, class-stratified random sample of the training split (ties count one
half, averaged over several samples). 0.5 means "no nearer to the training rows than to
unseen rows of the same distribution"; the same share computed for the minority test
rows themselves (leave-one-out) is the reference.

Results are printed as a Markdown table, followed by one line per dataset saying where
our samplers beat SMOTE(NC) and where they do not, and one line per dataset comparing the
default sampler's PR-AUC with the best of all other methods, and written as JSON + Markdown
(``oversampling_`` prefix) to ``benchmarks/results/``. Example (full run)::

    python benchmarks/bench_oversampling.py
"""

from __future__ import annotations

import argparse
import json
import sys
import traceback
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

try:  # run as a script: benchmarks/ is on sys.path
    import _common as common
    import bench_tabular as tabular
    from _encoded_sampler import EncodedSampler
except ImportError:  # imported as benchmarks.bench_oversampling
    from benchmarks import _common as common
    from benchmarks import bench_tabular as tabular
    from benchmarks._encoded_sampler import EncodedSampler

#: dataset -> the minority class of its target (the target itself is ``common.TARGETS``).
MINORITY = {"attrition": "Yes", "cps1988": "yes", "creditcard": "no"}
DATASETS = tuple(MINORITY)
OUR_MODELS = tabular.OUR_MODELS
CLASSIFIERS = {"logreg": "LR", "hgb": "HGB"}
METRICS = {"balanced_accuracy": "bal. acc", "minority_f1": "minority F1", "pr_auc": "PR-AUC"}
DEFAULT_EPOCHS = 150
DEFAULT_MAX_ROWS = 6000
#: random class-stratified training samples (as large as the test split) the share is averaged over.
NEIGHBOUR_DRAWS = 10
SMOTE_KEY = "smote"
DEFAULT_KEY = "ours-default"
REFERENCE = "minority test rows (reference)"
SHARE_DEFINITION = (
    "closer-to-train share: for each row a sampler added (`X_res.iloc[len(X_train):]`), compare the "
    "Euclidean distance to its nearest neighbour among a random class-stratified sample of training rows "
    "as large as the test split with the distance to its nearest test row (sklearn NearestNeighbors on "
    "numeric columns standardised with the training split's mean/std plus one-hot categorical columns); "
    "the share is the fraction of rows nearer to the training sample (ties count 1/2), averaged over "
    f"{NEIGHBOUR_DRAWS} training samples. 0.5: the added rows are no nearer to the training rows than to "
    "unseen rows of the same distribution; above 0.5: nearer to the training rows. Because the training "
    "sample holds only part of the training split, even exact copies of training rows score about "
    "0.5 + 0.5 x test rows / training rows (about 0.71 at 70/30), not 1: RandomOverSampler's line shows this "
    f"ceiling. *{REFERENCE}*: the same share for the test split's minority rows, each compared with "
    "its nearest *other* test row (what genuinely new minority rows score; about 0.5). "
    "training copies: share of the added rows identical (distance 0) to a row of the whole training split."
)


# --------------------------------------------------------------------------- data
@dataclass
class Data:
    """One dataset's features, target and fixed train/test split."""

    name: str
    source: str
    target: str
    minority: str
    X_train: pd.DataFrame
    y_train: np.ndarray
    X_test: pd.DataFrame
    y_test: np.ndarray
    numeric: list[str]
    categorical: list[str]
    rows_loaded: int
    rows_used: int
    notes: list[str] = field(default_factory=list)

    def describe(self) -> dict[str, Any]:
        def counts(y: np.ndarray) -> dict[str, int]:
            return {str(k): int(v) for k, v in zip(*np.unique(y, return_counts=True), strict=True)}

        return {
            "dataset": self.name,
            "source": self.source,
            "target": self.target,
            "minority": self.minority,
            "rows_loaded": self.rows_loaded,
            "rows_used": self.rows_used,
            "features": self.X_train.shape[1],
            "numeric_features": self.numeric,
            "categorical_features": self.categorical,
            "train_rows": len(self.X_train),
            "test_rows": len(self.X_test),
            "train_classes": counts(self.y_train),
            "test_classes": counts(self.y_test),
            "test_minority_share": float(np.mean(self.y_test == self.minority)),
            "notes": list(self.notes),
        }


def prepare(name: str, frame: pd.DataFrame, source: str, *, seed: int, max_rows: int | None) -> Data:
    """Subsample (stratified) to ``max_rows``, split 70/30 like ``bench_tabular``, impute if needed.

    Categorical columns (every non-numeric one) become ``object`` columns so that every
    sampler sees the same plain frame; missing feature values, if any, are imputed with the
    training split's median (numeric) or most frequent value (categorical) before any method
    runs, since SMOTE(NC) cannot take them.
    """
    from sklearn.model_selection import train_test_split

    target, minority = common.TARGETS[name], MINORITY[name]
    notes: list[str] = []
    rows_loaded = len(frame)
    if frame[target].isna().any():
        notes.append(f"dropped {int(frame[target].isna().sum())} rows with a missing target")
        frame = frame.loc[frame[target].notna()]
    if max_rows and len(frame) > max_rows:
        frame, _ = train_test_split(frame, train_size=max_rows, stratify=frame[target], random_state=seed)
        notes.append(
            f"subsampled from {rows_loaded} to {max_rows} rows, stratified on {target} "
            f"(train_test_split(train_size={max_rows}, random_state={seed}); --max-rows)"
        )
    frame = frame.reset_index(drop=True)
    split = tabular.split_table(frame, target, seed)  # the same split as bench_tabular for the same rows
    features = [c for c in frame.columns if c != target]
    types = pd.api.types
    numeric = [c for c in features if types.is_numeric_dtype(frame[c]) and not types.is_bool_dtype(frame[c])]
    categorical = [c for c in features if c not in numeric]

    def features_of(part: pd.DataFrame) -> pd.DataFrame:
        X = part[features].copy()
        for c in categorical:
            X[c] = X[c].astype(object)
        return X

    X_train, X_test = features_of(split.train), features_of(split.holdout)
    y_train = split.train[target].astype(str).to_numpy(dtype=object)
    y_test = split.holdout[target].astype(str).to_numpy(dtype=object)
    missing = int(X_train.isna().sum().sum() + X_test.isna().sum().sum())
    if missing:
        fill = {c: X_train[c].median() for c in numeric}
        fill |= {c: X_train[c].mode(dropna=True).iloc[0] for c in categorical if X_train[c].notna().any()}
        X_train, X_test = X_train.fillna(fill), X_test.fillna(fill)
        notes.append(
            f"{missing} missing feature values imputed before every method (training split's median / most "
            "frequent value), since SMOTE(NC) cannot take missing values"
        )
    else:
        notes.append("no missing values")
    labels, counts = np.unique(y_train, return_counts=True)
    if minority not in set(labels):
        raise SystemExit(f"{name}: minority class {minority!r} not found in {target} (classes: {list(labels)})")
    if len(labels) != 2:
        raise SystemExit(f"{name}: {target} has {len(labels)} classes; this benchmark needs a binary target")
    if labels[np.argmin(counts)] != minority:
        notes.append(f"{minority!r} is not the smaller class of {target} in the training split")
    return Data(
        name, source, target, minority, X_train, y_train, X_test, y_test, numeric, categorical,
        rows_loaded, len(frame), notes,
    )  # fmt: skip


# --------------------------------------------------------------------------- methods
@dataclass
class Method:
    """One way of handling the imbalance: a sampler factory and/or class weights."""

    key: str
    label: str
    make_sampler: Callable[[], Any] | None = None
    class_weight: str | None = None
    model: str | None = None  # synthaug synthesizer name for our samplers
    exact_count: bool = True  # adds exactly sampling_strategy_'s rows (ADASYN spreads them by density)


def methods_for(data: Data, models: Sequence[str], *, epochs: int, seed: int) -> list[Method]:
    """The baselines and one GenerativeOverSampler per synthaug model, for ``data``'s columns."""
    from imblearn.over_sampling import ADASYN, SMOTE, SMOTEN, SMOTENC, RandomOverSampler

    import synthaug
    from synthaug.over_sampling import GenerativeOverSampler

    if data.categorical and data.numeric:
        cat_idx = [data.X_train.columns.get_loc(c) for c in data.categorical]
        smote = Method(SMOTE_KEY, "SMOTENC", lambda: SMOTENC(categorical_features=cat_idx, random_state=seed))
    elif data.categorical:
        smote = Method(SMOTE_KEY, "SMOTEN", lambda: SMOTEN(random_state=seed))
    else:
        smote = Method(SMOTE_KEY, "SMOTE", lambda: SMOTE(random_state=seed))

    def adasyn() -> Any:
        return EncodedSampler(ADASYN(random_state=seed), data.numeric, data.categorical)

    methods = [
        Method("none", "no resampling"),
        Method("class_weight", "class weights", class_weight="balanced"),
        Method("random_over", "RandomOverSampler", lambda: RandomOverSampler(random_state=seed)),
        smote,
        Method("adasyn", "ADASYN (one-hot)", adasyn, exact_count=False),
        Method(DEFAULT_KEY, "GenerativeOverSampler() (default)", lambda: GenerativeOverSampler(random_state=seed, cache=False)),
        Method(  # the default without its classifier selection: what the selection adds
            "ours-no-selection",
            "GenerativeOverSampler(selection=None)",
            lambda: GenerativeOverSampler(selection=None, random_state=seed, cache=False),
        ),
    ]
    for name in models:
        methods.append(
            Method(
                f"ours-{name}",
                f"GenerativeOverSampler({name})",
                lambda name=name: GenerativeOverSampler(
                    synthesizer=synthaug.get_synthesizer(name, epochs=epochs), random_state=seed, cache=False
                ),
                model=name,
            )
        )
    return methods


def make_classifier(kind: str, data: Data, *, class_weight: str | None, seed: int) -> Any:
    """``logreg``: impute + scale numeric, one-hot categorical, LogisticRegression(max_iter=2000);
    ``hgb``: ordinal codes for categorical columns, HistGradientBoosting with native categorical support."""
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

    if kind == "logreg":
        numeric = Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())])
        prep = ColumnTransformer(
            [("num", numeric, data.numeric), ("cat", OneHotEncoder(handle_unknown="ignore"), data.categorical)],
            sparse_threshold=0.0,
        )
        return Pipeline([("prep", prep), ("clf", LogisticRegression(max_iter=2000, class_weight=class_weight))])
    codes = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan, encoded_missing_value=np.nan)
    prep = ColumnTransformer([("cat", codes, data.categorical), ("num", "passthrough", data.numeric)])
    clf = HistGradientBoostingClassifier(
        categorical_features=list(range(len(data.categorical))) or None, class_weight=class_weight, random_state=seed
    )
    return Pipeline([("prep", prep), ("clf", clf)])


def classification_scores(model: Any, data: Data) -> dict[str, float]:
    """Balanced accuracy, minority F1, PR-AUC (average precision of the minority class), ROC AUC."""
    from sklearn.metrics import average_precision_score, balanced_accuracy_score, f1_score, roc_auc_score

    pred = model.predict(data.X_test)
    proba = model.predict_proba(data.X_test)[:, list(model.classes_).index(data.minority)]
    positive = data.y_test == data.minority
    return {
        "balanced_accuracy": float(balanced_accuracy_score(data.y_test, pred)),
        "minority_f1": float(f1_score(positive, pred == data.minority, zero_division=0)),
        "pr_auc": float(average_precision_score(positive, proba)),
        "roc_auc": float(roc_auc_score(positive, proba)),
        "predicted_minority_share": float(np.mean(pred == data.minority)),
    }


# --------------------------------------------------------------------------- distances
class NeighbourShare:
    """The closer-to-train share of rows (see ``SHARE_DEFINITION``).

    Features: numeric columns standardised (training split's median imputation, mean and
    std), categorical columns one-hot (unknown categories all zero), both fitted on the
    training split. A training sample of the test split's size keeps the comparison fair:
    with the whole training split (70 % against 30 %) even unseen rows would be nearer to
    a training row most of the time.
    """

    def __init__(self, data: Data, *, seed: int, draws: int = NEIGHBOUR_DRAWS) -> None:
        from sklearn.compose import ColumnTransformer
        from sklearn.impute import SimpleImputer
        from sklearn.model_selection import train_test_split
        from sklearn.neighbors import NearestNeighbors
        from sklearn.pipeline import Pipeline
        from sklearn.preprocessing import OneHotEncoder, StandardScaler

        numeric = Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())])
        self.encoder = ColumnTransformer(
            [("num", numeric, data.numeric), ("cat", OneHotEncoder(handle_unknown="ignore"), data.categorical)],
            sparse_threshold=0.0,
        ).fit(data.X_train)
        train = self.encode(data.X_train)
        test = self.encode(data.X_test)
        self.train_all = NearestNeighbors(n_neighbors=1).fit(train)
        self.test = NearestNeighbors(n_neighbors=2).fit(test)
        self.test_minority = test[data.y_test == data.minority]
        self.samples = []
        for draw in range(draws):
            idx, _ = train_test_split(
                np.arange(len(train)), train_size=len(test), stratify=data.y_train, random_state=seed + draw
            )
            self.samples.append(NearestNeighbors(n_neighbors=1).fit(train[idx]))
        self.draws = draws
        self.sample_rows = len(test)

    def encode(self, X: pd.DataFrame) -> np.ndarray:
        return np.asarray(self.encoder.transform(X), dtype=float)

    def share(self, rows: np.ndarray, *, leave_one_out: bool = False) -> dict[str, Any]:
        """Closer-to-train share of encoded ``rows`` (``leave_one_out``: rows are test rows themselves)."""
        k = 2 if leave_one_out else 1
        d_test = self.test.kneighbors(rows, n_neighbors=k)[0][:, k - 1]
        shares = []
        for nn in self.samples:
            d_train = nn.kneighbors(rows, n_neighbors=1)[0][:, 0]
            tie = np.isclose(d_train, d_test, rtol=1e-9, atol=1e-9)
            shares.append(float(np.mean((d_train < d_test) & ~tie) + 0.5 * np.mean(tie)))
        d_all = self.train_all.kneighbors(rows, n_neighbors=1)[0][:, 0]
        return {
            "closer_to_train_share": float(np.mean(shares)),
            "closer_to_train_share_std_over_draws": float(np.std(shares)),
            "rows": int(len(rows)),
            "training_sample_rows": self.sample_rows,
            "training_samples": self.draws,
            "exact_training_copies_share": float(np.mean(d_all <= 1e-9)),
            "median_distance_to_nearest_training_row": float(np.median(d_all)),
            "median_distance_to_nearest_test_row": float(np.median(d_test)),
        }

    def reference(self) -> dict[str, Any]:
        """The share of the minority test rows, each against the other test rows."""
        return self.share(self.test_minority, leave_one_out=True)


# --------------------------------------------------------------------------- running
@dataclass
class MethodResult:
    """What one method measured on one dataset (``error`` set when it failed)."""

    method: str
    label: str
    resample_seconds: float | None = None
    added_rows: int | None = None
    resampled_classes: dict[str, int] = field(default_factory=dict)
    neighbours: dict[str, Any] = field(default_factory=dict)
    classifiers: dict[str, dict[str, Any]] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


def _fit_score(kind: str, data: Data, method: Method, X: pd.DataFrame, y: np.ndarray, seed: int) -> dict[str, Any]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = make_classifier(kind, data, class_weight=method.class_weight, seed=seed).fit(X, y)
        scores: dict[str, Any] = classification_scores(model, data)
    messages = sorted({f"{w.category.__name__}: {str(w.message).splitlines()[0]}" for w in caught})
    if messages:
        scores["warnings"] = messages
    return scores


def run_method(method: Method, data: Data, shares: NeighbourShare, *, seed: int) -> MethodResult:
    """Resample the training split once (timed), then fit and score both classifiers on it.

    The classifiers and the distances run with one thread (``threadpoolctl``): after torch
    has trained in the same process on a small machine, OpenMP threads otherwise crawl.
    They are not timed. Failures are recorded, not raised.
    """
    from threadpoolctl import threadpool_limits

    result = MethodResult(method.key, method.label)
    X, y = data.X_train, data.y_train
    try:
        if method.make_sampler is not None:
            sampler = method.make_sampler()
            (X, y), result.resample_seconds = common.timed(lambda: sampler.fit_resample(data.X_train, data.y_train))
            X = pd.DataFrame(X, columns=data.X_train.columns) if not isinstance(X, pd.DataFrame) else X
            y = np.asarray(y, dtype=object)
            result.added_rows = len(X) - len(data.X_train)
            expected = int(sum(sampler.sampling_strategy_.values()))
            if method.exact_count and result.added_rows != expected:
                raise RuntimeError(f"{method.label} added {result.added_rows} rows, expected {expected}")
            labels, counts = np.unique(y, return_counts=True)
            result.resampled_classes = {str(k): int(v) for k, v in zip(labels, counts, strict=True)}
            params: dict[str, Any] = {k: repr(v) for k, v in sampler.get_params(deep=False).items()}
            if method.model is not None:  # the unfitted synthesizer given (the sampler seeds its clones)
                synth = sampler.get_params(deep=False)["synthesizer"]
                params["synthesizer"] = {
                    "class": type(synth).__name__,
                    "parameters": {k: repr(v) for k, v in synth.get_params().items()},
                }
                result.details["privacy_spent"] = getattr(sampler, "privacy_spent_", None)
            result.details["sampler"] = {"class": type(sampler).__name__, "parameters": params}
            with threadpool_limits(1):
                added = X.iloc[len(data.X_train) :]  # imblearn samplers and ours append after the originals
                result.neighbours = shares.share(shares.encode(added)) if len(added) else {}
        with threadpool_limits(1):
            for kind in CLASSIFIERS:
                result.classifiers[kind] = _fit_score(kind, data, method, X, y, seed)
    except Exception as exc:  # noqa: BLE001 - recorded and reported, run continues
        traceback.print_exc()
        result.error = f"{type(exc).__name__}: {exc}"
    return result


# --------------------------------------------------------------------------- comparing
def smote_comparison(row: dict[str, Any]) -> dict[str, Any]:
    """Each of our samplers against SMOTE(NC), per classifier and metric (our value minus theirs)."""
    methods = row["methods"]
    smote = methods.get(SMOTE_KEY, {})
    better, not_better, missing = [], [], []
    for key, res in methods.items():
        if not key.startswith("ours-"):
            continue
        for kind, short in CLASSIFIERS.items():
            for metric, label in METRICS.items():
                ours = (res.get("classifiers") or {}).get(kind, {}).get(metric)
                theirs = (smote.get("classifiers") or {}).get(kind, {}).get(metric)
                where = f"{key[len('ours-') :]}·{short} {label}"
                if ours is None or theirs is None:
                    missing.append(where)
                    continue
                entry = {"where": where, "ours": ours, "smote": theirs, "difference": ours - theirs}
                (better if ours > theirs else not_better).append(entry)
    return {"against": smote.get("label", "SMOTE(NC)"), "better": better, "not_better": not_better, "missing": missing}


def default_verdict(row: dict[str, Any]) -> dict[str, Any]:
    """Per classifier: the default sampler's PR-AUC against the best of the other methods (not ours)."""
    methods = row["methods"]
    ours = methods.get(DEFAULT_KEY) or {}
    verdict: dict[str, Any] = {}
    for kind, short in CLASSIFIERS.items():
        value = ((ours.get("classifiers") or {}).get(kind) or {}).get("pr_auc")
        others = {
            res["label"]: res["classifiers"][kind]["pr_auc"]
            for key, res in methods.items()
            if not key.startswith("ours-") and not res.get("error") and kind in (res.get("classifiers") or {})
        }
        if value is None or not others:
            continue
        best = max(others, key=others.get)
        verdict[short] = {"default": value, "best_other": best, "best_other_pr_auc": others[best], "gap": value - others[best]}
    return verdict


def verdict_line(row: dict[str, Any]) -> str:
    """One line: is the default sampler's PR-AUC the best of all methods, per classifier."""
    parts = [
        f"{short} {v['default']:.3f} vs best other {v['best_other_pr_auc']:.3f} ({v['best_other']}): "
        + ("best" if v["gap"] >= 0 else f"{v['gap']:+.3f}")
        for short, v in row["default_verdict"].items()
    ]
    where = f"{row['dataset']} (seed {row['seed']})" if "seed" in row else row["dataset"]
    return f"{where}: default GenerativeOverSampler PR-AUC " + ("; ".join(parts) or "not measured")


def comparison_line(row: dict[str, Any]) -> str:
    """One line: where our samplers beat SMOTE(NC) on the test split, and where they do not."""
    cmp = row["smote_comparison"]
    total = len(cmp["better"]) + len(cmp["not_better"])
    name = f"{row['dataset']} (seed {row['seed']}): ours vs {cmp['against']}"
    if total == 0:
        return f"{name}: nothing to compare ({', '.join(cmp['missing']) or 'no synthaug sampler ran'})"

    def listed(entries: list[dict[str, Any]]) -> str:
        return ", ".join(f"{e['where']} {e['difference']:+.3f}" for e in entries) or "—"

    line = (
        f"{name}: better on {len(cmp['better'])}/{total} [{listed(cmp['better'])}]; "
        f"not better (equal or worse) on {len(cmp['not_better'])}/{total} [{listed(cmp['not_better'])}]"
    )
    if cmp["missing"]:
        line += f"; not compared (failed): {', '.join(cmp['missing'])}"
    return line


# --------------------------------------------------------------------------- reporting
def machine_info(args: argparse.Namespace, models: Sequence[str], notes: Sequence[str], started: datetime) -> dict[str, Any]:
    """Platform, CPU, library versions and the run's settings."""
    import sklearn

    info = common.machine_base(
        started, {"scikit-learn": sklearn.__version__, "imbalanced-learn": common.dist_version("imbalanced-learn")}
    )
    command = info.pop("command")
    info["settings"] = {
        "epochs": args.epochs,
        "seeds": list(args.seeds),
        "max_rows": args.max_rows,
        "holdout_share": tabular.HOLDOUT_SHARE,
        "split": "sklearn train_test_split(test_size=0.3, random_state=seed, stratified on the target)",
        "subsample": "tables over --max-rows rows: "
        "train_test_split(train_size=max_rows, random_state=seed, stratified on the target)",
        "models": list(models),
        "classifiers": {
            "logreg": "median imputation + StandardScaler (numeric), OneHotEncoder(handle_unknown='ignore') "
            "(categorical), LogisticRegression(max_iter=2000[, class_weight='balanced'])",
            "hgb": "OrdinalEncoder (categorical, unknown -> missing), HistGradientBoostingClassifier("
            "categorical_features=<the categorical columns>[, class_weight='balanced'], random_state=seed)",
        },
        "resampling": "sampling_strategy='auto' (minority up to the majority count) on the training split only; "
        "one fit_resample per method (timed), shared by both classifiers, which are fitted on the resampled rows",
        "seeding": {
            "split_and_subsample": "random_state=seed",
            "samplers": "random_state=seed (RandomOverSampler, SMOTE*, GenerativeOverSampler; its synthesizer is "
            "get_synthesizer(name, epochs=epochs) and gets its seed from the sampler)",
            "classifiers": "HistGradientBoostingClassifier(random_state=seed); LogisticRegression is deterministic",
            "neighbour_samples": f"train_test_split(random_state=seed + i) for i in range({NEIGHBOUR_DRAWS})",
        },
        "closer_to_train_share": SHARE_DEFINITION,
        "datasets": list(args.datasets),
        "targets": {name: {"target": common.TARGETS[name], "minority": MINORITY[name]} for name in args.datasets},
        "notes": list(notes),
    }
    info["command"] = command
    return info


def _share(res: dict[str, Any]) -> str:
    return common.fmt((res.get("neighbours") or {}).get("closer_to_train_share"), ".3f")


def markdown_table(rows: Sequence[dict[str, Any]]) -> str:
    """Per dataset: the reference share, then one line per method with both classifiers' scores."""
    header = ["dataset", "method", "resample s", "added rows", "closer-to-train share", "training copies"]
    header += [f"{short} {label}" for short in CLASSIFIERS.values() for label in METRICS.values()]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        d = row["data"]
        sub = ""
        if d["rows_used"] < d["rows_loaded"]:
            sub = f"{d['rows_used']} of {d['rows_loaded']} rows (stratified subsample), "
        label = (
            f"{row['dataset']}, seed {row['seed']} ({sub}{d['train_rows']}+{d['test_rows']} x {d['features']}; "
            f"{d['target']}={d['minority']} {d['test_minority_share']:.1%} of test = no-skill PR-AUC)"
        )
        ref = common.fmt(row["reference"].get("closer_to_train_share"), ".3f")
        copies = common.fmt(row["reference"].get("exact_training_copies_share"), ".1%")
        cells = [label, f"*{REFERENCE}*", "", "", ref, copies] + [""] * (len(header) - 6)
        lines.append("| " + " | ".join(cells) + " |")
        for res in row["methods"].values():
            if res.get("error"):
                cells = ["failed"] + [""] * (len(header) - 3)
            else:
                cells = [
                    common.fmt(res.get("resample_seconds"), ".2f"),
                    "" if res.get("added_rows") is None else str(res["added_rows"]),
                    _share(res),
                    common.fmt((res.get("neighbours") or {}).get("exact_training_copies_share"), ".1%"),
                ]
                for kind in CLASSIFIERS:
                    scores = res["classifiers"].get(kind, {})
                    cells += [common.fmt(scores.get(metric), ".3f") for metric in METRICS]
            lines.append("| " + " | ".join(["", res["label"], *cells]) + " |")
    return "\n".join(lines)


def markdown_report(info: dict[str, Any], rows: Sequence[dict[str, Any]], summary: Sequence[dict[str, Any]]) -> str:
    """A Markdown document: settings, machine, definitions, means over seeds, per-seed tables, SMOTE
    comparison, notes, errors."""
    v, s = info["versions"], info["settings"]
    lines = [
        f"# Oversampling benchmark ({info['timestamp_utc']})",
        "",
        f"- command: `{info['command']}`",
        f"- machine: {info['platform']}, {info['processor']}, {info['cpu_count']} CPUs "
        f"(torch threads {info['torch_threads']}), CUDA available: {info['cuda_available']}",
        f"- versions: synthaug {v['synthaug']}, scikit-learn {v['scikit-learn']}, imbalanced-learn "
        f"{v['imbalanced-learn']}, torch {v['torch']}, pandas {v['pandas']}, numpy {v['numpy']}, "
        f"python {info['python']}",
        f"- settings: seeds {s['seeds']} (each: split, subsample, samplers, HGB), epochs {s['epochs']} for our samplers' "
        f"synthesizers, --max-rows {s['max_rows']}, stratified {1 - tabular.HOLDOUT_SHARE:.0%}/"
        f"{tabular.HOLDOUT_SHARE:.0%} train/test split",
        "- methods: no resampling; class_weight='balanced' on the classifier; RandomOverSampler; SMOTENC "
        "(SMOTE without categorical columns); GenerativeOverSampler(synthesizer=get_synthesizer(name, "
        "epochs=E), random_state=seed). Samplers balance the classes on the training split only "
        "(one `fit_resample` per method, timed as *resample s*); both classifiers are then fitted on the "
        "resampled rows (as in an imblearn Pipeline); the test split is never resampled.",
        f"- classifiers: LR = {s['classifiers']['logreg']}; HGB = {s['classifiers']['hgb']}",
        "- scores on the test split: balanced accuracy, F1 of the minority class, PR-AUC = average precision "
        "of the minority class's predicted probability (a classifier without skill scores the minority share)",
        f"- {SHARE_DEFINITION}",
        "",
        "## Means over the seeds (the acceptance check of the default sampler)",
        "",
        summary_table(summary),
        "",
        *[f"- {row['verdict_line']}" for row in summary],
        "",
        "## Every run",
        "",
        markdown_table(rows),
        "",
        "Where our samplers beat SMOTE(NC) (our score minus SMOTE(NC)'s, one run each; small differences are noise):",
        "",
        *[f"- {row['comparison_line']}" for row in rows],
        "",
        "The default sampler against the best other method (PR-AUC, one run each):",
        "",
        *[f"- {row['verdict_line']}" for row in rows],
    ]
    notes = [*s.get("notes", []), *dict.fromkeys(f"{row['dataset']}: {n}" for row in rows for n in row["data"]["notes"])]
    lines += ["", "Notes:", *[f"- {n}" for n in notes]]
    errors = [
        f"- {row['dataset']} / {res['label']}: {res['error']}"
        for row in rows
        for res in row["methods"].values()
        if res.get("error")
    ]
    if errors:
        lines += ["", "Errors:", *errors]
    return "\n".join(lines) + "\n"


def _print_result(res: MethodResult) -> None:
    if res.error:
        print(f"  {res.label:32s} FAILED: {res.error}", flush=True)
        return
    head = f"  {res.label:32s}"
    if res.resample_seconds is not None:
        head += (
            f" resample {res.resample_seconds:7.2f} s, +{res.added_rows} rows, "
            f"closer-to-train {common.fmt(res.neighbours.get('closer_to_train_share'), '.3f')}, "
            f"copies {common.fmt(res.neighbours.get('exact_training_copies_share'), '.0%')} |"
        )
    parts = [
        f"{short} " + " ".join(f"{label} {common.fmt(res.classifiers[kind].get(m), '.3f')}" for m, label in METRICS.items())
        for kind, short in CLASSIFIERS.items()
    ]
    print(head + " " + " | ".join(parts), flush=True)


# --------------------------------------------------------------------------- main
def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--datasets", nargs="+", choices=DATASETS, default=list(DATASETS),
        help="datasets to run (default: all); targets: "
        + ", ".join(f"{d} -> {common.TARGETS[d]} (minority {MINORITY[d]!r})" for d in DATASETS),
    )  # fmt: skip
    parser.add_argument(
        "--models", nargs="*", choices=OUR_MODELS, default=[],
        help="synthaug synthesizers behind further GenerativeOverSampler rows, each with --epochs (default: none; "
        "the default sampler always runs)",
    )  # fmt: skip
    parser.add_argument(
        "--epochs", type=int, default=DEFAULT_EPOCHS,
        help=f"training epochs of our synthesizers (default {DEFAULT_EPOCHS})",
    )  # fmt: skip
    parser.add_argument(
        "--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4],
        help="seeds, one run each (subsample, split, samplers, classifiers), then means (default 0 1 2 3 4)",
    )  # fmt: skip
    parser.add_argument(
        "--max-rows", type=int, default=DEFAULT_MAX_ROWS,
        help=f"subsample larger tables (cps1988) to this many rows, stratified and seeded; 0: no subsampling "
        f"(default {DEFAULT_MAX_ROWS})",
    )  # fmt: skip
    common.add_path_arguments(parser)
    args = parser.parse_args(argv)
    if args.epochs < 1:
        parser.error("--epochs must be positive")
    if args.max_rows < 0:
        parser.error("--max-rows must be 0 (no subsampling) or positive")
    return args


def run_dataset(name: str, frame: pd.DataFrame, source: str, args: argparse.Namespace, models: Sequence[str], seed: int) -> dict:
    """Every method on one dataset and seed: the row of the report."""
    from threadpoolctl import threadpool_limits

    data = prepare(name, frame, source, seed=seed, max_rows=args.max_rows or None)
    d = data.describe()
    print(
        f"\n== {name}, seed {seed}: {frame.shape[0]} x {frame.shape[1]} ({source}); target {data.target}, minority "
        f"{data.minority!r}; train {d['train_classes']}, test {d['test_classes']}",
        flush=True,
    )
    for note in data.notes:
        print(f"  note: {note}", flush=True)
    with threadpool_limits(1):  # see run_method
        shares = NeighbourShare(data, seed=seed)
        reference = shares.reference()
    print(f"  {'*' + REFERENCE + '*':32s} closer-to-train {reference['closer_to_train_share']:.3f}", flush=True)
    results = {}
    for method in methods_for(data, models, epochs=args.epochs, seed=seed):  # one after the other
        results[method.key] = res = run_method(method, data, shares, seed=seed)
        _print_result(res)
    methods = {k: asdict(v) for k, v in results.items()}
    row = {"dataset": name, "seed": seed, "data": d, "reference": reference, "methods": methods}
    row["smote_comparison"] = smote_comparison(row)
    row["comparison_line"] = comparison_line(row)
    row["default_verdict"] = default_verdict(row)
    row["verdict_line"] = verdict_line(row)
    return row


def mean_over_seeds(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per dataset, every method's PR-AUC (per classifier), resample seconds and closer-to-train share
    averaged over the seeds, with the default sampler's verdict on the means."""
    summary = []
    for name in dict.fromkeys(row["dataset"] for row in rows):
        runs = [row for row in rows if row["dataset"] == name]
        methods: dict[str, Any] = {}
        for key, first in runs[0]["methods"].items():
            results = [run["methods"][key] for run in runs if not run["methods"][key].get("error")]
            if not results:
                continue
            per_seed = {kind: [r["classifiers"][kind]["pr_auc"] for r in results] for kind in CLASSIFIERS}
            seconds = [r["resample_seconds"] for r in results if r.get("resample_seconds") is not None]
            shares = [(r.get("neighbours") or {}).get("closer_to_train_share") for r in results]
            shares = [v for v in shares if v is not None]
            methods[key] = {
                "label": first["label"],
                "seeds": [run["seed"] for run in runs if not run["methods"][key].get("error")],
                "classifiers": {kind: {"pr_auc": float(np.mean(v)), "pr_auc_per_seed": v} for kind, v in per_seed.items()},
                "resample_seconds": float(np.mean(seconds)) if seconds else None,
                "resample_seconds_max": float(np.max(seconds)) if seconds else None,
                "closer_to_train_share": float(np.mean(shares)) if shares else None,
            }
        row = {"dataset": name, "methods": methods}
        row["default_verdict"] = default_verdict(row)
        row["verdict_line"] = verdict_line(row).replace("PR-AUC", f"mean PR-AUC over {len(runs)} seeds", 1)
        summary.append(row)
    return summary


def summary_table(summary: Sequence[dict[str, Any]]) -> str:
    """Markdown: mean PR-AUC per classifier, resample seconds (mean, max) and closer-to-train share."""
    header = ["dataset", "method", "resample s (mean / max)", "closer-to-train share"]
    header += [f"{short} PR-AUC (mean)" for short in CLASSIFIERS.values()]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in summary:
        for i, res in enumerate(row["methods"].values()):
            seconds = ""
            if res["resample_seconds"] is not None:
                seconds = f"{res['resample_seconds']:.2f} / {res['resample_seconds_max']:.2f}"
            cells = [row["dataset"] if i == 0 else "", res["label"], seconds, common.fmt(res["closer_to_train_share"], ".3f")]
            cells += [f"{res['classifiers'][kind]['pr_auc']:.3f}" for kind in CLASSIFIERS]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; return 0 on success, 1 if any method failed."""
    args = parse_args(argv)
    started = datetime.now(UTC)
    runners, notes = tabular.our_runners(args.models)
    models = [r.model for r in runners]
    for note in notes:
        print(note, flush=True)
    info = machine_info(args, models, notes, started)
    print(
        f"oversampling benchmark: seeds={args.seeds} epochs={args.epochs} max_rows={args.max_rows} "
        f"models={models} ({info['cpu_count']} CPUs)",
        flush=True,
    )
    tables = {name: common.load_table(name, args.data_dir) for name in args.datasets}  # fail before any training
    rows = [
        run_dataset(name, frame, source, args, models, seed) for name, (frame, source) in tables.items() for seed in args.seeds
    ]
    summary = mean_over_seeds(rows)
    report = markdown_report(info, rows, summary)
    print("\n" + markdown_table(rows) + "\n")
    for row in rows:
        print(row["comparison_line"])
    for row in rows:
        print(row["verdict_line"])
    print("\n" + summary_table(summary) + "\n")
    for row in summary:
        print(row["verdict_line"])
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    base = args.output_dir / f"oversampling_{stamp}_s{len(args.seeds)}"
    payload = {"benchmark": "oversampling", **info, "results": rows, "mean_over_seeds": summary}
    common.write_atomic(base.with_suffix(".json"), json.dumps(payload, indent=2, default=tabular._json_default) + "\n")
    common.write_atomic(base.with_suffix(".md"), report)
    print(f"\nwrote {base.with_suffix('.json')} and {base.with_suffix('.md')}")
    return 1 if any(res["error"] for row in rows for res in row["methods"].values()) else 0


if __name__ == "__main__":
    sys.exit(main())
