"""One private fit, planned: split the budget, release the representation statistics,
then hand out the DP-SGD set-up and the ledger."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import torch
from torch import nn

from ..schema import TableSchema
from .accounting import gaussian_noise_multiplier
from .config import DPConfig
from .domain import PrivateDomain, discovered_columns, release_domain, release_rounds
from .ledger import build_ledger
from .randomness import NoiseSource, noise_source
from .training import PrivateTraining


@dataclass
class PrivateFit:
    """The state of a private fit between preprocessing and training."""

    config: DPConfig
    delta: float
    delta_accountant: float
    domain: PrivateDomain
    frame: pd.DataFrame  # every row, mapped into the released domain (numeric values clipped)
    noise: NoiseSource  # the secure source of every draw the guarantee rests on
    replaced_columns: list[str]  # columns where values outside the released domain were replaced

    def trainer(
        self,
        modules: Sequence[nn.Module],
        make_optimizer: Callable[[list[nn.Parameter]], torch.optim.Optimizer],
        *,
        batch_size: int,
        epochs: int,
        noise_multiplier: float | None = None,
    ) -> PrivateTraining:
        """DP-SGD for ``modules`` on this fit's rows, with the noise calibrated for the rest of the budget."""
        return PrivateTraining(
            modules,
            make_optimizer,
            n_rows=len(self.frame),
            batch_size=batch_size,
            epochs=epochs,
            config=self.config,
            delta=self.delta_accountant,
            prior=self.domain.history,
            noise=self.noise,
            noise_multiplier=noise_multiplier,
        )

    def ledger(self, trainer: PrivateTraining, private_modules: list[str]) -> dict[str, Any]:
        return build_ledger(
            self.config,
            delta_accountant=self.delta_accountant,
            domain=self.domain,
            trainer=trainer,
            private_modules=private_modules,
            secure=self.noise.secure,
        )


def plan_private_fit(
    frame: pd.DataFrame,
    schema: TableSchema,
    config: DPConfig,
    *,
    public_columns: set[str] | None = None,
    public_categories: dict[str, list[Any]] | None = None,
) -> PrivateFit:
    """Split ``config``'s budget, release the representation statistics of ``frame`` and
    map every row into the released domain.

    ``preprocessing_share`` of epsilon goes to the Gaussian releases (their noise is set so
    that they alone are exactly that private, by the analytic Gaussian mechanism); when
    category sets must be discovered, the same share of delta pays for thresholding. The
    rest of delta goes to the accountant, and the training noise is later calibrated so
    that preprocessing and training together stay within epsilon. All noise comes from
    :func:`~synthaug.privacy.randomness.noise_source` (the OS's secure generator), never
    from the estimator's ``random_state``.
    """
    delta = config.resolve_delta(len(frame))
    discovered = discovered_columns(schema, public_columns)
    delta_threshold = config.preprocessing_share * delta if discovered else 0.0
    delta_accountant = delta - delta_threshold
    rounds = release_rounds(schema)
    sigma = gaussian_noise_multiplier(config.preprocessing_share * config.epsilon, delta_accountant, rounds) if rounds else 0.0
    noise = noise_source(config.insecure_noise_seed)
    domain = release_domain(
        frame,
        schema,
        noise_multiplier=sigma,
        delta_threshold=delta_threshold,
        rng=noise,
        public_columns=public_columns,
        public_categories=public_categories,
    )
    mapped, replaced = domain.project(frame, noise)
    return PrivateFit(config, delta, delta_accountant, domain, mapped, noise, replaced)
