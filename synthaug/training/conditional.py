"""Condition vectors and training-by-sampling, vectorised.

The condition vector concatenates one one-hot block per discrete column. During
training one discrete column is picked uniformly per row, a category of it by
(log-)frequency, and a real row holding that category is drawn: all in a few
tensor ops per batch, from per-category row indices precomputed once.
"""

from __future__ import annotations

import numpy as np
import torch


class ConditionSampler:
    """Draws condition vectors and matching real rows.

    Args:
        counts: ``(n_discrete, max_slots)`` row count of every category.
        n_slots: number of slots (categories) of each discrete column.
        order: training row indices sorted by category, column after column
            (see :meth:`from_codes`); without it only conditions can be drawn, not rows.
        log_frequency: draw categories with probability proportional to
            ``log(1 + count)`` (so rare categories are learnt), else to ``count``.
        device: where the index tensors live.
    """

    def __init__(
        self,
        counts: np.ndarray,
        n_slots: list[int],
        *,
        order: np.ndarray | None = None,
        log_frequency: bool = True,
        device: torch.device | str = "cpu",
    ) -> None:
        self.n_discrete = len(n_slots)
        self.n_slots = [int(k) for k in n_slots]
        self.cond_dim = int(sum(n_slots))
        self.device = torch.device(device)
        counts = np.asarray(counts, dtype=np.int64)
        counts = counts.reshape(self.n_discrete, -1) if self.n_discrete else np.zeros((0, 1), dtype=np.int64)
        self.n_rows = int(counts[0].sum()) if self.n_discrete else (0 if order is None else int(order.size))
        to = dict(device=self.device)
        self.counts = torch.as_tensor(counts, **to)
        self.order = torch.as_tensor(order, **to) if order is not None else None
        if self.n_discrete == 0:
            return
        weights = np.where(counts > 0, np.log1p(counts), 0.0) if log_frequency else counts.astype(float)
        train_probs = weights / weights.sum(axis=1, keepdims=True)
        empirical = counts / counts.sum(axis=1, keepdims=True)
        starts = np.cumsum(counts, axis=1) - counts + (np.arange(self.n_discrete) * self.n_rows)[:, None]
        self.train_cdf = torch.as_tensor(np.cumsum(train_probs, axis=1), dtype=torch.float64, **to)
        self.empirical_cdf = torch.as_tensor(np.cumsum(empirical, axis=1), dtype=torch.float64, **to)
        self.starts = torch.as_tensor(starts, **to)
        self.offsets = torch.as_tensor(np.concatenate([[0], np.cumsum(n_slots)[:-1]]).astype(np.int64), **to)
        self.n_slots_t = torch.as_tensor(self.n_slots, **to)

    @classmethod
    def from_codes(
        cls, codes: np.ndarray, n_slots: list[int], *, log_frequency: bool = True, device: torch.device | str = "cpu"
    ) -> ConditionSampler:
        """Build from the ``(n_rows, n_discrete)`` slot codes of the training rows."""
        codes = np.asarray(codes, dtype=np.int64).reshape(len(codes), len(n_slots))
        width = max(n_slots) if n_slots else 1
        counts = np.zeros((len(n_slots), width), dtype=np.int64)
        for j, k in enumerate(n_slots):  # a loop over columns, not rows
            counts[j, :k] = np.bincount(codes[:, j], minlength=k)[:k]
        if n_slots:
            order = np.concatenate([np.argsort(codes[:, j], kind="stable") for j in range(len(n_slots))])
        else:
            order = np.arange(codes.shape[0])
        return cls(counts, n_slots, order=order, log_frequency=log_frequency, device=device)

    def _draw(self, batch: int, cdf: torch.Tensor, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        col = torch.randint(self.n_discrete, (batch,), generator=generator, device=self.device)
        u = torch.rand(batch, generator=generator, device=self.device, dtype=torch.float64)
        cat = (u.unsqueeze(1) > cdf[col]).sum(dim=1)
        cat = torch.minimum(cat, self.n_slots_t[col] - 1)
        return col, cat

    def one_hot(self, col: torch.Tensor, cat: torch.Tensor, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        """Condition vectors with one active slot per row."""
        cond = torch.zeros((col.shape[0], self.cond_dim), device=self.device, dtype=dtype)
        cond[torch.arange(col.shape[0], device=self.device), self.offsets[col] + cat] = 1.0
        return cond

    def sample_train(
        self, batch: int, generator: torch.Generator, dtype: torch.dtype = torch.float32
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Condition vectors drawn by training-by-sampling and indices of real rows that match them."""
        if self.order is None and self.n_discrete:
            raise RuntimeError("this ConditionSampler was built without row indices")
        if self.n_discrete == 0:
            rows = torch.randint(self.n_rows, (batch,), generator=generator, device=self.device)
            return torch.zeros((batch, 0), device=self.device, dtype=dtype), rows
        col, cat = self._draw(batch, self.train_cdf, generator)
        u = torch.rand(batch, generator=generator, device=self.device, dtype=torch.float64)
        count = self.counts[col, cat]
        pick = torch.minimum((u * count).long(), count - 1)
        rows = self.order[self.starts[col, cat] + pick]
        return self.one_hot(col, cat, dtype), rows

    def sample_original(self, batch: int, generator: torch.Generator, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        """Condition vectors following the data's own category frequencies (for unconditional sampling)."""
        if self.n_discrete == 0:
            return torch.zeros((batch, 0), device=self.device, dtype=dtype)
        col, cat = self._draw(batch, self.empirical_cdf, generator)
        return self.one_hot(col, cat, dtype)

    def own_conditions(self, codes: torch.Tensor, generator: torch.Generator, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        """For each row of ``codes`` (its slot per discrete column), the one-hot condition of one
        uniformly chosen discrete column, read off the row itself."""
        batch = codes.shape[0]
        if self.n_discrete == 0:
            return torch.zeros((batch, 0), device=self.device, dtype=dtype)
        col = torch.randint(self.n_discrete, (batch,), generator=generator, device=self.device)
        cat = codes[torch.arange(batch, device=self.device), col]
        return self.one_hot(col, cat, dtype)
