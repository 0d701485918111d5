"""Rare and surplus text categories: merged into one value so that none is replayed verbatim.

A text value seen in one or two rows (a name, an address, a date typed in its own format)
identifies those rows; a model that treats it as a category writes it back unchanged. Before
a non-private fit, text categories seen in fewer than ``min_category_count`` rows, and those
beyond the ``max_categories`` most frequent, become :data:`RARE_CATEGORY`, with a
:class:`~synthaug.exceptions.RareCategoryWarning` naming the columns. (Under differential
privacy the private release of the categories drops rare ones by itself.)
"""

from __future__ import annotations

import warnings

import pandas as pd

from .exceptions import RareCategoryWarning
from .schema import TableSchema

#: the value merged categories take in the training rows and in the synthetic ones
RARE_CATEGORY = "_RARE_"


def _is_text(series: pd.Series) -> bool:
    dtype = series.dtype
    if not (pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype)):
        return False
    return pd.api.types.infer_dtype(series, skipna=True) in ("string", "empty")


def _kept_levels(series: pd.Series, min_count: int, max_categories: int | None) -> pd.Index:
    counts = series.value_counts(sort=True)
    kept = counts[counts >= min_count]
    return kept.index if max_categories is None else kept.index[:max_categories]


def merge_rare_categories(
    frame: pd.DataFrame,
    schema: TableSchema | None,
    *,
    min_count: int,
    max_categories: int | None,
    exclude: set[str],
) -> pd.DataFrame:
    """``frame`` with the rare and surplus categories of its text columns replaced by
    :data:`RARE_CATEGORY` (columns in ``exclude``, and those whose categories ``schema``
    declares, are left alone); warns naming each changed column."""
    merged: dict[str, tuple[int, int]] = {}
    out = frame
    for column in frame.columns:
        declared = schema is not None and column in schema and schema[column].categories is not None
        series = frame[column]
        if column in exclude or declared or not _is_text(series):
            continue
        kept = _kept_levels(series, min_count, max_categories)
        rare = series.notna() & ~series.isin(kept)
        if not rare.any():
            continue
        if out is frame:
            out = frame.copy()
        values = series.astype(object).where(~rare, RARE_CATEGORY)
        out[column] = values.astype("category") if isinstance(series.dtype, pd.CategoricalDtype) else values.astype(series.dtype)
        merged[column] = (int(series[rare].nunique()), int(rare.sum()))
    if merged:
        _warn(merged, min_count, max_categories)
    return out


def merge_as_seen(frame: pd.DataFrame, merged_reference: pd.DataFrame) -> pd.DataFrame:
    """``frame`` (e.g. held-out rows) with each value that :func:`merge_rare_categories` merged away
    in ``merged_reference`` (the merged training rows) replaced by :data:`RARE_CATEGORY`: the
    table as the fitted model sees it, in the columns where the reference holds merged values."""
    out = frame.copy()
    for column in merged_reference.columns:
        reference = merged_reference[column]
        if column not in frame.columns or not _is_text(frame[column]) or not (reference == RARE_CATEGORY).any():
            continue
        series = frame[column]
        rare = series.notna() & ~series.isin(pd.unique(reference.dropna()))
        out[column] = series.astype(object).where(~rare, RARE_CATEGORY)
    return out


def _warn(merged: dict[str, tuple[int, int]], min_count: int, max_categories: int | None) -> None:
    parts = [f"{column!r}: {levels} values in {rows} rows" for column, (levels, rows) in merged.items()]
    cap = f" or beyond the {max_categories} most frequent" if max_categories is not None else ""
    warnings.warn(
        f"text categories seen in fewer than {min_count} rows{cap} were merged into {RARE_CATEGORY!r} so that no rare "
        f"value is replayed verbatim ({'; '.join(parts)}). Set min_category_count=1 and max_categories=None to keep "
        "them, or declare the column's categories in the schema.",
        RareCategoryWarning,
        stacklevel=4,
    )
