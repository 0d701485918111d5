import numpy as np
import pandas as pd
import pytest
from imblearn.pipeline import Pipeline
from imblearn.utils import check_sampling_strategy
from imblearn.utils.estimator_checks import parametrize_with_checks
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.utils.estimator_checks import parametrize_with_checks as sklearn_parametrize_with_checks

from synthaug.over_sampling import GenerativeOverSampler
from synthaug.synthesizers import TVAESynthesizer


def fast_sampler(**kwargs):
    return GenerativeOverSampler(synthesizer=TVAESynthesizer(epochs=3, batch_size=64), random_state=0, **kwargs)


def imbalanced_frame(n=300, seed=0):
    rng = np.random.default_rng(seed)
    y = np.where(rng.random(n) < 0.15, "churn", "stay")
    X = pd.DataFrame(
        {
            "tenure": rng.gamma(2, 10, n) + (y == "churn") * 20,
            "plan": pd.Series(rng.choice(["basic", "pro", "max"], n), dtype=object),
            "calls": rng.integers(0, 50, n),
            "score": np.where(rng.random(n) < 0.1, np.nan, rng.normal(0, 1, n)),
        }
    )
    return X, pd.Series(y, name="label")


@pytest.mark.parametrize("mode", ["conditional", "per_class"])
def test_dataframe_balanced_exact_classes(mode):
    X, y = imbalanced_frame()
    X_res, y_res = fast_sampler(mode=mode).fit_resample(X, y)
    counts = y_res.value_counts()
    assert counts["churn"] == counts["stay"] == (y == "stay").sum()
    assert isinstance(X_res, pd.DataFrame) and list(X_res.columns) == list(X.columns)
    assert (X_res.dtypes == X.dtypes).all()
    pd.testing.assert_frame_equal(X_res.iloc[: len(X)], X)  # originals first, untouched
    assert set(X_res["plan"].dropna()) <= {"basic", "pro", "max"}


def test_integer_labels_multiclass_and_dict_strategy():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(240, 3))
    y = np.repeat([0, 1, 2], [180, 40, 20])
    sampler = fast_sampler(sampling_strategy={1: 100, 2: 60})
    X_res, y_res = sampler.fit_resample(X, y)
    assert X_res.dtype == X.dtype and np.array_equal(np.bincount(y_res), [180, 100, 60])
    assert sampler.sampling_strategy_ == {1: 60, 2: 40}


@pytest.mark.parametrize("strategy", ["minority", "not majority", "all", 0.5, lambda y: {1: 100}])
def test_every_strategy_form(strategy):
    rng = np.random.default_rng(2)
    X = rng.normal(size=(200, 2))
    y = np.repeat([0, 1], [160, 40])
    _, y_res = fast_sampler(sampling_strategy=strategy).fit_resample(X, y)
    wanted = check_sampling_strategy(strategy, y, "over-sampling")  # imbalanced-learn's own reading
    assert (y_res == 1).sum() == 40 + wanted.get(1, 0) and (y_res == 0).sum() == 160 + wanted.get(0, 0)
    assert wanted.get(1, 0) > 0


def test_pipeline_cross_validation_and_grid_search():
    X, y = imbalanced_frame(200)
    X = X[["tenure", "calls"]].to_numpy()
    pipe = Pipeline([("sampler", fast_sampler()), ("model", LogisticRegression(max_iter=500))])
    scores = cross_val_score(pipe, X, y, cv=2, scoring="balanced_accuracy")
    assert scores.shape == (2,) and np.all(scores > 0.5)
    grid = GridSearchCV(pipe, {"sampler__synthesizer__epochs": [1, 2]}, cv=2, scoring="balanced_accuracy")
    grid.fit(X, y)
    assert grid.best_params_["sampler__synthesizer__epochs"] in (1, 2)


def test_bad_targets():
    X, y = imbalanced_frame(50)
    with pytest.raises(ValueError, match="class"):
        fast_sampler().fit_resample(X, pd.Series(["a"] * 50))
    with pytest.raises(ValueError):
        fast_sampler().fit_resample(X, y.iloc[:10])
    with pytest.raises(ValueError, match="mode"):
        GenerativeOverSampler(mode="weird").fit_resample(X, y)


