"""Adversarial training loop (conditional WGAN-GP with PacGAN packing), as a function."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from itertools import chain
from typing import Any

import torch
from torch import nn
from tqdm.auto import tqdm

from ..nn.heads import SpanActivation, segment_log_softmax
from .conditional import ConditionSampler
from .optim import make_adam


@dataclass(frozen=True)
class AdversarialConfig:
    """Hyper-parameters of :func:`train_conditional_wgan`."""

    epochs: int
    batch_size: int
    pac: int
    embedding_dim: int
    discriminator_steps: int = 1
    gp_weight: float = 10.0
    generator_lr: float = 2e-4
    discriminator_lr: float = 2e-4
    generator_decay: float = 1e-6
    discriminator_decay: float = 1e-6
    betas: tuple[float, float] = (0.5, 0.9)


@dataclass
class ConditionHead:
    """Where the condition vector's slots sit in the network output, for the condition loss."""

    feature_idx: torch.Tensor  # output feature of every condition slot
    segments: torch.Tensor  # discrete column of every condition slot
    n_segments: int

    def loss(self, raw: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        """Cross-entropy of the generated categories against the requested ones."""
        if self.n_segments == 0:
            return raw.new_zeros(())
        logp = segment_log_softmax(raw[:, self.feature_idx], self.segments, self.n_segments)
        return -(cond * logp).sum(dim=1).mean()


def gradient_penalty(
    critic: nn.Module, real: torch.Tensor, fake: torch.Tensor, pac: int, generator: torch.Generator
) -> torch.Tensor:
    """WGAN-GP penalty on packed interpolates between real and fake rows."""
    groups = real.shape[0] // pac
    alpha = torch.rand((groups, 1, 1), generator=generator, device=real.device, dtype=real.dtype)
    alpha = alpha.expand(groups, pac, real.shape[1]).reshape(-1, real.shape[1])
    mixed = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    score = critic(mixed.reshape(groups, -1))
    (grad,) = torch.autograd.grad(score.sum(), mixed, create_graph=True)
    norms = grad.reshape(groups, -1).norm(2, dim=1)
    return ((norms - 1.0) ** 2).mean()


def train_conditional_wgan(
    synthesis_net: nn.Module,
    critic_net: nn.Module,
    activation: SpanActivation,
    data: torch.Tensor,
    conditions: ConditionSampler,
    head: ConditionHead,
    config: AdversarialConfig,
    generator: torch.Generator,
    *,
    verbose: bool = False,
    on_epoch: Callable[[dict], None] | None = None,
) -> list[dict]:
    """Train ``synthesis_net`` against ``critic_net`` on ``data`` (encoded rows).

    Each step draws conditions by training-by-sampling with matching real rows,
    updates the critic ``discriminator_steps`` times (Wasserstein loss plus a
    gradient penalty), then the synthesis net (adversarial loss against the
    updated critic plus the condition cross-entropy) on the last critic step's
    fake batch. Returns the per-epoch mean losses.
    """
    device = data.device
    n_rows = data.shape[0]
    bs, pac, emb = config.batch_size, config.pac, config.embedding_dim
    opt_g = make_adam(synthesis_net.parameters(), lr=config.generator_lr, betas=config.betas, weight_decay=config.generator_decay)
    opt_d = make_adam(
        critic_net.parameters(), lr=config.discriminator_lr, betas=config.betas, weight_decay=config.discriminator_decay
    )
    steps = max(1, n_rows // bs)
    history: list[dict] = []
    synthesis_net.train()
    critic_net.train()
    bar = tqdm(range(config.epochs), desc="CTGAN", unit="epoch", disable=not verbose, leave=False)

    def packed(x: torch.Tensor) -> torch.Tensor:
        return x.reshape(x.shape[0] // pac, -1)

    for epoch in bar:
        started = time.perf_counter()
        sum_d = torch.zeros((), device=device)
        sum_g = torch.zeros((), device=device)
        for _ in range(steps):
            for d_step in range(config.discriminator_steps):
                cond, rows = conditions.sample_train(bs, generator)
                z = torch.randn((bs, emb), generator=generator, device=device)
                if d_step == config.discriminator_steps - 1:
                    # the last critic step's fake batch also serves the synthesis-net step
                    # (one forward pass instead of two, as in PyTorch's DCGAN example)
                    raw = synthesis_net(torch.cat([z, cond], dim=1))
                    fake_rows = activation(raw, generator)
                    fake = torch.cat([fake_rows.detach(), cond], dim=1)
                else:
                    with torch.no_grad():
                        fake = torch.cat([activation(synthesis_net(torch.cat([z, cond], dim=1)), generator), cond], dim=1)
                real = torch.cat([data[rows], cond], dim=1)
                # one critic pass over fake and real packs together (packs never mix: bs % pac == 0)
                scores = critic_net(packed(torch.cat([fake, real], dim=0)))
                loss_d = scores[: bs // pac].mean() - scores[bs // pac :].mean()
                penalty = gradient_penalty(critic_net, real, fake, pac, generator)
                opt_d.zero_grad(set_to_none=True)
                (loss_d + config.gp_weight * penalty).backward()
                opt_d.step()
            critic_net.requires_grad_(False)
            fake = torch.cat([fake_rows, cond], dim=1)
            loss_g = -critic_net(packed(fake)).mean() + head.loss(raw, cond)
            opt_g.zero_grad(set_to_none=True)
            loss_g.backward()
            opt_g.step()
            critic_net.requires_grad_(True)
            sum_d += loss_d.detach()
            sum_g += loss_g.detach()
        record = {
            "epoch": epoch + 1,
            "critic_loss": float(sum_d) / steps,
            "generator_loss": float(sum_g) / steps,
            "seconds": time.perf_counter() - started,
        }
        history.append(record)
        if verbose:
            bar.set_postfix(critic=f"{record['critic_loss']:.3f}", gen=f"{record['generator_loss']:.3f}")
        if on_epoch is not None:
            on_epoch(record)
    bar.close()
    return history


def private_critic_loss(critic: nn.Module, fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """Per-row logistic critic losses of fake and real rows, from ONE forward pass.

    Every row, fake or real, has its own term (``softplus(D(fake))`` or
    ``softplus(-D(real))``), so DP-SGD clips each row's gradient and sums fake and real
    together: the fake rows' gradients are never dropped. No gradient penalty (its double
    backward cannot be privatised), hence the logistic loss.
    """
    scores = critic(torch.cat([fake, real], dim=0)).squeeze(1)
    n_fake = fake.shape[0]
    return torch.cat([nn.functional.softplus(scores[:n_fake]), nn.functional.softplus(-scores[n_fake:])])


def train_private_gan(
    synthesis_net: nn.Module,
    critic_net: nn.Module,
    activation: SpanActivation,
    data: torch.Tensor,
    codes: torch.Tensor,
    conditions: ConditionSampler,
    head: ConditionHead,
    config: AdversarialConfig,
    generator: torch.Generator,
    private: Any,
    *,
    verbose: bool = False,
) -> list[dict]:
    """Conditional GAN training with a differentially private critic (DP-SGD through Opacus).

    Each critic step takes a Poisson-sampled batch of real rows (``private.epoch_batches``),
    each with the condition of one of its own discrete values read off the row itself, and
    a fixed-size fake batch (the expected batch size, so its size reveals nothing) whose
    conditions follow the privately released category frequencies. Critic: one forward and
    clipped backward over the per-row losses of fake and real rows together
    (:func:`private_critic_loss`), one private step. Every ``discriminator_steps`` critic steps the synthesis net takes a
    non-saturating step on the last fake batch (it never sees real rows). No packing.
    """
    device = data.device
    emb = config.embedding_dim
    fake_size = max(1, private.expected_batch_size)
    opt_g = make_adam(synthesis_net.parameters(), lr=config.generator_lr, betas=config.betas, weight_decay=config.generator_decay)
    history: list[dict] = []
    synthesis_net.train()
    critic_net.train()
    bar = tqdm(range(config.epochs), desc="CTGAN (DP)", unit="epoch", disable=not verbose, leave=False)
    for epoch in bar:
        started = time.perf_counter()
        sum_d = torch.zeros((), device=device)
        sum_g = torch.zeros((), device=device)
        n_d = n_g = 0
        # discriminator_steps passes of Poisson batches per epoch: one critic step per batch
        passes = chain.from_iterable(private.epoch_batches() for _ in range(config.discriminator_steps))
        for step, rows in enumerate(passes, start=1):
            rows = rows.to(device)
            real = torch.cat([data[rows], conditions.own_conditions(codes[rows], generator)], dim=1)
            cond = conditions.sample_original(fake_size, generator)
            z = torch.randn((fake_size, emb), generator=generator, device=device)
            raw = synthesis_net(torch.cat([z, cond], dim=1))
            fake_rows = activation(raw, generator)
            per_row = private_critic_loss(critic_net, torch.cat([fake_rows.detach(), cond], dim=1), real)
            private.backward_and_step(per_row)
            sum_d += per_row.detach().mean()
            n_d += 1
            if step % config.discriminator_steps == 0:
                critic_net.requires_grad_(False)
                with private.paused():
                    scores = critic_net(torch.cat([fake_rows, cond], dim=1))
                    loss_g = nn.functional.softplus(-scores).mean() + head.loss(raw, cond)
                    opt_g.zero_grad(set_to_none=True)
                    loss_g.backward()
                opt_g.step()
                critic_net.requires_grad_(True)
                sum_g += loss_g.detach()
                n_g += 1
        record = {
            "epoch": epoch + 1,
            "critic_loss": float(sum_d) / max(n_d, 1),
            "generator_loss": float(sum_g) / max(n_g, 1),
            "seconds": time.perf_counter() - started,
        }
        history.append(record)
        if verbose:
            bar.set_postfix(critic=f"{record['critic_loss']:.3f}", gen=f"{record['generator_loss']:.3f}")
    bar.close()
    return history
