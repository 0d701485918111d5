"""Fitting from a Parquet file or dataset larger than memory (``fit("table.parquet")``).

What is fitted on what:

* the schema, identifier formats, rare-category merging and the transformer: a uniform sample of
  :data:`FIT_SAMPLE_ROWS` rows drawn in one scan of the file (the transformers already fit on at
  most 100,000 rows of an in-memory table, so this changes nothing for them);
* the networks: every row, epoch after epoch, read in chunks of at most
  :data:`~synthaug.parquet_source.DEFAULT_CHUNK_ROWS` rows (row groups in a fresh random order
  each epoch, rows shuffled within a chunk), each chunk encoded on the fly and dropped after its
  steps: no full encoded matrix, so memory stays flat as rows grow.

Values the sample never saw are handled as the fitted model sees them: a category absent from the
fitted ones becomes :data:`~synthaug.rare_categories.RARE_CATEGORY` where the model has that
level, and a row is skipped otherwise (also one with a missing value in a column the sample had
complete); the number skipped is reported in a warning and in ``stream_skipped_rows_``.

Under DP the fit is refused: DP-SGD's guarantee rests on Poisson sampling, every row joining each
step independently, which a sequential scan cannot give without holding or re-reading all rows
per step; a private fit needs the table in memory (``fit(pandas.read_parquet(path), dp=...)``).
Rows within a chunk are mixed but chunks follow the file's row groups: a file sorted by a column
is learnt from windows of that order, so write large tables in random order or small row groups.
"""

from __future__ import annotations

import os
import warnings
from abc import abstractmethod
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pandas as pd
import torch

from ..exceptions import DataValidationError, ParameterError, PrivacyError, SynthaugWarning
from ..parquet_source import ParquetSource
from ..rare_categories import RARE_CATEGORY, merge_rare_categories
from ..schema import TableSchema
from ..training.callbacks import validation_fraction
from ..training.data_parallel import world
from ..training.streaming import RowStore, StreamedBatches
from .core import draw_seed

#: rows of the uniform sample that the schema and transformer are fitted on
FIT_SAMPLE_ROWS = 100_000

#: one epoch's chunks as a model's row arrays (see :meth:`StreamedFit._row_arrays`)
RowChunks = Callable[[], Iterator[dict[str, np.ndarray]]]


def conform_chunk(frame: pd.DataFrame, schema: TableSchema) -> tuple[pd.DataFrame, int]:
    """``frame`` limited to values the fitted ``schema`` models: unknown categories become
    ``RARE_CATEGORY`` where the column has that category; rows still outside (unknown values,
    missing values in a complete column, infinite numbers) are dropped. Returns the rows kept
    and the number dropped."""
    keep = np.ones(len(frame), dtype=bool)
    out = frame
    for spec in schema:
        series = frame[spec.name]
        missing = series.isna().to_numpy()
        bad = missing & (not spec.nullable)
        if spec.categories is not None:
            unknown = ~series.isin(spec.categories).to_numpy() & ~missing
            if unknown.any() and RARE_CATEGORY in spec.categories:
                out = out if out is not frame else frame.copy()
                out[spec.name] = series.astype(object).where(~unknown, RARE_CATEGORY)
                unknown = np.zeros_like(unknown)
            bad |= unknown
        elif spec.kind in ("continuous", "integer"):
            bad |= np.isinf(series.to_numpy(dtype=float, na_value=np.nan))
        keep &= ~bad
    dropped = int((~keep).sum())
    return (out if dropped == 0 else out.loc[keep].reset_index(drop=True)), dropped


