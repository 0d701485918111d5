"""DiffusionSynthesizer: fit and sample, exact and meaningful conditions, missing values, DP, files."""

import numpy as np
import pandas as pd
import pytest

from synthaug import DiffusionSynthesizer, GenerativeOverSampler, load
from synthaug.exceptions import ParameterError
from synthaug.privacy import DPConfig
from synthaug.schema import infer_schema


def _small(**params) -> DiffusionSynthesizer:
    defaults = dict(epochs=30, batch_size=100, hidden_dims=(64, 64), sampling_steps=10, random_state=0, device="cpu")
    return DiffusionSynthesizer(**{**defaults, **params})


def _grouped(n: int = 1200, seed: int = 0) -> pd.DataFrame:
    """``value`` depends strongly on ``group``: a conditional model must reproduce the link."""
    rng = np.random.default_rng(seed)
    group = rng.choice(["low", "high"], size=n, p=[0.7, 0.3])
    value = np.where(group == "low", rng.normal(0.0, 1.0, n), rng.normal(10.0, 1.0, n))
    return pd.DataFrame({"value": value, "group": group, "flag": rng.random(n) < 0.5})


def test_samples_keep_columns_dtypes_and_are_reproducible(mixed_frame):
    model = _small().fit(mixed_frame)
    first = model.sample(400, random_state=3)
    again = model.sample(400, random_state=3)
    pd.testing.assert_frame_equal(first, again)
    assert list(first.columns) == list(mixed_frame.columns)
    assert first.dtypes.astype(str).to_dict() == mixed_frame.dtypes.astype(str).to_dict()
    refit = _small().fit(mixed_frame)
    pd.testing.assert_frame_equal(refit.sample(400, random_state=3), first)


def test_missing_values_come_back_at_their_rate(mixed_frame):
    model = _small(epochs=60).fit(mixed_frame)
    sample = model.sample(3000, random_state=0)
    assert abs(sample["score"].isna().mean() - mixed_frame["score"].isna().mean()) < 0.05
    assert set(sample["group"].dropna()) <= {"a", "b", "c"}


def test_learns_a_joint_distribution():
    data = _grouped()
    sample = _small(epochs=80).fit(data).sample(4000, random_state=0)
    assert abs((sample["group"] == "high").mean() - 0.3) < 0.05
    high = sample.loc[sample["group"] == "high", "value"]
    low = sample.loc[sample["group"] == "low", "value"]
    assert high.mean() > 8.0 and low.mean() < 2.0


@pytest.mark.parametrize("guidance", [0.0, 1.0])
def test_conditional_sampling_is_exact_and_follows_the_condition(guidance):
    data = _grouped()
    model = _small(epochs=80, guidance=guidance).fit(data)
    high = model.sample(2000, conditions={"group": "high"}, random_state=0)
    assert (high["group"] == "high").all()
    assert abs(high["value"].mean() - 10.0) < 1.5
    per_row = np.array(["low", "high"] * 500)
    mixed = model.sample(1000, conditions={"group": per_row, "flag": True}, random_state=0)
    assert (mixed["group"].to_numpy() == per_row).all() and mixed["flag"].all()


def test_fit_with_labels_samples_exact_classes():
    data = _grouped()
    y = data.pop("group")
    model = _small(epochs=40).fit(data, y)
    X, labels = model.sample(600, y="high", random_state=0)
    assert (labels == "high").all() and list(X.columns) == ["value", "flag"]
    assert X["value"].mean() > 7.0


def test_iter_samples_concatenate_to_sample(mixed_frame):
    model = _small(epochs=5).fit(mixed_frame)
    whole = model.sample(9000, random_state=1)
    parts = pd.concat(model.iter_samples(9000, chunk_size=4000, random_state=1), ignore_index=True)
    pd.testing.assert_frame_equal(whole, parts)


def test_save_load_round_trip(mixed_frame, tmp_path):
    model = _small(epochs=5).fit(mixed_frame)
    path = model.save(str(tmp_path / "diffusion.synthaug"))
    loaded = load(path)
    assert isinstance(loaded, DiffusionSynthesizer)
    assert loaded.get_params()["sampling_steps"] == 10
    pd.testing.assert_frame_equal(loaded.sample(300, random_state=2), model.sample(300, random_state=2))


def test_sampling_steps_can_change_after_fit(mixed_frame):
    model = _small(epochs=5).fit(mixed_frame)
    coarse = model.set_params(sampling_steps=2).sample(100, random_state=0)
    fine = model.set_params(sampling_steps=20, sampling_eta=1.0).sample(100, random_state=0)
    assert coarse.shape == fine.shape and not coarse.equals(fine)


def test_private_fit_spends_within_budget_and_conditions_exactly():
    data = _grouped(1500)
    schema = infer_schema(data, {"group": {"public": True, "categories": ["low", "high"]}})
    dp = DPConfig(3.0, accountant="rdp")
    model = _small(epochs=3, noise_draws=2, dp=dp, schema=schema).fit(data)
    ledger = model.privacy_spent_
    assert ledger["epsilon"] <= 3.0 and "denoiser network" in str(ledger)
    sample = model.sample(500, conditions={"group": "low"})
    assert (sample["group"] == "low").all()


def test_oversampler_with_diffusion_balances_classes():
    data = _grouped(800)
    y = data.pop("group")
    X_res, y_res = GenerativeOverSampler(synthesizer=_small(epochs=10), random_state=0).fit_resample(data, y)
    counts = pd.Series(y_res).value_counts()
    assert counts["high"] == counts["low"] and len(X_res) == len(y_res)


@pytest.mark.parametrize(
    "params, name",
    [({"sampling_steps": 0}, "sampling_steps"), ({"guidance": -1.0}, "guidance"), ({"sampling_eta": 1.5}, "sampling_eta"),
     ({"noise_draws": 0}, "noise_draws"), ({"hidden_dims": ()}, "hidden_dims")],
)  # fmt: skip
def test_bad_parameters_name_the_parameter(mixed_frame, params, name):
    with pytest.raises(ParameterError, match=name):
        _small(**params).fit(mixed_frame)
