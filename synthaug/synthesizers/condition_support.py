"""Which conditions each synthesizer takes, checked before training and without torch.

The CLI answers an impossible condition (a numeric range for CTGAN, several columns for the
flow) before it imports torch or fits anything. The capabilities of each registered model are
listed here; each class's ``multi_column_conditions`` / ``range_conditions`` must agree (tested).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import ConditionError
from ..schema import TableSchema, dtype_schema, infer_schema
from .condition_values import numeric_range

#: registry name -> (class name, several columns at once, numeric values and ranges)
CONDITION_SUPPORT: dict[str, tuple[str, bool, bool]] = {
    "ctgan": ("CTGANSynthesizer", False, False),
    "tvae": ("TVAESynthesizer", False, False),
    "flow": ("FlowSynthesizer", False, False),
    "diffusion": ("DiffusionSynthesizer", True, False),
    "autoregressive": ("AutoregressiveSynthesizer", True, True),
    "marginal": ("MarginalSynthesizer", True, True),
}


def support_problem(class_name: str, multi: bool, ranges: bool, columns: list[str], numeric: list[str]) -> str | None:
    """Why a model with these capabilities cannot condition on ``columns`` (``numeric``: those of
    them that are numeric), or ``None`` when it can."""
    if numeric and not ranges:
        return (
            f"condition on numeric column {numeric[0]!r}: {class_name} conditions only on categorical and boolean "
            "columns; the 'autoregressive' model also takes numeric values and ranges"
        )
    if len(columns) > 1 and not multi:
        return (
            f"conditions on {columns}: {class_name} conditions on one column at a time (it was trained with one "
            "condition per row, so several at once would not follow the data); 'autoregressive' takes any set of "
            "columns, 'diffusion' several categorical ones"
        )
    return None


def problem_of(name: str) -> Callable[[list[str], list[str]], str | None] | None:
    """The ``problem`` check of the model registered as ``name`` (None for ``auto``, which narrows
    its candidates to the capable ones itself)."""
    if name not in CONDITION_SUPPORT:
        return None
    return lambda columns, numeric: support_problem(*CONDITION_SUPPORT[name], columns, numeric)


def check_conditions(
    frame: pd.DataFrame,
    conditions: Mapping[str, Any],
    problem: Callable[[list[str], list[str]], str | None] | None = None,
    *,
    schema: TableSchema | None = None,
    private: bool = False,
) -> list[str]:
    """Fail early (before training) on a condition that ``sample`` would refuse: an unknown column,
    several columns or a numeric range that ``problem(columns, numeric)`` (e.g.
    :func:`problem_of`) refuses, a malformed range,
    and (unless ``private``: the message would show private values) a category absent from
    ``frame``. Column kinds come from ``schema``, else from the dtypes (``private``) or inference.
    Returns the conditioned columns that are numeric."""
    if not conditions:
        return []
    columns = [str(c) for c in frame.columns]
    for column in conditions:
        if str(column) not in columns:
            raise ConditionError(f"condition on unknown column {column!r}; columns are {columns}")
    named = frame[[str(c) for c in conditions]]
    if schema is None or any(str(c) not in schema for c in conditions):
        schema = dtype_schema(named) if private else infer_schema(named)
    identifiers = [str(c) for c in conditions if schema[str(c)].kind == "id"]
    if identifiers:
        raise ConditionError(f"condition on {identifiers[0]!r}: it is an identifier column (not modelled, fresh values)")
    numeric = [str(c) for c in conditions if not schema[str(c)].is_discrete]
    reason = problem([str(c) for c in conditions], numeric) if problem is not None else None
    if reason:
        raise ConditionError(reason)
    for column, value in conditions.items():
        if str(column) in numeric:
            numeric_range(schema[str(column)], value)
        elif not private:
            _check_seen(named[str(column)], str(column), value)
    return numeric


def _check_seen(values: pd.Series, column: str, value: Any) -> None:
    seen = {str(v) for v in values.dropna().unique()}
    requested = [value] if np.ndim(value) == 0 else list(value)
    unseen = sorted({str(v) for v in requested} - seen)
    if unseen:
        raise ConditionError(f"condition {column}={unseen[:5]}: value not present in the data; seen values: {sorted(seen)[:20]}")
