"""The image feature extractor and the image audit suite (torch is imported here).

The image metrics themselves (Fréchet and kernel distances, classification accuracy score,
nearest-neighbour leakage, exact copies) are registered in :mod:`synthaug.evaluation.image_metrics`,
which does not import torch; they are re-exported here. The feature space is the penultimate
layer of a small CNN classifier (:class:`ImageFeatureExtractor`) trained with a fixed seed on
the real training images and labels: values are **not** comparable with Inception FID / KID,
only with their ``details["reference"]`` computed by the same extractor.
:func:`evaluate_images` trains one extractor for its whole suite.

This module is reached through the lazy names of :mod:`synthaug.evaluation`, so importing the
evaluation package stays cheap.
"""

from __future__ import annotations

import time
from collections.abc import Hashable, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.exceptions import NotFittedError
from threadpoolctl import threadpool_limits
from torch import nn

from ..exceptions import DataValidationError, ParameterError
from ..nn.init import build
from ._imaging import check_images, check_labels, class_codes, classes_of, resolve_pixel_range, scale_images
from .image_metrics import (
    DEFAULT_EPOCHS,
    DEFAULT_MAX_ROWS,
    ImageInputs,
    _seeds,
    classification_accuracy_score,
    frechet_distance,
    image_exact_copy_rate,
    image_nearest_neighbour_leakage,
    kernel_distance,
)
from .image_metrics import (
    _frechet as _frechet,
)
from .registry import limit_threads, privacy_spent_of, registered, run_suite

__all__ = [
    "DEFAULT_EPOCHS",
    "DEFAULT_MAX_ROWS",
    "ImageFeatureExtractor",
    "classification_accuracy_score",
    "evaluate_images",
    "fit_feature_extractor",
    "frechet_distance",
    "image_exact_copy_rate",
    "image_nearest_neighbour_leakage",
    "kernel_distance",
]


