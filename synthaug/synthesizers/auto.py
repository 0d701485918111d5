"""``model="auto"``: pick the synthesizer by measurement on the user's own table.

Without DP, :class:`AutoSynthesizer` holds back ``validation_share`` of the rows, fits every
candidate on the rest (each within its share of ``time_budget``), scores a synthetic sample of
each against the held-back rows, refits the winner on all rows and from then on behaves as the
winner (``sample``, ``iter_samples``, ``save`` and the fitted attributes are the winner's).

The score is the winner's *gap* to a perfect copy, lower is better:

* ``detection AUC - 0.5``: how well a gradient-boosting classifier tells the synthetic rows
  from the held-back real ones (0 = indistinguishable; held-back rows, not training rows, so
  a model that copies its training rows gains nothing);
* plus, with a target (``y`` or ``target``), ``max(0, 1 - TSTR/TRTR)``: the ROC AUC (R² for
  a numeric target) lost by training a classifier on synthetic instead of real training rows,
  both tested on the held-back rows.

Under DP the selection would read private rows outside the guarantee, so a fixed, documented
choice is fitted instead: :data:`PRIVATE_CHOICE` (the best model of ``benchmarks/bench_dp.py``)
when it is a candidate, else the first candidate.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator, Sequence
from numbers import Real
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted

from ..exceptions import IdentifierColumnWarning, ParameterError, RareCategoryWarning
from ..identifiers import identifier_columns
from ..parquet_source import is_parquet_path
from ..rare_categories import merge_as_seen, merge_rare_categories
from ..schema import TableSchema, infer_schema
from ..training.callbacks import TimeLimit
from ..transform.tabular import as_frame
from .core import SynthesizerCore, draw_seed
from .params import POSITIVE, POSITIVE_INT, param
from .registry import available_synthesizers, synthesizer_class

#: tried by default, in this order (ties go to the first)
DEFAULT_CANDIDATES = ("autoregressive", "diffusion", "flow")
#: fitted under DP: the flow has the best TSTR at epsilon 3 in benchmarks/results/dp_20261203T122205Z_e20.md
#: (cps1988: 0.903, diffusion 0.890)
PRIVATE_CHOICE = "flow"
#: not selectable: images, auto itself, and the marginal model (it takes no epochs or callbacks, which the
#: selection passes; whether it should replace the flow as the DP choice is to be measured in bench_dp.py)
_NOT_CANDIDATES = {"auto", "image_gan", "image_vae", "image_flow", "marginal"}


class AutoSynthesizer(SynthesizerCore):
    """The best of several synthesizers on this table, chosen by a held-out score (see module docstring).

    Parameters:
        candidates: registry names to try (default: autoregressive, diffusion, flow).
        time_budget: seconds for fitting all candidates during the selection (each gets an equal
            share and stops after the epoch that passes it; the refit of the winner comes on top);
            ``None``: every candidate trains all its epochs, which makes the choice reproducible
            for a fixed ``random_state`` on any machine.
        validation_share: share of rows held back to score the candidates.
        target: column whose prediction the TSTR part of the score measures (``y`` of ``fit``
            is used when given); ``None`` and no ``y``: detection only.
        epochs, batch_size: passed to every candidate when given (``None``: each model's default).
        schema, min_category_count, max_categories, dp, device, verbose, callbacks, random_state:
            passed to the candidates.

    Fitted attributes: ``model_`` (the refitted winner), ``selection_`` (every candidate's
    scores, fit seconds and epochs, the winner and why).
    """

    model_name = "auto"

    candidates: Sequence[str] = param(DEFAULT_CANDIDATES, list, tuple)
    time_budget: float | None = param(300.0, None, POSITIVE)
    validation_share: float = param(0.3, Interval(Real, 0.05, 0.5, closed="both"))
    target: str | None = param(None, None, str)
    epochs: int | None = param(None, None, POSITIVE_INT)
    batch_size: int | None = param(None, None, POSITIVE_INT)
    callbacks: Sequence[Any] | None = param(None, None, list, tuple)
    schema: Any = param(None, None, object)
    min_category_count: int = param(3, POSITIVE_INT)
    max_categories: int | None = param(50, None, POSITIVE_INT)

    def _check_model_params(self) -> None:
        names = list(self.candidates)
        allowed = [n for n in available_synthesizers() if n not in _NOT_CANDIDATES]
        unknown = [n for n in names if n not in allowed]
        if not names or unknown:
            raise ParameterError(f"candidates must name table synthesizers from {allowed}, got {names}")

    # ------------------------------------------------------------------ fit
    def fit(self, X: Any, y: Any = None) -> AutoSynthesizer:
        """Choose among the candidates on a split of the rows, then refit the winner on all of them."""
        if is_parquet_path(X):
            raise ParameterError(
                "model='auto' selects on an in-memory split and cannot train from a Parquet path; load the table "
                f"(fit(pandas.read_parquet({str(X)!r}))) or name a model that trains from the file in chunks (flow, tvae)"
            )
        rng, dp = self._begin_fit()
        if dp is not None:
            name = PRIVATE_CHOICE if PRIVATE_CHOICE in self.candidates else self.candidates[0]
            reason = "fixed choice under DP (selecting by a score would read private rows outside the guarantee)"
            self.selection_ = {"chosen": name, "reason": reason, "candidates": {}}
            self.model_ = self._candidate(name, draw_seed(rng)).fit(X, y)
            return self
        frame, target = self._labelled_frame(X, y)
        train, held_out = self._split(frame, target, rng)
        seed = draw_seed(rng)
        view = self._modelled_view(train, held_out, target if y is not None else None)
        scores = {name: self._try(name, seed, train, held_out, target, y is not None, view) for name in self.candidates}
        name = min(scores, key=lambda n: scores[n]["gap"])
        self.selection_ = {"chosen": name, "reason": _reason(name, scores), "candidates": scores}
        self.model_ = self._candidate(name, seed, epochs=scores[name]["epochs"]).fit(X, y)
        if self.verbose:
            print(f"auto: {self.selection_['reason']}")
        return self

    def _candidate(self, name: str, seed: int, *, epochs: int | None = None, budget: float | None = None) -> Any:
        cls = synthesizer_class(name)
        params: dict[str, Any] = {"random_state": seed, "dp": self.dp, "device": self.device, "verbose": self.verbose}
        params.update({k: getattr(self, k) for k in ("epochs", "batch_size", "schema") if getattr(self, k) is not None})
        params.update(min_category_count=self.min_category_count, max_categories=self.max_categories)
        if epochs is not None:
            params["epochs"] = epochs
        callbacks = list(self.callbacks or ()) + ([TimeLimit(budget)] if budget is not None else [])
        params["callbacks"] = callbacks or None
        return cls(**{k: v for k, v in params.items() if k in cls._get_param_names()})

    def _labelled_frame(self, X: Any, y: Any) -> tuple[pd.DataFrame, str | None]:
        frame, _ = as_frame(X)
        frame.columns = [str(c) for c in frame.columns]
        if y is not None:
            name = str(getattr(y, "name", None) or "target")
            while name in frame.columns:
                name = f"_{name}"
            frame[name] = np.asarray(y)
            return frame, name
        if self.target is not None and self.target not in frame.columns:
            raise ParameterError(f"target {self.target!r} is not a column; columns are {list(frame.columns)}")
        return frame, self.target

    def _split(self, frame: pd.DataFrame, target: str | None, rng: np.random.RandomState) -> tuple[pd.DataFrame, pd.DataFrame]:
        stratify = None
        if target is not None and infer_schema(frame[[target]])[target].is_discrete:
            counts = frame[target].value_counts()
            stratify = frame[target] if counts.min() >= 2 else None
        train, held_out = train_test_split(frame, test_size=self.validation_share, random_state=draw_seed(rng), stratify=stratify)
        return train.reset_index(drop=True), held_out.reset_index(drop=True)

    def _modelled_view(self, train: pd.DataFrame, held_out: pd.DataFrame, label: str | None) -> tuple[pd.DataFrame, pd.DataFrame]:
        """``train`` and ``held_out`` as the candidates model them: text categories that they merge
        into ``"_RARE_"`` (rare, surplus, free text) merged alike and identifier columns left out, so the scores compare what is
        modelled (free text would make every candidate's detection AUC 1) and a 5,000-level column
        costs the scoring classifiers 51 one-hot columns, not 5,000. ``label``: the column of ``y``
        (its classes are kept, as the candidates keep them)."""
        schema = self.schema
        if schema is not None and not isinstance(schema, TableSchema):
            schema = TableSchema.from_dict(schema)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RareCategoryWarning)  # the candidates' fits give these warnings
            warnings.simplefilter("ignore", IdentifierColumnWarning)
            limits = {"min_count": self.min_category_count, "max_categories": self.max_categories}
            ids = identifier_columns(train, schema, private=False, exclude=(label,) if label else ())
            kept = [c for c in train.columns if c not in ids]  # fresh by design: nothing to score
            merged = merge_rare_categories(train[kept], schema, **limits, exclude={label} if label else set())
        return merged, merge_as_seen(held_out[kept], merged)

    def _try(
        self,
        name: str,
        seed: int,
        train: pd.DataFrame,
        held_out: pd.DataFrame,
        target: str | None,
        as_y: bool,
        view: tuple[pd.DataFrame, pd.DataFrame],
    ) -> dict[str, Any]:
        """Fit candidate ``name`` on ``train`` and score its sample against ``held_out`` (in the modelled ``view``)."""
        budget = None if self.time_budget is None else self.time_budget / len(self.candidates)
        model = self._candidate(name, seed, budget=budget)
        start = time.perf_counter()
        if as_y:
            model.fit(train.drop(columns=[target]), train[target])
            X_syn, y_syn = model.sample(len(held_out))
            synthetic = X_syn.assign(**{target: np.asarray(y_syn)})
        else:
            model.fit(train)
            synthetic = model.sample(len(held_out))
        seconds = time.perf_counter() - start
        return {"fit_seconds": seconds, "epochs": len(model.history_), **_scores(*view, synthetic, target, seed)}

    # ------------------------------------------------------------------ the winner's interface
    def sample(self, n_samples: int, **kwargs: Any) -> Any:
        """The winner's :meth:`~synthaug.synthesizers.base.BaseSynthesizer.sample`."""
        check_is_fitted(self, "model_")
        return self.model_.sample(n_samples, **kwargs)

    def iter_samples(self, n_samples: int, **kwargs: Any) -> Iterator[Any]:
        """The winner's :meth:`~synthaug.synthesizers.base.BaseSynthesizer.iter_samples`."""
        check_is_fitted(self, "model_")
        return self.model_.iter_samples(n_samples, **kwargs)

    def save(self, path: str, *, overwrite: bool = False) -> str:
        """Save the winner (loading the file gives the chosen model's class)."""
        check_is_fitted(self, "model_")
        return self.model_.save(path, overwrite=overwrite)

    def capable_candidates(self, columns: list[str], numeric: list[str]) -> list[str]:
        """The candidates that can condition on ``columns`` (``numeric``: the numeric ones)."""
        return [n for n in self.candidates if synthesizer_class(n).condition_support_problem(columns, numeric) is None]

    @classmethod
    def condition_support_problem(cls, columns: list[str], numeric: list[str]) -> str | None:
        """None: the CLI narrows ``candidates`` to the models that take the conditions."""
        return None

    def __getattr__(self, name: str) -> Any:
        # fitted attributes of the winner (privacy_spent_, schema_, history_, ...) read through
        model = self.__dict__.get("model_")
        if model is not None and name.endswith("_") and not name.startswith("__"):
            return getattr(model, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")


def _scores(
    train: pd.DataFrame, held_out: pd.DataFrame, synthetic: pd.DataFrame, target: str | None, seed: int
) -> dict[str, Any]:
    """Detection AUC against the held-out rows and, with a target, TSTR/TRTR on them; their gap."""
    from threadpoolctl import threadpool_limits

    from ..evaluation import detection_auc, train_synthetic_test_real

    synthetic = synthetic[list(held_out.columns)]
    with threadpool_limits(1):  # gradient boosting's threads crawl after torch's on a small machine
        detection = float(detection_auc(held_out, synthetic, random_state=seed).value)
        result: dict[str, Any] = {"detection_auc": detection, "gap": detection - 0.5}
        if target is not None:
            utility = train_synthetic_test_real(train, synthetic, real_holdout=held_out, target=target, random_state=seed)
            ratio = float(utility.details["ratio"])
            result.update(tstr=float(utility.value), tstr_over_trtr=ratio, gap=detection - 0.5 + max(0.0, 1.0 - ratio))
    return result


def _reason(name: str, scores: dict[str, dict[str, Any]]) -> str:
    def describe(n: str) -> str:
        s = scores[n]
        utility = f", TSTR/TRTR {s['tstr_over_trtr']:.2f}" if "tstr_over_trtr" in s else ""
        return f"{n} (gap {s['gap']:.3f}: detection AUC {s['detection_auc']:.3f}{utility})"

    others = [describe(n) for n in scores if n != name]
    return f"chose {describe(name)}" + (f" over {', '.join(others)}" if others else "") + " on held-out rows"


__all__ = ["DEFAULT_CANDIDATES", "PRIVATE_CHOICE", "AutoSynthesizer"]
