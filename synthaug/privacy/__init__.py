"""Differential privacy: the budget (:class:`DPConfig`), private preprocessing, DP-SGD
through Opacus, accounting, and the privacy ledger every fitted synthesizer reports."""

from .accounting import calibrate_noise, epsilon_of, gaussian_noise_multiplier
from .config import DPConfig, check_dp
from .domain import NumericSummary, PrivateDomain, release_domain
from .ledger import NO_GUARANTEE, build_ledger
from .plan import PrivateFit, plan_private_fit
from .training import PrivateTraining, check_private_modules

__all__ = [
    "DPConfig",
    "NO_GUARANTEE",
    "NumericSummary",
    "PrivateDomain",
    "PrivateFit",
    "PrivateTraining",
    "build_ledger",
    "calibrate_noise",
    "check_dp",
    "check_private_modules",
    "epsilon_of",
    "gaussian_noise_multiplier",
    "plan_private_fit",
    "release_domain",
]
