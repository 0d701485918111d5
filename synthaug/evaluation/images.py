"""Image metrics: feature-space Fréchet and kernel distances, classification accuracy score, leakage.

Images are arrays of shape ``(n, H, W)`` (grey) or ``(n, C, H, W)`` with C in {1, 3}, uint8 or
float, H and W at least 8, with 1-D labels of any hashable type. ``pixel_range=(low, high)``
maps pixel values to [0, 1], identically for every set (default: (0, 255) for uint8, else the
min / max of ``real_train``).

The feature space is the penultimate layer of a small CNN classifier
(:class:`ImageFeatureExtractor`) trained with a fixed seed on the real training images and
labels; nothing is downloaded. The distances are therefore **not** comparable with the
Inception-based FID / KID of the literature, nor across datasets or extractors: compare a
value with its ``details["reference"]`` (the same computation with real holdout images in
place of the synthetic ones), computed with the same extractor.
Every feature-space metric takes ``extractor=``: pass one fitted extractor (see
:func:`fit_feature_extractor`) to train it once for all metrics; its ``pixel_range_`` then
applies and ``pixel_range`` is ignored. :func:`evaluate_images` does this for its suite.

torch is imported by this module: it is reached through the lazy names of
:mod:`synthaug.evaluation`, so importing the evaluation package stays cheap.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Hashable, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import numpy as np
import pandas as pd
import torch
from scipy.linalg import LinAlgWarning, sqrtm
from sklearn.neighbors import NearestNeighbors
from threadpoolctl import threadpool_limits
from torch import nn

from ..nn.init import build
from ._common import histograms, quantiles
from ._common import seeds as _draw_seeds
from ._imaging import check_images, check_labels, class_codes, classes_of, resolve_pixel_range, scale_images
from .result import MetricResult

DEFAULT_EPOCHS = 10
DEFAULT_MAX_ROWS = 10_000


def _seeds(random_state: Any, n: int) -> list[int]:
    """``n`` seeds; None draws fresh entropy without touching numpy's global RNG."""
    if random_state is None:
        return [int(s) for s in np.random.default_rng().integers(np.iinfo(np.int32).max, size=n)]
    return _draw_seeds(random_state, n)


def _need_holdout(name: str, real_holdout: Any, y_holdout: Any = None, labels: bool = False) -> None:
    if real_holdout is None:
        raise ValueError(f"{name} needs a real_holdout (real images kept out of training)")
    if labels and y_holdout is None:
        raise ValueError(f"{name} needs y_holdout, the labels of real_holdout")


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
            raise ValueError(f"epochs and batch_size must be positive, got {self.epochs} and {self.batch_size}")
        X = check_images(X, "X")
        y = check_labels(y, "y", len(X))
        self.classes_ = classes_of(y) if classes is None else np.asarray(list(classes), dtype=object)
        codes = class_codes(y, self.classes_, "y")
        if len(np.unique(codes)) < 2:
            raise ValueError(f"training the image classifier needs at least 2 classes, y has only {self.classes_[codes[0]]!r}")
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
            raise ValueError("this ImageFeatureExtractor is not fitted: call fit(X, y) first")

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


class _Features:
    """Checked inputs and their features in one extractor's space (each set embedded once)."""

    def __init__(
        self,
        real_train: Any,
        synthetic: Any,
        y_train: Any,
        real_holdout: Any,
        extractor: ImageFeatureExtractor | None,
        random_state: Any,
        pixel_range: Sequence[float] | None,
    ) -> None:
        self.train = check_images(real_train, "real_train")
        shape = self.train.shape[1:]
        self.synthetic = check_images(synthetic, "synthetic", shape)
        self.holdout = None if real_holdout is None else check_images(real_holdout, "real_holdout", shape)
        self.y_train = check_labels(y_train, "y_train", len(self.train))
        if extractor is not None and extractor.is_fitted:
            self.pixel_range = extractor.pixel_range_
        else:
            self.pixel_range = resolve_pixel_range(self.train, pixel_range)
        self.extractor = _fitted_extractor(extractor, self.train, self.y_train, self.pixel_range, random_state)
        self.pixel_range = self.extractor.pixel_range_  # an unfitted extractor given may bring its own
        self._cache: dict[str, np.ndarray] = {}

    def __call__(self, which: str) -> np.ndarray:
        if which not in self._cache:
            images = {"train": self.train, "synthetic": self.synthetic, "holdout": self.holdout}[which]
            self._cache[which] = self.extractor.features(images, which)
        return self._cache[which]


