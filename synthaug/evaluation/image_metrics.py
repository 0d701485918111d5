"""Image metrics, registered: feature-space Fréchet and kernel distances, classification accuracy score, leakage.

Images are arrays of shape ``(n, H, W)`` (grey) or ``(n, C, H, W)``, accepted by the same rules
as an image synthesizer's ``fit`` (:func:`synthaug.transform.images.check_images`), with 1-D
labels of any hashable type. ``pixel_range=(low, high)`` maps pixel values to [0, 1],
identically for every set (default: (0, 255) for uint8, else the min / max of ``real_train``).

The feature space is the penultimate layer of a small CNN classifier
(:class:`~synthaug.evaluation.images.ImageFeatureExtractor`) trained with a fixed seed on the
real training images and labels; nothing is downloaded. The distances are therefore **not**
comparable with the Inception-based FID / KID of the literature, nor across datasets or
extractors: compare a value with its ``details["reference"]`` (the same computation with real
holdout images in place of the synthetic ones), computed with the same extractor. Every metric
takes ``extractor=``: pass one fitted extractor (see
:func:`~synthaug.evaluation.images.fit_feature_extractor`) to train it once for all metrics;
its ``pixel_range_`` then applies and ``pixel_range`` is ignored.

This module does not import torch: the extractor (in :mod:`synthaug.evaluation.images`) is
imported when a metric first needs features.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy.linalg import LinAlgWarning, sqrtm
from sklearn.neighbors import NearestNeighbors

from ..exceptions import MetricNotApplicable, ParameterError
from ._common import histograms, no_reference, quantiles
from ._common import seeds as _draw_seeds
from ._imaging import check_images, check_labels, class_codes, classes_of, resolve_pixel_range, scale_images
from .registry import metric
from .result import MetricResult

DEFAULT_EPOCHS = 10
DEFAULT_MAX_ROWS = 10_000
_SPACE = "penultimate layer of a small CNN trained on real_train (not Inception: not comparable with FID)"


def _seeds(random_state: Any, n: int) -> list[int]:
    """``n`` seeds; None draws fresh entropy without touching numpy's global RNG."""
    if random_state is None:
        return [int(s) for s in np.random.default_rng().integers(np.iinfo(np.int32).max, size=n)]
    return _draw_seeds(random_state, n)


