"""Keep the synthetic rows a classifier trained on the real rows agrees with.

A generator trained on all rows conditioned on the class borrows structure across classes, and some
of the rows it generates for a rare class fall deep in another class's region: to a classifier they
are label noise, and they cost precision. The oversampler therefore draws more candidates than it
needs and keeps, per class, the ones a gradient-boosting classifier fitted on the real training rows
gives the highest probability of the class they were generated for (measured on the dev tables in
``benchmarks/bench_oversampling.py``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier

#: how the kept rows are chosen, as reported in ``GenerativeOverSampler.selection_``.
SELECTION_METHOD = "highest probability of their class under HistGradientBoostingClassifier fitted on the real rows"
#: categorical columns with more levels than this are given to the classifier as plain codes.
MAX_NATIVE_CATEGORIES = 255


def _as_frame(X: Any) -> pd.DataFrame:
    if isinstance(X, pd.DataFrame):
        return X.reset_index(drop=True)
    array = np.asarray(X)
    return pd.DataFrame(array.reshape(len(array), -1))


def _code_column(values: list[pd.Series]) -> tuple[list[np.ndarray], bool]:
    """One column of the training split (``values[0]``) and of the others as floats, and whether the
    classifier treats it as categorical."""
    types = pd.api.types
    kind = values[0].dtype
    if types.is_datetime64_any_dtype(kind):
        stamps = [pd.to_datetime(v) for v in values]
        return [np.where(s.isna(), np.nan, s.to_numpy(dtype="datetime64[ns]").astype("int64")) for s in stamps], False
    if types.is_numeric_dtype(kind) and not types.is_bool_dtype(kind):
        return [pd.to_numeric(v, errors="coerce").to_numpy(dtype=float) for v in values], False
    levels = pd.Index(pd.unique(values[0].dropna()))
    codes = [pd.Categorical(v, categories=levels).codes.astype(float) for v in values]
    return [np.where(c < 0, np.nan, c) for c in codes], len(levels) <= MAX_NATIVE_CATEGORIES


def encode_for_classifier(train: Any, *others: Any) -> tuple[np.ndarray, list[np.ndarray], np.ndarray]:
    """Numeric matrices for the classifier: numbers as they are, datetimes as nanoseconds, every other
    column as codes of the training split's categories (unseen and missing: NaN). Returns the training
    matrix, the others' and the mask of columns the classifier treats as categorical."""
    frames = [_as_frame(train)] + [_as_frame(o) for o in others]
    columns, categorical = [], []
    for position in range(frames[0].shape[1]):
        coded, is_categorical = _code_column([f.iloc[:, position] for f in frames])
        columns.append(coded)
        categorical.append(is_categorical)
    matrices = [np.column_stack([col[i] for col in columns]).astype(float) for i in range(len(frames))]
    return matrices[0], matrices[1:], np.array(categorical, dtype=bool)


def agreement_scores(X_real: Any, y_real: np.ndarray, X_candidates: Any, y_candidates: np.ndarray, seed: int) -> np.ndarray:
    """Each candidate's probability, under a classifier fitted on the real rows, of the class it was
    generated for."""
    train, (candidates,), categorical = encode_for_classifier(X_real, X_candidates)
    classifier = HistGradientBoostingClassifier(
        categorical_features=categorical if categorical.any() else None, random_state=seed
    )
    classifier.fit(train, np.asarray(y_real))
    proba = classifier.predict_proba(candidates)
    column = {label: i for i, label in enumerate(classifier.classes_)}
    return proba[np.arange(len(candidates)), [column[label] for label in np.asarray(y_candidates)]]


def most_agreed(scores: np.ndarray, y_candidates: np.ndarray, wanted: dict[Any, int]) -> np.ndarray:
    """Positions of the ``wanted[label]`` highest-scoring candidates of every class, in their
    original order (ties: the earlier candidate)."""
    labels = np.asarray(y_candidates)
    kept = []
    for label, count in wanted.items():
        positions = np.flatnonzero(labels == label)
        order = np.argsort(-scores[positions], kind="stable")
        kept.append(positions[order[:count]])
    return np.sort(np.concatenate(kept)) if kept else np.zeros(0, dtype=int)


__all__ = ["SELECTION_METHOD", "agreement_scores", "encode_for_classifier", "most_agreed"]