# --------------------------------------------------------------------------- Fréchet distance
def _sqrtm_or_none(matrix: np.ndarray, strict: bool = True) -> np.ndarray | None:
    """scipy's matrix square root; None when it is not finite or (``strict``) scipy warns that it may be inaccurate."""
    with warnings.catch_warnings():
        warnings.simplefilter("error" if strict else "ignore", LinAlgWarning)
        try:
            root = sqrtm(matrix)
        except (LinAlgWarning, np.linalg.LinAlgError):
            return None
    return root if np.isfinite(root).all() else None


def _frechet(a: np.ndarray, b: np.ndarray, ridge: float = 1e-6) -> float:
    """Fréchet distance between Gaussians fitted to the rows of ``a`` and ``b``."""
    if len(a) < 2 or len(b) < 2:
        raise ValueError("the Fréchet distance needs at least 2 images in each set")
    mu_a, mu_b = a.mean(axis=0), b.mean(axis=0)
    cov_a, cov_b = np.atleast_2d(np.cov(a, rowvar=False)), np.atleast_2d(np.cov(b, rowvar=False))
    covmean = _sqrtm_or_none(cov_a @ cov_b)
    if covmean is None:  # singular covariances (fewer images than features, constant images): a small ridge on both
        eye = np.eye(len(cov_a)) * ridge * max(np.trace(cov_a), np.trace(cov_b), 1.0) / len(cov_a)
        covmean = _sqrtm_or_none((cov_a + eye) @ (cov_b + eye), strict=False)
        if covmean is None:
            raise ValueError("the Fréchet distance failed: no finite square root of the feature covariances' product")
    covmean = np.real(covmean)  # tiny imaginary parts are numerical error
    diff = mu_a - mu_b
    value = diff @ diff + np.trace(cov_a) + np.trace(cov_b) - 2.0 * np.trace(covmean)
    return float(max(value, 0.0))


def _frechet_result(f: _Features) -> MetricResult:
    train = f("train")
    details: dict[str, Any] = {"n_features": train.shape[1], "feature_space": _SPACE}
    if f.holdout is not None:
        details["reference"] = _frechet(train, f("holdout"))
    else:
        details["reference"] = None
        details["reference_note"] = "no real_holdout given: no real-vs-real reference"
    details["note"] = "Fréchet distance of the synthetic features to the training features; lower is better"
    return MetricResult("frechet_distance", _frechet(train, f("synthetic")), "lower", details)


_SPACE = "penultimate layer of a small CNN trained on real_train (not Inception: not comparable with FID)"


def frechet_distance(
    real_train: Any,
    synthetic: Any,
    *,
    y_train: Any,
    extractor: ImageFeatureExtractor | None = None,
    real_holdout: Any = None,
    y_holdout: Any = None,
    random_state: Any = 0,
    pixel_range: Sequence[float] | None = None,
) -> MetricResult:
    """Fréchet distance between Gaussians fitted to the train and synthetic features (lower is better).

    The features are those of ``extractor`` (default: an :class:`ImageFeatureExtractor` trained
    here on ``real_train``, ``y_train``). Reference: the same distance between holdout and
    train features. Not comparable with Inception FID. The estimate grows as the sets shrink
    (a copy of the training images scores 0): compare a synthetic set about the holdout's size.
    Singular covariances (fewer images than features) get a small ridge. ``y_holdout`` is not
    needed (accepted for a uniform signature).
    """
    del y_holdout
    f = _Features(real_train, synthetic, y_train, real_holdout, extractor, random_state, pixel_range)
    return _frechet_result(f)


# --------------------------------------------------------------------------- kernel distance
def _cubic_kernel(x: np.ndarray, y: np.ndarray, d: int) -> np.ndarray:
    """(x.y / d + 1)³ for every pair of rows (products, not ``**``: the float power is several times slower)."""
    k = x @ y.T
    k /= d
    k += 1.0
    cube = k * k
    cube *= k
    return cube


