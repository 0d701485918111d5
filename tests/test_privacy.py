"""Differential privacy: budget validation, accounting, Poisson batches, the private critic,
private domains, and the ledger."""

from __future__ import annotations

import copy
import math

import numpy as np
import pandas as pd
import pytest
import torch
from opacus.accountants import create_accountant
from torch import nn

from synthaug import AutoregressiveSynthesizer, CTGANSynthesizer, DiffusionSynthesizer, FlowSynthesizer, TVAESynthesizer, load
from synthaug.privacy import DPConfig, PrivateTraining, calibrate_noise, check_dp, check_private_modules, epsilon_of
from synthaug.privacy.randomness import SecureNoise
from synthaug.schema import dtype_schema, infer_schema
from synthaug.training import logistic_critic_losses

PRIVATE_MODELS = [TVAESynthesizer, FlowSynthesizer, CTGANSynthesizer, DiffusionSynthesizer, AutoregressiveSynthesizer]

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _table(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    group = rng.choice(["a", "b", "c"], n, p=[0.5, 0.3, 0.2])
    return pd.DataFrame(
        {
            "age": np.clip(rng.normal(40, 10, n).round(), 18, 90),
            "income": rng.lognormal(10, 0.4, n),
            "group": group,
            "member": rng.random(n) < 0.4,
        }
    )


def _public_groups(data: pd.DataFrame):
    """A schema declaring the category set of ``group`` public (small tables at small epsilon
    cannot discover it privately)."""
    return dtype_schema(data, {"group": {"public": True, "categories": ["a", "b", "c"]}})


def _opacus_epsilon(ledger: dict) -> float:
    accountant = create_accountant(ledger["accountant"])
    accountant.history = [tuple(entry) for entry in ledger["history"]]
    return accountant.get_epsilon(delta=ledger["delta_accountant"])


# ---------------------------------------------------------------------- configuration
@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"epsilon": 0}, "epsilon must be a positive number"),
        ({"epsilon": -1.0}, "epsilon must be a positive number"),
        ({"epsilon": float("nan")}, "epsilon must be a positive number"),
        ({"epsilon": float("inf")}, "dp=None"),
        ({"epsilon": 1.0, "delta": 0.0}, "delta must be in"),
        ({"epsilon": 1.0, "delta": 1.5}, "delta must be in"),
        ({"epsilon": 1.0, "max_grad_norm": 0}, "max_grad_norm"),
        ({"epsilon": 1.0, "accountant": "moments"}, "accountant must be one of"),
        ({"epsilon": 1.0, "preprocessing_share": 1.0}, "preprocessing_share"),
    ],
)
def test_dpconfig_rejects_bad_settings(kwargs, message):
    with pytest.raises(ValueError, match=message):
        DPConfig(**kwargs)


def test_delta_defaults_to_a_tenth_of_one_over_n_and_must_be_below_one_over_n():
    assert DPConfig(1.0).resolve_delta(500) == pytest.approx(1 / 5000)
    with pytest.raises(ValueError, match="not below 1/n"):
        DPConfig(1.0, delta=0.01).resolve_delta(500)
    with pytest.raises(ValueError, match="unknown dp settings"):
        check_dp({"epsilon": 1.0, "eps": 2})
    assert check_dp({"epsilon": 2.0}).epsilon == 2.0


def test_fit_rejects_bad_dp_and_packing_under_dp():
    with pytest.raises(ValueError, match="epsilon must be a positive number"):
        TVAESynthesizer(epochs=1, dp={"epsilon": 0}).fit(_table(50))
    with pytest.raises(ValueError, match="pac=10 is not supported with dp"):
        CTGANSynthesizer(epochs=1, pac=10, dp=DPConfig(1.0)).fit(_table(50))


# ---------------------------------------------------------------------- accounting
@pytest.mark.parametrize("target, sample_rate, steps", [(0.5, 0.1, 100), (1.0, 0.02, 1000), (4.0, 0.1, 300)])
def test_calibrated_noise_never_exceeds_the_target(target, sample_rate, steps):
    prior = [(30.0, 1.0, 2)]
    sigma, eps = calibrate_noise(target, 1e-5, sample_rate, steps, "rdp", prior)
    assert eps <= target
    assert eps == pytest.approx(epsilon_of([*prior, (sigma, sample_rate, steps)], 1e-5, "rdp"))
    # the calibration is tight: 10% less noise would overshoot
    assert epsilon_of([*prior, (0.9 * sigma, sample_rate, steps)], 1e-5, "rdp") > target


