"""Validity metrics: are synthetic categories inside the real domain, and are values missing as often?"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..schema import ColumnSpec
from ._common import NO_REFERENCE, check_tables, set_reference, table_schema
from .inputs import TableInputs
from .registry import metric
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


@metric(
    name="category_validity",
    section="fidelity",
    direction="higher",
    inputs=TableInputs,
    caption="Share of synthetic categories that exist in the real data.",
)
def category_validity(inputs: TableInputs) -> MetricResult:
    """Share of present synthetic values of each discrete column that lie in the real domain, averaged over columns.

    The domain is the schema's categories when a ``schema`` is given, else the values seen in
    ``real_train``. Missing values are left out (see :func:`missing_values`). Reference: the
    same share for holdout rows (real values rare enough to be absent from training). The value
    is NaN, with a note, when the table has no discrete column.
    """
    real_train, synthetic, real_holdout = inputs.real_train, inputs.synthetic, inputs.real_holdout
    check_tables("category_validity", real_train, synthetic=synthetic, real_holdout=real_holdout)
    declared = inputs.schema is not None
    schema = table_schema(real_train, inputs.schema)
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
        details["reference"], details["reference_note"] = None, NO_REFERENCE
    if per_column:
        value = float(np.mean(list(per_column.values())))
    else:
        value = float("nan")
        details["note"] = "no discrete column with present synthetic values: nothing to check"
    return MetricResult("category_validity", value, "higher", details)


def _missing_rates(frame: pd.DataFrame, names: list[str]) -> dict[str, float]:
    return {c: float(frame[c].isna().mean()) for c in names}


@metric(
    name="missing_values",
    section="fidelity",
    direction="lower",
    inputs=TableInputs,
    caption="Mean absolute difference of the per-column missing-value rates.",
)
def missing_values(inputs: TableInputs) -> MetricResult:
    """Mean absolute difference between the real and synthetic missing-value rates of the columns.

    ``details`` hold each column's rates and difference. Reference: the same difference
    between holdout and training rates.
    """
    real_train, real_holdout = inputs.real_train, inputs.real_holdout
    check_tables("missing_values", real_train, synthetic=inputs.synthetic, real_holdout=real_holdout)
    names = table_schema(real_train, inputs.schema).names
    real, synth = _missing_rates(real_train, names), _missing_rates(inputs.synthetic, names)
    diff = {c: abs(real[c] - synth[c]) for c in names}
    details: dict[str, Any] = {"real_rate": real, "synthetic_rate": synth, "per_column": diff}
    reference = None
    if real_holdout is not None:
        hold = details["holdout_rate"] = _missing_rates(real_holdout, names)
        reference = float(np.mean([abs(real[c] - hold[c]) for c in names]))
    set_reference(details, reference, "the same difference between holdout and training rates")
    return MetricResult("missing_values", float(np.mean(list(diff.values()))), "lower", details)
