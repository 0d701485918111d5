"""Private discovery of a table's representation: domains, frequencies and quantiles.

Everything a synthesizer would otherwise read from the private rows before training
(category sets and frequencies, numeric bounds, quantiles or mixture modes, whether
a column has missing values) comes from here, either from public knowledge declared
in the schema or from Gaussian noisy histograms charged to the privacy ledger:

==========================  ==================================================================
what                        how it is covered
==========================  ==================================================================
column names, kinds, dtypes  public metadata (inferred from the table's format unless declared)
category set                 declared public (``public=True`` with ``categories``; booleans), or
                             a thresholded Gaussian histogram over the observed values
                             (values whose noisy count is below the threshold are dropped, so a
                             value seen once never reaches the model), or class labels given
                             as ``y`` (the label set is treated as public; their counts are not)
category frequencies         the same Gaussian histogram (noisy counts)
missing values or not        declared public, or the noisy count of the missing key
numeric bounds               declared public (``public=True`` with ``bounds``), or a Gaussian
                             histogram over fixed, data-independent power-of-two bins
numeric shape                a Gaussian histogram of equal-width bins inside the bounds; modes
                             and quantiles are read off its noisy CDF (post-processing)
==========================  ==================================================================

Histograms of one round are released together: one row adds 1 to one bin of each
of the ``m`` histograms, so the round is one Gaussian mechanism with L2 sensitivity
``sqrt(m)``. There are at most two rounds (bounds first, then the shapes inside them);
both use the same noise multiplier, recorded as ``(sigma, 1.0, rounds)`` in the
accountant's history. Thresholding new keys adds ``delta_threshold`` (a union bound over
the columns whose categories are discovered).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import ndtri

from ..exceptions import DataValidationError, PrivacyError
from ..schema import ColumnSpec, TableSchema
from ..transform.columns import from_float, numeric_bounds, to_float

_LOG2_MIN, _LOG2_MAX = -10, 42  # power-of-two bins cover |x| in [2**-10, 2**42)
_PRESENCE_SIGMAS = 4.0  # a public bin counts as present when its noisy count exceeds 4 noise std
_TIGHTEN_SIGMAS = 2.0  # a found range is cut to the outermost shape bins above 2 noise std


@dataclass
class NumericSummary:
    """A noisy histogram of a numeric column inside its (private or public) bounds."""

    bounds: tuple[float, float]
    edges: np.ndarray
    counts: np.ndarray
    missing: float = 0.0  # noisy count of missing values (clipped at 0)

    @property
    def present(self) -> float:
        return float(np.clip(self.counts, 0.0, None).sum())

    def cdf_points(self) -> tuple[np.ndarray, np.ndarray]:
        mass = np.clip(self.counts, 0.0, None)
        if mass.sum() <= 0:
            mass = np.ones_like(mass)
        cdf = np.concatenate([[0.0], np.cumsum(mass) / mass.sum()])
        return self.edges, cdf

    def quantiles(self, probs: np.ndarray) -> np.ndarray:
        """Inverse of the piecewise-linear noisy CDF at ``probs``."""
        edges, cdf = self.cdf_points()
        # np.interp needs increasing x: drop flat steps of the CDF (empty bins)
        keep = np.concatenate([[True], np.diff(cdf) > 0])
        return np.interp(probs, cdf[keep], edges[keep])


@dataclass
class PrivateDomain:
    """The released representation statistics, with what they cost.

    It is the :class:`~synthaug.transform.released.ReleasedStatistics` that the
    transformers' ``fit_released`` reads."""

    schema: TableSchema
    category_counts: dict[str, np.ndarray]
    numeric: dict[str, NumericSummary]
    noise_multiplier: float
    rounds: int
    delta_threshold: float
    releases: list[dict[str, Any]] = field(default_factory=list)

    @property
    def history(self) -> list[tuple[float, float, int]]:
        return [(self.noise_multiplier, 1.0, self.rounds)] if self.rounds else []

    def slot_counts(self, column: str) -> np.ndarray:
        """Noisy counts of a discrete column, one per encoder slot (categories, then missing)."""
        return self.category_counts[column]

    def numeric_summary(self, column: str) -> NumericSummary:
        """The noisy histogram of a numeric column (a :class:`~synthaug.transform.released.ReleasedNumeric`)."""
        return self.numeric[column]

    def project(self, frame: pd.DataFrame, source: Any) -> tuple[pd.DataFrame, list[str]]:
        """``frame`` mapped into the released domain, row for row (no row is dropped, so the
        rows trained on and the schedule depend on the public row count only).

        Numeric values are clipped to the released bounds. A category that was not released,
        or a missing value in a column released as complete, is replaced by a draw from the
        column's released (noisy) distribution, made with ``source`` (the fit's secure noise):
        each row is mapped on its own, so one changed row changes one mapped row. Returns the
        mapped rows and the names of the columns where some value was replaced (for a warning
        to the data holder; no count leaves this method)."""
        out = frame.copy()
        replaced: list[str] = []
        for spec in self.schema:
            column = out[spec.name]
            missing = column.isna().to_numpy()
            if spec.is_discrete:
                outside = pd.Index(spec.categories, dtype=object).get_indexer(_as_values(column)) < 0
                bad = (outside & ~missing) | (missing & (not spec.nullable))
            else:
                bad = missing & (not spec.nullable)
                if spec.kind != "datetime":  # dates outside the bounds are clipped when decoding
                    low, high = self.numeric[spec.name].bounds
                    out[spec.name] = column = column.clip(low, high)
            if bad.any():
                out[spec.name] = self._replace(column, spec, np.flatnonzero(bad), source)
                replaced.append(spec.name)
        return out, replaced

    def _replace(self, column: pd.Series, spec: ColumnSpec, rows: np.ndarray, source: Any) -> pd.Series:
        """``column`` with the values at ``rows`` drawn from its released distribution."""
        if spec.is_discrete:
            weights = np.clip(self.category_counts[spec.name][: len(spec.categories)], 0.0, None)
            weights = weights if weights.sum() > 0 else np.ones(len(spec.categories))
            draws = np.asarray(spec.categories, dtype=object)[source.choice(len(rows), weights)]
            values = column.astype(object).to_numpy(copy=True)
            values[rows] = draws
            series = pd.Series(values, index=column.index, name=column.name)
            dtype = column.dtype
            if isinstance(dtype, pd.CategoricalDtype) and set(draws) <= set(dtype.categories):
                return series.astype(dtype)
            keep_object = isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_object_dtype(dtype)
            return series if keep_object else series.astype(dtype)
        draws = self.numeric[spec.name].quantiles(source.uniform(len(rows)))
        if spec.kind == "datetime":
            values = to_float(column, spec)
            values[rows] = draws
            return from_float(values, spec).set_axis(column.index).rename(column.name)
        if spec.kind == "integer":
            draws = np.round(draws)
        series = column.astype(float)  # a copy
        series.iloc[rows] = draws
        return series.astype(column.dtype)


