"""Conditional tabular GAN (CTGAN family).

Synthesis net with residual blocks; critic with PacGAN packing; WGAN-GP loss;
Gumbel-softmax for one-hot spans; a condition vector over the discrete columns
with training-by-sampling (log-frequency), so rare categories are learnt and
conditional sampling is native: the requested category is fed as the condition
and written into the output, so every row satisfies it with no rejection loop.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import torch
from torch import nn

from ..exceptions import ModelFileError
from ..nn import ResidualBlock, SpanActivation, build, leaky_mlp, segment_ids
from ..training import AdversarialConfig, ConditionHead, ConditionSampler, train_conditional_wgan
from .base import BaseSynthesizer, torch_generator


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


class CTGANSynthesizer(BaseSynthesizer):
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
        for name in ("epochs", "batch_size", "pac", "embedding_dim", "discriminator_steps", "max_modes"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.batch_size % self.pac != 0:
            raise ValueError(
                f"batch_size ({self.batch_size}) must be a multiple of pac ({self.pac}); "
                f"try batch_size={max(self.pac, self.batch_size // self.pac * self.pac)}"
            )
        for name in ("generator_dim", "discriminator_dim"):
            dims = getattr(self, name)
            if not all(isinstance(d, (int, np.integer)) and d > 0 for d in dims):
                raise ValueError(f"{name} must be a sequence of positive integers, got {dims!r}")
        for name in ("generator_lr", "discriminator_lr"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)!r}")

    # ------------------------------------------------------------------ layout
    def _layout(self) -> None:
        """Networks' shapes and the condition layout, from the fitted transformer."""
        spans = self.transformer_.spans_
        self._discrete_columns = [s.name for s in self.schema_ if s.is_discrete]
        self._cond_slots = [self.transformer_.encoder(c).n_slots for c in self._discrete_columns]
        self._cond_dim = int(sum(self._cond_slots))
        feature_idx = [
            idx
            for c in self._discrete_columns
            for idx in range(*self.transformer_.column_offsets_[c])
        ]
        segments = [j for j, k in enumerate(self._cond_slots) for _ in range(k)]
        self._head = ConditionHead(
            torch.tensor(feature_idx, dtype=torch.long, device=self.device_),
            torch.tensor(segments, dtype=torch.long, device=self.device_),
            len(self._discrete_columns),
        )
        self._activation = SpanActivation(spans).to(self.device_)

    def _build_networks(self, generator: torch.Generator) -> None:
        data_dim = self.transformer_.output_dim_
        in_dim = self.embedding_dim + self._cond_dim
        self.synthesis_net_ = build(lambda: SynthesisNet(in_dim, self.generator_dim, data_dim), self.device_, generator)
        self.critic_net_ = build(
            lambda: CriticNet(data_dim + self._cond_dim, self.discriminator_dim, self.pac), self.device_, generator
        )

    # ------------------------------------------------------------------ fit
    def _fit_encoded(self, data: np.ndarray, rng: np.random.RandomState) -> None:
        self._layout()
        generator = torch_generator(rng.randint(np.iinfo(np.int32).max), self.device_)
        self._build_networks(generator)
        codes = self._discrete_codes(data)
        self.conditions_ = ConditionSampler.from_codes(
            codes, self._cond_slots, log_frequency=self.log_frequency, device=self.device_
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
            self._head,
            config,
            generator,
            verbose=self.verbose,
        )
        self.synthesis_net_.eval()
        self.critic_net_.eval()

    def _discrete_codes(self, data: np.ndarray) -> np.ndarray:
        """Slot index of every discrete value, read off the encoded one-hot blocks."""
        columns = []
        for column in self._discrete_columns:
            start, stop = self.transformer_.column_offsets_[column]
            columns.append(np.argmax(data[:, start:stop], axis=1))
        return np.stack(columns, axis=1) if columns else np.zeros((data.shape[0], 0), dtype=np.int64)

    # ------------------------------------------------------------------ sample
    @torch.no_grad()
    def _sample_encoded(self, n_samples: int, conditions: dict[str, np.ndarray], generator: torch.Generator) -> np.ndarray:
        self.synthesis_net_.eval()
        chunks = []
        chunk_size = max(self.batch_size, 8192)
        for start in range(0, n_samples, chunk_size):  # chunks bound memory; rows are vectorised
            stop = min(n_samples, start + chunk_size)
            m = stop - start
            if conditions:
                cond = torch.zeros((m, self._cond_dim), device=self.device_)
                offsets = np.concatenate([[0], np.cumsum(self._cond_slots)[:-1]]).astype(int)
                rows = torch.arange(m, device=self.device_)
                for column, codes in conditions.items():
                    j = self._discrete_columns.index(column)
                    code = torch.as_tensor(codes[start:stop], device=self.device_)
                    cond[rows, int(offsets[j]) + code] = 1.0
            else:
                cond = self.conditions_.sample_original(m, generator)
            z = torch.randn((m, self.embedding_dim), generator=generator, device=self.device_)
            out = self._activation(self.synthesis_net_(torch.cat([z, cond], dim=1)), generator)
            for column, codes in conditions.items():  # write the requested categories exactly
                first, last = self.transformer_.column_offsets_[column]
                block = torch.zeros((m, last - first), device=self.device_)
                block[torch.arange(m, device=self.device_), torch.as_tensor(codes[start:stop], device=self.device_)] = 1.0
                out[:, first:last] = block
            chunks.append(out.cpu())
        return torch.cat(chunks).numpy()

    # ------------------------------------------------------------------ persistence
    def _network_state(self) -> dict[str, torch.Tensor]:
        tensors = {f"synthesis_net.{k}": v.cpu() for k, v in self.synthesis_net_.state_dict().items()}
        tensors.update({f"critic_net.{k}": v.cpu() for k, v in self.critic_net_.state_dict().items()})
        tensors["condition_counts"] = self.conditions_.counts.cpu()
        return tensors

    def _restore_networks(self, tensors: Mapping[str, torch.Tensor], state: Mapping[str, Any]) -> None:
        self._check_params()
        self._layout()
        self._build_networks(torch_generator(0, self.device_))
        for prefix, net in (("synthesis_net.", self.synthesis_net_), ("critic_net.", self.critic_net_)):
            sub = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
            try:
                net.load_state_dict(sub)
            except RuntimeError as exc:
                raise ModelFileError(f"model weights do not match the saved settings: {exc}") from exc
            net.eval()
        self.conditions_ = ConditionSampler(
            tensors["condition_counts"].numpy(), self._cond_slots, log_frequency=self.log_frequency, device=self.device_
        )


__all__ = ["CTGANSynthesizer", "SynthesisNet", "CriticNet", "segment_ids"]
