"""Run a numeric-only imbalanced-learn sampler (ADASYN) on a mixed-type frame, as a user would.

ADASYN interpolates between numeric rows and has no categorical variant (unlike SMOTENC), so the
frame is encoded first: numeric columns standardised with the training rows' mean and std,
categorical columns one-hot. The sampler's new rows are decoded back: numeric columns unscaled,
each categorical column set to the category of its largest interpolated indicator (argmax).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.preprocessing import OneHotEncoder, StandardScaler


class EncodedSampler(BaseEstimator):
    """``fit_resample(X, y)`` of ``sampler`` on the standardised + one-hot encoding of the frame ``X``."""

    def __init__(self, sampler: Any, numeric: list[str], categorical: list[str]) -> None:
        self.sampler = sampler
        self.numeric = numeric
        self.categorical = categorical

    def fit_resample(self, X: pd.DataFrame, y: Any) -> tuple[pd.DataFrame, np.ndarray]:
        scaler = StandardScaler().fit(X[self.numeric]) if self.numeric else None
        onehot = OneHotEncoder(sparse_output=False).fit(X[self.categorical]) if self.categorical else None
        blocks = []
        if scaler is not None:
            blocks.append(scaler.transform(X[self.numeric]))
        if onehot is not None:
            blocks.append(onehot.transform(X[self.categorical]))
        self.sampler_ = clone(self.sampler)
        encoded, y_res = self.sampler_.fit_resample(np.hstack(blocks), y)
        self.sampling_strategy_ = self.sampler_.sampling_strategy_
        new = encoded[len(X) :]
        decoded = pd.DataFrame(index=pd.RangeIndex(len(X), len(X) + len(new)))
        width = len(self.numeric)
        if scaler is not None:
            decoded[self.numeric] = scaler.inverse_transform(new[:, :width])
        if onehot is not None:
            start = width
            for column, levels in zip(self.categorical, onehot.categories_, strict=True):
                block = new[:, start : start + len(levels)]
                decoded[column] = np.asarray(levels, dtype=object)[np.argmax(block, axis=1)]
                start += len(levels)
        for column in self.numeric:
            if pd.api.types.is_integer_dtype(X[column].dtype):
                decoded[column] = np.round(decoded[column])
        decoded = decoded[list(X.columns)].astype(X.dtypes.to_dict())
        return pd.concat([X, decoded]), np.asarray(y_res)