# --------------------------------------------------------------------------- bins
def _log_bin(x: np.ndarray) -> np.ndarray:
    """Index of each value among the fixed signed power-of-two bins (see :func:`_log_bin_edges`)."""
    n_mag = _LOG2_MAX - _LOG2_MIN
    magnitude = np.abs(x)
    with np.errstate(divide="ignore"):
        k = np.floor(np.log2(np.maximum(magnitude, 2.0**_LOG2_MIN))).astype(np.int64) - _LOG2_MIN
    k = np.clip(k, 0, n_mag - 1)
    tiny = magnitude < 2.0**_LOG2_MIN
    # layout: negative bins (largest magnitude first), the zero bin, positive bins
    return np.where(tiny, n_mag, np.where(x < 0, n_mag - 1 - k, n_mag + 1 + k))


def _log_bin_edges(index: int) -> tuple[float, float]:
    n_mag = _LOG2_MAX - _LOG2_MIN
    if index == n_mag:
        return -(2.0**_LOG2_MIN), 2.0**_LOG2_MIN
    if index < n_mag:
        k = n_mag - 1 - index + _LOG2_MIN
        return -(2.0 ** (k + 1)), -(2.0**k)
    k = index - n_mag - 1 + _LOG2_MIN
    return 2.0**k, 2.0 ** (k + 1)


