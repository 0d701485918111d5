"""Checks and scaling shared by the image metrics and the image plots (numpy only: no torch here)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd


def check_images(X: Any, name: str, shape: tuple[int, int, int] | None = None) -> np.ndarray:
    """``X`` as an array of shape (n, C, H, W) (a grey (n, H, W) array gains C = 1); ValueError on bad input.

    ``shape``: the (C, H, W) that ``X`` must match (that of real_train).
    """
    X = np.asarray(X)
    if not (np.issubdtype(X.dtype, np.number) or X.dtype == bool):
        raise ValueError(f"{name} must be a numeric image array, got dtype {X.dtype}")
    if X.ndim == 3:
        X = X[:, None]
    elif X.ndim != 4:
        raise ValueError(f"{name} must have shape (n, H, W) or (n, C, H, W), got shape {X.shape}")
    n, c, h, w = X.shape
    if n == 0:
        raise ValueError(f"{name} holds no images")
    if c not in (1, 3):
        hint = " (channels last? pass (n, C, H, W))" if X.shape[-1] in (1, 3) else ""
        raise ValueError(f"{name} must have 1 or 3 channels in axis 1, got shape {X.shape}{hint}")
    if h < 8 or w < 8:
        raise ValueError(f"{name} images must be at least 8x8 pixels, got {h}x{w}")
    if shape is not None and (c, h, w) != tuple(shape):
        raise ValueError(f"{name} images have shape (C, H, W) = {(c, h, w)}, real_train images {tuple(shape)}")
    if np.issubdtype(X.dtype, np.floating) and not np.isfinite(X).all():
        raise ValueError(f"{name} holds NaN or infinite pixel values")
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
        raise ValueError(f"pixel_range must have high > low, got ({low}, {high}) (constant real_train images?)")
    return low, high


def scale_images(X: np.ndarray, pixel_range: tuple[float, float]) -> np.ndarray:
    """Pixels mapped to [0, 1] by ``pixel_range`` (float32; values outside the range are kept, not clipped)."""
    low, high = pixel_range
    return ((np.asarray(X, dtype=np.float32) - np.float32(low)) / np.float32(high - low)).astype(np.float32, copy=False)


def check_labels(y: Any, name: str, n: int) -> np.ndarray:
    """1-D labels, one per image, without missing values."""
    if y is None:
        raise ValueError(f"{name} is required: one class label per image")
    y = np.asarray(y)
    if y.ndim != 1 or len(y) != n:
        raise ValueError(f"{name} must be 1-D with one label per image ({n}), got shape {y.shape}")
    if pd.isna(y).any():
        raise ValueError(f"{name} holds missing labels")
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
        raise ValueError(f"{name} holds class(es) {unknown} absent from y_train (classes: {classes.tolist()})")
    return codes
