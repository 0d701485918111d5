"""Identifier columns: detected with a warning, not modelled, fresh values that never repeat an input."""

from __future__ import annotations

import json
import uuid
import warnings

import numpy as np
import pandas as pd
import pytest

from synthaug import infer_schema
from synthaug.evaluation import evaluate
from synthaug.exceptions import ConditionError, IdentifierColumnWarning, SchemaError
from synthaug.identifiers import IdentifierFormat, looks_like_identifier
from synthaug.privacy import DPConfig
from synthaug.schema import ColumnSpec, TableSchema
from synthaug.synthesizers import MarginalSynthesizer, TVAESynthesizer
from synthaug.synthesizers.registry import load_model
from synthaug.transform import TabularTransformer


def _table(n: int = 200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "emp_id": [f"EMP{i:05d}" for i in rng.permutation(n) + 1],
            "age": rng.integers(18, 70, n),
            "dept": rng.choice(["HR", "IT", "Ops"], n),
            "row": np.arange(n),
        }
    )


@pytest.mark.parametrize(
    ("values", "name", "expected"),
    [
        ([f"C-{i:04d}" for i in range(50)], "x", True),
        ([str(uuid.UUID(int=i)) for i in range(50)], "x", True),
        ([f"free text number {i}" for i in range(50)], "comment", False),  # whitespace: free text
        (list(range(1000, 1050)), "x", True),  # a consecutive range (a saved row index)
        (list(range(0, 5000, 100)), "customer_id", True),  # sparse, but the name says so
        (list(range(0, 5000, 100)), "income", False),
        ([f"C-{i:04d}" for i in range(10)], "x", False),  # too few rows to tell
        (["a", "b"] * 25, "x", False),
        (list(np.linspace(0, 1, 50)), "id", False),  # floats are measurements
    ],
)
def test_detection(values, name, expected):
    assert looks_like_identifier(pd.Series(values, name=name)) is expected


@pytest.mark.parametrize(
    "values",
    [
        [f"EMP{i:05d}" for i in range(1, 400, 3)],
        [str(uuid.UUID(int=10**30 + 7 * i)) for i in range(300)],
        [f"ID{i}" for i in range(1, 120)],  # variable length
        [f"x{i:02d}y" for i in range(90)],  # prefix and suffix, little room: one more position
    ],
)
def test_text_format_fresh_unique_same_shape(values):
    fmt = IdentifierFormat.learn(pd.Series(values))
    draw = fmt.draw(1000, 0.73)
    out = pd.concat([draw.values(0, 250), draw.values(250, 1000)], ignore_index=True)
    assert out.is_unique and not set(out) & set(values)
    assert out.str.startswith(fmt.prefix).all() and out.str.endswith(fmt.suffix).all()
    longest = max(map(len, values))
    assert out.str.len().between(longest, longest + 1).all()
    again = IdentifierFormat.from_dict(json.loads(json.dumps(fmt.to_dict())))
    assert again == fmt and again.draw(1000, 0.73).values(0, 1000).equals(out)


def test_integer_format_keeps_digits_when_there_is_room():
    values = pd.Series(np.arange(1, 2001) * 3, dtype="int32")
    out = IdentifierFormat.learn(values).draw(500, 0.5).values(0, 500)
    assert out.dtype == np.int32 and out.is_unique and out.min() > values.max() and out.max() < 10_000


def test_infer_schema_marks_identifiers_with_a_warning_and_takes_overrides():
    data = _table()
    with pytest.warns(IdentifierColumnWarning, match=r"\['emp_id', 'row'\]"):
        schema = infer_schema(data)
    assert [s.name for s in schema if s.kind == "id"] == ["emp_id", "row"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", IdentifierColumnWarning)
        overridden = infer_schema(data[["emp_id", "age"]], {"emp_id": {"kind": "categorical"}})
    assert overridden["emp_id"].kind == "categorical"


def test_synthesizer_writes_fresh_identifiers_in_place_and_persists(tmp_path):
    data = _table()
    with pytest.warns(IdentifierColumnWarning, match="never an input value"):
        model = TVAESynthesizer(epochs=1, random_state=0).fit(data)
    assert sorted(model.identifiers_) == ["emp_id", "row"] and "emp_id" not in model.schema_
    out = model.sample(300, random_state=1)
    assert list(out.columns) == list(data.columns) and out.dtypes.equals(data.dtypes)
    for column in ("emp_id", "row"):
        assert out[column].is_unique and not set(out[column]) & set(data[column])
    assert out["emp_id"].str.fullmatch(r"EMP\d{5}").all()
    chunks = pd.concat(list(model.iter_samples(300, chunk_size=100, random_state=1)), ignore_index=True)
    assert chunks.equals(out)
    loaded = load_model(model.save(str(tmp_path / "m.synth")))
    assert loaded.sample(300, random_state=1).equals(out)
    with pytest.raises(ConditionError, match="identifier column"):
        model.sample(5, conditions={"emp_id": "EMP00001"})


def test_declared_kind_overrides_detection():
    data = _table()[["emp_id", "age", "dept"]]
    schema = infer_schema(data, {"emp_id": {"kind": "categorical"}})
    with warnings.catch_warnings():
        warnings.simplefilter("error", IdentifierColumnWarning)
        model = MarginalSynthesizer(schema=schema, random_state=0).fit(data)
    assert model.identifiers_ == {} and set(model.sample(50)["emp_id"]) <= set(data["emp_id"])


def test_private_fit_reads_no_identifier_value():
    """Under DP the identifier format is public (from the dtype): neighbours give the same identifiers."""
    schema = TableSchema(
        [
            ColumnSpec("emp_id", "id", "object"),
            ColumnSpec("age", "integer", "int64", bounds=(0, 100), public=True),
            ColumnSpec("dept", "categorical", "object", categories=["HR", "IT", "Ops"], public=True),
            ColumnSpec("row", "id", "int64"),
        ]
    )
    data = _table()
    neighbour = data.copy()
    neighbour.loc[0, "emp_id"], neighbour.loc[0, "row"] = "ZZZ-secret-1", 10**12
    outs = [
        MarginalSynthesizer(dp=DPConfig(1.0), schema=schema, random_state=0).fit(d).sample(100, random_state=3)
        for d in (data, neighbour)
    ]
    for column in ("emp_id", "row"):
        assert outs[0][column].equals(outs[1][column]) and outs[0][column].is_unique
    assert outs[0]["emp_id"].str.fullmatch(r"[0-9a-f]{16}").all()


def test_evaluation_does_not_compare_identifiers():
    data = _table()
    synthetic = _table(seed=1)
    synthetic["emp_id"] = [f"NEW{i}" for i in range(len(synthetic))]
    with pytest.warns(IdentifierColumnWarning):
        report = evaluate(data, synthetic)
    assert report.info["identifier_columns"] == ["emp_id", "row"]
    shapes = next(r for r in report.results if r.name == "column_shapes")
    assert "emp_id" not in json.dumps(shapes.details)


def test_transformer_refuses_an_identifier_kind():
    schema = TableSchema([ColumnSpec("emp_id", "id", "object"), ColumnSpec("age", "integer", "int64")])
    with pytest.raises(SchemaError, match="kind 'id'"):
        TabularTransformer(schema=schema).fit(_table()[["emp_id", "age"]])