class StreamedFit:
    """Mixin of the models that can train from a Parquet file in chunks (see module docstring).

    A model supplies :meth:`_row_arrays` (its encoded rows as named arrays) and :meth:`_fit_rows`
    (networks and training over a :class:`~synthaug.training.streaming.RowStore`, from the rows
    given or, with ``chunks``, epoch after epoch from the file).
    """

    @abstractmethod
    def _row_arrays(self, data: np.ndarray) -> dict[str, np.ndarray]:
        """The encoded rows ``data`` as the named arrays the model's losses read from its RowStore."""

    @abstractmethod
    def _fit_rows(
        self, rows: dict[str, np.ndarray], rng: np.random.RandomState, private: Any = None, chunks: RowChunks | None = None
    ) -> dict[str, Any] | None:
        """Build the networks and train them on ``rows`` (or, with ``chunks``, on every epoch's
        chunks of the file); returns the privacy ledger of a DP fit, else None."""

    def _fit_encoded(self, data: np.ndarray, rng: np.random.RandomState, private: Any = None) -> dict[str, Any] | None:
        self._layout()
        return self._fit_rows(self._row_arrays(data), rng, private)

    def _row_batches(self, store: RowStore, chunks: RowChunks | None, generator: torch.Generator) -> StreamedBatches | None:
        """The streamed batches over ``chunks`` loading into ``store`` (None for an in-memory fit)."""
        if chunks is None:
            return None

        def tensors() -> Iterator[dict[str, torch.Tensor]]:
            for rows in chunks():
                yield self._row_tensors(rows)

        return StreamedBatches(tensors, store, self.batch_size, generator)

    def _row_tensors(self, rows: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
        """Row arrays as tensors on the model's device (floats as float32, codes as int64)."""
        to = {"device": self.device_}
        return {
            name: torch.as_tensor(values, dtype=torch.float32 if values.dtype.kind == "f" else torch.int64, **to)
            for name, values in rows.items()
        }

    def _fit_parquet(self, path: str | os.PathLike[str], y: Any) -> Any:
        """``fit`` from a Parquet file or folder, in chunks (see module docstring)."""
        rng, dp = self._begin_fit()
        if dp is not None:
            raise PrivacyError(
                "a DP fit cannot stream a Parquet file: DP-SGD's accounting assumes Poisson sampling (every row joins "
                "each step independently), which a sequential scan cannot give; load the table into memory "
                "(fit(pandas.read_parquet(path))) for a private fit"
            )
        if world()[1] > 1:
            raise ParameterError("fitting from a Parquet path runs in one process; drop --nproc / torchrun for it")
        if y is not None:
            raise DataValidationError("fit from a Parquet path reads the whole table from the file; pass y=None")
        if validation_fraction(self.callbacks) > 0:
            raise ParameterError("callbacks that hold out validation rows cannot be used when fitting from a Parquet path")
        source = ParquetSource(path)
        sample = self._fit_on_sample(source.uniform_sample(FIT_SAMPLE_ROWS, rng), rng)
        self._layout()
        self.n_training_rows_ = source.n_rows

        def chunks() -> Iterator[dict[str, np.ndarray]]:
            self.stream_skipped_rows_ = 0  # per epoch: the same rows are skipped in every epoch
            for frame in source.epoch_chunks(rng):
                frame, dropped = conform_chunk(frame.drop(columns=list(self.identifiers_)), self.schema_)
                self.stream_skipped_rows_ += dropped
                if len(frame):
                    yield self._row_arrays(self._encode_training_data(frame, rng))

        ledger = self._fit_rows(self._row_arrays(self._encode_training_data(sample, rng)), rng, None, chunks)
        self._warn_skipped(source)
        self._end_fit(rng, ledger)
        return self

    def _fit_on_sample(self, sample: pd.DataFrame, rng: np.random.RandomState) -> pd.DataFrame:
        """Columns, identifiers, rare categories, schema and transformer from the sample rows;
        returns the sample as the model sees it."""
        frame = self._input_frame(sample, None)
        frame, schema = self._set_identifiers_aside(frame, self._declared_schema(frame), private=False)
        limits = {"min_count": self.min_category_count, "max_categories": self.max_categories}
        frame = merge_rare_categories(frame, schema, **limits, exclude=set())
        self.transformer_ = self._make_transformer(draw_seed(rng), schema).fit(frame)
        self.schema_ = self.transformer_.schema_
        return frame

    def _warn_skipped(self, source: ParquetSource) -> None:
        skipped = getattr(self, "stream_skipped_rows_", 0)
        if skipped:
            warnings.warn(
                f"{skipped} of {source.n_rows} rows of {str(source.path)!r} were skipped: they hold categories "
                f"or missing values that the {FIT_SAMPLE_ROWS}-row sample the model was fitted on never saw. Declare "
                "the columns' categories (and nullable=True) in the schema to train on them.",
                SynthaugWarning,
                stacklevel=3,
            )


__all__ = ["FIT_SAMPLE_ROWS", "StreamedFit", "conform_chunk"]
