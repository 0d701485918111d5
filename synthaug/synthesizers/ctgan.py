"""Conditional tabular GAN (CTGAN family).

Synthesis net with residual blocks; critic with PacGAN packing; WGAN-GP loss;
Gumbel-softmax for one-hot spans; a condition vector over the discrete columns
with training-by-sampling (log-frequency), so rare categories are learnt and
conditional sampling is native: the requested category is fed as the condition
and written into the output, so every row satisfies it with no rejection loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn

from ..exceptions import ParameterError
from ..nn import ResidualBlock, SpanActivation, build, leaky_mlp
from ..privacy.config import check_dp
from ..training import FixedSteps, GANSettings, private_gan_step, wgan_step
from ..training.callbacks import validation_fraction
from ..training.optim import make_adam
from ..training.runner import private_passes
from .base import BaseSynthesizer
from .conditioning import ConditionalDecoding, ConditionLayout
from .core import NetworkTraining
from .params import LAYER_WIDTHS, NON_NEGATIVE, POSITIVE, POSITIVE_INT, param

if TYPE_CHECKING:
    from ..privacy.plan import PrivateFit


_BETAS = (0.5, 0.9)


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


class CTGANSynthesizer(ConditionalDecoding, NetworkTraining, BaseSynthesizer):
    """Conditional GAN for mixed-type tables.

    Parameters:
        epochs: passes over the data.
        batch_size: rows per step; must be a multiple of ``pac``. Under DP, the expected
            size of the Poisson-sampled batches.
        min_steps_per_epoch: on a table too small for this many batches of ``batch_size`` rows
            per epoch, batches shrink (to a multiple of ``pac``, at least ``10 * pac`` rows) so an epoch
            takes about this many steps: with 500-row batches a 1,000-row table would give the
            networks 2 steps per epoch. ``None``: ``batch_size`` as given (the CTGAN paper's
            setting, used by ``benchmarks/bench_ctgan.py``). Not applied under DP (the privacy
            plan sets the steps).
        pac: rows the critic judges together (PacGAN), against mode collapse; ``None``
            means 10, or 1 under DP (packing is not supported with DP).
        embedding_dim: size of the noise vector.
        generator_dim / discriminator_dim: hidden widths of the synthesis net / critic.
        generator_lr / discriminator_lr, generator_decay / discriminator_decay: Adam settings.
        discriminator_steps: critic updates per synthesis-net update.
        gp_weight: weight of the gradient penalty (not used under DP: the private critic
            has a logistic loss, as a penalty's double backward cannot be privatised).
        log_frequency: training-by-sampling draws categories by log-frequency.
        max_modes: most Gaussian-mixture modes per numeric column.
        schema: a :class:`~synthaug.schema.TableSchema` to use instead of inferring one
            (under DP, columns with ``public=True`` have public domains). Identifier columns
            (kind ``id``, declared or detected) are not modelled: see :mod:`synthaug.identifiers`.
        min_category_count, max_categories: without DP, text categories seen in fewer rows, or
            beyond that many most frequent, become ``"_RARE_"`` (:mod:`synthaug.rare_categories`).
        dp: a :class:`~synthaug.privacy.DPConfig` to train with differential privacy: the
            critic (the only network that reads real rows) by DP-SGD, the representation
            from private statistics; ``None`` trains without privacy.
        device: ``"auto"`` (CUDA when present), ``"cpu"`` or ``"cuda"``.
        verbose: show a progress bar with the losses.
        callbacks: training callbacks (:mod:`synthaug.training.callbacks`: logging, checkpoints; a GAN has
            no validation loss for early stopping).
        random_state: seed; fit and sample are reproducible and global RNGs are untouched.

    Attributes:
        transformer_, schema_, history_ (per-epoch losses), privacy_spent_.
    """

    model_name = "ctgan"
    network_attributes = ("synthesis_net_", "critic_net_")

    pac: int | None = param(None, None, POSITIVE_INT)
    embedding_dim: int = param(128, POSITIVE_INT)
    generator_dim: Sequence[int] = param((256, 256), LAYER_WIDTHS)
    discriminator_dim: Sequence[int] = param((256, 256), LAYER_WIDTHS)
    generator_lr: float = param(2e-4, POSITIVE)
    discriminator_lr: float = param(2e-4, POSITIVE)
    generator_decay: float = param(1e-6, NON_NEGATIVE)
    discriminator_decay: float = param(1e-6, NON_NEGATIVE)
    discriminator_steps: int = param(1, POSITIVE_INT)
    gp_weight: float = param(10.0, NON_NEGATIVE)
    log_frequency: bool = param(True, "boolean")
    max_modes: int = param(10, POSITIVE_INT)
    min_steps_per_epoch: int | None = param(10, None, POSITIVE_INT)

    # ------------------------------------------------------------------ validation
    def _check_model_params(self) -> None:
        if check_dp(self.dp) is not None and self.pac not in (None, 1):
            raise ParameterError(
                f"pac={self.pac} is not supported with dp (packing rows breaks per-row clipping); use pac=1 or None"
            )
        pac = self._pac()
        if self.batch_size % pac != 0:
            raise ParameterError(
                f"batch_size ({self.batch_size}) must be a multiple of pac ({pac}); "
                f"try batch_size={max(pac, self.batch_size // pac * pac)}"
            )
        if validation_fraction(self.callbacks):
            raise ParameterError("EarlyStopping needs a validation loss; a GAN has none (use tvae or flow)")

    def _pac(self) -> int:
        """The packing in use: ``pac``, or its default (10; 1 under DP)."""
        if self.pac is not None:
            return int(self.pac)
        return 1 if check_dp(self.dp) is not None else 10

    def _batch_rows(self, n_rows: int) -> int:
        """Rows per step without DP: ``batch_size``, shrunk on small tables (``min_steps_per_epoch``)."""
        if self.min_steps_per_epoch is None:
            return int(self.batch_size)
        pac = self._pac()
        scaled = n_rows // self.min_steps_per_epoch // pac * pac
        return int(min(self.batch_size, max(10 * pac, scaled)))  # the critic sees at least 10 packs per step

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
            lambda: CriticNet(data_dim + self.layout_.dim, self.discriminator_dim, self._pac()), self.device_, generator
        )

    # ------------------------------------------------------------------ fit
    def _fit_encoded(
        self, data: np.ndarray, rng: np.random.RandomState, private: PrivateFit | None = None
    ) -> dict[str, Any] | None:
        generator = self._init_networks(rng)
        codes = self.layout_.codes(data)
        self.conditions_ = self.layout_.sampler(codes, private, log_frequency=self.log_frequency)
        tensor = torch.as_tensor(data, dtype=torch.float32, device=self.device_)
        generator_adam = dict(lr=self.generator_lr, betas=_BETAS, weight_decay=self.generator_decay)
        settings = GANSettings(
            batch_size=self._batch_rows(len(data)) if private is None else self.batch_size,
            embedding_dim=self.embedding_dim,
            discriminator_steps=self.discriminator_steps,
            generator_optimizer=make_adam(self.synthesis_net_.parameters(), **generator_adam),
            pac=self._pac(),
            gp_weight=self.gp_weight,
        )
        nets = [self.synthesis_net_, self.critic_net_]
        critic_adam = dict(lr=self.discriminator_lr, betas=_BETAS, weight_decay=self.discriminator_decay)
        head, trainer = self.layout_.head, None
        if private is None:
            critic_optimizer = make_adam(self.critic_net_.parameters(), **critic_adam)
            step = wgan_step(*nets, self._activation, tensor, self.conditions_, head, settings, critic_optimizer, generator)
            steps = FixedSteps(max(1, len(data) // settings.batch_size))
            self.history_ = self._runner(step, steps, nets, desc="CTGAN")
        else:
            passes = self.discriminator_steps
            trainer = self._private_trainer(private, [self.critic_net_], epochs=self.epochs * passes, **critic_adam)
            codes_t = torch.as_tensor(codes, device=self.device_)
            step = private_gan_step(
                *nets, self._activation, tensor, codes_t, self.conditions_, head, settings, generator, trainer
            )
            self.history_ = self._runner(step, private_passes(trainer, passes), nets, desc="CTGAN", private=trainer)
        self.synthesis_net_.eval()
        self.critic_net_.eval()
        return self._close_private(private, trainer, ["critic network"])

    # ------------------------------------------------------------------ sample
    def _eval(self) -> None:
        self.synthesis_net_.eval()

    def _generate(self, cond: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        z = torch.randn((cond.shape[0], self.embedding_dim), generator=generator, device=self.device_)
        return self._activation(self.synthesis_net_(torch.cat([z, cond], dim=1)), generator)


__all__ = ["CTGANSynthesizer", "SynthesisNet", "CriticNet"]
