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

GUARANTEE = "(epsilon, delta)-differential privacy, add/remove one row, with the row count n public"

ADJACENCY = (
    "Two tables are neighbours when one is the other with one row added or removed. The row count n is "
    "treated as public: it sets the Poisson sample rate, the number of DP-SGD steps and the default delta "
    "(1/(10 n)), exactly as in Opacus. For every pair of neighbours, the distribution of everything the fit "
    "releases (model file, ledger, samples) changes by at most (epsilon, delta). Two tables of the same size "
    "that differ in one row's values are two such steps apart: (2 epsilon, (1 + e^epsilon) delta) by group privacy."
)

ASSUMED_PUBLIC = [
    "the number of training rows n",
    "column names, kinds and dtypes (from the declared schema, else from the pandas dtypes alone)",
    "domains declared in the schema with public=True (categories, bounds, nullability), boolean domains, "
    "and the set of class labels given as y (or as the marginal model's discrete target)",
]

SECURE_NOTE = (
    "every draw the guarantee rests on (histogram noise, DP-SGD noise, Poisson batches) came from the operating "
    "system's secure generator; random_state did not determine it and nothing about it is stored, so DP fits are "
    "not bit-reproducible"
)
INSECURE_NOTE = (
    "INSECURE: the DP noise was drawn from DPConfig.insecure_noise_seed and can be replayed; this model has no "
    "privacy guarantee (tests only)"
)


PUBLIC_HISTORY_KEYS = ("epoch", "seconds")


def public_history(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A DP fit's training history without its losses: they are averages over the private
    rows, not privatised, so they stay out of the fitted model (the progress bar shows them
    to the data holder during training)."""
    return [{k: record[k] for k in PUBLIC_HISTORY_KEYS if k in record} for record in history]


def _preprocessing_stage(domain: PrivateDomain, delta_accountant: float, accountant: str) -> list[dict[str, Any]]:
    if not domain.history:
        return []
    return [
        {
            "stage": "preprocessing",
            "mechanism": "Gaussian noisy histograms (domains, frequencies, quantiles)",
            "noise_multiplier": domain.noise_multiplier,
            "rounds": domain.rounds,
            "epsilon_alone": epsilon_of(domain.history, delta_accountant, accountant),
            "delta_threshold": domain.delta_threshold,
            "releases": domain.releases,
        }
    ]


def _ledger(
    config: DPConfig,
    *,
    delta_accountant: float,
    domain: PrivateDomain,
    history: list[tuple[float, float, int]],
    accountant: str,
    stages: list[dict[str, Any]],
    covers: list[str],
    secure: bool,
) -> dict[str, Any]:
    """The fields every ledger has: guarantee, totals, the composed history and its stages."""
    return {
        "guarantee": GUARANTEE if secure else "none (insecure test noise)",
        "adjacency": ADJACENCY,
        "epsilon": epsilon_of(history, delta_accountant, accountant),
        "delta": delta_accountant + domain.delta_threshold,
        "target_epsilon": float(config.epsilon),
        "target_delta": float(config.delta) if config.delta is not None else None,
        "delta_accountant": delta_accountant,
        "delta_threshold": domain.delta_threshold,
        "accountant": accountant,
        "history": [list(entry) for entry in history],
        "breakdown": _preprocessing_stage(domain, delta_accountant, accountant) + stages,
        "covers": [
            "the fitted model file and every sample drawn from it (post-processing)",
            "category sets and frequencies, numeric bounds and shapes, missing-value flags (private preprocessing)",
            *covers,
        ],
        "assumed_public": list(ASSUMED_PUBLIC),
        "note": SECURE_NOTE if secure else INSECURE_NOTE,
    }


def build_ledger(
    config: DPConfig,
    *,
    delta_accountant: float,
    domain: PrivateDomain,
    trainer: Any,
    private_modules: list[str],
    secure: bool = True,
) -> dict[str, Any]:
    """``privacy_spent_`` of a private fit (see :class:`~synthaug.privacy.PrivateTraining`)."""
    history = trainer.history()
    training = {
        "stage": "training",
        "mechanism": "DP-SGD (Opacus, Poisson sampling, flat per-row clipping)",
        "modules": private_modules,
        "noise_multiplier": trainer.noise_multiplier,
        "sample_rate": trainer.sample_rate,
        "steps": trainer.steps_taken,
        "expected_batch_size": trainer.expected_batch_size,
        "max_grad_norm": config.max_grad_norm,
        "epsilon_alone": epsilon_of(history[len(domain.history) :], delta_accountant, config.accountant),
    }
    ledger = _ledger(
        config, delta_accountant=delta_accountant, domain=domain, history=history, accountant=config.accountant,
        stages=[training], secure=secure,
        covers=[
            "training of " + ", ".join(private_modules) + " (DP-SGD)",
            "the condition frequencies used for sampling (the same noisy histograms)",
        ],
    )  # fmt: skip
    ledger.update(
        composition="sequential (preprocessing, then training), composed by the accountant",
        noise_multiplier=trainer.noise_multiplier,
        sample_rate=trainer.sample_rate,
        steps=trainer.steps_taken,
        max_grad_norm=config.max_grad_norm,
    )
    return ledger


def marginal_ledger(
    config: DPConfig, *, delta_accountant: float, domain: PrivateDomain, budget: Any, accountant: str, secure: bool = True
) -> dict[str, Any]:
    """``privacy_spent_`` of a marginal-based fit (:mod:`synthaug.privacy.marginals`)."""
    measured = budget.history()
    stages = [
        {
            "stage": "marginals",
            "mechanism": (
                "MST: Gaussian one-way counts, exponential-mechanism spanning tree, Gaussian two-way counts"
                if budget.selection_epsilon > 0
                else "Gaussian one-way counts and Gaussian two-way counts of column pairs fixed in advance"
            ),
            "zcdp_rho": budget.rho,
            "one_way_sigma": budget.one_way_sigma,
            "selection_epsilon_per_round": budget.selection_epsilon,
            "two_way_sigma": budget.two_way_sigma,
            "columns": budget.n_columns,
            "epsilon_alone": epsilon_of(measured, delta_accountant, accountant),
        }
    ]
    ledger = _ledger(
        config, delta_accountant=delta_accountant, domain=domain, history=[*domain.history, *measured],
        accountant=accountant, stages=stages, secure=secure,
        covers=["the choice of the measured column pairs and every measured count (MST)"],
    )  # fmt: skip
    ledger["composition"] = (
        "sequential (preprocessing, then the marginal measurements), composed by Opacus's RDP accountant: the "
        "exponential mechanism is entered at its zCDP bound epsilon^2/8 as a Gaussian entry with noise multiplier "
        "2/epsilon (the PRV accountant cannot take that bound, so the configured accountant is not used)"
    )
    return ledger
