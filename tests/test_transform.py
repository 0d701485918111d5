import subprocess
import sys
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.utils.estimator_checks import parametrize_with_checks

from synthaug.exceptions import DataValidationError
from synthaug.schema import TableSchema, infer_schema
from synthaug.transform import TabularTransformer
from synthaug.transform.dequantized import DequantizedTransformer


def assert_same_table(original: pd.DataFrame, restored: pd.DataFrame, rtol: float = 1e-6) -> None:
    assert list(restored.columns) == list(original.columns)
    assert (restored.dtypes == original.dtypes).all(), (restored.dtypes, original.dtypes)
    for column in original.columns:
        a, b = original[column], restored[column]
        assert (a.isna().to_numpy() == b.isna().to_numpy()).all(), f"missing pattern of {column}"
        present = a.notna().to_numpy()
        if pd.api.types.is_datetime64_any_dtype(a):
            diff = np.abs((a[present] - b[present]).dt.total_seconds().to_numpy())
            assert diff.max(initial=0) < 1e-3, column
        elif pd.api.types.is_float_dtype(a):
            np.testing.assert_allclose(b[present].to_numpy(float), a[present].to_numpy(float), rtol=rtol, atol=0, err_msg=column)
        else:
            assert (a[present].to_numpy() == b[present].to_numpy()).all(), column


def test_round_trip_mixed(mixed_frame):
    tt = TabularTransformer(dtype=np.float64, random_state=0).fit(mixed_frame)
    encoded = tt.transform(mixed_frame)
    assert encoded.shape == (len(mixed_frame), tt.output_dim_)
    assert sum(s.dim for s in tt.spans_) == tt.output_dim_
    assert_same_table(mixed_frame, tt.inverse_transform(encoded))


def test_float32_round_trip_is_close(mixed_frame):
    tt = TabularTransformer(random_state=0).fit(mixed_frame)
    encoded = tt.transform(mixed_frame)
    assert encoded.dtype == np.float32
    restored = tt.inverse_transform(encoded)
    scale = mixed_frame["income"].abs().max()
    assert np.abs(restored["income"] - mixed_frame["income"]).max() < 1e-5 * scale
    assert (restored["group"].isna() == mixed_frame["group"].isna()).all()


columns = st.lists(st.sampled_from(["float", "int", "text", "bool", "date", "few"]), min_size=1, max_size=5)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kinds=columns, n=st.integers(1, 60), seed=st.integers(0, 10_000), missing=st.booleans())
def test_round_trip_property(kinds, n, seed, missing):
    rng = np.random.default_rng(seed)
    data = {}
    for i, kind in enumerate(kinds):
        name = f"{kind}{i}"
        if kind == "float":
            col = pd.Series(rng.standard_normal(n) * 10.0 ** rng.integers(-3, 7) + rng.integers(-1000, 1000))
        elif kind == "int":
            col = pd.Series(rng.integers(-(10**6), 10**6, n))
        elif kind == "text":
            col = pd.Series(rng.choice(["x", "y", "zz", "ü"], n), dtype=object)
        elif kind == "bool":
            col = pd.Series(rng.random(n) < 0.5)
        elif kind == "date":
            col = pd.Series(pd.Timestamp("1999-12-31") + pd.to_timedelta(rng.integers(0, 10**8, n), unit="s"))
        else:
            col = pd.Series(rng.integers(0, 4, n))
        if missing and kind in ("float", "text", "date") and n > 1:
            col = col.copy()
            col.iloc[0] = None
        data[name] = col
    frame = pd.DataFrame(data)
    frame = frame.loc[:, frame.notna().any()]
    if frame.shape[1] == 0:
        return
    tt = TabularTransformer(dtype=np.float64, random_state=0).fit(frame)
    assert_same_table(frame, tt.inverse_transform(tt.transform(frame)))


def test_spans_and_feature_names(mixed_frame):
    tt = TabularTransformer(random_state=0).fit(mixed_frame)
    names = tt.get_feature_names_out()
    assert len(names) == tt.output_dim_
    roles = {(s.column, s.role) for s in tt.spans_}
    assert ("score", "missing") in roles and ("income", "value") in roles and ("group", "category") in roles
    start, stop = tt.column_offsets_["group"]
    assert stop - start == 4  # a, b, c and missing


def test_mixture_is_fitted_on_a_bounded_subsample():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.standard_normal(50_000)})
    tt = TabularTransformer(max_fit_samples=500, random_state=0).fit(frame)
    assert tt.encoders_[0].n_modes >= 1
    assert tt.transform(frame).shape[0] == 50_000


