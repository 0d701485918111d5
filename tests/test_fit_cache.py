import numpy as np
import pandas as pd
import pytest
from imblearn.pipeline import Pipeline
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV

from synthaug.fit_cache import FIT_CACHE, FitCache, data_digest, estimator_digest
from synthaug.over_sampling import GenerativeOverSampler
from synthaug.synthesizers import TVAESynthesizer


@pytest.fixture(autouse=True)
def empty_cache():
    FIT_CACHE.clear()
    yield
    FIT_CACHE.clear()


def frame(n=160, seed=0):
    rng = np.random.default_rng(seed)
    y = np.where(rng.random(n) < 0.2, "yes", "no")
    X = pd.DataFrame({"a": rng.normal(size=n) + (y == "yes"), "b": rng.choice(["p", "q"], n).astype(object)})
    return X, y


def sampler(**kwargs):
    return GenerativeOverSampler(synthesizer=TVAESynthesizer(epochs=2, batch_size=64), **{"random_state": 0, **kwargs})


@pytest.fixture
def fit_counter(monkeypatch):
    calls = []
    original = TVAESynthesizer.fit

    def counting_fit(self, X, y=None):
        calls.append(len(X))
        return original(self, X, y)

    monkeypatch.setattr(TVAESynthesizer, "fit", counting_fit)
    return calls


def test_a_repeated_fit_is_served_from_the_cache_and_equals_a_refit(fit_counter):
    X, y = frame()
    first = sampler().fit_resample(X, y)
    second = sampler().fit_resample(X.copy(), y.copy())
    assert len(fit_counter) == 1 and FIT_CACHE.hits == 1
    refit = sampler(cache=False).fit_resample(X, y)
    assert len(fit_counter) == 2
    for result in (second, refit):
        pd.testing.assert_frame_equal(result[0], first[0])
        np.testing.assert_array_equal(result[1], first[1])


def test_other_data_settings_or_no_seed_refit(fit_counter):
    X, y = frame()
    sampler().fit_resample(X, y)
    changed = X.copy()
    changed.loc[3, "a"] += 1e-9
    sampler().fit_resample(changed, y)
    sampler(random_state=1).fit_resample(X, y)
    GenerativeOverSampler(synthesizer=TVAESynthesizer(epochs=3, batch_size=64), random_state=0).fit_resample(X, y)
    sampler(sampling_strategy=0.5).fit_resample(X, y)
    sampler(selection=None).fit_resample(X, y)
    sampler(random_state=None).fit_resample(X, y)
    sampler(random_state=None).fit_resample(X, y)
    assert len(fit_counter) == 8 and FIT_CACHE.hits == 0


def test_grid_search_over_the_classifier_fits_the_generator_once_per_fold(fit_counter):
    X, y = frame(200)
    pipe = Pipeline([("sampler", sampler()), ("model", LogisticRegression())])
    grid = GridSearchCV(pipe, {"model__C": [0.1, 1.0, 10.0]}, cv=2, scoring="balanced_accuracy")
    grid.fit(X[["a"]].to_numpy(), y)
    assert len(fit_counter) == 3  # two training folds, then the refit on all rows; not 3 x 2 + 1
    assert FIT_CACHE.hits == 4


def test_a_subclass_with_its_own_parameter_does_not_share_entries(fit_counter):
    class Variant(GenerativeOverSampler):
        def __init__(self, *, synthesizer=None, random_state=None, knob=1):
            super().__init__(synthesizer=synthesizer, random_state=random_state)
            self.knob = knob

    X, y = frame()
    synthesizer = TVAESynthesizer(epochs=2, batch_size=64)
    GenerativeOverSampler(synthesizer=synthesizer, random_state=0).fit_resample(X, y)
    Variant(synthesizer=synthesizer, random_state=0).fit_resample(X, y)
    Variant(synthesizer=synthesizer, random_state=0, knob=2).fit_resample(X, y)
    assert len(fit_counter) == 3 and FIT_CACHE.hits == 0


def test_the_cache_forgets_the_least_recently_used_entry():
    cache = FitCache(max_entries=2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1
    cache.put("c", 3)
    assert cache.get("b") is None and cache.get("a") == 1 and cache.get("c") == 3 and len(cache) == 2


def test_digests_see_values_names_and_dtypes():
    X, _ = frame()
    assert data_digest(X) == data_digest(X.copy())
    assert data_digest(X) != data_digest(X.rename(columns={"a": "z"}))
    assert data_digest(X) != data_digest(X.astype({"a": "float32"}))
    assert data_digest(np.arange(6).reshape(2, 3)) != data_digest(np.arange(6).reshape(3, 2))
    assert data_digest(np.array(["x", None], dtype=object)) == data_digest(np.array(["x", None], dtype=object))
    assert estimator_digest(TVAESynthesizer(epochs=2)) == estimator_digest(TVAESynthesizer(epochs=2))
    assert estimator_digest(TVAESynthesizer(epochs=2)) != estimator_digest(TVAESynthesizer(epochs=3))
