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
from ..privacy.config import check_dp
from ..training import AdversarialConfig, train_conditional_wgan, train_private_gan
from ..training.optim import make_adam
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
        batch_size: rows per step; must be a multiple of ``pac``. Under DP, the expected
            size of the Poisson-sampled batches.
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
            (under DP, columns with ``public=True`` have public domains).
        dp: a :class:`~synthaug.privacy.DPConfig` to train with differential privacy: the
            critic (the only network that reads real rows) by DP-SGD, the representation
            from private statistics; ``None`` trains without privacy.
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
        pac: int | None = None,
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
        dp: Any = None,
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
        self.dp = dp
        self.device = device
        self.verbose = verbose
        self.random_state = random_state

    # ------------------------------------------------------------------ validation
    def _check_params(self) -> None:
        check_positive_ints(self, ("epochs", "batch_size", "embedding_dim", "discriminator_steps", "max_modes"))
        check_layer_widths(self, ("generator_dim", "discriminator_dim"))
        check_positive_floats(self, ("generator_lr", "discriminator_lr"))
        private = check_dp(self.dp) is not None
        if self.pac is not None:
            check_positive_ints(self, ("pac",))
            if private and self.pac != 1:
                raise ValueError(
                    f"pac={self.pac} is not supported with dp (packing rows breaks per-row clipping); use pac=1 or None"
                )
        pac = self._pac()
        if self.batch_size % pac != 0:
            raise ValueError(
                f"batch_size ({self.batch_size}) must be a multiple of pac ({pac}); "
                f"try batch_size={max(pac, self.batch_size // pac * pac)}"
            )

    def _pac(self) -> int:
        """The packing in use: ``pac``, or its default (10; 1 under DP)."""
        if self.pac is not None:
            return int(self.pac)
        return 1 if check_dp(self.dp) is not None else 10

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
    def _fit_encoded(self, data: np.ndarray, rng: np.random.RandomState, private: Any = None) -> dict[str, Any] | None:
        generator = self._init_networks(rng)
        codes = self.layout_.codes(data)
        self.conditions_ = self.layout_.sampler(codes, private, log_frequency=self.log_frequency)
        tensor = torch.as_tensor(data, dtype=torch.float32, device=self.device_)
        config = AdversarialConfig(
            epochs=self.epochs,
            batch_size=self.batch_size,
            pac=self._pac(),
            embedding_dim=self.embedding_dim,
            discriminator_steps=self.discriminator_steps,
            gp_weight=self.gp_weight,
            generator_lr=self.generator_lr,
            discriminator_lr=self.discriminator_lr,
            generator_decay=self.generator_decay,
            discriminator_decay=self.discriminator_decay,
        )
        if private is not None:
            trainer = private.trainer(
                [self.critic_net_],
                lambda params: make_adam(
                    params, lr=self.discriminator_lr, betas=config.betas, weight_decay=self.discriminator_decay
                ),
                batch_size=self.batch_size,
                epochs=self.epochs * self.discriminator_steps,
            )
            self.history_ = train_private_gan(
                self.synthesis_net_,
                self.critic_net_,
                self._activation,
                tensor,
                torch.as_tensor(codes, device=self.device_),
                self.conditions_,
                self.layout_.head,
                config,
                generator,
                trainer,
                verbose=self.verbose,
            )
            trainer.close()
            self._eval()
            self.critic_net_.eval()
            return private.ledger(trainer, ["critic network"])
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
        return None

    # ------------------------------------------------------------------ sample
    def _eval(self) -> None:
        self.synthesis_net_.eval()

    def _generate(self, cond: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        z = torch.randn((cond.shape[0], self.embedding_dim), generator=generator, device=self.device_)
        return self._activation(self.synthesis_net_(torch.cat([z, cond], dim=1)), generator)


__all__ = ["CTGANSynthesizer", "SynthesisNet", "CriticNet"]
