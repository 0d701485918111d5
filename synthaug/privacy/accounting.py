"""Privacy accounting with Opacus's accountants: compose mechanisms, calibrate noise.

A *history* is a list of ``(noise_multiplier, sample_rate, steps)`` entries, Opacus's own
format: a Gaussian mechanism on a statistic of the whole table is ``(sigma, 1.0, 1)``;
DP-SGD with Poisson sampling is ``(sigma, q, steps)``. The accountant composes every
entry of a history (sequential composition, with the accountant's tight analysis).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

from opacus.accountants import create_accountant

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
        raise ValueError(
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
    whole history, never above the target. The PRV accountant is searched between half the
    RDP answer and the RDP answer (RDP bounds PRV from above), which keeps it fast.
    """
    if epsilon_of(prior, delta, accountant) >= target_epsilon:
        raise ValueError("the preprocessing alone spends the whole budget; lower preprocessing_share")
    entry = (float(sample_rate), int(steps))
    high = 1.0
    while epsilon_of([*prior, (high, *entry)], delta, "rdp") > target_epsilon:
        high *= 2.0
        if high > _MAX_SIGMA:
            break
    sigma, eps = _bisect_sigma(target_epsilon, delta, entry, "rdp", prior, high / 2 if high > 1 else 0.05, high, 10)
    if accountant == "rdp":
        return sigma, eps
    return _bisect_sigma(target_epsilon, delta, entry, accountant, prior, 0.4 * sigma, sigma, 8)


def gaussian_noise_multiplier(epsilon: float, delta: float, releases: int, accountant: str) -> float:
    """Noise multiplier (std / L2 sensitivity) for ``releases`` Gaussian mechanisms on the
    whole table that together spend ``epsilon`` at ``delta``."""
    sigma, _ = calibrate_noise(epsilon, delta, 1.0, releases, accountant)
    return sigma
