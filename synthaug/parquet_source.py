"""A Parquet file or dataset read in bounded pieces, for fitting on tables larger than memory.

:class:`ParquetSource` reads through :mod:`pyarrow.dataset` (one file, or a folder of part files
such as :func:`synthaug.distributed.sample_to_parquet` writes) and never holds more than one chunk
of rows: it counts the rows from the file metadata, draws a uniform sample of rows without
replacement in one scan (the transformer is fitted on it), and yields an epoch's chunks with the
row groups in a fresh random order each epoch (the training loop shuffles rows within a chunk).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .exceptions import DataFileError

#: rows per chunk read and encoded at once while training (bounds the memory of a streamed fit)
DEFAULT_CHUNK_ROWS = 131_072


def is_parquet_path(value: Any) -> bool:
    """Whether ``value`` names a Parquet file (``.parquet``/``.pq``) or a folder of them."""
    if not isinstance(value, (str, os.PathLike)):
        return False
    path = Path(value)
    if path.suffix.lower() in (".parquet", ".pq"):
        return True
    return path.is_dir() and any(p.suffix.lower() in (".parquet", ".pq") for p in path.iterdir())


class ParquetSource:
    """Row counts, a uniform sample and shuffled chunks of a Parquet file or dataset folder.

    Args:
        path: a ``.parquet`` file or a folder of ``.parquet`` part files (one schema).
        chunk_rows: most rows per chunk that :meth:`epoch_chunks` yields (default :data:`DEFAULT_CHUNK_ROWS`).
    """

    def __init__(self, path: str | os.PathLike[str], chunk_rows: int | None = None) -> None:
        try:
            import pyarrow.dataset as ds
        except ImportError as exc:  # pragma: no cover - pyarrow is installed with pandas' parquet extra
            raise DataFileError(f"reading Parquet needs pyarrow: pip install 'synthaug[parquet]' ({exc})") from exc
        self.path = Path(path)
        if not self.path.exists():
            raise DataFileError(f"input {str(self.path)!r} does not exist")
        try:
            dataset = ds.dataset(self.path, format="parquet")
            self._pieces = [piece for fragment in dataset.get_fragments() for piece in fragment.split_by_row_group()]
            self._piece_rows = np.array([sum(g.num_rows for g in piece.row_groups) for piece in self._pieces], dtype=np.int64)
        except (OSError, ValueError) as exc:
            raise DataFileError(f"cannot read {str(self.path)!r} as Parquet: {exc}") from exc
        self.columns = list(dataset.schema.names)
        self.chunk_rows = int(DEFAULT_CHUNK_ROWS if chunk_rows is None else chunk_rows)
        self.n_rows = int(self._piece_rows.sum())
        if self.n_rows == 0:
            raise DataFileError(f"input {str(self.path)!r} has no rows")
        if not self.columns:
            raise DataFileError(f"input {str(self.path)!r} has no columns")

    def _batches(self, piece: Any) -> Iterator[pd.DataFrame]:
        for batch in piece.to_batches(batch_size=self.chunk_rows):
            if batch.num_rows:
                yield batch.to_pandas()

    def uniform_sample(self, n: int, rng: np.random.RandomState) -> pd.DataFrame:
        """``min(n, n_rows)`` rows drawn uniformly without replacement, in file order (one scan)."""
        if n >= self.n_rows:
            return pd.concat(list(self.epoch_chunks(None)), ignore_index=True)
        chosen = np.sort(rng.choice(self.n_rows, size=n, replace=False))
        parts, start = [], 0
        for piece, rows in zip(self._pieces, self._piece_rows, strict=True):
            mine = chosen[(chosen >= start) & (chosen < start + rows)] - start
            offset = 0
            for frame in self._batches(piece) if mine.size else ():
                here = mine[(mine >= offset) & (mine < offset + len(frame))] - offset
                parts.append(frame.iloc[here])
                offset += len(frame)
            start += int(rows)
        return pd.concat(parts, ignore_index=True)

    def epoch_chunks(self, rng: np.random.RandomState | None) -> Iterator[pd.DataFrame]:
        """Every row once, in chunks of at most ``chunk_rows``; row groups in a random order
        drawn from ``rng`` (file order when ``rng`` is None)."""
        order = np.arange(len(self._pieces)) if rng is None else rng.permutation(len(self._pieces))
        for index in order:
            yield from self._batches(self._pieces[index])


__all__ = ["DEFAULT_CHUNK_ROWS", "ParquetSource", "is_parquet_path"]
