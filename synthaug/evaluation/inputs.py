"""What a table metric is computed on: one object in place of a repeated list of keywords."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pandas as pd

from ..schema import TableSchema, infer_schema


@dataclass
class TableInputs:
    """The tables, target / sensitive columns, schema and seed of a table metric.

    ``cache`` holds work that several metrics share within one suite (the leakage metrics'
    encoding and nearest-neighbour searches); it is not a public argument.
    """

    KIND: ClassVar[str] = "table"
    NEEDS: ClassVar[dict[str, tuple[str, str]]] = {
        "holdout": ("real_holdout", "needs a real_holdout (real rows kept out of training)"),
        "target": ("target", "needs a target column (none given)"),
        "sensitive": ("sensitive", "needs a sensitive column (none given)"),
    }

    real_train: pd.DataFrame
    synthetic: pd.DataFrame
    real_holdout: pd.DataFrame | None = None
    target: str | None = None
    sensitive: str | None = None
    schema: TableSchema | None = None
    random_state: Any = None
    cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False, metadata={"public": False})

    def __post_init__(self) -> None:
        """Identifier columns (kind ``id``, declared or detected) are not compared: synthetic
        identifiers are fresh by design. They leave the tables and the schema here."""
        if not isinstance(self.real_train, pd.DataFrame) or len(self.real_train) == 0 or self.real_train.shape[1] == 0:
            return  # the metrics' own checks name the problem
        if self.schema is None:
            self.schema = infer_schema(self.real_train)
        identifiers = [spec.name for spec in self.schema if spec.kind == "id"]
        if not identifiers:
            return
        self.schema = TableSchema([spec for spec in self.schema if spec.kind != "id"])
        for label in ("real_train", "synthetic", "real_holdout"):
            table = getattr(self, label)
            if isinstance(table, pd.DataFrame):
                setattr(self, label, table.drop(columns=[c for c in identifiers if c in table.columns]))

    def missing(self, need: str) -> str | None:
        """The reason the inputs lack ``need`` (see ``NEEDS``), or None."""
        attribute, why = self.NEEDS[need]
        return why if getattr(self, attribute) is None else None

    def shared(self, key: str, build: Callable[[], Any]) -> Any:
        """``build()`` once per inputs object, then the same value."""
        if key not in self.cache:
            self.cache[key] = build()
        return self.cache[key]