@pytest.mark.parametrize("epsilon, delta, releases", [(1.0, 1e-5, 1), (0.1, 4.6e-6, 2), (0.3, 1e-4, 3)])
def test_preprocessing_noise_is_the_exact_gaussian_mechanism(epsilon, delta, releases):
    from synthaug.privacy import gaussian_noise_multiplier

    sigma = gaussian_noise_multiplier(epsilon, delta, releases)
    # the PRV accountant (an upper bound within its eps_error of 0.01) agrees with the analytic calibration
    assert epsilon <= epsilon_of([(sigma, 1.0, releases)], delta, "prv") <= epsilon + 0.0101
    # and it is tighter than the classical sqrt(2 ln(1.25 / delta)) / epsilon bound
    assert sigma < math.sqrt(releases) * math.sqrt(2 * math.log(1.25 / delta)) / epsilon


def test_small_epsilon_with_many_rows_calibrates():
    from synthaug.privacy import gaussian_noise_multiplier

    prior = [(gaussian_noise_multiplier(0.1, 4.6e-6, 2), 1.0, 2)]
    for accountant in ("prv", "rdp"):
        sigma, eps = calibrate_noise(1.0, 4.6e-6, 500 / 19708, 800, accountant, prior)
        assert eps <= 1.0 and sigma > 0


@pytest.mark.parametrize("model_class", PRIVATE_MODELS)
@pytest.mark.parametrize("n_rows, target", [(300, 1.0), (1200, 3.0)])
def test_reported_epsilon_is_within_target_and_matches_opacus(model_class, n_rows, target):
    extra = {"n_layers": 2} if model_class is FlowSynthesizer else {}
    data = _table(n_rows)
    public = {"group": {"public": True, "categories": ["a", "b", "c"]}}
    if n_rows < 1000:  # at n=300, eps=1 nothing would pass the private thresholds: declare the domains
        public.update({"age": {"bounds": [0, 120], "public": True}, "income": {"bounds": [0, 1e6], "public": True}})
    schema = infer_schema(data, public)
    dp = DPConfig(target, accountant="rdp")
    model = model_class(epochs=2, batch_size=100, dp=dp, schema=schema, random_state=0, device="cpu", **extra)
    model.fit(data)
    ledger = model.privacy_spent_
    assert ledger["epsilon"] <= target
    assert ledger["epsilon"] == pytest.approx(_opacus_epsilon(ledger), rel=1e-9)
    assert ledger["delta"] <= 1 / (10 * n_rows) + 1e-15
    steps_per_epoch = math.ceil(n_rows / 100)
    assert ledger["steps"] == 2 * steps_per_epoch
    assert ledger["sample_rate"] == pytest.approx(1 / steps_per_epoch)
    assert ledger["history"][-1] == [ledger["noise_multiplier"], ledger["sample_rate"], ledger["steps"]]
    assert [b["stage"] for b in ledger["breakdown"]] == ["preprocessing", "training"]
    assert ledger["covers"] and ledger["assumed_public"]


@pytest.mark.slow
def test_prv_accountant_fit_stays_within_target():
    model = TVAESynthesizer(epochs=3, batch_size=100, dp=DPConfig(2.0), random_state=0, device="cpu").fit(_table(600))
    ledger = model.privacy_spent_
    assert ledger["accountant"] == "prv"
    assert ledger["epsilon"] <= 2.0
    assert ledger["epsilon"] == pytest.approx(_opacus_epsilon(ledger), rel=1e-6)


def test_without_dp_the_ledger_says_there_is_no_guarantee():
    model = TVAESynthesizer(epochs=1, random_state=0, device="cpu").fit(_table(60))
    assert model.privacy_spent_["guarantee"] == "none"
    assert model.privacy_spent_["epsilon"] is None
    assert "no formal privacy guarantee" in model.privacy_spent_["note"]


