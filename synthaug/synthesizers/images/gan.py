"""Class-conditional convolutional GAN for images (DCGAN family, spectral norm, hinge loss)."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import torch
from torch import nn

from ...nn import build
from ...nn.conv import ImageCriticNet, ImageDecoderNet
from ...training.images import ImageGANConfig, train_image_gan
from ..base import check_positive_ints
from .base import BaseImageSynthesizer, check_image_params


def apply_spectral_norm(module: nn.Module, generator: torch.Generator, power_iterations: int = 5) -> None:
    """Spectrally normalise every conv and linear layer of ``module`` (not embeddings).

    torch draws the power-iteration vectors from the global RNG; that draw runs inside
    ``fork_rng`` (the global state is restored) and the vectors are then re-drawn from
    ``generator`` so the result depends on the seed only.
    """
    layers = [m for m in module.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    devices = sorted({layer.weight.device.index or 0 for layer in layers if layer.weight.is_cuda})
    with torch.random.fork_rng(devices=devices):
        for layer in layers:
            nn.utils.parametrizations.spectral_norm(layer)
    with torch.no_grad():
        for layer in layers:
            sn = layer.parametrizations.weight[0]
            for name in ("_u", "_v"):
                buffer = getattr(sn, name)
                draw = torch.randn(buffer.shape, generator=generator, device=buffer.device, dtype=buffer.dtype)
                buffer.copy_(nn.functional.normalize(draw, dim=0, eps=sn.eps))
            sn._power_method(layer.parametrizations.weight.original.flatten(1), power_iterations)


class ImageGANSynthesizer(BaseImageSynthesizer):
    """Class-conditional GAN for small images (8x8 to 64x64, grey or RGB).

    Synthesis net: latent + one-hot class -> linear -> [upsample, conv3x3, GroupNorm, ReLU]
    per stage -> conv3x3 -> tanh. Critic: conv stem -> [conv3x3, LeakyReLU, conv4x4/2] per
    stage -> linear score + class projection (projection discriminator), spectrally
    normalised, hinge loss. Samples come from an exponential moving average of the synthesis
    net's weights (``ema_decay``), which removes most of the step-to-step jitter of GANs.

    Under ``dp`` only the critic reads real images; it is trained by DP-SGD with a logistic
    loss and without spectral norm (Opacus clips per-image gradients of plain layers; spectral
    norm's power iteration is a cross-step state it cannot account for). The synthesis net
    never sees a real image, so it is released by post-processing.

    Parameters:
        epochs, batch_size: passes over the images and images per step.
        latent_dim: size of the noise vector.
        base_channels: channels at full resolution (doubling per down-sampling, capped at 256).
        learning_rate: Adam step size of both nets (betas ``(0, 0.9)``; ``(0.5, 0.999)`` under DP).
        ema_decay: decay of the moving average of the synthesis net used for sampling.
        pixel_range: ``(low, high)`` of pixel values; default 0..255 for uint8, else the data's
            range (must be declared under DP for non-uint8 images).
        dp: a :class:`~synthaug.privacy.DPConfig`, or None to train without privacy.
        device: ``"auto"``, ``"cpu"`` or ``"cuda"``.
        verbose: show a progress bar.
        random_state: seed; fit and sample are reproducible and global RNGs are untouched.
    """

    model_name = "image_gan"
    network_attributes = ("synthesis_net_", "critic_net_")
    private_network_names = ["critic network"]

    def __init__(
        self,
        *,
        epochs: int = 100,
        batch_size: int = 64,
        latent_dim: int = 64,
        base_channels: int = 32,
        learning_rate: float = 2e-4,
        ema_decay: float = 0.999,
        pixel_range: tuple[float, float] | None = None,
        dp: Any = None,
        device: str = "auto",
        verbose: bool = False,
        random_state: int | np.random.RandomState | None = None,
    ) -> None:
        self.epochs = epochs
        self.batch_size = batch_size
        self.latent_dim = latent_dim
        self.base_channels = base_channels
        self.learning_rate = learning_rate
        self.ema_decay = ema_decay
        self.pixel_range = pixel_range
        self.dp = dp
        self.device = device
        self.verbose = verbose
        self.random_state = random_state

    def _check_params(self) -> None:
        check_image_params(self)
        check_positive_ints(self, ("latent_dim", "base_channels"))
        if not 0.0 <= self.ema_decay < 1.0:
            raise ValueError(f"ema_decay must be in [0, 1), got {self.ema_decay!r}")

    def _build_networks(self, generator: torch.Generator) -> None:
        size, channels = self.scaler_.padded_, self.scaler_.channels_
        args = (self.n_classes_, channels, size, self.stages_, self.base_channels)
        self.synthesis_net_ = build(lambda: ImageDecoderNet(self.latent_dim, *args), self.device_, generator)
        self.critic_net_ = build(lambda: ImageCriticNet(*args), self.device_, generator)
        if self.dp is None:
            apply_spectral_norm(self.critic_net_, generator)

    def _private_modules(self) -> list[nn.Module]:
        return [self.critic_net_]

    def _private_learning_rate(self) -> float:
        return float(self.learning_rate)

    def _private_betas(self) -> tuple[float, float]:
        return (0.5, 0.999)

    def _train(self, images: torch.Tensor, labels: torch.Tensor, generator: torch.Generator, private: Any) -> list[dict]:
        config = ImageGANConfig(
            epochs=self.epochs,
            batch_size=self.batch_size,
            latent_dim=self.latent_dim,
            generator_lr=self.learning_rate,
            critic_lr=self.learning_rate,
            betas=(0.0, 0.9) if private is None else (0.5, 0.999),
            ema_decay=self.ema_decay,
        )
        average = copy.deepcopy(self.synthesis_net_)
        history = train_image_gan(
            self.synthesis_net_,
            self.critic_net_,
            images,
            labels,
            self.label_sampler,
            config,
            generator,
            average_net=average,
            private=private,
            verbose=self.verbose,
        )
        self.synthesis_net_ = average.eval()
        self.critic_net_.eval()
        return history

    def _generate(self, labels: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        z = torch.randn((labels.shape[0], self.latent_dim), generator=generator, device=self.device_)
        return self.synthesis_net_(z, labels)


__all__ = ["ImageGANSynthesizer", "apply_spectral_norm"]
