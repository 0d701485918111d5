"""Conditional affine-coupling normalizing flow (RealNVP family) with exact log-likelihood."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from .blocks import relu_mlp


def coupling_mask(dim: int, layer: int) -> torch.Tensor:
    """Binary mask of the features a coupling layer keeps fixed.

    Successive pairs of layers split the features by successive bits of their index
    (parity, then the second bit, ...), each pair in both directions, so that every
    feature is transformed conditioned on different partners across the stack.
    """
    bit = (layer // 2) % max(1, math.ceil(math.log2(dim)) if dim > 1 else 1)
    keep = ((torch.arange(dim) >> bit) & 1).bool()
    if layer % 2:
        keep = ~keep
    return keep.float()


class AffineCoupling(nn.Module):
    """``y = x`` on the masked features; ``y = x * exp(s) + t`` on the others, with
    ``(s, t)`` computed from the masked features and the context. Starts as identity."""

    def __init__(self, dim: int, context_dim: int, hidden: Sequence[int], layer: int) -> None:
        super().__init__()
        self.dim, self.layer = dim, layer
        body, width = relu_mlp(dim + context_dim, tuple(hidden))
        self.body = body
        self.out = nn.Linear(width, 2 * dim)
        self.register_buffer("mask", torch.empty(dim))  # set by post_init (cheap on the meta device)
        if not self.mask.is_meta:
            self.post_init()

    def post_init(self) -> None:
        """Set the mask and zero the last layer (identity at start); called after initialisation."""
        with torch.no_grad():
            self.mask.copy_(coupling_mask(self.dim, self.layer).to(device=self.mask.device))
            self.out.weight.zero_()
            self.out.bias.zero_()

    def _shift_scale(self, fixed: torch.Tensor, context: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        s, t = self.out(self.body(torch.cat([fixed, context], dim=1))).chunk(2, dim=1)
        free = 1.0 - self.mask
        return torch.tanh(s) * free, t * free

    def forward(self, x: torch.Tensor, context: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        fixed = x * self.mask
        s, t = self._shift_scale(fixed, context)
        return fixed + (1.0 - self.mask) * (x * torch.exp(s) + t), s.sum(dim=1)

    def inverse(self, y: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        fixed = y * self.mask
        s, t = self._shift_scale(fixed, context)
        return fixed + (1.0 - self.mask) * ((y - t) * torch.exp(-s))


class ConditionalFlowNet(nn.Module):
    """A stack of affine couplings mapping data to a standard normal, given a context vector."""

    def __init__(self, dim: int, context_dim: int, n_layers: int, hidden: Sequence[int]) -> None:
        super().__init__()
        self.dim = dim
        self.layers = nn.ModuleList(AffineCoupling(dim, context_dim, hidden, i) for i in range(n_layers))

    def forward(self, x: torch.Tensor, context: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logdet = x.new_zeros(x.shape[0])
        for layer in self.layers:
            x, ld = layer(x, context)
            logdet = logdet + ld
        return x, logdet

    def inverse(self, z: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        for layer in reversed(self.layers):
            z = layer.inverse(z, context)
        return z

    def log_prob(self, x: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        """Exact log-density of each row of ``x`` (in the flow's input space)."""
        z, logdet = self(x, context)
        return -0.5 * (z**2).sum(dim=1) - 0.5 * self.dim * math.log(2 * math.pi) + logdet
