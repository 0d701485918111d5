"""Steps of the conditional tabular GANs (WGAN-GP with PacGAN packing; a DP-SGD critic), for the training runner."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from torch import nn

from ..nn.heads import SpanActivation, segment_log_softmax
from .conditional import ConditionSampler

if TYPE_CHECKING:
    from ..privacy.training import PrivateTraining


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


@dataclass(frozen=True)
class GANSettings:
    """What a conditional GAN step needs besides its networks (the model's own parameters)."""

    batch_size: int
    embedding_dim: int
    discriminator_steps: int
    generator_optimizer: torch.optim.Optimizer
    pac: int = 1
    gp_weight: float = 10.0


def wgan_step(
    synthesis_net: nn.Module,
    critic_net: nn.Module,
    activation: SpanActivation,
    data: torch.Tensor,
    conditions: ConditionSampler,
    head: ConditionHead,
    settings: GANSettings,
    critic_optimizer: torch.optim.Optimizer,
    generator: torch.Generator,
) -> Callable[[None], dict[str, torch.Tensor]]:
    """One conditional WGAN-GP step (for :class:`~synthaug.training.runner.TrainingRunner` with
    :class:`~synthaug.training.runner.FixedSteps`: the step draws its own rows).

    Conditions come by training-by-sampling with matching real rows; the critic takes
    ``discriminator_steps`` updates (Wasserstein loss plus gradient penalty), then the synthesis
    net one (adversarial loss against the updated critic plus the condition cross-entropy) on
    the last critic step's fake batch.
    """
    bs, pac, emb, device = settings.batch_size, settings.pac, settings.embedding_dim, data.device

    def packed(x: torch.Tensor) -> torch.Tensor:
        return x.reshape(x.shape[0] // pac, -1)

    def critic_update(last: bool) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        cond, rows = conditions.sample_train(bs, generator)
        z = torch.randn((bs, emb), generator=generator, device=device)
        if last:  # the last critic step's fake batch also serves the synthesis-net step (one forward pass)
            raw = synthesis_net(torch.cat([z, cond], dim=1))
            fake_rows = activation(raw, generator)
            fake = torch.cat([fake_rows.detach(), cond], dim=1)
        else:
            raw = fake_rows = None
            with torch.no_grad():
                fake = torch.cat([activation(synthesis_net(torch.cat([z, cond], dim=1)), generator), cond], dim=1)
        real = torch.cat([data[rows], cond], dim=1)
        scores = critic_net(packed(torch.cat([fake, real], dim=0)))  # packs never mix: bs % pac == 0
        loss_d = scores[: bs // pac].mean() - scores[bs // pac :].mean()
        penalty = gradient_penalty(critic_net, real, fake, pac, generator)
        critic_optimizer.zero_grad(set_to_none=True)
        (loss_d + settings.gp_weight * penalty).backward()
        critic_optimizer.step()
        return loss_d, raw, fake_rows, cond

    def step(_: None) -> dict[str, torch.Tensor]:
        for d_step in range(settings.discriminator_steps):
            loss_d, raw, fake_rows, cond = critic_update(d_step == settings.discriminator_steps - 1)
        critic_net.requires_grad_(False)
        loss_g = -critic_net(packed(torch.cat([fake_rows, cond], dim=1))).mean() + head.loss(raw, cond)
        generator_update(settings.generator_optimizer, loss_g)
        critic_net.requires_grad_(True)
        return {"critic_loss": loss_d, "generator_loss": loss_g}

    return step


def generator_update(optimizer: torch.optim.Optimizer, loss: torch.Tensor) -> None:
    """One plain optimiser step of the synthesis net on ``loss``."""
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()


def logistic_critic_losses(scores: torch.Tensor, n_fake: int) -> torch.Tensor:
    """Per-sample logistic critic losses from ONE critic forward over fake-then-real samples.

    Every sample, fake or real, has its own term (``softplus(D(fake))`` or ``softplus(-D(real))``),
    so DP-SGD clips each sample's gradient and sums fake and real together: the fake samples'
    gradients are never dropped. No gradient penalty (its double backward cannot be privatised),
    hence the logistic loss.
    """
    scores = scores.reshape(-1)
    return torch.cat([nn.functional.softplus(scores[:n_fake]), nn.functional.softplus(-scores[n_fake:])])


def private_gan_step(
    synthesis_net: nn.Module,
    critic_net: nn.Module,
    activation: SpanActivation,
    data: torch.Tensor,
    codes: torch.Tensor,
    conditions: ConditionSampler,
    head: ConditionHead,
    settings: GANSettings,
    generator: torch.Generator,
    private: PrivateTraining,
) -> Callable[[torch.Tensor], dict[str, torch.Tensor]]:
    """One step of a conditional GAN with a differentially private critic (DP-SGD through Opacus).

    The batch is a Poisson sample of real rows, each with the condition of one of its own
    discrete values; the fake batch has the expected batch size (its size reveals nothing) and
    conditions from the privately released category frequencies. Critic: one forward and
    clipped backward over the per-row losses of fake and real rows together
    (:func:`logistic_critic_losses`), one private step. Every ``discriminator_steps`` critic steps
    the synthesis net takes a non-saturating step on the last fake batch (it never sees real
    rows). No packing.
    """
    fake_size = max(1, private.expected_batch_size)
    device, counter = data.device, [0]

    def step(rows: torch.Tensor) -> dict[str, torch.Tensor]:
        real = torch.cat([data[rows], conditions.own_conditions(codes[rows], generator)], dim=1)
        cond = conditions.sample_original(fake_size, generator)
        z = torch.randn((fake_size, settings.embedding_dim), generator=generator, device=device)
        raw = synthesis_net(torch.cat([z, cond], dim=1))
        fake_rows = activation(raw, generator)
        scores = critic_net(torch.cat([torch.cat([fake_rows.detach(), cond], dim=1), real], dim=0))
        per_row = logistic_critic_losses(scores, fake_size)
        private.backward_and_step(per_row)
        counter[0] += 1
        losses = {"critic_loss": per_row.detach().mean()}
        if counter[0] % settings.discriminator_steps == 0:
            critic_net.requires_grad_(False)
            with private.paused():
                scores = critic_net(torch.cat([fake_rows, cond], dim=1))
                loss_g = nn.functional.softplus(-scores).mean() + head.loss(raw, cond)
                generator_update(settings.generator_optimizer, loss_g)
            critic_net.requires_grad_(True)
            losses["generator_loss"] = loss_g.detach()
        return losses

    return step
