"""The table side of the skeleton: input handling, schema, transformer, conditions, output.

A synthesizer learns a distribution with ``fit(X, y=None)`` and draws from it
with ``sample(n_samples, *, y=None, conditions=None, random_state=None)``.
``sample`` returns the container ``fit`` received: a DataFrame with the same
columns and dtypes, or an array; with ``y`` given to ``fit`` it returns ``(X, y)``.

Subclasses implement ``_fit_encoded`` and ``_sample_encoded`` (the networks and their
persistence come with :class:`~synthaug.synthesizers.conditioning.NetworkPersistence`);
the shared skeleton (parameters, training runner, ledger, persistence of the shared
state) is :class:`~synthaug.synthesizers.core.SynthesizerCore`.
"""

from __future__ import annotations

import warnings
from abc import abstractmethod
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd
import torch
from sklearn.utils.validation import check_is_fitted

from ..exceptions import ConditionError, CopyRiskWarning, DataValidationError, ParameterError, SchemaError, SynthaugWarning
from ..identifiers import IdentifierDraw, IdentifierFormat, identifier_columns, learn_formats
from ..parquet_source import is_parquet_path
from ..privacy.ledger import public_history
from ..rare_categories import merge_rare_categories
from ..schema import ColumnSpec, TableSchema, dtype_schema, infer_schema, sorted_categories
from ..transform.tabular import TabularTransformer, as_frame
from .condition_support import support_problem
from .condition_values import NumericRange, clip_to_range, numeric_range
from .core import SynthesizerCore, block_seed, check_n_samples, draw_seed
from .params import POSITIVE_INT, param

if TYPE_CHECKING:
    from ..privacy.plan import PrivateFit


DEFAULT_TARGET_NAME = "target"
#: a non-private fit on fewer rows warns that its output can only echo the input
MIN_FIT_ROWS = 50

#: one column's condition as the model sees it: per-row category slots, or a numeric range
Condition = np.ndarray | NumericRange


def warn_if_tiny(n_rows: int) -> None:
    """A :class:`~synthaug.exceptions.CopyRiskWarning` for a fit on fewer than ``MIN_FIT_ROWS`` rows."""
    if n_rows < MIN_FIT_ROWS:
        warnings.warn(
            f"fitting on {n_rows} row(s), fewer than {MIN_FIT_ROWS}: a model of so few rows can only echo them, and "
            "synthetic rows may be copies of real ones (check with synthaug.evaluation.evaluate before sharing)",
            CopyRiskWarning,
            stacklevel=4,
        )


def _text_for_mixed_types(frame: pd.DataFrame) -> pd.DataFrame:
    """Object columns that mix value types (``1``, ``"a"``, ``2.5``) as text, so that their values match
    the categories inferred from them; warns naming the columns."""
    mixed = [
        c
        for c in frame.columns
        if frame[c].dtype == object and pd.api.types.infer_dtype(frame[c], skipna=True).startswith("mixed")
    ]
    if not mixed:
        return frame
    warnings.warn(f"column(s) {mixed} mix value types; they are modelled and written back as text", SynthaugWarning, stacklevel=4)
    for column in mixed:
        values = frame[column]
        frame[column] = values.astype(str).where(values.notna(), None)
    return frame


def _match_text(values: pd.Series, categories: list[Any]) -> pd.Series:
    """Map text values (e.g. from a command line) onto non-text categories by their string form."""
    uniques = pd.unique(values)
    if not all(isinstance(v, str) for v in uniques):
        return values
    by_text = {str(c): c for c in categories}
    known = {c for c in categories if isinstance(c, str)}
    mapping = {v: (v if v in known else by_text.get(v, v)) for v in uniques}
    return values.map(mapping)


