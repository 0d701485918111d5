"""Training loops of the image synthesizers, as functions.

Both loops draw batches of image indices either in a fresh random order per epoch or, with
``private`` (a :class:`~synthaug.privacy.PrivateTraining`), by Poisson sampling with DP-SGD
steps over the per-image losses, exactly as the tabular loops do.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from tqdm.auto import tqdm

from .likelihood import PlainStep, ShuffledBatches
from .optim import make_adam

LabelSampler = Callable[[int, torch.Generator], torch.Tensor]


@dataclass(frozen=True)
class ImageGANConfig:
    """Hyper-parameters of :func:`train_image_gan`."""

    epochs: int
    batch_size: int
    latent_dim: int
    generator_lr: float = 2e-4
    critic_lr: float = 2e-4
    betas: tuple[float, float] = (0.0, 0.9)
    ema_decay: float = 0.999


def _ema_update(average: nn.Module, live: nn.Module, decay: float, step: int) -> None:
    """Move ``average``'s weights towards ``live``'s; the decay warms up as ``(1+t)/(10+t)`` so short runs average little."""
    decay = min(decay, (1.0 + step) / (10.0 + step))
    with torch.no_grad():
        for a, p in zip(average.parameters(), live.parameters(), strict=True):
            a.lerp_(p, 1.0 - decay)
        for a, b in zip(average.buffers(), live.buffers(), strict=True):
            a.copy_(b)


def train_image_gan(
    synthesis_net: nn.Module,
    critic_net: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    sample_labels: LabelSampler,
    config: ImageGANConfig,
    generator: torch.Generator,
    *,
    average_net: nn.Module | None = None,
    private: Any = None,
    verbose: bool = False,
) -> list[dict]:
    """Class-conditional GAN training; one critic step, then one synthesis step, per batch.

    Without ``private``: hinge loss (the critic is spectrally normalised by the caller), fake
    images drawn for the batch's own labels. With ``private``: the critic is trained by DP-SGD on
    per-image logistic losses of a Poisson batch of real images and a fixed-size fake batch (the
    expected batch size; labels from ``sample_labels``, i.e. the privately released class
    frequencies), both in one forward so every image's gradient is clipped; the synthesis net
    takes a non-saturating step through the critic with Opacus's hooks paused (it never sees a
    real image). ``average_net``, when given, tracks an exponential moving average of the
    synthesis net's weights (used for sampling). Returns per-epoch mean losses.
    """
    device = images.device
    opt_g = make_adam(synthesis_net.parameters(), lr=config.generator_lr, betas=config.betas)
    if private is None:
        opt_d = make_adam(critic_net.parameters(), lr=config.critic_lr, betas=config.betas)
        batches: Any = ShuffledBatches(images.shape[0], config.batch_size, generator, device)
    else:
        batches = private
        fake_size = max(1, private.expected_batch_size)
    history: list[dict] = []
    total_steps = 0
    synthesis_net.train()
    critic_net.train()
    bar = tqdm(
        range(config.epochs), desc="ImageGAN" + (" (DP)" if private else ""), unit="epoch", disable=not verbose, leave=False
    )
    for epoch in bar:
        started = time.perf_counter()
        sum_d = torch.zeros((), device=device)
        sum_g = torch.zeros((), device=device)
        steps = 0
        for rows in batches.epoch_batches():
            rows = rows.to(device)
            real, real_labels = images[rows], labels[rows]
            fake_labels = real_labels if private is None else sample_labels(fake_size, generator)
            if fake_labels.shape[0] == 0:
                fake_labels = sample_labels(1, generator)
            z = torch.randn((fake_labels.shape[0], config.latent_dim), generator=generator, device=device)
            fake = synthesis_net(z, fake_labels)
            if private is None:
                loss_d = _hinge_critic_loss(critic_net, fake.detach(), fake_labels, real, real_labels)
                opt_d.zero_grad(set_to_none=True)
                loss_d.backward()
                opt_d.step()
                critic_net.requires_grad_(False)
                loss_g = -critic_net(fake, fake_labels).mean()
                opt_g.zero_grad(set_to_none=True)
                loss_g.backward()
            else:
                per_image = _logistic_critic_losses(critic_net, fake.detach(), fake_labels, real, real_labels)
                private.backward_and_step(per_image)
                loss_d = per_image.detach().mean()
                critic_net.requires_grad_(False)
                with private.paused():  # forward AND backward without Opacus's per-image hooks
                    loss_g = nn.functional.softplus(-critic_net(fake, fake_labels)).mean()
                    opt_g.zero_grad(set_to_none=True)
                    loss_g.backward()
            opt_g.step()
            critic_net.requires_grad_(True)
            if average_net is not None:
                _ema_update(average_net, synthesis_net, config.ema_decay, total_steps)
            total_steps += 1
            sum_d += loss_d.detach()
            sum_g += loss_g.detach()
            steps += 1
        record = {
            "epoch": epoch + 1,
            "critic_loss": float(sum_d) / max(steps, 1),
            "generator_loss": float(sum_g) / max(steps, 1),
            "seconds": time.perf_counter() - started,
        }
        history.append(record)
        if verbose:
            bar.set_postfix(critic=f"{record['critic_loss']:.3f}", gen=f"{record['generator_loss']:.3f}")
    bar.close()
    return history


def _hinge_critic_loss(
    critic: nn.Module, fake: torch.Tensor, fake_labels: torch.Tensor, real: torch.Tensor, real_labels: torch.Tensor
) -> torch.Tensor:
    return nn.functional.relu(1.0 - critic(real, real_labels)).mean() + nn.functional.relu(1.0 + critic(fake, fake_labels)).mean()


def _logistic_critic_losses(
    critic: nn.Module, fake: torch.Tensor, fake_labels: torch.Tensor, real: torch.Tensor, real_labels: torch.Tensor
) -> torch.Tensor:
    """Per-image logistic losses of fake then real images from ONE critic forward (each image's
    gradient is clipped on its own; no gradient penalty, whose double backward DP-SGD cannot clip)."""
    scores = critic(torch.cat([fake, real]), torch.cat([fake_labels, real_labels]))
    n_fake = fake.shape[0]
    return torch.cat([nn.functional.softplus(scores[:n_fake]), nn.functional.softplus(-scores[n_fake:])])


@dataclass(frozen=True)
class ImageLikelihoodConfig:
    """Hyper-parameters of :func:`train_image_likelihood`."""

    epochs: int
    batch_size: int
    learning_rate: float = 1e-3
    weight_decay: float = 0.0
    max_grad_norm: float | None = None  # batch gradient clipping without DP


def train_image_likelihood(
    per_image_losses: Callable[[torch.Tensor], dict[str, torch.Tensor]],
    modules: Sequence[nn.Module],
    n_images: int,
    config: ImageLikelihoodConfig,
    generator: torch.Generator,
    device: torch.device,
    *,
    private: Any = None,
    verbose: bool = False,
    desc: str = "training",
) -> list[dict]:
    """Minimise ``per_image_losses(rows)["loss"]`` (one value per image of the batch ``rows``).

    Other entries of the returned dict are logged as per-epoch means. With ``private`` the
    steps are DP-SGD steps over the per-image losses (their per-image clipping replaces
    ``max_grad_norm``).
    """
    if private is None:
        params = [p for m in modules for p in m.parameters()]
        optimizer = make_adam(params, lr=config.learning_rate, weight_decay=config.weight_decay)
        clip = (params, config.max_grad_norm) if config.max_grad_norm else None
        stepper: Any = PlainStep(optimizer, clip)
        batches: Any = ShuffledBatches(n_images, config.batch_size, generator, device)
    else:
        stepper = batches = private
    for module in modules:
        module.train()
    history: list[dict] = []
    bar = tqdm(range(config.epochs), desc=desc + (" (DP)" if private else ""), unit="epoch", disable=not verbose, leave=False)
    for epoch in bar:
        started = time.perf_counter()
        totals: dict[str, torch.Tensor] = {}
        seen = 0
        for rows in batches.epoch_batches():
            rows = rows.to(device)
            losses = per_image_losses(rows)
            stepper.backward_and_step(losses["loss"])
            seen += rows.shape[0]
            for key, value in losses.items():
                totals[key] = totals.get(key, torch.zeros((), device=device)) + value.detach().sum()
        record: dict[str, Any] = {"epoch": epoch + 1}
        record.update({key: float(value) / max(seen, 1) for key, value in totals.items()})
        record["seconds"] = time.perf_counter() - started
        history.append(record)
        if verbose:
            bar.set_postfix({k: f"{v:.3f}" for k, v in record.items() if k not in ("epoch", "seconds")})
    bar.close()
    for module in modules:
        module.eval()
    return history


__all__ = ["ImageGANConfig", "ImageLikelihoodConfig", "train_image_gan", "train_image_likelihood"]
