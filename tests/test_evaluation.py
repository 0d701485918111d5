"""Known-answer tests of the evaluation metrics on tables built here."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from synthaug.evaluation import MetricResult, column_shapes, pairwise_trends, train_synthetic_test_real
from synthaug.exceptions import MetricNotApplicable
from synthaug.schema import infer_schema


def make_table(n: int = 2000, seed: int = 0) -> pd.DataFrame:
    """Correlated numeric columns, a categorical column tied to ``x``, an independent one,
    a datetime and a boolean, with a few missing values."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, 1.0, n)
    y = 0.9 * x + np.sqrt(1 - 0.81) * rng.normal(0.0, 1.0, n)
    level = np.where(x + 0.3 * rng.normal(size=n) > 0.3, "high", "low")
    frame = pd.DataFrame(
        {
            "x": x,
            "y": y * 1000.0,
            "count": rng.poisson(20 + 5 * (x > 0), n),
            "level": pd.Series(level, dtype=object),
            "colour": pd.Series(rng.choice(["red", "green", "blue"], n, p=[0.5, 0.3, 0.2]), dtype=object),
            "when": pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 700, n) + 100 * (x > 0), unit="D"),
            "flag": rng.random(n) < 0.4,
        }
    )
    frame.loc[rng.random(n) < 0.05, "colour"] = np.nan
    frame.loc[rng.random(n) < 0.05, "x"] = np.nan
    return frame


