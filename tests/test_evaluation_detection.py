"""Known-answer tests of detection AUC, coverage, validity, augmentation gain and the reference values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from test_evaluation import make_table, make_task, shuffle_columns
from threadpoolctl import threadpool_limits

from synthaug.evaluation import (
    augmentation_gain,
    category_validity,
    column_shapes,
    coverage,
    detection_auc,
    missing_values,
    pairwise_trends,
    train_synthetic_test_real,
)
from synthaug.exceptions import MetricNotApplicable
from synthaug.schema import infer_schema


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    with threadpool_limits(1):
        yield


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    return {"train": make_table(1500, 0), "holdout": make_table(1000, 1), "other": make_table(1500, 2)}


# --------------------------------------------------------------------------- detection
def test_detection_known_answers(tables):
    train, holdout, other = tables["train"], tables["holdout"], tables["other"]
    kw = {"real_holdout": holdout, "random_state": 0, "max_rows": 1000}
    copy = detection_auc(train, train.copy(), **kw)
    independent = detection_auc(train, other, **kw)
    shuffled = detection_auc(train, shuffle_columns(other), **kw)
    assert copy.direction == "lower"
    assert copy.value == pytest.approx(0.5, abs=0.02)  # copies share a fold: no signal, not an inverted one
    assert 0.42 < independent.value < 0.58
    assert 0.42 < independent.details["reference"] < 0.58
    assert shuffled.value > 0.75  # x and y are 0.9-correlated in real rows, not after shuffling
    assert independent.details["n_rows_each_side"] == 1000


def test_detection_without_holdout_has_no_reference(tables):
    result = detection_auc(tables["train"], tables["other"], random_state=0, max_rows=300)
    assert result.details["reference"] is None
    with pytest.raises(ValueError, match="n_splits"):
        detection_auc(tables["train"], tables["other"], n_splits=1)


# --------------------------------------------------------------------------- coverage
def test_coverage_known_answers(tables):
    train, holdout, other = tables["train"], tables["holdout"], tables["other"]
    copy = coverage(train, train.copy(), random_state=0)
    assert copy.value == 1.0 and copy.details["precision"] == 1.0 and copy.details["recall"] == 1.0
    assert copy.details["density"] > 0.95
    independent = coverage(train, other, real_holdout=holdout, random_state=0)
    assert independent.value == pytest.approx(independent.details["reference"], abs=0.05)
    assert 0.8 < independent.details["density"] < 1.2
    shuffled = coverage(train, shuffle_columns(other), real_holdout=holdout, random_state=0)
    assert shuffled.value < independent.value - 0.2
    assert shuffled.details["precision"] < independent.details["precision"] - 0.1
    collapsed = coverage(train, pd.concat([train.iloc[:1]] * 500, ignore_index=True), random_state=0)
    assert collapsed.value < 0.02  # mode collapse: one row repeated covers almost nothing


# --------------------------------------------------------------------------- validity
def test_category_validity_counts_values_outside_the_domain():
    real = pd.DataFrame({"c": ["a", "b"] * 50, "x": np.linspace(0, 1, 100)})
    synthetic = real.copy()
    synthetic.loc[:24, "c"] = "zzz"
    holdout = real.copy()
    result = category_validity(real, synthetic, real_holdout=holdout)
    assert result.value == pytest.approx(0.75)
    assert result.details["invalid_examples"] == {"c": ["zzz"]}
    assert result.details["reference"] == 1.0
    declared = infer_schema(real, {"c": {"categories": ["a", "b", "zzz"]}})
    assert category_validity(real, synthetic, schema=declared).value == 1.0
    numeric_only = category_validity(real[["x"]], real[["x"]])
    assert np.isnan(numeric_only.value) and "nothing to check" in numeric_only.details["note"]


def test_missing_values_known_answer():
    real = pd.DataFrame({"a": [1.0, np.nan, 3.0, 4.0], "b": ["u", "v", None, None]})
    synthetic = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": ["u", "v", "u", None]})
    result = missing_values(real, synthetic, real_holdout=real.copy())
    # a: 0.25 vs 0, b: 0.5 vs 0.25
    assert result.value == pytest.approx(0.25)
    assert result.details["per_column"] == {"a": 0.25, "b": 0.25}
    assert result.details["reference"] == 0.0 and result.direction == "lower"


# --------------------------------------------------------------------------- references of the older metrics
def test_column_shapes_and_pairwise_trends_report_the_holdout_reference(tables):
    train, holdout, other = tables["train"], tables["holdout"], tables["other"]
    shapes = column_shapes(train, other, real_holdout=holdout)
    assert shapes.details["reference"] == pytest.approx(column_shapes(train, holdout).value)
    trends = pairwise_trends(train, shuffle_columns(other), real_holdout=holdout)
    assert trends.details["reference"] == pytest.approx(pairwise_trends(train, holdout).value)
    assert trends.value < trends.details["reference"] - 0.05
    assert column_shapes(train, other).details["reference"] is None


def test_tstr_reference_is_trtr():
    train, holdout = make_task(600, 0), make_task(400, 1)
    result = train_synthetic_test_real(
        train, train, real_holdout=holdout, target="label", estimator=LogisticRegression(max_iter=300)
    )
    assert result.details["reference"] == result.details["trtr_score"]


# --------------------------------------------------------------------------- augmentation gain
def test_augmentation_gain():
    train, holdout, fresh = make_task(400, 0), make_task(800, 1), make_task(4000, 2)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))  # the day column is in seconds
    helpful = augmentation_gain(train, fresh, real_holdout=holdout, target="label", estimator=model)
    assert helpful.name == "augmentation_gain" and helpful.direction == "higher"
    assert helpful.details["minority_class"] == "yes"
    assert set(helpful.details["gains"]) == {"balanced_accuracy", "minority_f1", "pr_auc"}
    assert helpful.value == pytest.approx(helpful.details["gains"]["balanced_accuracy"])
    assert helpful.details["reference"] == 0.0
    flipped = fresh.copy()
    flipped["label"] = np.where(fresh["label"] == "yes", "no", "yes")
    harmful = augmentation_gain(train, flipped, real_holdout=holdout, target="label", estimator=model)
    # ten times more rows with the opposite labels than real ones: the model learns the opposite rule
    assert harmful.value < -0.2 and harmful.details["gains"]["pr_auc"] < -0.3
    assert helpful.value > -0.02 and helpful.details["gains"]["pr_auc"] > -0.02


def test_augmentation_gain_errors():
    train, holdout = make_task(200, 0), make_task(100, 1)
    with pytest.raises(MetricNotApplicable, match="needs a real_holdout"):
        augmentation_gain(train, train, target="label")
    with pytest.raises(MetricNotApplicable, match="needs a discrete target; 'x1' is continuous"):
        augmentation_gain(train, train, real_holdout=holdout, target="x1")
    with pytest.raises(ValueError, match="'nope' is not a column of real_train"):
        augmentation_gain(train, train, real_holdout=holdout, target="nope")


def test_detection_catches_mode_collapse(tables):
    train = tables["train"]
    collapsed = pd.concat([train.iloc[:1]] * 500, ignore_index=True)  # one real row, repeated
    assert detection_auc(train, collapsed, random_state=0, max_rows=500).value > 0.95
    elsewhere = collapsed.assign(x=99.0)  # one made-up row, repeated
    assert detection_auc(train, elsewhere, random_state=0, max_rows=500).value > 0.95
