"""Fidelity metrics: how closely a synthetic table follows the real one.

Each metric is a function ``(real_train, synthetic, *, schema=None)`` returning a
:class:`~synthaug.evaluation.result.MetricResult`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import ks_2samp

from ..schema import TableSchema, infer_schema
from ..transform.columns import to_float
from .result import MetricResult


def _schema(real: pd.DataFrame, schema: TableSchema | None) -> TableSchema:
    return schema if schema is not None else infer_schema(real)


def _check_columns(real: pd.DataFrame, synthetic: pd.DataFrame) -> None:
    missing = [c for c in real.columns if c not in synthetic.columns]
    if missing:
        raise ValueError(f"synthetic table lacks column(s) {missing}")


def total_variation_complement(real: pd.Series, synthetic: pd.Series) -> float:
    """1 - total variation distance between the category frequencies (missing counts as a category)."""
    p = real.astype(object).where(real.notna(), "<missing>").value_counts(normalize=True)
    q = synthetic.astype(object).where(synthetic.notna(), "<missing>").value_counts(normalize=True)
    p, q = p.align(q, fill_value=0.0)
    return float(1.0 - 0.5 * np.abs(p.to_numpy() - q.to_numpy()).sum())


def ks_complement(real: np.ndarray, synthetic: np.ndarray) -> float:
    """1 - Kolmogorov-Smirnov statistic between two numeric samples (missing values dropped)."""
    real, synthetic = real[~np.isnan(real)], synthetic[~np.isnan(synthetic)]
    if real.size == 0 or synthetic.size == 0:
        return float(real.size == synthetic.size)
    return float(1.0 - ks_2samp(real, synthetic).statistic)


def column_shapes(real_train: pd.DataFrame, synthetic: pd.DataFrame, *, schema: TableSchema | None = None) -> MetricResult:
    """Mean per-column similarity of marginals: KS complement (numeric, datetime), TV complement (discrete)."""
    _check_columns(real_train, synthetic)
    schema = _schema(real_train, schema)
    scores: dict[str, float] = {}
    for spec in schema:
        real, synth = real_train[spec.name], synthetic[spec.name]
        if spec.is_discrete:
            scores[spec.name] = total_variation_complement(real, synth)
        else:
            scores[spec.name] = ks_complement(to_float(real, spec), to_float(synth, spec))
    return MetricResult("column_shapes", float(np.mean(list(scores.values()))), "higher", {"per_column": scores})