def shuffle_columns(frame: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """Each column permuted independently: same marginals, no relationships left."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({c: frame[c].to_numpy()[rng.permutation(len(frame))] for c in frame.columns})


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    """Gradient boosting's OpenMP threads crawl when a small (2-core) machine is busy: use one."""
    with threadpool_limits(1):
        yield


@pytest.fixture(scope="module")
def real() -> pd.DataFrame:
    return make_table(seed=0)


@pytest.fixture(scope="module")
def other_sample() -> pd.DataFrame:
    return make_table(seed=1)


# --------------------------------------------------------------------------- column_shapes
def test_column_shapes_of_a_table_with_itself_is_one(real):
    result = column_shapes(real, real)
    assert isinstance(result, MetricResult)
    assert result.direction == "higher"
    assert result.value == pytest.approx(1.0)
    assert set(result.details["per_column"]) == set(real.columns)


def test_column_shapes_accepts_the_standard_keywords(real, other_sample):
    plain = column_shapes(real, other_sample)
    keyed = column_shapes(
        real, other_sample, real_holdout=other_sample, target="level", schema=infer_schema(real), random_state=0
    )
    assert keyed.value == pytest.approx(plain.value)


def test_column_shapes_of_an_independent_sample_is_close_to_one(real, other_sample):
    assert column_shapes(real, other_sample).value > 0.9


def test_column_shapes_drops_for_a_different_categorical_distribution(real, other_sample):
    broken = other_sample.copy()
    broken["colour"] = "red"
    good, bad = column_shapes(real, other_sample), column_shapes(real, broken)
    assert bad.details["per_column"]["colour"] < 0.6
    assert good.details["per_column"]["colour"] > 0.95
    assert bad.value < good.value - 0.05


# --------------------------------------------------------------------------- pairwise_trends
def test_pairwise_trends_of_a_table_with_itself_is_one(real):
    result = pairwise_trends(real, real)
    n_cols = real.shape[1]
    assert result.value == pytest.approx(1.0)
    assert result.direction == "higher"
    assert result.details["n_pairs_total"] == n_cols * (n_cols - 1) // 2
    assert len(result.details["per_pair"]) == n_cols * (n_cols - 1) // 2
    assert all(v == pytest.approx(1.0) for v in result.details["per_pair"].values())
    # numeric: x, y, count, when -> 6 pairs; the other 15 involve a discrete column
    assert result.details["pair_counts"] == {"correlation": 6, "contingency": 15}
    assert "x|y" in result.details["per_pair"]


def test_pairwise_trends_of_an_independent_sample_is_close_to_one(real, other_sample):
    result = pairwise_trends(real, other_sample)
    assert result.value > 0.9
    assert result.details["per_pair"]["x|y"] > 0.97
    assert result.details["per_pair"]["x|level"] > 0.9


def test_pairwise_trends_drops_when_relationships_are_destroyed(real, other_sample):
    good = pairwise_trends(real, other_sample)
    broken = pairwise_trends(real, shuffle_columns(other_sample))
    # corr(x, y) is about 0.9 in the real table and about 0 after shuffling: 1 - 0.9 / 2
    assert broken.details["per_pair"]["x|y"] == pytest.approx(0.55, abs=0.05)
    assert broken.details["per_pair"]["x|level"] < good.details["per_pair"]["x|level"] - 0.2
    assert broken.value < good.value - 0.05
    # shuffling keeps every marginal: column_shapes does not see the damage
    assert column_shapes(real, shuffle_columns(other_sample)).value > 0.9


def test_pairwise_trends_perfect_versus_anti_correlation_scores_zero():
    x = np.linspace(0.0, 1.0, 50)
    real = pd.DataFrame({"a": x, "b": 2 * x + 1})
    synthetic = pd.DataFrame({"a": x, "b": -x})
    result = pairwise_trends(real, synthetic)
    assert result.value == pytest.approx(0.0, abs=1e-12)
    assert result.details["correlations"]["a|b"]["real"] == pytest.approx(1.0)
    assert result.details["correlations"]["a|b"]["synthetic"] == pytest.approx(-1.0)


def test_pairwise_trends_contingency_known_answer():
    real = pd.DataFrame({"c": ["a", "a", "b", "b"], "d": ["u", "u", "v", "v"]})
    swapped = pd.DataFrame({"c": ["a", "a", "b", "b"], "d": ["v", "v", "u", "u"]})
    half = pd.DataFrame({"c": ["a", "a", "b", "b"], "d": ["u", "v", "v", "v"]})
    assert pairwise_trends(real, swapped).value == pytest.approx(0.0)  # same marginals, disjoint joints
    assert pairwise_trends(real, half).value == pytest.approx(0.75)  # one of four rows moved


def test_pairwise_trends_missing_values_are_a_category():
    real = pd.DataFrame({"c": ["a", None, "a", None], "d": ["u", "v", "u", "v"]})
    same = real.copy()
    filled = pd.DataFrame({"c": ["a", "b", "a", "b"], "d": ["u", "v", "u", "v"]})
    assert pairwise_trends(real, same).value == pytest.approx(1.0)
    assert pairwise_trends(real, filled).value == pytest.approx(0.5)


def test_pairwise_trends_skips_constant_columns_and_says_so():
    rng = np.random.default_rng(0)
    real = pd.DataFrame({"a": rng.normal(size=100), "b": rng.normal(size=100), "k": np.full(100, 3.5)})
    result = pairwise_trends(real, real.copy())
    assert sorted(result.details["skipped_constant"]) == ["a|k", "b|k"]
    assert "constant" in result.details["note_skipped"]
    assert result.details["n_pairs_evaluated"] == 1
    assert result.value == pytest.approx(1.0)


def test_pairwise_trends_max_pairs_is_reproducible(real, other_sample):
    first = pairwise_trends(real, other_sample, max_pairs=5, random_state=3)
    again = pairwise_trends(real, other_sample, max_pairs=5, random_state=3)
    assert first.details["n_pairs_evaluated"] == 5
    assert first.details["per_pair"] == again.details["per_pair"]
    everything = pairwise_trends(real, other_sample, max_pairs=1000)
    assert everything.details["n_pairs_evaluated"] == everything.details["n_pairs_total"] == 21


def test_pairwise_trends_uses_the_given_schema(real):
    schema = infer_schema(real, {"count": {"kind": "categorical", "categories": sorted(real["count"].unique())}})
    result = pairwise_trends(real, real, schema=schema)
    assert result.details["pair_counts"] == {"correlation": 3, "contingency": 18}


def test_pairwise_trends_rejects_a_synthetic_table_without_the_columns(real):
    with pytest.raises(ValueError, match="lacks column"):
        pairwise_trends(real, real.drop(columns=["x"]))


# --------------------------------------------------------------------------- TSTR
def make_task(n: int, seed: int) -> pd.DataFrame:
    """A binary task (label "yes" about 30%) learnable from numeric, categorical and datetime features."""
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    group = rng.choice(["a", "b", "c"], n)
    rank = rng.integers(1, 4, n)  # few-valued integers: inferred categorical
    logit = 2.5 * x1 - 2.0 * x2 + 1.5 * (group == "a") - 2.0
    label = np.where(rng.random(n) < 1 / (1 + np.exp(-logit)), "yes", "no")
    frame = pd.DataFrame(
        {
            "x1": x1,
            "x2": x2,
            "group": pd.Series(group, dtype=object),
            "rank": rank,
            "day": pd.Timestamp("2022-01-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D"),
            "label": pd.Series(label, dtype=object),
        }
    )
    frame.loc[rng.random(n) < 0.05, "x2"] = np.nan
    frame.loc[rng.random(n) < 0.05, "group"] = np.nan
    return frame


@pytest.fixture(scope="module")
def task() -> tuple[pd.DataFrame, pd.DataFrame]:
    return make_task(1200, seed=0), make_task(800, seed=1)


@pytest.fixture(scope="module")
def copy_result(task) -> MetricResult:
    train, holdout = task
    return train_synthetic_test_real(train, train.copy(), real_holdout=holdout, target="label", random_state=0)


def test_tstr_with_a_copy_of_train_equals_trtr(copy_result):
    d = copy_result.details
    assert copy_result.name == "train_synthetic_test_real"
    assert copy_result.direction == "higher"
    assert d["task"] == "classification"
    assert d["positive_class"] == "yes"  # the minority class of real_train
    assert d["trtr_score"] > 0.85  # the task is learnable, so chance-level scores below can fail
    assert copy_result.value == pytest.approx(d["trtr_score"], abs=1e-9)
    assert d["ratio"] == pytest.approx(1.0)
    assert d["tstr"] == pytest.approx(d["trtr"])
    assert set(d["tstr"]) == {"roc_auc", "balanced_accuracy", "f1_macro"}
    assert copy_result.value == d["tstr"]["roc_auc"]


def test_tstr_with_shuffled_synthetic_labels_is_at_chance(task, copy_result):
    train, holdout = task
    synthetic = train.copy()
    synthetic["label"] = np.random.default_rng(5).permutation(synthetic["label"].to_numpy())
    result = train_synthetic_test_real(train, synthetic, real_holdout=holdout, target="label", random_state=0)
    assert abs(result.value - 0.5) < 0.1
    assert result.details["trtr_score"] == pytest.approx(copy_result.details["trtr_score"])
    assert result.details["ratio"] < 0.7


def test_tstr_matches_categories_across_dtypes(task):
    """``rank`` as floats in the synthetic table still means the same categories."""
    train, holdout = task
    synthetic = train.copy()
    synthetic["rank"] = synthetic["rank"].astype(float)
    model = LogisticRegression(max_iter=500)
    as_is = train_synthetic_test_real(train, train, real_holdout=holdout, target="label", estimator=model)
    floats = train_synthetic_test_real(train, synthetic, real_holdout=holdout, target="label", estimator=model)
    assert floats.value == pytest.approx(as_is.value)
    assert "LogisticRegression" in floats.details["estimator"]


def test_tstr_regression_and_multiclass():
    rng = np.random.default_rng(0)
    n = 600
    x = rng.normal(size=(n, 2))
    kind = np.array(["p", "q", "r"])[np.argmax(np.column_stack([x[:, 0], x[:, 1], -x.sum(axis=1)]), axis=1)]
    frame = pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "kind": kind, "out": 3 * x[:, 0] - x[:, 1]})
    frame["out"] += rng.normal(scale=0.1, size=n)
    train, holdout = frame.iloc[:400], frame.iloc[400:]
    model = LogisticRegression(max_iter=500)
    multi = train_synthetic_test_real(train, train, real_holdout=holdout, target="kind", estimator=model)
    assert multi.details["averaging"] == "macro one-vs-rest"
    assert multi.details["positive_class"] is None
    assert multi.value > 0.9
    from sklearn.linear_model import Ridge

    reg = train_synthetic_test_real(train, train, real_holdout=holdout, target="out", estimator=Ridge())
    assert reg.details["task"] == "regression"
    assert set(reg.details["tstr"]) == {"r2", "mae"}
    assert reg.value == pytest.approx(reg.details["tstr"]["r2"]) and reg.value > 0.95
    noise = train.copy()
    noise["out"] = rng.permutation(noise["out"].to_numpy())
    bad = train_synthetic_test_real(train, noise, real_holdout=holdout, target="out", estimator=Ridge())
    assert bad.value < 0.2