def _kernel_distance(a: np.ndarray, b: np.ndarray, seed: int, n_subsets: int, subset_size: int) -> tuple[float, float]:
    """Mean and standard deviation over random subsets of the unbiased MMD² with k(x, y) = (x.y / d + 1)³."""
    m = min(subset_size, len(a), len(b))
    if m < 2:
        raise ValueError("the kernel distance needs at least 2 images in each set")
    rng = np.random.default_rng(seed)
    d = a.shape[1]
    values = np.empty(n_subsets)
    for i in range(n_subsets):
        x = a[rng.choice(len(a), m, replace=False)]
        y = b[rng.choice(len(b), m, replace=False)]
        kxx, kyy, kxy = _cubic_kernel(x, x, d), _cubic_kernel(y, y, d), _cubic_kernel(x, y, d)
        within = (kxx.sum() - np.trace(kxx) + kyy.sum() - np.trace(kyy)) / (m * (m - 1))
        values[i] = within - 2.0 * kxy.mean()
    return float(values.mean()), float(values.std())


def _kernel_result(f: _Features, seed: int, n_subsets: int, subset_size: int) -> MetricResult:
    train = f("train")
    value, std = _kernel_distance(train, f("synthetic"), seed, n_subsets, subset_size)
    details: dict[str, Any] = {
        "std_over_subsets": std,
        "n_subsets": n_subsets,
        "subset_size": min(subset_size, len(train), len(f.synthetic)),
        "feature_space": _SPACE,
    }
    if f.holdout is not None:
        details["reference"], details["reference_std"] = _kernel_distance(train, f("holdout"), seed, n_subsets, subset_size)
    else:
        details["reference"] = None
        details["reference_note"] = "no real_holdout given: no real-vs-real reference"
    details["note"] = "unbiased MMD² (cubic polynomial kernel, as KID) between synthetic and training features; can be < 0"
    return MetricResult("kernel_distance", value, "lower", details)


def kernel_distance(
    real_train: Any,
    synthetic: Any,
    *,
    y_train: Any,
    extractor: ImageFeatureExtractor | None = None,
    real_holdout: Any = None,
    y_holdout: Any = None,
    random_state: Any = 0,
    pixel_range: Sequence[float] | None = None,
    n_subsets: int = 10,
    subset_size: int = 1000,
) -> MetricResult:
    """KID-style kernel distance: unbiased MMD² with the cubic kernel ``(x.y / d + 1)³`` on the features.

    Averaged over ``n_subsets`` random subsets of ``min(subset_size, n)`` images per set
    (seeded by ``random_state``); ``details["std_over_subsets"]`` gives the spread. Reference:
    holdout vs train with the same subsets scheme. About 0 (it may be slightly negative) when
    both sets come from one distribution. Not comparable with Inception KID.
    """
    del y_holdout
    f = _Features(real_train, synthetic, y_train, real_holdout, extractor, random_state, pixel_range)
    return _kernel_result(f, _seeds(random_state, 2)[1], n_subsets, subset_size)


# --------------------------------------------------------------------------- classification accuracy score
def _per_class(y_true: np.ndarray, correct: np.ndarray) -> pd.Series:
    return pd.Series(correct, dtype=float).groupby(pd.Series(y_true, dtype=object), sort=False).mean()


