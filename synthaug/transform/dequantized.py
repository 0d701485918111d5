"""A continuous, invertible representation of a table for normalizing flows.

Every column becomes unbounded real coordinates, laid out as
``[numeric columns | discrete dimensions]``:

* numeric (continuous, integer, datetime) columns go through scikit-learn's
  ``QuantileTransformer(output_distribution="normal")``; integer columns are
  dequantised with uniform noise in [-0.5, 0.5) when fitting and encoding training
  rows, and rounded on the way back; values come back within the seen range;
* discrete dimensions — each categorical/boolean column, then a present/missing
  indicator per nullable numeric column — give category ``k`` the interval
  ``[F(k-1), F(k))`` of the unit interval, ``F`` the cumulative category frequency
  (a floor of 0.1% keeps unseen declared categories reachable), and hold
  ``Phi^-1(F(k-1) + u * p(k))``: ``u`` uniform noise for training (dequantisation),
  0.5 (the bin centre) for a deterministic encoding. Every such coordinate is then
  standard normal, like the numeric ones. Decoding takes the bin, so categories come
  back exactly.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri
from sklearn.preprocessing import QuantileTransformer
from sklearn.utils import check_random_state

from ..exceptions import ConditionError, DataValidationError, SchemaError
from ..schema import TableSchema
from .columns import CategoryEncoder, from_float, make_encoder, numeric_bounds, to_float
from .released import ReleasedStatistics
from .tabular import resolve_schema

_EDGE = 1e-6  # keeps Phi^-1 finite at the ends of the unit interval
_MIN_BIN = 1e-3  # smallest share of the unit interval a category gets


def _quantile_map(quantiles: np.ndarray, references: np.ndarray) -> QuantileTransformer:
    """A fitted normal-output ``QuantileTransformer`` with the given quantiles (one column per feature)."""
    transformer = QuantileTransformer(n_quantiles=quantiles.shape[0], output_distribution="normal")
    transformer.quantiles_ = quantiles
    transformer.references_ = references
    transformer.n_quantiles_ = quantiles.shape[0]
    transformer.n_features_in_ = quantiles.shape[1]
    return transformer


class DequantizedTransformer:
    """Maps a DataFrame to ``(n, n_numeric + n_discrete)`` real coordinates and back (see module docstring)."""

    def __init__(
        self,
        *,
        schema: TableSchema | Mapping[str, Any] | None = None,
        n_quantiles: int = 1000,
        max_fit_samples: int = 100_000,
        max_numeric_categories: int = 10,
        random_state: int | np.random.RandomState | None = None,
    ) -> None:
        self.schema = schema
        self.n_quantiles = n_quantiles
        self.max_fit_samples = max_fit_samples
        self.max_numeric_categories = max_numeric_categories
        self.random_state = random_state

    # ------------------------------------------------------------------ layout
    def _set_layout(self, schema: TableSchema) -> None:
        self.schema_ = schema
        self.numeric_columns_ = [s.name for s in schema if not s.is_discrete]
        self.discrete_columns_ = [s.name for s in schema if s.is_discrete]
        self.indicator_columns_ = [s.name for s in schema if not s.is_discrete and s.nullable]
        self.encoders_ = {s.name: make_encoder(s) for s in schema if s.is_discrete}
        self.levels_ = np.array(
            [self.encoders_[c].n_slots for c in self.discrete_columns_] + [2] * len(self.indicator_columns_), dtype=np.int64
        )
        self.n_numeric_ = len(self.numeric_columns_)
        self.output_dim_ = self.n_numeric_ + len(self.levels_)

    def _set_bins(self, counts: list[np.ndarray]) -> None:
        """Bin edges in (0, 1) of every discrete dimension, from the (possibly noisy) counts of its levels."""
        width = np.zeros((len(self.levels_), int(self.levels_.max(initial=1))))
        for j, level_counts in enumerate(counts):  # a loop over columns, not rows
            freq = np.clip(np.asarray(level_counts, dtype=float), 0.0, None)
            freq = freq / freq.sum() if freq.sum() > 0 else np.full(freq.size, 1.0 / freq.size)
            freq = np.maximum(freq, _MIN_BIN)
            width[j, : freq.size] = freq / freq.sum()
        self._set_bin_widths(width)

    def _set_bin_widths(self, width: np.ndarray) -> None:
        self.bin_width_ = width
        self.bin_low_ = np.cumsum(width, axis=1) - width

    def encoder(self, column: str) -> CategoryEncoder:
        if column not in self.encoders_:
            raise SchemaError(f"column {column!r} is not a discrete column; discrete columns are {self.discrete_columns_}")
        return self.encoders_[column]

    # ------------------------------------------------------------------ fit / transform
    def fit(self, frame: pd.DataFrame, y: Any = None) -> DequantizedTransformer:
        if not isinstance(frame, pd.DataFrame) or frame.shape[0] == 0:
            raise DataValidationError("DequantizedTransformer.fit needs a non-empty DataFrame")
        self.columns_ = list(frame.columns)
        self._set_layout(resolve_schema(frame, self.schema, self.max_numeric_categories))
        rng = check_random_state(self.random_state)
        codes = self.codes(frame)
        self._set_bins([np.bincount(codes[:, j], minlength=k)[:k] for j, k in enumerate(self.levels_)])
        numeric = self._numeric_values(frame, rng)
        self.quantiles_ = None
        if self.n_numeric_:
            n_present = int(np.min(np.sum(~np.isnan(numeric), axis=0)))
            quantile = QuantileTransformer(
                # about 10 rows per quantile step keeps the map (and its slope, the
                # marginal density) from memorising individual values
                n_quantiles=max(2, min(self.n_quantiles, n_present // 10)),
                output_distribution="normal",
                subsample=self.max_fit_samples,
                random_state=rng.randint(np.iinfo(np.int32).max),
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                quantile.fit(numeric)
            self.quantiles_ = quantile
        return self

    def fit_released(self, frame: pd.DataFrame, released: ReleasedStatistics) -> DequantizedTransformer:
        """Set up the representation from privately released statistics instead of the data.

        ``released`` (e.g. a :class:`~synthaug.privacy.PrivateDomain`) gives the schema, the
        noisy slot counts that size the category bins, and the quantile functions of numeric
        columns. Only the column names of ``frame`` are read, never its values.
        """
        self.columns_ = list(frame.columns)
        self._set_layout(released.schema)
        numeric = {c: released.numeric_summary(c) for c in self.numeric_columns_}
        counts = [released.slot_counts(c) for c in self.discrete_columns_]
        self._set_bins(counts + [np.array([numeric[c].present, numeric[c].missing]) for c in self.indicator_columns_])
        self.quantiles_ = None
        if self.n_numeric_:
            references = np.linspace(0.0, 1.0, min(self.n_quantiles, 100))
            quantiles = np.column_stack([numeric[c].quantiles(references) for c in self.numeric_columns_])
            self.quantiles_ = _quantile_map(np.maximum.accumulate(quantiles, axis=0), references)
        return self

    def _numeric_values(self, frame: pd.DataFrame, rng: np.random.RandomState | None) -> np.ndarray:
        columns = []
        for name in self.numeric_columns_:
            spec = self.schema_[name]
            x = to_float(frame[name], spec)
            if np.isinf(x).any():
                raise DataValidationError(f"column {name!r} contains infinite values")
            if np.isnan(x).any() and not spec.nullable:
                raise DataValidationError(f"column {name!r} has missing values but had none when fitted")
            if spec.kind == "integer" and rng is not None:
                x = x + rng.uniform(-0.5, 0.5, size=x.shape)
            columns.append(x)
        return np.column_stack(columns) if columns else np.zeros((len(frame), 0))

    def codes(self, frame: pd.DataFrame) -> np.ndarray:
        """Level of every discrete dimension, shape ``(n, n_discrete)``."""
        columns = [self.encoders_[c].codes(frame[c]) for c in self.discrete_columns_]
        columns += [frame[c].isna().to_numpy().astype(np.int64) for c in self.indicator_columns_]
        return np.column_stack(columns).astype(np.int64) if columns else np.zeros((len(frame), 0), dtype=np.int64)

    def transform(self, frame: pd.DataFrame, noise: np.random.RandomState | None = None) -> np.ndarray:
        """Encode ``frame``; with a ``noise`` RNG, integers and categories are dequantised
        randomly (training rows), else deterministically (bin centres)."""
        missing = [c for c in self.columns_ if c not in frame.columns]
        if missing:
            raise DataValidationError(f"data lacks column(s) {missing}")
        numeric = self._numeric_values(frame, noise)
        if self.n_numeric_:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                numeric = np.nan_to_num(self.quantiles_.transform(numeric), nan=0.0)
        codes = self.codes(frame)
        u = noise.uniform(size=codes.shape) if noise is not None else np.full(codes.shape, 0.5)
        return np.concatenate([numeric, self.dequantize(codes, u)], axis=1)

    def dequantize(self, codes: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Coordinates of discrete levels ``codes`` at relative positions ``u`` in their bins."""
        dims = np.arange(codes.shape[1])
        low, width = self.bin_low_[dims, codes], self.bin_width_[dims, codes]
        return ndtri(np.clip(low + u * width, _EDGE, 1 - _EDGE))

    def quantile_interval(self, column: str, low: float, high: float) -> tuple[float, float]:
        """The interval of the unit (quantile) scale, ``Phi`` of the coordinate, that holds the values
        ``low <= x <= high`` of numeric ``column`` (in :func:`to_float` units; integers count
        their whole dequantisation interval). Raises :class:`ConditionError` when the range
        misses the fitted range (which is public: the quantile map is part of the model)."""
        j = self.numeric_columns_.index(column)
        spec = self.schema_[column]
        if spec.kind == "integer":
            low, high = np.ceil(low) - 0.5, np.floor(high) + 0.5
        quantiles = self.quantiles_.quantiles_[:, j]
        if high < quantiles[0] or low > quantiles[-1] or high < low:
            shown = from_float(np.array([quantiles[0], quantiles[-1]]), spec).tolist()
            raise ConditionError(f"condition on {column!r}: the range holds no value the model generates (it covers {shown})")
        row = np.full((2, self.n_numeric_), np.nan)
        row[:, j] = [max(low, quantiles[0]), min(high, quantiles[-1])]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            z = self.quantiles_.transform(row)[:, j]
        u = ndtr(z)
        return float(u[0]), float(u[1])

    def decode_codes(self, encoded: np.ndarray) -> np.ndarray:
        """Level of every discrete dimension of encoded rows."""
        p = ndtr(np.asarray(encoded)[:, self.n_numeric_ :])
        codes = np.empty(p.shape, dtype=np.int64)
        for j, k in enumerate(self.levels_):  # a loop over columns, not rows
            inner_edges = (self.bin_low_[j, :k] + self.bin_width_[j, :k])[:-1]
            codes[:, j] = np.searchsorted(inner_edges, p[:, j], side="right")
        return codes

    def inverse_transform(self, encoded: np.ndarray) -> pd.DataFrame:
        encoded = np.asarray(encoded, dtype=float)
        if encoded.ndim != 2 or encoded.shape[1] != self.output_dim_:
            raise DataValidationError(f"expected {self.output_dim_} columns, got shape {encoded.shape}")
        codes = self.decode_codes(encoded)
        data: dict[str, pd.Series] = {}
        if self.n_numeric_:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                numeric = self.quantiles_.inverse_transform(encoded[:, : self.n_numeric_])
            for j, name in enumerate(self.numeric_columns_):
                spec = self.schema_[name]
                x = numeric[:, j]
                bounds = numeric_bounds(spec)
                if bounds is not None:
                    x = np.clip(x, *bounds)
                if name in self.indicator_columns_:
                    k = len(self.discrete_columns_) + self.indicator_columns_.index(name)
                    x = np.where(codes[:, k] == 1, np.nan, x)
                data[name] = from_float(x, spec)
        for j, name in enumerate(self.discrete_columns_):
            data[name] = self.encoders_[name].values_from_codes(codes[:, j])
        return pd.DataFrame({name: data[name].reset_index(drop=True) for name in self.columns_})

    def log_jacobian(self, frame: pd.DataFrame) -> np.ndarray:
        """Per row, ``log |d(encoding)/d(values)|`` of the numeric columns plus the log-width of
        each category's bin, so that flow log-density + this = log-density of numeric values
        times the probability of the categories (bins evaluated at their centre)."""
        n = len(frame)
        total = np.zeros(n)
        if self.n_numeric_:
            x = self._numeric_values(frame, None)
            quantiles = self.quantiles_.quantiles_
            steps = np.diff(quantiles, axis=0)
            # difference step: half a typical quantile step, so the slope is a local average
            h = np.maximum(0.5 * np.median(np.where(steps > 0, steps, np.nan), axis=0), 1e-12)
            h = np.nan_to_num(h, nan=1e-6)
            filled = np.where(np.isnan(x), quantiles[0], x)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                slope = (self.quantiles_.transform(filled + h) - self.quantiles_.transform(filled - h)) / (2 * h)
            # beyond the fitted range (where the map is flat) the density continues with the
            # slope of the outermost tenth of the quantiles
            slope = np.where(slope > 0, slope, self._tail_slopes(filled))
            present = ~np.isnan(x)
            total += np.where(present, np.log(np.maximum(slope, 1e-300)), 0.0).sum(axis=1)
        codes = self.codes(frame)
        if codes.shape[1]:
            low, high = self.dequantize(codes, np.zeros(codes.shape)), self.dequantize(codes, np.ones(codes.shape))
            total += np.log(high - low).sum(axis=1)
        return total

    def _tail_slopes(self, x: np.ndarray) -> np.ndarray:
        """Slope of the map over the lower or upper tenth of its quantiles, by the side of ``x``."""
        quantiles, references = self.quantiles_.quantiles_, self.quantiles_.references_
        n = quantiles.shape[0]
        k = max(1, n // 10)
        z = ndtri(np.clip(references, _EDGE, 1 - _EDGE))
        with np.errstate(divide="ignore", invalid="ignore"):
            low = (z[k] - z[min(1, n - 1)]) / (quantiles[k] - quantiles[min(1, n - 1)])
            high = (z[n - 2] - z[n - 1 - k]) / (quantiles[n - 2] - quantiles[n - 1 - k])
        low = np.where(np.isfinite(low) & (low > 0), low, 1.0)
        high = np.where(np.isfinite(high) & (high > 0), high, 1.0)
        middle = quantiles[n // 2]
        return np.where(x < middle, low, high)

    # ------------------------------------------------------------------ persistence
    def to_state(self) -> dict[str, Any]:
        state: dict[str, Any] = {
            "params": {
                "n_quantiles": self.n_quantiles,
                "max_fit_samples": self.max_fit_samples,
                "max_numeric_categories": self.max_numeric_categories,
            },
            "schema": self.schema_.to_dict(),
            "columns": list(self.columns_),
            "bin_width": self.bin_width_.tolist(),
            "quantiles": None,
        }
        if self.quantiles_ is not None:
            state["quantiles"] = {
                "quantiles": self.quantiles_.quantiles_.tolist(),
                "references": self.quantiles_.references_.tolist(),
            }
        return state

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> DequantizedTransformer:
        try:
            obj = cls(**state["params"])
            obj.columns_ = list(state["columns"])
            obj._set_layout(TableSchema.from_dict(state["schema"]))
            obj._set_bin_widths(np.asarray(state["bin_width"], dtype=float).reshape(len(obj.levels_), -1))
            obj.quantiles_ = None
            if state["quantiles"] is not None:
                quantiles = np.asarray(state["quantiles"]["quantiles"], dtype=float)
                obj.quantiles_ = _quantile_map(quantiles, np.asarray(state["quantiles"]["references"], dtype=float))
        except (KeyError, TypeError, ValueError) as exc:
            raise SchemaError(f"invalid transformer state: {exc}") from exc
        return obj
