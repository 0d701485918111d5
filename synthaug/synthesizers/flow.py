"""Conditional normalizing-flow synthesizer with exact log-likelihood.

Rows are mapped to real coordinates by :class:`~synthaug.transform.dequantized.DequantizedTransformer`
(quantile-normal numeric columns; categories as frequency-sized bins of a standard
normal, dequantised with fresh noise every batch). A stack of conditional affine
couplings (written in torch, no flow library: we need per-sample gradients for
Opacus and a context input, which plain ``nn.Linear`` layers give us) maps them to
a standard normal. The context is a one-hot condition on a discrete column, or zero
for the unconditional model that ``sample()`` without conditions and
``score_samples`` use.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import torch
from sklearn.utils.validation import check_is_fitted

from ..exceptions import DataValidationError
from ..nn import build
from ..nn.flows import ConditionalFlowNet
from ..training import flow_losses
from ..training.streaming import RowStore
from ..transform.dequantized import DequantizedTransformer
from ..transform.tabular import as_frame
from .base import BaseSynthesizer
from .conditioning import ConditionLayout, NetworkPersistence
from .core import NetworkTraining
from .params import LAYER_WIDTHS, NON_NEGATIVE, OPEN_UNIT, POSITIVE, POSITIVE_INT, param
from .streamed import RowChunks, StreamedFit

if TYPE_CHECKING:
    from ..privacy.plan import PrivateFit


class FlowSynthesizer(StreamedFit, NetworkPersistence, NetworkTraining, BaseSynthesizer):
    """Normalizing flow for mixed-type tables, with exact conditional sampling and ``score_samples``.

    Parameters:
        epochs, batch_size: training length and rows per step.
        n_layers: affine coupling layers.
        hidden_dims: hidden widths of each coupling network.
        learning_rate, weight_decay: Adam settings.
        unconditional_share: share of training rows seen with an empty context
            (trains the unconditional model used by plain ``sample`` and ``score_samples``).
        max_grad_norm: gradient-norm clipping for stable likelihood training.
        n_quantiles: resolution of the quantile-normal map of numeric columns.
        schema: a :class:`~synthaug.schema.TableSchema` to use instead of inferring one
            (under DP, columns with ``public=True`` have public domains). Identifier columns
            (kind ``id``, declared or detected) are not modelled: see :mod:`synthaug.identifiers`.
        min_category_count, max_categories: without DP, text categories seen in fewer rows, or
            beyond that many most frequent, become ``"_RARE_"`` (:mod:`synthaug.rare_categories`).
        dp: a :class:`~synthaug.privacy.DPConfig` to train with differential privacy: the
            whole flow by DP-SGD (per-row clipping replaces ``max_grad_norm``), category bins
            and quantile maps from private statistics; ``None`` trains without privacy.
        device: ``"auto"`` (CUDA when present), ``"cpu"`` or ``"cuda"``.
        verbose: show a progress bar with the loss.
        callbacks: training callbacks (:mod:`synthaug.training.callbacks`: early stopping, logging, checkpoints).
        random_state: seed; fit and sample are reproducible and global RNGs are untouched.
    """

    model_name = "flow"
    data_parallel = True
    network_attributes = ("flow_net_",)
    transformer_class = DequantizedTransformer

    n_layers: int = param(8, POSITIVE_INT)
    hidden_dims: Sequence[int] = param((128, 128), LAYER_WIDTHS)
    learning_rate: float = param(1e-3, POSITIVE)
    weight_decay: float = param(0.0, NON_NEGATIVE)
    unconditional_share: float = param(0.5, OPEN_UNIT)
    max_grad_norm: float = param(10.0, POSITIVE)
    n_quantiles: int = param(1000, POSITIVE_INT)

    # ------------------------------------------------------------------ transformer and networks
    def _make_transformer(self, seed: int, schema: Any) -> DequantizedTransformer:
        return DequantizedTransformer(schema=schema, n_quantiles=self.n_quantiles, random_state=seed)

    def _encode_training_data(self, frame: pd.DataFrame, rng: np.random.RandomState) -> np.ndarray:
        self._training_codes = self.transformer_.codes(frame)
        return self.transformer_.transform(frame, noise=rng)  # integers dequantised once

    def _layout(self) -> None:
        self.layout_ = ConditionLayout(self.transformer_, self.device_)

    def _build_networks(self, generator: torch.Generator) -> None:
        dim, context = self.transformer_.output_dim_, self.layout_.dim
        self.flow_net_ = build(lambda: ConditionalFlowNet(dim, context, self.n_layers, self.hidden_dims), self.device_, generator)

    # ------------------------------------------------------------------ fit
    def _row_arrays(self, data: np.ndarray) -> dict[str, np.ndarray]:
        codes = self._training_codes
        del self._training_codes
        return {"numeric": data[:, : self.transformer_.n_numeric_], "codes": codes}

    def _fit_rows(
        self,
        rows: dict[str, np.ndarray],
        rng: np.random.RandomState,
        private: PrivateFit | None = None,
        chunks: RowChunks | None = None,
    ) -> dict[str, Any] | None:
        generator = self._init_networks(rng)
        self.conditions_ = self.layout_.sampler(rows["codes"][:, : len(self.layout_.columns)], private)
        t, to = self.transformer_, dict(dtype=torch.float32, device=self.device_)
        store = RowStore(**self._row_tensors(rows))
        losses = flow_losses(
            self.flow_net_,
            store,
            torch.as_tensor(t.bin_low_, **to),
            torch.as_tensor(t.bin_width_, **to),
            self.conditions_,
            self.unconditional_share,
            generator,
        )
        self.history_, trainer = self._train_likelihood(
            losses, [self.flow_net_], store.n_rows, generator, private, desc="Flow", log_loss_as="nll",
            max_grad_norm=self.max_grad_norm, batches=self._row_batches(store, chunks, generator),
            lr=self.learning_rate, weight_decay=self.weight_decay,
        )  # fmt: skip
        self.flow_net_.eval()
        return self._close_private(private, trainer, ["flow network"])

    # ------------------------------------------------------------------ sample and score
    def _eval(self) -> None:
        self.flow_net_.eval()

    @torch.no_grad()
    def _sample_encoded(self, n_samples: int, conditions: dict[str, np.ndarray], generator: torch.Generator) -> np.ndarray:
        self.flow_net_.eval()
        dim = self.transformer_.output_dim_
        chunks = []
        for start in range(0, n_samples, self.sample_chunk_size):  # chunks bound memory; rows are vectorised
            stop = min(n_samples, start + self.sample_chunk_size)
            context = (
                self.layout_.vector(conditions, start, stop)
                if conditions
                else torch.zeros((stop - start, self.layout_.dim), device=self.device_)
            )
            z = torch.randn((stop - start, dim), generator=generator, device=self.device_)
            chunks.append(self.flow_net_.inverse(z, context).double().cpu().numpy())
        encoded = np.concatenate(chunks)
        for column, codes in conditions.items():  # place the requested categories exactly (bin centres)
            j = self.transformer_.discrete_columns_.index(column)
            dims = np.zeros((n_samples, len(self.transformer_.levels_)), dtype=np.int64)
            dims[:, j] = codes
            centre = self.transformer_.dequantize(dims, np.full(dims.shape, 0.5))[:, j]
            encoded[:, self.transformer_.n_numeric_ + j] = centre
        return encoded

    @torch.no_grad()
    def score_samples(self, X: Any) -> np.ndarray:
        """Log-likelihood of each row under the unconditional model.

        Numeric columns contribute their log-density (in their own units; datetimes per
        second); discrete columns their log-probability, evaluated at the centre of the
        category's bin. Rows with categories unseen in fit raise an error.
        """
        check_is_fitted(self, "flow_net_")
        frame, _ = as_frame(X)
        if self.target_column_ is not None:
            raise DataValidationError("score_samples of a model fitted with y needs the target as a column; refit without y")
        if isinstance(X, pd.DataFrame):
            frame.columns = [str(c) for c in X.columns]
        else:
            frame.columns = self.transformer_.columns_
        encoded = self.transformer_.transform(frame)
        x = torch.as_tensor(encoded, dtype=torch.float32, device=self.device_)
        context = torch.zeros((x.shape[0], self.layout_.dim), device=self.device_)
        log_density = self.flow_net_.log_prob(x, context).double().cpu().numpy()
        return log_density + self.transformer_.log_jacobian(frame)


__all__ = ["FlowSynthesizer"]