def test_tstr_needs_a_holdout_and_a_target(task):
    train, holdout = task
    with pytest.raises(MetricNotApplicable, match="train_synthetic_test_real needs a real_holdout"):
        train_synthetic_test_real(train, train, target="label")
    with pytest.raises(MetricNotApplicable, match="train_synthetic_test_real needs a target"):
        train_synthetic_test_real(train, train, real_holdout=holdout)


def test_tstr_target_must_be_in_every_table(task):
    train, holdout = task
    with pytest.raises(ValueError, match="'label' is not a column of synthetic"):
        train_synthetic_test_real(train, train.drop(columns="label"), real_holdout=holdout, target="label")
    with pytest.raises(ValueError, match="'label' is not a column of real_holdout"):
        train_synthetic_test_real(train, train, real_holdout=holdout.drop(columns="label"), target="label")
    with pytest.raises(ValueError, match="'nope' is not a column of real_train"):
        train_synthetic_test_real(train, train, real_holdout=holdout, target="nope")


def test_tstr_refuses_a_single_class_synthetic_target(task):
    train, holdout = task
    synthetic = train.copy()
    synthetic["label"] = "no"
    with pytest.raises(MetricNotApplicable, match=r"synthetic target 'label' has only one class \('no'\).*no TSTR score"):
        train_synthetic_test_real(train, synthetic, real_holdout=holdout, target="label")
