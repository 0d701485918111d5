"""Generator-backed oversampling with imbalanced-learn's sampler contract."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from imblearn.over_sampling.base import BaseOverSampler
from imblearn.utils import check_sampling_strategy, check_target_type
from sklearn.base import clone
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, StrOptions
from sklearn.utils.validation import validate_data

from .exceptions import DataValidationError, ParameterError, PrivacyError
from .privacy.config import check_dp

OVERSAMPLED_REAL_ROWS = (
    "the returned set starts with every real row of X and y, unchanged: it is not differentially private and must "
    "be handled like the private data; only the model and the appended synthetic rows are covered"
)


def private_sampling_strategy(strategy: Any, noisy_counts: Mapping[Any, float]) -> dict[Any, int]:
    """Synthetic rows per class for a DP oversampler, from the noisy class counts of the
    private fit (post-processing): imbalanced-learn's ``sampling_strategy`` forms applied to
    the rounded noisy counts instead of the exact ones."""
    labels = list(noisy_counts)
    counts = {label: max(int(round(c)), 1) for label, c in noisy_counts.items()}
    stand_in = np.repeat(np.array(labels, dtype=object), [counts[label] for label in labels])
    if callable(strategy):
        strategy = strategy(stand_in)
    if isinstance(strategy, Mapping):
        return {label: max(int(target) - counts.get(label, 0), 0) for label, target in strategy.items()}
    resolved = check_sampling_strategy(strategy, stand_in, "over-sampling")
    return {label: int(n) for label, n in resolved.items()}


def default_synthesizer(images: bool = False) -> Any:
    """The synthesizer used when none is given: CTGAN for tables, trained shorter and with
    smaller batches than for a full synthetic copy, since a sampler is refitted in every fold;
    for images the coupling flow (the best classification accuracy score on digits, see
    ``benchmarks/bench_images.py``)."""
    if images:
        from .synthesizers.images import ImageFlowSynthesizer

        return ImageFlowSynthesizer()
    from .synthesizers.ctgan import CTGANSynthesizer

    # fixed 200-row batches, as measured in benchmarks/bench_oversampling.py (the default is its own issue)
    return CTGANSynthesizer(epochs=150, batch_size=200, min_steps_per_epoch=None)


def _is_image_synthesizer(synthesizer: Any) -> bool:
    return bool(getattr(synthesizer, "is_image_synthesizer", False))


def check_target_column(frame: pd.DataFrame, target: str) -> tuple[pd.DataFrame, pd.Series]:
    """Split ``frame`` into features and a class column, with clear errors for unusable targets."""
    if target not in frame.columns:
        raise DataValidationError(f"target column {target!r} is not in the table; columns are {list(frame.columns)}")
    y = frame[target]
    n_missing = int(y.isna().sum())
    if n_missing:
        raise DataValidationError(f"target column {target!r} has {n_missing} missing value(s); drop or label those rows first")
    if y.nunique() < 2:
        raise DataValidationError(f"target column {target!r} has a single class ({y.iloc[0]!r}); there is nothing to balance")
    if frame.shape[1] < 2:
        raise DataValidationError("the table has no feature columns besides the target")
    return frame.drop(columns=[target]), y


class GenerativeOverSampler(BaseOverSampler):
    """Oversample classes with rows drawn from a trained synthesizer.

    ``fit_resample(X, y)`` returns the original rows followed by synthetic rows in the
    counts that imbalanced-learn's ``sampling_strategy_`` asks for. Every synthetic row
    is generated for its class (exact conditional sampling): no relabelling, no rejection.

    Images: with an image synthesizer (or none, and ``X`` of shape ``(n, H, W)`` or
    ``(n, C, H, W)``) ``X`` holds images and the synthetic images are appended to them.

    Parameters:
        synthesizer: an unfitted synthaug synthesizer (cloned for every fit); default
            :func:`default_synthesizer` (CTGAN for tables, the image flow for images). With
            ``dp=`` set on it the sampler reports its ``privacy_spent_``, and the number of
            synthetic rows per class follows ``sampling_strategy`` applied to the private fit's
            noisy class counts (never the exact ones). The returned set still holds every real
            row: only the model and the synthetic rows are covered by the guarantee.
        sampling_strategy: every form imbalanced-learn accepts ("auto", "minority",
            "not minority", "not majority", "all", a float for binary targets, a dict
            ``{class: target count}`` or a callable).
        mode: ``"conditional"`` fits one synthesizer on all rows, conditioned on the
            class (classes share what they have in common); ``"per_class"`` fits one
            synthesizer per resampled class on that class's rows only (refused under DP:
            each fit's schedule would reveal its class's size).
        random_state: seed for the synthesizers (overrides theirs).

    Attributes:
        sampling_strategy_: dict of rows generated per class (from the noisy counts under DP).
        synthesizers_: the fitted synthesizer(s) (dict ``{class: synthesizer}`` in per-class mode).
        privacy_spent_: the privacy report of the synthesizer, saying what it covers.

    A class with a single row can be resampled, but its synthetic rows can only echo
    that row; a target with one class is an error.
    """

    _parameter_constraints: dict = {
        **BaseOverSampler._parameter_constraints,
        "synthesizer": [HasMethods(["fit", "sample"]), None],
        "mode": [StrOptions({"conditional", "per_class"})],
        "random_state": ["random_state"],
    }

    def __init__(
        self, *, synthesizer: Any = None, sampling_strategy: Any = "auto", mode: str = "conditional", random_state: Any = None
    ) -> None:
        super().__init__(sampling_strategy=sampling_strategy)
        self.synthesizer = synthesizer
        self.mode = mode
        self.random_state = random_state

    # imbalanced-learn validates X as a numeric array; we accept mixed-type frames as they are
    def _check_X_y(self, X: Any, y: Any, accept_sparse: Any = None) -> tuple[Any, np.ndarray, bool]:
        y, binarize_y = check_target_type(y, indicate_one_vs_all=True)
        self._check_strategy(y)
        if self._images(X):
            from .transform.images import check_images

            X = check_images(X)
            if X.shape[0] != len(y):
                raise DataValidationError(f"X has {X.shape[0]} images but y has {len(y)} labels")
            self.n_features_in_ = int(np.prod(X.shape[1:]))
            return X, np.asarray(y), binarize_y
        if isinstance(X, pd.DataFrame):
            validate_data(self, X, skip_check_array=True, reset=True)
            sparse = [c for c in X.columns if isinstance(X[c].dtype, pd.SparseDtype)]
            if sparse:  # generators work on dense rows; imbalanced-learn restores the dtypes on output
                X = X.astype({c: X[c].dtype.subtype for c in sparse})
            if X.shape[0] != len(y):
                raise DataValidationError(f"X has {X.shape[0]} rows but y has {len(y)}")
            return X, np.asarray(y), binarize_y
        X, y = validate_data(self, X=X, y=y, reset=True, dtype=None, accept_sparse=False, ensure_all_finite="allow-nan")
        return X, y, binarize_y

    def _check_strategy(self, y: Any) -> None:
        """imbalanced-learn's check of ``sampling_strategy`` against ``y``, its ``ValueError`` raised as a
        :class:`ParameterError` (bad input, CLI exit 2). Under DP the message is withheld: imbalanced-learn's
        quotes exact class counts."""
        labels = pd.Series(np.asarray(y).ravel())
        if labels.isna().any() or labels.nunique() < 2:
            return  # reported by _fit_resample with its own message
        try:
            check_sampling_strategy(self.sampling_strategy, np.asarray(y), "over-sampling")
        except ValueError as exc:
            if self._is_private():
                raise ParameterError(
                    f"sampling_strategy={self.sampling_strategy!r} does not fit this target (imbalanced-learn's reason "
                    "is withheld under dp: it quotes exact class counts)"
                ) from None
            raise ParameterError(f"sampling_strategy={self.sampling_strategy!r}: {exc}") from None

    def _images(self, X: Any) -> bool:
        """Whether ``X`` is a set of images (an image synthesizer, or none and a 3-D/4-D array)."""
        if self.synthesizer is not None:
            if not _is_image_synthesizer(self.synthesizer) and np.ndim(X) > 2 and not isinstance(X, pd.DataFrame):
                raise DataValidationError(
                    f"X has shape {np.shape(X)} (images) but {type(self.synthesizer).__name__} is a table synthesizer; "
                    "use an image synthesizer (ImageGANSynthesizer, ImageVAESynthesizer, ImageFlowSynthesizer)"
                )
            return _is_image_synthesizer(self.synthesizer)
        return not isinstance(X, pd.DataFrame) and np.ndim(X) > 2

    def _new_synthesizer(self, seed: int, images: bool = False) -> Any:
        synthesizer = clone(self.synthesizer) if self.synthesizer is not None else default_synthesizer(images)
        if "random_state" in synthesizer.get_params():
            synthesizer.set_params(random_state=seed)
        return synthesizer

    def _fit_resample(self, X: Any, y: np.ndarray) -> tuple[Any, np.ndarray]:
        if pd.isna(pd.Series(y)).any():
            raise DataValidationError("y contains missing values")
        classes = np.unique(y)
        if classes.size < 2:
            raise DataValidationError(f"y has a single class ({classes[0]!r}); there is nothing to balance")
        rng = check_random_state(self.random_state)
        private = self._is_private()
        if private and self.mode == "per_class":
            raise PrivacyError(
                "mode='per_class' is refused under differential privacy: each per-class fit's schedule (sample rate, "
                "steps, default delta) is a function of that class's exact size; use mode='conditional', which fits "
                "one private model on all rows and draws the synthetic counts from its noisy class histogram"
            )
        wanted = {label: int(n) for label, n in self.sampling_strategy_.items() if int(n) > 0}
        is_frame = isinstance(X, pd.DataFrame)
        images = not is_frame and np.ndim(X) > 2
        self.synthesizers_: Any = {}
        parts_X, parts_y = [], []
        if private or (wanted and self.mode == "conditional"):
            synthesizer = self._new_synthesizer(rng.randint(np.iinfo(np.int32).max), images)
            y_fit = pd.Series(y, name="__class__") if is_frame else y
            synthesizer.fit(X, y_fit)
            if private:  # the counts to add come from the noisy class histogram, never the exact counts
                self.sampling_strategy_ = private_sampling_strategy(self.sampling_strategy, synthesizer.noisy_class_counts_)
                wanted = {label: n for label, n in self.sampling_strategy_.items() if n > 0}
            labels = np.repeat(np.array(list(wanted), dtype=object), list(wanted.values()))
            labels = labels.astype(np.asarray(y).dtype) if np.asarray(y).dtype.kind != "O" else labels
            if len(labels):
                X_new, y_new = synthesizer.sample(len(labels), y=labels)
                parts_X.append(X_new)
                parts_y.append(np.asarray(y_new))
            self.synthesizers_ = synthesizer
        elif wanted:
            for label, count in wanted.items():
                rows = np.asarray(y) == label
                synthesizer = self._new_synthesizer(rng.randint(np.iinfo(np.int32).max), images)
                synthesizer.fit(X.loc[rows] if is_frame else X[rows])
                parts_X.append(synthesizer.sample(count))
                parts_y.append(np.full(count, label, dtype=np.asarray(y).dtype))
                self.synthesizers_[label] = synthesizer
        self.privacy_spent_ = self._privacy_report()
        if not parts_X:
            return X, y
        if is_frame:
            new = pd.concat(parts_X, ignore_index=True)
            new.index = pd.RangeIndex(len(X), len(X) + len(new))
            X_res = pd.concat([X, new.astype(X.dtypes.to_dict())], axis=0)
        else:
            X = np.asarray(X)
            X_res = np.concatenate([X] + [np.asarray(p).astype(X.dtype, copy=False) for p in parts_X])
        y_res = np.concatenate([np.asarray(y)] + [np.asarray(p, dtype=np.asarray(y).dtype) for p in parts_y])
        return X_res, y_res

    def _is_private(self) -> bool:
        return self.synthesizer is not None and check_dp(getattr(self.synthesizer, "dp", None)) is not None

    def _privacy_report(self) -> dict[str, Any]:
        fitted = self.synthesizers_ if isinstance(self.synthesizers_, dict) else {"all": self.synthesizers_}
        reports = [getattr(s, "privacy_spent_", None) for s in fitted.values() if s is not None]
        if not reports:
            return {"guarantee": "none", "note": "no synthesizer was fitted (nothing to oversample)"}
        if any(r is None or r.get("epsilon") is None for r in reports):
            return {
                "guarantee": "none",
                "epsilon": None,
                "delta": None,
                "note": "synthesizers trained without differential privacy: there is no formal privacy guarantee",
            }
        (report,) = reports  # under DP only the conditional mode runs: one fit
        return {
            "guarantee": report["guarantee"] + ", for the fitted model and the synthetic rows only",
            "epsilon": report["epsilon"],
            "delta": report["delta"],
            "covers": "the fitted synthesizer and the synthetic rows it generated; the number of synthetic rows per "
            "class comes from its noisy class histogram (and the sampling strategy)",
            "not_covered": OVERSAMPLED_REAL_ROWS,
            "per_fit": reports,
        }

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False  # generators need dense rows
        tags.input_tags.string = True
        tags.input_tags.allow_nan = True
        tags.input_tags.categorical = True
        tags.non_deterministic = False
        return tags


__all__ = ["GenerativeOverSampler", "check_target_column", "default_synthesizer"]
