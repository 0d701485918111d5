"""Common machinery of the image synthesizers: input checks, labels, privacy, sampling, persistence.

``fit(X, y=None)`` takes images ``(n, H, W)`` or ``(n, C, H, W)`` (uint8 or float) and
optional class labels; ``sample(n_samples, *, y=None)`` returns images of the same layout,
dtype and range (with ``(X, y)`` when fitted with labels). Asking for class ``k`` returns
exactly images generated for class ``k``: the class is an input of the networks.

Subclasses implement ``_build_networks``, ``_train`` (through the shared training runner),
``_generate`` and list their networks in ``network_attributes``; the shared skeleton is
:class:`~synthaug.synthesizers.core.SynthesizerCore`.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd
import torch
from sklearn.utils.validation import check_is_fitted

from ...exceptions import ConditionError, DataValidationError
from ...privacy.ledger import public_history
from ...schema import ColumnSpec, TableSchema
from ...transform.images import ImageScaler, check_images, image_stages
from ..core import NetworkTraining, check_n_samples, draw_seed, torch_generator
from ..params import POSITIVE, POSITIVE_INT, param

if TYPE_CHECKING:
    from ...privacy.plan import PrivateFit
    from ...privacy.training import PrivateTraining


_LABEL = "label"

IMAGE_ASSUMED_PUBLIC = [
    "image height, width, channels and dtype",
    "the pixel range (0..255 for uint8 images, otherwise the declared pixel_range)",
    "the number of training images (it sets DP-SGD's sampling rate, as in Opacus)",
    "the set of class labels given as y (their counts are released with noise)",
]


class BaseImageSynthesizer(NetworkTraining):
    """Base class of the image synthesizers (see module docstring)."""

    private_network_names: ClassVar[list[str]] = []
    sample_batch_size: ClassVar[int] = 1024
    is_image_synthesizer: ClassVar[bool] = True

    epochs: int = param(100, POSITIVE_INT)
    batch_size: int = param(64, POSITIVE_INT)
    learning_rate: float = param(1e-3, POSITIVE)
    pixel_range: tuple[float, float] | None = param(None, None, tuple, list)

    # ------------------------------------------------------------------ hooks
    @abstractmethod
    def _build_networks(self, generator: torch.Generator) -> None:
        """Create the networks for ``self.scaler_``'s padded size, ``self.n_classes_`` and ``self.stages_``."""

    @abstractmethod
    def _train(
        self, images: torch.Tensor, labels: torch.Tensor, generator: torch.Generator, plan: PrivateFit | None
    ) -> tuple[list[dict[str, Any]], PrivateTraining | None]:
        """Train on padded images in [-1, 1] and class codes; ``plan`` is the DP fit's
        :class:`~synthaug.privacy.PrivateFit` or None. Returns the history and the private trainer (or None)."""

    @abstractmethod
    def _generate(self, labels: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Padded images in [-1, 1] for the class codes ``labels``."""

    # ------------------------------------------------------------------ fit
    def fit(self, X: Any, y: Any = None) -> BaseImageSynthesizer:
        """Learn the distribution of the images ``X`` (conditioned on their labels ``y``, when given)."""
        rng, dp = self._begin_fit()
        X = check_images(X)
        codes = self._fit_labels(y, X.shape[0])
        self.stages_ = image_stages(*X.shape[-2:])
        self.scaler_ = ImageScaler(pixel_range=self.pixel_range, multiple=2**self.stages_, private=dp is not None).fit(X)
        self.n_features_in_ = int(np.prod(X.shape[1:]))
        generator = torch_generator(draw_seed(rng), self.device_)
        images = torch.as_tensor(self.scaler_.transform(X), device=self.device_)
        labels = torch.as_tensor(codes, device=self.device_)
        self._build_networks(generator)
        plan = None
        if dp is None:
            self.class_weights_ = np.bincount(codes, minlength=self.n_classes_) / len(codes)
        else:
            plan = self._private_class_counts(codes, dp)
        self.history_, trainer = self._train(images, labels, generator, plan)
        self._end_fit(rng, None if plan is None else self._private_ledger(plan, trainer))
        return self

    def _train_images(
        self,
        losses: Any,
        modules: Sequence[torch.nn.Module],
        n: int,
        generator: torch.Generator,
        plan: PrivateFit | None,
        *,
        desc: str,
        max_grad_norm: float | None = None,
    ) -> tuple[list, Any]:
        """Likelihood training of an image model (Adam at ``learning_rate``), plain or DP-SGD."""
        history, trainer = self._train_likelihood(
            losses, modules, n, generator, plan, desc=desc, max_grad_norm=max_grad_norm, lr=float(self.learning_rate)
        )
        for module in modules:
            module.eval()
        return history, trainer

    def _fit_labels(self, y: Any, n: int) -> np.ndarray:
        self.has_labels_ = y is not None
        if y is None:
            self.classes_ = np.asarray([0])
            self.n_classes_ = 1
            return np.zeros(n, dtype=np.int64)
        y = np.asarray(y.to_numpy() if isinstance(y, pd.Series) else y)
        if y.ndim != 1 or len(y) != n:
            raise DataValidationError(f"y must be 1-D with one label per image ({n}), got shape {y.shape}")
        if pd.isna(pd.Series(y)).any():
            raise DataValidationError("y contains missing labels")
        try:
            self.classes_, codes = np.unique(y, return_inverse=True)
        except TypeError as exc:
            raise DataValidationError(f"labels in y cannot be ordered (mixed types?): {exc}") from exc
        self.n_classes_ = len(self.classes_)
        return codes.astype(np.int64)

    def _private_class_counts(self, codes: np.ndarray, dp: Any) -> Any:
        """The DP fit's plan: noisy class counts (one Gaussian release) set the label frequencies."""
        from ...privacy.plan import plan_private_fit

        categories = list(range(self.n_classes_))
        if self.n_classes_ == 1:  # nothing to count: the whole budget goes to DP-SGD
            frame, schema = pd.DataFrame(index=np.arange(len(codes))), TableSchema([])
        else:
            schema = TableSchema([ColumnSpec(_LABEL, "categorical", dtype="int64", categories=categories, public=True)])
            frame = pd.DataFrame({_LABEL: codes})
        plan = plan_private_fit(frame, schema, dp, public_columns={_LABEL}, public_categories={_LABEL: categories})
        if self.n_classes_ == 1:
            self.class_weights_ = np.ones(1)
            return plan
        counts = np.clip(np.asarray(plan.domain.slot_counts(_LABEL), dtype=float)[: self.n_classes_], 0.0, None)
        names = [label.item() if hasattr(label, "item") else label for label in self.classes_]
        self.noisy_class_counts_ = {name: float(c) for name, c in zip(names, counts, strict=True)}
        total = counts.sum()
        self.class_weights_ = counts / total if total > 0 else np.full(self.n_classes_, 1.0 / self.n_classes_)
        return plan

    def _private_ledger(self, plan: PrivateFit, trainer: PrivateTraining) -> dict[str, Any]:
        ledger = self._close_private(plan, trainer, list(self.private_network_names))
        self.history_ = public_history(self.history_)
        ledger["covers"] = [
            "the fitted model file and every image sampled from it without y (post-processing)",
            "training of " + ", ".join(self.private_network_names) + " (DP-SGD)",
        ]
        if ledger["breakdown"][0]["stage"] == "preprocessing":
            ledger["breakdown"][0]["mechanism"] = "Gaussian noisy class counts (label frequencies for sampling)"
            ledger["breakdown"][0]["releases"] = [{"what": "class counts", "classes": self.n_classes_}]
            ledger["covers"].append("the class frequencies used to draw labels (Gaussian noisy counts)")
        ledger["note"] = (
            ledger["note"] + "; labels you pass to sample(y=...) are yours: asking for the exact private class counts "
            "publishes them"
        )
        ledger["assumed_public"] = list(IMAGE_ASSUMED_PUBLIC)
        return ledger

    def label_sampler(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """``n`` class codes drawn from the (possibly noisy) class frequencies."""
        weights = torch.as_tensor(self.class_weights_, dtype=torch.float64, device=self.device_)
        return torch.multinomial(weights, n, replacement=True, generator=generator)

    # ------------------------------------------------------------------ sample
    def sample(self, n_samples: int, *, y: Any = None, random_state: int | np.random.RandomState | None = None) -> Any:
        """Draw ``n_samples`` images.

        Args:
            n_samples: number of images.
            y: class label(s) to generate (a scalar, or one per image); needs ``fit(X, y)``.
                Without it labels follow the training class frequencies (the noisy ones under DP).
            random_state: seed for this call; without it, successive calls continue one
                reproducible stream started by ``fit``'s ``random_state``.
        Returns:
            images in the input's layout, dtype and range, and ``y`` when fitted with labels.
        """
        check_is_fitted(self, "scaler_")
        n = check_n_samples(n_samples)
        generator = self._sampling_generator(random_state)
        codes = self._requested_codes(n, y)
        if codes is None:
            codes = self.label_sampler(n, generator)
        parts = []
        with torch.no_grad():
            for start in range(0, n, self.sample_batch_size):
                batch = codes[start : start + self.sample_batch_size]
                parts.append(self._generate(batch, generator).cpu().numpy())
        X = self.scaler_.inverse_transform(np.concatenate(parts))
        if not self.has_labels_:
            return X
        return X, self.classes_[codes.cpu().numpy()]

    def _requested_codes(self, n: int, y: Any) -> torch.Tensor | None:
        if y is None:
            return None
        if not self.has_labels_:
            raise ConditionError("sample(y=...) needs a synthesizer fitted with fit(X, y)")
        values = np.asarray(y.to_numpy() if isinstance(y, pd.Series) else y, dtype=object)
        if values.ndim == 0:
            values = np.full(n, values.item(), dtype=object)
        if values.ndim != 1 or len(values) != n:
            raise ConditionError(f"y gives {values.size} labels for {n} images")
        classes = pd.Index(self.classes_.astype(object))
        codes = classes.get_indexer(values)
        unmatched = codes < 0
        if unmatched.any():  # text labels (e.g. from a command line) for non-text classes
            by_text = pd.Series(np.arange(len(classes)), index=[str(c) for c in classes])
            codes[unmatched] = pd.Series(values[unmatched]).astype(str).map(by_text).fillna(-1).to_numpy(dtype=np.int64)
            if (codes < 0).any():
                unseen = pd.unique(values[codes < 0])[:5].tolist()
                raise ConditionError(f"label(s) {unseen} not seen in fit; classes are {classes.tolist()[:20]}")
        return torch.as_tensor(codes.astype(np.int64), device=self.device_)

    # ------------------------------------------------------------------ persistence
    def _get_state(self) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        check_is_fitted(self, "scaler_")
        state, tensors = self._core_state()
        state.update(
            kind="image",
            scaler=self.scaler_.to_state(),
            stages=self.stages_,
            has_labels=self.has_labels_,
            classes=self.classes_.tolist(),
            classes_dtype=self.classes_.dtype.str if self.classes_.dtype != object else "object",
            class_weights=self.class_weights_.tolist(),
            n_features_in=self.n_features_in_,
        )
        tensors.update(self._network_tensors())
        return state, tensors

    def _set_state(self, state: Mapping[str, Any], tensors: Mapping[str, torch.Tensor]) -> None:
        self._restore_core_state(state, tensors)
        self.scaler_ = ImageScaler.from_state(state["scaler"])
        self.stages_ = int(state["stages"])
        self.has_labels_ = bool(state["has_labels"])
        dtype = state["classes_dtype"]
        self.classes_ = np.asarray(state["classes"], dtype=object if dtype == "object" else np.dtype(dtype))
        self.n_classes_ = len(self.classes_)
        self.class_weights_ = np.asarray(state["class_weights"], dtype=float)
        self.n_features_in_ = int(state["n_features_in"])
        self._build_networks(torch_generator(0, self.device_))
        self._load_network_tensors(tensors)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        return tags


__all__ = ["BaseImageSynthesizer", "IMAGE_ASSUMED_PUBLIC"]
