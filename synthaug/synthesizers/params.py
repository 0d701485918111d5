"""Parameters of the synthesizers: declared once, with their default and their constraints.

A synthesizer declares each parameter as a class field, ``name: type = param(default, *constraints)``
(constraints in scikit-learn's ``_parameter_constraints`` language). The skeleton turns the
class into a keyword-only dataclass, so ``__init__`` stores the parameters and does nothing
else (scikit-learn's rule), and collects the constraints into ``_parameter_constraints``;
``check_params`` runs scikit-learn's validation and re-raises its error as
:class:`~synthaug.exceptions.ParameterError` (a synthaug error naming the parameter, so the CLI
answers it with exit code 2).
"""

from __future__ import annotations

import dataclasses
import numbers
from typing import Any

from sklearn.utils._param_validation import Interval, InvalidParameterError, Options

from ..exceptions import ParameterError

POSITIVE_INT = Interval(numbers.Integral, 1, None, closed="left")
POSITIVE = Interval(numbers.Real, 0, None, closed="neither")
NON_NEGATIVE = Interval(numbers.Real, 0, None, closed="left")
OPEN_UNIT = Interval(numbers.Real, 0, 1, closed="neither")
UNIT_FROM_ZERO = Interval(numbers.Real, 0, 1, closed="left")


class PositiveIntSequence(Options):
    """A non-empty list or tuple of positive integers (hidden-layer widths).

    (A subclass of scikit-learn's ``Options`` because its validation accepts only its own
    constraint types; membership is replaced by the check below.)
    """

    def __init__(self) -> None:
        super().__init__(object, set())

    def is_satisfied_by(self, val: Any) -> bool:
        if not isinstance(val, (list, tuple)) or not val:
            return False
        return all(isinstance(d, numbers.Integral) and not isinstance(d, bool) and d > 0 for d in val)

    def __str__(self) -> str:
        return "a non-empty sequence of positive integers"


LAYER_WIDTHS = PositiveIntSequence()


def param(default: Any, *constraints: Any) -> Any:
    """A parameter field: its default and the constraints its value must meet (any one of them)."""
    if not constraints:
        raise TypeError("a synthesizer parameter needs at least one constraint")
    return dataclasses.field(default=default, metadata={"constraints": list(constraints)})


def declare_parameters(cls: type) -> type:
    """Make ``cls`` a keyword-only dataclass of its parameter fields and set ``_parameter_constraints``."""
    dataclasses.dataclass(kw_only=True, repr=False, eq=False)(cls)
    constraints = {}
    for field in dataclasses.fields(cls):
        if "constraints" not in field.metadata:
            raise TypeError(f"{cls.__name__}.{field.name} is declared without constraints; use param(default, ...)")
        constraints[field.name] = field.metadata["constraints"]
    cls._parameter_constraints = constraints
    return cls


def check_params(estimator: Any) -> None:
    """Validate ``estimator.get_params()`` against its ``_parameter_constraints``."""
    try:
        estimator._validate_params()
    except InvalidParameterError as exc:
        raise ParameterError(str(exc)) from None


__all__ = [
    "LAYER_WIDTHS",
    "NON_NEGATIVE",
    "OPEN_UNIT",
    "POSITIVE",
    "POSITIVE_INT",
    "UNIT_FROM_ZERO",
    "PositiveIntSequence",
    "check_params",
    "declare_parameters",
    "param",
]