def _n_log_bins() -> int:
    return 2 * (_LOG2_MAX - _LOG2_MIN) + 1


# --------------------------------------------------------------------------- release
def _noisy(counts: np.ndarray, std: float, rng: Any) -> np.ndarray:
    return counts.astype(float) + rng.normal(0.0, std, size=counts.shape)


def _bounds_to_spec(spec: ColumnSpec, low: float, high: float) -> tuple[Any, Any]:
    if spec.kind == "datetime":
        return (pd.Timestamp(low, unit="s").isoformat(), pd.Timestamp(high, unit="s").isoformat())
    if spec.kind == "integer":
        return (float(math.floor(low)), float(math.ceil(high)))
    return (float(low), float(high))


def _public_bounds(spec: ColumnSpec) -> tuple[float, float] | None:
    if not (spec.public and spec.bounds is not None):
        return None
    return numeric_bounds(spec)


def _has_public_categories(spec: ColumnSpec, public_columns: set[str]) -> bool:
    return spec.kind == "boolean" or spec.name in public_columns or (spec.public and spec.categories is not None)


def discovered_columns(schema: TableSchema, public_columns: set[str] | None = None) -> list[str]:
    """Discrete columns whose category set must be discovered privately (thresholded)."""
    public_columns = set(public_columns or ())
    return [s.name for s in schema if s.is_discrete and not _has_public_categories(s, public_columns)]


def release_rounds(schema: TableSchema) -> int:
    """How many Gaussian releases :func:`release_domain` makes for ``schema`` (0, 1 or 2)."""
    if len(schema) == 0:
        return 0
    return 2 if any(not s.is_discrete and _public_bounds(s) is None for s in schema) else 1


@dataclass(frozen=True)
class _Noise:
    """Noise scales of the (at most two) release rounds and the category threshold."""

    std1: float  # round 1: categories, ranges, and shapes inside public bounds
    std2: float  # round 2: shapes inside the privately found bounds
    threshold: float  # a discovered category is kept when its noisy count exceeds this

    def std(self, second_round: bool) -> float:
        return self.std2 if second_round else self.std1

    def presence(self, second_round: bool) -> float:
        """A noisy count above this (4 noise std) means that something is there."""
        return _PRESENCE_SIGMAS * self.std(second_round)


def _noise_scales(schema: TableSchema, noise_multiplier: float, delta_threshold: float, n_discovered: int) -> _Noise:
    """Each round is one Gaussian mechanism over its ``m`` histograms (L2 sensitivity ``sqrt(m)``)."""
    m1 = len(schema)
    m2 = sum(not s.is_discrete and _public_bounds(s) is None for s in schema)
    std1 = noise_multiplier * math.sqrt(max(m1, 1))
    std2 = noise_multiplier * math.sqrt(max(m2, 1))
    threshold = 1.0
    if n_discovered:
        if not delta_threshold > 0:
            raise PrivacyError("discovering category sets privately needs a positive delta_threshold")
        threshold = 1.0 + std1 * float(-ndtri(delta_threshold / n_discovered))
    return _Noise(std1, std2, threshold)


def _as_values(column: pd.Series) -> pd.Series:
    return column.astype(object) if isinstance(column.dtype, pd.CategoricalDtype) else column


def _public_category_counts(column: pd.Series, categories: list[Any], std: float, rng: Any) -> np.ndarray:
    """Noisy counts (clipped at 0) of each public category among the present values."""
    codes = pd.Index(categories, dtype=object).get_indexer(_as_values(column))
    raw = np.bincount(codes[(codes >= 0) & column.notna().to_numpy()], minlength=len(categories)).astype(float)
    return np.clip(_noisy(raw, std, rng), 0.0, None)


