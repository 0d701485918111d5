"""Known-answer tests of the leakage metrics (synthaug.evaluation.privacy) and the mixed-type encoding."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_evaluation import make_table, shuffle_columns
from threadpoolctl import threadpool_limits

from synthaug.evaluation import (
    attribute_inference,
    closer_to_train_share,
    distance_to_closest_record,
    exact_copy_rate,
    leakage_metrics,
    membership_inference_density,
    membership_inference_distance,
    nearest_neighbour_distance_ratio,
    singling_out_risk,
)
from synthaug.evaluation.encoding import MixedEncoder
from synthaug.exceptions import MetricNotApplicable
from synthaug.schema import infer_schema


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    with threadpool_limits(1):
        yield


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    train, holdout, other = make_table(2000, 0), make_table(1000, 1), make_table(2000, 2)
    return {"train": train, "holdout": holdout, "other": other}


def _suite(tables, synthetic, **kw):
    results, skipped = leakage_metrics(tables["train"], synthetic, real_holdout=tables["holdout"], random_state=0, **kw)
    return {r.name: r for r in results}, skipped


@pytest.fixture(scope="module")
def copied(tables):
    return _suite(tables, tables["train"].copy(), sensitive="level")[0]


@pytest.fixture(scope="module")
def independent(tables):
    return _suite(tables, tables["other"], sensitive="level")[0]


# --------------------------------------------------------------------------- encoding
def test_encoding_distance_is_the_documented_heom():
    frame = pd.DataFrame(
        {"x": [0.5, 10.5, 5.5, np.nan], "c": ["a", "b", "a", "a"], "t": pd.to_datetime(["2020-01-01"] * 3 + ["2020-01-11"])}
    )
    encoder = MixedEncoder(infer_schema(frame)).fit(frame)
    e = encoder.transform(frame)

    def d(i, j):
        return float(np.linalg.norm(e[i] - e[j]))

    # x range 10, t range 10 days, p = 3 columns
    assert d(0, 1) == pytest.approx(np.sqrt((1.0**2 + 1.0) / 3))  # x differs by the full range, c differs
    assert d(0, 2) == pytest.approx(np.sqrt(0.5**2 / 3))
    # row 3: x missing (the median 5.5 stands in, the indicator adds 1), t differs by the full range
    assert d(2, 3) == pytest.approx(np.sqrt((1.0 + 1.0) / 3))
    assert d(0, 0) == 0.0


def test_encoding_treats_unseen_categories_as_different():
    train = pd.DataFrame({"c": ["a", "b"] * 5, "x": np.arange(10.0)})
    other = pd.DataFrame({"c": ["zebra"] * 2, "x": [0.0, 0.0]})
    encoder = MixedEncoder(infer_schema(train)).fit(train, other)
    a, z = encoder.transform(train.iloc[:1]), encoder.transform(other.iloc[:1])
    assert float(np.linalg.norm(a - z)) == pytest.approx(np.sqrt(1 / 2))


# --------------------------------------------------------------------------- copy of train
def test_a_copy_of_train_has_dcr_zero_and_copy_rate_one(copied):
    dcr = copied["distance_to_closest_record"]
    assert dcr.value == 0.0 and dcr.details["synthetic_to_train"]["q95"] == 0.0
    assert dcr.details["reference"] > 0.01  # holdout rows are not copies
    assert copied["exact_copy_rate"].value == 1.0
    assert copied["exact_copy_rate"].details["reference"] == 0.0
    assert copied["nearest_neighbour_distance_ratio"].value == 0.0
    assert copied["nearest_neighbour_distance_ratio"].details["reference"] > 0.5


def test_a_copy_of_train_is_caught_by_membership_inference(copied):
    mia = copied["membership_inference_distance"]
    assert mia.value > 0.95
    assert mia.details["tpr_at_fpr_0.01"] > 0.9
    assert mia.details["reference"] == 0.5
    assert len(mia.details["roc_curve"]["fpr"]) == len(mia.details["roc_curve"]["tpr"]) == 101
    assert copied["membership_inference_density"].value > 0.58
    closer = copied["closer_to_train_share"]
    # the training side is cut to the holdout's 1000 rows: half the copies keep their original there
    assert closer.value > 0.65 and closer.details["binomial_p_value"] < 1e-6


def test_a_copy_of_train_singles_out_and_infers_attributes(tables, copied):
    single = copied["singling_out_risk"]
    assert single.value > single.details["reference"] + 0.3
    # both attackers get 1000 rows (the holdout's size): half the targets find themselves
    assert copied["attribute_inference"].value > copied["attribute_inference"].details["reference"] + 0.03
    train, holdout = tables["train"], make_table(2000, 5)
    attr = attribute_inference(train, train.copy(), real_holdout=holdout, sensitive="level", random_state=0)
    assert attr.value == 1.0  # the closest synthetic row is the target itself
    assert 0.7 < attr.details["reference"] < 0.95


# --------------------------------------------------------------------------- independent sample
def test_an_independent_sample_scores_like_the_reference(independent):
    dcr = independent["distance_to_closest_record"]
    assert dcr.value == pytest.approx(dcr.details["reference"], rel=0.25)
    assert independent["exact_copy_rate"].value == 0.0
    nndr = independent["nearest_neighbour_distance_ratio"]
    assert nndr.value == pytest.approx(nndr.details["reference"], abs=0.05)
    assert 0.44 < independent["closer_to_train_share"].value < 0.56
    assert 0.45 < independent["membership_inference_distance"].value < 0.55
    assert 0.43 < independent["membership_inference_density"].value < 0.57
    single = independent["singling_out_risk"]
    assert single.value == pytest.approx(single.details["reference"], abs=0.05)
    assert abs(independent["attribute_inference"].details["excess_over_reference"]) < 0.05


def test_a_shuffled_table_reveals_little_about_an_attribute(tables, independent):
    shuffled = attribute_inference(
        tables["train"], shuffle_columns(tables["other"]), real_holdout=tables["holdout"], sensitive="level", random_state=0
    )
    # "level" follows x; after shuffling, the neighbour's level is a random draw from the marginal
    assert shuffled.value < independent["attribute_inference"].value - 0.2
    p = (tables["train"]["level"] == "high").mean()
    assert shuffled.value == pytest.approx(p**2 + (1 - p) ** 2, abs=0.04)
    assert shuffled.details["baseline_marginal"] == pytest.approx(max(p, 1 - p), abs=0.03)


def test_numeric_sensitive_column_uses_a_tolerance(tables):
    train = tables["train"]
    result = attribute_inference(train, train, real_holdout=make_table(2000, 5), sensitive="y", random_state=0)
    assert result.value > 0.99  # the target itself is closest (up to ties on the known columns)
    assert "within 0.05" in result.details["scoring"]
    assert 0.0 < result.details["reference"] < 1.0


# --------------------------------------------------------------------------- API contract
def test_single_functions_match_the_suite(tables, independent):
    kw = {"real_holdout": tables["holdout"], "random_state": 0}
    train, synthetic = tables["train"], tables["other"]
    for function in (
        distance_to_closest_record,
        exact_copy_rate,
        nearest_neighbour_distance_ratio,
        closer_to_train_share,
        membership_inference_distance,
        membership_inference_density,
        singling_out_risk,
    ):
        result = function(train, synthetic, **kw)
        assert result.value == pytest.approx(independent[result.name].value), result.name
    attr = attribute_inference(train, synthetic, sensitive="level", **kw)
    assert attr.value == pytest.approx(independent["attribute_inference"].value)


def test_metrics_that_need_a_holdout_say_so(tables):
    train = tables["train"]
    for function in (closer_to_train_share, membership_inference_distance, membership_inference_density):
        with pytest.raises(MetricNotApplicable, match="needs a real_holdout"):
            function(train, train)
    dcr = distance_to_closest_record(train, train)
    assert dcr.details["reference"] is None and "no real_holdout" in dcr.details["reference_note"]
    results, skipped = leakage_metrics(train, tables["other"], random_state=0)
    assert "membership_inference_distance" in skipped and "attribute_inference" in skipped
    assert {r.name for r in results} == {
        "distance_to_closest_record",
        "exact_copy_rate",
        "nearest_neighbour_distance_ratio",
        "singling_out_risk",
    }


def test_clear_errors_for_bad_arguments(tables):
    train = tables["train"]
    with pytest.raises(ValueError, match="sensitive column 'nope' is not a column"):
        attribute_inference(train, train, sensitive="nope")
    with pytest.raises(MetricNotApplicable, match="needs a sensitive column"):
        attribute_inference(train, train)
    with pytest.raises(ValueError, match="lacks column"):
        distance_to_closest_record(train, train.drop(columns="x"))
    with pytest.raises(ValueError, match="non-empty synthetic"):
        exact_copy_rate(train, train.iloc[:0])
    with pytest.raises(ValueError, match="quasi_identifiers"):
        singling_out_risk(train, train, quasi_identifiers=["nope"])


def test_reproducible_and_leaves_global_rngs_alone(tables):
    state = np.random.get_state()[1].copy()
    kw = {"real_holdout": tables["holdout"], "random_state": 3, "max_rows": 500}
    first = membership_inference_density(tables["train"], tables["other"], **kw)
    again = membership_inference_density(tables["train"], tables["other"], **kw)
    assert first.value == again.value
    assert first.details["n_members"] == 500
    assert np.array_equal(np.random.get_state()[1], state)


def test_quasi_identifiers_can_be_given(tables):
    train = tables["train"]
    result = singling_out_risk(train, train, real_holdout=tables["holdout"], quasi_identifiers=["x", "y", "when", "colour"])
    assert result.details["combinations"] == ["x|y|when|colour"]
    assert result.value > result.details["reference"] + 0.2


def test_density_attack_on_a_single_categorical_column():
    """One-hot blocks are rank-deficient: empty PCA directions must not be whitened into infinities."""
    rng = np.random.default_rng(0)

    def sample(n):
        return pd.DataFrame({"a": rng.choice(list("xyz"), n)})

    with np.errstate(all="raise"):
        result = membership_inference_density(sample(300), sample(300), real_holdout=sample(200), random_state=0)
    assert 0.4 < result.value < 0.6
