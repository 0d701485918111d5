"""AutoregressiveSynthesizer: joint and conditional fidelity, several columns and numeric ranges at once, DP, files."""

import numpy as np
import pandas as pd
import pytest
import torch
from opacus.grad_sample import GradSampleModuleFastGradientClipping

from synthaug import AutoregressiveSynthesizer, GenerativeOverSampler, load
from synthaug.exceptions import ConditionError, ParameterError
from synthaug.nn import build
from synthaug.nn.diffusion import TabularDenoiser, TokenLayout
from synthaug.privacy import DPConfig
from synthaug.schema import infer_schema
from synthaug.training.autoregressive import any_order_losses, random_visibility

CPU = torch.device("cpu")


def _small(**params) -> AutoregressiveSynthesizer:
    defaults = dict(epochs=30, batch_size=100, hidden_dims=(64, 64), random_state=0, device="cpu")
    return AutoregressiveSynthesizer(**{**defaults, **params})


def _generator(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# the known joint: a and b uniform and independent; c depends on their interaction (an XOR), so
# neither a nor b alone says anything about c; ``level`` follows c
SAME, OTHER = [0.8, 0.15, 0.05], [0.1, 0.2, 0.7]
C_GIVEN_AB = {("x", "p"): SAME, ("x", "q"): OTHER, ("y", "p"): OTHER, ("y", "q"): SAME}


def _xor_table(n: int = 4000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    a, b = rng.choice(["x", "y"], n), rng.choice(["p", "q"], n)
    probs = np.array([C_GIVEN_AB[pair] for pair in zip(a, b, strict=True)])
    c = np.array(["u", "v", "w"])[(rng.random((n, 1)) > probs.cumsum(1)).sum(1)]
    level = np.select([c == "u", c == "v"], [0.0, 5.0], 10.0) + rng.normal(0, 1, n)
    age = rng.integers(18, 80, n)
    income = np.where(rng.random(n) < 0.1, np.nan, 1000.0 * age + rng.normal(0, 500, n))
    return pd.DataFrame({"a": a, "b": b, "c": c, "level": level, "age": age, "income": income})


@pytest.fixture(scope="module")
def xor_model():
    data = _xor_table()
    return data, _small(epochs=60, batch_size=200, hidden_dims=(128, 128)).fit(data)


def test_two_column_conditions_match_the_known_conditional_of_a_third(xor_model):
    """Total variation between the sampled distribution of ``c`` given (a, b) and the true one stays
    below 0.1 in every cell (measured: 0.01-0.04); the marginal of c given a alone is uniform-ish,
    so a model that ignored either condition would miss by about 0.3."""
    _, model = xor_model
    for (a, b), truth in C_GIVEN_AB.items():
        sample = model.sample(3000, conditions={"a": a, "b": b}, random_state=1)
        assert len(sample) == 3000 and (sample["a"] == a).all() and (sample["b"] == b).all()
        freq = sample["c"].value_counts(normalize=True).reindex(["u", "v", "w"], fill_value=0.0).to_numpy()
        assert 0.5 * np.abs(freq - np.array(truth)).sum() < 0.1, (a, b, freq)


def test_unconditional_samples_keep_the_interaction_and_the_dtypes(xor_model):
    data, model = xor_model
    sample = model.sample(4000, random_state=0)
    assert sample.dtypes.astype(str).to_dict() == data.dtypes.astype(str).to_dict()
    same = (sample["a"] == "x") == (sample["b"] == "p")
    assert (sample.loc[same, "c"] == "u").mean() > 0.65 and (sample.loc[~same, "c"] == "w").mean() > 0.55
    assert abs(sample["income"].isna().mean() - 0.1) < 0.04


def test_numeric_ranges_return_only_rows_in_range_exactly_as_many_as_asked(xor_model):
    data, model = xor_model
    sample = model.sample(700, conditions={"age": (30, 40), "c": "w"}, random_state=0)
    assert len(sample) == 700 and sample["age"].between(30, 40).all() and (sample["c"] == "w").all()
    assert (sample["age"] == sample["age"].round()).all()
    assert sample["level"].mean() > 8.0  # the condition on c still steers level
    # the income of 30-40 year olds: about 35,000, missing as often as elsewhere (it is independent of age)
    assert abs(sample["income"].mean() - 35_000) < 3_000
    open_ended = model.sample(500, conditions={"level": "7.5.."}, random_state=0)
    assert len(open_ended) == 500 and (open_ended["level"] >= 7.5).all()
    assert (open_ended["c"] == "w").mean() > 0.8  # level above 7.5 means c = w, in the data and the model
    upper = model.sample(300, conditions={"income": (None, 30_000.0)}, random_state=0)
    assert upper["income"].notna().all() and (upper["income"] <= 30_000.0).all()
    assert upper["age"].mean() < data["age"].mean()


def test_a_numeric_value_and_a_per_row_category_at_once(xor_model):
    _, model = xor_model
    per_row = np.array(["x", "y"] * 200, dtype=object)
    sample = model.sample(400, conditions={"a": per_row, "age": 50, "b": "q"}, random_state=0)
    assert (sample["a"].to_numpy() == per_row).all() and (sample["age"] == 50).all() and (sample["b"] == "q").all()


@pytest.mark.parametrize(
    "conditions, needle",
    [({"age": (200, 300)}, "holds no value"), ({"age": (40, 30)}, "empty"), ({"age": "old..young"}, "not a valid integer value"),
     ({"age": [1, 2, 3]}, "one value, a (low, high) pair"), ({"c": "zebra"}, "zebra")],
)  # fmt: skip
def test_bad_range_conditions_are_refused_with_the_column_named(xor_model, conditions, needle):
    _, model = xor_model
    with pytest.raises(ConditionError, match="age|c=") as info:
        model.sample(10, conditions=conditions)
    assert needle in str(info.value)


def test_datetime_ranges(mixed_frame):
    model = _small(epochs=10).fit(mixed_frame)
    when = mixed_frame["joined"].dropna()
    low, high = when.quantile(0.25), when.quantile(0.5)
    sample = model.sample(200, conditions={"joined": (str(low), str(high))}, random_state=0)
    assert sample["joined"].between(low, high).all() and len(sample) == 200


def test_reproducible_streamed_and_saved(mixed_frame, tmp_path):
    model = _small(epochs=5).fit(mixed_frame)
    first = model.sample(5000, random_state=3)
    pd.testing.assert_frame_equal(first, _small(epochs=5).fit(mixed_frame).sample(5000, random_state=3))
    parts = pd.concat(model.iter_samples(5000, chunk_size=2000, random_state=3), ignore_index=True)
    pd.testing.assert_frame_equal(first, parts)
    loaded = load(model.save(str(tmp_path / "ar.synthaug")))
    assert isinstance(loaded, AutoregressiveSynthesizer)
    pd.testing.assert_frame_equal(loaded.sample(300, random_state=2), model.sample(300, random_state=2))


def test_fit_with_labels_samples_exact_classes(xor_model):
    data, _ = xor_model
    X = data.drop(columns=["c"])
    model = _small(epochs=20).fit(X, data["c"])
    Xs, ys = model.sample(400, y="w", random_state=0)
    assert (ys == "w").all() and list(Xs.columns) == list(X.columns) and Xs["level"].mean() > 7.0


def test_private_fit_spends_within_budget_and_conditions_on_ranges():
    data = _xor_table(1500)
    schema = infer_schema(data, {"c": {"public": True, "categories": ["u", "v", "w"]}})
    model = _small(epochs=3, dp=DPConfig(3.0, accountant="rdp"), schema=schema).fit(data)
    assert model.privacy_spent_["epsilon"] <= 3.0 and "token network" in str(model.privacy_spent_)
    sample = model.sample(300, conditions={"c": "v", "age": "20..30"})
    assert (sample["c"] == "v").all() and sample["age"].between(20, 30).all()


def test_oversampler_with_the_autoregressive_model_balances_classes(xor_model):
    data, _ = xor_model
    y = data["c"]
    X_res, y_res = GenerativeOverSampler(synthesizer=_small(epochs=5), random_state=0).fit_resample(data.drop(columns=["c"]), y)
    assert pd.Series(y_res).value_counts().nunique() == 1 and len(X_res) == len(y_res)


@pytest.mark.parametrize("params, name", [({"numeric_bins": 1.5}, "numeric_bins"), ({"order_draws": 0}, "order_draws")])
def test_bad_parameters_name_the_parameter(mixed_frame, params, name):
    with pytest.raises(ParameterError, match=name):
        _small(**params).fit(mixed_frame)


# ---------------------------------------------------------------------- training and sampling parts
def test_random_visibility_masks_at_least_one_token_and_every_count_occurs():
    shown, scored = random_visibility((4000,), 0, 5, _generator(), CPU)
    assert (scored == ~shown).all()
    counts = shown.sum(1)
    assert counts.max() <= 4 and set(counts.tolist()) == {0, 1, 2, 3, 4}
    assert abs(shown.float().mean(0) - 0.4).max() < 0.05  # every token equally often shown


@pytest.mark.filterwarnings("ignore:Full backward hook")
def test_private_clipping_sees_one_gradient_per_row_whatever_the_order_draws():
    layout = TokenLayout([4, 3, 2], CPU)
    net = build(lambda: TabularDenoiser(0, layout.token_dim, layout.logit_dim, (16, 16), time_dim=8), CPU, _generator())
    codes = torch.stack([torch.randint(k, (6,), generator=_generator(k)) for k in (4, 3, 2)], 1)
    rows = torch.arange(6)
    expected = []
    for row in range(6):  # brute force: each row's loss alone, with the same draws as the batched call
        per_row = any_order_losses(net, layout, codes, order_draws=4, generator=_generator(7))(rows)["loss"]
        grads = torch.autograd.grad(per_row[row], list(net.parameters()), allow_unused=True)
        expected.append(torch.sqrt(sum((g**2).sum() for g in grads if g is not None)).item())
    wrapped = GradSampleModuleFastGradientClipping(net, max_grad_norm=1.0, use_ghost_clipping=True, loss_reduction="sum")
    any_order_losses(wrapped, layout, codes, order_draws=4, generator=_generator(7))(rows)["loss"].sum().backward()
    np.testing.assert_allclose(wrapped.get_norm_sample().detach().numpy(), expected, rtol=1e-4)


def test_indexed_input_gives_the_one_hot_losses_and_gradients():
    layout = TokenLayout([4, 4, 3, 2], CPU)
    net = build(lambda: TabularDenoiser(0, layout.token_dim, layout.logit_dim, (16, 16), time_dim=8), CPU, _generator())
    codes = torch.stack([torch.randint(k, (20,), generator=_generator(k)) for k in (4, 4, 3, 2)], 1)
    results = []
    for indexed in (False, True):
        net.zero_grad()
        losses = any_order_losses(net, layout, codes, n_paired=1, order_draws=3, generator=_generator(5), indexed_input=indexed)
        loss = losses(torch.arange(20))["loss"]
        loss.sum().backward()
        results.append((loss.detach(), net.proj.weight.grad.clone()))
    torch.testing.assert_close(results[0][0], results[1][0])
    torch.testing.assert_close(results[0][1], results[1][1])


def test_paired_tokens_are_shown_bin_first_and_sub_bins_scored_only_after_their_bin():
    shown, scored = random_visibility((5000,), 2, 3, _generator(), CPU)
    bins, subs = shown[:, :2], shown[:, 2:4]
    assert not (subs & ~bins).any()  # a sub-bin is never shown without its bin
    assert not (scored[:, 2:4] & ~bins).any() and (scored[:, 2:4] & bins).any()
    assert not (scored & shown).any()
