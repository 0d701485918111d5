"""Per-column encoders used by :class:`~synthaug.transform.TabularTransformer`.

Each encoder turns one column into a float block and back, fully vectorised:

* :class:`ModeEncoder` — mode-specific normalisation of numeric (continuous,
  integer, datetime) columns: a variational Gaussian mixture is fitted on a
  bounded subsample; each value is encoded as its offset within the most
  responsible mode (``(x - mu) / (4 sigma)``) plus a one-hot of that mode.
* :class:`CategoryEncoder` — one-hot of categorical and boolean columns,
  with a slot for missing values when the column is nullable.

Nullable numeric columns get a two-slot ``missing`` span (present / missing).
Encoders carry their state as JSON-friendly dicts (``to_state``/``from_state``).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import BayesianGaussianMixture

from ..exceptions import DataValidationError
from ..schema import ColumnSpec
from .spans import Span

_EPOCH = pd.Timestamp("1970-01-01")
_SCALE = 4.0  # value = (x - mu) / (4 sigma), as in mode-specific normalisation


# --------------------------------------------------------------------------- dtype helpers
def restore_dtype(values: pd.Series, dtype: str) -> pd.Series:
    """Cast ``values`` to the pandas dtype named ``dtype`` (missing values allowed)."""
    if dtype == "str" and int(pd.__version__.split(".")[0]) < 3:
        dtype = "object"
    target = pd.api.types.pandas_dtype(dtype)
    if pd.api.types.is_integer_dtype(target) and not isinstance(target, pd.api.extensions.ExtensionDtype):
        if values.isna().any():
            return values.astype(f"Int{target.itemsize * 8}")
        return values.astype(target)
    if pd.api.types.is_bool_dtype(target) and not isinstance(target, pd.api.extensions.ExtensionDtype):
        if values.isna().any():
            return values.astype("boolean")
        return values.astype(bool)
    return values.astype(target)


def to_float(series: pd.Series, spec: ColumnSpec) -> np.ndarray:
    """Numeric view of a column as float64 (datetimes as seconds since the epoch, UTC)."""
    if spec.kind == "datetime":
        try:
            ts = pd.to_datetime(series)
        except (ValueError, TypeError) as exc:
            raise DataValidationError(f"column {spec.name!r} cannot be read as dates: {exc}") from exc
        if getattr(ts.dt, "tz", None) is not None:
            ts = ts.dt.tz_convert("UTC").dt.tz_localize(None)
        return ((ts - _EPOCH) / pd.Timedelta(seconds=1)).to_numpy(dtype=float, na_value=np.nan)
    try:
        return pd.to_numeric(series, errors="raise").to_numpy(dtype=float, na_value=np.nan)
    except (ValueError, TypeError) as exc:
        raise DataValidationError(f"column {spec.name!r} is declared {spec.kind} but holds non-numeric values: {exc}") from exc


def from_float(values: np.ndarray, spec: ColumnSpec) -> pd.Series:
    """Inverse of :func:`to_float`, restoring the column's dtype."""
    if spec.kind == "datetime":
        ts = pd.Series(pd.to_datetime(values, unit="s", origin="unix"))
        target = pd.api.types.pandas_dtype(spec.dtype) if spec.dtype.startswith("datetime") else None
        if isinstance(target, pd.DatetimeTZDtype):
            ts = ts.dt.tz_localize("UTC").dt.tz_convert(target.tz)
        if target is not None:
            ts = ts.astype(target)
        return ts
    if spec.kind == "integer":
        values = np.round(values)
    return restore_dtype(pd.Series(values), spec.dtype)


def numeric_bounds(spec: ColumnSpec) -> tuple[float, float] | None:
    if spec.bounds is None:
        return None
    if spec.kind == "datetime":
        low, high = (pd.Timestamp(b) for b in spec.bounds)
        if low.tzinfo is not None:
            low, high = low.tz_convert("UTC").tz_localize(None), high.tz_convert("UTC").tz_localize(None)
        return ((low - _EPOCH) / pd.Timedelta(seconds=1), (high - _EPOCH) / pd.Timedelta(seconds=1))
    return float(spec.bounds[0]), float(spec.bounds[1])


def _zeroed(out: np.ndarray | None, shape: tuple[int, int], dtype: np.dtype) -> np.ndarray:
    """``out`` (a view into a larger matrix) cleared, or a new zero block."""
    if out is None:
        return np.zeros(shape, dtype=dtype)
    if out.shape != shape:
        raise ValueError(f"output block has shape {out.shape}, expected {shape}")
    out[...] = 0
    return out


