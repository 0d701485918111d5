"""Generator-backed oversampling with imbalanced-learn's sampler contract."""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from imblearn.over_sampling.base import BaseOverSampler
from imblearn.utils import check_sampling_strategy, check_target_type
from sklearn.base import clone
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import validate_data

from .exceptions import DataValidationError, ParameterError, PrivacyError
from .fit_cache import FIT_CACHE, cacheable, data_digest, estimator_digest, fit_key
from .privacy.config import check_dp
from .selection import SELECTION_METHOD, agreement_scores, most_agreed

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


#: training steps of the default table synthesizer: its epochs are this many steps' worth of batches.
DEFAULT_STEPS = 1000
#: batch size of the default table synthesizer.
DEFAULT_BATCH_SIZE = 500
#: the default synthesizer's epochs stay within this range whatever the table's size.
DEFAULT_EPOCH_RANGE = (5, 300)
#: the default synthesizer's denoiser (smaller than a full synthetic copy's: a sampler is refitted in every fold).
DEFAULT_HIDDEN_DIMS = (128, 128)


def default_epochs(n_rows: int) -> int:
    """Epochs giving about :data:`DEFAULT_STEPS` training steps on ``n_rows`` rows (within
    :data:`DEFAULT_EPOCH_RANGE`): 300 up to 1,500 rows, 112 at 4,200, 50 at 10,000, 5 from 100,000."""
    batches = max(math.ceil(n_rows / DEFAULT_BATCH_SIZE), 1)
    low, high = DEFAULT_EPOCH_RANGE
    return int(min(max(math.ceil(DEFAULT_STEPS / batches), low), high))


def default_synthesizer(images: bool = False, n_rows: int | None = None, private: bool = False, **params: Any) -> Any:
    """The synthesizer used when none is given.

    Tables: the diffusion model with a small denoiser, trained for a step budget scaled to the
    table (:func:`default_epochs` of ``n_rows``; 100 epochs when the size is not known), chosen on
    the dev tables of ``benchmarks/bench_oversampling.py`` (with the sampler's classifier selection,
    the best PR-AUC there at 1-10 s per ``fit_resample``). Under DP (``private``): the model the
    private ``auto`` choice fits (:data:`synthaug.synthesizers.auto.PRIVATE_CHOICE`) with its own
    defaults, since its epochs set the privacy schedule. Images: the coupling flow (the best
    classification accuracy score on digits, see ``benchmarks/bench_images.py``). ``params`` go to
    the synthesizer (``verbose``, ``dp``, ``schema``, ``epochs``, ...).
    """
    from .synthesizers.registry import get_synthesizer

    if images:
        return get_synthesizer("image_flow", **params)
    if private:
        from .synthesizers.auto import PRIVATE_CHOICE

        return get_synthesizer(PRIVATE_CHOICE, **params)
    settings = {"epochs": default_epochs(n_rows) if n_rows else 100, "batch_size": DEFAULT_BATCH_SIZE}
    return get_synthesizer("diffusion", **{**settings, "hidden_dims": DEFAULT_HIDDEN_DIMS, **params})


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


def stack_rows(X: Any, parts: list[Any]) -> Any:
    """``X`` followed by the synthetic ``parts``, in ``X``'s dtypes (frames: the new rows get a fresh index)."""
    if isinstance(X, pd.DataFrame):
        new = pd.concat(parts, ignore_index=True)
        new.index = pd.RangeIndex(len(X), len(X) + len(new))
        return pd.concat([X, new.astype(X.dtypes.to_dict())], axis=0)
    X = np.asarray(X)
    return np.concatenate([X] + [np.asarray(p).astype(X.dtype, copy=False) for p in parts])


def append_rows(X: Any, y: np.ndarray, parts_X: list[Any], parts_y: list[np.ndarray]) -> tuple[Any, np.ndarray]:
    """The real rows and labels followed by the synthetic parts."""
    if not parts_X:
        return X, y
    y_res = np.concatenate([np.asarray(y)] + [np.asarray(p, dtype=np.asarray(y).dtype) for p in parts_y])
    return stack_rows(X, parts_X), y_res


