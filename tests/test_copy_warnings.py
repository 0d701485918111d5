"""Copies are flagged: a fit on a handful of rows warns, and evaluate warns when synthetic rows copy real ones."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from synthaug.evaluation import evaluate
from synthaug.exceptions import CopyRiskWarning
from synthaug.privacy import DPConfig
from synthaug.schema import ColumnSpec, TableSchema
from synthaug.synthesizers import MarginalSynthesizer, TVAESynthesizer


def _table(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"x": rng.normal(size=n), "y": rng.normal(size=n), "c": rng.choice(["a", "b"], n)})


def test_a_tiny_fit_warns_that_it_can_only_echo():
    with pytest.warns(CopyRiskWarning, match="fitting on 1 row"):
        TVAESynthesizer(epochs=1, random_state=0).fit(_table(1))
    with warnings.catch_warnings():
        warnings.simplefilter("error", CopyRiskWarning)
        MarginalSynthesizer(random_state=0).fit(_table(60))
        schema = TableSchema(
            [
                ColumnSpec("x", "continuous", bounds=(-5, 5), public=True),
                ColumnSpec("y", "continuous", bounds=(-5, 5), public=True),
                ColumnSpec("c", "categorical", "object", categories=["a", "b"], public=True),
            ]
        )
        MarginalSynthesizer(dp=DPConfig(1.0), schema=schema, random_state=0).fit(_table(40))  # DP: noise, not copies


def test_evaluate_warns_in_the_first_lines_when_rows_are_copies():
    real, holdout = _table(300), _table(300, seed=1)
    with pytest.warns(CopyRiskWarning, match="100.0% of the synthetic rows are exact copies"):
        report = evaluate(real, real.copy())
    assert "exact copies" in report.to_markdown().split("\n## ")[0]
    with pytest.warns(CopyRiskWarning, match="closer to a training row"):
        evaluate(real, real.copy(), holdout)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CopyRiskWarning)
        report = evaluate(real, _table(300, seed=2), holdout)
    assert report.info["warnings"] == []


def test_extra_synthetic_columns_are_named(tmp_path, capsys):
    from synthaug.cli import main
    from synthaug.exceptions import SynthaugWarning

    real, synthetic = _table(100), _table(100, seed=1)
    synthetic["leftover"] = 1.0
    with pytest.warns(SynthaugWarning, match=r"\['leftover'\] that real_train lacks"):
        report = evaluate(real, synthetic)
    assert any("leftover" in text for text in report.info["warnings"])
    real.to_csv(tmp_path / "r.csv", index=False)
    synthetic.to_csv(tmp_path / "s.csv", index=False)
    assert main(["evaluate", str(tmp_path / "r.csv"), str(tmp_path / "s.csv"), "--report", str(tmp_path / "r.pdf")]) == 2
    assert ".html" in capsys.readouterr().err and not (tmp_path / "r.pdf").exists()
