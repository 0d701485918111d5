"""Per-row training losses of the mixed-type tabular diffusion model, for the training runner.

Each row is seen with ``noise_draws`` independent (time, noise, mask) draws at once; its loss is
their mean, so a row still contributes one gradient (what DP-SGD clips) while the gradient's
variance falls. For a share ``1 - unconditional_share`` of rows one discrete column (among the
first ``n_conditional``, the conditionable ones) stays unmasked at every time: the model learns
the rest of the row given that value, which is how sampling conditions exactly, and the other
rows train the unconditional model.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from ..nn.diffusion import TokenLayout, alpha_bar

T_MIN = 1e-3  # smallest training time (the schedule is degenerate at 0)


def corrupt(
    numeric: torch.Tensor,
    codes: torch.Tensor,
    t: torch.Tensor,
    visible: torch.Tensor,
    layout: TokenLayout,
    generator: torch.Generator,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """The forward process at times ``t``: noisy numeric features, tokens (masked with probability
    ``t`` unless ``visible``), the velocity target and which tokens were masked."""
    a = alpha_bar(t).unsqueeze(-1)
    eps = torch.randn(numeric.shape, generator=generator, device=numeric.device, dtype=numeric.dtype)
    noisy = a.sqrt() * numeric + (1 - a).sqrt() * eps
    velocity = a.sqrt() * eps - (1 - a).sqrt() * numeric
    u = torch.rand(codes.shape, generator=generator, device=codes.device, dtype=t.dtype)
    masked = (u < t.unsqueeze(-1)) & ~visible
    tokens = torch.where(masked, layout.mask_ids, codes)
    return noisy, tokens, velocity, masked


def condition_visibility(
    n_rows: int, layout: TokenLayout, n_conditional: int, unconditional_share: float, generator: torch.Generator
) -> torch.Tensor:
    """``(n_rows, columns)`` booleans: the one conditioning column kept unmasked per conditioned row."""
    device = layout.levels.device
    visible = torch.zeros((n_rows, layout.n_columns), dtype=torch.bool, device=device)
    if n_conditional == 0 or n_rows == 0:
        return visible
    column = torch.randint(n_conditional, (n_rows,), generator=generator, device=device)
    conditioned = torch.rand(n_rows, generator=generator, device=device) >= unconditional_share
    visible[torch.arange(n_rows, device=device), column] = conditioned
    return visible


def diffusion_losses(
    denoiser: nn.Module,
    layout: TokenLayout,
    numeric: torch.Tensor,
    codes: torch.Tensor,
    *,
    n_conditional: int,
    unconditional_share: float,
    noise_draws: int,
    generator: torch.Generator,
) -> Callable[[torch.Tensor], dict[str, torch.Tensor]]:
    """Per-row losses on rows ``numeric[rows]`` (quantile-normal) and ``codes[rows]`` (levels):
    squared error of the predicted velocity (summed over numeric features) plus cross-entropy
    of every masked token, averaged over the draws and divided by the number of features."""
    n_features = max(numeric.shape[1] + layout.n_columns, 1)

    def losses(rows: torch.Tensor) -> dict[str, torch.Tensor]:
        shape = (rows.shape[0], noise_draws)
        x0 = numeric[rows].unsqueeze(1).expand(*shape, -1)
        c0 = codes[rows].unsqueeze(1).expand(*shape, -1)
        t = torch.rand(shape, generator=generator, device=numeric.device, dtype=numeric.dtype) * (1 - T_MIN) + T_MIN
        visible = condition_visibility(shape[0], layout, n_conditional, unconditional_share, generator).unsqueeze(1)
        noisy, tokens, velocity, masked = corrupt(x0, c0, t, visible, layout, generator)
        predicted, logits = denoiser(noisy, layout.one_hot(tokens, numeric.dtype), t)
        numeric_loss = (predicted - velocity).pow(2).sum(-1).mean(1)
        log_p = layout.log_probs(logits).gather(-1, c0.unsqueeze(-1)).squeeze(-1)
        categorical_loss = -(log_p * masked.to(log_p.dtype)).sum(-1).mean(1)
        return {
            "loss": (numeric_loss + categorical_loss) / n_features,
            "numeric_loss": numeric_loss,
            "categorical_loss": categorical_loss,
        }

    return losses


__all__ = ["T_MIN", "condition_visibility", "corrupt", "diffusion_losses"]
