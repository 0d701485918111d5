"""Reversible encoding of mixed-type tables into a float matrix."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import check_array, check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from ..exceptions import DataValidationError, ParameterError, SchemaError
from ..schema import ColumnSpec, TableSchema, infer_schema
from .columns import CategoryEncoder, ColumnEncoder, ModeEncoder, from_float, make_encoder, to_float
from .released import ReleasedStatistics
from .spans import Span


def as_frame(X: Any, columns: list[str] | None = None) -> tuple[pd.DataFrame, bool]:
    """Return ``X`` as a DataFrame with string column names, and whether it was one already."""
    if isinstance(X, pd.DataFrame):
        frame = X.copy()
        frame.columns = [str(c) for c in frame.columns]
        if not frame.columns.is_unique:
            raise DataValidationError("column names must be unique")
        return frame, True
    if isinstance(X, pd.Series):
        raise DataValidationError("expected a 2-D table (DataFrame or array), got a Series; use series.to_frame()")
    arr = check_array(X, dtype=None, ensure_all_finite="allow-nan", ensure_min_samples=1)
    if arr.dtype.kind == "c":
        raise DataValidationError("complex data is not supported")
    names = columns if columns is not None else [f"x{i}" for i in range(arr.shape[1])]
    return pd.DataFrame(arr, columns=names), False


def _complete_spec(spec: ColumnSpec, series: pd.Series) -> ColumnSpec:
    """Fill a declared spec's missing domain from the data (only what the user left open)."""
    present = series.dropna()
    if len(present) == 0:
        raise DataValidationError(f"column {spec.name!r} is entirely missing; drop it before fitting")
    if spec.is_discrete and spec.categories is None:
        cats = [False, True] if spec.kind == "boolean" else sorted(present.unique().tolist(), key=repr)
        spec = replace(spec, categories=cats)
    if not spec.is_discrete and spec.bounds is None:
        x = to_float(series, spec)
        if spec.kind == "datetime":
            ts = pd.to_datetime(present)
            spec = replace(spec, bounds=(ts.min().isoformat(), ts.max().isoformat()))
        else:
            spec = replace(spec, bounds=(float(np.nanmin(x)), float(np.nanmax(x))))
    elif not spec.is_discrete:
        _check_declared_bounds(spec, series)
    if series.isna().any() and not spec.nullable:
        spec = replace(spec, nullable=True)
    return spec


#: declared bounds that leave out a larger share of a column's present values are an error
MAX_SHARE_OUTSIDE_BOUNDS = 0.5


def _check_declared_bounds(spec: ColumnSpec, series: pd.Series) -> None:
    """Declared bounds that exclude most of the data are a mistake (every value would be clipped
    to a bound): refuse them, with the share and the observed range (non-private fits only)."""
    x = to_float(series, spec)
    x = x[~np.isnan(x)]
    low, high = to_float(pd.Series(list(spec.bounds)), spec) if spec.kind == "datetime" else spec.bounds
    outside = float(((x < low) | (x > high)).mean())
    observed = [str(v) for v in from_float(np.array([x.min(), x.max()]), spec)]
    if outside > MAX_SHARE_OUTSIDE_BOUNDS:
        raise SchemaError(
            f"column {spec.name!r}: the declared bounds {list(spec.bounds)} exclude {outside:.0%} of its values (observed "
            f"range {observed}); every one of them would be clipped to a bound. Correct the bounds in the schema"
        )


def resolve_schema(frame: pd.DataFrame, schema: Any, max_numeric_categories: int) -> TableSchema:
    """The schema to use for ``frame``: inferred, or the given one (dict or TableSchema)
    checked against the data, ordered like it, with open domains completed from the data."""
    if schema is None:
        return infer_schema(frame, max_numeric_categories=max_numeric_categories, detect_identifiers=False)
    schema = schema if isinstance(schema, TableSchema) else TableSchema.from_dict(schema)
    schema.check_frame(frame)
    identifiers = [spec.name for spec in schema if spec.kind == "id"]
    if identifiers:
        raise SchemaError(
            f"column(s) {identifiers} have kind 'id': identifiers are not encoded; drop them before the "
            "transformer (a synthesizer sets them aside itself and writes fresh ones)"
        )
    return TableSchema([_complete_spec(schema[c], frame[c]) for c in frame.columns])


