"""The randomness a differential-privacy guarantee rests on.

Every draw the guarantee depends on (the Gaussian noise of the private histograms, the
DP-SGD noise, the Poisson choice of each batch) comes from a :class:`NoiseSource`. The
default, :class:`SecureNoise`, reads the operating system's CSPRNG (``os.urandom``): no
seed exists, ``random_state`` does not touch it, and the model file records nothing about
it, so the noise of a saved model cannot be replayed or searched for. DP fits are therefore
not bit-reproducible, by design.

Gaussian draws are made as Opacus's ``secure_mode`` makes them (Holohan and Braghin, 2021):
each value is the sum of four independent normals divided by two, which hides the
floating-point pattern of a single sample (the attack of Jin et al., 2021).

:class:`InsecureSeededNoise` exists only so that tests can replay a DP fit; it is chosen with
``DPConfig(insecure_noise_seed=...)``, warns loudly, and ``save()``, the CLI and pipelines
refuse models fitted with it.
"""

from __future__ import annotations

import os
import warnings
from abc import ABC, abstractmethod

import numpy as np
import torch

_TWO_PI = 2.0 * np.pi
_MANTISSA = 2.0**-53


class NoiseSource(ABC):
    """Standard normal and uniform draws as numpy arrays (float64)."""

    secure: bool = True

    @abstractmethod
    def _uniform_bits(self, size: int) -> np.ndarray:
        """``size`` independent uniform 64-bit words."""

    def uniform(self, size: int | tuple[int, ...]) -> np.ndarray:
        """Uniform draws on the open interval (0, 1), 53 random bits each."""
        shape = (size,) if isinstance(size, (int, np.integer)) else tuple(size)
        count = int(np.prod(shape, dtype=np.int64))
        bits = self._uniform_bits(count) >> np.uint64(11)
        return ((bits.astype(np.float64) + 0.5) * _MANTISSA).reshape(shape)

    def _standard_normal(self, count: int) -> np.ndarray:
        """``count`` standard normals by the Box-Muller transform."""
        half = (count + 1) // 2
        u = self.uniform(2 * half)
        radius = np.sqrt(-2.0 * np.log(u[:half]))
        angle = _TWO_PI * u[half:]
        return np.concatenate([radius * np.cos(angle), radius * np.sin(angle)])[:count]

    def normal(self, loc: float = 0.0, scale: float = 1.0, size: int | tuple[int, ...] | None = None) -> np.ndarray | float:
        """Normal draws of mean ``loc`` and std ``scale`` (a float when ``size`` is None, as
        numpy's): each the sum of four normals of std ``scale`` halved (the same distribution,
        without a single sample's floating-point pattern)."""
        if size is None:
            return float(self.normal(loc, scale, 1)[0])
        shape = (size,) if isinstance(size, (int, np.integer)) else tuple(size)
        count = int(np.prod(shape, dtype=np.int64))
        z = self._standard_normal(4 * count).reshape(4, count).sum(axis=0) * 0.5
        return (loc + scale * z).reshape(shape)

    def stream(self, key: int) -> NoiseSource:
        """An independent source for one part of a release (e.g. one column), so the draws of
        one part never shift those of another (the secure source is independent already)."""
        return self

    def normal_like(self, reference: torch.Tensor, std: float) -> torch.Tensor:
        """Noise of std ``std`` shaped, typed and placed like ``reference``."""
        noise = self.normal(0.0, std, tuple(reference.shape))
        return torch.from_numpy(noise).to(device=reference.device, dtype=reference.dtype)

    def poisson_rows(self, n_rows: int, rate: float) -> np.ndarray:
        """Indices of the rows that a Poisson draw at ``rate`` puts into one batch."""
        return np.flatnonzero(self.uniform(n_rows) < rate)

    def choice(self, n: int, weights: np.ndarray) -> np.ndarray:
        """``n`` indices drawn with probabilities proportional to ``weights``."""
        cdf = np.cumsum(np.asarray(weights, dtype=float))
        cdf /= cdf[-1]
        return np.minimum(np.searchsorted(cdf, self.uniform(n), side="right"), len(cdf) - 1)


class SecureNoise(NoiseSource):
    """The operating system's cryptographically secure generator (``os.urandom``)."""

    secure = True

    def _uniform_bits(self, size: int) -> np.ndarray:
        return np.frombuffer(os.urandom(8 * size), dtype=np.uint64).copy()


class InsecureSeededNoise(NoiseSource):
    """A seeded, replayable source, for tests only: anyone who knows the seed can subtract
    the noise and read the exact private statistics back."""

    secure = False

    def __init__(self, seed: int | np.random.SeedSequence) -> None:
        self._seed = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
        self._rng = np.random.default_rng(self._seed)

    def stream(self, key: int) -> NoiseSource:
        return InsecureSeededNoise(np.random.SeedSequence(self._seed.entropy, spawn_key=(*self._seed.spawn_key, key)))

    def _uniform_bits(self, size: int) -> np.ndarray:
        return self._rng.integers(0, np.iinfo(np.uint64).max, size=size, dtype=np.uint64, endpoint=True)


INSECURE_WARNING = (
    "DPConfig(insecure_noise_seed=...) makes the differential-privacy noise replayable: this fit has NO privacy "
    "guarantee for anyone who knows or can guess the seed. Use it in tests only; save() and the CLI refuse such models."
)


def noise_source(insecure_seed: int | None) -> NoiseSource:
    """The source for one private fit: OS entropy, or (tests only, with a loud warning) a seed."""
    if insecure_seed is None:
        return SecureNoise()
    warnings.warn(INSECURE_WARNING, UserWarning, stacklevel=3)
    return InsecureSeededNoise(int(insecure_seed))
