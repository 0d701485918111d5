"""Likelihood-based training loops (conditional VAE), as functions."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from tqdm.auto import tqdm

from ..nn.heads import SpanLikelihood
from .conditional import ConditionSampler
from .optim import make_adam


@dataclass(frozen=True)
class VAEConfig:
    """Hyper-parameters of :func:`train_conditional_vae`."""

    epochs: int
    batch_size: int
    learning_rate: float = 1e-3
    weight_decay: float = 1e-5
    loss_factor: float = 2.0


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


class ShuffledBatches:
    """Non-private batching: every row once per epoch, in a fresh random order."""

    def __init__(self, n_rows: int, batch_size: int, generator: torch.Generator, device: torch.device) -> None:
        self.n_rows, self.batch_size, self.generator, self.device = n_rows, batch_size, generator, device

    def epoch_batches(self) -> Iterator[torch.Tensor]:
        order = torch.randperm(self.n_rows, generator=self.generator, device=self.device)
        for start in range(0, self.n_rows, self.batch_size):
            yield order[start : start + self.batch_size]


class PlainStep:
    """Non-private optimiser step, optionally with gradient-norm clipping of the whole batch."""

    def __init__(self, optimizer: torch.optim.Optimizer, clip: tuple[list[nn.Parameter], float] | None = None) -> None:
        self.optimizer, self.clip = optimizer, clip

    def backward_and_step(self, per_row: torch.Tensor) -> None:
        """Step on the batch mean of the per-row losses."""
        self.optimizer.zero_grad(set_to_none=True)
        batch_mean(per_row).backward()
        if self.clip is not None:
            torch.nn.utils.clip_grad_norm_(*self.clip)
        self.optimizer.step()


def batch_mean(per_row: torch.Tensor) -> torch.Tensor:
    """Mean over a batch that may be empty."""
    return per_row.sum() / max(per_row.shape[0], 1)


def train_conditional_vae(
    encoder: nn.Module,
    decoder: nn.Module,
    likelihood: SpanLikelihood,
    data: torch.Tensor,
    codes: torch.Tensor,
    conditions: ConditionSampler,
    config: VAEConfig,
    generator: torch.Generator,
    *,
    private: Any = None,
    verbose: bool = False,
) -> list[dict]:
    """Train a conditional VAE on encoded rows ``data``.

    Rows are visited in a fresh random order each epoch (or, with ``private``, a
    :class:`~synthaug.privacy.PrivateTraining`, in Poisson-sampled batches with DP-SGD
    steps); each row's condition is the one-hot of one of its own discrete values, chosen
    at random, fed to both encoder and decoder. The loss is ``loss_factor * NLL + KL``.
    Returns per-epoch mean losses.
    """
    device = data.device
    n_rows = data.shape[0]
    if private is None:
        params = list(encoder.parameters()) + list(decoder.parameters())
        stepper: Any = PlainStep(make_adam(params, lr=config.learning_rate, weight_decay=config.weight_decay))
        batches: Any = ShuffledBatches(n_rows, config.batch_size, generator, device)
    else:
        stepper = batches = private
    history: list[dict] = []
    encoder.train()
    decoder.train()
    bar = tqdm(range(config.epochs), desc="TVAE" + (" (DP)" if private else ""), unit="epoch", disable=not verbose, leave=False)
    for epoch in bar:
        started = time.perf_counter()
        total_rec = torch.zeros((), device=device)
        total_kl = torch.zeros((), device=device)
        seen = 0
        for rows in batches.epoch_batches():
            rows = rows.to(device)
            cond = conditions.own_conditions(codes[rows], generator)
            rec, kl = vae_loss(encoder, decoder, likelihood, data[rows], cond, config.loss_factor, generator)
            stepper.backward_and_step(rec + kl)
            seen += rows.shape[0]
            total_rec += rec.detach().sum()
            total_kl += kl.detach().sum()
        seen = max(seen, 1)
        record = {
            "epoch": epoch + 1,
            "reconstruction_loss": float(total_rec) / seen,
            "kl_loss": float(total_kl) / seen,
            "seconds": time.perf_counter() - started,
        }
        history.append(record)
        if verbose:
            bar.set_postfix(rec=f"{record['reconstruction_loss']:.3f}", kl=f"{record['kl_loss']:.3f}")
    bar.close()
    return history


@dataclass(frozen=True)
class FlowConfig:
    """Hyper-parameters of :func:`train_conditional_flow`."""

    epochs: int
    batch_size: int
    learning_rate: float = 1e-3
    weight_decay: float = 0.0
    unconditional_share: float = 0.5
    max_grad_norm: float = 10.0


def dequantize_batch(codes: torch.Tensor, bin_low: torch.Tensor, bin_width: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """Coordinates ``Phi^-1(low + u * width)`` of discrete levels (see DequantizedTransformer)."""
    dims = torch.arange(codes.shape[1], device=codes.device)
    p = bin_low[dims, codes] + u * bin_width[dims, codes]
    return torch.special.ndtri(p.clamp(1e-6, 1 - 1e-6))


def train_conditional_flow(
    flow: nn.Module,
    numeric: torch.Tensor,
    codes: torch.Tensor,
    bin_low: torch.Tensor,
    bin_width: torch.Tensor,
    conditions: ConditionSampler,
    config: FlowConfig,
    generator: torch.Generator,
    *,
    private: Any = None,
    verbose: bool = False,
) -> list[dict]:
    """Maximum-likelihood training of a conditional flow on dequantised rows.

    Each batch re-draws the dequantisation noise of the discrete levels. The context is
    the one-hot of one of the row's own discrete values, or all zeros for a share
    ``unconditional_share`` of rows, so one network serves unconditional sampling and
    density (zero context) and exact conditional sampling. With ``private`` (a
    :class:`~synthaug.privacy.PrivateTraining`) batches are Poisson-sampled and steps are
    DP-SGD steps, whose per-row clipping replaces the batch gradient clipping.
    Returns per-epoch mean NLL.
    """
    device = numeric.device
    n_rows = numeric.shape[0]
    if private is None:
        optimizer = make_adam(flow.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
        stepper: Any = PlainStep(optimizer, (list(flow.parameters()), config.max_grad_norm))
        batches: Any = ShuffledBatches(n_rows, config.batch_size, generator, device)
    else:
        stepper = batches = private
    n_cond = conditions.n_discrete
    history: list[dict] = []
    flow.train()
    bar = tqdm(range(config.epochs), desc="Flow" + (" (DP)" if private else ""), unit="epoch", disable=not verbose, leave=False)
    for epoch in bar:
        started = time.perf_counter()
        total = torch.zeros((), device=device)
        seen = 0
        for rows in batches.epoch_batches():
            rows = rows.to(device)
            batch_codes = codes[rows]
            u = torch.rand(batch_codes.shape, generator=generator, device=device, dtype=numeric.dtype)
            x = torch.cat([numeric[rows], dequantize_batch(batch_codes, bin_low, bin_width, u)], dim=1)
            context = conditions.own_conditions(batch_codes[:, :n_cond], generator, dtype=numeric.dtype)
            keep = torch.rand(rows.shape[0], generator=generator, device=device) >= config.unconditional_share
            context = context * keep.unsqueeze(1).to(context.dtype)
            nll = -flow.log_prob(x, context)
            stepper.backward_and_step(nll)
            seen += rows.shape[0]
            total += nll.detach().sum()
        record = {"epoch": epoch + 1, "nll": float(total) / max(seen, 1), "seconds": time.perf_counter() - started}
        history.append(record)
        if verbose:
            bar.set_postfix(nll=f"{record['nll']:.3f}")
    bar.close()
    return history
