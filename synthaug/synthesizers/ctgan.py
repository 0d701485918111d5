"""Conditional tabular GAN (CTGAN family).

Synthesis net with residual blocks; critic with PacGAN packing; WGAN-GP loss;
Gumbel-softmax for one-hot spans; a condition vector over the discrete columns
with training-by-sampling (log-frequency), so rare categories are learnt and
conditional sampling is native: the requested category is fed as the condition
and written into the output, so every row satisfies it with no rejection loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from ..nn import ResidualBlock, SpanActivation, build, leaky_mlp
from ..training import AdversarialConfig, ConditionSampler, train_conditional_wgan
from .base import BaseSynthesizer, check_layer_widths, check_positive_floats, check_positive_ints
from .conditioning import ConditionalDecoding, ConditionLayout


class SynthesisNet(nn.Module):
    """Maps ``[noise, condition]`` to raw (pre-activation) encoded rows through residual blocks."""

    def __init__(self, in_dim: int, hidden: Sequence[int], out_dim: int) -> None:
        super().__init__()
        blocks, dim = [], in_dim
        for width in hidden:
            blocks.append(ResidualBlock(dim, width))
            dim += width
        self.blocks = nn.Sequential(*blocks)
        self.out = nn.Linear(dim, out_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.blocks(x))


class CriticNet(nn.Module):
    """Scores packs of ``pac`` rows (each with its condition vector) as real or synthetic."""

    def __init__(self, row_dim: int, hidden: Sequence[int], pac: int, dropout: float = 0.5) -> None:
        super().__init__()
        self.pac = pac
        self.mlp = leaky_mlp(row_dim * pac, tuple(hidden), 1, dropout=dropout)

    def forward(self, packed: torch.Tensor) -> torch.Tensor:
        return self.mlp(packed)


class CTGANSynthesizer(ConditionalDecoding, BaseSynthesizer):
    """Conditional GAN for mixed-type tables.

    Parameters:
        epochs: passes over the data.
        batch_size: rows per step; must be a multiple of ``pac``.
        pac: rows the critic judges together (PacGAN), against mode collapse.
        embedding_dim: size of the noise vector.
        generator_dim / discriminator_dim: hidden widths of the synthesis net / critic.
        generator_lr / discriminator_lr, generator_decay / discriminator_decay: Adam settings.
        discriminator_steps: critic updates per synthesis-net update.
        gp_weight: weight of the gradient penalty.
        log_frequency: training-by-sampling draws categories by log-frequency.
        max_modes: most Gaussian-mixture modes per numeric column.
        schema: a :class:`~synthaug.schema.TableSchema` to use instead of inferring one.
        device: ``"auto"`` (CUDA when present), ``"cpu"`` or ``"cuda"``.
        verbose: show a progress bar with the losses.
        random_state: seed; fit and sample are reproducible and global RNGs are untouched.

    Attributes:
        transformer_, schema_, history_ (per-epoch losses), privacy_spent_.
    """

    model_name = "ctgan"
    network_attributes = ("synthesis_net_", "critic_net_")

    def __init__(
        self,
        *,
        epochs: int = 300,
        batch_size: int = 500,
        pac: int = 10,
        embedding_dim: int = 128,
        generator_dim: Sequence[int] = (256, 256),
        discriminator_dim: Sequence[int] = (256, 256),
        generator_lr: float = 2e-4,
        discriminator_lr: float = 2e-4,
        generator_decay: float = 1e-6,
        discriminator_decay: float = 1e-6,
        discriminator_steps: int = 1,
        gp_weight: float = 10.0,
        log_frequency: bool = True,
        max_modes: int = 10,
        schema: Any = None,
        device: str = "auto",
        verbose: bool = False,
        random_state: int | np.random.RandomState | None = None,
    ) -> None:
        self.epochs = epochs
        self.batch_size = batch_size
        self.pac = pac
        self.embedding_dim = embedding_dim
        self.generator_dim = generator_dim
        self.discriminator_dim = discriminator_dim
        self.generator_lr = generator_lr
        self.discriminator_lr = discriminator_lr
        self.generator_decay = generator_decay
        self.discriminator_decay = discriminator_decay
        self.discriminator_steps = discriminator_steps
        self.gp_weight = gp_weight
        self.log_frequency = log_frequency
        self.max_modes = max_modes
        self.schema = schema
        self.device = device
        self.verbose = verbose
        self.random_state = random_state

    # ------------------------------------------------------------------ validation
    def _check_params(self) -> None:
        check_positive_ints(self, ("epochs", "batch_size", "pac", "embedding_dim", "discriminator_steps", "max_modes"))
        check_layer_widths(self, ("generator_dim", "discriminator_dim"))
        check_positive_floats(self, ("generator_lr", "discriminator_lr"))
        if self.batch_size % self.pac != 0:
            raise ValueError(
                f"batch_size ({self.batch_size}) must be a multiple of pac ({self.pac}); "
                f"try batch_size={max(self.pac, self.batch_size // self.pac * self.pac)}"
            )

    # ------------------------------------------------------------------ layout
    def _layout(self) -> None:
        """Condition layout and output head, from the fitted transformer."""
        self.layout_ = ConditionLayout(self.transformer_, self.device_)
        self._activation = SpanActivation(self.transformer_.spans_).to(self.device_)

    def _build_networks(self, generator: torch.Generator) -> None:
        data_dim = self.transformer_.output_dim_
        in_dim = self.embedding_dim + self.layout_.dim
        self.synthesis_net_ = build(lambda: SynthesisNet(in_dim, self.generator_dim, data_dim), self.device_, generator)
        self.critic_net_ = build(
            lambda: CriticNet(data_dim + self.layout_.dim, self.discriminator_dim, self.pac), self.device_, generator
        )

    # ------------------------------------------------------------------ fit
    def _fit_encoded(self, data: np.ndarray, rng: np.random.RandomState) -> None:
        generator = self._init_networks(rng)
        self.conditions_ = ConditionSampler.from_codes(
            self.layout_.codes(data), self.layout_.slots, log_frequency=self.log_frequency, device=self.device_
        )
        tensor = torch.as_tensor(data, dtype=torch.float32, device=self.device_)
        config = AdversarialConfig(
            epochs=self.epochs,
            batch_size=self.batch_size,
            pac=self.pac,
            embedding_dim=self.embedding_dim,
            discriminator_steps=self.discriminator_steps,
            gp_weight=self.gp_weight,
            generator_lr=self.generator_lr,
            discriminator_lr=self.discriminator_lr,
            generator_decay=self.generator_decay,
            discriminator_decay=self.discriminator_decay,
        )
        self.history_ = train_conditional_wgan(
            self.synthesis_net_,
            self.critic_net_,
            self._activation,
            tensor,
            self.conditions_,
            self.layout_.head,
            config,
            generator,
            verbose=self.verbose,
        )
        self.synthesis_net_.eval()
        self.critic_net_.eval()

    # ------------------------------------------------------------------ sample
    def _eval(self) -> None:
        self.synthesis_net_.eval()

    def _generate(self, cond: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        z = torch.randn((cond.shape[0], self.embedding_dim), generator=generator, device=self.device_)
        return self._activation(self.synthesis_net_(torch.cat([z, cond], dim=1)), generator)


__all__ = ["CTGANSynthesizer", "SynthesisNet", "CriticNet"]
