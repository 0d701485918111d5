"""Any-order autoregressive synthesizer (TabularARGN / GPT-style family): exact conditions on any columns.

The table is a sequence of tokens: a category, a boolean, a missing-value indicator, or, for a
numeric column, two tokens: its quantile bin (``numeric_bins`` equal-mass bins of the
quantile-normal map of :class:`~synthaug.transform.dequantized.DequantizedTransformer`, the same
map as the flow's and the diffusion model's; integers dequantised) and the equal-mass sub-bin
within it (``numeric_sub_bins``). Within its cell a value is drawn from the column's own quantile
function (uniform on the quantile scale), so values come back continuous where the data were,
and integers exact after rounding.

One network with shared token embeddings (a linear layer over the one-hot tokens) predicts
every masked column from the shown ones; it is trained with random column orders
(:mod:`synthaug.training.autoregressive`), so ``p(column | any other columns)`` is learnt and
sampling reveals the columns one at a time in a random order
(:mod:`synthaug.synthesizers.autoregressive_sampling`). Conditions are shown first:

* a category (or one per row) of any number of discrete columns is a fixed token;
* a numeric value or range (``{"age": (30, 40)}``) restricts the column's bins to those that
  meet the range and its within-bin value to the part inside it; the column is drawn first,
  from the model's distribution given the fixed categories, and then conditions the rest.
  With several numeric ranges, each range column is drawn given the categories and the range
  columns before it, so only the first follows its distribution given every condition exactly;
  every returned value is in its range.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from ..nn import build
from ..nn.diffusion import TabularDenoiser, TokenLayout
from ..training.autoregressive import any_order_losses
from ..training.averaging import copy_average_into, exponential_average
from ..transform.dequantized import DequantizedTransformer
from .autoregressive_sampling import Band, ColumnByColumn
from .base import BaseSynthesizer
from .condition_values import NumericRange
from .core import NetworkTraining, draw_seed, torch_generator
from .params import LAYER_WIDTHS, NON_NEGATIVE, POSITIVE, POSITIVE_INT, UNIT_FROM_ZERO, param
from .quantile_tokens import QuantileTokens

if TYPE_CHECKING:
    from ..privacy.plan import PrivateFit

#: rows per sampling batch (divides ``sample_chunk_size``: streamed and one-call sampling draw the same rows)
SAMPLE_BATCH = 2048


class AutoregressiveSynthesizer(QuantileTokens, NetworkTraining, BaseSynthesizer):
    """Any-order autoregressive model of mixed-type tables, conditional on any columns and ranges.

    Parameters:
        epochs, batch_size: training length and rows per step.
        hidden_dims: widths of the network's hidden layers.
        numeric_bins, numeric_sub_bins: a numeric column is two tokens, its equal-mass quantile
            bin and the equal-mass sub-bin within it (``numeric_sub_bins=1``: the bin only).
        order_draws: (column order, cut) draws per row and step; a row's loss is their mean.
        learning_rate, weight_decay: Adam settings.
        ema_decay: decay of the exponential moving average of the weights that sampling uses
            (0: the last weights).
        max_grad_norm: gradient-norm clipping without DP.
        n_quantiles: resolution of the quantile-normal map of numeric columns.
        schema: a :class:`~synthaug.schema.TableSchema` to use instead of inferring one
            (under DP, columns with ``public=True`` have public domains). Identifier columns
            (kind ``id``, declared or detected) are not modelled: see :mod:`synthaug.identifiers`.
        min_category_count, max_categories: without DP, text categories seen in fewer rows, or
            beyond that many most frequent, become ``"_RARE_"`` (:mod:`synthaug.rare_categories`).
        dp: a :class:`~synthaug.privacy.DPConfig` to train with differential privacy: the
            network by DP-SGD (per-row clipping replaces ``max_grad_norm``), quantile maps and
            category sets from private statistics; ``None`` trains without privacy.
        device: ``"auto"`` (CUDA when present), ``"cpu"`` or ``"cuda"``.
        verbose: show a progress bar with the loss.
        callbacks: training callbacks (:mod:`synthaug.training.callbacks`).
        random_state: seed; fit and sample are reproducible and global RNGs are untouched.

    ``sample(n, conditions=...)`` takes any set of columns at once: categories (a value or one
    per row) and numeric values or ranges (``(low, high)``, ``"low..high"``, an open end as
    ``None`` or left out). ``score_samples`` is not offered: an any-order model gives each
    column order its own likelihood, and they need not agree.
    """

    model_name = "autoregressive"
    data_parallel = True
    network_attributes = ("token_net_",)
    transformer_class = DequantizedTransformer
    multi_column_conditions = True
    range_conditions = True

    hidden_dims: Sequence[int] = param((256, 256, 256), LAYER_WIDTHS)
    numeric_bins: int = param(32, POSITIVE_INT)
    numeric_sub_bins: int = param(1, POSITIVE_INT)
    order_draws: int = param(2, POSITIVE_INT)
    learning_rate: float = param(2e-3, POSITIVE)
    weight_decay: float = param(0.0, NON_NEGATIVE)
    ema_decay: float = param(0.995, UNIT_FROM_ZERO)
    max_grad_norm: float = param(1.0, POSITIVE)
    n_quantiles: int = param(1000, POSITIVE_INT)

    # ------------------------------------------------------------------ transformer, tokens, network
    def _make_transformer(self, seed: int, schema: Any) -> DequantizedTransformer:
        return DequantizedTransformer(schema=schema, n_quantiles=self.n_quantiles, random_state=seed)

    @property
    def _levels(self) -> tuple[int, int]:
        return self.numeric_bins, self.numeric_sub_bins

    def _layout(self) -> None:
        self.tokens_ = TokenLayout(self._token_levels(), self.device_)

    def _build_network(self, generator: torch.Generator) -> None:
        dims = (self.tokens_.token_dim, self.tokens_.logit_dim)
        self.token_net_ = build(lambda: TabularDenoiser(0, *dims, self.hidden_dims), self.device_, generator)

    # ------------------------------------------------------------------ fit
    def _fit_encoded(
        self, data: np.ndarray, rng: np.random.RandomState, private: PrivateFit | None = None
    ) -> dict[str, Any] | None:
        self._layout()
        generator = torch_generator(draw_seed(rng), self.device_)
        self._build_network(generator)
        codes = torch.as_tensor(data, dtype=torch.long, device=self.device_)
        paired = self.transformer_.n_numeric_ if self.numeric_sub_bins > 1 else 0
        losses = any_order_losses(
            self.token_net_, self.tokens_, codes, n_paired=paired, order_draws=self.order_draws, generator=generator,
            indexed_input=private is None,
        )  # fmt: skip
        average = exponential_average(self.token_net_, self.ema_decay) if self.ema_decay > 0 else None
        self.history_, trainer = self._train_likelihood(
            losses, [self.token_net_], len(data), generator, private, desc="Autoregressive",
            max_grad_norm=self.max_grad_norm, lr=self.learning_rate, weight_decay=self.weight_decay,
            after_step=None if average is None else lambda: average.update_parameters(self.token_net_),
        )  # fmt: skip
        if average is not None:
            copy_average_into(average, self.token_net_)
        self.token_net_.eval()
        return self._close_private(private, trainer, ["token network"])

    # ------------------------------------------------------------------ sample
    def _fixed_tokens(self, conditions: Mapping[str, Any]) -> dict[int, Any]:
        """Token column -> per-row level of every category condition, and "present" (level 0) for
        the missing-value indicator of a range-conditioned nullable column."""
        fixed: dict[int, Any] = {}
        for column, condition in conditions.items():
            if not isinstance(condition, NumericRange):
                fixed[self._discrete_token(column)] = condition
            elif column in self.transformer_.indicator_columns_:
                fixed[self._discrete_token(column)] = 0
        return fixed

    def _bands(self, scales: Mapping[int, tuple[float, float]]) -> tuple[dict[int, Band], list[int]]:
        """The allowed tokens of range-conditioned columns and the order they are drawn in (first,
        bin before sub-bin, so a sub-bin's band can depend on the bin drawn)."""
        n_numeric = self.transformer_.n_numeric_
        bands: dict[int, Band] = {}
        order: list[int] = []
        for j, (low, high) in scales.items():  # a loop over conditioned columns, not rows
            (bin_low, *sub_low), (bin_high, *sub_high) = self._bins(np.array([low])), self._bins(np.array([high]))
            bands[j] = _constant_band(int(bin_low[0]), int(bin_high[0]))
            order.append(j)
            if sub_low:
                bands[n_numeric + j] = _sub_band(j, int(bin_low[0]), int(bin_high[0]), int(sub_low[0][0]), int(sub_high[0][0]))
                order.append(n_numeric + j)
        return bands, order

    @torch.no_grad()
    def _sample_encoded(self, n_samples: int, conditions: dict[str, Any], generator: torch.Generator) -> np.ndarray:
        self.token_net_.eval()
        scales, fixed = self._scales(conditions), self._fixed_tokens(conditions)
        bands, first = self._bands(scales)
        m, paired = self.transformer_.n_numeric_, self.numeric_sub_bins > 1
        free = [j for j in range(self.tokens_.n_columns) if j not in fixed and j not in bands and not (paired and m <= j < 2 * m)]
        sampler = ColumnByColumn(self.token_net_, self.tokens_)
        chunks = []
        for start in range(0, n_samples, SAMPLE_BATCH):
            stop = min(n_samples, start + SAMPLE_BATCH)
            tokens = self.tokens_.mask_ids.expand(stop - start, -1).clone()
            for j, levels in fixed.items():
                tokens[:, j] = torch.as_tensor(levels[start:stop] if np.ndim(levels) else levels, device=self.device_)
            rest = [free[i] for i in torch.randperm(len(free), generator=generator, device=self.device_).tolist()]
            if paired:  # a sub-bin right after its bin, as in training
                rest = [k for j in rest for k in ((j, m + j) if j < m else (j,))]
            tokens = sampler.run(tokens, first + rest, bands, generator)
            position = torch.rand((stop - start, self.transformer_.n_numeric_), generator=generator, device=self.device_)
            chunks.append(self._decode(tokens.cpu().numpy(), position.double().cpu().numpy(), scales))
        return np.concatenate(chunks)

    # ------------------------------------------------------------------ persistence
    def _network_state(self) -> dict[str, torch.Tensor]:
        return self._network_tensors()

    def _restore_networks(self, tensors: Mapping[str, torch.Tensor], state: Mapping[str, Any]) -> None:
        self._check_params()
        self._layout()
        self._build_network(torch.Generator(device=self.device_))
        self._load_network_tensors(tensors)


def _constant_band(low: int, high: int) -> Band:
    def band(tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        full = torch.ones(tokens.shape[0], dtype=torch.long, device=tokens.device)
        return full * low, full * high

    return band


def _sub_band(column: int, bin_low: int, bin_high: int, sub_low: int, sub_high: int) -> Band:
    """Sub-bins allowed given the bin drawn for ``column``: cut at the range's ends in its end bins."""

    def band(tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        drawn = tokens[:, column]
        zero, last = torch.zeros_like(drawn), torch.full_like(drawn, 1 << 30)
        return torch.where(drawn == bin_low, sub_low, zero), torch.where(drawn == bin_high, sub_high, last)

    return band


__all__ = ["AutoregressiveSynthesizer"]
