"""Built-in demo datasets, taken from scikit-learn's bundled ``load_*`` sets (nothing is downloaded)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class Dataset:
    """A built-in table and the name of its target column."""

    name: str
    frame: pd.DataFrame
    target: str


_LOADERS = {
    "breast_cancer": "load_breast_cancer",
    "wine": "load_wine",
    "iris": "load_iris",
    "diabetes": "load_diabetes",
}


def available_datasets() -> list[str]:
    return sorted(_LOADERS)


def load_dataset(name: str = "breast_cancer") -> Dataset:
    """Load a bundled table with its target as a readable column.

    Classification targets become string labels (``"malignant"``, ``"class_0"`` ...);
    ``diabetes`` is unscaled, with ``sex`` as a two-valued column and a numeric target.
    """
    from sklearn import datasets

    if name not in _LOADERS:
        raise ValueError(f"unknown dataset {name!r}; available: {', '.join(available_datasets())}")
    loader = getattr(datasets, _LOADERS[name])
    bunch = loader(as_frame=True, scaled=False) if name == "diabetes" else loader(as_frame=True)
    frame = bunch.frame.copy()
    target = "target"
    if name != "diabetes":
        labels = list(bunch.target_names)
        frame[target] = pd.Series([labels[i] for i in bunch.target.to_numpy()], dtype=object).to_numpy()
    return Dataset(name, frame, target)
