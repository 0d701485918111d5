"""A numeric encoding of mixed-type tables in which Euclidean distance is a documented mixed-type distance.

The distance between two rows ``a`` and ``b`` of a table with ``p`` columns is the
heterogeneous Euclidean-overlap metric (HEOM, Wilson & Martinez 1997), scaled to ``[0, 1]``
for values inside the reference ranges::

    d(a, b) = sqrt( sum_c d_c(a_c, b_c) ** 2 / p )

* numeric columns (continuous, integer, datetime as seconds): ``d_c = |a_c - b_c| / range_c``
  with ``range_c`` the max - min of the reference (training) table (1 when the column is
  constant); values beyond the reference range can give ``d_c > 1``;
* discrete columns (categorical, boolean): ``d_c = 0`` when the canonical labels are equal,
  else 1 (overlap); a missing value is a category of its own;
* missing numeric values: a present/missing indicator adds 1 to ``d_c ** 2`` when exactly one
  side is missing; the missing side's value counts as the reference median.

Rows are encoded so that the plain Euclidean distance of the encoded vectors equals ``d``:
numeric values become ``x / (range * sqrt(p))``, each discrete column a one-hot block scaled
by ``1 / sqrt(2 p)``. That makes nearest-neighbour searches vectorised (scikit-learn's
``NearestNeighbors``) and fast.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.utils import check_random_state

from ..exceptions import DataValidationError, MetricNotApplicable, ParameterError
from ..schema import TableSchema
from ..transform.columns import to_float
from .utility import category_labels

_MISSING = "<missing>"


class MixedEncoder:
    """Encode tables for the HEOM distance above; ``fit`` on the real training table.

    ``categories_from`` lists further tables whose discrete labels join the one-hot domain
    (so that a label unseen in training still differs from every known one).
    """

    def __init__(self, schema: TableSchema) -> None:
        self.schema = schema

    def fit(self, reference: pd.DataFrame, *categories_from: pd.DataFrame) -> MixedEncoder:
        p = len(self.schema)
        if p == 0:
            raise DataValidationError("cannot encode a table without columns")
        if len(reference) == 0:
            raise DataValidationError("cannot fit the mixed-type encoder on an empty table")
        self.numeric_: dict[str, tuple[float, float, bool]] = {}
        self.categories_: dict[str, pd.Index] = {}
        tables = (reference, *categories_from)
        for spec in self.schema:
            if spec.is_discrete:
                labels = [pd.unique(_labels(t[spec.name], spec)) for t in tables]
                self.categories_[spec.name] = pd.Index(pd.unique(np.concatenate(labels)), dtype=object)
            else:
                values = to_float(reference[spec.name], spec)
                present = values[~np.isnan(values)]
                if present.size == 0:
                    raise MetricNotApplicable(f"column {spec.name!r} is entirely missing in the real table: no distance to it")
                span = float(present.max() - present.min())
                nullable = any(bool(np.isnan(to_float(t[spec.name], spec)).any()) for t in tables)
                self.numeric_[spec.name] = (span if span > 0 else 1.0, float(np.median(present)), nullable)
        self.n_columns_ = p
        return self

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        """The encoded rows as a float64 array."""
        p = self.n_columns_
        blocks: list[np.ndarray] = []
        for spec in self.schema:
            if spec.is_discrete:
                cats = self.categories_[spec.name]
                codes = cats.get_indexer(pd.Index(_labels(frame[spec.name], spec)))
                block = np.zeros((len(frame), len(cats) + 1))
                block[np.arange(len(frame)), np.where(codes < 0, len(cats), codes)] = 1.0
                blocks.append(block / np.sqrt(2.0 * p))
            else:
                span, median, nullable = self.numeric_[spec.name]
                values = to_float(frame[spec.name], spec)
                missing = np.isnan(values)
                blocks.append((np.where(missing, median, values) / (span * np.sqrt(p)))[:, None])
                if nullable:
                    blocks.append((missing / np.sqrt(p))[:, None])
        return np.hstack(blocks) if blocks else np.zeros((len(frame), 0))


def _labels(series: pd.Series, spec: Any) -> np.ndarray:
    labels = category_labels(series, spec)
    return np.where(pd.isna(labels), _MISSING, labels).astype(object)


def row_hashes(encoded: np.ndarray) -> np.ndarray:
    """A 64-bit hash of each encoded row (equal rows, equal hashes): exact-match tests without distances."""
    return pd.util.hash_pandas_object(pd.DataFrame(encoded), index=False).to_numpy()


def subsample(frame: pd.DataFrame, max_rows: int | None, random_state: Any) -> pd.DataFrame:
    """At most ``max_rows`` rows of ``frame`` drawn without replacement (all of them, in order, when it is smaller)."""
    if max_rows is None or len(frame) <= max_rows:
        return frame
    if max_rows < 1:
        raise ParameterError(f"max_rows must be a positive integer or None, got {max_rows!r}")
    rows = np.sort(check_random_state(random_state).choice(len(frame), size=max_rows, replace=False))
    return frame.iloc[rows]
