"""What a sampling condition on a numeric column asks for: a closed range of values.

``conditions={"age": (30, 40)}`` (or ``"30..40"`` from a command line, ``(30, None)`` /
``"30.."`` for an open end, a single value ``35`` for exactly that value) becomes a
:class:`NumericRange` in the units of :func:`~synthaug.transform.columns.to_float` (datetimes as
seconds). Only synthesizers with ``range_conditions = True`` take them; every returned row then
lies in the range, and :func:`clip_to_range` guards the last float rounding of the way back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import ConditionError, DataValidationError
from ..schema import ColumnSpec
from ..transform.columns import from_float, to_float

RANGE_SEPARATOR = ".."


@dataclass(frozen=True)
class NumericRange:
    """``low <= value <= high`` for a numeric column (``-inf`` / ``inf`` for an open end)."""

    low: float
    high: float


def _bound(spec: ColumnSpec, value: Any, default: float) -> float:
    if value is None or (isinstance(value, str) and value.strip() == ""):
        return default
    try:
        number = float(to_float(pd.Series([value.strip() if isinstance(value, str) else value]), spec)[0])
    except DataValidationError as exc:
        problem = f"{value!r} is not a valid {spec.kind} value"
        raise ConditionError(f"condition on {spec.kind} column {spec.name!r}: {problem}") from exc
    if np.isnan(number):
        raise ConditionError(f"condition on {spec.name!r}: a missing value cannot bound a range")
    return number


def numeric_range(spec: ColumnSpec, value: Any) -> NumericRange:
    """The range a condition value asks of numeric column ``spec``: ``(low, high)``, ``"low..high"``
    (either end may be left out), or a single value."""
    if isinstance(value, str) and RANGE_SEPARATOR in value:
        low, high = value.split(RANGE_SEPARATOR, 1)
    elif isinstance(value, tuple | list) and len(value) == 2:
        low, high = value
    elif np.ndim(value) == 0:
        low = high = value
    else:
        raise ConditionError(
            f"condition on {spec.kind} column {spec.name!r}: give one value, a (low, high) pair or 'low..high', got {value!r}"
        )
    result = NumericRange(_bound(spec, low, -np.inf), _bound(spec, high, np.inf))
    if result.low > result.high:
        raise ConditionError(f"condition on {spec.name!r}: the range {value!r} is empty (low > high)")
    return result


def clip_to_range(values: pd.Series, spec: ColumnSpec, bounds: NumericRange) -> pd.Series:
    """``values`` (generated for a range condition) held inside the range, in the column's dtype."""
    x = to_float(values, spec)
    low, high = bounds.low, bounds.high
    if spec.kind == "integer":
        low, high = np.ceil(low), np.floor(high)
    return from_float(np.clip(x, low, high), spec).set_axis(values.index)


__all__ = ["RANGE_SEPARATOR", "NumericRange", "clip_to_range", "numeric_range"]
