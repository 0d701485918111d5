"""How a conditional synthesizer lays out and enforces its condition vector.

The condition vector holds one one-hot block per discrete (categorical or boolean)
column of the schema. :class:`ConditionLayout` builds it from requested values,
writes requested categories into generated rows (exact conditioning, no
rejection), and knows where each block sits in the encoded output.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from ..training.adversarial import ConditionHead
from ..training.conditional import ConditionSampler
from ..transform.tabular import TabularTransformer
from .core import draw_seed, torch_generator

if TYPE_CHECKING:
    from ..privacy.plan import PrivateFit


class ConditionLayout:
    """Condition-vector layout derived from a fitted transformer (its schema and category encoders)."""

    def __init__(self, transformer: Any, device: torch.device) -> None:
        self.transformer = transformer
        self.device = device
        self.columns = [s.name for s in transformer.schema_ if s.is_discrete]
        self.slots = [transformer.encoder(c).n_slots for c in self.columns]
        self.dim = int(sum(self.slots))
        self.offsets = np.concatenate([[0], np.cumsum(self.slots)[:-1]]).astype(int) if self.slots else np.zeros(0, int)

    @cached_property
    def head(self) -> ConditionHead:
        """Where each condition slot sits in the encoded output (for the condition loss)."""
        offsets = self.transformer.column_offsets_
        feature_idx = [i for c in self.columns for i in range(*offsets[c])]
        segments = [j for j, k in enumerate(self.slots) for _ in range(k)]
        return ConditionHead(
            torch.tensor(feature_idx, dtype=torch.long, device=self.device),
            torch.tensor(segments, dtype=torch.long, device=self.device),
            len(self.columns),
        )

    def codes(self, encoded: np.ndarray) -> np.ndarray:
        """Slot index of every discrete value of encoded rows, shape ``(n, n_discrete)``."""
        columns = []
        for column in self.columns:
            start, stop = self.transformer.column_offsets_[column]
            columns.append(np.argmax(encoded[:, start:stop], axis=1))
        return np.stack(columns, axis=1) if columns else np.zeros((encoded.shape[0], 0), dtype=np.int64)

    def sampler(self, codes: np.ndarray, private: PrivateFit | None = None, *, log_frequency: bool = True) -> ConditionSampler:
        """The condition sampler: from the training rows' ``codes`` (slot per discrete column),
        or, in a private fit, from the privately released counts only (no row indices, so
        training-by-sampling, which picks rows by category, is impossible)."""
        if private is None:
            return ConditionSampler.from_codes(codes, self.slots, log_frequency=log_frequency, device=self.device)
        counts = np.zeros((len(self.columns), max(self.slots, default=1)), dtype=np.int64)
        for j, column in enumerate(self.columns):  # a loop over columns, not rows
            released = np.rint(np.clip(private.domain.slot_counts(column), 0.0, None)).astype(np.int64)
            counts[j, : released.size] = released if released.sum() > 0 else 1  # no signal: uniform
        return ConditionSampler(counts, self.slots, log_frequency=log_frequency, device=self.device)

    def vector(self, conditions: dict[str, np.ndarray], start: int, stop: int) -> torch.Tensor:
        """Condition vectors for rows ``start:stop`` of the requested per-row categories."""
        m = stop - start
        cond = torch.zeros((m, self.dim), device=self.device)
        rows = torch.arange(m, device=self.device)
        for column, codes in conditions.items():
            j = self.columns.index(column)
            cond[rows, int(self.offsets[j]) + torch.as_tensor(codes[start:stop], device=self.device)] = 1.0
        return cond

    def enforce(self, encoded: torch.Tensor, conditions: dict[str, np.ndarray], start: int, stop: int) -> torch.Tensor:
        """Write the requested categories into generated rows (in place) and return them."""
        m = stop - start
        rows = torch.arange(m, device=self.device)
        for column, codes in conditions.items():
            first, last = self.transformer.column_offsets_[column]
            block = torch.zeros((m, last - first), device=self.device, dtype=encoded.dtype)
            block[rows, torch.as_tensor(codes[start:stop], device=self.device)] = 1.0
            encoded[:, first:last] = block
        return encoded


class NetworkPersistence:
    """Mixin: builds, saves and restores the host's fitted networks and condition counts.

    The host (a :class:`~synthaug.synthesizers.core.SynthesizerCore`) lists its fitted
    ``nn.Module`` attributes in ``network_attributes`` and provides ``conditions_`` (a
    :class:`~synthaug.training.ConditionSampler`), ``_layout()``, ``_build_networks(generator)``
    and ``_eval()``.
    """

    def _init_networks(self, rng: np.random.RandomState) -> torch.Generator:
        """Lay out conditions, build freshly initialised networks; returns the training RNG."""
        self._layout()
        generator = torch_generator(draw_seed(rng), self.device_)
        self._build_networks(generator)
        return generator

    def _network_state(self) -> dict[str, torch.Tensor]:
        tensors = self._network_tensors()
        tensors["condition_counts"] = self.conditions_.counts.cpu()
        return tensors

    def _restore_networks(self, tensors: Mapping[str, torch.Tensor], state: Mapping[str, Any]) -> None:
        self._check_params()
        self._layout()
        self._build_networks(torch.Generator(device=self.device_))
        self._load_network_tensors(tensors)
        self._eval()
        # training-by-sampling frequencies are not needed to sample: only the category counts
        self.conditions_ = ConditionSampler(tensors["condition_counts"].numpy(), self.layout_.slots, device=self.device_)


class ConditionalDecoding(NetworkPersistence):
    """Mixin for synthesizers that decode ``[noise, condition]`` into encoded rows:
    chunked, vectorised sampling (plus :class:`NetworkPersistence`).

    The host class also provides ``layout_`` (:class:`ConditionLayout`) and
    ``_generate(cond, generator) -> encoded rows``.
    """

    def _make_transformer(self, seed: int, schema: Any) -> TabularTransformer:
        """Mode-specific normalisation (``max_modes`` Gaussian-mixture modes per numeric column)."""
        return TabularTransformer(schema=schema, max_modes=self.max_modes, random_state=seed)

    @torch.no_grad()
    def _sample_encoded(self, n_samples: int, conditions: dict[str, np.ndarray], generator: torch.Generator) -> np.ndarray:
        self._eval()
        chunks = []
        for start in range(0, n_samples, self.sample_chunk_size):  # chunks bound memory; rows are vectorised
            stop = min(n_samples, start + self.sample_chunk_size)
            if conditions:
                cond = self.layout_.vector(conditions, start, stop)
            else:
                cond = self.conditions_.sample_original(stop - start, generator)
            encoded = self._generate(cond, generator)
            chunks.append(self.layout_.enforce(encoded, conditions, start, stop).cpu())
        return torch.cat(chunks).numpy()
