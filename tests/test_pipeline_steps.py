"""The steps the table and image pipelines share: the holdout split refuses exactly what scikit-learn cannot split."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.model_selection import train_test_split

from synthaug.exceptions import SpecError
from synthaug.pipeline_steps import class_counts, holdout_split, per_class_models


def spec(holdout: float, seed: int = 0) -> dict:
    return {"input": {"holdout": holdout}, "output": {"seed": seed}}


def sklearn_refuses(n: int, holdout: float, labels) -> bool:
    try:
        train_test_split(np.arange(n), test_size=holdout, random_state=0, stratify=labels)
    except ValueError:
        return True
    return False


@pytest.mark.parametrize("n", [1, 2, 3, 5, 9, 20])
@pytest.mark.parametrize("holdout", [0.01, 0.2, 0.5, 0.9, 0.99])
@pytest.mark.parametrize("classes", [None, 2, 3])
def test_holdout_split_refuses_exactly_what_sklearn_cannot_split(n, holdout, classes):
    labels = None if classes is None else np.arange(n) % classes
    if sklearn_refuses(n, holdout, labels):
        with pytest.raises(SpecError, match=rf"input.holdout = {holdout:g} cannot split {n} rows: "):
            holdout_split(np.arange(n), spec(holdout), labels, "rows")
    else:
        train, test = holdout_split(np.arange(n), spec(holdout), labels, "rows")
        expected = train_test_split(np.arange(n), test_size=holdout, random_state=0, stratify=labels)
        assert np.array_equal(train, expected[0]) and np.array_equal(test, expected[1])


def test_holdout_split_names_the_class_too_small_to_stratify():
    labels = np.array(["a"] * 5 + ["b"])
    with pytest.raises(SpecError, match="class 'b' has a single image"):
        holdout_split(np.arange(6), spec(0.5), labels, "images")


def test_class_counts_under_dp_show_only_the_noisy_synthetic_counts():
    class Sampler:
        sampling_strategy_ = {"a": np.int64(3)}

    exact: dict = {}
    class_counts({}, exact, ["a", "b", "b"], ["a", "b", "b", "a"], Sampler())
    assert exact == {"class_counts_before": {"a": 1, "b": 2}, "class_counts_after": {"a": 2, "b": 2}}
    private: dict = {}
    class_counts({"privacy": {}}, private, ["a"], ["a"], Sampler())
    assert private == {"synthetic_per_class": {"a": 3}}


def test_per_class_models_are_numbered_and_named_by_class():
    info: dict = {}
    assert per_class_models({"x": "mx", 2: "m2"}, info) == {"model_0.synthaug": "mx", "model_1.synthaug": "m2"}
    assert info["models"] == {"model_0.synthaug": "x", "model_1.synthaug": "2"}
