"""Numbers the models cannot compute with, and declared bounds that exclude the data, are refused by name."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthaug import infer_schema
from synthaug.cli import main
from synthaug.exceptions import SchemaError
from synthaug.synthesizers import FlowSynthesizer, TVAESynthesizer


def _ages(n: int = 100) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"age": rng.integers(18, 70, n), "day": pd.date_range("2020-01-01", periods=n, freq="D")})


@pytest.mark.parametrize(
    "override",
    [{"age": {"bounds": [0, 10]}}, {"day": {"bounds": ["2019-01-01", "2019-06-01"]}}],
)
def test_bounds_that_exclude_most_values_are_an_error(override):
    data = _ages()
    column = next(iter(override))
    with pytest.raises(SchemaError, match=rf"column '{column}': the declared bounds .* exclude 100% of its values"):
        TVAESynthesizer(epochs=1, schema=infer_schema(data, override)).fit(data)


def test_bounds_that_clip_a_tail_are_accepted():
    data = _ages()
    model = FlowSynthesizer(epochs=1, schema=infer_schema(data, {"age": {"bounds": [0, 60]}}), random_state=0).fit(data)
    assert model.sample(50)["age"].max() <= 60


def test_huge_magnitudes_are_refused_naming_the_column(tmp_path, capsys):
    rng = np.random.default_rng(0)
    data = pd.DataFrame({"amount": np.r_[rng.normal(size=98), 1e300, -1e300], "c": rng.choice(["a", "b"], 100)})
    with pytest.raises(SchemaError, match=r"column 'amount': values or bounds reach 1e\+300"):
        TVAESynthesizer(epochs=1).fit(data)
    path = tmp_path / "big.csv"
    data.to_csv(path, index=False)
    assert main(["synthesize", str(path), "-o", str(tmp_path / "out.csv"), "--model", "ctgan", "--epochs", "1", "-q"]) == 2
    assert "'amount'" in capsys.readouterr().err and not (tmp_path / "out.csv").exists()
