"""Class-conditional multiscale coupling flow for images, with exact bits per dimension."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import torch
from sklearn.utils.validation import check_is_fitted

from ...exceptions import ConditionError
from ...nn import build
from ...nn.image_flows import ImageFlowNet
from ..core import torch_generator
from ..params import POSITIVE, POSITIVE_INT, param
from .base import BaseImageSynthesizer

if TYPE_CHECKING:
    from ...privacy.plan import PrivateFit
    from ...privacy.training import PrivateTraining


class ImageFlowSynthesizer(BaseImageSynthesizer):
    """RealNVP-style multiscale flow, class-conditional, for small images (8x8 to 64x64).

    Pixels are taken as ``levels_`` discrete levels (the integer values of integer images;
    256 levels for continuous ones), dequantised with uniform noise to ``y`` in [0, 1),
    mapped by ``logit(alpha + (1 - 2 alpha) y)`` and then by the flow
    (:class:`~synthaug.nn.image_flows.ImageFlowNet`: per scale a squeeze, ``steps`` affine
    couplings conditioned on the class, and half of the channels factored out) to a standard
    normal. The log-likelihood is exact; ``bits_per_dim(X, y)`` reports the discrete
    negative log-likelihood bound in bits per pixel value (per unpadded value), and ``history_`` records
    it per epoch. Sampling draws ``z ~ N(0, temperature^2)`` and inverts the flow.

    Under ``dp`` the whole flow is trained by DP-SGD.

    Parameters:
        epochs, batch_size: passes over the images and images per step.
        steps: affine couplings per scale.
        hidden_channels: width of the couplings' conv nets.
        learning_rate: Adam step size; gradients are clipped to norm ``max_grad_norm`` without DP.
        temperature: scale of the latent draws when sampling (below 1 trades variety for cleaner images).
        pixel_range, dp, device, verbose, callbacks, random_state: as for :class:`ImageGANSynthesizer`.
    """

    model_name = "image_flow"
    network_attributes = ("flow_net_",)
    private_network_names = ["flow network"]
    alpha = 0.05  # logit margin

    epochs: int = param(60, POSITIVE_INT)
    steps: int = param(4, POSITIVE_INT)
    hidden_channels: int = param(64, POSITIVE_INT)
    max_grad_norm: float = param(50.0, POSITIVE)
    temperature: float = param(1.0, POSITIVE)

    def _build_networks(self, generator: torch.Generator) -> None:
        s = self.scaler_
        self.flow_net_ = build(
            lambda: ImageFlowNet(s.channels_, self.n_classes_, s.padded_, self.stages_, self.steps, self.hidden_channels),
            self.device_,
            generator,
        )

    # ------------------------------------------------------------------ density
    def _levels(self, images: torch.Tensor) -> torch.Tensor:
        """Discrete level of every pixel of images in [-1, 1]."""
        top = self.scaler_.levels_ - 1
        return torch.round((images + 1.0) / 2.0 * top).clamp(0, top)

    def _log_prob_unit(self, y: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Log-density of dequantised images ``y`` in [0, 1) (through the logit map and the flow)."""
        a = self.alpha
        p = a + (1.0 - 2.0 * a) * y
        v = torch.log(p) - torch.log1p(-p)
        logdet = (math.log(1.0 - 2.0 * a) - torch.log(p) - torch.log1p(-p)).flatten(1).sum(1)
        return self.flow_net_.log_prob(v, labels) + logdet

    def _bits(self, log_prob: torch.Tensor, dims: int) -> torch.Tensor:
        """Bits per real pixel value: the discrete NLL bound of all ``dims`` modelled values (padding
        included: it is constant, so this also bounds the real pixels' NLL) over the unpadded values."""
        s = self.scaler_
        real = s.channels_ * s.height_ * s.width_
        return (-log_prob + dims * math.log(s.levels_)) / (real * math.log(2.0))

    def _train(
        self, images: torch.Tensor, labels: torch.Tensor, generator: torch.Generator, plan: PrivateFit | None
    ) -> tuple[list[dict[str, Any]], PrivateTraining | None]:
        levels = self._levels(images)
        dims = int(images[0].numel())
        n_levels = float(self.scaler_.levels_)

        def losses(rows: torch.Tensor) -> dict[str, torch.Tensor]:
            k = levels[rows]
            u = torch.rand(k.shape, generator=generator, device=k.device, dtype=k.dtype)
            log_prob = self._log_prob_unit((k + u) / n_levels, labels[rows])
            return {"loss": -log_prob, "bits_per_dim": self._bits(log_prob, dims)}

        return self._train_images(
            losses, [self.flow_net_], images.shape[0], generator, plan, desc="ImageFlow", max_grad_norm=self.max_grad_norm
        )

    def bits_per_dim(self, X: Any, y: Any = None, *, random_state: int = 0) -> float:
        """Mean negative log2-likelihood per pixel value of images ``X`` (with labels ``y``),
        a bound on the discrete likelihood with one uniform dequantisation draw per pixel."""
        check_is_fitted(self, "flow_net_")
        images = torch.as_tensor(self.scaler_.transform(X), device=self.device_)
        if self.has_labels_ and y is None:
            raise ConditionError("bits_per_dim needs the labels y of a flow fitted with labels")
        codes = (
            self._requested_codes(images.shape[0], y)
            if y is not None
            else torch.zeros(images.shape[0], dtype=torch.long, device=self.device_)
        )
        generator = torch_generator(random_state, self.device_)
        total = 0.0
        with torch.no_grad():
            for start in range(0, images.shape[0], self.sample_batch_size):
                k = self._levels(images[start : start + self.sample_batch_size])
                u = torch.rand(k.shape, generator=generator, device=k.device, dtype=k.dtype)
                log_prob = self._log_prob_unit((k + u) / self.scaler_.levels_, codes[start : start + self.sample_batch_size])
                total += float(self._bits(log_prob, int(k[0].numel())).sum())
        return total / images.shape[0]

    def _generate(self, labels: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        z = self.temperature * torch.randn((labels.shape[0], self.flow_net_.dim), generator=generator, device=self.device_)
        v = self.flow_net_.inverse(z, labels)
        y = ((torch.sigmoid(v) - self.alpha) / (1.0 - 2.0 * self.alpha)).clamp(0.0, 1.0 - 1e-6)
        k = torch.floor(y * self.scaler_.levels_)
        return 2.0 * k / (self.scaler_.levels_ - 1) - 1.0


__all__ = ["ImageFlowSynthesizer"]
