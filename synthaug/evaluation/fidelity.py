"""Fidelity metrics: how closely a synthetic table follows the real one.

Each metric is registered (:mod:`synthaug.evaluation.registry`) and called as
``(real_train, synthetic, *, real_holdout=None, target=None, sensitive=None, schema=None,
random_state=None, <options>)``; inputs a metric does not need are accepted and ignored.
"""

from __future__ import annotations

from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import ks_2samp
from sklearn.utils import check_random_state

from ..exceptions import DataValidationError, MetricNotApplicable, ParameterError
from ..schema import ColumnSpec, TableSchema, infer_schema
from ..transform.columns import to_float
from ._common import check_columns, set_reference
from .inputs import TableInputs
from .registry import metric
from .result import MetricResult

_MISSING = "<missing>"
_REFERENCE_NOTE = "the same score of the holdout rows against real_train"


def _schema(real: pd.DataFrame, schema: TableSchema | None) -> TableSchema:
    return schema if schema is not None else infer_schema(real)


def _check_inputs(inputs: TableInputs) -> TableSchema:
    """The schema, after checking that the synthetic and holdout tables hold every real column."""
    check_columns(inputs.real_train, inputs.synthetic, "synthetic")
    if inputs.real_holdout is not None:
        check_columns(inputs.real_train, inputs.real_holdout, "real_holdout")
    return _schema(inputs.real_train, inputs.schema)


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


@metric(
    name="column_shapes",
    section="fidelity",
    direction="higher",
    inputs=TableInputs,
    headline=True,
    caption="Mean per-column similarity of the marginals (1 - KS statistic for numbers, 1 - total variation "
    "for categories). 1 is identical; compare with the reference, what an independent real sample reaches.",
)
def column_shapes(inputs: TableInputs) -> MetricResult:
    """Mean per-column similarity of marginals: KS complement (numeric, datetime), TV complement (discrete).

    ``details["per_column"]`` holds each column's score. With ``real_holdout``,
    ``details["reference"]`` is the same score of the holdout against ``real_train`` (what an
    independent real sample of that size reaches).
    """
    schema = _check_inputs(inputs)
    real_train, real_holdout = inputs.real_train, inputs.real_holdout
    scores = _column_scores(real_train, inputs.synthetic, schema)
    details: dict[str, Any] = {"per_column": scores}
    reference = None
    if real_holdout is not None:
        reference = float(np.mean(list(_column_scores(real_train, real_holdout, schema).values())))
    set_reference(details, reference, _REFERENCE_NOTE)
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


class _PairScorer:
    """Float views and (lazily) shared codes of the columns of two tables; scores one pair at a time."""

    def __init__(self, real: pd.DataFrame, other: pd.DataFrame, specs: list[ColumnSpec], used: list[int], bins: int) -> None:
        self.real, self.other, self.specs, self.bins = real, other, specs, bins
        self.floats = {
            i: (to_float(real[specs[i].name], specs[i]), to_float(other[specs[i].name], specs[i]))
            for i in used
            if _is_numeric(specs[i])
        }
        self._codes: dict[int, tuple[np.ndarray, np.ndarray, int]] = {}

    def codes(self, i: int) -> tuple[np.ndarray, np.ndarray, int]:
        if i not in self._codes:
            spec = self.specs[i]
            if spec.is_discrete:
                self._codes[i] = _discrete_codes(self.real[spec.name], self.other[spec.name])
            else:
                self._codes[i] = _binned_codes(*self.floats[i], self.bins)
        return self._codes[i]

    def correlations(self, i: int, j: int) -> tuple[float | None, float | None]:
        """Pearson correlations of a numeric pair in the real and the other table."""
        return _pearson(self.floats[i][0], self.floats[j][0]), _pearson(self.floats[i][1], self.floats[j][1])

    def contingency(self, i: int, j: int) -> float:
        return _contingency_similarity(*self.codes(i), *self.codes(j))


