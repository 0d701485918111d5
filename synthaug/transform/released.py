"""What the transformers read from a private release instead of the data.

``fit_released`` needs, per column, only what a differentially private release
provides: the released schema (categories, bounds, nullability), noisy counts of each
discrete column's encoder slots, and for numeric columns a quantile function with the
noisy counts of present and missing values. Any object with this shape will do;
:class:`synthaug.privacy.PrivateDomain` is one.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from ..schema import TableSchema


class ReleasedNumeric(Protocol):
    """Released statistics of one numeric column."""

    @property
    def present(self) -> float:
        """Noisy count of present values."""
        ...

    @property
    def missing(self) -> float:
        """Noisy count of missing values."""
        ...

    def quantiles(self, probs: np.ndarray) -> np.ndarray:
        """The column's quantiles at ``probs`` (non-decreasing in ``probs``)."""
        ...


class ReleasedStatistics(Protocol):
    """Released per-column statistics of a table."""

    @property
    def schema(self) -> TableSchema:
        """The released schema: categories, bounds and nullability of every column."""
        ...

    def slot_counts(self, column: str) -> np.ndarray:
        """Noisy counts of a discrete column, one per encoder slot (categories, then missing)."""
        ...

    def numeric_summary(self, column: str) -> ReleasedNumeric:
        """Released statistics of a numeric column."""
        ...
