"""Class-conditional multiscale coupling flow for images (RealNVP family), exact log-likelihood.

Each scale squeezes ``(C, H, W)`` to ``(4C, H/2, W/2)``, applies affine couplings whose
fixed/free halves alternate between a checkerboard and a row split of the squeezed pixels,
then factors half of the channels out to the Gaussian prior (except at the last scale).
Coupling nets are small conv nets with GroupNorm that see the class as constant one-hot
planes; they start as the identity. No ActNorm or invertible 1x1 convolutions: their
bare parameters and data-dependent initialisation do not go through DP-SGD.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .conv import group_norm, label_planes


def squeezed_masks(channels: int) -> list[torch.Tensor]:
    """Boolean masks over the ``4 * channels`` squeezed channels: checkerboard, its complement,
    top row, its complement (``pixel_unshuffle`` puts offset ``(i, j)`` of channel ``c`` at ``4c + 2i + j``)."""
    index = torch.arange(4 * channels, device="cpu")  # real indices, even while building on meta
    i, j = (index % 4) // 2, index % 2
    checker, top = (i + j) % 2 == 0, i == 0
    return [checker, ~checker, top, ~top]


class ConvCoupling(nn.Module):
    """Affine coupling over channels: the ``fixed`` channels pass through; the others become
    ``x * exp(tanh(s)) + t`` with ``(s, t)`` from a conv net of the fixed channels and the class."""

    def __init__(self, channels: int, n_classes: int, hidden: int, mask: torch.Tensor) -> None:
        super().__init__()
        self.n_classes = n_classes
        fixed = torch.nonzero(mask).squeeze(1)
        free = torch.nonzero(~mask).squeeze(1)
        self.register_buffer("fixed_idx", fixed, persistent=False)
        self.register_buffer("free_idx", free, persistent=False)
        self.register_buffer("inverse_order", torch.argsort(torch.cat([fixed, free])), persistent=False)
        self._indices = (fixed, free)
        self.net = nn.Sequential(
            nn.Conv2d(len(fixed) + n_classes, hidden, 3, padding=1),
            group_norm(hidden),
            nn.ReLU(),
            nn.Conv2d(hidden, hidden, 1),
            group_norm(hidden),
            nn.ReLU(),
        )
        self.out = nn.Conv2d(hidden, 2 * len(free), 3, padding=1)

    def post_init(self) -> None:
        """Restore the index buffers (lost on the meta device) and zero the last layer (identity at start)."""
        fixed, free = (t.to(self.fixed_idx.device) for t in self._indices)
        self.fixed_idx, self.free_idx = fixed, free
        self.inverse_order = torch.argsort(torch.cat([fixed, free]))
        with torch.no_grad():
            self.out.weight.zero_()
            self.out.bias.zero_()

    def _shift_scale(self, fixed: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        planes = label_planes(labels, self.n_classes, fixed.shape[2], fixed.shape[3], fixed.dtype)
        s, t = self.out(self.net(torch.cat([fixed, planes], dim=1))).chunk(2, dim=1)
        return torch.tanh(s), t

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        fixed, free = x.index_select(1, self.fixed_idx), x.index_select(1, self.free_idx)
        s, t = self._shift_scale(fixed, labels)
        y = torch.cat([fixed, free * torch.exp(s) + t], dim=1).index_select(1, self.inverse_order)
        return y, s.flatten(1).sum(dim=1)

    def inverse(self, y: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        fixed, free = y.index_select(1, self.fixed_idx), y.index_select(1, self.free_idx)
        s, t = self._shift_scale(fixed, labels)
        return torch.cat([fixed, (free - t) * torch.exp(-s)], dim=1).index_select(1, self.inverse_order)


class ImageFlowNet(nn.Module):
    """Multiscale conditional flow mapping padded images to a standard normal vector."""

    def __init__(self, channels: int, n_classes: int, size: tuple[int, int], scales: int, steps: int, hidden: int) -> None:
        super().__init__()
        self.scales = nn.ModuleList()
        self.shapes: list[tuple[int, int, int]] = []  # shape after each scale's squeeze
        c, h, w = channels, size[0], size[1]
        for s in range(scales):
            c, h, w = 4 * c, h // 2, w // 2
            masks = squeezed_masks(c // 4)
            self.scales.append(nn.ModuleList(ConvCoupling(c, n_classes, hidden, masks[k % 4]) for k in range(steps)))
            self.shapes.append((c, h, w))
            if s < scales - 1:
                c -= c // 2
        self.dim = channels * size[0] * size[1]

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logdet = x.new_zeros(x.shape[0])
        factored = []
        last = len(self.scales) - 1
        for s, couplings in enumerate(self.scales):
            x = nn.functional.pixel_unshuffle(x, 2)
            for coupling in couplings:
                x, ld = coupling(x, labels)
                logdet = logdet + ld
            if s < last:
                k = x.shape[1] // 2
                factored.append(x[:, :k].flatten(1))
                x = x[:, k:]
        factored.append(x.flatten(1))
        return torch.cat(factored, dim=1), logdet

    def inverse(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        n = z.shape[0]
        pieces, offset = [], 0
        last = len(self.scales) - 1
        for s, (c, h, w) in enumerate(self.shapes):
            k = c // 2 if s < last else c
            pieces.append(z[:, offset : offset + k * h * w].view(n, k, h, w))
            offset += k * h * w
        x = pieces[-1]
        for s in reversed(range(len(self.scales))):
            if s < last:
                x = torch.cat([pieces[s], x], dim=1)
            for coupling in reversed(self.scales[s]):
                x = coupling.inverse(x, labels)
            x = nn.functional.pixel_shuffle(x, 2)
        return x

    def log_prob(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Exact log-density of each image (in the flow's input space)."""
        z, logdet = self(x, labels)
        return -0.5 * (z**2).sum(dim=1) - 0.5 * self.dim * math.log(2 * math.pi) + logdet


__all__ = ["ConvCoupling", "ImageFlowNet", "squeezed_masks"]
