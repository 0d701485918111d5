"""Adversarial training loop (conditional WGAN-GP with PacGAN packing), as a function."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

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
        record = {"epoch": epoch + 1, "critic_loss": float(sum_d) / steps, "generator_loss": float(sum_g) / steps}
        history.append(record)
        if verbose:
            bar.set_postfix(critic=f"{record['critic_loss']:.3f}", gen=f"{record['generator_loss']:.3f}")
        if on_epoch is not None:
            on_epoch(record)
    bar.close()
    return history