def _score_pairs(scorer: _PairScorer, pairs: list[tuple[int, int]]) -> dict[str, Any]:
    """Per-pair scores, numeric correlations and the pairs skipped or with a constant synthetic column."""
    specs = scorer.specs
    out: dict[str, Any] = {"per_pair": {}, "correlations": {}, "skipped": [], "synthetic_constant": []}
    counts = {"correlation": 0, "contingency": 0}
    for i, j in pairs:
        key = f"{specs[i].name}|{specs[j].name}"
        if not (_is_numeric(specs[i]) and _is_numeric(specs[j])):
            out["per_pair"][key] = scorer.contingency(i, j)
            counts["contingency"] += 1
            continue
        corr_real, corr_syn = scorer.correlations(i, j)
        if corr_real is None:
            out["skipped"].append(key)
            continue
        if corr_syn is None:
            out["synthetic_constant"].append(key)
            corr_syn = 0.0
        out["per_pair"][key] = 1.0 - abs(corr_real - corr_syn) / 2.0
        out["correlations"][key] = {"real": corr_real, "synthetic": corr_syn}
        counts["correlation"] += 1
    out["counts"] = counts
    return out


def _mean_or_nan(per_pair: dict[str, float]) -> float:
    return float(np.mean(list(per_pair.values()))) if per_pair else float("nan")


def _choose_pairs(n_columns: int, max_pairs: int | None, random_state: Any) -> list[tuple[int, int]]:
    """Every pair of columns, or a random subset of ``max_pairs`` of them (drawn with ``random_state``)."""
    pairs = list(combinations(range(n_columns), 2))
    if max_pairs is not None:
        if max_pairs < 1:
            raise ParameterError(f"max_pairs must be a positive integer or None, got {max_pairs!r}")
        if max_pairs < len(pairs):
            chosen = check_random_state(random_state).choice(len(pairs), size=max_pairs, replace=False)
            pairs = [pairs[i] for i in np.sort(chosen)]
    return pairs


def _pair_details(scores: dict[str, Any], n_pairs_total: int, bins: int, max_pairs: int | None) -> dict[str, Any]:
    skipped = scores["skipped"]
    details: dict[str, Any] = {
        "per_pair": scores["per_pair"],
        "pair_counts": scores["counts"],
        "n_pairs_total": n_pairs_total,
        "n_pairs_evaluated": len(scores["per_pair"]),
        "skipped_constant": skipped,
        "synthetic_constant": scores["synthetic_constant"],
        "correlations": scores["correlations"],
        "bins": bins,
        "max_pairs": max_pairs,
    }
    if skipped:
        details["note_skipped"] = (
            f"{len(skipped)} numeric pair(s) skipped: a column is constant in the real table, so its correlation is undefined"
        )
    if not scores["per_pair"]:
        details["note"] = "no pair could be scored (every numeric pair involves a constant column)"
    return details


@metric(
    name="pairwise_trends",
    section="fidelity",
    direction="higher",
    inputs=TableInputs,
    headline=True,
    caption="Mean similarity of the relationships between pairs of columns (correlations, contingency tables).",
)
def pairwise_trends(inputs: TableInputs, *, max_pairs: int | None = None, bins: int = 10) -> MetricResult:
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
    holdout against ``real_train`` (same pairs). ``details`` holds ``per_pair`` scores keyed
    ``"a|b"``, ``pair_counts`` by type and the real/synthetic correlations of numeric pairs.
    The value is NaN (with a ``note``) when no pair could be scored.
    """
    schema = _check_inputs(inputs)
    real_train, real_holdout = inputs.real_train, inputs.real_holdout
    if any(t is not None and len(t) == 0 for t in (real_train, inputs.synthetic, real_holdout)):
        raise DataValidationError("pairwise_trends needs non-empty real, synthetic and holdout tables")
    if bins < 1:
        raise ParameterError(f"bins must be a positive integer, got {bins!r}")
    specs = list(schema)
    if len(specs) < 2:
        raise MetricNotApplicable("pairwise_trends needs a table with at least two columns")
    pairs = _choose_pairs(len(specs), max_pairs, inputs.random_state)
    used = sorted({i for pair in pairs for i in pair})
    scores = _score_pairs(_PairScorer(real_train, inputs.synthetic, specs, used, bins), pairs)
    details = _pair_details(scores, len(specs) * (len(specs) - 1) // 2, bins, max_pairs)
    reference = None
    if real_holdout is not None:
        reference = _mean_or_nan(_score_pairs(_PairScorer(real_train, real_holdout, specs, used, bins), pairs)["per_pair"])
    set_reference(details, reference, _REFERENCE_NOTE)
    return MetricResult("pairwise_trends", _mean_or_nan(scores["per_pair"]), "higher", details)
