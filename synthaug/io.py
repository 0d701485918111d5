"""Reading and writing tables (CSV, Parquet) with clear errors and atomic writes."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from .atomic import atomic_path
from .exceptions import DataFileError

_CSV = (".csv", ".txt")
_PARQUET = (".parquet", ".pq")


def table_format(path: str | Path) -> str:
    suffix = Path(path).suffix.lower()
    if suffix in _CSV:
        return "csv"
    if suffix in _PARQUET:
        return "parquet"
    raise DataFileError(f"{str(path)!r}: unsupported file type {suffix or '(none)'}; use .csv or .parquet")


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV or Parquet file (chosen by extension) into a DataFrame.

    Raises :class:`~synthaug.exceptions.DataFileError` for a missing, empty,
    header-only or unreadable file.
    """
    path = Path(path)
    fmt = table_format(path)
    if not path.exists():
        raise DataFileError(f"input file {str(path)!r} does not exist")
    if not path.is_file():
        raise DataFileError(f"input {str(path)!r} is not a file")
    if path.stat().st_size == 0:
        raise DataFileError(f"input file {str(path)!r} is empty")
    try:
        if fmt == "csv":
            df = pd.read_csv(path)
        else:
            df = pd.read_parquet(path)
    except ImportError as exc:
        raise DataFileError(f"reading Parquet needs pyarrow: pip install 'synthaug[parquet]' ({exc})") from exc
    except pd.errors.EmptyDataError as exc:
        raise DataFileError(f"input file {str(path)!r} has no data") from exc
    except (pd.errors.ParserError, UnicodeDecodeError, OSError, ValueError) as exc:
        raise DataFileError(f"cannot read {str(path)!r}: {exc}") from exc
    if df.shape[1] == 0:
        raise DataFileError(f"input file {str(path)!r} has no columns")
    if df.shape[0] == 0:
        raise DataFileError(f"input file {str(path)!r} has a header but no rows")
    return df


def write_table(df: pd.DataFrame, path: str | Path) -> str:
    """Write ``df`` to CSV or Parquet (by extension) atomically; returns the path."""
    fmt = table_format(path)
    with atomic_path(path) as tmp:
        if fmt == "csv":
            df.to_csv(tmp, index=False)
        else:
            try:
                df.to_parquet(tmp, index=False)
            except ImportError as exc:
                raise DataFileError(f"writing Parquet needs pyarrow: pip install 'synthaug[parquet]' ({exc})") from exc
    return str(path)


def write_table_chunks(chunks: Iterable[pd.DataFrame], path: str | Path) -> tuple[str, int]:
    """Write DataFrame chunks one after the other to one CSV or Parquet file, atomically.

    Memory stays bounded by one chunk (Parquet: one row group per chunk, through pyarrow's
    ``ParquetWriter``). Nothing appears at ``path`` unless every chunk was written.
    Returns the path and the number of rows written.
    """
    fmt = table_format(path)
    rows = 0
    with atomic_path(path) as tmp:
        if fmt == "csv":
            with open(tmp, "w", encoding="utf-8", newline="") as handle:
                for i, chunk in enumerate(chunks):
                    chunk.to_csv(handle, index=False, header=i == 0)
                    rows += len(chunk)
            return str(path), rows
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError as exc:
            raise DataFileError(f"writing Parquet needs pyarrow: pip install 'synthaug[parquet]' ({exc})") from exc
        writer = None
        try:
            for chunk in chunks:
                table = pa.Table.from_pandas(chunk, preserve_index=False)
                if writer is None:
                    writer = pq.ParquetWriter(tmp, table.schema)
                writer.write_table(table)
                rows += len(chunk)
        finally:
            if writer is not None:
                writer.close()
    return str(path), rows