def classification_accuracy_score(
    real_train: Any,
    synthetic: Any,
    *,
    y_train: Any,
    y_synthetic: Any,
    real_holdout: Any,
    y_holdout: Any,
    random_state: Any = 0,
    pixel_range: Sequence[float] | None = None,
    epochs: int = DEFAULT_EPOCHS,
    extractor: ImageFeatureExtractor | None = None,
) -> MetricResult:
    """Accuracy on the real holdout of the small CNN classifier trained on the synthetic images (higher is better).

    Reference: the same classifier (same recipe, seed and ``epochs``) trained on the real
    training images. ``extractor``: an already fitted real-train classifier to reuse as the
    reference (its recipe is then used for the synthetic one too). Details: both accuracies,
    their ratio (synthetic / real) and per-class accuracies on the holdout.
    """
    name = "classification_accuracy_score"
    _need_holdout(name, real_holdout, y_holdout, labels=True)
    train = check_images(real_train, "real_train")
    shape = train.shape[1:]
    synthetic = check_images(synthetic, "synthetic", shape)
    holdout = check_images(real_holdout, "real_holdout", shape)
    y_train = check_labels(y_train, "y_train", len(train))
    y_synthetic = check_labels(y_synthetic, "y_synthetic", len(synthetic))
    y_holdout = check_labels(y_holdout, "y_holdout", len(holdout))
    classes = classes_of(y_train)
    if len(classes) < 2:
        raise ValueError(f"{name} needs at least 2 classes in y_train, got only {classes[0]!r}")
    present = np.unique(class_codes(y_synthetic, classes, "y_synthetic"))
    if len(present) < 2:
        raise ValueError(f"{name} needs at least 2 classes in y_synthetic, got only {classes[present[0]]!r}")
    class_codes(y_holdout, classes, "y_holdout")
    if extractor is not None and extractor.is_fitted:
        reference_model = extractor
    else:
        reference_model = _fitted_extractor(
            extractor, train, y_train, resolve_pixel_range(train, pixel_range), random_state, epochs
        )
    params = reference_model._params() | {"pixel_range": reference_model.pixel_range_}
    synthetic_model = ImageFeatureExtractor(**params).fit(synthetic, y_synthetic, classes=reference_model.classes_)
    correct_syn = synthetic_model.predict(holdout, "real_holdout") == y_holdout
    correct_real = reference_model.predict(holdout, "real_holdout") == y_holdout
    accuracy, reference = float(correct_syn.mean()), float(correct_real.mean())
    per_syn, per_real = _per_class(y_holdout, correct_syn), _per_class(y_holdout, correct_real)
    details = {
        "reference": reference,
        "synthetic_accuracy": accuracy,
        "real_accuracy": reference,
        "ratio": accuracy / reference if reference > 0 else None,
        "chance": float(1.0 / len(classes)),
        "per_class": {k: {"synthetic": per_syn[k], "real": per_real[k]} for k in per_real.index},
        "synthetic_classes_missing": np.delete(classes, present).tolist(),
        "epochs": params["epochs"],
        "note": "small CNN trained on synthetic (value) vs real (reference) training images, tested on the real holdout",
    }
    return MetricResult(name, accuracy, "higher", details)


# --------------------------------------------------------------------------- leakage
def _pixel_keys(X: np.ndarray, pixel_range: tuple[float, float]) -> np.ndarray:
    """One hashable key per image (its scaled pixels as raw bytes): equal images, equal keys."""
    flat = np.ascontiguousarray(scale_images(X, pixel_range).reshape(len(X), -1)) + np.float32(0.0)  # -0.0 -> 0.0
    return flat.view(np.dtype((np.void, flat.shape[1] * flat.itemsize))).ravel()


def _copies(queries: np.ndarray, train_keys: np.ndarray, pixel_range: tuple[float, float]) -> np.ndarray:
    return np.isin(_pixel_keys(queries, pixel_range), train_keys)


def _subsample(X: np.ndarray, max_rows: int | None, seed: int) -> np.ndarray:
    if max_rows is None or len(X) <= max_rows:
        return X
    return X[np.sort(np.random.default_rng(seed).choice(len(X), max_rows, replace=False))]


def _leakage_result(f: _Features, seed: int, quantile: float, max_rows: int | None) -> MetricResult:
    if not 0.0 < quantile < 1.0:
        raise ValueError(f"quantile must be in (0, 1), got {quantile}")
    seed_syn, seed_hold = _seeds(seed, 2)
    syn = _subsample(f.synthetic, max_rows, seed_syn)
    hold = _subsample(f.holdout, max_rows, seed_hold)
    index = NearestNeighbors(n_neighbors=1, algorithm="brute").fit(f("train"))
    train_keys = _pixel_keys(f.train, f.pixel_range)

    def to_train(images: np.ndarray, which: str) -> tuple[np.ndarray, np.ndarray]:
        distance = index.kneighbors(f.extractor.features(images, which))[0][:, 0]
        copies = _copies(images, train_keys, f.pixel_range)
        distance[copies] = 0.0  # a pixel-exact copy is at distance 0 whatever the batch arithmetic
        return distance, copies

    d_syn, copy_syn = to_train(syn, "synthetic")
    d_hold, copy_hold = to_train(hold, "real_holdout")
    threshold = float(np.quantile(d_hold, quantile))
    details = {
        "reference": float((d_hold <= threshold).mean()),
        "threshold": threshold,
        "quantile": quantile,
        "median_synthetic_to_train": float(np.median(d_syn)),
        "median_holdout_to_train": float(np.median(d_hold)),
        "synthetic_to_train": quantiles(d_syn),
        "holdout_to_train": quantiles(d_hold),
        "exact_copy_rate": float(copy_syn.mean()),
        "exact_copy_rate_reference": float(copy_hold.mean()),
        "histogram": histograms(synthetic_to_train=d_syn, holdout_to_train=d_hold),
        "n_synthetic": len(syn),
        "n_holdout": len(hold),
        "feature_space": _SPACE,
        "note": f"share of synthetic images closer to a training image than the {quantile:.0%} closest holdout images "
        "are (feature space); the reference, the holdout's own share, is about the quantile; 1 means copies",
    }
    return MetricResult("image_nearest_neighbour_leakage", float((d_syn <= threshold).mean()), "lower", details)