# ---------------------------------------------------------------------- Poisson batches
def test_private_batches_are_poisson_sampled(monkeypatch):
    sizes: list[int] = []
    original = PrivateTraining.epoch_batches

    def spy(self):
        assert self.sample_rate == pytest.approx(1 / 8)
        assert self.noise.secure
        for rows in original(self):
            sizes.append(len(rows))
            yield rows

    monkeypatch.setattr(PrivateTraining, "epoch_batches", spy)
    data = _table(400)
    dp = DPConfig(5.0, accountant="rdp")
    model = TVAESynthesizer(epochs=10, batch_size=50, dp=dp, schema=_public_groups(data), random_state=0, device="cpu")
    model.fit(data)
    assert len(sizes) == model.privacy_spent_["steps"] == 80
    assert len(set(sizes)) > 5  # Poisson batch sizes vary around 50; fixed-size batching would give one size
    assert abs(np.mean(sizes) - 50) < 5


def test_private_critic_keeps_the_fake_rows_gradient():
    gen = torch.Generator().manual_seed(0)
    critic = nn.Sequential(nn.Linear(3, 8), nn.LeakyReLU(0.2), nn.Linear(8, 1))
    reference = copy.deepcopy(critic)
    trainer = PrivateTraining(
        [critic],
        lambda params: torch.optim.SGD(params, lr=0.0),
        n_rows=40,
        batch_size=10,
        epochs=1,
        config=DPConfig(1.0, max_grad_norm=1e6),  # no clipping in effect, no noise: the exact gradient
        delta=1e-5,
        prior=[],
        noise=SecureNoise(),
        noise_multiplier=0.0,
    )
    expected_batch = trainer.expected_batch_size
    fake = torch.randn(expected_batch, 3, generator=gen) + 2.0
    real = torch.randn(7, 3, generator=gen)
    trainer.backward_and_step(logistic_critic_losses(critic(torch.cat([fake, real])), fake.shape[0]))
    private = [p.grad.clone() for p in critic.parameters()]
    trainer.close()

    def reference_grads(with_fake: bool) -> list[torch.Tensor]:
        reference.zero_grad()
        loss = nn.functional.softplus(-reference(real)).sum()
        if with_fake:
            loss = loss + nn.functional.softplus(reference(fake)).sum()
        (loss / expected_batch).backward()
        return [p.grad.clone() for p in reference.parameters()]

    for got, want in zip(private, reference_grads(with_fake=True), strict=True):
        torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-6)
    # the same comparison fails when the fake rows' gradient is dropped
    assert not all(torch.allclose(g, w, atol=1e-4) for g, w in zip(private, reference_grads(with_fake=False), strict=True))


def test_clipping_bounds_each_rows_contribution():
    gen = torch.Generator().manual_seed(1)
    net = nn.Linear(4, 1, bias=False)
    trainer = PrivateTraining(
        [net],
        lambda params: torch.optim.SGD(params, lr=0.0),
        n_rows=20,
        batch_size=10,
        epochs=1,
        config=DPConfig(1.0, max_grad_norm=0.5),
        delta=1e-5,
        prior=[],
        noise=SecureNoise(),
        noise_multiplier=0.0,
    )
    rows = 100.0 * torch.randn(10, 4, generator=gen)  # every row's gradient norm is far above 0.5
    trainer.backward_and_step(net(rows).squeeze(1))
    clipped = rows / rows.norm(dim=1, keepdim=True) * 0.5
    torch.testing.assert_close(net.weight.grad[0], clipped.sum(dim=0) / trainer.expected_batch_size, rtol=1e-4, atol=1e-6)


def test_batchnorm_is_refused_for_private_training():
    with pytest.raises(ValueError, match="cannot be trained with differential privacy"):
        check_private_modules([nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))])


# ---------------------------------------------------------------------- private domains
def test_categories_outside_a_declared_public_domain_never_appear():
    data = _table(600)
    schema = infer_schema(data, {"group": {"categories": ["a", "b"], "public": True}})
    model = TVAESynthesizer(epochs=2, batch_size=100, schema=schema, dp=DPConfig(3.0, accountant="rdp"), random_state=0)
    with pytest.warns(UserWarning, match=r"\['group'\] hold values outside the privately released domain"):
        model.fit(data)
    assert model.schema_["group"].categories == ["a", "b"]
    assert "rows_outside_released_domain" not in model.privacy_spent_  # an exact count: never released
    # every row is trained on (the out-of-domain ones mapped into the domain): the schedule follows n only
    assert model.privacy_spent_["steps"] == 2 * 6
    assert set(model.sample(3000)["group"].unique()) <= {"a", "b"}


