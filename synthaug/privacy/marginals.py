"""The private parts of a marginal-based fit (MST): budget split, Gaussian measurements of
marginal counts and exponential-mechanism selection, all drawn from the fit's secure noise.

Accounting is by zero-concentrated DP, composed with Opacus's RDP accountant: a Gaussian
measurement of counts (L2 sensitivity 1 per marginal under add/remove one row) with std
``sigma`` is ``1 / (2 sigma^2)``-zCDP, Opacus's history entry ``(sigma, 1.0, 1)``; the
exponential mechanism with parameter ``epsilon`` is ``epsilon^2 / 8``-zCDP (Cesar and Rogers,
2021), which is the RDP curve of the entry ``(2 / epsilon, 1.0, 1)``, so the RDP accountant
composes it exactly. (The PRV accountant composes privacy-loss distributions, which this bound
does not give; a marginal fit is therefore always accounted with RDP, and says so.)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .accounting import History, calibrate_noise
from .randomness import NoiseSource

#: shares of the marginal stage's zCDP budget: one-way measurements, tree selection, two-way measurements
STAGE_SHARES = (0.1, 0.1, 0.8)
ACCOUNTANT = "rdp"


@dataclass(frozen=True)
class MarginalBudget:
    """Noise of the three stages of MST for ``n_columns`` token columns."""

    n_columns: int
    rho: float  # zCDP of the whole marginal stage
    one_way_sigma: float
    selection_epsilon: float  # of each of the n_columns - 1 selection rounds (0: no selection)
    two_way_sigma: float  # (0: no two-way measurement)

    def history(self) -> History:
        """The stage as Opacus history entries (see the module docstring)."""
        d = self.n_columns
        entries = [(self.one_way_sigma, 1.0, d)]
        if self.selection_epsilon > 0:
            entries.append((2.0 / self.selection_epsilon, 1.0, d - 1))
        if self.two_way_sigma > 0:
            entries.append((self.two_way_sigma, 1.0, d - 1))
        return entries


def zcdp_of_entry(noise_multiplier: float, steps: int) -> float:
    """zCDP of ``steps`` Gaussian releases at ``noise_multiplier`` (rho = steps / (2 z^2))."""
    return steps / (2.0 * noise_multiplier**2)


def plan_marginal_budget(
    epsilon: float,
    delta: float,
    n_columns: int,
    prior: Sequence[tuple[float, float, int]],
    *,
    select: bool = True,
    shares: Sequence[float] = STAGE_SHARES,
) -> MarginalBudget:
    """The largest zCDP budget that, composed with ``prior`` (the preprocessing releases) by
    the RDP accountant, stays within ``(epsilon, delta)``, split over the stages by ``shares``
    (``select=False``: the pairs are fixed in advance, the selection's share goes to the others)."""
    sigma, _ = calibrate_noise(epsilon, delta, 1.0, 1, ACCOUNTANT, prior)
    rho = zcdp_of_entry(sigma, 1)
    d = n_columns
    if d == 1:
        return MarginalBudget(1, rho, math.sqrt(1 / (2 * rho)), 0.0, 0.0)
    share_one, share_select, share_two = shares
    share_select = share_select if select else 0.0
    scale = rho / (share_one + share_select + share_two)
    return MarginalBudget(
        n_columns=d,
        rho=rho,
        one_way_sigma=math.sqrt(d / (2 * share_one * scale)),
        selection_epsilon=math.sqrt(8 * share_select * scale / (d - 1)) if select else 0.0,
        two_way_sigma=math.sqrt((d - 1) / (2 * share_two * scale)),
    )


def measure(counts: np.ndarray, sigma: float, noise: NoiseSource) -> np.ndarray:
    """``counts`` plus Gaussian noise of std ``sigma`` per cell (the Gaussian mechanism)."""
    return counts + noise.normal(0.0, sigma, counts.shape)


def exponential_choice(scores: np.ndarray, epsilon: float, sensitivity: float, noise: NoiseSource) -> int:
    """Index drawn with probability proportional to ``exp(epsilon * score / (2 sensitivity))``
    (the exponential mechanism, sampled by adding Gumbel noise and taking the largest)."""
    gumbel = -np.log(-np.log(noise.uniform(len(scores))))
    return int(np.argmax(epsilon * np.asarray(scores, dtype=float) / (2.0 * sensitivity) + gumbel))


__all__ = [
    "ACCOUNTANT",
    "STAGE_SHARES",
    "MarginalBudget",
    "exponential_choice",
    "measure",
    "plan_marginal_budget",
    "zcdp_of_entry",
]
