"""Table schemas: what kind each column is, its domain, and what is public.

A :class:`TableSchema` is an ordered list of :class:`ColumnSpec`. It is either
inferred from a DataFrame with :func:`infer_schema` or declared by the user, and
it round-trips through JSON so it can be saved beside a model.

``public=True`` on a column means its domain (categories or bounds) is public
knowledge: reading it costs no privacy budget (used by the DP machinery).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from .codecs import register_codec
from .exceptions import DataValidationError, SchemaError
from .identifiers import looks_like_identifier, warn_identifiers

KINDS: tuple[str, ...] = ("continuous", "integer", "categorical", "boolean", "datetime", "id")
NUMERIC_KINDS = ("continuous", "integer", "datetime")
DISCRETE_KINDS = ("categorical", "boolean")
#: largest magnitude of a numeric value or bound (squares of larger floats overflow)
MAX_MAGNITUDE = 1e150
_OVERRIDE_KEYS = ("kind", "categories", "bounds", "nullable", "public", "dtype")


def _to_python(value: Any) -> Any:
    """Turn numpy / pandas scalars into plain JSON-friendly Python values."""
    if isinstance(value, (np.generic,)):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


@dataclass
class ColumnSpec:
    """Description of one column.

    Attributes:
        name: column name.
        kind: one of ``continuous, integer, categorical, boolean, datetime, id``; an ``id``
            column (identifiers) is not modelled: synthetic rows get fresh values in its format.
        dtype: pandas dtype the column is restored to (e.g. ``"float64"``, ``"str"``).
        nullable: whether the column may hold missing values.
        categories: allowed values for categorical/boolean columns.
        bounds: ``(low, high)`` for numeric columns; ISO strings for datetimes.
        public: the domain (categories/bounds) is public knowledge.
    """

    name: str
    kind: str
    dtype: str = "float64"
    nullable: bool = False
    categories: list[Any] | None = None
    bounds: tuple[Any, Any] | None = None
    public: bool = False

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise SchemaError(f"column {self.name!r}: unknown kind {self.kind!r}; allowed kinds are {', '.join(KINDS)}")
        if self.categories is not None:
            if self.kind not in DISCRETE_KINDS:
                raise SchemaError(f"column {self.name!r}: categories given for a {self.kind} column")
            self.categories = [_to_python(c) for c in self.categories]
            if len(self.categories) == 0:
                raise SchemaError(f"column {self.name!r}: empty category list")
            if len(set(map(repr, self.categories))) != len(self.categories):
                raise SchemaError(f"column {self.name!r}: duplicate categories in {self.categories!r}")
        if self.bounds is not None:
            if self.kind not in NUMERIC_KINDS:
                raise SchemaError(f"column {self.name!r}: bounds given for a {self.kind} column")
            low, high = (_to_python(b) for b in self.bounds)
            if self.kind != "datetime":
                low, high = float(low), float(high)
            elif pd.Timestamp(low) > pd.Timestamp(high):
                raise SchemaError(f"column {self.name!r}: lower bound {low} above upper bound {high}")
            if self.kind != "datetime" and not low <= high:
                raise SchemaError(f"column {self.name!r}: lower bound {low} above upper bound {high}")
            if self.kind != "datetime" and max(abs(low), abs(high)) > MAX_MAGNITUDE:
                raise SchemaError(
                    f"column {self.name!r}: values or bounds reach {max(abs(low), abs(high)):.3g} in magnitude; synthaug "
                    f"models numbers up to {MAX_MAGNITUDE:.0e} (their squares overflow beyond): rescale the column "
                    "(a unit change, or log10 of it) before fitting"
                )
            self.bounds = (low, high)
        if self.public:
            self._check_public_domain()

    def _check_public_domain(self) -> None:
        """``public=True`` must come with the domain it declares public (never one read from data)."""
        if self.kind == "categorical" and self.categories is None:
            raise SchemaError(
                f"column {self.name!r}: public=True needs the public category list; declare 'categories' "
                "(from public knowledge, not from the private table)"
            )
        if self.kind in NUMERIC_KINDS and self.bounds is None:
            raise SchemaError(
                f"column {self.name!r}: public=True needs public bounds; declare 'bounds' = [low, high] "
                "(from public knowledge, not from the private table)"
            )

    @property
    def is_discrete(self) -> bool:
        return self.kind in DISCRETE_KINDS

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["bounds"] = list(self.bounds) if self.bounds is not None else None
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ColumnSpec:
        unknown = set(data) - {"name", *_OVERRIDE_KEYS}
        if unknown:
            raise SchemaError(f"unknown column-spec keys {sorted(unknown)}; allowed: name, {', '.join(_OVERRIDE_KEYS)}")
        if "name" not in data or "kind" not in data:
            raise SchemaError(f"a column spec needs 'name' and 'kind', got {dict(data)!r}")
        bounds = data.get("bounds")
        return cls(
            name=data["name"],
            kind=data["kind"],
            dtype=data.get("dtype", "float64"),
            nullable=bool(data.get("nullable", False)),
            categories=data.get("categories"),
            bounds=tuple(bounds) if bounds is not None else None,
            public=bool(data.get("public", False)),
        )


@dataclass
class TableSchema:
    """An ordered collection of :class:`ColumnSpec`."""

    columns: list[ColumnSpec] = field(default_factory=list)

    def __post_init__(self) -> None:
        names = [c.name for c in self.columns]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise SchemaError(f"duplicate column names in schema: {dupes}")

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def __getitem__(self, name: str) -> ColumnSpec:
        for col in self.columns:
            if col.name == name:
                return col
        raise SchemaError(f"unknown column {name!r}; columns are {self.names}")

    def __contains__(self, name: object) -> bool:
        return any(c.name == name for c in self.columns)

    def __len__(self) -> int:
        return len(self.columns)

    def __iter__(self):
        return iter(self.columns)

    def to_dict(self) -> dict[str, Any]:
        return {"columns": [c.to_dict() for c in self.columns]}

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(), **kwargs)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TableSchema:
        if not isinstance(data, Mapping) or "columns" not in data:
            raise SchemaError("a schema is a mapping with a 'columns' list")
        return cls([ColumnSpec.from_dict(c) for c in data["columns"]])

    @classmethod
    def from_json(cls, text: str) -> TableSchema:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SchemaError(f"schema is not valid JSON: {exc}") from exc
        return cls.from_dict(data)

    def with_overrides(self, overrides: Mapping[str, Mapping[str, Any] | ColumnSpec]) -> TableSchema:
        """Return a copy where the named columns take the given settings."""
        columns = list(self.columns)
        for name, override in overrides.items():
            if name not in self:
                raise SchemaError(f"override for unknown column {name!r}; columns are {self.names}")
            index = self.names.index(name)
            if isinstance(override, ColumnSpec):
                columns[index] = override
                continue
            unknown = set(override) - set(_OVERRIDE_KEYS)
            if unknown:
                raise SchemaError(
                    f"column {name!r}: unknown override keys {sorted(unknown)}; allowed: {', '.join(_OVERRIDE_KEYS)}"
                )
            changes = dict(override)
            if "bounds" in changes and changes["bounds"] is not None:
                changes["bounds"] = tuple(changes["bounds"])
            old = columns[index]
            if changes.get("public"):
                changes = _public_override(name, old, changes)
            if "kind" in changes and changes["kind"] != old.kind:
                # a new kind invalidates the inferred domain unless it is given too
                changes.setdefault("categories", None)
                changes.setdefault("bounds", None)
            columns[index] = replace(old, **changes)
        return TableSchema(columns)

    def check_frame(self, df: pd.DataFrame) -> None:
        """Raise if ``df`` lacks a schema column or has columns the schema does not know."""
        missing = [n for n in self.names if n not in df.columns]
        if missing:
            raise DataValidationError(f"data lacks schema column(s) {missing}")
        extra = [c for c in df.columns if c not in self]
        if extra:
            raise DataValidationError(f"data has column(s) {extra} that are not in the schema")


register_codec(TableSchema, "schema", TableSchema.to_dict, TableSchema.from_dict)


def _public_override(name: str, old: ColumnSpec, changes: dict[str, Any]) -> dict[str, Any]:
    """An override with ``public=True``: the domain must be in the override itself, so an
    inferred domain (read from the data) is never marked public."""
    kind = changes.get("kind", old.kind)
    needed = {"categorical": "categories", "continuous": "bounds", "integer": "bounds", "datetime": "bounds"}.get(kind)
    if needed is not None and changes.get(needed) is None:
        raise SchemaError(
            f"column {name!r}: public=True needs its domain declared in the same override ({needed!r}"
            f"{' = [low, high]' if needed == 'bounds' else ''}, and 'nullable' if it may be missing); a domain "
            "inferred from the table is read from the private values and cannot be public"
        )
    cleared: dict[str, Any] = {"bounds": None, "nullable": False}
    if kind != "boolean":
        cleared["categories"] = None
    return {**cleared, **changes}


def sorted_categories(values: Iterable[Any]) -> list[Any]:
    """Distinct ``values`` as plain Python values, sorted where they can be compared."""
    uniques = list(dict.fromkeys(_to_python(v) for v in values))
    try:
        return sorted(uniques)
    except TypeError:
        return uniques


def _is_integer_valued(values: pd.Series) -> bool:
    arr = values.to_numpy(dtype=float)
    return bool(np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)))


def infer_column(series: pd.Series, *, max_numeric_categories: int = 10, detect_identifiers: bool = False) -> ColumnSpec:
    """Infer the :class:`ColumnSpec` of one column (kind ``id`` for an identifier-like one when
    ``detect_identifiers``: see :func:`synthaug.identifiers.looks_like_identifier`)."""
    name = series.name
    dtype = series.dtype
    present = series.dropna()
    if len(present) == 0:
        raise DataValidationError(f"column {name!r} is entirely missing; drop it before fitting (nothing can be learnt from it)")
    nullable = bool(series.isna().any())
    dtype_str = str(dtype)
    if detect_identifiers and looks_like_identifier(series):
        return ColumnSpec(str(name), "id", dtype_str, nullable)
    if pd.api.types.is_bool_dtype(dtype):
        return ColumnSpec(str(name), "boolean", dtype_str, nullable, [False, True])
    if isinstance(dtype, pd.CategoricalDtype):
        cats = [_to_python(c) for c in dtype.categories]
        return ColumnSpec(str(name), "categorical", "category", nullable, cats)
    if pd.api.types.is_datetime64_any_dtype(dtype):
        bounds = (present.min().isoformat(), present.max().isoformat())
        return ColumnSpec(str(name), "datetime", dtype_str, nullable, bounds=bounds)
    if pd.api.types.is_numeric_dtype(dtype):
        if pd.api.types.is_complex_dtype(dtype):
            raise DataValidationError(f"column {name!r} holds complex numbers, which are not supported")
        arr = present.to_numpy(dtype=float)
        if not np.all(np.isfinite(arr)):
            raise DataValidationError(f"column {name!r} contains infinite values")
        bounds = (float(arr.min()), float(arr.max()))
        if _is_integer_valued(present):
            n_unique = present.nunique()
            if n_unique <= max_numeric_categories:
                cats = sorted_categories(_to_python(v) for v in present.unique())
                if pd.api.types.is_float_dtype(dtype):
                    cats = [float(c) for c in cats]
                return ColumnSpec(str(name), "categorical", dtype_str, nullable, cats)
            return ColumnSpec(str(name), "integer", dtype_str, nullable, bounds=bounds)
        return ColumnSpec(str(name), "continuous", dtype_str, nullable, bounds=bounds)
    # strings / objects
    values = present.tolist()
    if all(isinstance(v, (bool, np.bool_)) for v in values):
        return ColumnSpec(str(name), "boolean", dtype_str, nullable, [False, True])
    kinds = {type(v) for v in values}
    if len(kinds) > 1 and not all(issubclass(k, str) for k in kinds):
        warnings.warn(f"column {name!r} mixes value types {sorted(k.__name__ for k in kinds)}; treated as text", stacklevel=2)
        values = [str(v) for v in values]
    return ColumnSpec(str(name), "categorical", dtype_str, nullable, sorted_categories(_to_python(v) for v in values))


def _dtype_column(series: pd.Series) -> ColumnSpec:
    """A column's kind from its pandas dtype alone (no value is read); the domain is left open."""
    name, dtype = str(series.name), series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return ColumnSpec(name, "boolean", str(dtype), categories=[False, True])
    if isinstance(dtype, pd.CategoricalDtype):
        return ColumnSpec(name, "categorical", "category")
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return ColumnSpec(name, "datetime", str(dtype))
    if pd.api.types.is_complex_dtype(dtype):
        raise SchemaError(f"column {name!r} holds complex numbers, which are not supported")
    if pd.api.types.is_integer_dtype(dtype):
        return ColumnSpec(name, "integer", str(dtype))
    if pd.api.types.is_float_dtype(dtype):
        return ColumnSpec(name, "continuous", str(dtype))
    return ColumnSpec(name, "categorical", str(dtype))


