"""The user's privacy budget: :class:`DPConfig`."""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from ..codecs import register_codec, register_save_check
from ..exceptions import PrivacyError

ACCOUNTANTS = ("prv", "rdp")


@dataclass(frozen=True)
class DPConfig:
    """Differential-privacy settings of one fit.

    Parameters:
        epsilon: total privacy budget (> 0, finite). It covers everything the fit reads
            from the private rows: domain discovery, the representation and DP-SGD.
        delta: total failure probability; ``None`` means ``1 / (10 n)`` for ``n`` training
            rows. Must be below ``1 / n``. Always reported in ``privacy_spent_``.
        max_grad_norm: per-row gradient clipping norm of DP-SGD.
        accountant: ``"prv"`` (Opacus's PRV accountant, tight) or ``"rdp"`` (Rényi DP, faster,
            slightly loose). The same accountant composes preprocessing and training.
        preprocessing_share: the part of ``epsilon`` (and, when category sets must be
            discovered, of ``delta``) spent on the private statistics of the data
            representation (bounds, category sets and frequencies, quantiles).
        insecure_noise_seed: **tests only.** ``None`` (the default) draws all DP noise and
            Poisson batches from the operating system's secure generator, so DP fits are not
            reproducible. An integer makes them replayable, which voids the guarantee for anyone
            who knows or guesses it: a loud warning is raised, and ``save()``, the CLI and
            pipelines refuse such models.
    """

    epsilon: float
    delta: float | None = None
    max_grad_norm: float = 1.0
    accountant: str = "prv"
    preprocessing_share: float = 0.1
    insecure_noise_seed: int | None = None

    def __post_init__(self) -> None:
        if isinstance(self.epsilon, bool) or not isinstance(self.epsilon, numbers.Real) or not self.epsilon > 0:
            raise PrivacyError(f"epsilon must be a positive number, got {self.epsilon!r}")
        if math.isinf(self.epsilon):
            raise PrivacyError("epsilon must be finite; to train without differential privacy, pass dp=None")
        if self.delta is not None and (
            isinstance(self.delta, bool) or not isinstance(self.delta, numbers.Real) or not 0 < self.delta < 1
        ):
            raise PrivacyError(f"delta must be in (0, 1), got {self.delta!r}")
        if isinstance(self.max_grad_norm, bool) or not isinstance(self.max_grad_norm, numbers.Real) or not self.max_grad_norm > 0:
            raise PrivacyError(f"max_grad_norm must be a positive number, got {self.max_grad_norm!r}")
        if self.accountant not in ACCOUNTANTS:
            raise PrivacyError(f"accountant must be one of {', '.join(ACCOUNTANTS)}, got {self.accountant!r}")
        if not isinstance(self.preprocessing_share, numbers.Real) or not 0 < self.preprocessing_share < 1:
            raise PrivacyError(f"preprocessing_share must be in (0, 1), got {self.preprocessing_share!r}")
        seed = self.insecure_noise_seed
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0):
            raise PrivacyError(f"insecure_noise_seed must be None or a non-negative integer, got {seed!r}")

    def resolve_delta(self, n_rows: int) -> float:
        """The delta to use for ``n_rows`` private rows (checked against ``1 / n_rows``)."""
        if n_rows < 1:
            raise PrivacyError("differential privacy needs at least one training row")
        if self.delta is None:
            return 1.0 / (10.0 * n_rows)
        if not self.delta < 1.0 / n_rows:
            raise PrivacyError(
                f"delta={self.delta:g} is not below 1/n = {1.0 / n_rows:g} for n={n_rows} rows: such a delta allows "
                f"releasing a whole row; use delta <= {1.0 / (10 * n_rows):.3g} (or leave it None for 1/(10 n))"
            )
        return float(self.delta)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_dp(dp: Any) -> DPConfig | None:
    """Accept ``None``, a :class:`DPConfig` or its dict form; raise a clear error otherwise."""
    if dp is None or isinstance(dp, DPConfig):
        return dp
    if isinstance(dp, Mapping):
        unknown = set(dp) - set(DPConfig.__dataclass_fields__)
        if unknown:
            raise PrivacyError(f"unknown dp settings {sorted(unknown)}; allowed: {', '.join(DPConfig.__dataclass_fields__)}")
        if "epsilon" not in dp:
            raise PrivacyError("dp settings need an 'epsilon'")
        return DPConfig(**dp)
    raise PrivacyError(f"dp must be None, a DPConfig or a dict of its settings, got {type(dp).__name__}")


def _dp_from_json(data: Mapping[str, Any]) -> DPConfig:
    return DPConfig(**data)


def refuse_insecure_save(params: Mapping[str, Any]) -> None:
    """Refuse to store the parameters of a fit whose DP noise came from ``insecure_noise_seed``."""
    dp = params.get("dp")
    if dp is not None and check_dp(dp).insecure_noise_seed is not None:
        raise PrivacyError(
            "refusing to save a model fitted with DPConfig(insecure_noise_seed=...): its DP noise can be replayed "
            "from the seed, so the file would carry no privacy guarantee; refit without insecure_noise_seed"
        )


register_codec(DPConfig, "dp", DPConfig.to_dict, _dp_from_json)
register_save_check(refuse_insecure_save)
