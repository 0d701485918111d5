"""Image scaling: arrays of any layout, dtype and range to network tensors in [-1, 1] and back.

:class:`ImageScaler` accepts ``(n, H, W)`` (grey) or ``(n, C, H, W)`` arrays of an integer
or float dtype, maps the pixel range onto ``[-1, 1]``, pads the height and width up to a
multiple the networks need (padding holds the low end of the range), and restores the
input's layout, dtype and range on the way back (integer-valued inputs are rounded).
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from ..exceptions import DataValidationError, ParameterError

MIN_SIDE, MAX_SIDE, MAX_CHANNELS = 4, 256, 4


def check_images(X: Any, *, name: str = "X") -> np.ndarray:
    """``X`` as a numeric ndarray of shape (n, H, W) or (n, C, H, W), with errors naming the problem."""
    if X is None:
        raise DataValidationError(f"{name} is None; image synthesizers need an array of images")
    X = np.asarray(X)
    if X.dtype == object or not (np.issubdtype(X.dtype, np.number) or X.dtype == bool):
        raise DataValidationError(f"{name} must hold numbers, got dtype {X.dtype}")
    if X.ndim not in (3, 4):
        raise DataValidationError(
            f"{name} must have shape (n, H, W) or (n, C, H, W), got {X.shape}; flatten-free images are expected"
        )
    if X.shape[0] == 0:
        raise DataValidationError(f"{name} holds no images")
    if X.ndim == 4 and X.shape[1] > MAX_CHANNELS:
        hint = " (channels-last? transpose to (n, C, H, W))" if X.shape[-1] <= MAX_CHANNELS else ""
        raise DataValidationError(f"{name} has {X.shape[1]} channels; at most {MAX_CHANNELS} are supported{hint}")
    height, width = X.shape[-2:]
    if not (MIN_SIDE <= height <= MAX_SIDE and MIN_SIDE <= width <= MAX_SIDE):
        raise DataValidationError(f"{name} images are {height}x{width}; sides from {MIN_SIDE} to {MAX_SIDE} pixels are supported")
    if np.issubdtype(X.dtype, np.floating) and not np.isfinite(X).all():
        raise DataValidationError(f"{name} contains NaN or infinite pixel values")
    return X


def image_stages(height: int, width: int) -> int:
    """Down-sampling stages for an image: 2 up to 16 pixels, 3 up to 32, else 4."""
    side = max(height, width)
    return 2 if side <= 16 else 3 if side <= 32 else 4


class ImageScaler:
    """Reversible map between user images and network tensors ``(n, C, H', W')`` in [-1, 1].

    Args:
        pixel_range: ``(low, high)`` of the pixel values. ``None``: the dtype's range for
            ``uint8``/``uint16`` (public), otherwise the data's minimum and maximum (which
            is not allowed under differential privacy: declare it).
        multiple: pad height and width up to a multiple of this.
        private: the fit is differentially private, so nothing may be read off the pixels:
            the range must be public and integer rounding follows the dtype only.

    Fitted attributes: ``layout_`` (``"nhw"`` or ``"nchw"``), ``dtype_``, ``channels_``,
    ``height_``, ``width_``, ``padded_`` (H', W'), ``low_``, ``high_``, ``integer_valued_``
    (outputs are rounded) and ``levels_`` (number of distinct pixel levels used to
    dequantise; 256 for continuous data).
    """

    def __init__(self, *, pixel_range: tuple[float, float] | None = None, multiple: int = 4, private: bool = False) -> None:
        self.pixel_range = pixel_range
        self.multiple = multiple
        self.private = private

    def fit(self, X: Any) -> ImageScaler:
        X = check_images(X)
        self.layout_ = "nhw" if X.ndim == 3 else "nchw"
        self.dtype_ = np.dtype(X.dtype)
        self.channels_ = 1 if X.ndim == 3 else int(X.shape[1])
        self.height_, self.width_ = (int(s) for s in X.shape[-2:])
        self.padded_ = tuple(-(-s // self.multiple) * self.multiple for s in (self.height_, self.width_))
        integer_dtype = np.issubdtype(self.dtype_, np.integer) or self.dtype_ == np.bool_
        if self.pixel_range is not None:
            low, high = _check_range(self.pixel_range)
        elif self.dtype_ in (np.uint8, np.uint16, np.bool_):
            low, high = (0.0, 1.0) if self.dtype_ == np.bool_ else (0.0, float(np.iinfo(self.dtype_).max))
        elif self.private:
            raise DataValidationError(
                f"pixel_range is needed for {self.dtype_} images under differential privacy: the pixel range "
                "would otherwise be read off the private images (uint8 images use 0..255)"
            )
        else:
            low, high = float(X.min()), float(X.max())
            if high <= low:
                raise DataValidationError(f"every pixel of X has the value {low}; there is nothing to learn")
        if not self.private:
            outside = (X < low) | (X > high)
            if outside.any():
                raise DataValidationError(
                    f"{int(outside.sum())} pixel(s) lie outside pixel_range ({low}, {high}); values seen: "
                    f"{float(X.min())} to {float(X.max())}"
                )
        self.low_, self.high_ = low, high
        integral_range = float(low).is_integer() and float(high).is_integer()
        if integer_dtype:
            self.integer_valued_ = integral_range
        else:  # float images holding whole numbers (e.g. scikit-learn's digits, 0..16) are rounded back
            self.integer_valued_ = (not self.private) and integral_range and bool(np.all(np.mod(X, 1) == 0))
        span = high - low
        self.levels_ = int(span) + 1 if self.integer_valued_ and span + 1 <= 256 else 256
        return self

    def unit(self, X: Any) -> np.ndarray:
        """Images as float32 ``(n, C, H, W)`` in [0, 1] (values outside the range clipped), unpadded."""
        X = self._check_like(X)
        X = X[:, None] if X.ndim == 3 else X
        return np.clip((X.astype(np.float32) - self.low_) / (self.high_ - self.low_), 0.0, 1.0)

    def transform(self, X: Any) -> np.ndarray:
        """Images as float32 ``(n, C, H', W')`` in [-1, 1], padded with -1."""
        unit = self.unit(X)
        out = np.full((unit.shape[0], self.channels_, *self.padded_), -1.0, dtype=np.float32)
        out[:, :, : self.height_, : self.width_] = 2.0 * unit - 1.0
        return out

    def inverse_transform(self, T: Any) -> np.ndarray:
        """Network output in [-1, 1] (values outside clipped) back to the input's layout, dtype and range."""
        T = np.asarray(T, dtype=np.float64)[:, :, : self.height_, : self.width_]
        values = self.low_ + (np.clip(T, -1.0, 1.0) + 1.0) / 2.0 * (self.high_ - self.low_)
        if self.integer_valued_:
            values = np.rint(values)
        values = np.clip(values, self.low_, self.high_)
        if self.layout_ == "nhw":
            values = values[:, 0]
        return values.astype(self.dtype_)

    def _check_like(self, X: Any) -> np.ndarray:
        X = check_images(X)
        expected = (self.height_, self.width_) if self.layout_ == "nhw" else (self.channels_, self.height_, self.width_)
        if X.shape[1:] != expected:
            raise DataValidationError(f"images of shape {X.shape[1:]} given; the scaler was fitted on {expected}")
        return X

    def to_state(self) -> dict[str, Any]:
        return {
            "pixel_range": list(self.pixel_range) if self.pixel_range is not None else None,
            "multiple": self.multiple,
            "private": self.private,
            "layout": self.layout_,
            "dtype": self.dtype_.str,
            "channels": self.channels_,
            "height": self.height_,
            "width": self.width_,
            "padded": list(self.padded_),
            "low": self.low_,
            "high": self.high_,
            "integer_valued": self.integer_valued_,
            "levels": self.levels_,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> ImageScaler:
        pixel_range = state["pixel_range"]
        scaler = cls(
            pixel_range=tuple(pixel_range) if pixel_range else None, multiple=state["multiple"], private=state["private"]
        )
        scaler.layout_ = state["layout"]
        scaler.dtype_ = np.dtype(state["dtype"])
        scaler.channels_, scaler.height_, scaler.width_ = state["channels"], state["height"], state["width"]
        scaler.padded_ = tuple(state["padded"])
        scaler.low_, scaler.high_ = float(state["low"]), float(state["high"])
        scaler.integer_valued_ = bool(state["integer_valued"])
        scaler.levels_ = int(state["levels"])
        return scaler


def _check_range(pixel_range: Any) -> tuple[float, float]:
    try:
        low, high = pixel_range
        ok = all(isinstance(v, numbers.Real) and not isinstance(v, bool) and np.isfinite(v) for v in (low, high)) and high > low
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ParameterError(f"pixel_range must be (low, high) with finite low < high, got {pixel_range!r}")
    return float(low), float(high)


__all__ = ["ImageScaler", "check_images", "image_stages"]
