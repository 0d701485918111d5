"""The table pipeline: holdout split, fit (or oversample) on the training part, audit with ``evaluate``, write."""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from .exceptions import SchemaError, SpecError
from .pipeline_outputs import finish_run, output_paths
from .pipeline_result import PipelineResult
from .pipeline_steps import class_counts, dp_param, holdout_split, per_class_models

# (resampled or synthetic table to write, synthetic rows only, fitted model or sampler, file name -> model)
Fitted = tuple[pd.DataFrame, pd.DataFrame, Any, dict[str, Any]]


class TableRunner:
    """Runs a resolved table spec (see :func:`~synthaug.pipeline_spec.check_spec`)."""

    def __init__(self, spec: Mapping[str, Any]) -> None:
        self.spec = spec
        self.target: str | None = spec["input"].get("target")
        self.seed: int = spec["output"]["seed"]

    def load(self) -> pd.DataFrame:
        """The input table (the spec's file or built-in dataset)."""
        source = self.spec["input"]
        if "dataset" in source:
            from .datasets import load_dataset

            return load_dataset(source["dataset"]).frame
        from .io import read_table

        return read_table(source["path"], **{k: source[k] for k in ("sep", "decimal", "encoding") if k in source})

    def split(self, frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        """``(train, holdout)``: a seeded split, stratified on a discrete target."""
        from .schema import infer_column

        stratify = None
        if self.target is not None and infer_column(frame[self.target]).is_discrete:
            n_missing = int(frame[self.target].isna().sum())
            if n_missing:
                raise SpecError(
                    f"input.target {self.target!r} has {n_missing} missing value(s): the holdout split is stratified on "
                    "it; drop or label those rows first"
                )
            stratify = frame[self.target]
        train, holdout = holdout_split(frame, self.spec, stratify, "rows")
        return train.reset_index(drop=True), holdout.reset_index(drop=True)

    def run(self, frame: pd.DataFrame, verbose: bool) -> PipelineResult:
        """Split ``frame``, fit on the training part, sample or oversample, audit against the holdout, write."""
        self._check_columns(frame)
        train, holdout = self.split(frame)
        info: dict[str, Any] = {
            "synthesizer": self.spec["synthesizer"]["name"],
            "n_train": len(train),
            "n_holdout": len(holdout),
            "n_columns": frame.shape[1],
        }
        if "oversample" in self.spec:
            table, synthetic, fitted, models = self._oversample(train, verbose, info)
        else:
            table, synthetic, fitted, models = self._copy(train, verbose, info)
        info["n_synthetic"] = len(synthetic)
        report = self._audit(train, synthetic, holdout, fitted)
        from .io import write_table

        files = {"table": Path(write_table(table, output_paths(self.spec)["table"]))}
        return finish_run(self.spec, files, models, report, fitted, info)

    def _check_columns(self, frame: pd.DataFrame) -> None:
        for key, column in (("input.target", self.target), ("evaluate.sensitive", self.spec["evaluate"].get("sensitive"))):
            if column is not None and column not in frame.columns:
                raise SpecError(f"{key} {column!r} is not a column of the input; columns: {list(frame.columns)}")

    def _synthesizer(self, train_features: pd.DataFrame, verbose: bool) -> Any:
        from .synthesizers.registry import get_synthesizer

        params: dict[str, Any] = {**self.spec["synthesizer"]["params"], "random_state": self.seed, "verbose": verbose}
        if "schema" in self.spec:
            params["schema"] = self._schema(train_features)
        params.update(dp_param(self.spec))
        return get_synthesizer(self.spec["synthesizer"]["name"], **params)

    def _schema(self, train_features: pd.DataFrame) -> Any:
        """The schema completed by the ``[schema]`` overrides; under DP its kinds come from the dtypes only."""
        from .schema import dtype_schema, infer_schema

        declare = dtype_schema if "privacy" in self.spec else infer_schema
        try:
            return declare(train_features, self.spec["schema"])
        except SchemaError as exc:
            raise SpecError(f"[schema]: {exc}") from exc

    def _copy(self, train: pd.DataFrame, verbose: bool, info: dict[str, Any]) -> Fitted:
        start = time.perf_counter()
        synthesizer = self._synthesizer(train, verbose).fit(train)
        info["fit_seconds"] = time.perf_counter() - start
        synthetic = synthesizer.sample(self.spec["output"].get("rows", len(train)))
        info["mode"] = "copy"
        return synthetic, synthetic, synthesizer, {"model.synthaug": synthesizer}

    def _oversample(self, train: pd.DataFrame, verbose: bool, info: dict[str, Any]) -> Fitted:
        """Fit the oversampler on the training part; the resampled table keeps the target where it was."""
        from .over_sampling import GenerativeOverSampler, check_target_column

        X, y = check_target_column(train, self.target)
        settings = self.spec["oversample"]
        sampler = GenerativeOverSampler(
            synthesizer=self._synthesizer(X, verbose),
            sampling_strategy=settings["strategy"],
            mode=settings["mode"],
            random_state=self.seed,
        )
        start = time.perf_counter()
        X_res, y_res = sampler.fit_resample(X, y)
        info["fit_seconds"] = time.perf_counter() - start
        resampled = X_res.reset_index(drop=True)
        resampled.insert(train.columns.get_loc(self.target), self.target, pd.Series(y_res).to_numpy())
        synthetic = resampled.iloc[len(train) :].reset_index(drop=True)
        if len(synthetic) == 0:
            raise SpecError(
                f"oversample.strategy {settings['strategy']!r} asks for no new rows; class counts: {y.value_counts().to_dict()}"
            )
        if isinstance(sampler.synthesizers_, dict):  # per-class mode: one model per resampled class
            models = per_class_models(sampler.synthesizers_, info)
        else:
            models = {"model.synthaug": sampler.synthesizers_}
        info["mode"] = "oversample"
        class_counts(self.spec, info, y, y_res, sampler)
        return resampled, synthetic, sampler, models

    def _audit(self, train: pd.DataFrame, synthetic: pd.DataFrame, holdout: pd.DataFrame, fitted: Any) -> Any:
        """The audit of the synthetic rows only against the training part, with the holdout as reference."""
        from .evaluation.report import evaluate

        return evaluate(
            train,
            synthetic,
            holdout,
            target=self.target,
            sensitive=self.spec["evaluate"].get("sensitive"),
            model=fitted,
            random_state=self.seed,
        )