def image_nearest_neighbour_leakage(
    real_train: Any,
    synthetic: Any,
    *,
    y_train: Any,
    real_holdout: Any,
    y_holdout: Any = None,
    extractor: ImageFeatureExtractor | None = None,
    random_state: Any = 0,
    pixel_range: Sequence[float] | None = None,
    quantile: float = 0.05,
    max_rows: int | None = DEFAULT_MAX_ROWS,
) -> MetricResult:
    """Share of synthetic images suspiciously close to a training image, in the extractor's feature space.

    Threshold: the ``quantile`` (default 5%) of the holdout images' distances to their nearest
    training image. Value: the share of synthetic images whose nearest-training distance is at
    most the threshold; reference: the holdout's own share (about ``quantile`` by construction).
    A generator that copies training images scores near 1. Details: median and quantile
    distances, a histogram, and the pixel-exact copy rate (with the holdout's as reference).
    At most ``max_rows`` synthetic and holdout images are queried (seeded); train is searched in full.
    """
    del y_holdout
    name = "image_nearest_neighbour_leakage"
    _need_holdout(name, real_holdout)
    f = _Features(real_train, synthetic, y_train, real_holdout, extractor, random_state, pixel_range)
    return _leakage_result(f, _seeds(random_state, 3)[2], quantile, max_rows)


