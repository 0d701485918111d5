"""Reversible encodings of tables (and, later, images) for generative networks."""

from .columns import CategoryEncoder, ModeEncoder
from .released import ReleasedNumeric, ReleasedStatistics
from .spans import Span, span_offsets
from .tabular import TabularTransformer

__all__ = [
    "TabularTransformer",
    "Span",
    "span_offsets",
    "ModeEncoder",
    "CategoryEncoder",
    "ReleasedNumeric",
    "ReleasedStatistics",
]
