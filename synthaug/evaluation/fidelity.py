"""Fidelity metrics: how closely a synthetic table follows the real one.

Each metric is a function ``(real_train, synthetic, *, real_holdout=None, target=None,
schema=None, random_state=None)`` returning a :class:`~synthaug.evaluation.result.MetricResult`;
keywords a metric does not need are accepted and ignored, so that every metric can be
called the same way.
"""

from __future__ import annotations

from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import ks_2samp
from sklearn.utils import check_random_state

from ..schema import ColumnSpec, TableSchema, infer_schema
from ..transform.columns import to_float
from .result import MetricResult

_MISSING = "<missing>"


def _schema(real: pd.DataFrame, schema: TableSchema | None) -> TableSchema:
    return schema if schema is not None else infer_schema(real)


def _check_columns(real: pd.DataFrame, synthetic: pd.DataFrame, label: str = "synthetic") -> None:
    missing = [c for c in real.columns if c not in synthetic.columns]
    if missing:
        raise ValueError(f"{label} table lacks column(s) {missing}")


def total_variation_complement(real: pd.Series, synthetic: pd.Series) -> float:
    """1 - total variation distance between the category frequencies (missing counts as a category)."""
    p = real.astype(object).where(real.notna(), _MISSING).value_counts(normalize=True)
    q = synthetic.astype(object).where(synthetic.notna(), _MISSING).value_counts(normalize=True)
    p, q = p.align(q, fill_value=0.0)
    return float(1.0 - 0.5 * np.abs(p.to_numpy() - q.to_numpy()).sum())


def ks_complement(real: np.ndarray, synthetic: np.ndarray) -> float:
    """1 - Kolmogorov-Smirnov statistic between two numeric samples (missing values dropped)."""
    real, synthetic = real[~np.isnan(real)], synthetic[~np.isnan(synthetic)]
    if real.size == 0 or synthetic.size == 0:
        return float(real.size == synthetic.size)
    return float(1.0 - ks_2samp(real, synthetic).statistic)


def column_shapes(
    real_train: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    real_holdout: pd.DataFrame | None = None,
    target: str | None = None,
    schema: TableSchema | None = None,
    random_state: Any = None,
) -> MetricResult:
    """Mean per-column similarity of marginals: KS complement (numeric, datetime), TV complement (discrete).

    ``details["per_column"]`` holds each column's score. With ``real_holdout``,
    ``details["reference"]`` is the same score of the holdout against ``real_train`` (what an
    independent real sample of that size reaches). ``target`` and ``random_state`` are
    accepted for a uniform metric signature and ignored.
    """
    _check_columns(real_train, synthetic)
    if real_holdout is not None:
        _check_columns(real_train, real_holdout, "real_holdout")
    schema = _schema(real_train, schema)
    scores = _column_scores(real_train, synthetic, schema)
    details: dict[str, Any] = {"per_column": scores}
    _add_reference(details, real_holdout, lambda: float(np.mean(list(_column_scores(real_train, real_holdout, schema).values()))))
    return MetricResult("column_shapes", float(np.mean(list(scores.values()))), "higher", details)


def _column_scores(real_train: pd.DataFrame, other: pd.DataFrame, schema: TableSchema) -> dict[str, float]:
    scores: dict[str, float] = {}
    for spec in schema:
        real, synth = real_train[spec.name], other[spec.name]
        if spec.is_discrete:
            scores[spec.name] = total_variation_complement(real, synth)
        else:
            scores[spec.name] = ks_complement(to_float(real, spec), to_float(synth, spec))
    return scores


def _add_reference(details: dict[str, Any], real_holdout: pd.DataFrame | None, compute: Any) -> None:
    """Put the holdout-vs-train score in ``details["reference"]`` (None, with a note, without a holdout)."""
    if real_holdout is None:
        details["reference"] = None
        details["reference_note"] = "no real_holdout given: no real-vs-real reference"
    else:
        details["reference"] = compute()
        details["reference_note"] = "the same score of the holdout rows against real_train"