def _stable_order(kept: pd.Series) -> pd.Series:
    """``kept`` sorted by category, in an order that never depends on the rows' order."""
    try:
        return kept.sort_index()
    except TypeError:  # mixed types
        return kept.iloc[np.argsort([repr(v) for v in kept.index], kind="stable")]


def _discover_categories(spec: ColumnSpec, column: pd.Series, noise: _Noise, rng: Any) -> tuple[list[Any], np.ndarray]:
    """The categories whose noisy count passes the threshold, and those noisy counts."""
    observed = _as_values(column.dropna()).value_counts(sort=False)
    noisy = _noisy(observed.to_numpy(), noise.std1, rng)
    passed = noisy > noise.threshold
    kept = _stable_order(pd.Series(noisy[passed], index=observed.index[passed]))
    if kept.empty:
        raise DataValidationError(
            f"column {spec.name!r}: no category is frequent enough to be released at this privacy budget; "
            "declare its categories in the schema with public=True, declare kind 'id' if it holds identifiers "
            "(then it is not modelled), drop the column, or raise epsilon"
        )
    return [v.item() if isinstance(v, np.generic) else v for v in kept.index], kept.to_numpy()


def _release_discrete(
    spec: ColumnSpec, column: pd.Series, noise: _Noise, rng: Any, categories: list[Any] | None, public_nullability: bool
) -> tuple[ColumnSpec, np.ndarray, dict[str, Any]]:
    """Released spec, slot counts and release entry of a discrete column (round 1).

    ``categories`` is the public category list, or None to discover it; with
    ``public_nullability`` the spec's ``nullable`` is kept instead of being released."""
    discover = categories is None
    if discover:
        categories, counts = _discover_categories(spec, column, noise, rng)
    else:
        counts = _public_category_counts(column, categories, noise.std1, rng)
    noisy_missing = float(column.isna().sum()) + rng.normal(0.0, noise.std1)
    nullable = spec.nullable if public_nullability else bool(noisy_missing > noise.presence(False))
    slots = np.concatenate([counts, [max(noisy_missing, 0.0)]]) if nullable else np.asarray(counts)
    how = " (thresholded: categories discovered)" if discover else " (public categories)"
    entry = {"column": spec.name, "statistic": "category counts" + how, "round": 1}
    return replace(spec, categories=list(categories), nullable=nullable), np.asarray(slots, dtype=float), entry


def _public_categories(spec: ColumnSpec, given: list[Any] | None) -> list[Any]:
    return list(given or ([False, True] if spec.kind == "boolean" else spec.categories or []))


def _release_range(spec: ColumnSpec, x: np.ndarray, noise: _Noise, rng: Any) -> tuple[float, float]:
    """A range covering the column, from the noisy counts of fixed power-of-two bins (round 1)."""
    counts = np.bincount(_log_bin(x[~np.isnan(x)]), minlength=_n_log_bins())
    passed = np.flatnonzero(_noisy(counts, noise.std1, rng) > noise.presence(False))
    if passed.size == 0:
        raise DataValidationError(
            f"column {spec.name!r}: too few rows to find its range privately at this budget; "
            "declare its bounds in the schema with public=True, or raise epsilon"
        )
    return _log_bin_edges(int(passed[0]))[0], _log_bin_edges(int(passed[-1]))[1]


