"""Privacy accounting with Opacus's accountants: compose mechanisms, calibrate noise.

A *history* is a list of ``(noise_multiplier, sample_rate, steps)`` entries, Opacus's own
format: a Gaussian mechanism on a statistic of the whole table is ``(sigma, 1.0, 1)``;
DP-SGD with Poisson sampling is ``(sigma, q, steps)``. The accountant composes every
entry of a history (sequential composition, with the accountant's tight analysis).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

from opacus.accountants import create_accountant
from scipy.special import ndtr

from ..exceptions import PrivacyError

History = list[tuple[float, float, int]]

_MAX_SIGMA = 1e4


def epsilon_of(history: Sequence[tuple[float, float, int]], delta: float, accountant: str) -> float:
    """Epsilon of composing ``history`` at ``delta``, as Opacus's ``accountant`` computes it."""
    if not history:
        return 0.0
    acc = create_accountant(accountant)
    acc.history = [(float(s), float(q), int(k)) for s, q, k in history]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numerical warnings of the PRV domain computation
        return float(acc.get_epsilon(delta=delta))


def _bisect_sigma(
    target: float,
    delta: float,
    entry: tuple[float, int],
    accountant: str,
    prior: Sequence[tuple[float, float, int]],
    low: float,
    high: float,
    iterations: int,
) -> tuple[float, float]:
    """Smallest noise multiplier in ``[low, high]`` (to the bisection's precision) whose
    composition with ``prior`` stays within ``target``; returns it and its epsilon."""
    rate, steps = entry
    best_eps = epsilon_of([*prior, (high, rate, steps)], delta, accountant)
    if best_eps > target:
        raise PrivacyError(
            f"no noise multiplier up to {high:g} reaches epsilon={target:g} at delta={delta:g}; "
            "raise epsilon, or train for fewer epochs or with a smaller batch"
        )
    best = high
    for _ in range(iterations):
        middle = 0.5 * (low + high)
        eps = epsilon_of([*prior, (middle, rate, steps)], delta, accountant)
        if eps <= target:
            best, best_eps, high = middle, eps, middle
        else:
            low = middle
    return best, best_eps


def _smallest_within(
    target: float, delta: float, entry: tuple[float, int], accountant: str, prior: Sequence[tuple[float, float, int]]
) -> float | None:
    """A noise multiplier (a power of two) whose composition with ``prior`` is within ``target``, or None."""
    high = 1.0
    while epsilon_of([*prior, (high, *entry)], delta, accountant) > target:
        high *= 2.0
        if high > _MAX_SIGMA:
            return None
    return high


def calibrate_noise(
    target_epsilon: float,
    delta: float,
    sample_rate: float,
    steps: int,
    accountant: str,
    prior: Sequence[tuple[float, float, int]] = (),
) -> tuple[float, float]:
    """Noise multiplier for ``steps`` Poisson-sampled steps at ``sample_rate`` such that,
    composed with ``prior``, epsilon at ``delta`` does not exceed ``target_epsilon``.

    Returns ``(noise_multiplier, epsilon)``; the epsilon is the accountant's value for the
    whole history, never above the target. The RDP accountant brackets the answer quickly
    (RDP bounds PRV from above) and PRV refines it; where RDP's conversion cannot reach the
    target (very small epsilon), the chosen accountant brackets it itself.
    """
    if epsilon_of(prior, delta, accountant) >= target_epsilon:
        raise PrivacyError("the preprocessing alone spends the whole budget; lower preprocessing_share")
    entry = (float(sample_rate), int(steps))
    high = _smallest_within(target_epsilon, delta, entry, "rdp", prior)
    if high is not None:
        sigma, eps = _bisect_sigma(target_epsilon, delta, entry, "rdp", prior, high / 2 if high > 1 else 0.05, high, 10)
        if accountant == "rdp":
            return sigma, eps
        return _bisect_sigma(target_epsilon, delta, entry, accountant, prior, 0.4 * sigma, sigma, 8)
    high = _smallest_within(target_epsilon, delta, entry, accountant, prior) if accountant != "rdp" else None
    if high is None:
        raise PrivacyError(
            f"no noise multiplier up to {_MAX_SIGMA:g} reaches epsilon={target_epsilon:g} at delta={delta:g} with the "
            f"{accountant} accountant; raise epsilon, train for fewer epochs or with a smaller batch"
            + (", or use accountant='prv' (RDP cannot express very small epsilons)" if accountant == "rdp" else "")
        )
    return _bisect_sigma(target_epsilon, delta, entry, accountant, prior, high / 2 if high > 1 else 0.05, high, 10)


def _gaussian_delta(epsilon: float, mu: float) -> float:
    """Exact delta(epsilon) of a Gaussian mechanism with sensitivity / std = ``mu`` (Balle and Wang, 2018)."""
    return float(ndtr(-epsilon / mu + mu / 2) - math.exp(epsilon) * ndtr(-epsilon / mu - mu / 2))


def gaussian_noise_multiplier(epsilon: float, delta: float, releases: int) -> float:
    """Noise multiplier (std / L2 sensitivity) for ``releases`` Gaussian mechanisms on the whole
    table that together are exactly (``epsilon``, ``delta``)-DP (k Gaussian releases with noise
    multiplier sigma compose to one with sigma / sqrt(k)). Exact, so it holds for any accountant;
    the ledger then composes it with training through the chosen accountant."""
    # delta decreases as mu = sqrt(releases) / sigma decreases: bisect mu on a log scale
    low, high = 1e-6, 100.0
    for _ in range(200):
        mid = math.sqrt(low * high)
        if _gaussian_delta(epsilon, mid) > delta:
            high = mid
        else:
            low = mid
    return math.sqrt(releases) / low
