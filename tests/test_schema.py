import numpy as np
import pandas as pd
import pytest

from synthaug.exceptions import DataValidationError, SchemaError
from synthaug.schema import ColumnSpec, TableSchema, infer_schema


def test_infer_kinds(mixed_frame):
    schema = infer_schema(mixed_frame)
    kinds = {c.name: c.kind for c in schema}
    assert kinds == {
        "income": "continuous",
        "age": "integer",
        "group": "categorical",
        "member": "boolean",
        "joined": "datetime",
        "rating": "categorical",
        "score": "continuous",
    }
    assert schema["score"].nullable and schema["group"].nullable and not schema["income"].nullable
    assert schema["group"].categories == ["a", "b", "c"]
    assert schema["rating"].categories == [1, 2, 3, 4, 5]
    low, high = schema["age"].bounds
    assert low == mixed_frame["age"].min() and high == mixed_frame["age"].max()


def test_json_round_trip(mixed_frame):
    schema = infer_schema(mixed_frame)
    again = TableSchema.from_json(schema.to_json())
    assert again == schema


def test_overrides(mixed_frame):
    schema = infer_schema(mixed_frame, {"age": {"bounds": [0, 120], "public": True}, "rating": {"kind": "integer"}})
    assert schema["age"].bounds == (0.0, 120.0) and schema["age"].public
    assert schema["rating"].kind == "integer" and schema["rating"].categories is None


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"nope": {"kind": "integer"}}, "unknown column 'nope'"),
        ({"age": {"colour": 1}}, "unknown override keys"),
        ({"age": {"kind": "fancy"}}, "unknown kind 'fancy'"),
        ({"age": {"bounds": [5, 1]}}, "lower bound"),
    ],
)
def test_bad_overrides(mixed_frame, overrides, message):
    with pytest.raises(SchemaError, match=message):
        infer_schema(mixed_frame, overrides)


def test_all_missing_column_is_named():
    frame = pd.DataFrame({"a": [1.0, 2.0], "empty": [np.nan, np.nan]})
    with pytest.raises(DataValidationError, match="'empty' is entirely missing"):
        infer_schema(frame)


def test_empty_and_infinite():
    with pytest.raises(DataValidationError, match="no rows"):
        infer_schema(pd.DataFrame({"a": []}))
    with pytest.raises(DataValidationError, match="infinite"):
        infer_schema(pd.DataFrame({"a": [1.0, np.inf]}))


def test_spec_validation():
    with pytest.raises(SchemaError, match="categories given"):
        ColumnSpec("x", "continuous", categories=[1, 2])
    with pytest.raises(SchemaError, match="duplicate categories"):
        ColumnSpec("x", "categorical", categories=["a", "a"])
    with pytest.raises(SchemaError, match="duplicate column names"):
        TableSchema([ColumnSpec("x", "continuous"), ColumnSpec("x", "integer")])
