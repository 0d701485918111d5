"""Parameters declared once (default + constraints) for every synthesizer, validated by scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.utils.estimator_checks import check_no_attributes_set_in_init, check_parameters_default_constructible

from synthaug.exceptions import ParameterError
from synthaug.synthesizers.base import BaseSynthesizer
from synthaug.synthesizers.core import NetworkTraining
from synthaug.synthesizers.params import POSITIVE_INT, param
from synthaug.synthesizers.registry import available_synthesizers, synthesizer_class

CLASSES = [synthesizer_class(name) for name in available_synthesizers()]


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_every_parameter_has_constraints_and_init_only_stores(cls):
    names = cls._get_param_names()
    assert set(cls._parameter_constraints) == set(names)
    assert {"dp", "device", "verbose", "random_state"} <= set(names)
    training = {"epochs", "batch_size", "callbacks"}
    if issubclass(cls, NetworkTraining) or cls.model_name == "auto":  # auto passes them to its candidates
        assert training <= set(names)
    else:  # a model without networks (marginal) takes no training parameters
        assert not training & set(names)
    check_no_attributes_set_in_init(cls.__name__, cls())
    check_parameters_default_constructible(cls.__name__, cls())


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
@pytest.mark.parametrize(
    "params, named",
    [({"epochs": 0}, "epochs"), ({"batch_size": 2.5}, "batch_size"), ({"device": 3}, "device"), ({"verbose": "yes"}, "verbose")],
)
def test_bad_values_raise_parameter_error_naming_the_parameter(cls, params, named):
    if named not in cls._get_param_names():
        pytest.skip(f"{cls.__name__} has no {named} parameter")
    X = np.zeros((8, 8, 8), dtype=np.uint8) if getattr(cls, "is_image_synthesizer", False) else np.zeros((8, 2))
    with pytest.raises(ParameterError, match=f"'{named}' parameter of {cls.__name__}"):
        cls(**params).fit(X)


def test_a_parameter_without_constraints_is_refused_at_class_creation():
    with pytest.raises(TypeError, match="Broken.width is declared without constraints"):

        class Broken(BaseSynthesizer):
            width: int = 3

    tvae = synthesizer_class("tvae")

    class Wider(tvae):
        width: int = param(3, POSITIVE_INT)

    assert Wider(width=4).get_params()["width"] == 4
    assert Wider._parameter_constraints["width"] == [POSITIVE_INT]
    with pytest.raises(ParameterError, match="'width' parameter"):
        Wider(width=0)._check_params()


def test_list_parameters_stay_lists_through_clone():
    cls = synthesizer_class("tvae")
    model = cls(compress_dims=[64, 32])
    assert clone(model).compress_dims == [64, 32]
    assert clone(cls(compress_dims=(64, 32))).compress_dims == (64, 32)