def dtype_schema(
    df: pd.DataFrame,
    overrides: Mapping[str, Mapping[str, Any] | ColumnSpec] | None = None,
    *,
    categorical: Iterable[str] = (),
) -> TableSchema:
    """The strict schema of a differentially private fit: kinds from the pandas dtypes alone
    (bool -> boolean, category/object/string -> categorical, integer -> integer, float ->
    continuous, datetime -> datetime), never from the values; no domain is filled in, so
    categories, bounds and missingness are released privately unless ``overrides`` declare
    them (``public=True`` with its domain). ``categorical`` names columns taken as
    categorical whatever their dtype (class labels)."""
    if not isinstance(df, pd.DataFrame):
        raise DataValidationError(f"a schema needs a pandas DataFrame, got {type(df).__name__}")
    if not df.columns.is_unique:
        dupes = sorted({str(c) for c in df.columns[df.columns.duplicated()]})
        raise DataValidationError(f"duplicate column names: {dupes}")
    labels = {str(c) for c in categorical}
    columns = [
        ColumnSpec(str(c), "categorical", str(df[c].dtype)) if str(c) in labels else _dtype_column(df[c]) for c in df.columns
    ]
    schema = TableSchema(columns)
    return schema.with_overrides(overrides) if overrides else schema


def infer_schema(
    df: pd.DataFrame,
    overrides: Mapping[str, Mapping[str, Any] | ColumnSpec] | None = None,
    *,
    max_numeric_categories: int = 10,
    detect_identifiers: bool = True,
) -> TableSchema:
    """Infer a :class:`TableSchema` from a DataFrame.

    Integer-valued numeric columns with at most ``max_numeric_categories``
    distinct values become categorical (their dtype is kept). With ``detect_identifiers``,
    identifier-like columns get kind ``id``, with an
    :class:`~synthaug.exceptions.IdentifierColumnWarning` naming them. ``overrides``
    maps column names to settings (``kind``, ``categories``, ``bounds``,
    ``nullable``, ``public``, ``dtype``) or to a full :class:`ColumnSpec`.
    """
    if not isinstance(df, pd.DataFrame):
        raise DataValidationError(f"infer_schema needs a pandas DataFrame, got {type(df).__name__}")
    if df.shape[1] == 0:
        raise DataValidationError("the table has no columns")
    if df.shape[0] == 0:
        raise DataValidationError("the table has no rows")
    if not df.columns.is_unique:
        dupes = sorted({str(c) for c in df.columns[df.columns.duplicated()]})
        raise DataValidationError(f"duplicate column names: {dupes}")
    detect = {str(c): detect_identifiers and not (overrides and str(c) in overrides) for c in df.columns}
    limit = max_numeric_categories
    specs = [infer_column(df[c], max_numeric_categories=limit, detect_identifiers=detect[str(c)]) for c in df.columns]
    schema = TableSchema(specs)
    found = [spec.name for spec in schema if spec.kind == "id"]
    if found:
        consequence = "infer_schema gives them kind 'id': synthesizers do not model them, evaluation does not compare them"
        warn_identifiers(found, consequence)
    if overrides:
        schema = schema.with_overrides(overrides)
    return schema
