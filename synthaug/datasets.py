"""Built-in demo datasets, taken from scikit-learn's bundled ``load_*`` sets (nothing is downloaded).

Tables: :func:`load_dataset` (names in :func:`available_datasets`). Images: :func:`load_digits_images`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .exceptions import ParameterError


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


#: the digits' pixel range, fixed by how the set was made (a pixel counts the on-pixels of a 4x4 block): public
DIGITS_PIXEL_RANGE = (0.0, 16.0)


def available_datasets() -> list[str]:
    """Names of the built-in tables (for images see :func:`load_digits_images`)."""
    return sorted(_LOADERS)


def load_dataset(name: str = "breast_cancer") -> Dataset:
    """Load a bundled table with its target as a readable column.

    Classification targets become string labels (``"malignant"``, ``"class_0"`` ...);
    ``diabetes`` is unscaled, with ``sex`` as a two-valued column and a numeric target.
    """
    from sklearn import datasets

    if name not in _LOADERS:
        raise ParameterError(f"unknown dataset {name!r}; available: {', '.join(available_datasets())}")
    loader = getattr(datasets, _LOADERS[name])
    bunch = loader(as_frame=True, scaled=False) if name == "diabetes" else loader(as_frame=True)
    frame = bunch.frame.copy()
    target = "target"
    if name != "diabetes":
        labels = list(bunch.target_names)
        frame[target] = pd.Series([labels[i] for i in bunch.target.to_numpy()], dtype=object).to_numpy()
    return Dataset(name, frame, target)


def load_digits_images() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's bundled handwritten digits as images: ``X`` ``(1797, 8, 8)`` float64, ``y`` int labels 0..9.

    Pixels are integers 0..16 stored as floats (``DIGITS_PIXEL_RANGE``; each pixel counts the set
    pixels of a 4x4 block of the original 32x32 bitmap). Nothing is downloaded.
    """
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return bunch.images.astype(np.float64), bunch.target.astype(np.int64)
