"""The privacy ledger: what it keeps of the history, the no-guarantee ledger, and build_ledger's accounting."""

from __future__ import annotations

import copy
from types import SimpleNamespace

import pytest

from synthaug.privacy import NO_GUARANTEE, DPConfig, PrivateDomain, build_ledger, epsilon_of
from synthaug.privacy.ledger import INSECURE_NOTE, SECURE_NOTE, public_history

DELTA = 1e-5


def test_public_history_keeps_only_public_keys():
    history = [
        {"epoch": 1, "seconds": 0.25, "critic_loss": 1.5, "generator_loss": -0.3},
        {"epoch": 2, "loss": 0.7},
        {"critic_loss": 2.0},
    ]
    original = copy.deepcopy(history)
    assert public_history(history) == [{"epoch": 1, "seconds": 0.25}, {"epoch": 2}, {}]
    assert history == original, "the training history itself is not modified"
    assert public_history([]) == []


def test_no_guarantee_ledger_claims_nothing():
    assert NO_GUARANTEE["guarantee"] == "none"
    assert NO_GUARANTEE["epsilon"] is None and NO_GUARANTEE["delta"] is None
    assert NO_GUARANTEE["covers"] == []
    assert "no formal privacy guarantee" in NO_GUARANTEE["note"]


def _domain(rounds: int, noise_multiplier: float = 20.0, delta_threshold: float = 2e-6) -> PrivateDomain:
    releases = [{"column": "group", "kind": "categories"}] if rounds else []
    return PrivateDomain(
        schema=None,
        category_counts={},
        numeric={},
        noise_multiplier=noise_multiplier,
        rounds=rounds,
        delta_threshold=delta_threshold,
        releases=releases,
    )


def _trainer(prior, sigma=1.2, rate=0.05, steps=40):
    """What build_ledger reads of a PrivateTraining: its history (prior then steps) and schedule."""
    return SimpleNamespace(
        history=lambda: [*prior, (sigma, rate, steps)],
        noise_multiplier=sigma,
        sample_rate=rate,
        steps_taken=steps,
        expected_batch_size=25,
    )


def test_build_ledger_composes_preprocessing_and_training():
    config = DPConfig(3.0, delta=5e-5, accountant="rdp", max_grad_norm=0.7)
    domain = _domain(rounds=2)
    trainer = _trainer(domain.history)
    ledger = build_ledger(config, delta_accountant=DELTA, domain=domain, trainer=trainer, private_modules=["critic_net"])

    whole = [*domain.history, (1.2, 0.05, 40)]
    assert ledger["epsilon"] == pytest.approx(epsilon_of(whole, DELTA, "rdp"))
    assert ledger["delta"] == pytest.approx(DELTA + 2e-6)
    assert ledger["delta_accountant"] == DELTA and ledger["delta_threshold"] == 2e-6
    assert ledger["target_epsilon"] == 3.0 and ledger["target_delta"] == 5e-5
    assert ledger["accountant"] == "rdp"
    assert ledger["history"] == [[20.0, 1.0, 2], [1.2, 0.05, 40]]
    assert (ledger["noise_multiplier"], ledger["sample_rate"], ledger["steps"], ledger["max_grad_norm"]) == (1.2, 0.05, 40, 0.7)

    pre, train = ledger["breakdown"]
    assert pre["stage"] == "preprocessing" and train["stage"] == "training"
    assert pre["epsilon_alone"] == pytest.approx(epsilon_of(domain.history, DELTA, "rdp"))
    assert train["epsilon_alone"] == pytest.approx(epsilon_of([(1.2, 0.05, 40)], DELTA, "rdp"))
    # composition costs more than either stage alone
    assert ledger["epsilon"] > max(pre["epsilon_alone"], train["epsilon_alone"])
    assert pre["rounds"] == 2 and pre["noise_multiplier"] == 20.0 and pre["releases"] == domain.releases
    assert train["modules"] == ["critic_net"] and train["steps"] == 40 and train["expected_batch_size"] == 25
    assert any("critic_net" in item for item in ledger["covers"])
    assert ledger["assumed_public"] and ledger["note"] == SECURE_NOTE
    assert ledger["guarantee"].startswith("(epsilon, delta)-differential privacy")


def test_build_ledger_without_preprocessing_has_only_the_training_stage():
    domain = _domain(rounds=0, delta_threshold=0.0)
    ledger = build_ledger(
        DPConfig(1.0, accountant="rdp"), delta_accountant=DELTA, domain=domain, trainer=_trainer([]), private_modules=["a", "b"]
    )
    assert [b["stage"] for b in ledger["breakdown"]] == ["training"]
    assert ledger["epsilon"] == pytest.approx(ledger["breakdown"][0]["epsilon_alone"])
    assert ledger["delta"] == DELTA
    assert ledger["target_delta"] is None
    assert any("a, b" in item for item in ledger["covers"])


def test_build_ledger_with_insecure_noise_claims_no_guarantee():
    domain = _domain(rounds=1)
    ledger = build_ledger(
        DPConfig(2.0, accountant="rdp"),
        delta_accountant=DELTA,
        domain=domain,
        trainer=_trainer(domain.history),
        private_modules=["decoder"],
        secure=False,
    )
    assert ledger["guarantee"].startswith("none")
    assert ledger["note"] == INSECURE_NOTE