@dataclass
class ImageInputs:
    """Checked images and labels of an image metric, and (fitted on first use) the feature extractor.

    ``seeds``: the seeds of the extractor, the kernel subsets and the leakage subsamples (a
    suite draws them; by default they derive from ``random_state``). ``n_threads``: the
    extractor's thread cap. Neither is a public argument of the metric functions.
    """

    KIND: ClassVar[str] = "images"
    NEEDS: ClassVar[tuple[str, ...]] = ("holdout", "labels")

    real_train: Any
    synthetic: Any
    y_train: Any = None
    y_synthetic: Any = None
    real_holdout: Any = None
    y_holdout: Any = None
    extractor: Any = None
    random_state: Any = 0
    pixel_range: Sequence[float] | None = None
    epochs: int = DEFAULT_EPOCHS
    seeds: dict[str, int] | None = field(default=None, metadata={"public": False})
    n_threads: int | None = field(default=1, metadata={"public": False})
    _features: dict[str, np.ndarray] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        self.real_train = check_images(self.real_train, "real_train")
        shape = self.real_train.shape[1:]
        self.synthetic = check_images(self.synthetic, "synthetic", shape)
        if self.real_holdout is not None:
            self.real_holdout = check_images(self.real_holdout, "real_holdout", shape)
        for name, images in (("y_train", self.real_train), ("y_synthetic", self.synthetic), ("y_holdout", self.real_holdout)):
            if getattr(self, name) is not None and images is not None:
                setattr(self, name, check_labels(getattr(self, name), name, len(images)))

    def missing(self, need: str) -> str | None:
        """The reason the inputs lack ``need`` ("holdout" or "labels" of the synthetic and holdout images), or None."""
        if need == "holdout":
            return "needs a real_holdout (real images kept out of training)" if self.real_holdout is None else None
        if need != "labels":
            raise KeyError(need)
        if self.y_synthetic is None:
            return "needs y_synthetic (labels of the synthetic images)"
        return "needs y_holdout (labels of the holdout images)" if self.y_holdout is None else None

    def seed(self, which: str) -> int | Any:
        """The seed of the ``extractor``, ``kernel`` or ``leakage`` part."""
        if self.seeds is not None:
            return self.seeds[which]
        if which == "extractor":
            return self.random_state
        return _seeds(self.random_state, 2)[1] if which == "kernel" else _seeds(self.random_state, 3)[2]

    def scale_range(self) -> tuple[float, float]:
        """The pixel range: the fitted extractor's, else ``pixel_range`` resolved on real_train."""
        if self.extractor is not None and self.extractor.is_fitted:
            return self.extractor.pixel_range_
        return resolve_pixel_range(self.real_train, self.pixel_range)

    def fitted_extractor(self) -> Any:
        """The extractor, fitted here on real_train and y_train unless it already is."""
        if self.extractor is None or not self.extractor.is_fitted:
            from .images import _fitted_extractor

            y_train = check_labels(self.y_train, "y_train", len(self.real_train))
            args = (self.scale_range(), self.seed("extractor"), self.epochs, self.n_threads)
            self.extractor = _fitted_extractor(self.extractor, self.real_train, y_train, *args)
        return self.extractor

    def features(self, which: str) -> np.ndarray:
        """Features of the ``train``, ``synthetic`` or ``holdout`` images (each set embedded once)."""
        if which not in self._features:
            images = {"train": self.real_train, "synthetic": self.synthetic, "holdout": self.real_holdout}[which]
            self._features[which] = self.fitted_extractor().features(images, which)
        return self._features[which]


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
        raise MetricNotApplicable("the Fréchet distance needs at least 2 images in each set")
    mu_a, mu_b = a.mean(axis=0), b.mean(axis=0)
    cov_a, cov_b = np.atleast_2d(np.cov(a, rowvar=False)), np.atleast_2d(np.cov(b, rowvar=False))
    covmean = _sqrtm_or_none(cov_a @ cov_b)
    if covmean is None:  # singular covariances (fewer images than features, constant images): a small ridge on both
        eye = np.eye(len(cov_a)) * ridge * max(np.trace(cov_a), np.trace(cov_b), 1.0) / len(cov_a)
        covmean = _sqrtm_or_none((cov_a + eye) @ (cov_b + eye), strict=False)
        if covmean is None:
            raise MetricNotApplicable("the Fréchet distance failed: no finite square root of the feature covariances' product")
    covmean = np.real(covmean)  # tiny imaginary parts are numerical error
    diff = mu_a - mu_b
    value = diff @ diff + np.trace(cov_a) + np.trace(cov_b) - 2.0 * np.trace(covmean)
    return float(max(value, 0.0))


@metric(
    name="frechet_distance",
    section="fidelity",
    direction="lower",
    inputs=ImageInputs,
    headline=True,
    caption="Fréchet distance between Gaussians fitted to the features of the training and synthetic images "
    "(features of a small CNN trained on the real images: not comparable with Inception FID). Compare with the reference, "
    "the holdout images' distance.",
)
def frechet_distance(inputs: ImageInputs) -> MetricResult:
    """Fréchet distance between Gaussians fitted to the train and synthetic features (lower is better).

    The features are those of ``extractor`` (default: an ImageFeatureExtractor trained here on
    ``real_train``, ``y_train``). Reference: the same distance between holdout and train
    features. Not comparable with Inception FID. The estimate grows as the sets shrink (a copy
    of the training images scores 0): compare a synthetic set about the holdout's size.
    Singular covariances (fewer images than features) get a small ridge.
    """
    train = inputs.features("train")
    details: dict[str, Any] = {"n_features": train.shape[1], "feature_space": _SPACE}
    if inputs.real_holdout is not None:
        details["reference"] = _frechet(train, inputs.features("holdout"))
    else:
        no_reference(details)
    details["note"] = "Fréchet distance of the synthetic features to the training features; lower is better"
    return MetricResult("frechet_distance", _frechet(train, inputs.features("synthetic")), "lower", details)


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
        raise MetricNotApplicable("the kernel distance needs at least 2 images in each set")
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


