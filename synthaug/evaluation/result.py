"""The value every metric returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Direction = Literal["higher", "lower"]


@dataclass(frozen=True)
class MetricResult:
    """A metric's value, which direction is better, and per-part details."""

    name: str
    value: float
    direction: Direction
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "value": self.value, "direction": self.direction, "details": self.details}
