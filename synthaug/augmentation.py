"""Plain row addition for any target, regression included: a ``fit_resample`` step for imblearn pipelines."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval

from .exceptions import DataValidationError, ParameterError
from .fit_cache import FIT_CACHE, cacheable, data_digest, estimator_digest, fit_key
from .over_sampling import OVERSAMPLED_REAL_ROWS, default_synthesizer, stack_rows
from .privacy.config import check_dp

#: the name the target gets as a column of the modelled table when ``y`` has no usable name.
TARGET_COLUMN = "target"


class GenerativeAugmenter(BaseEstimator):
    """Add synthetic rows, drawn jointly with their target, to a training set.

    ``fit_resample(X, y)`` fits a synthesizer on the table ``X`` with ``y`` as one more column
    (continuous, count or class: it is modelled as the column it is), draws ``n_samples`` rows (or
    ``ratio`` times as many as ``X`` has) from it and returns the real rows followed by the
    synthetic ones, each with its generated target. Unlike :class:`GenerativeOverSampler` it does
    not balance classes: it adds rows from the joint distribution, which is what a regression
    target needs (imbalanced-learn's samplers accept classification targets only). It has
    ``fit_resample`` and no ``transform``, so it is a sampler step of
    ``imblearn.pipeline.Pipeline``: rows are added when the pipeline is fitted, never at predict
    time. ``fit_resample(X)`` without ``y`` returns the augmented ``X`` alone.

    Parameters:
        synthesizer: an unfitted synthaug table synthesizer (cloned for every fit); default
            :func:`synthaug.over_sampling.default_synthesizer`. Under DP (``dp=`` set on it) declare
            the target column in its schema under the name the target gets (``y.name``, else
            ``"target"``), and give ``n_samples``: a count derived from the exact row count is refused.
        n_samples: synthetic rows to add; overrides ``ratio``.
        ratio: synthetic rows per real row when ``n_samples`` is ``None`` (default 1.0: the set doubles).
        random_state: seed for the synthesizer (overrides its own).
        cache: reuse an earlier equal fit in this process (integer ``random_state``, no DP; see
            :mod:`synthaug.fit_cache`).

    Attributes:
        synthesizer_: the fitted synthesizer.
        n_added_: the number of rows added by the last call.
        target_column_: the target's column name in the modelled table (``None`` without ``y``).
        privacy_spent_: the synthesizer's privacy report, saying what it covers.
    """

    _parameter_constraints: dict = {
        "synthesizer": [HasMethods(["fit", "sample"]), None],
        "n_samples": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "ratio": [Interval(numbers.Real, 0, None, closed="neither")],
        "random_state": ["random_state"],
        "cache": ["boolean"],
    }

    def __init__(
        self,
        *,
        synthesizer: Any = None,
        n_samples: int | None = None,
        ratio: float = 1.0,
        random_state: Any = None,
        cache: bool = True,
    ) -> None:
        self.synthesizer = synthesizer
        self.n_samples = n_samples
        self.ratio = ratio
        self.random_state = random_state
        self.cache = cache

    def fit(self, X: Any, y: Any = None) -> GenerativeAugmenter:
        """Fit the synthesizer (what ``fit_resample`` does, without returning rows)."""
        self.fit_resample(X, y)
        return self

    def fit_resample(self, X: Any, y: Any = None) -> Any:
        """``(X_augmented, y_augmented)``: the real rows first, unchanged, then the synthetic rows;
        ``X_augmented`` alone when ``y`` is ``None``."""
        self._validate_params()
        if getattr(self.synthesizer, "is_image_synthesizer", False):
            raise ParameterError("GenerativeAugmenter takes table synthesizers; for images use GenerativeOverSampler")
        private = check_dp(getattr(self.synthesizer, "dp", None)) is not None
        table, column = self._table(X, y, private)
        n_new = self._n_new(len(table), private)
        key = None if private else self._cache_key(table, n_new)
        cached = FIT_CACHE.get(key) if key is not None else None
        if cached is None:
            cached = self._generate(table, n_new)
            if key is not None:
                FIT_CACHE.put(key, cached)
        self.synthesizer_, new = cached
        self.n_added_ = len(new)
        self.target_column_ = column
        self.privacy_spent_ = self._privacy_report(private)
        new_X = new.drop(columns=[column]) if column is not None else new
        if not isinstance(X, pd.DataFrame):
            new_X = new_X.to_numpy()
        X_res = stack_rows(X if isinstance(X, pd.DataFrame) else np.asarray(X), [new_X])
        if column is None:
            return X_res
        return X_res, self._stack_target(y, new[column])

    def _table(self, X: Any, y: Any, private: bool) -> tuple[pd.DataFrame, str | None]:
        """The modelled table (features plus the target as a column) and the target's column name."""
        if isinstance(X, pd.DataFrame):
            table = X.copy()
        else:
            array = np.asarray(X)
            if array.ndim != 2:
                raise DataValidationError(f"X must be a table (2-D), got shape {array.shape}")
            table = pd.DataFrame(array, columns=[f"x{i}" for i in range(array.shape[1])])
        self.n_features_in_ = table.shape[1]
        if len(table) == 0:
            raise DataValidationError("X has no rows")
        if y is None:
            return table, None
        target = pd.Series(np.asarray(y).ravel() if not isinstance(y, pd.Series) else y.to_numpy())
        if len(target) != len(table):  # under dp no exact count of the private rows is quoted
            sizes = "different numbers of rows" if private else f"{len(table)} and {len(target)} rows"
            raise DataValidationError(f"X and y have {sizes}")
        if target.isna().any():
            count = "missing values" if private else f"{int(target.isna().sum())} missing value(s)"
            raise DataValidationError(f"y has {count}; drop or fill those rows first")
        name = str(y.name) if isinstance(y, pd.Series) and y.name is not None else TARGET_COLUMN
        if name in table.columns:
            raise DataValidationError(f"y's name {name!r} is also a column of X; rename one of them")
        table[name] = target.to_numpy()
        return table, name

    def _n_new(self, n_rows: int, private: bool) -> int:
        if self.n_samples is not None:
            return int(self.n_samples)
        if private:
            raise ParameterError(
                "under dp give n_samples: ratio x the number of rows would make the synthetic part depend on the "
                "exact row count of the private data"
            )
        return max(int(round(self.ratio * n_rows)), 1)

    def _cache_key(self, table: pd.DataFrame, n_new: int) -> str | None:
        if not cacheable(self.cache, self.random_state):
            return None
        synthesizer = self.synthesizer if self.synthesizer is not None else default_synthesizer()
        return fit_key("augment", data_digest(table), n_new, estimator_digest(self), estimator_digest(synthesizer))

    def _generate(self, table: pd.DataFrame, n_new: int) -> tuple[Any, pd.DataFrame]:
        synthesizer = clone(self.synthesizer) if self.synthesizer is not None else default_synthesizer()
        if "random_state" in synthesizer.get_params():
            synthesizer.set_params(random_state=check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        synthesizer.fit(table)
        return synthesizer, synthesizer.sample(n_new)

    @staticmethod
    def _stack_target(y: Any, new: pd.Series) -> Any:
        real = y.to_numpy() if isinstance(y, pd.Series) else np.asarray(y).ravel()
        values = np.concatenate([real, new.to_numpy().astype(real.dtype, copy=False)])
        if isinstance(y, pd.Series):
            return pd.Series(values, name=y.name, dtype=y.dtype)
        return values

    def _privacy_report(self, private: bool) -> dict[str, Any]:
        report = getattr(self.synthesizer_, "privacy_spent_", None)
        if not private or report is None or report.get("epsilon") is None:
            return {"guarantee": "none", "epsilon": None, "delta": None, "note": "trained without differential privacy"}
        return {
            **{k: report[k] for k in ("epsilon", "delta")},
            "guarantee": report["guarantee"] + ", for the fitted model and the synthetic rows only",
            "not_covered": OVERSAMPLED_REAL_ROWS,
            "per_fit": [report],
        }

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.string = True
        tags.input_tags.categorical = True
        tags.target_tags.required = False
        return tags


__all__ = ["GenerativeAugmenter"]
