"""Training rows held as tensors that a streamed fit replaces chunk by chunk.

A per-row loss reads its rows as ``store[name][rows]``. In memory the :class:`RowStore` holds
every row once; a fit from a Parquet file larger than memory (see
:mod:`synthaug.synthesizers.streamed`) loads one encoded chunk at a time, and
:class:`StreamedBatches` cuts each chunk into shuffled batches of indices into it, so the same
loss functions serve both paths.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import torch


class RowStore:
    """Named tensors of the rows trained on, one row per index of the first dimension."""

    def __init__(self, **tensors: torch.Tensor) -> None:
        self.tensors: dict[str, torch.Tensor] = {}
        self.load(**tensors)

    def load(self, **tensors: torch.Tensor) -> None:
        """Replace the rows held (every tensor with the same number of rows)."""
        if len({t.shape[0] for t in tensors.values()}) > 1:
            raise ValueError(f"row counts differ: { {k: t.shape[0] for k, t in tensors.items()} }")
        self.tensors = dict(tensors)

    def __getitem__(self, name: str) -> torch.Tensor:
        return self.tensors[name]

    @property
    def n_rows(self) -> int:
        return next(iter(self.tensors.values())).shape[0] if self.tensors else 0


class StreamedBatches:
    """One epoch: every chunk that ``chunks()`` yields, loaded into ``store`` in turn and cut into
    batches of ``batch_size`` rows in a fresh random order (the last batch of a chunk may be
    smaller). ``chunks`` is called once per epoch and yields each chunk's tensors by name."""

    def __init__(
        self,
        chunks: Callable[[], Iterator[dict[str, torch.Tensor]]],
        store: RowStore,
        batch_size: int,
        generator: torch.Generator,
    ) -> None:
        self.chunks, self.store, self.batch_size, self.generator = chunks, store, batch_size, generator

    def epoch_batches(self) -> Iterator[torch.Tensor]:
        for tensors in self.chunks():
            self.store.load(**tensors)
            n = self.store.n_rows
            device = next(iter(tensors.values())).device
            order = torch.randperm(n, generator=self.generator, device=device)
            for start in range(0, n, self.batch_size):
                yield order[start : start + self.batch_size]


__all__ = ["RowStore", "StreamedBatches"]