def image_exact_copy_rate(
    real_train: Any,
    synthetic: Any,
    *,
    real_holdout: Any = None,
    pixel_range: Sequence[float] | None = None,
    **_: Any,
) -> MetricResult:
    """Share of synthetic images pixel-identical (after ``pixel_range`` scaling) to a training image.

    Reference: the same share for the holdout images (duplicates within the real data).
    """
    train = check_images(real_train, "real_train")
    synthetic = check_images(synthetic, "synthetic", train.shape[1:])
    rng = resolve_pixel_range(train, pixel_range)
    keys = _pixel_keys(train, rng)
    details: dict[str, Any] = {"n_copies": int(_copies(synthetic, keys, rng).sum())}
    if real_holdout is not None:
        holdout = check_images(real_holdout, "real_holdout", train.shape[1:])
        details["reference"] = float(_copies(holdout, keys, rng).mean())
    else:
        details["reference"] = None
        details["reference_note"] = "no real_holdout given: no real-vs-real reference"
    return MetricResult("image_exact_copy_rate", details["n_copies"] / len(synthetic), "lower", details)


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
    reference classifier of the classification accuracy score. Metrics: Fréchet and kernel
    distances, exact copies; with a holdout also the nearest-neighbour leakage and, with
    ``y_synthetic`` and ``y_holdout``, the classification accuracy score. A metric that cannot
    run is listed in ``skipped`` with the reason. ``model``: a fitted generator whose
    ``privacy_spent_`` is copied into the report. The report's "samples" figure shows
    ``per_class`` real and synthetic images per class; ``show_real=False`` leaves the real
    training images out of it (DP pipelines do, unless asked: the report is outside the guarantee).

    ``n_threads`` caps the OpenMP / BLAS threads (torch's included) while the suite runs
    (threadpoolctl, restored afterwards; None keeps the current setting), as in
    :func:`~synthaug.evaluation.report.evaluate`; a given fitted ``extractor`` keeps its own.
    """
    args = (real_train, y_train, synthetic, y_synthetic, real_holdout, y_holdout)
    options = {"model": model, "random_state": random_state, "pixel_range": pixel_range, "epochs": epochs}
    options |= {"extractor": extractor, "per_class": per_class, "n_threads": n_threads, "show_real": show_real}
    if n_threads is None:
        return _evaluate_images(*args, **options)
    with threadpool_limits(n_threads):
        return _evaluate_images(*args, **options)


def _evaluate_images(
    real_train: Any,
    y_train: Any,
    synthetic: Any,
    y_synthetic: Any,
    real_holdout: Any,
    y_holdout: Any,
    *,
    model: Any,
    random_state: Any,
    pixel_range: Sequence[float] | None,
    epochs: int,
    extractor: ImageFeatureExtractor | None,
    per_class: int,
    n_threads: int | None,
    show_real: bool,
) -> Any:
    from .report import AuditReport

    train = check_images(real_train, "real_train")
    shape = train.shape[1:]
    syn = check_images(synthetic, "synthetic", shape)
    hold = None if real_holdout is None else check_images(real_holdout, "real_holdout", shape)
    if hold is None and y_holdout is not None:
        raise ValueError("y_holdout was given without real_holdout: pass the holdout images too")
    y_train = check_labels(y_train, "y_train", len(train))
    y_syn = None if y_synthetic is None else check_labels(y_synthetic, "y_synthetic", len(syn))
    y_hold = None if y_holdout is None else check_labels(y_holdout, "y_holdout", len(hold))
    seed_all = _seeds(random_state, 1)[0] if not isinstance(random_state, (int, np.integer)) else int(random_state)
    s_extract, s_kernel, s_leak, s_grid = _seeds(seed_all, 4)
    results: list[MetricResult] = []
    skipped: dict[str, str] = {}
    seconds: dict[str, float] = {}

    def run(name: str, function: Callable[[], MetricResult]) -> None:
        start = time.perf_counter()
        try:
            results.append(function())
        except ValueError as exc:  # the inputs do not allow this metric: say why, give no value
            skipped[name] = str(exc)
        seconds[name] = time.perf_counter() - start

    started = time.perf_counter()
    prange = extractor.pixel_range_ if extractor is not None and extractor.is_fitted else resolve_pixel_range(train, pixel_range)
    extractor = _fitted_extractor(extractor, train, y_train, prange, s_extract, epochs, n_threads)
    seconds["feature_extractor"] = time.perf_counter() - started
    f = _Features(train, syn, y_train, hold, extractor, s_extract, prange)
    run("frechet_distance", lambda: _frechet_result(f))
    run("kernel_distance", lambda: _kernel_result(f, s_kernel, 10, 1000))
    run("image_exact_copy_rate", lambda: image_exact_copy_rate(train, syn, real_holdout=hold, pixel_range=prange))
    if hold is None:
        skipped["image_nearest_neighbour_leakage"] = "needs a real_holdout (real images kept out of training)"
        skipped["classification_accuracy_score"] = "needs a real_holdout with labels y_holdout to test on"
    else:
        run("image_nearest_neighbour_leakage", lambda: _leakage_result(f, s_leak, 0.05, DEFAULT_MAX_ROWS))
        if y_syn is None or y_hold is None:
            skipped["classification_accuracy_score"] = (
                "needs y_synthetic (labels of the synthetic images)" if y_syn is None else "needs y_holdout"
            )
        else:
            run(
                "classification_accuracy_score",
                lambda: classification_accuracy_score(
                    train,
                    syn,
                    y_train=y_train,
                    y_synthetic=y_syn,
                    real_holdout=hold,
                    y_holdout=y_hold,
                    extractor=extractor,
                ),
            )

    privacy_spent = None
    if model is not None:
        spent = getattr(model, "privacy_spent_", None)
        privacy_spent = dict(spent) if spent is not None else {"note": f"{type(model).__name__} does not report privacy_spent_"}
    info = {
        "n_rows": {
            "real_train": len(train),
            "synthetic": len(syn),
            **({"real_holdout": len(hold)} if hold is not None else {}),
        },
        "image_shape": list(shape),
        "n_classes": len(extractor.classes_),
        "pixel_range": list(prange),
        "random_state": seed_all,
        "extractor": {"epochs": extractor.epochs, "width": extractor.width, "final_loss": extractor.final_loss_},
        "seconds": seconds,
        "seconds_total": time.perf_counter() - started,
        "warnings": [],
    }
    real_sel, y_real_sel = _grid_selection(train, y_train, per_class, s_grid)
    if not show_real:  # an empty real column: no training image is drawn into the report
        real_sel, y_real_sel = real_sel[:0], None if y_real_sel is None else y_real_sel[:0]
        info["warnings"].append("real training images left out of the samples figure (show_real=False)")
    syn_sel, y_syn_sel = _grid_selection(syn, y_syn, per_class, s_grid + 1)
    images = {
        "real": real_sel,
        "y_real": y_real_sel,
        "synthetic": syn_sel,
        "y_synthetic": y_syn_sel,
        "pixel_range": prange,
        "per_class": per_class,
    }
    return AuditReport(results, skipped, privacy_spent, info, _images=images)
