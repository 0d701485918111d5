"""Plain building blocks: dropout with an explicit RNG, residual and MLP blocks."""

from __future__ import annotations

import torch
from torch import nn

from ..exceptions import ParameterError


class SeededDropout(nn.Module):
    """Dropout that draws its mask from an explicit ``torch.Generator`` (never the global RNG).

    The generator is attached by :func:`synthaug.nn.init.build`; until then it falls back
    to ``nn.functional.dropout``.
    """

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ParameterError(f"dropout probability must be in [0, 1), got {p}")
        self.p = p
        self.generator: torch.Generator | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        if self.generator is None:
            return nn.functional.dropout(x, self.p, training=True)
        keep = torch.rand(x.shape, generator=self.generator, device=x.device, dtype=x.dtype) >= self.p
        return x * keep / (1.0 - self.p)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class ResidualBlock(nn.Module):
    """``Linear -> BatchNorm -> ReLU``, concatenated with its input (the output grows by ``out_dim``)."""

    def __init__(self, in_dim: int, out_dim: int) -> None:
        super().__init__()
        self.fc = nn.Linear(in_dim, out_dim)
        self.norm = nn.BatchNorm1d(out_dim)
        self.act = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.act(self.norm(self.fc(x))), x], dim=1)


def leaky_mlp(in_dim: int, hidden: tuple[int, ...], out_dim: int, dropout: float = 0.0, slope: float = 0.2) -> nn.Sequential:
    """``[Linear -> LeakyReLU -> Dropout] * len(hidden) -> Linear``."""
    layers: list[nn.Module] = []
    dim = in_dim
    for width in hidden:
        layers += [nn.Linear(dim, width), nn.LeakyReLU(slope)]
        if dropout > 0:
            layers.append(SeededDropout(dropout))
        dim = width
    layers.append(nn.Linear(dim, out_dim))
    return nn.Sequential(*layers)


def relu_mlp(in_dim: int, hidden: tuple[int, ...]) -> tuple[nn.Sequential, int]:
    """``[Linear -> ReLU] * len(hidden)``; returns the module and its output width."""
    layers: list[nn.Module] = []
    dim = in_dim
    for width in hidden:
        layers += [nn.Linear(dim, width), nn.ReLU()]
        dim = width
    return nn.Sequential(*layers), dim


class LearntScale(nn.Module):
    """A learnt per-feature log-scale, computed as a bias-free linear map of a constant.

    Written as a layer applied to every row (rather than a bare ``nn.Parameter``) so
    that per-sample-gradient tools such as Opacus can privatise it like any ``Linear``.
    """

    def __init__(self, n_features: int) -> None:
        super().__init__()
        self.proj = nn.Linear(1, n_features, bias=False)

    def forward(self, like: torch.Tensor) -> torch.Tensor:
        return self.proj(like.new_ones((like.shape[0], 1)))
