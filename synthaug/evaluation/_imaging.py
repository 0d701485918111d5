"""Checks and scaling shared by the image metrics and the image plots (numpy only: no torch here)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import DataValidationError
from ..transform.images import check_images as check_fit_images


def check_images(X: Any, name: str, shape: tuple[int, int, int] | None = None) -> np.ndarray:
    """``X`` as an array of shape (n, C, H, W) (a grey (n, H, W) array gains C = 1).

    The rules are fit's (:func:`synthaug.transform.images.check_images`: an array a synthesizer
    can be fitted on can be audited); on top, ``shape`` is the (C, H, W) that ``X`` must match
    (that of real_train). DataValidationError on bad input.
    """
    X = check_fit_images(X, name=name)
    X = X[:, None] if X.ndim == 3 else X
    if shape is not None and X.shape[1:] != tuple(shape):
        raise DataValidationError(f"{name} images have shape (C, H, W) = {X.shape[1:]}, real_train images {tuple(shape)}")
    return X


def resolve_pixel_range(real_train: np.ndarray, pixel_range: Sequence[float] | None) -> tuple[float, float]:
    """``pixel_range`` as floats; by default (0, 255) for uint8 images, else the min / max of ``real_train``."""
    if pixel_range is not None:
        low, high = (float(v) for v in pixel_range)
    elif real_train.dtype == np.uint8:
        low, high = 0.0, 255.0
    else:
        low, high = float(real_train.min()), float(real_train.max())
    if not high > low:
        raise DataValidationError(f"pixel_range must have high > low, got ({low}, {high}) (constant real_train images?)")
    return low, high


def scale_images(X: np.ndarray, pixel_range: tuple[float, float]) -> np.ndarray:
    """Pixels mapped to [0, 1] by ``pixel_range`` (float32; values outside the range are kept, not clipped)."""
    low, high = pixel_range
    return ((np.asarray(X, dtype=np.float32) - np.float32(low)) / np.float32(high - low)).astype(np.float32, copy=False)


def check_labels(y: Any, name: str, n: int) -> np.ndarray:
    """1-D labels, one per image, without missing values."""
    if y is None:
        raise DataValidationError(f"{name} is required: one class label per image")
    y = np.asarray(y)
    if y.ndim != 1 or len(y) != n:
        raise DataValidationError(f"{name} must be 1-D with one label per image ({n}), got shape {y.shape}")
    if pd.isna(y).any():
        raise DataValidationError(f"{name} holds missing labels")
    return y


def classes_of(y: np.ndarray) -> np.ndarray:
    classes = pd.unique(pd.Series(y, dtype=object))
    try:
        return np.array(sorted(classes), dtype=object)
    except TypeError:  # mixed, unorderable label types: first-seen order
        return np.asarray(classes, dtype=object)


def class_codes(y: np.ndarray, classes: np.ndarray, name: str) -> np.ndarray:
    codes = pd.Index(classes).get_indexer(pd.Series(y, dtype=object))
    if (codes < 0).any():
        unknown = pd.unique(pd.Series(y[codes < 0], dtype=object))[:10].tolist()
        raise DataValidationError(f"{name} holds class(es) {unknown} absent from y_train (classes: {classes.tolist()})")
    return codes