# --------------------------------------------------------------------------- numeric columns
class ModeEncoder:
    """Mode-specific normalisation of a numeric column (see module docstring)."""

    def __init__(self, spec: ColumnSpec) -> None:
        self.spec = spec
        self.means: np.ndarray = np.zeros(1)
        self.stds: np.ndarray = np.ones(1)
        self.weights: np.ndarray = np.ones(1)

    # fitting ---------------------------------------------------------------
    def fit(
        self,
        series: pd.Series,
        *,
        max_modes: int,
        weight_threshold: float,
        max_fit_samples: int,
        rng: np.random.RandomState,
    ) -> ModeEncoder:
        x = to_float(series, self.spec)
        x = x[~np.isnan(x)]
        if x.size == 0:
            raise DataValidationError(f"column {self.spec.name!r} has no observed values to fit")
        if x.size > max_fit_samples:
            x = x[rng.choice(x.size, max_fit_samples, replace=False)]
        scale = float(np.ptp(x)) or max(abs(float(x[0])), 1.0)
        std_floor = max(scale * 1e-6, 1e-12)
        n_unique = np.unique(x).size
        n_modes = min(max_modes, n_unique)
        if n_modes <= 1:
            self.means = np.array([float(x.mean())])
            self.stds = np.array([max(float(x.std()), std_floor)])
            self.weights = np.ones(1)
            return self
        gmm = BayesianGaussianMixture(
            n_components=n_modes,
            weight_concentration_prior_type="dirichlet_process",
            weight_concentration_prior=1e-3,
            n_init=1,
            max_iter=100,
            random_state=rng.randint(np.iinfo(np.int32).max),
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            gmm.fit(x.reshape(-1, 1))
        keep = gmm.weights_ > weight_threshold
        if not keep.any():
            keep[np.argmax(gmm.weights_)] = True
        self.means = gmm.means_.ravel()[keep].astype(float)
        self.stds = np.maximum(np.sqrt(gmm.covariances_.ravel()[keep]), std_floor).astype(float)
        self.weights = (gmm.weights_[keep] / gmm.weights_[keep].sum()).astype(float)
        return self

    def fit_quantiles(self, quantile: Any, *, max_modes: int) -> ModeEncoder:
        """Modes from a quantile function instead of data (differentially private fits):
        ``max_modes`` equal-probability segments, each a mode at its median with a standard
        deviation of half its width (at least 0.1% of the range), equally weighted."""
        probs = np.linspace(0.0, 1.0, max_modes + 1)
        edges = np.asarray(quantile(probs), dtype=float)
        centres = np.asarray(quantile(0.5 * (probs[:-1] + probs[1:])), dtype=float)
        span = float(edges[-1] - edges[0]) or max(abs(float(edges[0])), 1.0)
        self.means = centres
        self.stds = np.maximum(0.5 * np.diff(edges), 1e-3 * span)
        self.weights = np.full(max_modes, 1.0 / max_modes)
        return self

    # layout ------------------------------------------------------------------
    @property
    def n_modes(self) -> int:
        return int(self.means.size)

    @property
    def spans(self) -> list[Span]:
        spans = [Span(1, "tanh", self.spec.name, "value"), Span(self.n_modes, "softmax", self.spec.name, "mode")]
        if self.spec.nullable:
            spans.append(Span(2, "softmax", self.spec.name, "missing"))
        return spans

    @property
    def dim(self) -> int:
        return sum(s.dim for s in self.spans)

    def feature_names(self) -> list[str]:
        name = self.spec.name
        names = [f"{name}.value"] + [f"{name}.mode{i}" for i in range(self.n_modes)]
        if self.spec.nullable:
            names += [f"{name}.present", f"{name}.missing"]
        return names

    # encoding ----------------------------------------------------------------
    def transform(self, series: pd.Series, dtype: np.dtype, out: np.ndarray | None = None) -> np.ndarray:
        x = to_float(series, self.spec)
        if np.isinf(x).any():
            raise DataValidationError(f"column {self.spec.name!r} contains infinite values")
        missing = np.isnan(x)
        if missing.any() and not self.spec.nullable:
            raise DataValidationError(
                f"column {self.spec.name!r} has missing values but had none when the transformer was fitted"
            )
        filled = np.where(missing, self.means[np.argmax(self.weights)], x)
        # log responsibility of each mode (up to a constant), shape (n, k)
        z = (filled[:, None] - self.means[None, :]) / self.stds[None, :]
        log_resp = np.log(self.weights)[None, :] - np.log(self.stds)[None, :] - 0.5 * z**2
        mode = np.argmax(log_resp, axis=1)
        rows = np.arange(x.size)
        out = _zeroed(out, (x.size, self.dim), dtype)
        out[:, 0] = (filled - self.means[mode]) / (_SCALE * self.stds[mode])
        out[rows, 1 + mode] = 1.0
        if self.spec.nullable:
            out[rows, 1 + self.n_modes + missing.astype(int)] = 1.0
        return out

    def inverse_transform(self, block: np.ndarray) -> pd.Series:
        block = np.asarray(block, dtype=float)
        mode = np.argmax(block[:, 1 : 1 + self.n_modes], axis=1)
        x = block[:, 0] * _SCALE * self.stds[mode] + self.means[mode]
        bounds = numeric_bounds(self.spec)
        if bounds is not None:
            x = np.clip(x, bounds[0], bounds[1])
        if self.spec.nullable:
            missing = np.argmax(block[:, 1 + self.n_modes : 3 + self.n_modes], axis=1) == 1
            x = np.where(missing, np.nan, x)
        return from_float(x, self.spec)

    # persistence -------------------------------------------------------------
    def to_state(self) -> dict[str, Any]:
        return {"means": self.means.tolist(), "stds": self.stds.tolist(), "weights": self.weights.tolist()}

    def set_state(self, state: dict[str, Any]) -> ModeEncoder:
        self.means = np.asarray(state["means"], dtype=float)
        self.stds = np.asarray(state["stds"], dtype=float)
        self.weights = np.asarray(state["weights"], dtype=float)
        return self


# --------------------------------------------------------------------------- discrete columns
class CategoryEncoder:
    """One-hot encoding of a categorical or boolean column (missing values get their own slot)."""

    def __init__(self, spec: ColumnSpec, handle_unknown: str = "error") -> None:
        self.spec = spec
        self.handle_unknown = handle_unknown
        self.categories: list[Any] = list(spec.categories or [])

    def fit(self, series: pd.Series, **_: Any) -> CategoryEncoder:
        if not self.categories:
            raise DataValidationError(f"column {self.spec.name!r} has no categories")
        self.codes(series)  # validates that every value is a known category
        return self

    @property
    def n_slots(self) -> int:
        return len(self.categories) + int(self.spec.nullable)

    @property
    def spans(self) -> list[Span]:
        return [Span(self.n_slots, "softmax", self.spec.name, "category")]

    @property
    def dim(self) -> int:
        return self.n_slots

    def feature_names(self) -> list[str]:
        names = [f"{self.spec.name}={c}" for c in self.categories]
        if self.spec.nullable:
            names.append(f"{self.spec.name}=<missing>")
        return names

    def codes(self, series: pd.Series) -> np.ndarray:
        """Index of each value in the slot list; missing values map to the last slot."""
        values = series.astype(object) if isinstance(series.dtype, pd.CategoricalDtype) else series
        codes = pd.Index(self.categories, dtype=object).get_indexer(values).astype(np.int64)
        missing = series.isna().to_numpy()
        unknown = (codes < 0) & ~missing
        if unknown.any():
            if self.handle_unknown == "error":
                examples = pd.unique(series[unknown])[:5].tolist()
                raise DataValidationError(
                    f"column {self.spec.name!r} has value(s) {examples} not among its categories "
                    f"{self.categories[:20]}{'...' if len(self.categories) > 20 else ''}"
                )
            codes[unknown] = -2  # encoded as an all-zero row
        if missing.any():
            if not self.spec.nullable:
                raise DataValidationError(
                    f"column {self.spec.name!r} has missing values but had none when the transformer was fitted"
                )
            codes[missing] = len(self.categories)
        return codes

    def transform(self, series: pd.Series, dtype: np.dtype, out: np.ndarray | None = None) -> np.ndarray:
        codes = self.codes(series)
        out = _zeroed(out, (codes.size, self.n_slots), dtype)
        known = codes >= 0
        out[np.flatnonzero(known), codes[known]] = 1.0
        return out

    def values_from_codes(self, codes: np.ndarray) -> pd.Series:
        """Column values for slot indices (the last slot of a nullable column is missing)."""
        codes = np.asarray(codes, dtype=np.int64)
        n_cat = len(self.categories)
        if self.spec.dtype == "category":
            cat_codes = np.where(codes >= n_cat, -1, codes)
            return pd.Series(pd.Categorical.from_codes(cat_codes, categories=self.categories))
        lookup = np.empty(self.n_slots, dtype=object)
        lookup[:n_cat] = self.categories
        if self.spec.nullable:
            lookup[n_cat] = np.nan
        return restore_dtype(pd.Series(lookup[codes]), self.spec.dtype)

    def inverse_transform(self, block: np.ndarray) -> pd.Series:
        return self.values_from_codes(np.argmax(np.asarray(block), axis=1))

    def to_state(self) -> dict[str, Any]:
        return {}

    def set_state(self, state: dict[str, Any]) -> CategoryEncoder:
        return self


ColumnEncoder = ModeEncoder | CategoryEncoder


def make_encoder(spec: ColumnSpec, handle_unknown: str = "error") -> ColumnEncoder:
    if spec.is_discrete:
        if spec.categories is None:
            raise DataValidationError(f"column {spec.name!r}: a {spec.kind} column needs categories")
        return CategoryEncoder(spec, handle_unknown=handle_unknown)
    return ModeEncoder(spec)
