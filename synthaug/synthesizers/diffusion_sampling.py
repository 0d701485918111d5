"""The reverse process of the tabular diffusion model, in ``steps`` steps of continuous time.

Numeric features follow DDIM from ``t = 1`` to ``0`` on a uniform grid (``eta = 0``:
deterministic given the start noise; ``eta = 1``: ancestral, DDPM-like); discrete tokens start
masked and each masked token is revealed between ``t`` and ``s < t`` with probability
``(t - s) / t``, its category drawn from the predicted softmax. Tokens of conditioned columns
are set from the start and never change, so every row holds the requested values exactly.
With ``guidance > 0`` and conditions, predictions are pushed away from the unconditional
ones (classifier-free guidance): ``out = cond + guidance * (cond - uncond)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..nn.diffusion import TokenLayout, alpha_bar

QUANTILE_NORMAL_BOUND = 5.2  # sklearn's normal-output QuantileTransformer clips near +-5.2


@dataclass
class ReverseProcess:
    """Draws rows (quantile-normal numeric features, category levels) from a trained denoiser."""

    denoiser: nn.Module
    layout: TokenLayout
    n_numeric: int
    steps: int
    eta: float = 0.0
    guidance: float = 0.0

    def _predict(
        self, numeric: torch.Tensor, tokens: torch.Tensor, fixed: torch.Tensor, t: float
    ) -> tuple[torch.Tensor, torch.Tensor]:
        time = torch.full((1,), t, device=numeric.device, dtype=numeric.dtype)  # one time for all rows: embedded once
        velocity, logits = self.denoiser.forward_indexed(numeric, self.layout.token_offsets + tokens, time)
        if self.guidance == 0.0 or not bool(fixed.any()):
            return velocity, logits
        free = torch.where(fixed, self.layout.mask_ids, tokens)
        plain_velocity, plain_logits = self.denoiser.forward_indexed(numeric, self.layout.token_offsets + free, time)
        w = self.guidance
        return velocity + w * (velocity - plain_velocity), logits + w * (logits - plain_logits)

    def _numeric_step(
        self, x: torch.Tensor, velocity: torch.Tensor, t: float, s: float, generator: torch.Generator
    ) -> torch.Tensor:
        a_t = alpha_bar(torch.tensor(t, dtype=torch.float64)).item()
        x0 = (a_t**0.5 * x - (1 - a_t) ** 0.5 * velocity).clamp(-QUANTILE_NORMAL_BOUND, QUANTILE_NORMAL_BOUND)
        if s <= 0.0:
            return x0
        a_s = alpha_bar(torch.tensor(s, dtype=torch.float64)).item()
        eps = (x - a_t**0.5 * x0) / (1 - a_t) ** 0.5
        sigma = self.eta * ((1 - a_s) / (1 - a_t) * (1 - a_t / a_s)) ** 0.5
        x = a_s**0.5 * x0 + max(1 - a_s - sigma**2, 0.0) ** 0.5 * eps
        if sigma > 0.0:
            x = x + sigma * torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
        return x

    def _token_step(
        self, tokens: torch.Tensor, logits: torch.Tensor, t: float, s: float, generator: torch.Generator
    ) -> torch.Tensor:
        masked = tokens == self.layout.mask_ids
        reveal = torch.rand(tokens.shape, generator=generator, device=tokens.device) < (t - s) / t
        rows, columns = torch.nonzero(masked & reveal, as_tuple=True)
        tokens[rows, columns] = self.layout.draw(logits, rows, columns, generator)
        return tokens

    @torch.no_grad()
    def run(
        self, n_rows: int, fixed_codes: dict[int, torch.Tensor], generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``n_rows`` rows; ``fixed_codes`` maps a token column to its per-row level (conditions)."""
        device = self.layout.levels.device
        x = torch.randn((n_rows, self.n_numeric), generator=generator, device=device)
        tokens = self.layout.mask_ids.expand(n_rows, -1).clone()
        fixed = torch.zeros_like(tokens, dtype=torch.bool)
        for column, codes in fixed_codes.items():
            tokens[:, column] = codes
            fixed[:, column] = True
        grid = torch.linspace(1.0, 0.0, self.steps + 1, dtype=torch.float64).tolist()
        for t, s in zip(grid[:-1], grid[1:], strict=True):
            velocity, logits = self._predict(x, tokens, fixed, t)
            x = self._numeric_step(x, velocity, t, s, generator)
            tokens = self._token_step(tokens, logits, t, s, generator)
        return x, tokens


__all__ = ["QUANTILE_NORMAL_BOUND", "ReverseProcess"]
