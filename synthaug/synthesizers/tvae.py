"""Conditional tabular variational autoencoder (TVAE family).

Encoder and decoder MLPs over the transformer's encoding; Gaussian likelihood with a
learnt scale on the scalar (``tanh``) features, cross-entropy on one-hot spans, and a
KL term. A condition vector (the one-hot of one of the row's own discrete values) is
fed to encoder and decoder, so ``sample(n, conditions=...)`` is exact, as in CTGAN.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from ..nn import LearntScale, SpanActivation, SpanLikelihood, build, relu_mlp
from ..training import VAEConfig, train_conditional_vae
from ..training.optim import make_adam
from .base import BaseSynthesizer, check_layer_widths, check_positive_floats, check_positive_ints
from .conditioning import ConditionalDecoding, ConditionLayout

_INITIAL_LOG_SCALE = float(np.log(0.1))


class EncoderNet(nn.Module):
    """Maps ``[row, condition]`` to the mean and log-variance of the latent posterior."""

    def __init__(self, in_dim: int, hidden: Sequence[int], latent_dim: int) -> None:
        super().__init__()
        self.body, width = relu_mlp(in_dim, tuple(hidden))
        self.mean = nn.Linear(width, latent_dim)
        self.logvar = nn.Linear(width, latent_dim)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.body(x)
        return self.mean(h), self.logvar(h)


class DecoderNet(nn.Module):
    """Maps ``[latent, condition]`` to raw encoded rows and the log-scale of scalar features."""

    def __init__(self, in_dim: int, hidden: Sequence[int], out_dim: int, n_scalars: int) -> None:
        super().__init__()
        self.body, width = relu_mlp(in_dim, tuple(hidden))
        self.out = nn.Linear(width, out_dim)
        self.log_scale = LearntScale(n_scalars)

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.out(self.body(z)), self.log_scale(z)


class TVAESynthesizer(ConditionalDecoding, BaseSynthesizer):
    """Conditional VAE for mixed-type tables.

    Parameters:
        epochs: passes over the data.
        batch_size: rows per step.
        embedding_dim: size of the latent space.
        compress_dims / decompress_dims: hidden widths of encoder / decoder.
        learning_rate, l2scale: Adam step size and weight decay.
        loss_factor: weight of the reconstruction term against the KL term.
        max_modes: most Gaussian-mixture modes per numeric column.
        schema: a :class:`~synthaug.schema.TableSchema` to use instead of inferring one
            (under DP, columns with ``public=True`` have public domains).
        dp: a :class:`~synthaug.privacy.DPConfig` to train with differential privacy: encoder
            and decoder by DP-SGD (flat clipping over both), the representation from private
            statistics; ``None`` trains without privacy.
        device: ``"auto"`` (CUDA when present), ``"cpu"`` or ``"cuda"``.
        verbose: show a progress bar with the losses.
        random_state: seed; fit and sample are reproducible and global RNGs are untouched.

    Sampling draws scalar features from the learnt Gaussian and categories from the
    decoder's softmax (not its argmax), so rare categories keep their frequency.
    """

    model_name = "tvae"
    network_attributes = ("encoder_net_", "decoder_net_")

    def __init__(
        self,
        *,
        epochs: int = 300,
        batch_size: int = 500,
        embedding_dim: int = 128,
        compress_dims: Sequence[int] = (128, 128),
        decompress_dims: Sequence[int] = (128, 128),
        learning_rate: float = 1e-3,
        l2scale: float = 1e-5,
        loss_factor: float = 2.0,
        max_modes: int = 10,
        schema: Any = None,
        dp: Any = None,
        device: str = "auto",
        verbose: bool = False,
        random_state: int | np.random.RandomState | None = None,
    ) -> None:
        self.epochs = epochs
        self.batch_size = batch_size
        self.embedding_dim = embedding_dim
        self.compress_dims = compress_dims
        self.decompress_dims = decompress_dims
        self.learning_rate = learning_rate
        self.l2scale = l2scale
        self.loss_factor = loss_factor
        self.max_modes = max_modes
        self.schema = schema
        self.dp = dp
        self.device = device
        self.verbose = verbose
        self.random_state = random_state

    def _check_params(self) -> None:
        check_positive_ints(self, ("epochs", "batch_size", "embedding_dim", "max_modes"))
        check_layer_widths(self, ("compress_dims", "decompress_dims"))
        check_positive_floats(self, ("learning_rate", "loss_factor"))
        if not self.l2scale >= 0:
            raise ValueError(f"l2scale must be >= 0, got {self.l2scale!r}")

    # ------------------------------------------------------------------ networks
    def _layout(self) -> None:
        self.layout_ = ConditionLayout(self.transformer_, self.device_)
        self._activation = SpanActivation(self.transformer_.spans_).to(self.device_)
        self._likelihood = SpanLikelihood(self.transformer_.spans_).to(self.device_)

    def _build_networks(self, generator: torch.Generator) -> None:
        data_dim, cond_dim = self.transformer_.output_dim_, self.layout_.dim
        n_scalars = self._likelihood.n_tanh
        self.encoder_net_ = build(
            lambda: EncoderNet(data_dim + cond_dim, self.compress_dims, self.embedding_dim), self.device_, generator
        )
        self.decoder_net_ = build(
            lambda: DecoderNet(self.embedding_dim + cond_dim, self.decompress_dims, data_dim, n_scalars), self.device_, generator
        )
        with torch.no_grad():
            self.decoder_net_.log_scale.proj.weight.fill_(_INITIAL_LOG_SCALE)

    # ------------------------------------------------------------------ fit
    def _fit_encoded(self, data: np.ndarray, rng: np.random.RandomState, private: Any = None) -> dict[str, Any] | None:
        generator = self._init_networks(rng)
        codes = self.layout_.codes(data)
        self.conditions_ = self.layout_.sampler(codes, private)
        config = VAEConfig(
            epochs=self.epochs,
            batch_size=self.batch_size,
            learning_rate=self.learning_rate,
            weight_decay=self.l2scale,
            loss_factor=self.loss_factor,
        )
        trainer = None
        if private is not None:
            trainer = private.trainer(
                [self.encoder_net_, self.decoder_net_],
                lambda params: make_adam(params, lr=self.learning_rate, weight_decay=self.l2scale),
                batch_size=self.batch_size,
                epochs=self.epochs,
            )
        self.history_ = train_conditional_vae(
            self.encoder_net_,
            self.decoder_net_,
            self._likelihood,
            torch.as_tensor(data, dtype=torch.float32, device=self.device_),
            torch.as_tensor(codes, device=self.device_),
            self.conditions_,
            config,
            generator,
            private=trainer,
            verbose=self.verbose,
        )
        self._eval()
        if trainer is None:
            return None
        trainer.close()
        return private.ledger(trainer, ["encoder network", "decoder network"])

    # ------------------------------------------------------------------ sample
    def _eval(self) -> None:
        self.encoder_net_.eval()
        self.decoder_net_.eval()

    def _generate(self, cond: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        z = torch.randn((cond.shape[0], self.embedding_dim), generator=generator, device=self.device_)
        raw, log_scale = self.decoder_net_(torch.cat([z, cond], dim=1))
        out = self._activation(raw, generator)
        idx = self._activation.tanh_idx
        if idx.numel():
            noise = torch.randn((raw.shape[0], idx.numel()), generator=generator, device=self.device_)
            values = out[:, idx] + self._likelihood.scale(log_scale) * noise
            out[:, idx] = values.clamp(-1.0, 1.0)
        return out


__all__ = ["TVAESynthesizer", "EncoderNet", "DecoderNet"]
