"""The image pipeline: stratified holdout split, fit (or oversample), audit with ``evaluate_images``, write."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .exceptions import SpecError
from .pipeline_outputs import finish_run
from .pipeline_result import PipelineResult
from .pipeline_steps import class_counts, dp_param, holdout_split, per_class_models

# (X, y, public pixel range or None)
Images = tuple[np.ndarray, np.ndarray, tuple[float, float] | None]


@dataclass
class ImageFit:
    """A fitted image run: the model (or sampler), file name -> model, the synthetic ``(X, y)``, .npz name -> ``(X, y)``."""

    fitted: Any
    models: dict[str, Any]
    synthetic: tuple[np.ndarray, np.ndarray]
    npz: dict[str, tuple[np.ndarray, np.ndarray]]


class ImageRunner:
    """Runs a resolved image spec (see :func:`~synthaug.pipeline_spec.check_spec`)."""

    def __init__(self, spec: Mapping[str, Any]) -> None:
        self.spec = spec
        self.seed: int = spec["output"]["seed"]
        self.folder = Path(spec["output"]["dir"])

    def load(self) -> Images:
        """``(X, y, public pixel range or None)`` from the built-in digits, a class folder or an .npz."""
        source = self.spec["input"]
        if source.get("dataset") == "digits":
            from .datasets import DIGITS_PIXEL_RANGE, load_digits_images

            X, y = load_digits_images()
            return X, y, DIGITS_PIXEL_RANGE
        from .image_io import read_images

        images = read_images(source["path"])
        return images.X, images.y, None

    def run(self, images: Images, verbose: bool) -> PipelineResult:
        """Split ``images``, fit (or oversample) on the training part, audit against the holdout, write."""
        X, y, public_range = images
        train, holdout = holdout_split(np.arange(len(y)), self.spec, y, "images")
        X_train, y_train = X[train], y[train]
        info: dict[str, Any] = {
            "synthesizer": self.spec["synthesizer"]["name"],
            "n_train": len(train),
            "n_holdout": len(holdout),
            "image_shape": list(X.shape[1:]),
        }
        synthesizer = self._synthesizer(public_range, verbose)
        start = time.perf_counter()
        if "oversample" in self.spec:
            fit = self._oversample(synthesizer, X_train, y_train, info)
        else:
            fit = self._copy(synthesizer, X_train, y_train, info)
        info["fit_seconds"] = time.perf_counter() - start
        info["n_synthetic"] = len(fit.synthetic[1])
        scaler = next(iter(fit.models.values())).scaler_
        pixel_range = (scaler.low_, scaler.high_)
        report = self._audit((X_train, y_train), fit.synthetic, (X[holdout], y[holdout]), fit.fitted, pixel_range)
        files = self._write_images(fit, pixel_range)
        return finish_run(self.spec, files, fit.models, report, fit.fitted, info)

    def _synthesizer(self, public_range: tuple[float, float] | None, verbose: bool) -> Any:
        """The image synthesizer; the pixel range of the spec, else the input's public one (digits)."""
        from .synthesizers.registry import get_synthesizer

        params: dict[str, Any] = {**self.spec["synthesizer"]["params"], "random_state": self.seed, "verbose": verbose}
        if public_range is not None and "pixel_range" not in params:
            params["pixel_range"] = public_range
        if "pixel_range" in params:
            params["pixel_range"] = tuple(params["pixel_range"])
        params.update(dp_param(self.spec))
        return get_synthesizer(self.spec["synthesizer"]["name"], **params)

    def _copy(self, synthesizer: Any, X_train: np.ndarray, y_train: np.ndarray, info: dict[str, Any]) -> ImageFit:
        """A class-conditional copy; under DP (or with ``output.rows``) labels from the model's class frequencies."""
        fitted = synthesizer.fit(X_train, y_train)
        rows = self.spec["output"].get("rows")
        if rows or "privacy" in self.spec:  # under DP the labels come from the noisy class frequencies
            X_syn, y_syn = fitted.sample(rows or len(y_train))
        else:
            X_syn, y_syn = fitted.sample(len(y_train), y=y_train)
        info["mode"] = "copy"
        return ImageFit(fitted, {"model.synthaug": fitted}, (X_syn, y_syn), {"synthetic.npz": (X_syn, y_syn)})

    def _oversample(self, synthesizer: Any, X_train: np.ndarray, y_train: np.ndarray, info: dict[str, Any]) -> ImageFit:
        """The training images plus synthetic ones of the rarer classes (``resampled.npz``)."""
        from .over_sampling import GenerativeOverSampler

        settings = self.spec["oversample"]
        sampler = GenerativeOverSampler(
            synthesizer=synthesizer, sampling_strategy=settings["strategy"], mode=settings["mode"], random_state=self.seed
        )
        X_all, y_all = sampler.fit_resample(X_train, y_train)
        X_syn, y_syn = X_all[len(y_train) :], y_all[len(y_train) :]
        if len(y_syn) == 0:
            raise SpecError(f"oversample.strategy {settings['strategy']!r} asks for no new images")
        fitted = sampler.synthesizers_
        if isinstance(fitted, dict) and len(fitted) > 1:
            models = per_class_models(fitted, info)
        else:
            models = {"model.synthaug": next(iter(fitted.values())) if isinstance(fitted, dict) else fitted}
        info["mode"] = "oversample"
        class_counts(self.spec, info, y_train, y_all, sampler)
        return ImageFit(sampler, models, (X_syn, y_syn), {"resampled.npz": (X_all, y_all)})

    def _audit(self, train: tuple, synthetic: tuple, holdout: tuple, fitted: Any, pixel_range: tuple[float, float]) -> Any:
        """The image audit; under DP it shows no real images unless ``evaluate.real_images`` is true."""
        from .evaluation.images import evaluate_images

        show_real = "privacy" not in self.spec or self.spec["evaluate"].get("real_images", False)
        return evaluate_images(
            *train, *synthetic, *holdout, model=fitted, random_state=self.seed, pixel_range=pixel_range, show_real=show_real
        )

    def _write_images(self, fit: ImageFit, pixel_range: tuple[float, float]) -> dict[str, Path]:
        """The ``.npz`` output and the synthetic images as PNG folders, one per class."""
        from .image_io import write_images, write_npz

        files: dict[str, Path] = {}
        for name, (images, labels) in fit.npz.items():
            files[Path(name).stem] = write_npz(self.folder / name, images, labels, overwrite=True)
        X_syn, y_syn = fit.synthetic
        png_range = None if X_syn.dtype == np.uint8 else pixel_range
        files["images"] = write_images(self.folder / "synthetic_images", X_syn, y_syn, pixel_range=png_range, overwrite=True)
        return files
