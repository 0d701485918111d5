"""Rows as tokens: numeric columns as equal-mass bins of their quantile scale, discrete columns as levels.

Shared by the models that see a table as discrete columns (the autoregressive model, the
marginal model). The transformer is :class:`~synthaug.transform.dequantized.DequantizedTransformer`:
its quantile-normal map (private statistics under DP) puts every numeric value on the unit
(quantile) scale, cut into ``numeric_bins`` equal-mass bins, optionally each into equal-mass
sub-bins. Decoding draws a value uniformly on the quantile scale within its cell (within the
asked range where there is one), so values come back continuous where the data were.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from .condition_values import NumericRange

_EDGE = 1e-7  # keeps Phi^-1 finite at the ends of the quantile scale


class QuantileTokens:
    """Token encoding for a synthesizer with ``transformer_`` (a fitted ``DequantizedTransformer``)."""

    transformer_: Any

    @property
    @abstractmethod
    def _levels(self) -> tuple[int, int]:
        """(bins, sub-bins) of a numeric column; one sub-bin means no sub-bin token."""

    @property
    def _n_numeric_tokens(self) -> int:
        bins, sub = self._levels
        return self.transformer_.n_numeric_ * (2 if sub > 1 else 1)

    def _token_levels(self) -> list[int]:
        """Levels of every token column: numeric bins (then sub-bins), then the discrete levels."""
        t, (bins, sub) = self.transformer_, self._levels
        numeric = [bins] * t.n_numeric_ + ([sub] * t.n_numeric_ if sub > 1 else [])
        return numeric + t.levels_.tolist()

    def _encode_training_data(self, frame: pd.DataFrame, rng: np.random.RandomState) -> np.ndarray:
        numeric = self.transformer_.transform(frame, noise=rng)[:, : self.transformer_.n_numeric_]
        return np.concatenate([*self._bins(ndtr(numeric)), self.transformer_.codes(frame)], axis=1)

    def _bins(self, u: np.ndarray) -> list[np.ndarray]:
        """Bin (and sub-bin, when there are several) of every quantile-scale value ``u``."""
        bins, sub = self._levels
        scaled = np.clip(u, 0.0, 1.0) * bins
        coarse = np.minimum(scaled.astype(np.int64), bins - 1)
        if sub == 1:
            return [coarse]
        return [coarse, np.minimum(((scaled - coarse) * sub).astype(np.int64), sub - 1)]

    def _discrete_token(self, column: str) -> int:
        t = self.transformer_
        if column in t.indicator_columns_:  # the missing-value indicator of a nullable numeric column
            return self._n_numeric_tokens + len(t.discrete_columns_) + t.indicator_columns_.index(column)
        return self._n_numeric_tokens + t.discrete_columns_.index(column)

    def _scales(self, conditions: Mapping[str, Any]) -> dict[int, tuple[float, float]]:
        """Quantile-scale interval of every numeric range condition, by numeric column index."""
        t = self.transformer_
        return {
            t.numeric_columns_.index(column): t.quantile_interval(column, condition.low, condition.high)
            for column, condition in conditions.items()
            if isinstance(condition, NumericRange)
        }

    def _decode(self, tokens: np.ndarray, position: np.ndarray, scales: Mapping[int, tuple[float, float]]) -> np.ndarray:
        """Encoded rows from token rows: numeric cells (bin, sub-bin) plus the within-cell ``position``
        (uniform on the quantile scale, within the range where one is asked), categories at their bin centres."""
        t, (bins, sub) = self.transformer_, self._levels
        m = t.n_numeric_
        cell = tokens[:, :m].astype(float) * sub + (tokens[:, m : 2 * m] if sub > 1 else 0.0)
        low, high = cell / (bins * sub), (cell + 1) / (bins * sub)
        for j, (range_low, range_high) in scales.items():  # a loop over conditioned columns, not rows
            low[:, j], high[:, j] = np.maximum(low[:, j], range_low), np.minimum(high[:, j], range_high)
        high = np.maximum(high, low)
        numeric = ndtri(np.clip(low + position * (high - low), _EDGE, 1 - _EDGE))
        codes = tokens[:, self._n_numeric_tokens :]
        return np.concatenate([numeric, t.dequantize(codes, np.full(codes.shape, 0.5))], axis=1)


__all__ = ["QuantileTokens"]
