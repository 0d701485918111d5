"""Helpers shared by the metric modules: argument checks, seeds, ROC summaries, histograms."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score, roc_curve
from sklearn.utils import check_random_state

from ..exceptions import DataValidationError, MetricNotApplicable, SchemaError
from ..schema import TableSchema, infer_schema

ROC_GRID = np.linspace(0.0, 1.0, 101)


def check_tables(name: str, real_train: pd.DataFrame, **tables: pd.DataFrame | None) -> None:
    """Raise a DataValidationError naming the metric and the table when a table is empty or lacks real columns."""
    if not isinstance(real_train, pd.DataFrame) or len(real_train) == 0:
        raise DataValidationError(f"{name} needs a non-empty real_train DataFrame")
    for label, table in tables.items():
        if table is None:
            continue
        if not isinstance(table, pd.DataFrame) or len(table) == 0:
            raise DataValidationError(f"{name} needs a non-empty {label} DataFrame")
        check_columns(real_train, table, label)


def check_columns(real_train: pd.DataFrame, table: pd.DataFrame, label: str) -> None:
    """DataValidationError when ``table`` lacks a column of ``real_train``."""
    missing = [c for c in real_train.columns if c not in table.columns]
    if missing:
        raise DataValidationError(f"{label} table lacks column(s) {missing}")


def table_schema(real_train: pd.DataFrame, schema: TableSchema | None) -> TableSchema:
    schema = schema if schema is not None else infer_schema(real_train)
    missing = [c for c in schema.names if c not in real_train.columns]
    if missing:
        raise SchemaError(f"real_train lacks schema column(s) {missing}")
    return schema


def check_column(name: str, column: str | None, what: str, real_train: pd.DataFrame) -> str:
    """``column`` when it names a column of ``real_train``; MetricNotApplicable when None."""
    if column is None:
        raise MetricNotApplicable(f"{name} needs a {what}: the name of a column")
    if column not in real_train.columns:
        raise DataValidationError(f"{what} {column!r} is not a column of real_train (columns: {list(real_train.columns)})")
    return column


NO_REFERENCE = "no real_holdout given: no real-vs-real reference"


def set_reference(details: dict[str, Any], reference: Any, note: str) -> None:
    """``details["reference"]`` with its ``note``; a None reference (no holdout) gets the no-reference note."""
    details["reference"] = reference
    details["reference_note"] = NO_REFERENCE if reference is None else note


def seeds(random_state: Any, n: int) -> list[int]:
    """``n`` independent integer seeds drawn from ``random_state`` (each use gets its own, so results
    do not depend on the order in which parts are computed)."""
    return [int(s) for s in check_random_state(random_state).randint(np.iinfo(np.int32).max, size=n)]


def roc_summary(labels: np.ndarray, scores: np.ndarray, fpr_at: float = 0.01) -> dict[str, Any]:
    """ROC AUC, the highest TPR at FPR <= ``fpr_at`` and the curve on a 101-point FPR grid."""
    fpr, tpr, _ = roc_curve(labels, scores)
    return {
        "roc_auc": float(roc_auc_score(labels, scores)),
        f"tpr_at_fpr_{fpr_at:g}": float(tpr[fpr <= fpr_at].max()),
        "roc_curve": {"fpr": ROC_GRID.round(4).tolist(), "tpr": np.interp(ROC_GRID, fpr, tpr).round(4).tolist()},
        "n_members": int(labels.sum()),
        "n_non_members": int((~labels.astype(bool)).sum()),
    }


def quantiles(values: np.ndarray) -> dict[str, float]:
    qs = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95)
    return {f"q{int(q * 100):02d}": float(v) for q, v in zip(qs, np.quantile(values, qs), strict=True)}


def histograms(bins: int = 40, **samples: np.ndarray) -> dict[str, Any]:
    """Histograms of several samples on shared bin edges (for plots)."""
    pooled = np.concatenate([s for s in samples.values()])
    edges = np.histogram_bin_edges(pooled, bins=bins)
    return {"edges": edges.tolist(), **{k: np.histogram(v, bins=edges)[0].tolist() for k, v in samples.items()}}


def no_reference(details: dict[str, Any]) -> None:
    set_reference(details, None, "")
