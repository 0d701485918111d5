"""The class-conditional image GAN's step, for the training runner.

The image likelihood models (VAE, flow) need no step of their own: they hand their per-image
losses to the runner (:func:`~synthaug.training.runner.likelihood_step`).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from typing import Any

import torch
from torch import nn

from .adversarial import generator_update, logistic_critic_losses

LabelSampler = Callable[[int, torch.Generator], torch.Tensor]


def ema_update(average: nn.Module, live: nn.Module, decay: float, step: int) -> None:
    """Move ``average``'s weights towards ``live``'s; the decay warms up as ``(1+t)/(10+t)`` so short runs average little."""
    decay = min(decay, (1.0 + step) / (10.0 + step))
    with torch.no_grad():
        for a, p in zip(average.parameters(), live.parameters(), strict=True):
            a.lerp_(p, 1.0 - decay)
        for a, b in zip(average.buffers(), live.buffers(), strict=True):
            a.copy_(b)


def image_gan_step(
    synthesis_net: nn.Module,
    critic_net: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    sample_labels: LabelSampler,
    *,
    latent_dim: int,
    generator_optimizer: torch.optim.Optimizer,
    critic: Any,
    generator: torch.Generator,
    average_net: nn.Module | None = None,
    ema_decay: float = 0.999,
) -> Callable[[torch.Tensor], dict[str, torch.Tensor]]:
    """One critic step, then one synthesis step, on a batch of image indices.

    ``critic`` is the critic's optimiser (non-private: hinge loss, the critic spectrally
    normalised by the caller, fakes for the batch's own labels) or a
    :class:`~synthaug.privacy.training.PrivateTraining` (DP-SGD on per-image logistic losses of
    the Poisson batch and a fake batch of the expected size whose labels follow the privately
    released class frequencies; the synthesis net's step runs with Opacus's hooks paused, it
    never sees a real image). ``average_net`` tracks an exponential moving average of the
    synthesis net's weights (used for sampling).
    """
    private = not isinstance(critic, torch.optim.Optimizer)
    fake_size = max(1, critic.expected_batch_size) if private else 0
    steps_taken = [0]

    def step(rows: torch.Tensor) -> dict[str, torch.Tensor]:
        real, real_labels = images[rows], labels[rows]
        fake_labels = sample_labels(fake_size, generator) if private else real_labels
        if fake_labels.shape[0] == 0:
            fake_labels = sample_labels(1, generator)
        z = torch.randn((fake_labels.shape[0], latent_dim), generator=generator, device=images.device)
        fake = synthesis_net(z, fake_labels)
        if private:
            scores = critic_net(torch.cat([fake.detach(), real]), torch.cat([fake_labels, real_labels]))
            per_image = logistic_critic_losses(scores, fake_labels.shape[0])
            critic.backward_and_step(per_image)
            loss_d = per_image.detach().mean()
        else:
            loss_d = _hinge_critic_loss(critic_net, fake.detach(), fake_labels, real, real_labels)
            generator_update(critic, loss_d)
        critic_net.requires_grad_(False)
        with critic.paused() if private else nullcontext():  # forward AND backward without Opacus's hooks
            scores = critic_net(fake, fake_labels)
            loss_g = nn.functional.softplus(-scores).mean() if private else -scores.mean()
            generator_update(generator_optimizer, loss_g)
        critic_net.requires_grad_(True)
        if average_net is not None:
            ema_update(average_net, synthesis_net, ema_decay, steps_taken[0])
        steps_taken[0] += 1
        return {"critic_loss": loss_d.detach(), "generator_loss": loss_g.detach()}

    return step


def _hinge_critic_loss(
    critic: nn.Module, fake: torch.Tensor, fake_labels: torch.Tensor, real: torch.Tensor, real_labels: torch.Tensor
) -> torch.Tensor:
    return nn.functional.relu(1.0 - critic(real, real_labels)).mean() + nn.functional.relu(1.0 + critic(fake, fake_labels)).mean()


__all__ = ["LabelSampler", "ema_update", "image_gan_step"]
