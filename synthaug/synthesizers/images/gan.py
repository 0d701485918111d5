"""Class-conditional convolutional GAN for images (DCGAN family, spectral norm, hinge loss)."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from ...exceptions import ParameterError
from ...nn import build
from ...nn.conv import ImageCriticNet, ImageDecoderNet
from ...training.callbacks import validation_fraction
from ...training.images import image_gan_step
from ...training.optim import make_adam
from ...training.runner import ShuffledBatches
from ..params import POSITIVE, POSITIVE_INT, UNIT_FROM_ZERO, param
from .base import BaseImageSynthesizer

if TYPE_CHECKING:
    from ...privacy.plan import PrivateFit
    from ...privacy.training import PrivateTraining


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
        callbacks: training callbacks (:mod:`synthaug.training.callbacks`: logging, checkpoints).
        random_state: seed; fit and sample are reproducible and global RNGs are untouched.
    """

    model_name = "image_gan"
    network_attributes = ("synthesis_net_", "critic_net_")
    private_network_names = ["critic network"]

    latent_dim: int = param(64, POSITIVE_INT)
    base_channels: int = param(32, POSITIVE_INT)
    learning_rate: float = param(2e-4, POSITIVE)
    ema_decay: float = param(0.999, UNIT_FROM_ZERO)

    def _build_networks(self, generator: torch.Generator) -> None:
        size, channels = self.scaler_.padded_, self.scaler_.channels_
        args = (self.n_classes_, channels, size, self.stages_, self.base_channels)
        self.synthesis_net_ = build(lambda: ImageDecoderNet(self.latent_dim, *args), self.device_, generator)
        self.critic_net_ = build(lambda: ImageCriticNet(*args), self.device_, generator)
        if self.dp is None:
            apply_spectral_norm(self.critic_net_, generator)

    def _check_model_params(self) -> None:
        if validation_fraction(self.callbacks):
            raise ParameterError("EarlyStopping needs a validation loss; a GAN has none (use image_vae or image_flow)")

    def _train(
        self, images: torch.Tensor, labels: torch.Tensor, generator: torch.Generator, plan: PrivateFit | None
    ) -> tuple[list[dict[str, Any]], PrivateTraining | None]:
        betas = (0.0, 0.9) if plan is None else (0.5, 0.999)
        adam = dict(lr=float(self.learning_rate), betas=betas)
        nets = [self.synthesis_net_, self.critic_net_]
        average = copy.deepcopy(self.synthesis_net_)
        if plan is None:
            critic: Any = make_adam(self.critic_net_.parameters(), **adam)
            batches: Any = ShuffledBatches(torch.arange(images.shape[0], device=self.device_), self.batch_size, generator)
        else:
            critic = batches = self._private_trainer(plan, [self.critic_net_], **adam)
        step = image_gan_step(
            *nets, images, labels, self.label_sampler, latent_dim=self.latent_dim,
            generator_optimizer=make_adam(self.synthesis_net_.parameters(), **adam), critic=critic,
            generator=generator, average_net=average, ema_decay=self.ema_decay,
        )  # fmt: skip
        history = self._runner(step, batches, nets, desc="ImageGAN", private=None if plan is None else critic)
        self.synthesis_net_ = average.eval()
        self.critic_net_.eval()
        return history, None if plan is None else critic

    def _generate(self, labels: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        z = torch.randn((labels.shape[0], self.latent_dim), generator=generator, device=self.device_)
        return self.synthesis_net_(z, labels)


__all__ = ["ImageGANSynthesizer", "apply_spectral_norm"]