# --------------------------------------------------------------------------- the network
class _SmallCNN(nn.Module):
    """Three 3x3 conv blocks (GroupNorm, ReLU; the last two stride 2), global average pooling, a linear head."""

    def __init__(self, in_channels: int, n_classes: int, width: int, first_stride: int) -> None:
        super().__init__()
        w = width
        self.body = nn.Sequential(
            nn.Conv2d(in_channels, w, 3, stride=first_stride, padding=1),
            nn.GroupNorm(4, w),
            nn.ReLU(),
            nn.Conv2d(w, 2 * w, 3, stride=2, padding=1),
            nn.GroupNorm(8, 2 * w),
            nn.ReLU(),
            nn.Conv2d(2 * w, 4 * w, 3, stride=2, padding=1),
            nn.GroupNorm(8, 4 * w),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.head = nn.Linear(4 * w, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


class ImageFeatureExtractor:
    """A small CNN classifier trained on real images; its penultimate layer is the feature space.

    Trained from scratch with a fixed seed (``random_state``; an explicit ``torch.Generator``,
    the global RNGs are untouched) for ``epochs`` passes of Adam over the images. ``features``
    returns the globally pooled last conv layer (``4 * width`` values per image). It adapts to
    any H, W >= 8 (the first conv strides 2 for images of 32 pixels and more) and C in {1, 3}.
    ``n_threads`` caps the OpenMP / BLAS threads (torch's included) while it trains or embeds,
    with threadpoolctl, restored afterwards (``torch.set_num_threads`` is never called); None
    keeps the current setting. The default is 1: on a 2-core machine busy with another job,
    fitting on the 1797 digits took 30 s with torch's 2 threads and 2-3 s with one.

    Values computed in this space are NOT comparable with Inception-based FID / KID: compare
    them only with references computed by the same fitted extractor.
    """

    def __init__(
        self,
        *,
        epochs: int = DEFAULT_EPOCHS,
        batch_size: int = 64,
        learning_rate: float = 3e-3,
        width: int = 16,
        pixel_range: Sequence[float] | None = None,
        random_state: Any = 0,
        n_threads: int | None = 1,
    ) -> None:
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.width = width
        self.pixel_range = pixel_range
        self.random_state = random_state
        self.n_threads = n_threads

    def _threads(self) -> AbstractContextManager[Any]:
        return nullcontext() if self.n_threads is None else threadpool_limits(self.n_threads)

    def _params(self) -> dict[str, Any]:
        names = ("epochs", "batch_size", "learning_rate", "width", "pixel_range", "random_state", "n_threads")
        return {k: getattr(self, k) for k in names}

    @property
    def is_fitted(self) -> bool:
        return hasattr(self, "network_")

    def fit(self, X: Any, y: Any, *, classes: Sequence[Hashable] | None = None) -> ImageFeatureExtractor:
        """Train on images ``X`` with labels ``y``; ``classes``: the label set of the head (default: those of ``y``)."""
        if self.epochs < 1 or self.batch_size < 1:
            raise ParameterError(f"epochs and batch_size must be positive, got {self.epochs} and {self.batch_size}")
        X = check_images(X, "X")
        y = check_labels(y, "y", len(X))
        self.classes_ = classes_of(y) if classes is None else np.asarray(list(classes), dtype=object)
        codes = class_codes(y, self.classes_, "y")
        if len(np.unique(codes)) < 2:
            raise DataValidationError(
                f"training the image classifier needs at least 2 classes, y has only {self.classes_[codes[0]]!r}"
            )
        self.pixel_range_ = resolve_pixel_range(X, self.pixel_range)
        self.image_shape_ = tuple(int(s) for s in X.shape[1:])
        seed = _seeds(self.random_state, 1)[0]
        generator = torch.Generator().manual_seed(seed)
        h, w = self.image_shape_[1:]
        first_stride = 2 if min(h, w) >= 32 else 1
        started = time.perf_counter()
        with self._threads():
            self.network_ = self._train(X, codes, first_stride, generator)
        self.seconds_ = time.perf_counter() - started
        return self

    def _train(self, X: np.ndarray, codes: np.ndarray, first_stride: int, generator: torch.Generator) -> nn.Module:
        c = self.image_shape_[0]
        net = build(lambda: _SmallCNN(c, len(self.classes_), self.width, first_stride), torch.device("cpu"), generator)
        images = torch.from_numpy(scale_images(X, self.pixel_range_))
        targets = torch.from_numpy(codes.astype(np.int64))
        optimiser = torch.optim.Adam(net.parameters(), lr=self.learning_rate)
        loss_fn = nn.CrossEntropyLoss()
        net.train()
        for _ in range(self.epochs):
            order = torch.randperm(len(images), generator=generator)
            for batch in order.split(self.batch_size):
                optimiser.zero_grad(set_to_none=True)
                loss = loss_fn(net(images[batch]), targets[batch])
                loss.backward()
                optimiser.step()
        net.eval()
        self.final_loss_ = float(loss.detach())
        return net

    def _check_fitted(self) -> None:
        if not self.is_fitted:
            raise NotFittedError("this ImageFeatureExtractor is not fitted: call fit(X, y) first")

    @torch.inference_mode()
    def _forward(self, X: Any, name: str, head: bool, batch_size: int = 512) -> np.ndarray:
        self._check_fitted()
        X = check_images(X, name, self.image_shape_)
        with self._threads():
            parts = [self._batch(X[start : start + batch_size], head) for start in range(0, len(X), batch_size)]
        return torch.cat(parts).numpy().astype(np.float64)

    def _batch(self, X: np.ndarray, head: bool) -> torch.Tensor:
        out = self.network_.body(torch.from_numpy(scale_images(X, self.pixel_range_)))
        return self.network_.head(out) if head else out

    def features(self, X: Any, name: str = "X") -> np.ndarray:
        """Penultimate-layer embedding of each image, shape (n, 4 * width), float64 (batched)."""
        return self._forward(X, name, head=False)

    def predict(self, X: Any, name: str = "X") -> np.ndarray:
        """The predicted class label of each image."""
        return self.classes_[self._forward(X, name, head=True).argmax(axis=1)]


def _fitted_extractor(
    extractor: ImageFeatureExtractor | None,
    real_train: np.ndarray,
    y_train: np.ndarray,
    pixel_range: tuple[float, float],
    random_state: Any,
    epochs: int = DEFAULT_EPOCHS,
    n_threads: int | None = 1,
) -> ImageFeatureExtractor:
    if extractor is None:
        extractor = ImageFeatureExtractor(epochs=epochs, pixel_range=pixel_range, random_state=random_state, n_threads=n_threads)
    if not extractor.is_fitted:
        extractor.fit(real_train, y_train)
    return extractor


def fit_feature_extractor(
    real_train: Any,
    y_train: Any,
    *,
    random_state: Any = 0,
    pixel_range: Sequence[float] | None = None,
    epochs: int = DEFAULT_EPOCHS,
    n_threads: int | None = 1,
) -> ImageFeatureExtractor:
    """An :class:`ImageFeatureExtractor` fitted on the real training images (reuse it across metrics)."""
    X = check_images(real_train, "real_train")
    prange = resolve_pixel_range(X, pixel_range)
    return ImageFeatureExtractor(epochs=epochs, pixel_range=prange, random_state=random_state, n_threads=n_threads).fit(
        X, y_train
    )


# --------------------------------------------------------------------------- the audit
def _grid_selection(X: np.ndarray, y: np.ndarray | None, per_class: int, seed: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Up to ``per_class`` images per class drawn at random (or ``per_class * 10`` images when unlabelled)."""
    order = np.random.default_rng(seed).permutation(len(X))
    if y is None:
        keep = order[: per_class * 10]
        return X[keep], None
    rank = pd.Series(y[order], dtype=object).groupby(pd.Series(y[order], dtype=object), sort=False).cumcount().to_numpy()
    keep = np.sort(order[rank < per_class])
    return X[keep], y[keep]


def evaluate_images(
    real_train: Any,
    y_train: Any,
    synthetic: Any,
    y_synthetic: Any = None,
    real_holdout: Any = None,
    y_holdout: Any = None,
    *,
    model: Any = None,
    random_state: Any = 0,
    pixel_range: Sequence[float] | None = None,
    epochs: int = DEFAULT_EPOCHS,
    extractor: ImageFeatureExtractor | None = None,
    per_class: int = 8,
    n_threads: int | None = 1,
    show_real: bool = True,
) -> Any:
    """Run the image audit suite and return an :class:`~synthaug.evaluation.report.AuditReport`.

    One :class:`ImageFeatureExtractor` (trained here on ``real_train``, ``y_train`` unless a
    fitted ``extractor`` is given) serves every feature-space metric and is the real-data
    reference classifier of the classification accuracy score. The metrics are the registered
    image metrics: Fréchet and kernel distances, exact copies; with a holdout also the
    nearest-neighbour leakage and, with ``y_synthetic`` and ``y_holdout``, the classification
    accuracy score. A metric that cannot run is listed in ``skipped`` with the reason.
    ``model``: a fitted generator whose ``privacy_spent_`` is copied into the report. The
    report's "samples" figure shows ``per_class`` real and synthetic images per class;
    ``show_real=False`` leaves the real training images out of it (DP pipelines do, unless
    asked: the report is outside the guarantee).

    ``n_threads`` caps the OpenMP / BLAS threads (torch's included) while the suite runs
    (threadpoolctl, restored afterwards; None keeps the current setting), as in
    :func:`~synthaug.evaluation.report.evaluate`; a given fitted ``extractor`` keeps its own.
    """
    from .report import AuditReport

    if real_holdout is None and y_holdout is not None:
        raise DataValidationError("y_holdout was given without real_holdout: pass the holdout images too")
    seed_all = _seeds(random_state, 1)[0] if not isinstance(random_state, (int, np.integer)) else int(random_state)
    s_extract, s_kernel, s_leak, s_grid = _seeds(seed_all, 4)
    seeds = {"extractor": s_extract, "kernel": s_kernel, "leakage": s_leak}
    labelled = {"y_train": y_train, "y_synthetic": y_synthetic, "real_holdout": real_holdout, "y_holdout": y_holdout}
    options = {"extractor": extractor, "random_state": seed_all, "pixel_range": pixel_range, "epochs": epochs}
    inputs = ImageInputs(real_train, synthetic, **labelled, **options, seeds=seeds, n_threads=n_threads)
    with limit_threads(n_threads):
        started = time.perf_counter()
        inputs.fitted_extractor()
        seconds = {"feature_extractor": time.perf_counter() - started}
        run = run_suite(registered("images"), inputs)
    info = _image_info(inputs, seed_all, seconds | run.seconds, time.perf_counter() - started)
    images = _samples(inputs, per_class, s_grid, show_real, info["warnings"])
    return AuditReport(run.results, run.skipped, privacy_spent_of(model), info, _images=images)


def _image_info(inputs: ImageInputs, seed: int, seconds: dict[str, float], total: float) -> dict[str, Any]:
    extractor = inputs.extractor
    return {
        "n_rows": {
            "real_train": len(inputs.real_train),
            "synthetic": len(inputs.synthetic),
            **({"real_holdout": len(inputs.real_holdout)} if inputs.real_holdout is not None else {}),
        },
        "image_shape": list(inputs.real_train.shape[1:]),
        "n_classes": len(extractor.classes_),
        "pixel_range": list(inputs.scale_range()),
        "random_state": seed,
        "extractor": {"epochs": extractor.epochs, "width": extractor.width, "final_loss": extractor.final_loss_},
        "seconds": seconds,
        "seconds_total": total,
        "warnings": [],
    }


def _samples(inputs: ImageInputs, per_class: int, seed: int, show_real: bool, warnings_: list[str]) -> dict[str, Any]:
    """The images of the report's "samples" figure (no real image when ``show_real`` is False)."""
    real_sel, y_real_sel = _grid_selection(inputs.real_train, inputs.y_train, per_class, seed)
    if not show_real:  # an empty real column: no training image is drawn into the report
        real_sel, y_real_sel = real_sel[:0], None if y_real_sel is None else y_real_sel[:0]
        warnings_.append("real training images left out of the samples figure (show_real=False)")
    syn_sel, y_syn_sel = _grid_selection(inputs.synthetic, inputs.y_synthetic, per_class, seed + 1)
    return {
        "real": real_sel,
        "y_real": y_real_sel,
        "synthetic": syn_sel,
        "y_synthetic": y_syn_sel,
        "pixel_range": inputs.scale_range(),
        "per_class": per_class,
    }