class GenerativeOverSampler(BaseOverSampler):
    """Oversample classes with rows drawn from a trained synthesizer.

    ``fit_resample(X, y)`` returns the original rows followed by synthetic rows in the
    counts that imbalanced-learn's ``sampling_strategy_`` asks for. Every synthetic row
    is generated for its class (exact conditional sampling): no relabelling, no rejection.

    Images: with an image synthesizer (or none, and ``X`` of shape ``(n, H, W)`` or
    ``(n, C, H, W)``) ``X`` holds images and the synthetic images are appended to them.

    Parameters:
        synthesizer: an unfitted synthaug synthesizer (cloned for every fit); default
            :func:`default_synthesizer` (the diffusion model for tables, the image flow for images). With
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
        selection: ``"classifier"`` draws ``candidates_per_row`` times the rows wanted per class and
            keeps those a gradient-boosting classifier fitted on the real rows gives the highest
            probability of their class (dropping generated rows that fall deep in another class's
            region; see :mod:`synthaug.selection`); ``None`` keeps every generated row; ``"auto"``
            (default) is ``"classifier"`` for tables without DP and ``None`` for images and under DP
            (where ``"classifier"`` is refused: the classifier reads the exact private rows).
        candidates_per_row: candidates drawn per kept row when selecting (>= 1; default 3, the best of 1, 2,
            3 and 5 on the dev tables).
        random_state: seed for the synthesizers and the selection classifier (overrides theirs).
        cache: with an integer ``random_state`` and no DP, reuse the result of an earlier
            ``fit_resample`` in this process on equal data with equal settings, which a refit would
            reproduce exactly (see :mod:`synthaug.fit_cache`): a ``GridSearchCV`` over the
            classifier then fits the generator once per training fold, not once per candidate.

    Attributes:
        sampling_strategy_: dict of rows generated per class (from the noisy counts under DP).
        synthesizers_: the fitted synthesizer(s) (dict ``{class: synthesizer}`` in per-class mode).
        selection_: ``{"method", "candidates", "kept"}`` (rows per class) when rows were selected, else ``None``.
        privacy_spent_: the privacy report of the synthesizer, saying what it covers.

    A class with a single row can be resampled, but its synthetic rows can only echo
    that row; a target with one class is an error.
    """

    _parameter_constraints: dict = {
        **BaseOverSampler._parameter_constraints,
        "synthesizer": [HasMethods(["fit", "sample"]), None],
        "mode": [StrOptions({"conditional", "per_class"})],
        "random_state": ["random_state"],
        "selection": [StrOptions({"auto", "classifier"}), None],
        "candidates_per_row": [Interval(numbers.Real, 1, None, closed="left")],
        "cache": ["boolean"],
    }

    def __init__(
        self,
        *,
        synthesizer: Any = None,
        sampling_strategy: Any = "auto",
        mode: str = "conditional",
        selection: str | None = "auto",
        candidates_per_row: float = 3.0,
        random_state: Any = None,
        cache: bool = True,
    ) -> None:
        super().__init__(sampling_strategy=sampling_strategy)
        self.synthesizer = synthesizer
        self.mode = mode
        self.selection = selection
        self.candidates_per_row = candidates_per_row
        self.random_state = random_state
        self.cache = cache

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

    def _new_synthesizer(self, seed: int, images: bool, n_rows: int) -> Any:
        synthesizer = clone(self.synthesizer) if self.synthesizer is not None else default_synthesizer(images, n_rows)
        if "random_state" in synthesizer.get_params():
            synthesizer.set_params(random_state=seed)
        return synthesizer

    def _fit_resample(self, X: Any, y: np.ndarray) -> tuple[Any, np.ndarray]:
        if pd.isna(pd.Series(y)).any():
            raise DataValidationError("y contains missing values")
        classes = np.unique(y)
        if classes.size < 2:
            raise DataValidationError(f"y has a single class ({classes[0]!r}); there is nothing to balance")
        private = self._is_private()
        if private and self.mode == "per_class":
            raise PrivacyError(
                "mode='per_class' is refused under differential privacy: each per-class fit's schedule (sample rate, "
                "steps, default delta) is a function of that class's exact size; use mode='conditional', which fits "
                "one private model on all rows and draws the synthetic counts from its noisy class histogram"
            )
        wanted = {label: int(n) for label, n in self.sampling_strategy_.items() if int(n) > 0}
        images = not isinstance(X, pd.DataFrame) and np.ndim(X) > 2
        select = self._selecting(images, private)
        draw = {label: int(np.ceil(n * self.candidates_per_row)) for label, n in wanted.items()} if select else wanted
        key = None if private else self._cache_key(X, y, wanted, images)
        cached = FIT_CACHE.get(key) if key is not None else None
        if cached is None:
            rng = check_random_state(self.random_state)
            cached = self._generate(X, y, draw, images, private, rng)
            if select:
                cached = self._select(X, y, cached, wanted, rng.randint(np.iinfo(np.int32).max))
            if key is not None:
                FIT_CACHE.put(key, cached)
        self.synthesizers_, parts_X, parts_y = cached
        self.selection_ = None
        if select:
            self.selection_ = {"method": SELECTION_METHOD, "candidates": draw, "kept": wanted}
        self.privacy_spent_ = self._privacy_report()
        return append_rows(X, y, parts_X, parts_y)

    def _cache_key(self, X: Any, y: np.ndarray, wanted: dict[Any, int], images: bool) -> str | None:
        """The fit cache's key (see :mod:`synthaug.fit_cache`), or ``None`` when this fit is not cached."""
        if not cacheable(self.cache, self.random_state):
            return None
        synthesizer = self.synthesizer if self.synthesizer is not None else default_synthesizer(images, len(y))
        counts = sorted((repr(label), n) for label, n in wanted.items())
        # the sampler's class and every parameter (a subclass's too), the synthesizer actually used, the counts
        settings = (estimator_digest(self), estimator_digest(synthesizer), counts)
        return fit_key("oversample", data_digest(X), data_digest(y), *settings)

    def _selecting(self, images: bool, private: bool) -> bool:
        """Whether candidates are filtered by a real-data classifier (see :mod:`synthaug.selection`)."""
        if self.selection is None:
            return False
        if self.selection == "classifier" and private:
            raise PrivacyError(
                "selection='classifier' is refused under differential privacy: its classifier is trained on the exact "
                "private rows, so which synthetic rows are kept would depend on them outside the noise; use "
                "selection=None or 'auto' (which selects nothing under dp)"
            )
        if self.selection == "classifier" and images:
            raise ParameterError("selection='classifier' applies to tables only; for images use selection=None or 'auto'")
        return not (private or images)

    def _select(
        self, X: Any, y: np.ndarray, generated: tuple[Any, list[Any], list[np.ndarray]], wanted: dict[Any, int], seed: int
    ) -> tuple[Any, list[Any], list[np.ndarray]]:
        """Keep, per class, the wanted number of candidates the real-data classifier agrees with most."""
        synthesizers, parts_X, parts_y = generated
        if not parts_X:
            return generated
        is_frame = isinstance(X, pd.DataFrame)
        candidates = pd.concat(parts_X, ignore_index=True) if is_frame else np.concatenate([np.asarray(p) for p in parts_X])
        labels = np.concatenate([np.asarray(p) for p in parts_y])
        keep = most_agreed(agreement_scores(X, y, candidates, labels, seed), labels, wanted)
        return synthesizers, [candidates.iloc[keep] if is_frame else candidates[keep]], [labels[keep]]

    def _generate(
        self, X: Any, y: np.ndarray, wanted: dict[Any, int], images: bool, private: bool, rng: np.random.RandomState
    ) -> tuple[Any, list[Any], list[np.ndarray]]:
        """Fit the synthesizer(s) and draw the wanted rows: ``(synthesizers, parts of X, parts of y)``."""
        is_frame = isinstance(X, pd.DataFrame)
        parts_X: list[Any] = []
        parts_y: list[np.ndarray] = []
        if not (private or (wanted and self.mode == "conditional")):
            fitted = {}
            for label, count in wanted.items():
                rows = np.asarray(y) == label
                synthesizer = self._new_synthesizer(rng.randint(np.iinfo(np.int32).max), images, int(rows.sum()))
                synthesizer.fit(X.loc[rows] if is_frame else X[rows])
                parts_X.append(synthesizer.sample(count))
                parts_y.append(np.full(count, label, dtype=np.asarray(y).dtype))
                fitted[label] = synthesizer
            return fitted, parts_X, parts_y
        synthesizer = self._new_synthesizer(rng.randint(np.iinfo(np.int32).max), images, len(y))
        synthesizer.fit(X, pd.Series(y, name="__class__") if is_frame else y)
        if private:  # the counts to add come from the noisy class histogram, never the exact counts
            self.sampling_strategy_ = private_sampling_strategy(self.sampling_strategy, synthesizer.noisy_class_counts_)
            wanted = {label: n for label, n in self.sampling_strategy_.items() if n > 0}
        labels = np.repeat(np.array(list(wanted), dtype=object), list(wanted.values()))
        labels = labels.astype(np.asarray(y).dtype) if np.asarray(y).dtype.kind != "O" else labels
        if len(labels):
            X_new, y_new = synthesizer.sample(len(labels), y=labels)
            parts_X.append(X_new)
            parts_y.append(np.asarray(y_new))
        return synthesizer, parts_X, parts_y

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
