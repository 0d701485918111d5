"""The privacy ledger: what a fit spent, on what, and what the guarantee covers."""

from __future__ import annotations

from typing import Any

from .accounting import epsilon_of
from .config import DPConfig
from .domain import PrivateDomain

NO_GUARANTEE: dict[str, Any] = {
    "guarantee": "none",
    "epsilon": None,
    "delta": None,
    "covers": [],
    "note": "trained without differential privacy: there is no formal privacy guarantee",
}

ASSUMED_PUBLIC = [
    "column names, kinds and dtypes (inferred from the table unless a schema is given)",
    "the number of training rows (it sets DP-SGD's sampling rate, as in Opacus)",
    "domains declared in the schema with public=True, boolean domains, and the set of class labels given as y",
]


PUBLIC_HISTORY_KEYS = ("epoch", "seconds")


def public_history(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A DP fit's training history without its losses: they are averages over the private
    rows, not privatised, so they stay out of the fitted model (the progress bar shows them
    to the data holder during training)."""
    return [{k: record[k] for k in PUBLIC_HISTORY_KEYS if k in record} for record in history]


def build_ledger(
    config: DPConfig,
    *,
    delta_accountant: float,
    domain: PrivateDomain,
    trainer: Any,
    private_modules: list[str],
    dropped_rows: int,
) -> dict[str, Any]:
    """``privacy_spent_`` of a private fit (see :class:`~synthaug.privacy.PrivateTraining`)."""
    history = trainer.history()
    epsilon = epsilon_of(history, delta_accountant, config.accountant)
    delta = delta_accountant + domain.delta_threshold
    pre_eps = epsilon_of(domain.history, delta_accountant, config.accountant)
    train_eps = epsilon_of(history[len(domain.history) :], delta_accountant, config.accountant)
    breakdown = []
    if domain.history:
        breakdown.append(
            {
                "stage": "preprocessing",
                "mechanism": "Gaussian noisy histograms (domains, frequencies, quantiles)",
                "noise_multiplier": domain.noise_multiplier,
                "rounds": domain.rounds,
                "epsilon_alone": pre_eps,
                "delta_threshold": domain.delta_threshold,
                "releases": domain.releases,
            }
        )
    breakdown.append(
        {
            "stage": "training",
            "mechanism": "DP-SGD (Opacus, Poisson sampling, flat per-row clipping)",
            "modules": private_modules,
            "noise_multiplier": trainer.noise_multiplier,
            "sample_rate": trainer.sample_rate,
            "steps": trainer.steps_taken,
            "expected_batch_size": trainer.expected_batch_size,
            "max_grad_norm": config.max_grad_norm,
            "epsilon_alone": train_eps,
        }
    )
    return {
        "guarantee": "(epsilon, delta)-differential privacy, add/remove one row",
        "epsilon": epsilon,
        "delta": delta,
        "target_epsilon": float(config.epsilon),
        "target_delta": float(config.delta) if config.delta is not None else None,
        "delta_accountant": delta_accountant,
        "delta_threshold": domain.delta_threshold,
        "accountant": config.accountant,
        "composition": "sequential (preprocessing, then training), composed by the accountant",
        "noise_multiplier": trainer.noise_multiplier,
        "sample_rate": trainer.sample_rate,
        "steps": trainer.steps_taken,
        "max_grad_norm": config.max_grad_norm,
        "history": [list(entry) for entry in history],
        "breakdown": breakdown,
        "rows_outside_released_domain": dropped_rows,
        "covers": [
            "the fitted model file and every sample drawn from it (post-processing)",
            "category sets and frequencies, numeric bounds and shapes, missing-value flags (private preprocessing)",
            "training of " + ", ".join(private_modules) + " (DP-SGD)",
            "the condition frequencies used for sampling (the same noisy histograms)",
        ],
        "assumed_public": list(ASSUMED_PUBLIC),
        "note": "noise is drawn from a seeded generator so fits are reproducible; it is not a cryptographically secure source",
    }