class BaseSynthesizer(SynthesizerCore):
    """Base class of tabular synthesizers (see module docstring)."""

    transformer_class: ClassVar[type] = TabularTransformer
    sample_chunk_size: ClassVar[int] = 8192
    #: whether ``sample`` conditions on several columns at once / on numeric values and ranges
    multi_column_conditions: ClassVar[bool] = False
    range_conditions: ClassVar[bool] = False

    schema: TableSchema | Mapping[str, Any] | None = param(None, None, TableSchema, Mapping)
    min_category_count: int = param(3, POSITIVE_INT)
    max_categories: int | None = param(50, None, POSITIVE_INT)

    # ------------------------------------------------------------------ hooks for subclasses
    @abstractmethod
    def _fit_encoded(
        self, data: np.ndarray, rng: np.random.RandomState, private: PrivateFit | None = None
    ) -> dict[str, Any] | None:
        """Train the networks on the transformer's encoding of the training rows.

        ``private`` is a :class:`~synthaug.privacy.PrivateFit` for a differentially private
        fit (then the method trains with DP-SGD and returns the privacy ledger), else None.
        """

    @abstractmethod
    def _sample_encoded(self, n_samples: int, conditions: dict[str, np.ndarray], generator: torch.Generator) -> np.ndarray:
        """Draw rows in the transformer's encoding; ``conditions`` maps columns to per-row category
        slots (and, for a model with ``range_conditions``, numeric columns to :class:`NumericRange` s)."""

    @abstractmethod
    def _network_state(self) -> dict[str, torch.Tensor]:
        """The fitted networks' tensors (and any other tensor state), as a flat dict to save."""

    @abstractmethod
    def _restore_networks(self, tensors: Mapping[str, torch.Tensor], state: Mapping[str, Any]) -> None:
        """Rebuild the networks from tensors written by :meth:`_network_state`."""

    @abstractmethod
    def _make_transformer(self, seed: int, schema: Any) -> Any:
        """The (unfitted) transformer that encodes rows for the networks."""

    def _encode_training_data(self, frame: pd.DataFrame, rng: np.random.RandomState) -> np.ndarray:
        return self.transformer_.transform(frame)

    # ------------------------------------------------------------------ fit
    def fit(self, X: Any, y: Any = None) -> BaseSynthesizer:
        """Learn the distribution of ``X`` (and of ``y`` jointly, when given). ``X`` may be the path
        of a Parquet file or folder: models that can (flow, TVAE) then train from it in chunks
        (:mod:`synthaug.synthesizers.streamed`)."""
        if is_parquet_path(X):
            return self._fit_parquet(X, y)
        rng, dp = self._begin_fit()
        frame = self._input_frame(X, y)
        frame, schema = self._set_identifiers_aside(frame, self._declared_schema(frame), private=dp is not None)
        if dp is None:  # under DP nothing below may depend on (or report on) the private values
            warn_if_tiny(len(frame))
            frame = _text_for_mixed_types(frame)
            limits = {"min_count": self.min_category_count, "max_categories": self.max_categories}
            frame = merge_rare_categories(frame, schema, **limits, exclude=self._class_columns())
            if self.target_column_ is not None and schema is None:
                # the target is a class label: always categorical, whatever its values look like
                schema = infer_schema(frame, {self.target_column_: {"kind": "categorical"}}, detect_identifiers=False)
            self.transformer_ = self._make_transformer(draw_seed(rng), schema).fit(frame)
            self.schema_ = self.transformer_.schema_
            ledger = self._fit_encoded(self._encode_training_data(frame, rng), rng)
        else:
            ledger = self._fit_private(frame, schema, dp, rng)
        self._end_fit(rng, ledger)
        return self

    def _fit_parquet(self, path: Any, y: Any) -> BaseSynthesizer:
        raise ParameterError(
            f"{type(self).__name__} cannot train from a Parquet path in chunks (only flow and tvae can); load the "
            f"table first: fit(pandas.read_parquet({str(path)!r}))"
        )

    def _set_identifiers_aside(
        self, frame: pd.DataFrame, schema: TableSchema | None, *, private: bool
    ) -> tuple[pd.DataFrame, TableSchema | None]:
        """Record the identifier columns' formats (``identifiers_``) and return the frame and
        schema without them: identifiers are not modelled (see :mod:`synthaug.identifiers`)."""
        exclude = (self.target_column_,) if self.target_column_ is not None else ()
        columns = identifier_columns(frame, schema, private=private, exclude=exclude)
        if self.target_column_ in columns:
            raise SchemaError(f"the target {self.target_column_!r} cannot have kind 'id': a class label is modelled")
        if len(columns) == frame.shape[1]:
            raise DataValidationError(f"every column is an identifier ({columns}); there is nothing to model")
        self.identifiers_ = learn_formats(frame, columns, private=private)
        if not columns:
            return frame, schema
        kept = frame.drop(columns=columns)
        return kept, TableSchema([schema[c] for c in kept.columns]) if schema is not None else None

    def _private_schema(self, frame: pd.DataFrame, schema: Any) -> TableSchema:
        """The schema of a DP fit: the declared one, else kinds from the pandas dtypes alone
        (never from the values); domains are public only where declared ``public=True``."""
        if schema is None:
            target = [self.target_column_] if self.target_column_ is not None else []
            return dtype_schema(frame, categorical=target)
        schema.check_frame(frame)
        return TableSchema([schema[c] for c in frame.columns])

    def _class_columns(self) -> set[str]:
        """Columns holding class labels: every label is kept, however rare (the column of ``y``)."""
        return {self.target_column_} if self.target_column_ is not None else set()

    def _label_column(self, schema: TableSchema) -> str | None:
        """The class column whose label set is public under DP: the column of ``y``."""
        return self.target_column_

    def _fit_private(self, frame: pd.DataFrame, schema: Any, dp: Any, rng: np.random.RandomState) -> dict[str, Any]:
        """Differentially private fit: private representation statistics, then DP-SGD.

        Every row is kept: values outside the released domain are mapped into it, so the
        rows trained on and the step count depend on the public row count only.
        """
        from ..privacy.plan import plan_private_fit

        schema = self._private_schema(frame, schema)
        public, labels = set(), {}
        label_column = self._label_column(schema)
        if label_column is not None:  # the label set given as y is public (its counts are not)
            public = {label_column}
            spec = schema[label_column]
            labels = {spec.name: spec.categories or sorted_categories(frame[spec.name].dropna().unique())}
        plan = plan_private_fit(frame, schema, dp, public_columns=public, public_categories=labels)
        if plan.replaced_columns:
            warnings.warn(
                f"column(s) {plan.replaced_columns} hold values outside the privately released domain (categories "
                "too rare to release at this budget, or missing values in a column released as complete); those "
                "values were replaced by draws from the released distribution. Declare the domain public in the "
                "schema to keep it. (This message depends on the private rows: it is for the data holder, "
                "outside the guarantee.)",
                stacklevel=3,
            )
        if self.target_column_ is not None:
            released = plan.domain.schema[self.target_column_].categories
            counts = plan.domain.slot_counts(self.target_column_)[: len(released)]
            self.noisy_class_counts_ = {label: float(c) for label, c in zip(released, counts, strict=True)}
        self.transformer_ = self._make_transformer(draw_seed(rng), plan.domain.schema).fit_released(plan.frame, plan.domain)
        self.schema_ = self.transformer_.schema_
        ledger = self._fit_encoded(self._encode_training_data(plan.frame, rng), rng, private=plan)
        if ledger is None:  # pragma: no cover - every synthesizer returns its ledger
            raise RuntimeError(f"{type(self).__name__} did not report its privacy spending")
        self.history_ = public_history(self.history_)
        return ledger

    def _input_frame(self, X: Any, y: Any) -> pd.DataFrame:
        """Record the input container and return one DataFrame holding X (and y)."""
        if X is None:
            raise DataValidationError("X is None; fit needs a table")
        if isinstance(X, pd.DataFrame) and X.shape[0] == 0:
            raise DataValidationError("the table has no rows")
        if isinstance(X, pd.DataFrame) and X.shape[1] == 0:
            raise DataValidationError("the table has no columns")
        frame, is_frame = as_frame(X)
        self.input_kind_ = "dataframe" if is_frame else "ndarray"
        self.columns_ = list(X.columns) if is_frame else list(frame.columns)
        self.n_features_in_ = frame.shape[1]
        if is_frame:
            self.feature_names_in_ = np.asarray([str(c) for c in X.columns], dtype=object)
        self.target_column_ = None
        self.target_kind_ = None
        self.target_name_ = None
        if y is not None:
            y_series = pd.Series(y.to_numpy() if isinstance(y, pd.Series) else np.asarray(y))
            if y_series.ndim != 1 or len(y_series) != len(frame):
                raise DataValidationError(f"y must be 1-D with {len(frame)} entries, got shape {np.shape(y)}")
            if y_series.isna().any():
                raise DataValidationError("y contains missing values")
            name = str(y.name) if isinstance(y, pd.Series) and y.name is not None else DEFAULT_TARGET_NAME
            while name in frame.columns:
                name = f"_{name}"
            self.target_column_ = name
            self.target_kind_ = "series" if isinstance(y, pd.Series) else "ndarray"
            self.target_name_ = y.name if isinstance(y, pd.Series) else None
            frame[name] = y_series.to_numpy()
        return frame

    def _declared_schema(self, frame: pd.DataFrame) -> TableSchema | None:
        """The ``schema`` parameter as a :class:`TableSchema`, with the class column of ``y``
        added as categorical (its label set comes from ``y``) when the schema leaves it out."""
        schema = self.schema
        if schema is None:
            return None
        schema = schema if isinstance(schema, TableSchema) else TableSchema.from_dict(schema)
        if self.target_column_ is not None and self.target_column_ not in schema:
            target = ColumnSpec(self.target_column_, "categorical", str(frame[self.target_column_].dtype))
            schema = TableSchema([*schema.columns, target])
        return schema

    # ------------------------------------------------------------------ sample
    def sample(
        self,
        n_samples: int,
        *,
        y: Any = None,
        conditions: Mapping[str, Any] | None = None,
        random_state: int | np.random.RandomState | None = None,
    ) -> Any:
        """Draw ``n_samples`` synthetic rows.

        Args:
            n_samples: number of rows.
            y: class label(s) to condition on (a scalar, or one per row); needs ``fit(X, y)``.
            conditions: ``{column: value}``: for a categorical or boolean column a scalar or one
                value per row; for a numeric column (models with ``range_conditions``) a value, a
                ``(low, high)`` pair (``None`` for an open end) or ``"low..high"``. Every returned
                row satisfies every condition exactly. Models without ``multi_column_conditions``
                take one conditioned column (``y`` included) per call.
            random_state: seed for this call; without it, successive calls continue one
                reproducible stream started by ``fit``'s ``random_state``.
        """
        n = check_n_samples(n_samples)
        return next(self.iter_samples(n, chunk_size=n, y=y, conditions=conditions, random_state=random_state))

    def iter_samples(
        self,
        n_samples: int,
        *,
        chunk_size: int = 65_536,
        y: Any = None,
        conditions: Mapping[str, Any] | None = None,
        random_state: int | np.random.RandomState | None = None,
    ) -> Iterator[Any]:
        """:meth:`sample` in chunks of at most ``chunk_size`` rows, so memory stays bounded.

        ``chunk_size`` is rounded up to a multiple of the networks' internal batch, so the
        chunks, concatenated, are exactly ``sample(n_samples, ...)`` with the same arguments.
        """
        check_is_fitted(self, "transformer_")
        n = check_n_samples(n_samples)
        step = self.sample_chunk_size
        chunk_size = -(-check_n_samples(chunk_size, "chunk_size") // step) * step
        cond_codes = self._condition_codes(n, y, conditions)
        generator = self._sampling_generator(random_state)
        identifiers = self._identifier_draws(n, generator)
        for start in range(0, n, chunk_size):
            stop = min(n, start + chunk_size)
            codes = {c: v if isinstance(v, NumericRange) else v[start:stop] for c, v in cond_codes.items()}
            yield self._output(self._rows(codes, generator, identifiers, start, stop))

    def iter_blocks(
        self,
        n_samples: int,
        blocks: range,
        *,
        block_rows: int,
        random_state: int,
        conditions: Mapping[str, Any] | None = None,
    ) -> Iterator[pd.DataFrame]:
        """Blocks ``blocks`` of the *block-seeded* stream of ``n_samples`` rows, one frame each
        (the target column, if any, included under its name).

        Block ``b`` holds rows ``b * block_rows`` up to ``(b + 1) * block_rows`` and is drawn with
        a seed derived from ``(random_state, b)`` alone, so any split of the blocks among workers
        yields the same rows (:mod:`synthaug.distributed`); identifiers come from one draw of
        ``n_samples`` fresh values placed by ``random_state``, so they are unique across blocks.
        Conditions are scalars (the same for every row). This stream differs from :meth:`sample`'s.
        """
        check_is_fitted(self, "transformer_")
        n = check_n_samples(n_samples)
        identifiers = self._identifier_draws(n, self._sampling_generator(random_state))
        for block in blocks:
            start, stop = block * block_rows, min(n, (block + 1) * block_rows)
            if start >= stop:
                raise ParameterError(f"block {block} of {block_rows} rows starts beyond n_samples={n}")
            codes = self._condition_codes(stop - start, None, conditions)
            generator = self._sampling_generator(block_seed(random_state, block))
            frame = self._rows(codes, generator, identifiers, start, stop)
            yield self._output_frame(frame)

    def _rows(
        self,
        codes: Mapping[str, Condition],
        generator: torch.Generator,
        identifiers: Mapping[str, IdentifierDraw],
        start: int,
        stop: int,
    ) -> pd.DataFrame:
        """Rows ``start:stop`` of a draw, decoded, in range, with their identifiers (columns as fitted)."""
        encoded = self._sample_encoded(stop - start, codes, generator)
        frame = self._held_in_ranges(self.transformer_.inverse_transform(encoded), codes)
        return self._with_identifiers(frame, identifiers, start, stop)

    def _identifier_draws(self, n: int, generator: torch.Generator) -> dict[str, IdentifierDraw]:
        """One draw of ``n`` fresh identifiers per identifier column, placed by ``generator``."""
        draws = {}
        for column, fmt in self.identifiers_.items():
            u = float(torch.rand((), generator=generator, device=generator.device, dtype=torch.float64))
            draws[column] = fmt.draw(n, u)
        return draws

    def _with_identifiers(self, frame: pd.DataFrame, draws: Mapping[str, IdentifierDraw], start: int, stop: int) -> pd.DataFrame:
        """``frame`` with the identifier columns (rows ``start:stop`` of their draws) in their input places."""
        if not draws:
            return frame
        for column, draw in draws.items():
            frame[column] = draw.values(start, stop).to_numpy()
        order = [str(c) for c in self.columns_] + ([self.target_column_] if self.target_column_ is not None else [])
        return frame[order]

    def _condition_codes(self, n: int, y: Any, conditions: Mapping[str, Any] | None) -> dict[str, Condition]:
        """Per-row category slots of discrete conditions and :class:`NumericRange` s of numeric ones."""
        requested: dict[str, Any] = {}
        if conditions:
            if not isinstance(conditions, Mapping):
                raise ConditionError(f"conditions must be a mapping of column to value, got {type(conditions).__name__}")
            for key, value in conditions.items():
                requested[str(key)] = value
        if y is not None:
            if self.target_column_ is None:
                raise ConditionError("sample(y=...) needs a synthesizer fitted with fit(X, y)")
            requested[self.target_column_] = y
        for column in requested:
            if column in self.identifiers_:
                raise ConditionError(f"condition on {column!r}: it is an identifier column (not modelled, fresh values)")
            if column not in self.schema_:
                raise ConditionError(f"condition on unknown column {column!r}; columns are {self.schema_.names}")
        numeric = [c for c in requested if not self.schema_[c].is_discrete]
        problem = type(self).condition_support_problem(list(requested), numeric)
        if problem:
            raise ConditionError(problem)
        return {
            column: numeric_range(self.schema_[column], value) if column in numeric else self._category_codes(column, value, n)
            for column, value in requested.items()
        }

    @classmethod
    def condition_support_problem(cls, columns: list[str], numeric: list[str]) -> str | None:
        """Why this model cannot condition on ``columns`` (``numeric``: those of them that are
        numeric), or ``None`` when it can; needs no fitted model (the CLI asks before training)."""
        return support_problem(cls.__name__, cls.multi_column_conditions, cls.range_conditions, columns, numeric)

    def _category_codes(self, column: str, value: Any, n: int) -> np.ndarray:
        """Slot of every row's requested category of discrete ``column``."""
        values = pd.Series(np.full(n, value, dtype=object) if np.ndim(value) == 0 else np.asarray(value, dtype=object))
        if len(values) != n:
            raise ConditionError(f"condition on {column!r} gives {len(values)} values for {n} rows")
        if isinstance(value, pd.Series):
            values = pd.Series(value.to_numpy(dtype=object))
        encoder = self.transformer_.encoder(column)
        values = _match_text(values, encoder.categories)
        try:
            return encoder.codes(values.infer_objects())
        except DataValidationError as exc:
            raise ConditionError(
                f"condition {column}={pd.unique(values)[:5].tolist()}: value not seen in fit; "
                f"allowed values are {encoder.categories[:20]}"
            ) from exc

    def _held_in_ranges(self, frame: pd.DataFrame, conditions: Mapping[str, Condition]) -> pd.DataFrame:
        """``frame`` with the columns of range conditions clipped to their ranges (float rounding)."""
        for column, condition in conditions.items():
            if isinstance(condition, NumericRange):
                frame[column] = clip_to_range(frame[column], self.schema_[column], condition)
        return frame

    def _output_frame(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` as one table: the fitted column names, the target (if any) last under its name."""
        out = frame.rename(columns=dict(zip([str(c) for c in self.columns_], self.columns_, strict=True)))
        if self.target_column_ is not None and self.target_name_ is not None and self.target_name_ not in out:
            out = out.rename(columns={self.target_column_: self.target_name_})
        return out

    def _output(self, frame: pd.DataFrame) -> Any:
        X = frame
        y = None
        if self.target_column_ is not None:
            y = X[self.target_column_]
            X = X.drop(columns=[self.target_column_])
            y = y.rename(self.target_name_) if self.target_kind_ == "series" else y.to_numpy()
        if self.input_kind_ == "dataframe":
            X = X.copy()
            X.columns = self.columns_
        else:
            X = X.to_numpy()
        return (X, y) if self.target_column_ is not None else X

    # ------------------------------------------------------------------ persistence
    def _get_state(self) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        check_is_fitted(self, "transformer_")
        state, tensors = self._core_state()
        state.update(
            transformer=self.transformer_.to_state(),
            input_kind=self.input_kind_,
            columns=[c.item() if isinstance(c, np.generic) else c for c in self.columns_],
            target_column=self.target_column_,
            target_kind=self.target_kind_,
            target_name=self.target_name_,
            identifiers={c: f.to_dict() for c, f in self.identifiers_.items()},
        )
        tensors.update(self._network_state())
        return state, tensors

    def _set_state(self, state: Mapping[str, Any], tensors: Mapping[str, torch.Tensor]) -> None:
        self._restore_core_state(state, tensors)
        self.transformer_ = self.transformer_class.from_state(state["transformer"])
        self.schema_ = self.transformer_.schema_
        self.input_kind_ = state["input_kind"]
        self.columns_ = list(state["columns"])
        self.n_features_in_ = len(self.columns_)
        if self.input_kind_ == "dataframe":
            self.feature_names_in_ = np.asarray([str(c) for c in self.columns_], dtype=object)
        self.target_column_ = state["target_column"]
        self.target_kind_ = state["target_kind"]
        self.target_name_ = state.get("target_name")
        self.identifiers_ = {c: IdentifierFormat.from_dict(f) for c, f in state.get("identifiers", {}).items()}
        self._restore_networks(tensors, state)
