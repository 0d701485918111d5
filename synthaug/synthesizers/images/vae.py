"""Class-conditional convolutional variational autoencoder for images."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn

from ...nn import LearntScale, build
from ...nn.conv import ImageDecoderNet, ImageEncoderNet
from ..params import POSITIVE, POSITIVE_INT, param
from .base import BaseImageSynthesizer

if TYPE_CHECKING:
    from ...privacy.plan import PrivateFit
    from ...privacy.training import PrivateTraining


_INITIAL_LOG_SCALE = float(np.log(0.2))


class ImageVAEDecoderNet(nn.Module):
    """The decoder: an :class:`ImageDecoderNet` for the mean image and a learnt global pixel log-scale."""

    def __init__(self, latent_dim: int, n_classes: int, channels: int, size: tuple[int, int], stages: int, base: int) -> None:
        super().__init__()
        self.body = ImageDecoderNet(latent_dim, n_classes, channels, size, stages, base)
        self.log_scale = LearntScale(1)

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.body(z, labels), self.log_scale(z)


class ImageVAESynthesizer(BaseImageSynthesizer):
    """Class-conditional convolutional VAE for small images (8x8 to 64x64, grey or RGB).

    Encoder: the image with its class as constant one-hot planes -> conv down-sampling stages
    (GroupNorm) -> mean and log-variance. Decoder: latent + one-hot class -> up-sampling
    stages -> tanh mean image, with a learnt Gaussian pixel scale. Loss per image: Gaussian
    negative log-likelihood of the pixels (in [-1, 1]) plus ``beta`` times the KL term.
    Sampling decodes ``z ~ N(0, temperature^2)`` to the decoder's mean image (pixel noise
    is not added: it only adds grain).

    Under ``dp`` encoder and decoder are trained together by DP-SGD (flat per-image
    clipping over both).

    Parameters:
        epochs, batch_size: passes over the images and images per step.
        latent_dim: size of the latent space.
        base_channels: channels at full resolution (doubling per down-sampling, capped at 256).
        learning_rate: Adam step size.
        beta: weight of the KL term.
        temperature: scale of the latent draws when sampling.
        pixel_range, dp, device, verbose, callbacks, random_state: as for :class:`ImageGANSynthesizer`.
    """

    model_name = "image_vae"
    network_attributes = ("encoder_net_", "decoder_net_")
    private_network_names = ["encoder network", "decoder network"]

    latent_dim: int = param(32, POSITIVE_INT)
    base_channels: int = param(32, POSITIVE_INT)
    beta: float = param(1.0, POSITIVE)
    temperature: float = param(1.0, POSITIVE)

    def _build_networks(self, generator: torch.Generator) -> None:
        args = (self.latent_dim, self.n_classes_, self.scaler_.channels_, self.scaler_.padded_, self.stages_, self.base_channels)
        self.encoder_net_ = build(lambda: ImageEncoderNet(*args), self.device_, generator)
        self.decoder_net_ = build(lambda: ImageVAEDecoderNet(*args), self.device_, generator)
        with torch.no_grad():
            self.decoder_net_.log_scale.proj.weight.fill_(_INITIAL_LOG_SCALE)

    def _train(
        self, images: torch.Tensor, labels: torch.Tensor, generator: torch.Generator, plan: PrivateFit | None
    ) -> tuple[list[dict[str, Any]], PrivateTraining | None]:
        dims = float(images[0].numel())

        def losses(rows: torch.Tensor) -> dict[str, torch.Tensor]:
            x, y = images[rows], labels[rows]
            mu, logvar = self.encoder_net_(x, y)
            eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
            mean, log_scale = self.decoder_net_(mu + eps * torch.exp(0.5 * logvar), y)
            log_scale = log_scale.clamp(min=-6.0)  # (n, 1): one scale for every pixel
            nll = (0.5 * ((x - mean) * torch.exp(-log_scale[:, :, None, None])) ** 2).flatten(1).sum(1) + dims * log_scale[:, 0]
            kl = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(dim=1)
            return {"loss": nll + self.beta * kl, "reconstruction_nll": nll, "kl": kl}

        modules = [self.encoder_net_, self.decoder_net_]
        return self._train_images(losses, modules, images.shape[0], generator, plan, desc="ImageVAE")

    def _generate(self, labels: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        z = self.temperature * torch.randn((labels.shape[0], self.latent_dim), generator=generator, device=self.device_)
        mean, _ = self.decoder_net_(z, labels)
        return mean


__all__ = ["ImageVAESynthesizer", "ImageVAEDecoderNet"]