@pytest.mark.parametrize("model_class", PRIVATE_MODELS)
def test_a_category_seen_once_is_not_released_unless_declared_public(model_class):
    data = _table(600)
    data.loc[7, "group"] = "only-once"
    dp = DPConfig(3.0, accountant="rdp")
    model = model_class(epochs=2, batch_size=100, dp=dp, random_state=0, device="cpu").fit(data)
    assert "only-once" not in model.schema_["group"].categories
    assert "only-once" not in set(model.sample(5000)["group"])
    with pytest.raises(ValueError, match="not seen in fit"):
        model.sample(5, conditions={"group": "only-once"})
    declared = infer_schema(data, {"group": {"public": True, "categories": ["a", "b", "c", "only-once"]}})
    public = model_class(epochs=2, batch_size=100, dp=dp, schema=declared, random_state=0, device="cpu").fit(data)
    assert "only-once" in public.schema_["group"].categories


def test_numeric_bounds_come_from_the_public_schema_or_are_private():
    data = _table(800)
    declared = infer_schema(data, {"age": {"bounds": [0, 120], "public": True}})
    model = TVAESynthesizer(epochs=1, batch_size=100, dp=DPConfig(3.0, accountant="rdp"), schema=declared, random_state=0)
    model.fit(data)
    assert model.schema_["age"].bounds == (0.0, 120.0)
    low, high = model.schema_["income"].bounds
    assert (low, high) != (data["income"].min(), data["income"].max())  # not read off the data
    sample = model.sample(2000)
    assert sample["income"].between(low, high).all()
    releases = model.privacy_spent_["breakdown"][0]["releases"]
    assert {r["column"] for r in releases} == set(data.columns)


def test_too_small_a_budget_for_a_discovered_column_names_it():
    data = _table(40)
    with pytest.raises(ValueError, match="column 'group'"):
        TVAESynthesizer(epochs=1, dp=DPConfig(0.5, accountant="rdp"), random_state=0).fit(data)


# ---------------------------------------------------------------------- behaviour of private models
def test_private_fits_with_the_same_random_state_differ_and_survive_save_and_load(tmp_path):
    data = _table(400)
    schema = _public_groups(data)
    kwargs = dict(epochs=2, batch_size=100, dp=DPConfig(2.0, accountant="rdp"), schema=schema, random_state=3, device="cpu")
    first = CTGANSynthesizer(**kwargs).fit(data)
    second = CTGANSynthesizer(**kwargs).fit(data)
    # the DP noise comes from the OS's secure generator, not from random_state
    first_weights, second_weights = (torch.cat([p.flatten() for p in m.critic_net_.parameters()]) for m in (first, second))
    assert not torch.equal(first_weights, second_weights)
    assert first.privacy_spent_["steps"] == second.privacy_spent_["steps"]
    assert first.privacy_spent_["noise_multiplier"] == second.privacy_spent_["noise_multiplier"]
    path = first.save(str(tmp_path / "dp.zip"))
    loaded = load(path)
    assert loaded.dp == first.dp
    assert loaded.privacy_spent_ == first.privacy_spent_
    pd.testing.assert_frame_equal(loaded.sample(100, random_state=2), first.sample(100, random_state=2))


def test_insecure_noise_seed_replays_a_fit_warns_and_cannot_be_saved(tmp_path):
    from synthaug.exceptions import PrivacyError

    data = _table(400)
    dp = DPConfig(2.0, accountant="rdp", insecure_noise_seed=7)
    kwargs = dict(epochs=1, batch_size=100, dp=dp, schema=_public_groups(data), random_state=3, device="cpu")
    with pytest.warns(UserWarning, match="NO privacy guarantee"):
        first = TVAESynthesizer(**kwargs).fit(data)
    second = TVAESynthesizer(**kwargs).fit(data)
    pd.testing.assert_frame_equal(first.sample(200, random_state=1), second.sample(200, random_state=1))
    assert first.privacy_spent_["note"].startswith("INSECURE")
    assert first.privacy_spent_["guarantee"].startswith("none")
    with pytest.raises(PrivacyError, match="insecure_noise_seed"):
        first.save(str(tmp_path / "insecure.zip"))
    assert not (tmp_path / "insecure.zip").exists()


