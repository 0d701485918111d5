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
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.utils.validation import check_is_fitted

from ..nn import build
from ..nn.flows import ConditionalFlowNet
from ..training import FlowConfig, train_conditional_flow
from ..training.optim import make_adam
from ..transform.dequantized import DequantizedTransformer
from ..transform.tabular import as_frame
from .base import BaseSynthesizer, check_layer_widths, check_positive_floats, check_positive_ints
from .conditioning import ConditionLayout, NetworkPersistence


class FlowSynthesizer(NetworkPersistence, BaseSynthesizer):
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
            (under DP, columns with ``public=True`` have public domains).
        dp: a :class:`~synthaug.privacy.DPConfig` to train with differential privacy: the
            whole flow by DP-SGD (per-row clipping replaces ``max_grad_norm``), category bins
            and quantile maps from private statistics; ``None`` trains without privacy.
        device: ``"auto"`` (CUDA when present), ``"cpu"`` or ``"cuda"``.
        verbose: show a progress bar with the loss.
        random_state: seed; fit and sample are reproducible and global RNGs are untouched.
    """

    model_name = "flow"
    network_attributes = ("flow_net_",)
    transformer_class = DequantizedTransformer
    sample_chunk_size = 8192

    def __init__(
        self,
        *,
        epochs: int = 300,
        batch_size: int = 500,
        n_layers: int = 8,
        hidden_dims: Sequence[int] = (128, 128),
        learning_rate: float = 1e-3,
        weight_decay: float = 0.0,
        unconditional_share: float = 0.5,
        max_grad_norm: float = 10.0,
        n_quantiles: int = 1000,
        schema: Any = None,
        dp: Any = None,
        device: str = "auto",
        verbose: bool = False,
        random_state: int | np.random.RandomState | None = None,
    ) -> None:
        self.epochs = epochs
        self.batch_size = batch_size
        self.n_layers = n_layers
        self.hidden_dims = hidden_dims
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.unconditional_share = unconditional_share
        self.max_grad_norm = max_grad_norm
        self.n_quantiles = n_quantiles
        self.schema = schema
        self.dp = dp
        self.device = device
        self.verbose = verbose
        self.random_state = random_state

    def _check_params(self) -> None:
        check_positive_ints(self, ("epochs", "batch_size", "n_layers", "n_quantiles"))
        check_layer_widths(self, ("hidden_dims",))
        check_positive_floats(self, ("learning_rate", "max_grad_norm"))
        if not 0.0 < self.unconditional_share < 1.0:
            raise ValueError(f"unconditional_share must be in (0, 1), got {self.unconditional_share!r}")

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
    def _fit_encoded(self, data: np.ndarray, rng: np.random.RandomState, private: Any = None) -> dict[str, Any] | None:
        generator = self._init_networks(rng)
        codes = self._training_codes
        del self._training_codes
        n_cond = len(self.layout_.columns)
        self.conditions_ = self.layout_.sampler(codes[:, :n_cond], private)
        t = self.transformer_
        to = dict(dtype=torch.float32, device=self.device_)
        config = FlowConfig(
            epochs=self.epochs,
            batch_size=self.batch_size,
            learning_rate=self.learning_rate,
            weight_decay=self.weight_decay,
            unconditional_share=self.unconditional_share,
            max_grad_norm=self.max_grad_norm,
        )
        trainer = None
        if private is not None:
            trainer = private.trainer(
                [self.flow_net_],
                lambda params: make_adam(params, lr=self.learning_rate, weight_decay=self.weight_decay),
                batch_size=self.batch_size,
                epochs=self.epochs,
            )
        self.history_ = train_conditional_flow(
            self.flow_net_,
            torch.as_tensor(data[:, : t.n_numeric_], **to),
            torch.as_tensor(codes, device=self.device_),
            torch.as_tensor(t.bin_low_, **to),
            torch.as_tensor(t.bin_width_, **to),
            self.conditions_,
            config,
            generator,
            private=trainer,
            verbose=self.verbose,
        )
        self.flow_net_.eval()
        if trainer is None:
            return None
        trainer.close()
        return private.ledger(trainer, ["flow network"])

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
            raise ValueError("score_samples of a model fitted with y needs the target as a column; refit without y")
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