# --------------------------------------------------------------------------- pairwise trends
def _pearson(x: np.ndarray, y: np.ndarray) -> float | None:
    """Pearson correlation on pairwise complete observations; ``None`` when either side is constant."""
    keep = ~(np.isnan(x) | np.isnan(y))
    x, y = x[keep], y[keep]
    if x.size < 2:
        return None
    if x.min() == x.max() or y.min() == y.max():
        return None
    dx, dy = x - x.mean(), y - y.mean()
    denom = np.sqrt(np.dot(dx, dx) * np.dot(dy, dy))
    if denom == 0.0:
        return None
    return float(np.clip(np.dot(dx, dy) / denom, -1.0, 1.0))


def _discrete_codes(real: pd.Series, synthetic: pd.Series) -> tuple[np.ndarray, np.ndarray, int]:
    """Shared integer codes of a discrete column in both tables (missing is its own category)."""
    both = pd.concat([real.astype(object), synthetic.astype(object)], ignore_index=True)
    codes, uniques = pd.factorize(both.where(both.notna(), _MISSING))
    return codes[: len(real)], codes[len(real) :], max(len(uniques), 1)


def _binned_codes(real: np.ndarray, synthetic: np.ndarray, bins: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Quantile-bin codes learnt on the real column; values beyond its range go to the end bins,
    missing values get a code of their own (the last one)."""
    present = real[~np.isnan(real)]
    if present.size:
        edges = np.unique(np.quantile(present, np.linspace(0.0, 1.0, bins + 1)))
    else:
        edges = np.zeros(1)
    inner = edges[1:-1]
    n_bins = max(len(edges) - 1, 1)

    def codes(values: np.ndarray) -> np.ndarray:
        out = np.searchsorted(inner, values, side="right")
        return np.where(np.isnan(values), n_bins, out)

    return codes(real), codes(synthetic), n_bins + 1


def _contingency_similarity(
    a_real: np.ndarray, a_syn: np.ndarray, n_a: int, b_real: np.ndarray, b_syn: np.ndarray, n_b: int
) -> float:
    """1 - total variation distance between the normalised joint frequency tables."""
    size = n_a * n_b
    p = np.bincount(a_real * n_b + b_real, minlength=size) / a_real.size
    q = np.bincount(a_syn * n_b + b_syn, minlength=size) / a_syn.size
    return float(1.0 - 0.5 * np.abs(p - q).sum())


def _is_numeric(spec: ColumnSpec) -> bool:
    return not spec.is_discrete


def pairwise_trends(
    real_train: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    real_holdout: pd.DataFrame | None = None,
    target: str | None = None,
    schema: TableSchema | None = None,
    random_state: Any = None,
    max_pairs: int | None = None,
    bins: int = 10,
) -> MetricResult:
    """Mean similarity of the relationships between pairs of columns.

    * numeric-numeric pairs (continuous, integer, datetime): correlation similarity
      ``1 - |corr_real - corr_synthetic| / 2`` with Pearson's correlation of the float views
      on pairwise complete observations. Pairs where a column is constant in the real table
      (or with fewer than two complete observations) are skipped (listed in
      ``details["skipped_constant"]``); where only the synthetic column is constant, its
      correlation counts as 0 (listed in ``details["synthetic_constant"]``).
    * pairs involving a discrete column: contingency similarity, 1 - total variation
      distance between the normalised two-way frequency tables. Numeric columns in such
      pairs are cut into up to ``bins`` quantile bins learnt on the real column (synthetic
      values beyond the real range fall in the end bins); missing values are a category.

    ``max_pairs`` evaluates a random subset of that many pairs, drawn reproducibly with
    ``random_state``. With ``real_holdout``, ``details["reference"]`` is the same score of the
    holdout against ``real_train`` (same pairs). ``target`` is accepted and ignored.
    ``details`` holds ``per_pair`` scores keyed ``"a|b"``, ``pair_counts`` by type and the
    real/synthetic correlations of numeric pairs. The value is NaN (with a ``note``) when no
    pair could be scored.
    """
    _check_columns(real_train, synthetic)
    if real_holdout is not None:
        _check_columns(real_train, real_holdout, "real_holdout")
    if len(real_train) == 0 or len(synthetic) == 0:
        raise ValueError("pairwise_trends needs non-empty real and synthetic tables")
    if bins < 1:
        raise ValueError(f"bins must be a positive integer, got {bins!r}")
    schema = _schema(real_train, schema)
    specs = list(schema)
    if len(specs) < 2:
        raise ValueError("pairwise_trends needs a table with at least two columns")

    pairs = list(combinations(range(len(specs)), 2))
    n_pairs_total = len(pairs)
    if max_pairs is not None:
        if max_pairs < 1:
            raise ValueError(f"max_pairs must be a positive integer or None, got {max_pairs!r}")
        if max_pairs < len(pairs):
            chosen = check_random_state(random_state).choice(len(pairs), size=max_pairs, replace=False)
            pairs = [pairs[i] for i in np.sort(chosen)]

    used = sorted({i for pair in pairs for i in pair})
    floats: dict[int, tuple[np.ndarray, np.ndarray]] = {
        i: (to_float(real_train[specs[i].name], specs[i]), to_float(synthetic[specs[i].name], specs[i]))
        for i in used
        if _is_numeric(specs[i])
    }
    codes: dict[int, tuple[np.ndarray, np.ndarray, int]] = {}

    def coded(i: int) -> tuple[np.ndarray, np.ndarray, int]:
        if i not in codes:
            spec = specs[i]
            if spec.is_discrete:
                codes[i] = _discrete_codes(real_train[spec.name], synthetic[spec.name])
            else:
                codes[i] = _binned_codes(*floats[i], bins)
        return codes[i]

    per_pair: dict[str, float] = {}
    correlations: dict[str, dict[str, float]] = {}
    skipped: list[str] = []
    synthetic_constant: list[str] = []
    counts = {"correlation": 0, "contingency": 0}
    for i, j in pairs:
        key = f"{specs[i].name}|{specs[j].name}"
        if _is_numeric(specs[i]) and _is_numeric(specs[j]):
            corr_real = _pearson(floats[i][0], floats[j][0])
            if corr_real is None:
                skipped.append(key)
                continue
            corr_syn = _pearson(floats[i][1], floats[j][1])
            if corr_syn is None:
                synthetic_constant.append(key)
                corr_syn = 0.0
            per_pair[key] = 1.0 - abs(corr_real - corr_syn) / 2.0
            correlations[key] = {"real": corr_real, "synthetic": corr_syn}
            counts["correlation"] += 1
        else:
            a_real, a_syn, n_a = coded(i)
            b_real, b_syn, n_b = coded(j)
            per_pair[key] = _contingency_similarity(a_real, a_syn, n_a, b_real, b_syn, n_b)
            counts["contingency"] += 1

    details: dict[str, Any] = {
        "per_pair": per_pair,
        "pair_counts": counts,
        "n_pairs_total": n_pairs_total,
        "n_pairs_evaluated": len(per_pair),
        "skipped_constant": skipped,
        "synthetic_constant": synthetic_constant,
        "correlations": correlations,
        "bins": bins,
        "max_pairs": max_pairs,
    }
    if skipped:
        details["note_skipped"] = (
            f"{len(skipped)} numeric pair(s) skipped: a column is constant in the real table, so its correlation is undefined"
        )
    if per_pair:
        value = float(np.mean(list(per_pair.values())))
    else:
        value = float("nan")
        details["note"] = "no pair could be scored (every numeric pair involves a constant column)"
    _add_reference(
        details,
        real_holdout,
        lambda: (
            pairwise_trends(
                real_train, real_holdout, schema=schema, random_state=random_state, max_pairs=max_pairs, bins=bins
            ).value
        ),
    )
    return MetricResult("pairwise_trends", value, "higher", details)