def test_private_conditional_sampling_is_exact():
    data = _table(500)
    dp = DPConfig(3.0, accountant="rdp")
    model = TVAESynthesizer(epochs=2, batch_size=100, dp=dp, schema=_public_groups(data), random_state=0).fit(data)
    sample = model.sample(300, conditions={"group": "b"})
    assert (sample["group"] == "b").all() and len(sample) == 300


def _oversampling_data():
    data = _table(900)
    y = np.where(data.pop("member").to_numpy(), "yes", "no")
    schema = dtype_schema(
        data,
        {
            "group": {"public": True, "categories": ["a", "b", "c"]},
            "age": {"bounds": [0, 120], "public": True},
            "income": {"bounds": [0, 1e6], "public": True},
        },
    )
    return data, y, schema


def test_private_oversampler_refuses_per_class_mode():
    from synthaug import GenerativeOverSampler
    from synthaug.exceptions import PrivacyError

    data, y, schema = _oversampling_data()
    synthesizer = TVAESynthesizer(epochs=1, batch_size=100, schema=schema, dp=DPConfig(2.0, accountant="rdp"))
    with pytest.raises(PrivacyError, match="per_class"):
        GenerativeOverSampler(synthesizer=synthesizer, mode="per_class", random_state=0).fit_resample(data, y)


def test_private_oversampler_adds_counts_from_the_noisy_histogram_and_says_what_is_covered():
    from synthaug import GenerativeOverSampler

    data, y, schema = _oversampling_data()
    exact = {"yes": int((y == "no").sum() - (y == "yes").sum()), "no": 0}
    added = []
    for _ in range(3):
        synthesizer = TVAESynthesizer(epochs=1, batch_size=100, schema=schema, dp=DPConfig(3.0, accountant="rdp"))
        sampler = GenerativeOverSampler(synthesizer=synthesizer, random_state=0)
        X_res, y_res = sampler.fit_resample(data, y)
        assert len(X_res) == len(y_res) and (X_res.iloc[: len(data)].to_numpy() == data.to_numpy()).all()
        new = pd.Series(y_res[len(y) :]).value_counts().to_dict()
        assert {k: v for k, v in sampler.sampling_strategy_.items() if v} == new  # what it says it added
        added.append({label: new.get(label, 0) for label in exact})
    report = sampler.privacy_spent_
    std = report["per_fit"][0]["breakdown"][0]["releases"][0]["noise_std"]
    # noisy around the exact gap (a difference of two noisy counts: std sqrt(2) * noise std), never fixed
    assert len({tuple(a.values()) for a in added}) > 1
    assert all(abs(a["yes"] - a["no"] - exact["yes"]) < 5 * math.sqrt(2) * std for a in added)
    assert report["epsilon"] <= 3.0
    assert "synthetic rows only" in report["guarantee"]
    assert "every real row" in report["not_covered"]


@pytest.mark.parametrize("model_class", PRIVATE_MODELS)
def test_private_fit_handles_every_column_kind_and_missing_values(model_class):
    from conftest import make_mixed_frame

    data = make_mixed_frame(3000, seed=1)
    model = model_class(epochs=1, batch_size=300, dp=DPConfig(10.0, accountant="rdp"), random_state=0, device="cpu")
    model.fit(data)
    sample = model.sample(2000)
    assert list(sample.columns) == list(data.columns)
    assert sample.dtypes.astype(str).to_dict() == data.dtypes.astype(str).to_dict()
    assert model.schema_["score"].nullable  # 10% missing is far above the noise
    assert sample["score"].isna().any()
    low, high = (pd.Timestamp(b) for b in model.schema_["joined"].bounds)
    assert sample["joined"].between(low, high).all()
    assert model.privacy_spent_["epsilon"] <= 10.0


def test_private_fit_with_labels_treats_the_label_set_as_public():
    data = _table(800)[["age", "income"]]
    y = pd.Series(np.where(np.arange(800) < 790, "common", "rare"), name="label")  # 10 rows: below any threshold
    dp = DPConfig(3.0, accountant="rdp")
    model = TVAESynthesizer(epochs=1, batch_size=100, dp=dp, schema=None, random_state=0).fit(data, y)
    X_new, y_new = model.sample(20, y="rare")
    assert (y_new == "rare").all() and len(X_new) == 20
