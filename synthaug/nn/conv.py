"""Convolutional networks of the image synthesizers (class-conditional, GroupNorm, no BatchNorm).

Every network works on padded images ``(n, C, H, W)`` whose sides are multiples of
``2 ** stages``; labels are integer class codes. GroupNorm (never BatchNorm) keeps each
image's computation independent of the others in its batch, as DP-SGD requires.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def group_norm(channels: int) -> nn.GroupNorm:
    """GroupNorm with up to 8 groups that divide ``channels``."""
    groups = next(g for g in (8, 4, 2, 1) if channels % g == 0)
    return nn.GroupNorm(groups, channels)


def stage_widths(base: int, stages: int, cap: int = 256) -> list[int]:
    """Channel widths from the finest to the coarsest resolution: ``base``, doubling, capped."""
    return [min(base * 2**i, cap) for i in range(stages + 1)]


def one_hot(labels: torch.Tensor, n_classes: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    return nn.functional.one_hot(labels, n_classes).to(dtype)


def label_planes(labels: torch.Tensor, n_classes: int, height: int, width: int, dtype: torch.dtype) -> torch.Tensor:
    """One-hot labels broadcast to constant image planes ``(n, n_classes, H, W)``."""
    return one_hot(labels, n_classes, dtype)[:, :, None, None].expand(-1, -1, height, width)


class UpBlock(nn.Sequential):
    """Nearest-neighbour up-sampling then ``Conv3x3 -> GroupNorm -> ReLU`` (no transposed-conv checkerboards)."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__(
            nn.Upsample(scale_factor=2, mode="nearest"),
            nn.Conv2d(in_channels, out_channels, 3, padding=1),
            group_norm(out_channels),
            nn.ReLU(),
        )


class DownBlock(nn.Sequential):
    """``Conv3x3 -> [GroupNorm] -> LeakyReLU -> Conv4x4/2 -> LeakyReLU``: halves the resolution."""

    def __init__(self, in_channels: int, out_channels: int, norm: bool = True) -> None:
        layers: list[nn.Module] = [nn.Conv2d(in_channels, in_channels, 3, padding=1)]
        if norm:
            layers.append(group_norm(in_channels))
        layers += [nn.LeakyReLU(0.2), nn.Conv2d(in_channels, out_channels, 4, stride=2, padding=1), nn.LeakyReLU(0.2)]
        super().__init__(*layers)


class ImageDecoderNet(nn.Module):
    """Maps a latent vector and a class to an image in [-1, 1] (the GAN's synthesis net and the VAE's decoder)."""

    def __init__(self, latent_dim: int, n_classes: int, channels: int, size: tuple[int, int], stages: int, base: int) -> None:
        super().__init__()
        self.n_classes = n_classes
        widths = stage_widths(base, stages)
        self.h0, self.w0 = size[0] // 2**stages, size[1] // 2**stages
        self.c0 = widths[-1]
        self.project = nn.Sequential(nn.Linear(latent_dim + n_classes, self.c0 * self.h0 * self.w0), nn.ReLU())
        self.body = nn.Sequential(*[UpBlock(widths[i + 1], widths[i]) for i in reversed(range(stages))])
        self.out = nn.Conv2d(widths[0], channels, 3, padding=1)

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        h = self.project(torch.cat([z, one_hot(labels, self.n_classes, z.dtype)], dim=1))
        h = self.body(h.view(-1, self.c0, self.h0, self.w0))
        return torch.tanh(self.out(h))


class ImageCriticNet(nn.Module):
    """Scores images given their class: convolutional features, a linear score and a
    projection term ``<embed(label), features>`` (projection discriminator)."""

    def __init__(self, n_classes: int, channels: int, size: tuple[int, int], stages: int, base: int, norm: bool = False) -> None:
        super().__init__()
        widths = stage_widths(base, stages)
        self.stem = nn.Sequential(nn.Conv2d(channels, widths[0], 3, padding=1), nn.LeakyReLU(0.2))
        self.body = nn.Sequential(*[DownBlock(widths[i], widths[i + 1], norm) for i in range(stages)])
        features = widths[-1] * (size[0] // 2**stages) * (size[1] // 2**stages)
        self.score = nn.Linear(features, 1)
        self.embed = nn.Embedding(n_classes, features)

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        h = self.body(self.stem(x)).flatten(1)
        return self.score(h).squeeze(1) + (self.embed(labels) * h).sum(dim=1) / math.sqrt(h.shape[1])


class ImageEncoderNet(nn.Module):
    """Maps an image and its class to the mean and log-variance of the VAE's latent posterior."""

    def __init__(self, latent_dim: int, n_classes: int, channels: int, size: tuple[int, int], stages: int, base: int) -> None:
        super().__init__()
        self.n_classes = n_classes
        widths = stage_widths(base, stages)
        self.stem = nn.Sequential(nn.Conv2d(channels + n_classes, widths[0], 3, padding=1), nn.LeakyReLU(0.2))
        self.body = nn.Sequential(*[DownBlock(widths[i], widths[i + 1]) for i in range(stages)])
        features = widths[-1] * (size[0] // 2**stages) * (size[1] // 2**stages)
        self.mean = nn.Linear(features, latent_dim)
        self.logvar = nn.Linear(features, latent_dim)

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        planes = label_planes(labels, self.n_classes, x.shape[2], x.shape[3], x.dtype)
        h = self.body(self.stem(torch.cat([x, planes], dim=1))).flatten(1)
        return self.mean(h), self.logvar(h)


__all__ = [
    "DownBlock",
    "ImageCriticNet",
    "ImageDecoderNet",
    "ImageEncoderNet",
    "UpBlock",
    "group_norm",
    "label_planes",
    "one_hot",
    "stage_widths",
]
