"""Steps that the table and the image pipeline runners share: the holdout split, DP settings, class counts."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from .exceptions import SpecError


def holdout_split(items: Any, spec: Mapping[str, Any], stratify: Any, what: str) -> tuple[Any, Any]:
    """``(train, holdout)`` of ``items`` by ``input.holdout``, seeded by ``output.seed``, stratified on ``stratify``.

    A split that cannot be made (an empty part, a class too small to stratify) is a :class:`SpecError`
    naming ``input.holdout``; ``what`` names the items (``rows``, ``images``).
    """
    from sklearn.model_selection import train_test_split

    holdout = spec["input"]["holdout"]
    problem = _split_problem(len(items), holdout, stratify, what)
    if problem is not None:
        raise SpecError(f"input.holdout = {holdout:g} cannot split {len(items)} {what}: {problem}")
    return train_test_split(items, test_size=holdout, random_state=spec["output"]["seed"], stratify=stratify)


def _split_problem(n_items: int, holdout: float, stratify: Any, what: str) -> str | None:
    """Why scikit-learn's ``train_test_split`` would refuse this split, or None."""
    n_test = math.ceil(holdout * n_items)
    n_train = n_items - n_test
    if n_train < 1:
        return f"the training part would be empty (the holdout takes {n_test})"
    if stratify is None:
        return None
    counts = pd.Series(np.asarray(stratify)).value_counts()
    if counts.min() < 2:
        return f"class {counts.idxmin()!r} has a single {what[:-1]}; a stratified split needs at least 2 of each class"
    for part, size in (("training part", n_train), ("holdout", n_test)):
        if size < len(counts):
            return f"the {part} of {size} {what} cannot hold each of the {len(counts)} classes"
    return None


def dp_param(spec: Mapping[str, Any]) -> dict[str, Any]:
    """``{"dp": DPConfig}`` from the ``[privacy]`` section, or nothing without one."""
    if "privacy" not in spec:
        return {}
    from .privacy.config import DPConfig

    return {"dp": DPConfig(**spec["privacy"])}


def class_counts(spec: Mapping[str, Any], info: dict[str, Any], y: Any, y_res: Any, sampler: Any) -> None:
    """Class counts for the summary, into ``info``: exact without DP; under DP only the synthetic rows per
    class (from the noisy class histogram), so no exact count reaches the console."""
    if "privacy" in spec:
        info["synthetic_per_class"] = {str(k): int(v) for k, v in sampler.sampling_strategy_.items()}
        return
    info["class_counts_before"] = pd.Series(y).value_counts().sort_index().to_dict()
    info["class_counts_after"] = pd.Series(y_res).value_counts().sort_index().to_dict()


def per_class_models(synthesizers: Mapping[Any, Any], info: dict[str, Any]) -> dict[str, Any]:
    """File name -> model of a per-class oversampler (``model_0.synthaug`` ...); ``info["models"]``: file -> class."""
    models = {f"model_{i}.synthaug": model for i, model in enumerate(synthesizers.values())}
    info["models"] = {name: str(label) for name, label in zip(models, synthesizers, strict=True)}
    return models
