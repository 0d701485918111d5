"""Validity metrics: are synthetic categories inside the real domain, and are values missing as often?"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..schema import ColumnSpec, TableSchema
from ._common import check_tables, table_schema
from .result import MetricResult
from .utility import category_labels


def _domain(real_train: pd.DataFrame, spec: ColumnSpec, declared: bool) -> set[str]:
    if declared and spec.categories:
        return {str(c) for c in spec.categories}
    labels = category_labels(real_train[spec.name], spec)
    return set(labels[~pd.isna(labels)].tolist())


def _in_domain(frame: pd.DataFrame, spec: ColumnSpec, domain: set[str]) -> float | None:
    labels = category_labels(frame[spec.name], spec)
    present = labels[~pd.isna(labels)]
    if present.size == 0:
        return None
    return float(pd.Index(present).isin(list(domain)).mean())


def category_validity(
    real_train: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    real_holdout: pd.DataFrame | None = None,
    target: str | None = None,
    schema: TableSchema | None = None,
    random_state: Any = None,
) -> MetricResult:
    """Share of present synthetic values of each discrete column that lie in the real domain, averaged over columns.

    The domain is the schema's categories when a ``schema`` is given, else the values seen in
    ``real_train``. Missing values are left out (see :func:`missing_values`). Reference: the
    same share for holdout rows (real values rare enough to be absent from training). The value
    is NaN, with a note, when the table has no discrete column.
    """
    check_tables("category_validity", real_train, synthetic=synthetic, real_holdout=real_holdout)
    declared = schema is not None
    schema = table_schema(real_train, schema)
    per_column: dict[str, float] = {}
    reference: dict[str, float] = {}
    invalid_examples: dict[str, list[str]] = {}
    for spec in schema:
        if not spec.is_discrete:
            continue
        domain = _domain(real_train, spec, declared)
        share = _in_domain(synthetic, spec, domain)
        if share is None:
            continue
        per_column[spec.name] = share
        if share < 1.0:
            labels = category_labels(synthetic[spec.name], spec)
            outside = pd.unique(labels[~pd.isna(labels) & ~pd.Index(labels).isin(list(domain))])
            invalid_examples[spec.name] = [str(v) for v in outside[:5]]
        if real_holdout is not None:
            ref = _in_domain(real_holdout, spec, domain)
            if ref is not None:
                reference[spec.name] = ref
    details: dict[str, Any] = {
        "per_column": per_column,
        "invalid_examples": invalid_examples,
        "domain": "schema categories" if declared else "values seen in real_train",
    }
    if real_holdout is not None and reference:
        details["reference"] = float(np.mean(list(reference.values())))
        details["reference_per_column"] = reference
        details["reference_note"] = "the same share for holdout rows"
    else:
        details["reference"] = None
        details["reference_note"] = "no real_holdout given: no real-vs-real reference"
    if per_column:
        value = float(np.mean(list(per_column.values())))
    else:
        value = float("nan")
        details["note"] = "no discrete column with present synthetic values: nothing to check"
    return MetricResult("category_validity", value, "higher", details)


def _missing_rates(frame: pd.DataFrame, names: list[str]) -> dict[str, float]:
    return {c: float(frame[c].isna().mean()) for c in names}


def missing_values(
    real_train: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    real_holdout: pd.DataFrame | None = None,
    target: str | None = None,
    schema: TableSchema | None = None,
    random_state: Any = None,
) -> MetricResult:
    """Mean absolute difference between the real and synthetic missing-value rates of the columns.

    ``details`` hold each column's rates and difference. Reference: the same difference
    between holdout and training rates.
    """
    check_tables("missing_values", real_train, synthetic=synthetic, real_holdout=real_holdout)
    names = table_schema(real_train, schema).names
    real, synth = _missing_rates(real_train, names), _missing_rates(synthetic, names)
    diff = {c: abs(real[c] - synth[c]) for c in names}
    details: dict[str, Any] = {"real_rate": real, "synthetic_rate": synth, "per_column": diff}
    if real_holdout is not None:
        hold = _missing_rates(real_holdout, names)
        details["holdout_rate"] = hold
        details["reference"] = float(np.mean([abs(real[c] - hold[c]) for c in names]))
        details["reference_note"] = "the same difference between holdout and training rates"
    else:
        details["reference"] = None
        details["reference_note"] = "no real_holdout given: no real-vs-real reference"
    return MetricResult("missing_values", float(np.mean(list(diff.values()))), "lower", details)
