"""The contract every tabular synthesizer honours, as reusable checks.

Use from a test suite::

    @pytest.mark.parametrize("check", synthesizer_checks(), ids=lambda c: c.__name__)
    def test_contract(check):
        check(CTGANSynthesizer(epochs=2, random_state=0))

Each check takes an unfitted synthesizer (configured small enough to fit in
seconds, with an integer ``random_state``), clones it as needed, and raises
``AssertionError`` on a breach.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from ..exceptions import ConditionError


def make_contract_frame(n: int = 240, seed: int = 0) -> pd.DataFrame:
    """Mixed-type table with missing values used by the checks."""
    rng = np.random.default_rng(seed)
    group = rng.choice(["a", "b", "c"], size=n, p=[0.5, 0.3, 0.2])
    frame = pd.DataFrame(
        {
            "amount": np.where(rng.random(n) < 0.5, rng.normal(10, 1, n), rng.normal(50, 5, n)),
            "count": rng.integers(0, 500, n),
            "group": pd.Series(group, dtype=object),
            "flag": rng.random(n) < 0.4,
            "when": pd.Timestamp("2021-06-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D"),
            "level": rng.integers(1, 4, n),
            "ratio": rng.beta(2, 5, n),
        }
    )
    frame.loc[rng.random(n) < 0.15, "ratio"] = np.nan
    frame.loc[rng.random(n) < 0.1, "group"] = np.nan
    return frame


def _fit(estimator, frame: pd.DataFrame, y=None):
    return clone(estimator).fit(frame, y)


def check_not_fitted(estimator) -> None:
    try:
        clone(estimator).sample(5)
    except NotFittedError:
        return
    raise AssertionError("sample() before fit() must raise NotFittedError")


def check_dataframe_round_trip(estimator) -> None:
    frame = make_contract_frame()
    sample = _fit(estimator, frame).sample(150)
    assert isinstance(sample, pd.DataFrame), type(sample)
    assert list(sample.columns) == list(frame.columns), list(sample.columns)
    assert len(sample) == 150
    mismatched = {c: (str(frame[c].dtype), str(sample[c].dtype)) for c in frame if frame[c].dtype != sample[c].dtype}
    assert not mismatched, f"dtypes changed: {mismatched}"


def check_array_round_trip(estimator) -> None:
    rng = np.random.default_rng(1)
    X = np.column_stack([rng.normal(0, 1, 200), rng.integers(0, 3, 200), rng.exponential(2, 200)])
    sample = _fit(estimator, X).sample(40)
    assert isinstance(sample, np.ndarray) and sample.shape == (40, 3), (type(sample), np.shape(sample))
    assert set(np.unique(sample[:, 1])) <= {0.0, 1.0, 2.0}


def check_domain_and_bounds(estimator) -> None:
    frame = make_contract_frame()
    sample = _fit(estimator, frame).sample(300)
    for column in ("group", "flag", "level"):
        unseen = set(sample[column].dropna()) - set(frame[column].dropna())
        assert not unseen, f"{column} has values outside its domain: {unseen}"
    for column in ("amount", "count", "ratio", "when"):
        low, high = frame[column].min(), frame[column].max()
        values = sample[column].dropna()
        assert values.min() >= low and values.max() <= high, f"{column} leaves [{low}, {high}]"
    assert (sample["count"] == sample["count"].round()).all(), "integer column has fractions"


def check_missing_rate(estimator, tolerance: float = 0.12) -> None:
    frame = make_contract_frame()
    sample = _fit(estimator, frame).sample(1000)
    for column in ("ratio", "group"):
        real, synth = frame[column].isna().mean(), sample[column].isna().mean()
        assert abs(real - synth) <= tolerance, f"{column}: missing rate {synth:.2f} vs {real:.2f}"
    assert sample["amount"].notna().all(), "a column without missing values gained some"


def check_conditional_sampling(estimator) -> None:
    frame = make_contract_frame()
    model = _fit(estimator, frame)
    sample = model.sample(200, conditions={"group": "c"})
    assert len(sample) == 200 and (sample["group"] == "c").all()
    two = {"group": "b", "flag": True}
    if type(model).multi_column_conditions:
        sample = model.sample(50, conditions=two)
        assert ((sample["group"] == "b") & sample["flag"]).all()
    else:
        try:
            model.sample(50, conditions=two)
        except ConditionError as exc:
            assert "one column at a time" in str(exc), str(exc)
        else:
            raise AssertionError("a model trained on one condition at a time accepted two")
    per_row = np.array(["a", "b"] * 30, dtype=object)
    sample = model.sample(60, conditions={"group": per_row})
    assert (sample["group"].to_numpy() == per_row).all()


def check_target_sampling(estimator) -> None:
    frame = make_contract_frame()
    y = pd.Series(np.where(frame["amount"] > 30, "high", "low"), name="label")
    X = frame.drop(columns=["amount"])
    model = _fit(estimator, X, y)
    Xs, ys = model.sample(80, y="high")
    assert isinstance(Xs, pd.DataFrame) and list(Xs.columns) == list(X.columns)
    assert isinstance(ys, pd.Series) and ys.name == "label" and (ys == "high").all() and len(ys) == 80
    labels = np.array(["low", "high", "low", "low"] * 5)
    _, ys = model.sample(20, y=labels)
    assert (ys.to_numpy() == labels).all()


def check_bad_conditions(estimator) -> None:
    model = _fit(estimator, make_contract_frame())
    ranges = type(model).range_conditions
    numeric = ({"amount": (1e9, 2e9)}, "'amount'") if ranges else ({"amount": 3.0}, "numeric column 'amount'")
    for conditions, needle in (({"nope": 1}, "unknown column 'nope'"), ({"group": "zebra"}, "zebra"), numeric):
        try:
            model.sample(5, conditions=conditions)
        except ConditionError as exc:
            assert needle in str(exc), str(exc)
        else:
            raise AssertionError(f"conditions {conditions} were accepted")
    for n in (0, -3, 2.5, "10"):
        try:
            model.sample(n)
        except ValueError as exc:
            assert "n_samples" in str(exc)
        else:
            raise AssertionError(f"n_samples={n!r} was accepted")


def check_reproducible(estimator) -> None:
    frame = make_contract_frame()
    a = _fit(estimator, frame).sample(100)
    b = _fit(estimator, frame).sample(100)
    pd.testing.assert_frame_equal(a, b)
    model = _fit(estimator, frame)
    pd.testing.assert_frame_equal(model.sample(30, random_state=5), model.sample(30, random_state=5))
    assert not model.sample(30).equals(model.sample(30)), "successive samples should differ"


def check_no_global_rng_side_effects(estimator) -> None:
    torch_state = torch.random.get_rng_state().clone()
    np_state = np.random.get_state()
    model = _fit(estimator, make_contract_frame())
    model.sample(50)
    assert torch.equal(torch_state, torch.random.get_rng_state()), "torch's global RNG was used"
    after = np.random.get_state()
    assert np_state[0] == after[0] and np.array_equal(np_state[1], after[1]) and np_state[2:] == after[2:], (
        "numpy's global RNG was used"
    )


def check_save_load(estimator) -> None:
    from ..persistence import load

    frame = make_contract_frame()
    model = _fit(estimator, frame)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.synthaug"
        model.save(path)
        loaded = load(path)
    pd.testing.assert_frame_equal(model.sample(60, random_state=3), loaded.sample(60, random_state=3))
    pd.testing.assert_frame_equal(model.sample(20), loaded.sample(20))
    assert loaded.get_params() == model.get_params()


def check_clone_and_params(estimator) -> None:
    before = estimator.get_params()
    twin = clone(estimator)
    assert twin.get_params() == before
    twin.set_params(random_state=123)
    assert twin.get_params()["random_state"] == 123
    assert estimator.get_params() == before, "set_params on a clone changed the original"
    model = _fit(estimator, make_contract_frame())
    assert clone(model).get_params() == model.get_params()
    assert not hasattr(clone(model), "transformer_"), "clone must drop fitted state"


def synthesizer_checks() -> list[Callable]:
    """All contract checks, in a stable order."""
    return [
        check_not_fitted,
        check_dataframe_round_trip,
        check_array_round_trip,
        check_domain_and_bounds,
        check_missing_rate,
        check_conditional_sampling,
        check_target_sampling,
        check_bad_conditions,
        check_reproducible,
        check_no_global_rng_side_effects,
        check_save_load,
        check_clone_and_params,
    ]
