"""Conditional tabular variational autoencoder (TVAE family).

Encoder and decoder MLPs over the transformer's encoding; Gaussian likelihood with a
learnt scale on the scalar (``tanh``) features, cross-entropy on one-hot spans, and a
KL term. A condition vector (the one-hot of one of the row's own discrete values) is
fed to encoder and decoder, so ``sample(n, conditions=...)`` is exact, as in CTGAN.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn

from ..nn import LearntScale, SpanActivation, SpanLikelihood, build, relu_mlp
from ..training import vae_losses
from ..training.streaming import RowStore
from .base import BaseSynthesizer
from .conditioning import ConditionalDecoding, ConditionLayout
from .core import NetworkTraining
from .params import LAYER_WIDTHS, NON_NEGATIVE, POSITIVE, POSITIVE_INT, param
from .streamed import RowChunks, StreamedFit

if TYPE_CHECKING:
    from ..privacy.plan import PrivateFit


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


class TVAESynthesizer(StreamedFit, ConditionalDecoding, NetworkTraining, BaseSynthesizer):
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
            (under DP, columns with ``public=True`` have public domains). Identifier columns
            (kind ``id``, declared or detected) are not modelled: see :mod:`synthaug.identifiers`.
        min_category_count, max_categories: without DP, text categories seen in fewer rows, or
            beyond that many most frequent, become ``"_RARE_"`` (:mod:`synthaug.rare_categories`).
        dp: a :class:`~synthaug.privacy.DPConfig` to train with differential privacy: encoder
            and decoder by DP-SGD (flat clipping over both), the representation from private
            statistics; ``None`` trains without privacy.
        device: ``"auto"`` (CUDA when present), ``"cpu"`` or ``"cuda"``.
        verbose: show a progress bar with the losses.
        callbacks: training callbacks (:mod:`synthaug.training.callbacks`: early stopping, logging, checkpoints).
        random_state: seed; fit and sample are reproducible and global RNGs are untouched.

    Sampling draws scalar features from the learnt Gaussian and categories from the
    decoder's softmax (not its argmax), so rare categories keep their frequency.
    """

    model_name = "tvae"
    data_parallel = True
    network_attributes = ("encoder_net_", "decoder_net_")

    embedding_dim: int = param(128, POSITIVE_INT)
    compress_dims: Sequence[int] = param((128, 128), LAYER_WIDTHS)
    decompress_dims: Sequence[int] = param((128, 128), LAYER_WIDTHS)
    learning_rate: float = param(1e-3, POSITIVE)
    l2scale: float = param(1e-5, NON_NEGATIVE)
    loss_factor: float = param(2.0, POSITIVE)
    max_modes: int = param(10, POSITIVE_INT)

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
    def _row_arrays(self, data: np.ndarray) -> dict[str, np.ndarray]:
        return {"data": data, "codes": self.layout_.codes(data)}

    def _fit_rows(
        self,
        rows: dict[str, np.ndarray],
        rng: np.random.RandomState,
        private: PrivateFit | None = None,
        chunks: RowChunks | None = None,
    ) -> dict[str, Any] | None:
        generator = self._init_networks(rng)
        self.conditions_ = self.layout_.sampler(rows["codes"], private)
        store = RowStore(**self._row_tensors(rows))
        losses = vae_losses(
            self.encoder_net_, self.decoder_net_, self._likelihood, store, self.conditions_, self.loss_factor, generator
        )
        modules = [self.encoder_net_, self.decoder_net_]
        self.history_, trainer = self._train_likelihood(
            losses, modules, store.n_rows, generator, private, desc="TVAE", log_loss_as=None,
            batches=self._row_batches(store, chunks, generator), lr=self.learning_rate, weight_decay=self.l2scale,
        )  # fmt: skip
        self._eval()
        return self._close_private(private, trainer, ["encoder network", "decoder network"])

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
