"""Layout of an encoded row: consecutive spans, each with an output activation."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

Activation = Literal["tanh", "softmax"]
Role = Literal["value", "mode", "category", "missing"]


@dataclass(frozen=True)
class Span:
    """A block of ``dim`` consecutive encoded features belonging to one column.

    ``activation`` tells a network how to produce it (``tanh`` for a scalar in
    [-1, 1], ``softmax`` for a one-hot block); ``role`` tells what it encodes.
    """

    dim: int
    activation: Activation
    column: str
    role: Role

    def to_dict(self) -> dict:
        return asdict(self)


def span_offsets(spans: list[Span]) -> list[tuple[int, int]]:
    """Start/stop indices of every span in the encoded vector."""
    out, start = [], 0
    for span in spans:
        out.append((start, start + span.dim))
        start += span.dim
    return out
