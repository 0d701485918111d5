"""Utility metrics: how useful a synthetic table is for learning a task on the real data.

:func:`train_synthetic_test_real` trains the same model once on the synthetic table
(TSTR) and once on the real training table (TRTR) and tests both on a real holdout.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.metrics import (
    average_precision_score,
    balanced_accuracy_score,
    f1_score,
    mean_absolute_error,
    r2_score,
    roc_auc_score,
)
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder
from sklearn.utils import check_random_state

from ..exceptions import DataValidationError, MetricNotApplicable
from ..schema import ColumnSpec, TableSchema, infer_schema
from ..transform.columns import to_float
from .inputs import TableInputs
from .registry import metric
from .result import MetricResult

_MISSING = "<missing>"


# --------------------------------------------------------------------------- preprocessing
def category_labels(series: pd.Series, spec: ColumnSpec) -> np.ndarray:
    """Discrete values as canonical strings (NaN where missing), one column of an object array.

    Values equal to one of the schema's categories take that category's text, so that e.g.
    ``1`` in the real table and ``1.0`` in a synthetic one become the same label.
    """
    values = series.astype(object).reset_index(drop=True)
    missing = values.isna().to_numpy()
    labels = values.map(str).to_numpy(dtype=object)
    if spec.categories:
        known = np.array([str(c) for c in spec.categories], dtype=object)
        try:
            idx = pd.Index(spec.categories, dtype=object).get_indexer(pd.Index(values))
        except TypeError:  # unhashable values: keep their text
            idx = np.full(len(values), -1)
        labels = np.where(idx >= 0, known[np.maximum(idx, 0)], labels)
    labels[missing] = np.nan
    return labels


class _FloatView:
    """Float view of numeric / datetime columns (datetimes as seconds), for a FunctionTransformer."""

    def __init__(self, specs: dict[str, ColumnSpec]) -> None:
        self.specs = specs

    def __call__(self, frame: pd.DataFrame) -> np.ndarray:
        return np.column_stack([to_float(frame[c], self.specs[c]) for c in frame.columns])


class _Labels:
    """Canonical text labels of discrete columns (NaN where missing), for a FunctionTransformer."""

    def __init__(self, specs: dict[str, ColumnSpec]) -> None:
        self.specs = specs

    def __call__(self, frame: pd.DataFrame) -> np.ndarray:
        return np.column_stack([category_labels(frame[c], self.specs[c]) for c in frame.columns])


def feature_preprocessor(schema: TableSchema, features: list[str]) -> ColumnTransformer:
    """A ColumnTransformer for ``features``: numeric and datetime columns as floats with
    median imputation; discrete columns one-hot encoded (unknown categories ignored) after
    imputing missing values as a category of their own. Output is dense."""
    specs = {name: schema[name] for name in features}
    numeric = [c for c in features if not specs[c].is_discrete]
    discrete = [c for c in features if specs[c].is_discrete]
    parts: list[tuple[str, Any, list[str]]] = []
    if numeric:
        parts.append(
            (
                "numeric",
                Pipeline(
                    [
                        ("float", FunctionTransformer(_FloatView(specs), validate=False)),
                        ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
                    ]
                ),
                numeric,
            )
        )
    if discrete:
        parts.append(
            (
                "categorical",
                Pipeline(
                    [
                        ("labels", FunctionTransformer(_Labels(specs), validate=False)),
                        ("impute", SimpleImputer(strategy="constant", fill_value=_MISSING, keep_empty_features=True)),
                        ("onehot", OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
                    ]
                ),
                discrete,
            )
        )
    return ColumnTransformer(parts, remainder="drop", sparse_threshold=0.0)


# --------------------------------------------------------------------------- scoring
def _class_scores(model: Any, X: pd.DataFrame) -> np.ndarray | None:
    """Per-class scores aligned with ``model.classes_`` (probabilities or decision values)."""
    if hasattr(model, "predict_proba"):
        return np.asarray(model.predict_proba(X), dtype=float)
    if hasattr(model, "decision_function"):
        scores = np.asarray(model.decision_function(X), dtype=float)
        return np.column_stack([-scores, scores]) if scores.ndim == 1 else scores
    return None


def _column(scores: np.ndarray, classes: list[Any], label: Any) -> np.ndarray:
    """Scores of ``label`` (zeros when the model never saw that class)."""
    return scores[:, classes.index(label)] if label in classes else np.zeros(scores.shape[0])


def _classification_metrics(
    model: Any, X: pd.DataFrame, y: np.ndarray, *, positive: Any, binary: bool, labels: list[Any]
) -> dict[str, float | None]:
    pred = model.predict(X)
    scores = _class_scores(model, X)
    classes = list(model.classes_)
    auc: float | None
    if scores is None:
        auc = None
    elif binary:
        auc = float(roc_auc_score(y == positive, _column(scores, classes, positive)))
    else:  # macro one-vs-rest over the classes present in the holdout
        present = [c for c in labels if c in set(y)]
        auc = float(np.mean([roc_auc_score(y == c, _column(scores, classes, c)) for c in present]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # y_pred may hold classes absent from y_true
        balanced = float(balanced_accuracy_score(y, pred))
        f1 = float(f1_score(y, pred, labels=labels, average="macro", zero_division=0))
    return {"roc_auc": auc, "balanced_accuracy": balanced, "f1_macro": f1}


def _regression_metrics(model: Any, X: pd.DataFrame, y: np.ndarray) -> dict[str, float]:
    pred = model.predict(X)
    return {"r2": float(r2_score(y, pred)), "mae": float(mean_absolute_error(y, pred))}


def _seed(random_state: Any) -> int | None:
    """An int seed (or None) for the default estimators, so both fits draw the same stream."""
    if random_state is None or isinstance(random_state, numbers.Integral):
        return None if random_state is None else int(random_state)
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


def _default_estimator(classification: bool, random_state: int | None) -> BaseEstimator:
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    if classification:
        return HistGradientBoostingClassifier(random_state=random_state)
    return HistGradientBoostingRegressor(random_state=random_state)


# --------------------------------------------------------------------------- shared task set-up
_TABLES = ("real_train", "synthetic", "real_holdout")
# the declaration the two task metrics share (registry.metric keywords)
_TASK_METRIC: dict[str, Any] = {
    "section": "utility",
    "direction": "higher",
    "inputs": TableInputs,
    "needs": ("target", "holdout"),
    "headline": True,
    "suite": ("estimator",),
}


def _task_features(name: str, inputs: TableInputs) -> tuple[TableSchema, list[str]]:
    """The schema and the feature columns (every schema column but the target), checked in every table."""
    target = inputs.target
    tables = {label: getattr(inputs, label) for label in _TABLES}
    for label, table in tables.items():
        if target not in table.columns:
            raise DataValidationError(f"target {target!r} is not a column of {label} (columns: {list(table.columns)})")
    schema = inputs.schema if inputs.schema is not None else infer_schema(inputs.real_train)
    features = [c for c in schema.names if c != target]
    if not features:
        raise MetricNotApplicable(f"{name} needs at least one feature column besides the target")
    for label in _TABLES[1:]:
        missing = [c for c in features if c not in tables[label].columns]
        if missing:
            raise DataValidationError(f"{label} lacks feature column(s) {missing}")
    return schema, features


def _labelled_rows(table: pd.DataFrame, target: str, spec: ColumnSpec, features: list[str]) -> tuple[pd.DataFrame, np.ndarray]:
    """Features and target values (class labels or floats) of the rows whose target is present."""
    y = category_labels(table[target], spec) if spec.is_discrete else to_float(table[target], spec)
    keep = ~pd.isna(y)
    X = table.loc[keep, features].reset_index(drop=True) if not keep.all() else table[features]
    return X, y[keep]


def _minority(y: np.ndarray) -> tuple[pd.Series, Any]:
    """Class counts and the minority class (the rarest; ties: the smallest label)."""
    counts = pd.Series(y).value_counts()
    return counts, min(counts.items(), key=lambda kv: (kv[1], kv[0]))[0]


def _fitted(schema: TableSchema, features: list[str], estimator: BaseEstimator, X: pd.DataFrame, y: np.ndarray) -> Pipeline:
    return Pipeline([("features", feature_preprocessor(schema, features)), ("model", clone(estimator))]).fit(X, y)


# --------------------------------------------------------------------------- train synthetic, test real
_ONE_CLASS = {
    "synthetic": "a classifier cannot be trained on it, so there is no TSTR score",
    "real_train": "a classifier cannot be trained on it, so there is no TRTR reference",
    "real_holdout": "ROC AUC is undefined on it",
}


def _tstr_tables(inputs: TableInputs, schema: TableSchema, features: list[str]) -> tuple[dict[str, Any], dict[str, int]]:
    """Rows with a target value of each table, and how many were dropped for a missing target."""
    target, spec = inputs.target, schema[inputs.target]
    tables, dropped = {}, {}
    for label in _TABLES:
        table = getattr(inputs, label)
        tables[label] = _labelled_rows(table, target, spec, features)
        dropped[label] = int(len(table) - len(tables[label][1]))
        if dropped[label] == len(table):
            raise MetricNotApplicable(f"{label} has no rows with a value of target {target!r}")
        if spec.is_discrete and len(classes := pd.unique(tables[label][1])) < 2:
            raise MetricNotApplicable(f"the {label} target {target!r} has only one class ({classes[0]!r}): " + _ONE_CLASS[label])
    return tables, dropped


def _tstr_scorer(tables: dict[str, Any], classification: bool) -> tuple[str, dict[str, Any], Callable[[Any], dict]]:
    """The main score's name, the task's details and the function that scores a fitted model on the holdout."""
    X_test, y_test = tables["real_holdout"]
    if not classification:
        return "r2", {}, lambda model: _regression_metrics(model, X_test, y_test)
    counts, positive = _minority(tables["real_train"][1])
    labels = sorted(set(counts.index) | set(y_test))
    binary = len(counts) == 2
    task = {
        "classes": [str(c) for c in counts.index],
        "averaging": "binary" if binary else "macro one-vs-rest",
        "positive_class": positive if binary else None,
    }
    return "roc_auc", task, lambda m: _classification_metrics(m, X_test, y_test, positive=positive, binary=binary, labels=labels)


@metric(
    name="train_synthetic_test_real",
    **_TASK_METRIC,
    caption="A model trained on synthetic rows and tested on real holdout rows (TSTR); the "
    "reference is the same model trained on real rows (TRTR).",
)
def train_synthetic_test_real(inputs: TableInputs, *, estimator: BaseEstimator | None = None) -> MetricResult:
    """Train on synthetic, test on real (TSTR), with train-on-real (TRTR) as the reference.

    The same (cloned) ``estimator`` is fitted on ``synthetic`` and on ``real_train`` and both
    are scored on ``real_holdout``. The task is classification when ``target`` is discrete in
    ``schema`` (inferred from ``real_train`` when None), else regression. The default
    estimator is ``HistGradientBoostingClassifier`` / ``Regressor(random_state=...)``; a given
    estimator is cloned and used as is. Features (every column but the target) go through
    :func:`feature_preprocessor`; rows with a missing target are dropped.

    Value: TSTR ROC AUC (classification; binary: of the positive class, the minority class
    of ``real_train``; multi-class: macro one-vs-rest) or TSTR R² (regression); higher is
    better. ``details`` hold ``tstr`` and ``trtr`` metric dicts (classification: ``roc_auc``,
    ``balanced_accuracy``, ``f1_macro``; regression: ``r2``, ``mae``), ``trtr_score`` and
    ``ratio`` = TSTR / TRTR of the main score (None when TRTR <= 0); ``reference`` is the
    TRTR score.

    Raises:
        MetricNotApplicable: without ``real_holdout`` or ``target``, when a table has no usable
            rows, or a target used for classification has a single class in ``real_train``,
            ``synthetic`` or ``real_holdout``.
        DataValidationError: when the target or a feature is not a column of a table.
    """
    schema, features = _task_features("train_synthetic_test_real", inputs)
    classification = schema[inputs.target].is_discrete
    tables, dropped = _tstr_tables(inputs, schema, features)
    main, task, score = _tstr_scorer(tables, classification)
    base = estimator if estimator is not None else _default_estimator(classification, _seed(inputs.random_state))
    runs = {
        run: score(_fitted(schema, features, base, *tables[source]))
        for run, source in (("tstr", "synthetic"), ("trtr", "real_train"))
    }
    tstr, trtr = runs["tstr"][main], runs["trtr"][main]
    details: dict[str, Any] = {"task": "classification" if classification else "regression", "target": inputs.target, **task}
    details.update(
        {
            "metric": main,
            "tstr": runs["tstr"],
            "trtr": runs["trtr"],
            "trtr_score": trtr,
            "reference": trtr,
            "reference_note": "train on real (TRTR): the same model trained on real_train",
            "ratio": tstr / trtr if tstr is not None and trtr is not None and trtr > 0 else None,
            "estimator": repr(base),
            "n_rows": {label: int(len(tables[label][1])) for label in tables},
            "dropped_missing_target": dropped,
        }
    )
    if tstr is None:
        details["note"] = f"the estimator has neither predict_proba nor decision_function: no {main}"
    return MetricResult("train_synthetic_test_real", float("nan") if tstr is None else float(tstr), "higher", details)


# --------------------------------------------------------------------------- augmentation gain
def _minority_scores(model: Any, X: pd.DataFrame, y: np.ndarray, minority: Any) -> dict[str, float | None]:
    pred = model.predict(X)
    scores = _class_scores(model, X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        balanced = float(balanced_accuracy_score(y, pred))
    pr_auc = (
        None if scores is None else float(average_precision_score(y == minority, _column(scores, list(model.classes_), minority)))
    )
    return {
        "balanced_accuracy": balanced,
        "minority_f1": float(f1_score(y == minority, pred == minority, zero_division=0)),
        "pr_auc": pr_auc,
    }


@metric(
    name="augmentation_gain",
    **_TASK_METRIC,
    caption="Gain in balanced accuracy from adding the synthetic rows to the real training rows.",
)
def augmentation_gain(inputs: TableInputs, *, estimator: BaseEstimator | None = None) -> MetricResult:
    """Gain from training on real + synthetic rows instead of real rows alone, for a (imbalanced) classification target.

    The same (cloned) ``estimator`` (default ``HistGradientBoostingClassifier``) is fitted on
    ``real_train`` and on ``real_train`` + ``synthetic`` and scored on ``real_holdout``:
    balanced accuracy, F1 of the minority class of ``real_train`` and PR-AUC (average
    precision) of that class. Value: the gain in balanced accuracy (higher is better);
    ``details`` hold both score sets and every gain. Reference: 0, the real-only model.

    Raises:
        MetricNotApplicable: without a holdout or target, when the target is not discrete
            (regression has no minority class) or has a single class in real_train.
        DataValidationError: when the target or a feature is missing from a table.
    """
    name, target = "augmentation_gain", inputs.target
    schema, features = _task_features(name, inputs)
    spec = schema[target]
    if not spec.is_discrete:
        raise MetricNotApplicable(f"{name} needs a discrete target; {target!r} is {spec.kind}")
    (X_real, y_real), (X_syn, y_syn), (X_test, y_test) = (
        _labelled_rows(getattr(inputs, t), target, spec, features) for t in _TABLES
    )
    if pd.Series(y_real).nunique() < 2:
        raise MetricNotApplicable(f"the real_train target {target!r} has a single class: there is nothing to classify")
    if len(y_test) == 0:
        raise MetricNotApplicable(f"real_holdout has no rows with a value of target {target!r}")
    counts, minority = _minority(y_real)
    base = estimator if estimator is not None else _default_estimator(True, _seed(inputs.random_state))
    X_aug = pd.concat([X_real.astype(object), X_syn.astype(object)], ignore_index=True)
    y_aug = np.concatenate([y_real, y_syn])
    scores = {
        run: _minority_scores(_fitted(schema, features, base, X, y), X_test, y_test, minority)
        for run, (X, y) in {"real_only": (X_real, y_real), "augmented": (X_aug, y_aug)}.items()
    }
    gains = {
        k: None if scores["augmented"][k] is None else scores["augmented"][k] - scores["real_only"][k]
        for k in scores["real_only"]
    }
    details: dict[str, Any] = {
        "target": target,
        "minority_class": minority,
        "class_counts": {"real_train": counts.to_dict(), "synthetic": pd.Series(y_syn).value_counts().to_dict()},
        "real_only": scores["real_only"],
        "augmented": scores["augmented"],
        "gains": gains,
        "reference": 0.0,
        "reference_note": "no gain: the model trained on real rows only",
        "estimator": repr(base),
    }
    return MetricResult(name, float(gains["balanced_accuracy"]), "higher", details)
