"""Per-row losses of the likelihood models (conditional VAE, conditional flow), for the training runner."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from ..nn.heads import SpanLikelihood
from .conditional import ConditionSampler
from .streaming import RowStore


def vae_loss(
    encoder: nn.Module,
    decoder: nn.Module,
    likelihood: SpanLikelihood,
    rows: torch.Tensor,
    cond: torch.Tensor,
    loss_factor: float,
    generator: torch.Generator,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-row reconstruction NLL and KL divergence of a conditional VAE."""
    mu, logvar = encoder(torch.cat([rows, cond], dim=1))
    eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
    z = mu + eps * torch.exp(0.5 * logvar)
    raw, log_scale = decoder(torch.cat([z, cond], dim=1))
    reconstruction = likelihood(raw, rows, log_scale)
    kl = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(dim=1)
    return loss_factor * reconstruction, kl


def vae_losses(
    encoder: nn.Module,
    decoder: nn.Module,
    likelihood: SpanLikelihood,
    store: RowStore,
    conditions: ConditionSampler,
    loss_factor: float,
    generator: torch.Generator,
) -> Callable[[torch.Tensor], dict[str, torch.Tensor]]:
    """Per-row losses of a conditional VAE on the encoded rows ``store["data"][rows]`` (their
    discrete slots in ``store["codes"]``).

    Each row's condition is the one-hot of one of its own discrete values, chosen at random,
    fed to both encoder and decoder; the loss is ``loss_factor * NLL + KL``.
    """

    def losses(rows: torch.Tensor) -> dict[str, torch.Tensor]:
        cond = conditions.own_conditions(store["codes"][rows], generator)
        rec, kl = vae_loss(encoder, decoder, likelihood, store["data"][rows], cond, loss_factor, generator)
        return {"loss": rec + kl, "reconstruction_loss": rec, "kl_loss": kl}

    return losses


def dequantize_batch(codes: torch.Tensor, bin_low: torch.Tensor, bin_width: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """Coordinates ``Phi^-1(low + u * width)`` of discrete levels (see DequantizedTransformer)."""
    dims = torch.arange(codes.shape[1], device=codes.device)
    p = bin_low[dims, codes] + u * bin_width[dims, codes]
    return torch.special.ndtri(p.clamp(1e-6, 1 - 1e-6))


def flow_losses(
    flow: nn.Module,
    store: RowStore,
    bin_low: torch.Tensor,
    bin_width: torch.Tensor,
    conditions: ConditionSampler,
    unconditional_share: float,
    generator: torch.Generator,
) -> Callable[[torch.Tensor], dict[str, torch.Tensor]]:
    """Per-row negative log-likelihood of a conditional flow on dequantised rows: numeric
    coordinates ``store["numeric"][rows]``, discrete levels ``store["codes"][rows]``.

    Each batch re-draws the dequantisation noise of the discrete levels. The context is the
    one-hot of one of the row's own discrete values, or all zeros for a share
    ``unconditional_share`` of rows, so one network serves unconditional sampling and density
    (zero context) and exact conditional sampling.
    """
    n_cond, device = conditions.n_discrete, bin_low.device

    def losses(rows: torch.Tensor) -> dict[str, torch.Tensor]:
        batch_codes, numeric = store["codes"][rows], store["numeric"][rows]
        u = torch.rand(batch_codes.shape, generator=generator, device=device, dtype=numeric.dtype)
        x = torch.cat([numeric, dequantize_batch(batch_codes, bin_low, bin_width, u)], dim=1)
        context = conditions.own_conditions(batch_codes[:, :n_cond], generator, dtype=numeric.dtype)
        keep = torch.rand(rows.shape[0], generator=generator, device=device) >= unconditional_share
        context = context * keep.unsqueeze(1).to(context.dtype)
        return {"loss": -flow.log_prob(x, context)}

    return losses