@metric(
    name="kernel_distance",
    section="fidelity",
    direction="lower",
    inputs=ImageInputs,
    caption="KID-style unbiased MMD² (cubic polynomial kernel) between training and synthetic image features, "
    "averaged over random subsets; about 0 for one distribution, below 0 for a copy of the training images.",
)
def kernel_distance(inputs: ImageInputs, *, n_subsets: int = 10, subset_size: int = 1000) -> MetricResult:
    """KID-style kernel distance: unbiased MMD² with the cubic kernel ``(x.y / d + 1)³`` on the features.

    Averaged over ``n_subsets`` random subsets of ``min(subset_size, n)`` images per set
    (seeded by ``random_state``); ``details["std_over_subsets"]`` gives the spread. Reference:
    holdout vs train with the same subsets scheme. About 0 (it may be slightly negative) when
    both sets come from one distribution. Not comparable with Inception KID.
    """
    train, seed = inputs.features("train"), inputs.seed("kernel")
    value, std = _kernel_distance(train, inputs.features("synthetic"), seed, n_subsets, subset_size)
    details: dict[str, Any] = {
        "std_over_subsets": std,
        "n_subsets": n_subsets,
        "subset_size": min(subset_size, len(train), len(inputs.synthetic)),
        "feature_space": _SPACE,
    }
    if inputs.real_holdout is not None:
        details["reference"], details["reference_std"] = _kernel_distance(
            train, inputs.features("holdout"), seed, n_subsets, subset_size
        )
    else:
        no_reference(details)
    details["note"] = "unbiased MMD² (cubic polynomial kernel, as KID) between synthetic and training features; can be < 0"
    return MetricResult("kernel_distance", value, "lower", details)


# --------------------------------------------------------------------------- exact copies and leakage
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


@metric(
    name="image_exact_copy_rate",
    section="privacy",
    direction="lower",
    inputs=ImageInputs,
    caption="Share of synthetic images pixel-identical to a training image.",
)
def image_exact_copy_rate(inputs: ImageInputs) -> MetricResult:
    """Share of synthetic images pixel-identical (after ``pixel_range`` scaling) to a training image.

    Reference: the same share for the holdout images (duplicates within the real data).
    """
    rng = inputs.scale_range()
    keys = _pixel_keys(inputs.real_train, rng)
    details: dict[str, Any] = {"n_copies": int(_copies(inputs.synthetic, keys, rng).sum())}
    if inputs.real_holdout is not None:
        details["reference"] = float(_copies(inputs.real_holdout, keys, rng).mean())
    else:
        no_reference(details)
    return MetricResult("image_exact_copy_rate", details["n_copies"] / len(inputs.synthetic), "lower", details)


def _to_train(inputs: ImageInputs, index: NearestNeighbors, train_keys: np.ndarray, images: np.ndarray, which: str):
    """Feature distance of each image to its closest training image (0 for a pixel-exact copy) and the copies."""
    distance = index.kneighbors(inputs.fitted_extractor().features(images, which))[0][:, 0]
    copies = _copies(images, train_keys, inputs.scale_range())
    distance[copies] = 0.0  # a pixel-exact copy is at distance 0 whatever the batch arithmetic
    return distance, copies


