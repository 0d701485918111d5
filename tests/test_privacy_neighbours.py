"""Replace-one neighbour tests of the DP trust boundary: two tables of the same size that differ
in one row must give the same value in every exact field a fit releases (ledger, model
metadata, released schema). Both fits of a pair use the same (test-only) replayable noise,
so any difference comes from the changed row itself, outside the noise."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from synthaug import (
    AutoregressiveSynthesizer,
    CTGANSynthesizer,
    DiffusionSynthesizer,
    FlowSynthesizer,
    GenerativeOverSampler,
    MarginalSynthesizer,
    TVAESynthesizer,
)
from synthaug.exceptions import PrivacyError, SchemaError
from synthaug.privacy import DPConfig
from synthaug.schema import dtype_schema, infer_schema

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

MODELS = [
    TVAESynthesizer,
    FlowSynthesizer,
    CTGANSynthesizer,
    DiffusionSynthesizer,
    AutoregressiveSynthesizer,
    MarginalSynthesizer,
]


def _build(model_class, **params):
    """``model_class`` with ``params``, short training where the model trains networks."""
    if "epochs" in model_class._get_param_names():
        params.update(epochs=1, batch_size=100)
    return model_class(**params)


def _table(n: int = 600, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "age": rng.integers(20, 70, n).astype(float),  # integer-valued, float dtype
            "visits": rng.integers(0, 10, n),  # 10 distinct integers, int dtype
            "group": rng.choice(["a", "b", "c"], n, p=[0.5, 0.3, 0.2]),
            "member": rng.random(n) < 0.4,
        }
    )


def _fit(model_class, data, schema=None, seed=11):
    dp = DPConfig(3.0, accountant="rdp", insecure_noise_seed=seed)
    return _build(model_class, dp=dp, schema=schema, random_state=0, device="cpu").fit(data)


def _exact_release(model) -> dict:
    """Everything a fit releases that is not a noisy number: the whole ledger, the released
    schema, the shape of the model metadata and the public training history."""
    state, tensors = model._get_state()
    return {
        "ledger": model.privacy_spent_,
        "schema": model.schema_.to_dict(),
        "state_keys": sorted(state),
        "tensor_shapes": {k: tuple(v.shape) for k, v in tensors.items()},
        "history": [{k: v for k, v in record.items() if k != "seconds"} for record in model.history_],
    }


def _assert_same_release(first, second) -> None:
    a, b = _exact_release(first), _exact_release(second)
    for key in a:
        assert a[key] == b[key], f"{key} differs between replace-one neighbours"


# ---------------------------------------------------------------------- leak 1: replayable noise
@pytest.mark.parametrize("model_class", MODELS)
def test_two_fits_with_the_same_random_state_draw_different_noise(model_class):
    data = _table()
    dp = DPConfig(3.0, accountant="rdp")
    fits = [_build(model_class, dp=dp, random_state=0, device="cpu").fit(data) for _ in range(2)]
    # the noisy statistics (the representation read off the noisy histograms) and the weights differ
    first, second = (json.dumps(f.transformer_.to_state(), sort_keys=True, default=str) for f in fits)
    assert first != second
    weights = [torch.cat([t.flatten().float() for t in f._network_state().values()]) for f in fits]
    assert not torch.equal(*weights)
    assert fits[0].privacy_spent_["note"].startswith("every draw the guarantee rests on")


# ---------------------------------------------------------------------- leak 2: dropped-row count
@pytest.mark.parametrize("model_class", MODELS)
def test_a_row_with_an_unreleased_category_changes_no_exact_field(model_class):
    data = _table()
    neighbour = data.copy()
    neighbour.loc[5, "group"] = "zz-seen-once"  # never released at this budget
    first, second = _fit(model_class, data), _fit(model_class, neighbour)
    _assert_same_release(first, second)
    assert "rows_outside_released_domain" not in second.privacy_spent_
    assert "zz-seen-once" not in second.schema_["group"].categories


def test_a_missing_value_in_a_complete_column_changes_no_exact_field():
    data = _table()
    neighbour = data.copy()
    neighbour.loc[9, "age"] = np.nan
    _assert_same_release(_fit(TVAESynthesizer, data), _fit(TVAESynthesizer, neighbour))


# ---------------------------------------------------------------------- leak 3: kinds from values
def test_kinds_under_dp_come_from_dtypes_not_values():
    data = _table()
    neighbour = data.copy()
    neighbour.loc[3, "age"] = 40.5  # infer_schema would turn the integer-valued column continuous
    neighbour.loc[4, "visits"] = 57  # an 11th distinct value: infer_schema would turn categorical into integer
    assert infer_schema(data)["visits"].kind != infer_schema(neighbour)["visits"].kind  # the old leak
    first, second = _fit(TVAESynthesizer, data), _fit(TVAESynthesizer, neighbour)
    _assert_same_release(first, second)
    assert [c.kind for c in first.schema_] == ["continuous", "integer", "categorical", "boolean"]


# ---------------------------------------------------------------------- leak 4: public=True laundering
def test_public_without_a_declared_domain_is_refused():
    data = _table()
    with pytest.raises(SchemaError, match="column 'group': public=True needs its domain"):
        infer_schema(data, {"group": {"public": True}})
    with pytest.raises(SchemaError, match="column 'age': public=True needs its domain.*'bounds'"):
        dtype_schema(data, {"age": {"public": True}})
    with pytest.raises(SchemaError, match="column 'g': public=True needs the public category list"):
        from synthaug.schema import ColumnSpec

        ColumnSpec("g", "categorical", public=True)


def test_a_declared_public_domain_does_not_grow_with_a_private_value():
    declared = {"group": {"public": True, "categories": ["a", "b", "c"]}, "age": {"public": True, "bounds": [0, 120]}}
    data = _table()
    neighbour = data.copy()
    neighbour.loc[2, "group"] = "seen-once"
    neighbour.loc[2, "age"] = 150.0
    first = _fit(FlowSynthesizer, data, dtype_schema(data, declared))
    second = _fit(FlowSynthesizer, neighbour, dtype_schema(neighbour, declared))
    _assert_same_release(first, second)
    assert second.schema_["group"].categories == ["a", "b", "c"] and second.schema_["age"].bounds == (0.0, 120.0)


# ---------------------------------------------------------------------- leak 5: the DP oversampler
def _oversampler(seed=5):
    data = _table(900)
    y = np.where(data.pop("member").to_numpy(), "yes", "no")
    schema = dtype_schema(data, {"group": {"public": True, "categories": ["a", "b", "c"]}})
    dp = DPConfig(2.0, accountant="rdp", insecure_noise_seed=seed)
    synthesizer = TVAESynthesizer(epochs=1, batch_size=100, schema=schema, dp=dp, random_state=0)
    return data, y, GenerativeOverSampler(synthesizer=synthesizer, random_state=0)


def test_oversampler_neighbours_release_the_same_ledger_and_never_the_exact_gap():
    data, y, sampler = _oversampler()
    neighbour = y.copy()
    neighbour[np.flatnonzero(y == "no")[0]] = "yes"
    sampler.fit_resample(data, y)
    ledger, added = sampler.privacy_spent_, sampler.sampling_strategy_
    data_b, _, other = _oversampler()
    other.fit_resample(data_b, neighbour)
    assert other.privacy_spent_ == ledger
    # the same noise on counts that differ by one row each: the added rows move with the noise, not exactly
    exact_gap = {"yes": int((y == "no").sum() - (y == "yes").sum())}
    assert added != exact_gap
    assert set(added) <= {"yes", "no"}


def test_per_class_oversampling_is_refused_under_dp():
    data, y, sampler = _oversampler()
    sampler.set_params(mode="per_class")
    with pytest.raises(PrivacyError, match="class's exact size"):
        sampler.fit_resample(data, y)