class TabularTransformer(TransformerMixin, BaseEstimator):
    """Reversible encoding of a mixed-type table into a float matrix.

    Numeric columns (continuous, integer, datetime) get mode-specific
    normalisation: a scalar in roughly [-1, 1] and a one-hot of the Gaussian
    mixture mode it belongs to. Categorical and boolean columns are one-hot.
    Nullable numeric columns get a present/missing indicator; nullable
    categoricals a missing slot. ``inverse_transform`` restores column names,
    dtypes, categories, bounds (clipping) and the missing-value pattern.

    Parameters:
        schema: a :class:`~synthaug.schema.TableSchema` (or its dict form) to use
            instead of inferring one; columns it leaves open are completed from data.
        max_modes: most mixture modes per numeric column.
        weight_threshold: modes lighter than this are dropped.
        max_fit_samples: the mixture is fitted on at most this many rows per column,
            so fitting time does not grow with the table.
        max_numeric_categories: integer-valued columns with at most this many
            distinct values are inferred as categorical.
        handle_unknown: ``"error"`` (default) or ``"ignore"`` (all-zero one-hot) for
            categories not seen in fit.
        dtype: dtype of the encoded matrix (float32 for networks; float64 for exact round trips).
        n_jobs: parallel jobs for fitting the per-column mixtures.
        random_state: seed for the subsample and the mixtures.

    Attributes:
        schema_: the schema used. spans_: the layout of the encoded vector
        (:class:`~synthaug.transform.Span` list). output_dim_: its width.
    """

    def __init__(
        self,
        *,
        schema: TableSchema | Mapping[str, Any] | None = None,
        max_modes: int = 10,
        weight_threshold: float = 0.005,
        max_fit_samples: int = 10_000,
        max_numeric_categories: int = 10,
        handle_unknown: str = "error",
        dtype: Any = np.float32,
        n_jobs: int | None = None,
        random_state: int | np.random.RandomState | None = None,
    ) -> None:
        self.schema = schema
        self.max_modes = max_modes
        self.weight_threshold = weight_threshold
        self.max_fit_samples = max_fit_samples
        self.max_numeric_categories = max_numeric_categories
        self.handle_unknown = handle_unknown
        self.dtype = dtype
        self.n_jobs = n_jobs
        self.random_state = random_state

    # ------------------------------------------------------------------ helpers
    def _check_params(self) -> None:
        if not isinstance(self.max_modes, (int, np.integer)) or self.max_modes < 1:
            raise ParameterError(f"max_modes must be a positive integer, got {self.max_modes!r}")
        if not 0 <= self.weight_threshold < 1:
            raise ParameterError(f"weight_threshold must be in [0, 1), got {self.weight_threshold!r}")
        if not isinstance(self.max_fit_samples, (int, np.integer)) or self.max_fit_samples < 1:
            raise ParameterError(f"max_fit_samples must be a positive integer, got {self.max_fit_samples!r}")
        if self.handle_unknown not in ("error", "ignore"):
            raise ParameterError(f"handle_unknown must be 'error' or 'ignore', got {self.handle_unknown!r}")

    def _validate(self, X: Any, reset: bool) -> pd.DataFrame:
        if not reset:
            check_is_fitted(self)
        if isinstance(X, pd.DataFrame):
            validate_data(self, X, skip_check_array=True, reset=reset)
            frame, _ = as_frame(X)
        else:
            arr = check_array(X, dtype=None, ensure_all_finite="allow-nan", ensure_min_samples=1)
            validate_data(self, arr, skip_check_array=True, reset=reset)
            frame, _ = as_frame(arr)
        if frame.shape[0] == 0:
            raise DataValidationError("the table has no rows")
        if frame.shape[1] == 0:
            raise DataValidationError("the table has no columns")
        if not reset:
            frame.columns = self.schema_.names  # positional, as sklearn validated the count
        return frame

    # ------------------------------------------------------------------ fit
    def fit(self, X: Any, y: Any = None) -> TabularTransformer:
        """Learn the schema (unless given) and each column's encoding."""
        self._check_params()
        frame = self._validate_input(X)
        schema = resolve_schema(frame, self.schema, self.max_numeric_categories)
        self.schema_ = schema
        rng = check_random_state(self.random_state)
        seeds = rng.randint(np.iinfo(np.int32).max, size=len(schema))

        def fit_one(spec: ColumnSpec, seed: int) -> ColumnEncoder:
            return make_encoder(spec, self.handle_unknown).fit(
                frame[spec.name],
                max_modes=self.max_modes,
                weight_threshold=self.weight_threshold,
                max_fit_samples=self.max_fit_samples,
                rng=np.random.RandomState(seed),
            )

        n_numeric = sum(not s.is_discrete for s in schema)
        if self.n_jobs not in (None, 1) and n_numeric > 1:
            encoders = Parallel(n_jobs=self.n_jobs)(delayed(fit_one)(s, sd) for s, sd in zip(schema, seeds, strict=True))
        else:
            encoders = [fit_one(s, sd) for s, sd in zip(schema, seeds, strict=True)]
        self._set_encoders(encoders)
        return self

    def fit_released(self, X: pd.DataFrame, released: ReleasedStatistics) -> TabularTransformer:
        """Set up the encoding from privately released statistics instead of the data.

        ``released`` (e.g. a :class:`~synthaug.privacy.PrivateDomain`) gives the schema
        (categories and bounds) and the quantile functions from which the mixture modes are
        set. Only the column names and dtypes of ``X`` are read, never its values.
        """
        self._check_params()
        self._validate_input(X)  # names and dtypes only
        self.schema_ = released.schema
        encoders: list[ColumnEncoder] = []
        for spec in self.schema_:
            if spec.is_discrete:
                encoders.append(make_encoder(spec, self.handle_unknown))
            else:
                quantiles = released.numeric_summary(spec.name).quantiles
                encoders.append(ModeEncoder(spec).fit_quantiles(quantiles, max_modes=self.max_modes))
        self._set_encoders(encoders)
        return self

    def _validate_input(self, X: Any) -> pd.DataFrame:
        """Validate a table to fit on and record its columns, dtypes and container."""
        frame = self._validate(X, reset=True)
        self.is_dataframe_input_ = isinstance(X, pd.DataFrame)
        self.columns_ = list(X.columns) if self.is_dataframe_input_ else list(frame.columns)
        self.input_dtypes_ = {str(c): str(t) for c, t in frame.dtypes.items()}
        return frame

    def _set_encoders(self, encoders: list[ColumnEncoder]) -> None:
        self.encoders_ = encoders
        self.spans_: list[Span] = [span for enc in encoders for span in enc.spans]
        self.output_dim_ = int(sum(s.dim for s in self.spans_))
        offsets, start = {}, 0
        for enc in encoders:
            offsets[enc.spec.name] = (start, start + enc.dim)
            start += enc.dim
        self.column_offsets_ = offsets

    # ------------------------------------------------------------------ transform
    def transform(self, X: Any) -> np.ndarray:
        """Encode a table; the result has ``output_dim_`` columns laid out as ``spans_``."""
        frame = self._validate(X, reset=False)
        dtype = np.dtype(self.dtype)
        out = np.empty((len(frame), self.output_dim_), dtype=dtype)  # filled block by block: no concatenated copy
        for enc in self.encoders_:
            start, stop = self.column_offsets_[enc.spec.name]
            enc.transform(frame[enc.spec.name], dtype, out=out[:, start:stop])
        return out

    def inverse_transform(self, X: Any) -> pd.DataFrame | np.ndarray:
        """Decode an encoded matrix (or network output) back to a table.

        One-hot blocks are read by argmax, so soft network outputs decode too.
        Returns a DataFrame when ``fit`` got one, else an array.
        """
        check_is_fitted(self)
        Xt = np.asarray(X)
        if Xt.ndim != 2 or Xt.shape[1] != self.output_dim_:
            raise DataValidationError(f"expected an encoded matrix with {self.output_dim_} columns, got shape {Xt.shape}")
        data = {}
        for enc in self.encoders_:
            start, stop = self.column_offsets_[enc.spec.name]
            data[enc.spec.name] = enc.inverse_transform(Xt[:, start:stop]).reset_index(drop=True)
        frame = pd.DataFrame(data)
        if self.is_dataframe_input_:
            frame.columns = self.columns_
            return frame
        return frame.to_numpy()

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        check_is_fitted(self)
        return np.asarray([name for enc in self.encoders_ for name in enc.feature_names()], dtype=object)

    # ------------------------------------------------------------------ layout helpers for networks
    def encoder(self, column: str) -> ColumnEncoder:
        check_is_fitted(self)
        for enc in self.encoders_:
            if enc.spec.name == column:
                return enc
        raise SchemaError(f"unknown column {column!r}; columns are {self.schema_.names}")

    # ------------------------------------------------------------------ persistence
    def to_state(self) -> dict[str, Any]:
        """JSON-friendly fitted state (no pickles)."""
        check_is_fitted(self)
        columns = [c if isinstance(c, (str, int, float, bool)) else str(c) for c in self.columns_]
        return {
            "params": {k: v for k, v in self.get_params().items() if k not in ("schema", "dtype", "random_state")},
            "dtype": np.dtype(self.dtype).name,
            "schema": self.schema_.to_dict(),
            "columns": [c.item() if isinstance(c, np.generic) else c for c in columns],
            "is_dataframe_input": self.is_dataframe_input_,
            "input_dtypes": self.input_dtypes_,
            "encoders": [enc.to_state() for enc in self.encoders_],
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> TabularTransformer:
        try:
            obj = cls(**state["params"], dtype=np.dtype(state["dtype"]))
            schema = TableSchema.from_dict(state["schema"])
            obj.schema_ = schema
            obj.columns_ = list(state["columns"])
            obj.is_dataframe_input_ = bool(state["is_dataframe_input"])
            obj.input_dtypes_ = dict(state["input_dtypes"])
            obj.n_features_in_ = len(schema)
            if obj.is_dataframe_input_:
                obj.feature_names_in_ = np.asarray([str(c) for c in obj.columns_], dtype=object)
            encoders = [
                make_encoder(spec, obj.handle_unknown).set_state(enc_state)
                for spec, enc_state in zip(schema, state["encoders"], strict=True)
            ]
        except (KeyError, TypeError, ValueError) as exc:
            raise SchemaError(f"invalid transformer state: {exc}") from exc
        obj._set_encoders(encoders)
        return obj

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.string = True
        tags.input_tags.categorical = True
        tags.transformer_tags.preserves_dtype = []  # output dtype is the `dtype` parameter
        return tags


__all__ = ["TabularTransformer", "Span", "ModeEncoder", "CategoryEncoder", "as_frame"]
