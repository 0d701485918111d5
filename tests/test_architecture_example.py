"""The README's "Adding a synthesizer" example: one module on the skeleton gets everything else."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from synthaug.privacy import DPConfig
from synthaug.schema import ColumnSpec, TableSchema
from synthaug.synthesizers import registry
from synthaug.utils.estimator_checks import make_contract_frame, synthesizer_checks

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.fixture(scope="module")
def example_class():
    text = README.read_text(encoding="utf-8")
    section = text[text.index("### Adding a synthesizer") :]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    module = types.ModuleType("synthaug_readme_example")
    sys.modules[module.__name__] = module
    exec(compile(code, str(README), "exec"), module.__dict__)
    cls = module.IndependentSynthesizer
    saved = dict(registry._SYNTHESIZERS)
    registry._SYNTHESIZERS["independent"] = f"{module.__name__}:IndependentSynthesizer"  # the one registry line
    yield cls
    registry._SYNTHESIZERS.clear()
    registry._SYNTHESIZERS.update(saved)
    del sys.modules[module.__name__]


def test_example_fits_and_samples_exactly_conditioned(example_class):
    frame = make_contract_frame()
    model = registry.get_synthesizer("independent", epochs=20, batch_size=60, device="cpu", random_state=0)
    sample = model.fit(frame).sample(200, conditions={"group": "c"})
    assert list(sample.columns) == list(frame.columns)
    assert (sample["group"] == "c").all()
    assert model.history_[-1]["loss"] < model.history_[0]["loss"]


@pytest.mark.parametrize("check", synthesizer_checks(), ids=lambda c: c.__name__)
def test_example_passes_the_shared_synthesizer_checks(example_class, check):
    check(example_class(epochs=40, batch_size=60, learning_rate=0.05, device="cpu", random_state=0))


def test_example_trains_with_dp_and_reports_its_ledger(example_class):
    rng = np.random.RandomState(0)
    frame = pd.DataFrame({"x": rng.normal(size=300), "g": rng.choice(["a", "b"], size=300)})
    schema = TableSchema(
        [
            ColumnSpec("x", "continuous", dtype="float64", bounds=(-4.0, 4.0), public=True),
            ColumnSpec("g", "categorical", dtype="object", categories=["a", "b"], public=True),
        ]
    )
    model = clone(example_class(epochs=2, batch_size=50, device="cpu", random_state=0, schema=schema))
    model.set_params(dp=DPConfig(epsilon=3.0)).fit(frame)
    assert model.privacy_spent_["epsilon"] <= 3.0 + 1e-6
    assert "marginals network" in str(model.privacy_spent_)
    assert set(model.history_[0]) == {"epoch", "seconds"}
