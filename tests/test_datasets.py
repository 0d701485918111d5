"""Built-in demo datasets: shapes, readable targets, and the error for an unknown name."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import synthaug
from synthaug.datasets import DIGITS_PIXEL_RANGE, Dataset, available_datasets, load_dataset, load_digits_images
from synthaug.exceptions import ParameterError

SHAPES = {"breast_cancer": (569, 31), "diabetes": (442, 11), "iris": (150, 5), "wine": (178, 14)}
LABELS = {
    "breast_cancer": {"malignant": 212, "benign": 357},
    "iris": {"setosa": 50, "versicolor": 50, "virginica": 50},
    "wine": {"class_0": 59, "class_1": 71, "class_2": 48},
}


def test_available_datasets_are_sorted_names():
    assert available_datasets() == sorted(SHAPES)


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_each_dataset_loads_with_its_shape_and_target(name):
    dataset = load_dataset(name)
    assert isinstance(dataset, Dataset) and dataset.name == name
    assert dataset.target == "target"
    assert dataset.frame.shape == SHAPES[name]
    assert dataset.frame.columns[-1] == "target"
    assert not dataset.frame.isna().any().any()
    features = dataset.frame.drop(columns="target")
    assert all(pd.api.types.is_numeric_dtype(dtype) for dtype in features.dtypes)


@pytest.mark.parametrize("name", sorted(LABELS))
def test_classification_targets_are_readable_labels(name):
    target = load_dataset(name).frame["target"]
    assert all(isinstance(value, str) for value in target)
    assert target.value_counts().to_dict() == LABELS[name]


def test_diabetes_is_unscaled_with_a_two_valued_sex_and_numeric_target():
    frame = load_dataset("diabetes").frame
    assert set(frame["sex"].unique()) == {1.0, 2.0}
    assert frame["age"].between(18, 80).all() and frame["age"].min() > 1  # years, not standardised
    assert pd.api.types.is_float_dtype(frame["target"])
    assert frame["target"].min() == 25.0 and frame["target"].max() == 346.0


def test_the_default_dataset_is_breast_cancer():
    assert load_dataset().name == "breast_cancer"


def test_loading_twice_gives_independent_frames():
    first = load_dataset("iris")
    first.frame.iloc[0, 0] = -1.0
    assert load_dataset("iris").frame.iloc[0, 0] != -1.0


@pytest.mark.parametrize("name", ["titanic", "Iris", ""])
def test_an_unknown_name_is_a_parameter_error_naming_the_choices(name):
    with pytest.raises(ParameterError, match="unknown dataset") as info:
        load_dataset(name)
    message = str(info.value)
    assert repr(name) in message
    assert "breast_cancer, diabetes, iris, wine" in message
    assert isinstance(info.value, ValueError)


def test_load_dataset_is_exported_at_the_top_level():
    assert synthaug.load_dataset("wine").frame.shape == SHAPES["wine"]


def test_digits_images():
    X, y = load_digits_images()
    assert X.shape == (1797, 8, 8) and X.dtype == np.float64
    assert y.shape == (1797,) and y.dtype == np.int64
    assert set(np.unique(y)) == set(range(10))
    low, high = DIGITS_PIXEL_RANGE
    assert X.min() == low and X.max() == high
    np.testing.assert_array_equal(X, np.round(X))  # pixel counts stored as floats