def _release_shape(
    spec: ColumnSpec, x: np.ndarray, bounds: tuple[float, float], noise: _Noise, rng: Any, private_range: bool
) -> tuple[ColumnSpec, NumericSummary, dict[str, Any]]:
    """Released spec, noisy histogram and release entry of a numeric column inside ``bounds``."""
    low, high = bounds
    std = noise.std(private_range)
    missing = np.isnan(x)
    n_bins = int(np.clip(len(x) / max(4.0 * std, 1.0), 4, 64))
    edges = np.linspace(low, high, n_bins + 1) if high > low else np.array([low, low + 1.0])
    noisy = _noisy(np.histogram(np.clip(x[~missing], low, high), bins=edges)[0], std, rng)
    noisy_missing = float(missing.sum()) + rng.normal(0.0, std)
    nullable = spec.nullable if spec.public else bool(noisy_missing > noise.presence(private_range))
    if private_range:  # tighten the power-of-two range to the outermost bins that likely hold rows
        passed = np.flatnonzero(noisy > _TIGHTEN_SIGMAS * std)
        if passed.size:
            low, high = float(edges[passed[0]]), float(edges[passed[-1] + 1])
            edges, noisy = edges[passed[0] : passed[-1] + 2], noisy[passed[0] : passed[-1] + 1]
    summary = NumericSummary((float(low), float(high)), edges, noisy, max(noisy_missing, 0.0))
    released = replace(spec, bounds=_bounds_to_spec(spec, low, high), nullable=nullable)
    entry = {"column": spec.name, "statistic": f"histogram of {len(edges) - 1} bins", "round": 2 if private_range else 1}
    return released, summary, entry


def release_domain(
    frame: pd.DataFrame,
    schema: TableSchema,
    *,
    noise_multiplier: float,
    delta_threshold: float,
    rng: Any,
    public_columns: set[str] | None = None,
    public_categories: dict[str, list[Any]] | None = None,
) -> PrivateDomain:
    """Release the representation statistics of ``frame`` with Gaussian noise.

    Args:
        frame: the private rows.
        schema: column kinds (and, for columns with ``public=True``, public domains).
        noise_multiplier: noise std per unit of L2 sensitivity, used in every round.
        delta_threshold: the delta spent on thresholding discovered categories (union
            bound over the columns whose categories are discovered).
        rng: source of the noise (a :class:`~synthaug.privacy.randomness.NoiseSource`);
            column ``i`` draws from ``rng.stream(i)`` in round 1 and from
            ``rng.stream(len(schema) + i)`` for its numeric shape.
        public_columns: columns whose category set is public although not declared (the
            class labels given as ``y``); ``public_categories`` gives their categories.
    """
    public_columns = set(public_columns or ())
    public_categories = dict(public_categories or {})
    discovered = discovered_columns(schema, public_columns)
    noise = _noise_scales(schema, noise_multiplier, delta_threshold, len(discovered))
    index = {name: i for i, name in enumerate(schema.names)}
    specs: dict[str, ColumnSpec] = {}
    counts: dict[str, np.ndarray] = {}
    summaries: dict[str, NumericSummary] = {}
    releases: list[dict[str, Any]] = []
    for spec in (s for s in schema if s.is_discrete):
        categories = None if spec.name in discovered else _public_categories(spec, public_categories.get(spec.name))
        fixed_nullability = spec.public or spec.name in public_columns
        released = _release_discrete(spec, frame[spec.name], noise, rng.stream(index[spec.name]), categories, fixed_nullability)
        specs[spec.name], counts[spec.name] = released[0], released[1]
        releases.append(released[2])
    numeric = [s for s in schema if not s.is_discrete]
    ranges: dict[str, tuple[float, float] | None] = {s.name: _public_bounds(s) for s in numeric}
    for spec in numeric:
        if ranges[spec.name] is None:
            ranges[spec.name] = _release_range(spec, to_float(frame[spec.name], spec), noise, rng.stream(index[spec.name]))
            releases.append({"column": spec.name, "statistic": "range (power-of-two bins)", "round": 1})
    for spec in numeric:
        stream = rng.stream(len(index) + index[spec.name])
        private_range = _public_bounds(spec) is None
        x = to_float(frame[spec.name], spec)
        specs[spec.name], summaries[spec.name], entry = _release_shape(spec, x, ranges[spec.name], noise, stream, private_range)
        releases.append(entry)
    for entry in releases:
        entry["noise_std"] = noise.std(entry["round"] == 2)
    return PrivateDomain(
        schema=TableSchema([specs[s.name] for s in schema]),
        category_counts=counts,
        numeric=summaries,
        noise_multiplier=float(noise_multiplier),
        rounds=release_rounds(schema),
        delta_threshold=float(delta_threshold if discovered else 0.0),
        releases=releases,
    )
