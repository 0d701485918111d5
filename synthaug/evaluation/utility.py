"""Utility metrics: how useful a synthetic table is for learning a task on the real data.

:func:`train_synthetic_test_real` trains the same model once on the synthetic table
(TSTR) and once on the real training table (TRTR) and tests both on a real holdout.
"""

from __future__ import annotations

import numbers
import warnings
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

from ..schema import ColumnSpec, TableSchema, infer_schema
from ..transform.columns import to_float
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
        except (TypeError, ValueError):  # unhashable or odd values: keep their text
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


# --------------------------------------------------------------------------- metric
def train_synthetic_test_real(
    real_train: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    real_holdout: pd.DataFrame | None = None,
    target: str | None = None,
    estimator: BaseEstimator | None = None,
    schema: TableSchema | None = None,
    random_state: Any = None,
) -> MetricResult:
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
        ValueError: when ``real_holdout`` or ``target`` is missing, the target is not a column
            of a table, a table has no usable rows, or a target used for classification has a
            single class in ``real_train``, ``synthetic`` or ``real_holdout``.
    """
    if real_holdout is None:
        raise ValueError("train_synthetic_test_real needs a real_holdout: real rows kept out of training, to test on")
    if target is None:
        raise ValueError("train_synthetic_test_real needs a target: the name of the column to predict")
    for label, table in (("real_train", real_train), ("synthetic", synthetic), ("real_holdout", real_holdout)):
        if target not in table.columns:
            raise ValueError(f"target {target!r} is not a column of {label} (columns: {list(table.columns)})")
    schema = schema if schema is not None else infer_schema(real_train)
    features = [c for c in schema.names if c != target]
    if not features:
        raise ValueError("train_synthetic_test_real needs at least one feature column besides the target")
    for label, table in (("synthetic", synthetic), ("real_holdout", real_holdout)):
        missing = [c for c in features if c not in table.columns]
        if missing:
            raise ValueError(f"{label} lacks feature column(s) {missing}")

    spec = schema[target]
    classification = spec.is_discrete
    tables: dict[str, tuple[pd.DataFrame, np.ndarray]] = {}
    dropped: dict[str, int] = {}
    for label, table in (("real_train", real_train), ("synthetic", synthetic), ("real_holdout", real_holdout)):
        y = category_labels(table[target], spec) if classification else to_float(table[target], spec)
        keep = ~pd.isna(y)
        dropped[label] = int((~keep).sum())
        if not keep.any():
            raise ValueError(f"{label} has no rows with a value of target {target!r}")
        X = table.loc[keep, features].reset_index(drop=True) if not keep.all() else table[features]
        tables[label] = (X, y[keep])

    details: dict[str, Any] = {"task": "classification" if classification else "regression", "target": target}
    if classification:
        counts = pd.Series(tables["real_train"][1]).value_counts()
        for label in ("real_train", "synthetic", "real_holdout"):
            classes = pd.unique(tables[label][1])
            if len(classes) < 2:
                raise ValueError(
                    f"the {label} target {target!r} has only one class ({classes[0]!r}): "
                    + {
                        "synthetic": "a classifier cannot be trained on it, so there is no TSTR score",
                        "real_train": "a classifier cannot be trained on it, so there is no TRTR reference",
                        "real_holdout": "ROC AUC is undefined on it",
                    }[label]
                )
        positive = min(counts.items(), key=lambda kv: (kv[1], kv[0]))[0]
        labels = sorted(set(counts.index) | set(tables["real_holdout"][1]))
        binary = len(counts) == 2
        main = "roc_auc"
        details.update(
            {
                "classes": [str(c) for c in counts.index],
                "averaging": "binary" if binary else "macro one-vs-rest",
                "positive_class": positive if binary else None,
            }
        )
    else:
        main = "r2"

    seed = _seed(random_state)
    base = estimator if estimator is not None else _default_estimator(classification, seed)
    X_test, y_test = tables["real_holdout"]
    results: dict[str, dict[str, Any]] = {}
    for run, source in (("tstr", "synthetic"), ("trtr", "real_train")):
        X, y = tables[source]
        model = Pipeline([("features", feature_preprocessor(schema, features)), ("model", clone(base))])
        model.fit(X, y)
        if classification:
            results[run] = _classification_metrics(model, X_test, y_test, positive=positive, binary=binary, labels=labels)
        else:
            results[run] = _regression_metrics(model, X_test, y_test)

    tstr, trtr = results["tstr"][main], results["trtr"][main]
    details.update(
        {
            "metric": main,
            "tstr": results["tstr"],
            "trtr": results["trtr"],
            "trtr_score": trtr,
            "reference": trtr,
            "reference_note": "train on real (TRTR): the same model trained on real_train",
            "ratio": tstr / trtr if tstr is not None and trtr is not None and trtr > 0 else None,
            "estimator": repr(base),
            "n_rows": {label: int(len(tables[label][1])) for label in tables},
            "dropped_missing_target": dropped,
        }
    )
    value = float("nan") if tstr is None else float(tstr)
    if tstr is None:
        details["note"] = f"the estimator has neither predict_proba nor decision_function: no {main}"
    return MetricResult("train_synthetic_test_real", value, "higher", details)


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


def augmentation_gain(
    real_train: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    real_holdout: pd.DataFrame | None = None,
    target: str | None = None,
    estimator: BaseEstimator | None = None,
    schema: TableSchema | None = None,
    random_state: Any = None,
) -> MetricResult:
    """Gain from training on real + synthetic rows instead of real rows alone, for a (imbalanced) classification target.

    The same (cloned) ``estimator`` (default ``HistGradientBoostingClassifier``) is fitted on
    ``real_train`` and on ``real_train`` + ``synthetic`` and scored on ``real_holdout``:
    balanced accuracy, F1 of the minority class of ``real_train`` and PR-AUC (average
    precision) of that class. Value: the gain in balanced accuracy (higher is better);
    ``details`` hold both score sets and every gain. Reference: 0, the real-only model.

    Raises:
        ValueError: without a holdout or target, when the target is missing from a table, is
            not discrete (regression has no minority class), or has a single class in real_train.
    """
    name = "augmentation_gain"
    if real_holdout is None:
        raise ValueError(f"{name} needs a real_holdout: real rows kept out of training, to test on")
    if target is None:
        raise ValueError(f"{name} needs a target: the name of the class column")
    for label, table in (("real_train", real_train), ("synthetic", synthetic), ("real_holdout", real_holdout)):
        if target not in table.columns:
            raise ValueError(f"target {target!r} is not a column of {label} (columns: {list(table.columns)})")
    schema = schema if schema is not None else infer_schema(real_train)
    spec = schema[target]
    if not spec.is_discrete:
        raise ValueError(f"{name} needs a discrete target; {target!r} is {spec.kind}")
    features = [c for c in schema.names if c != target]
    if not features:
        raise ValueError(f"{name} needs at least one feature column besides the target")
    missing = [c for c in features if c not in synthetic.columns or c not in real_holdout.columns]
    if missing:
        raise ValueError(f"synthetic or real_holdout lacks feature column(s) {missing}")

    def rows(table: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
        y = category_labels(table[target], spec)
        keep = ~pd.isna(y)
        return table.loc[keep, features].reset_index(drop=True), y[keep]

    X_real, y_real = rows(real_train)
    X_syn, y_syn = rows(synthetic)
    X_test, y_test = rows(real_holdout)
    counts = pd.Series(y_real).value_counts()
    if len(counts) < 2:
        raise ValueError(f"the real_train target {target!r} has a single class: there is nothing to classify")
    if len(y_test) == 0:
        raise ValueError(f"real_holdout has no rows with a value of target {target!r}")
    minority = min(counts.items(), key=lambda kv: (kv[1], kv[0]))[0]
    base = estimator if estimator is not None else _default_estimator(True, _seed(random_state))
    X_aug = pd.concat([X_real.astype(object), X_syn.astype(object)], ignore_index=True)
    y_aug = np.concatenate([y_real, y_syn])
    scores = {}
    for run, (X, y) in {"real_only": (X_real, y_real), "augmented": (X_aug, y_aug)}.items():
        model = Pipeline([("features", feature_preprocessor(schema, features)), ("model", clone(base))])
        model.fit(X, y)
        scores[run] = _minority_scores(model, X_test, y_test, minority)
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
