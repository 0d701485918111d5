"""Property-based fuzzing of ``fit`` and the CLI: random small frames with random dtypes, missing
patterns and edge values either fit and sample valid rows, or fail with a synthaug error."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from synthaug.cli import main
from synthaug.exceptions import SynthaugError
from synthaug.rare_categories import RARE_CATEGORY
from synthaug.synthesizers import MarginalSynthesizer, TVAESynthesizer

EDGE_FLOATS = [0.0, -0.0, 1e-300, -1e15, 1e15, 1e200, np.nan, np.inf]
KINDS = ["float", "edge_float", "int", "bool", "text", "unique_text", "spaced_text", "date", "mixed", "missing"]


def _column(kind: str, n: int, rng: np.random.Generator, missing: float) -> pd.Series:
    if kind == "float":
        values = pd.Series(rng.normal(size=n))
    elif kind == "edge_float":
        values = pd.Series(rng.choice(EDGE_FLOATS, n))
    elif kind == "int":
        values = pd.Series(rng.integers(-5, 50, n))
    elif kind == "bool":
        values = pd.Series(rng.random(n) < 0.3)
    elif kind == "text":
        values = pd.Series(rng.choice(["a", "b", "ç", ""], n), dtype=object)
    elif kind == "unique_text":
        values = pd.Series([f"K{i:04d}" for i in rng.permutation(n)], dtype=object)
    elif kind == "spaced_text":
        values = pd.Series([f"note {i} here" for i in range(n)], dtype=object)
    elif kind == "date":
        values = pd.Series(pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 900, n), unit="D"))
    elif kind == "mixed":
        values = pd.Series(rng.choice(np.array([1, "x", 2.5], dtype=object), n), dtype=object)
    else:
        values = pd.Series([None] * n, dtype=object)
    if missing and kind not in ("bool", "missing"):
        values = values.where(rng.random(n) >= missing)
    return values


frames = st.builds(
    lambda n, kinds, missing, seed: pd.DataFrame(
        {f"c{i}_{k}": _column(k, n, np.random.default_rng(seed + i), missing) for i, k in enumerate(kinds)}
    ),
    st.integers(1, 60),
    st.lists(st.sampled_from(KINDS), min_size=1, max_size=4),
    st.sampled_from([0.0, 0.2, 0.9]),
    st.integers(0, 10_000),
)


def _check_rows(real: pd.DataFrame, synthetic: pd.DataFrame, model) -> None:
    assert list(synthetic.columns) == list(real.columns) and len(synthetic) == 30
    for column in real.columns:
        if column in model.identifiers_:
            assert synthetic[column].is_unique and not set(synthetic[column]) & set(real[column].dropna())
            continue
        got, seen = synthetic[column].dropna(), real[column].dropna()
        if pd.api.types.is_bool_dtype(seen.dtype):
            assert set(got.unique()) <= {False, True}, column
        elif pd.api.types.is_numeric_dtype(seen.dtype):
            assert got.between(seen.min(), seen.max()).all(), column
        elif not pd.api.types.is_datetime64_any_dtype(seen.dtype) and len(got):
            allowed = {str(v) for v in seen.unique()} | {RARE_CATEGORY}
            assert {str(v) for v in got.unique()} <= allowed, column


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(frames, st.sampled_from(["marginal", "tvae"]))
def test_fit_either_samples_valid_rows_or_raises_a_synthaug_error(frame, name):
    model = MarginalSynthesizer(random_state=0) if name == "marginal" else TVAESynthesizer(epochs=1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            model.fit(frame)
        except SynthaugError:
            return
        synthetic = model.sample(30, random_state=0)
    _check_rows(frame, synthetic, model)


@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(frames)
def test_the_cli_exits_0_or_2_never_with_a_traceback(tmp_path, frame):
    source, output = tmp_path / "in.csv", tmp_path / "out.csv"
    frame.to_csv(source, index=False)
    before = source.read_bytes()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code = main(["synthesize", str(source), "-o", str(output), "--model", "marginal", "--rows", "30", "-q", "--overwrite"])
    assert code in (0, 2)
    assert source.read_bytes() == before
    assert output.exists() == (code == 0)
    output.unlink(missing_ok=True)
