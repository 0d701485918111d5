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


_LIKELY_SEPARATORS = (";", "\t", "|")


def read_table(path: str | Path, *, sep: str = ",", decimal: str = ".", encoding: str = "utf-8") -> pd.DataFrame:
    """Read a CSV or Parquet file (chosen by extension) into a DataFrame.

    ``sep``, ``decimal`` and ``encoding`` apply to CSV files. Raises
    :class:`~synthaug.exceptions.DataFileError` for a missing, empty, header-only or
    unreadable file, and for a CSV that does not parse as written: one column whose header
    holds a likely separator, or rows with more fields than the header.
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
            df = pd.read_csv(path, sep=sep, decimal=decimal, encoding=encoding)
        else:
            df = pd.read_parquet(path)
    except ImportError as exc:
        raise DataFileError(f"reading Parquet needs pyarrow: pip install 'synthaug[parquet]' ({exc})") from exc
    except pd.errors.EmptyDataError as exc:
        raise DataFileError(f"input file {str(path)!r} has no data") from exc
    except UnicodeDecodeError as exc:
        raise DataFileError(
            f"cannot read {str(path)!r} as {encoding}: {exc}; name its encoding (--encoding latin-1, cp1252, ...)"
        ) from exc
    except LookupError as exc:
        raise DataFileError(f"unknown encoding {encoding!r}: {exc}") from exc
    except (pd.errors.ParserError, OSError, ValueError) as exc:
        raise DataFileError(f"cannot read {str(path)!r}: {exc}") from exc
    if df.shape[1] == 0:
        raise DataFileError(f"input file {str(path)!r} has no columns")
    if df.shape[0] == 0:
        raise DataFileError(f"input file {str(path)!r} has a header but no rows")
    if fmt == "csv":
        _check_csv_shape(df, path, sep)
    return df


def _check_csv_shape(df: pd.DataFrame, path: Path, sep: str) -> None:
    """A CSV read with the wrong separator is one column, or rows longer than the header (pandas
    then takes the first fields as an index): refuse both instead of modelling garbage."""
    longer = not df.index.equals(pd.RangeIndex(len(df)))
    header = str(df.columns[0])
    found = [s for s in _LIKELY_SEPARATORS if s != sep and s in header]
    if found and (df.shape[1] == 1 or longer):
        raise DataFileError(
            f"{str(path)!r} parsed as one column, but its header {header[:60]!r} holds {found[0]!r}: pass --sep "
            f"{found[0]!r} (and --decimal ',' if numbers are written 1,5; in a pipeline input.sep and input.decimal, "
            "in Python read_table(path, sep=..., decimal=...))"
        )
    if longer:
        raise DataFileError(
            f"{str(path)!r}: rows have more fields than the header ({df.shape[1]} names); check the separator "
            f"(now {sep!r}) or the header line"
        )


def write_table(df: pd.DataFrame, path: str | Path, *, sep: str = ",", decimal: str = ".") -> str:
    """Write ``df`` to CSV (with ``sep`` and ``decimal``) or Parquet (by extension) atomically; returns the path."""
    fmt = table_format(path)
    with atomic_path(path) as tmp:
        if fmt == "csv":
            df.to_csv(tmp, index=False, sep=sep, decimal=decimal)
        else:
            try:
                df.to_parquet(tmp, index=False)
            except ImportError as exc:
                raise DataFileError(f"writing Parquet needs pyarrow: pip install 'synthaug[parquet]' ({exc})") from exc
    return str(path)


def write_table_chunks(
    chunks: Iterable[pd.DataFrame], path: str | Path, *, sep: str = ",", decimal: str = "."
) -> tuple[str, int]:
    """Write DataFrame chunks one after the other to one CSV (``sep``, ``decimal``) or Parquet
    file, atomically.

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
                    chunk.to_csv(handle, index=False, header=i == 0, sep=sep, decimal=decimal)
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
