"""The metric registry: declarations, derived report lists, skipping only on MetricNotApplicable; one image check."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthaug.evaluation import registry
from synthaug.evaluation.inputs import TableInputs
from synthaug.evaluation.report import GUIDE, HEADLINE_METRICS, SECTIONS, evaluate
from synthaug.evaluation.result import MetricResult
from synthaug.exceptions import DataValidationError, MetricNotApplicable, ParameterError


@pytest.fixture(scope="module")
def tables():
    rng = np.random.default_rng(0)

    def table(n):
        x = rng.normal(size=n)
        return pd.DataFrame({"x": x, "y": x + rng.normal(size=n), "c": rng.choice(list("ab"), n)})

    return table(120), table(120), table(80)


@pytest.fixture
def temporary_metrics():
    """Remove the metrics a test registers, so that the registry is left as found."""
    before = set(registry._REGISTRY)
    yield
    for name in set(registry._REGISTRY) - before:
        del registry._REGISTRY[name]


def test_every_metric_is_declared_once_and_in_its_section():
    specs = registry.registered()
    names = [s.name for s in specs]
    assert len(names) == len(set(names)) >= 20
    for spec in specs:
        assert spec.name in SECTIONS[spec.section], spec.name
        assert GUIDE[spec.name] == spec.caption and spec.caption
        assert spec.direction in ("higher", "lower")
    assert sorted(n for section in SECTIONS.values() for n in section) == sorted(names)
    assert set(HEADLINE_METRICS) == {s.name for s in specs if s.headline}
    assert {s.name for s in registry.registered("images")} == {
        "frechet_distance",
        "kernel_distance",
        "image_exact_copy_rate",
        "image_nearest_neighbour_leakage",
        "classification_accuracy_score",
    }


def test_public_functions_share_one_calling_convention():
    from synthaug.evaluation import distance_to_closest_record, pairwise_trends

    for function in (pairwise_trends, distance_to_closest_record):
        params = function.__signature__.parameters
        assert list(params)[:7] == ["real_train", "synthetic", "real_holdout", "target", "sensitive", "schema", "random_state"]
    assert "max_rows" in distance_to_closest_record.__signature__.parameters
    assert distance_to_closest_record.spec is registry.get("distance_to_closest_record")


def test_suite_results_agree_with_the_single_functions(tables):
    from synthaug.evaluation import column_shapes, membership_inference_distance

    train, synthetic, holdout = tables
    report = evaluate(train, synthetic, holdout, random_state=2)
    for function in (column_shapes, membership_inference_distance):
        single = function(train, synthetic, real_holdout=holdout, schema=report._schema, random_state=2)
        assert report[single.name].value == pytest.approx(single.value)
    assert [r.name for r in report.results][:2] == ["column_shapes", "pairwise_trends"]


def test_a_missing_need_skips_in_the_suite_and_raises_alone(tables):
    train, synthetic, _ = tables
    report = evaluate(train, synthetic)
    assert report.skipped["closer_to_train_share"] == "needs a real_holdout (real rows kept out of training)"
    assert report.skipped["train_synthetic_test_real"] == "needs a target column (none given)"
    from synthaug.evaluation import closer_to_train_share

    with pytest.raises(MetricNotApplicable, match="^closer_to_train_share needs a real_holdout"):
        closer_to_train_share(train, synthetic)
    assert not issubclass(MetricNotApplicable, ValueError)


def _declare(name, compute):
    return registry.metric(name=name, section="fidelity", direction="higher", inputs=TableInputs, caption="test")(compute)


def test_only_metric_not_applicable_is_recorded_as_skipped(tables, temporary_metrics):
    train, synthetic, _ = tables

    def not_applicable(inputs):
        raise MetricNotApplicable("the inputs do not allow it")

    def value_error(inputs):
        raise ValueError("a bug, not a skip")

    def runtime_error(inputs):
        raise RuntimeError("also a bug")

    def fine(inputs):
        return MetricResult("test_fine", float(len(inputs.synthetic)), "higher", {})

    for name, compute in (("test_skip", not_applicable), ("test_fine", fine)):
        _declare(name, compute)
    inputs = TableInputs(train, synthetic)
    run = registry.run_suite([registry.get("test_skip"), registry.get("test_fine")], inputs)
    assert run.skipped == {"test_skip": "the inputs do not allow it"}
    assert [r.name for r in run.results] == ["test_fine"] and run.results[0].value == len(synthetic)
    for name, compute, error in (("test_value", value_error, ValueError), ("test_runtime", runtime_error, RuntimeError)):
        _declare(name, compute)
        with pytest.raises(error):
            registry.run_suite([registry.get(name)], inputs)


def test_a_result_must_match_its_declaration(tables, temporary_metrics):
    _declare("test_named", lambda inputs: MetricResult("another_name", 1.0, "higher", {}))
    with pytest.raises(RuntimeError, match="not its declaration"):
        registry.get("test_named").run(TableInputs(*tables[:2]))


def test_declarations_are_checked(temporary_metrics):
    with pytest.raises(ParameterError, match="bad section"):
        registry.metric(name="test_bad", section="nowhere", direction="higher", inputs=TableInputs, caption="x")
    with pytest.raises(ParameterError, match="needs"):
        registry.metric(name="test_bad", section="fidelity", direction="lower", inputs=TableInputs, caption="x", needs=("moon",))
    with pytest.raises(ParameterError, match="registered twice"):
        registry.metric(name="column_shapes", section="fidelity", direction="higher", inputs=TableInputs, caption="x")


def test_user_data_errors_propagate_from_the_suite(tables):
    train, synthetic, _ = tables
    with pytest.raises(DataValidationError, match="lacks column"):
        evaluate(train, synthetic.drop(columns="x"))