@metric(
    name="image_nearest_neighbour_leakage",
    section="privacy",
    direction="lower",
    inputs=ImageInputs,
    needs=("holdout",),
    headline=True,
    caption="Share of synthetic images closer (in feature space) to a training image than the "
    "5% closest holdout images are; the reference is about 0.05, 1 means copies of training images.",
)
def image_nearest_neighbour_leakage(
    inputs: ImageInputs, *, quantile: float = 0.05, max_rows: int | None = DEFAULT_MAX_ROWS
) -> MetricResult:
    """Share of synthetic images suspiciously close to a training image, in the extractor's feature space.

    Threshold: the ``quantile`` (default 5%) of the holdout images' distances to their nearest
    training image. Value: the share of synthetic images whose nearest-training distance is at
    most the threshold; reference: the holdout's own share (about ``quantile`` by construction).
    A generator that copies training images scores near 1. Details: median and quantile
    distances, a histogram, and the pixel-exact copy rate (with the holdout's as reference).
    At most ``max_rows`` synthetic and holdout images are queried (seeded); train is searched in full.
    """
    if not 0.0 < quantile < 1.0:
        raise ParameterError(f"quantile must be in (0, 1), got {quantile}")
    seed_syn, seed_hold = _seeds(inputs.seed("leakage"), 2)
    syn = _subsample(inputs.synthetic, max_rows, seed_syn)
    hold = _subsample(inputs.real_holdout, max_rows, seed_hold)
    index = NearestNeighbors(n_neighbors=1, algorithm="brute").fit(inputs.features("train"))
    train_keys = _pixel_keys(inputs.real_train, inputs.scale_range())
    d_syn, copy_syn = _to_train(inputs, index, train_keys, syn, "synthetic")
    d_hold, copy_hold = _to_train(inputs, index, train_keys, hold, "real_holdout")
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


# --------------------------------------------------------------------------- classification accuracy score
def _per_class(y_true: np.ndarray, correct: np.ndarray) -> pd.Series:
    return pd.Series(correct, dtype=float).groupby(pd.Series(y_true, dtype=object), sort=False).mean()


def _label_classes(inputs: ImageInputs, name: str) -> tuple[np.ndarray, np.ndarray]:
    """The classes of y_train and the codes present in y_synthetic; MetricNotApplicable with fewer than 2 of either."""
    classes = classes_of(check_labels(inputs.y_train, "y_train", len(inputs.real_train)))
    if len(classes) < 2:
        raise MetricNotApplicable(f"{name} needs at least 2 classes in y_train, got only {classes[0]!r}")
    present = np.unique(class_codes(inputs.y_synthetic, classes, "y_synthetic"))
    if len(present) < 2:
        raise MetricNotApplicable(f"{name} needs at least 2 classes in y_synthetic, got only {classes[present[0]]!r}")
    class_codes(inputs.y_holdout, classes, "y_holdout")
    return classes, present


@metric(
    name="classification_accuracy_score",
    section="utility",
    direction="higher",
    inputs=ImageInputs,
    needs=("holdout", "labels"),
    headline=True,
    caption="Accuracy on real holdout images of a small CNN trained on the synthetic images and "
    "labels; the reference is the same CNN trained on the real training images.",
)
def classification_accuracy_score(inputs: ImageInputs) -> MetricResult:
    """Accuracy on the real holdout of the small CNN classifier trained on the synthetic images (higher is better).

    Reference: the same classifier (same recipe, seed and ``epochs``) trained on the real
    training images. ``extractor``: an already fitted real-train classifier to reuse as the
    reference (its recipe is then used for the synthetic one too). Details: both accuracies,
    their ratio (synthetic / real) and per-class accuracies on the holdout.
    """
    from .images import ImageFeatureExtractor

    name = "classification_accuracy_score"
    classes, present = _label_classes(inputs, name)
    reference_model = inputs.fitted_extractor()
    params = reference_model._params() | {"pixel_range": reference_model.pixel_range_}
    synthetic_model = ImageFeatureExtractor(**params).fit(inputs.synthetic, inputs.y_synthetic, classes=reference_model.classes_)
    holdout, y_holdout = inputs.real_holdout, inputs.y_holdout
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