def test_single_row_class_is_resampled():
    X = np.arange(40, dtype=float).reshape(20, 2)
    y = np.array([0] * 19 + [1])
    _, y_res = fast_sampler(mode="per_class").fit_resample(X, y)
    assert (y_res == 1).sum() == 19


def test_privacy_report_without_dp():
    X, y = imbalanced_frame(100)
    sampler = fast_sampler()
    sampler.fit_resample(X, y)
    assert sampler.privacy_spent_["guarantee"] == "none"


def _as_list(mark: pytest.MarkDecorator) -> pytest.MarkDecorator:
    """imbalanced-learn parametrizes with a generator, which pytest 9 deprecates: the same checks, as a list."""
    names, values = mark.args[:2]
    return pytest.mark.parametrize(names, list(values), **mark.kwargs)


@_as_list(parametrize_with_checks([fast_sampler()]))
def test_imblearn_checks(estimator, check):
    check(estimator)


@sklearn_parametrize_with_checks([fast_sampler()])
def test_sklearn_checks(estimator, check):
    check(estimator)


def test_a_strategy_imbalanced_learn_refuses_is_a_parameter_error_and_quotes_no_count_under_dp():
    from synthaug.exceptions import ParameterError
    from synthaug.privacy import DPConfig

    rng = np.random.RandomState(0)
    X = pd.DataFrame({"x": rng.normal(size=60)})
    y = np.array(["a"] * 45 + ["b"] * 15)
    with pytest.raises(ParameterError, match="sampling_strategy=.*15"):
        GenerativeOverSampler(sampling_strategy={"b": 5}).fit_resample(X, y)
    private = GenerativeOverSampler(synthesizer=TVAESynthesizer(dp=DPConfig(epsilon=1.0)), sampling_strategy={"b": 5})
    with pytest.raises(ParameterError, match="withheld under dp") as caught:
        private.fit_resample(X, y)
    assert "15" not in str(caught.value) and "45" not in str(caught.value)


def test_selection_keeps_the_candidates_the_real_data_classifier_agrees_with():
    from synthaug.selection import agreement_scores

    X, y = imbalanced_frame(400)
    added = {}
    for selection in ("classifier", None):
        sampler = fast_sampler(selection=selection, candidates_per_row=3.0, cache=False)
        X_res, y_res = sampler.fit_resample(X, y)
        added[selection] = (X_res.iloc[len(X) :], y_res.iloc[len(X) :].to_numpy())
        assert (y_res == "churn").sum() == (y == "stay").sum()
    wanted = int((y == "stay").sum() - (y == "churn").sum())
    assert sampler.selection_ is None
    scores = {k: agreement_scores(X, y.to_numpy(), *v, seed=0) for k, v in added.items()}
    assert scores["classifier"].mean() > scores[None].mean() + 0.05
    chosen = fast_sampler(candidates_per_row=3.0)
    chosen.fit_resample(X, y)
    assert chosen.selection_["candidates"] == {"churn": 3 * wanted} and chosen.selection_["kept"] == {"churn": wanted}


def test_most_agreed_takes_the_top_of_each_class_in_order():
    from synthaug.selection import most_agreed

    labels = np.array(["a", "b", "a", "a", "b", "a"])
    scores = np.array([0.1, 0.9, 0.8, 0.8, 0.2, 0.5])
    np.testing.assert_array_equal(most_agreed(scores, labels, {"a": 2, "b": 1}), [1, 2, 3])


def test_selection_is_off_under_dp_by_default_and_refused_when_asked():
    from synthaug.exceptions import PrivacyError
    from synthaug.privacy import DPConfig
    from synthaug.schema import ColumnSpec, TableSchema

    X, y = imbalanced_frame(200)
    X = X[["tenure"]].clip(0, 200)
    schema = TableSchema([ColumnSpec("tenure", "continuous", dtype="float64", bounds=(0.0, 200.0), public=True)])
    dp = TVAESynthesizer(epochs=1, batch_size=64, schema=schema, dp=DPConfig(epsilon=5.0, delta=1e-4))
    with pytest.raises(PrivacyError, match="selection='classifier' is refused"):
        GenerativeOverSampler(synthesizer=dp, selection="classifier").fit_resample(X, y)
    sampler = GenerativeOverSampler(synthesizer=dp, random_state=0)
    sampler.fit_resample(X, y)
    assert sampler.selection_ is None and sampler.privacy_spent_["epsilon"] <= 5.0