def test_unseen_category_is_named(mixed_frame):
    tt = TabularTransformer(random_state=0).fit(mixed_frame)
    bad = mixed_frame.copy()
    bad.loc[0, "group"] = "zebra"
    with pytest.raises(DataValidationError, match="'group' has value\\(s\\) \\['zebra'\\]"):
        tt.transform(bad)
    ignore = TabularTransformer(handle_unknown="ignore", random_state=0).fit(mixed_frame)
    start, stop = ignore.column_offsets_["group"]
    assert ignore.transform(bad)[0, start:stop].sum() == 0


def test_missing_values_where_none_were_seen(mixed_frame):
    tt = TabularTransformer(random_state=0).fit(mixed_frame)
    bad = mixed_frame.copy()
    bad.loc[0, "income"] = np.nan
    with pytest.raises(DataValidationError, match="'income' has missing values"):
        tt.transform(bad)


def test_wrong_dtype_is_named(mixed_frame):
    schema = infer_schema(mixed_frame)
    bad = mixed_frame.copy()
    bad["income"] = "lots"
    with pytest.raises(DataValidationError, match="'income' is declared continuous but holds non-numeric"):
        TabularTransformer(schema=schema).fit(bad)


def test_values_clipped_to_bounds(mixed_frame):
    tt = TabularTransformer(random_state=0).fit(mixed_frame)
    encoded = tt.transform(mixed_frame)
    encoded[:, tt.column_offsets_["age"][0]] = 50.0  # far outside any mode
    restored = tt.inverse_transform(encoded)
    assert restored["age"].max() <= mixed_frame["age"].max()


def test_state_round_trip(mixed_frame):
    tt = TabularTransformer(random_state=0).fit(mixed_frame)
    again = TabularTransformer.from_state(tt.to_state())
    np.testing.assert_array_equal(again.transform(mixed_frame), tt.transform(mixed_frame))


@dataclass
class _Uniform:
    """Released statistics of a numeric column: uniform on ``[low, high]``."""

    low: float
    high: float
    present: float = 90.0
    missing: float = 10.0

    def quantiles(self, probs):
        return self.low + np.asarray(probs, dtype=float) * (self.high - self.low)


@dataclass
class _Released:
    """A release that is not a PrivateDomain: the transformers need only this shape."""

    schema: TableSchema
    counts: dict
    numeric: dict

    def slot_counts(self, column):
        return self.counts[column]

    def numeric_summary(self, column):
        return self.numeric[column]


def _released(frame: pd.DataFrame) -> _Released:
    schema = TableSchema.from_dict(
        {
            "columns": [
                {"name": "x", "kind": "continuous", "bounds": [0.0, 10.0], "nullable": True, "dtype": "float64"},
                {"name": "c", "kind": "categorical", "categories": ["a", "b", "z"], "dtype": "object"},
            ]
        }
    )
    return _Released(schema, {"c": np.array([30.0, 70.0, -5.0])}, {"x": _Uniform(0.0, 10.0)})


def test_fit_released_reads_only_the_release():
    frame = pd.DataFrame({"x": [1.0, np.nan, 3.0], "c": ["a", "b", "a"]})
    released = _released(frame)
    tt = TabularTransformer(max_modes=4).fit_released(frame, released)
    assert tt.schema_ is released.schema and tt.encoder("c").categories == ["a", "b", "z"]
    np.testing.assert_allclose(tt.encoder("x").means, [1.25, 3.75, 6.25, 8.75])
    restored = tt.inverse_transform(tt.transform(frame))
    assert restored["c"].tolist() == ["a", "b", "a"] and restored["x"].isna().tolist() == [False, True, False]
    dq = DequantizedTransformer().fit_released(frame, released)
    np.testing.assert_allclose(dq.bin_width_[0], [0.3, 0.7, 0.001] / np.sum([0.3, 0.7, 0.001]), rtol=1e-9)
    np.testing.assert_allclose(dq.bin_width_[1, :2], [0.9, 0.1], rtol=1e-2)
    np.testing.assert_allclose(dq.quantiles_.quantiles_[[0, -1], 0], [0.0, 10.0])
    back = dq.inverse_transform(dq.transform(frame))
    assert back["c"].tolist() == ["a", "b", "a"] and back["x"].isna().tolist() == [False, True, False]


def test_the_transform_layer_does_not_import_privacy():
    code = "import sys, synthaug.transform, synthaug.transform.dequantized; print(any('privacy' in m for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "False"


# scikit-learn's estimator checks; none are skipped.
@parametrize_with_checks([TabularTransformer(random_state=0)])
def test_sklearn_compatible(estimator, check):
    check(estimator)
