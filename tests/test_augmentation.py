import numpy as np
import pandas as pd
import pytest
from imblearn.pipeline import Pipeline
from sklearn.linear_model import Ridge
from sklearn.model_selection import cross_val_score
from sklearn.utils._param_validation import InvalidParameterError

from synthaug.augmentation import GenerativeAugmenter
from synthaug.exceptions import DataValidationError, ParameterError
from synthaug.privacy import DPConfig
from synthaug.synthesizers import FlowSynthesizer, TVAESynthesizer


def augmenter(**kwargs):
    return GenerativeAugmenter(synthesizer=FlowSynthesizer(epochs=40, batch_size=100), **{"random_state": 0, **kwargs})


def regression_frame(n=400, seed=0):
    rng = np.random.default_rng(seed)
    size = rng.gamma(3, 20, n)
    kind = rng.choice(["flat", "house"], n).astype(object)
    price = 2.0 * size + np.where(kind == "house", 50, 0) + rng.normal(0, 5, n)
    return pd.DataFrame({"size": size, "kind": kind}), pd.Series(price, name="price")


def test_rows_are_added_with_their_target_after_the_real_ones():
    X, y = regression_frame()
    sampler = augmenter(ratio=0.5)
    X_res, y_res = sampler.fit_resample(X, y)
    assert len(X_res) == len(y_res) == 600 and sampler.n_added_ == 200 and sampler.target_column_ == "price"
    pd.testing.assert_frame_equal(X_res.iloc[:400], X)
    pd.testing.assert_series_equal(y_res.iloc[:400], y)
    assert y_res.name == "price" and y_res.dtype == y.dtype and list(X_res.columns) == ["size", "kind"]
    assert set(X_res["kind"].iloc[400:]) <= {"flat", "house"}
    new = X_res.iloc[400:].assign(price=y_res.iloc[400:].to_numpy())
    # the joint is learnt: the target follows the features in the synthetic rows as in the real ones
    assert np.corrcoef(new["size"], new["price"])[0, 1] > 0.8
    gap = new.groupby("kind")["price"].mean() - new.groupby("kind")["size"].mean() * 2
    assert gap["house"] - gap["flat"] > 25


def test_arrays_n_samples_and_no_target():
    X, y = regression_frame(200)
    X_num = X[["size"]].to_numpy()
    X_res, y_res = augmenter(n_samples=30).fit_resample(X_num, y.to_numpy())
    assert X_res.shape == (230, 1) and y_res.shape == (230,) and X_res.dtype == X_num.dtype
    np.testing.assert_array_equal(X_res[:200], X_num)
    only_X = augmenter(n_samples=10).fit_resample(X)
    assert isinstance(only_X, pd.DataFrame) and len(only_X) == 210


def test_reproducible_for_a_seed():
    X, y = regression_frame(200)
    a = augmenter(cache=False).fit_resample(X, y)
    b = augmenter(cache=False).fit_resample(X, y)
    pd.testing.assert_frame_equal(a[0], b[0])
    pd.testing.assert_series_equal(a[1], b[1])


def test_a_regression_pipeline_step():
    X, y = regression_frame(300)
    pipe = Pipeline([("augment", augmenter(ratio=0.5)), ("model", Ridge())])
    scores = cross_val_score(pipe, X[["size"]].to_numpy(), y.to_numpy(), cv=3, scoring="r2")
    assert scores.shape == (3,) and np.all(scores > 0.5)


def test_bad_input_is_named():
    X, y = regression_frame(100)
    with pytest.raises(DataValidationError, match="100 and 50 rows"):
        augmenter().fit_resample(X, y.iloc[:50])
    with pytest.raises(DataValidationError, match="missing"):
        augmenter().fit_resample(X, y.where(y > 100))
    with pytest.raises(DataValidationError, match="'size' is also a column"):
        augmenter().fit_resample(X, y.rename("size"))
    with pytest.raises(InvalidParameterError, match="ratio"):
        augmenter(ratio=0).fit_resample(X, y)
    private = GenerativeAugmenter(synthesizer=TVAESynthesizer(dp=DPConfig(epsilon=1.0)))
    with pytest.raises(ParameterError, match="n_samples"):
        private.fit_resample(X[["size"]], y)
    with pytest.raises(DataValidationError, match="different numbers of rows") as caught:
        private.fit_resample(X[["size"]], y.iloc[:50])
    assert "50" not in str(caught.value) and "100" not in str(caught.value)
