"""Parts of a mixed-type tabular diffusion model: noise schedule, token layout, denoiser network.

Numeric features diffuse with Gaussian noise on a cosine schedule in continuous time
``t`` in [0, 1]: ``x_t = sqrt(a(t)) x_0 + sqrt(1 - a(t)) eps``. Discrete features (categories,
missing-value indicators) diffuse by masking (absorbing state): at time ``t`` each token is
replaced by its column's mask token with probability ``t``. One network sees the noisy numeric
features, the (partly masked) tokens and ``t``, and predicts the numeric velocity
``v = sqrt(a) eps - sqrt(1 - a) x_0`` and the logits of every masked token's category.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

_SHIFT = 0.008  # cosine-schedule offset (Nichol & Dhariwal), keeps a(0) just below 1
_ALPHA_FLOOR = 1e-6
_TIME_SCALE = 1000.0  # sinusoidal features of t * 1000, as for integer timesteps


def alpha_bar(t: torch.Tensor) -> torch.Tensor:
    """Signal share ``a(t)`` of the cosine schedule: ``a(0) ~ 1``, ``a(1) ~ 0``."""
    f = torch.cos((t + _SHIFT) / (1 + _SHIFT) * (math.pi / 2)) ** 2
    f0 = math.cos(_SHIFT / (1 + _SHIFT) * (math.pi / 2)) ** 2
    return (f / f0).clamp(_ALPHA_FLOOR, 1.0 - _ALPHA_FLOOR)


def time_features(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal features of ``t`` (any shape), shape ``(*t.shape, dim)``; no parameters."""
    half = dim // 2
    freqs = torch.exp(-math.log(10_000.0) * torch.arange(half, device=t.device, dtype=t.dtype) / half)
    angles = (t * _TIME_SCALE).unsqueeze(-1) * freqs
    return torch.cat([torch.sin(angles), torch.cos(angles)], dim=-1)


class TokenLayout:
    """Index tensors of the discrete features: ``levels[j]`` categories per column, plus one
    mask token per column (token ``levels[j]``), all handled at once for every column."""

    def __init__(self, levels: Sequence[int], device: torch.device) -> None:
        self.levels = torch.as_tensor(list(levels), dtype=torch.long, device=device)
        self.n_columns = len(levels)
        self.mask_ids = self.levels.clone()
        width = int(self.levels.max()) if self.n_columns else 1
        logit_offsets = torch.cumsum(self.levels, 0) - self.levels
        slot = torch.arange(width, device=device)
        self.valid = slot.unsqueeze(0) < self.levels.unsqueeze(1)  # (columns, width)
        self.pad_index = torch.where(self.valid, logit_offsets.unsqueeze(1) + slot, 0)
        self.token_offsets = torch.cumsum(self.levels + 1, 0) - (self.levels + 1)
        self.token_dim = int((self.levels + 1).sum())
        self.logit_dim = int(self.levels.sum())

    def one_hot(self, tokens: torch.Tensor, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        """One-hot of every column's token (masks included), shape ``(*tokens.shape[:-1], token_dim)``."""
        out = torch.zeros((*tokens.shape[:-1], self.token_dim), device=tokens.device, dtype=dtype)
        return out.scatter_(-1, self.token_offsets + tokens, 1.0)

    def log_probs(self, logits: torch.Tensor) -> torch.Tensor:
        """Per-column log-softmax of flat ``logits``, padded: shape ``(..., columns, width)``."""
        padded = logits[..., self.pad_index].masked_fill(~self.valid, float("-inf"))
        return torch.log_softmax(padded, dim=-1)

    def draw(self, logits: torch.Tensor, rows: torch.Tensor, columns: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """One category for each ``(rows[i], columns[i])`` from the softmax of that column's block of
        ``logits`` (batch, logit_dim), by inverse-CDF sampling: only the tokens asked for are drawn."""
        if rows.numel() == 0:
            return torch.zeros(0, dtype=torch.long, device=logits.device)
        picked = logits[rows.unsqueeze(1), self.pad_index[columns]].masked_fill(~self.valid[columns], float("-inf"))
        cdf = torch.cumsum(torch.softmax(picked.double(), dim=-1), dim=-1)
        u = torch.rand((rows.numel(), 1), generator=generator, device=logits.device, dtype=cdf.dtype)
        return torch.minimum((u > cdf).sum(-1), self.levels[columns] - 1)


class TabularDenoiser(nn.Module):
    """MLP denoiser: ``[noisy numeric, token one-hots] -> Linear`` plus an MLP embedding of ``t``,
    then ``SiLU -> [Linear -> SiLU] * (len(hidden) - 1) -> Linear`` to ``[v (numeric), logits]``.

    Only ``nn.Linear`` layers hold parameters, and every one acts on the last dimension, so
    inputs may carry extra dimensions after the row (several noise draws per row): Opacus
    then still computes one gradient per row.
    """

    def __init__(self, n_numeric: int, token_dim: int, logit_dim: int, hidden: Sequence[int], time_dim: int = 64) -> None:
        super().__init__()
        widths = tuple(int(w) for w in hidden)
        self.time_dim = time_dim
        self.n_numeric = n_numeric
        self.time_mlp = nn.Sequential(nn.Linear(time_dim, widths[0]), nn.SiLU(), nn.Linear(widths[0], widths[0]))
        self.proj = nn.Linear(n_numeric + token_dim, widths[0])
        layers: list[nn.Module] = [nn.SiLU()]
        for previous, width in zip(widths[:-1], widths[1:], strict=True):
            layers += [nn.Linear(previous, width), nn.SiLU()]
        self.body = nn.Sequential(*layers)
        self.out = nn.Linear(widths[-1], n_numeric + logit_dim)

    def forward(self, numeric: torch.Tensor, tokens: torch.Tensor, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``numeric`` (..., n_numeric), ``tokens`` one-hots (..., token_dim), ``t`` (...,), or ``(1,)``
        for one time shared by all rows -> (velocity (..., n_numeric), logits (..., logit_dim))."""
        return self._head(self.proj(torch.cat([numeric, tokens], dim=-1)), t)

    def forward_indexed(
        self, numeric: torch.Tensor, token_index: torch.Tensor, t: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """:meth:`forward` with tokens given as their one-hot positions ``(rows, columns)``
        (``layout.token_offsets + tokens``): the input layer gathers weight columns instead of
        multiplying by one-hots, the same result in fewer operations (used for sampling)."""
        weight = self.proj.weight
        token_rows = weight[:, self.n_numeric :].T.contiguous()  # (token_dim, width): one row per one-hot position
        tokens = F.embedding_bag(token_index, token_rows, mode="sum") if token_index.shape[-1] else 0.0
        h = numeric @ weight[:, : self.n_numeric].T + tokens + self.proj.bias
        return self._head(h, t)

    def hidden(self, h: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """The last hidden layer from the input layer's output ``h`` and the time ``t`` (what the
        output layer reads; a sampler that needs a few outputs multiplies by their rows only)."""
        return self.body(h + self.time_mlp(time_features(t, self.time_dim)))

    def _head(self, h: torch.Tensor, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.out(self.hidden(h, t))
        return out[..., : self.n_numeric], out[..., self.n_numeric :]


__all__ = ["TabularDenoiser", "TokenLayout", "alpha_bar", "time_features"]
