"""Declarative pipelines: private table in; synthetic table, saved model, audit report and privacy ledger out.

:class:`SynthesisPipeline` runs one spec (a dict, or a TOML file read with :mod:`tomllib`): split off
a holdout, fit on the private training part only, sample (or oversample), evaluate against the
holdout, and write every output atomically into one folder. The spec's sections and keys are
described in ``pipelines/README.md`` and checked by :mod:`synthaug.pipeline_spec`.
"""

from __future__ import annotations

import copy
import json
import time
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .atomic import atomic_path
from .exceptions import DataFileError, SpecError
from .pipeline_spec import apply_overrides, check_spec, input_kind

HEADLINE_METRICS = (
    "classification_accuracy_score",
    "frechet_distance",
    "image_nearest_neighbour_leakage",
    "column_shapes",
    "pairwise_trends",
    "detection_auc",
    "train_synthetic_test_real",
    "augmentation_gain",
    "distance_to_closest_record",
    "membership_inference_distance",
)


@dataclass
class PipelineResult:
    """What :meth:`SynthesisPipeline.run` wrote and measured.

    Attributes:
        output_dir: the output folder.
        files: output role (``table``, ``model``, ``report_html`` ...) -> path.
        report: the :class:`~synthaug.evaluation.report.AuditReport` against the holdout.
        model: the fitted synthesizer, or the fitted ``GenerativeOverSampler`` when oversampling.
        privacy_spent: the privacy ledger (also in ``privacy.json``).
        info: rows of each part, columns, fit seconds, mode.
    """

    output_dir: Path
    files: dict[str, Path]
    report: Any
    model: Any
    privacy_spent: dict[str, Any]
    info: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> str:
        """A few lines: what was fitted, the privacy guarantee, headline metrics and the files written."""
        info = self.info
        what = "rows" if "image_shape" not in info else "images"
        shape = f"x {info['n_columns']} columns" if what == "rows" else f"of shape {info['image_shape']}"
        lines = [
            f"fitted {info['synthesizer']} on {info['n_train']} training {what} {shape} in "
            f"{info['fit_seconds']:.1f}s (holdout: {info['n_holdout']} {what})",
        ]
        if info["mode"] == "oversample" and "synthetic_per_class" in info:
            lines.append(f"synthetic {what} per class (from the noisy class counts): {info['synthetic_per_class']}")
            lines.append(f"the output holds every real training {what[:-1]} unchanged: it is not differentially private")
        elif info["mode"] == "oversample":
            lines.append(f"class counts before: {info['class_counts_before']}")
            lines.append(f"class counts after:  {info['class_counts_after']} ({info['n_synthetic']} synthetic {what})")
        else:
            lines.append(f"sampled {info['n_synthetic']} synthetic {what}")
        lines.append(_privacy_line(self.privacy_spent))
        for result in self.report.results:
            if result.name in HEADLINE_METRICS:
                reference = result.details.get("reference")
                ref = "" if reference is None else f" (real holdout: {_fmt(reference)})"
                lines.append(f"  {result.name}: {_fmt(result.value)}{ref}, {result.direction} is better")
        lines.append(f"wrote {', '.join(p.name for p in self.files.values())} to {self.output_dir}")
        return "\n".join(lines)


AUDIT_NOTICE = (
    "OUTSIDE THE PRIVACY GUARANTEE: this audit reads the private training and holdout rows (marginals, class "
    "counts, distances); it is for the data holder and must not be published with the DP outputs."
)


def _fmt(value: Any) -> str:
    from .evaluation.report import _fmt as fmt

    return fmt(value)


def _privacy_line(spent: Mapping[str, Any]) -> str:
    if spent.get("epsilon") is None:
        return "privacy: no formal guarantee (trained without differential privacy)"
    return f"privacy: ({spent['epsilon']:.3f}, {spent['delta']:.3g})-differential privacy"


def _write_json(data: Any, path: Path) -> None:
    from .evaluation.report import _plain

    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(_plain(data), indent=2, allow_nan=False) + "\n", encoding="utf-8")


class SynthesisPipeline:
    """One declarative run: holdout split, fit on the training part, sample or oversample, audit, write.

    Parameters:
        spec: the spec as a dict of sections (``input``, ``schema``, ``synthesizer``, ``privacy``,
            ``oversample``, ``evaluate``, ``output``); checked here, errors name the key at fault.
        base_dir: folder that a relative ``input.path`` is taken from (default: the current
            directory; :meth:`from_toml` uses the spec file's folder).

    Attributes:
        spec: the resolved spec (defaults filled in, paths absolute), as written to ``spec.json``.
    """

    def __init__(self, spec: Mapping[str, Any], *, base_dir: str | Path | None = None) -> None:
        cwd = Path.cwd()
        self.spec = check_spec(spec, Path(base_dir) if base_dir is not None else cwd, cwd)

    @classmethod
    def from_toml(
        cls, path: str | Path, *, output_dir: str | Path | None = None, epochs: int | None = None, seed: int | None = None
    ) -> SynthesisPipeline:
        """Read a TOML spec; ``output_dir``, ``epochs`` and ``seed`` override the spec's values when given."""
        path = Path(path)
        if not path.is_file():
            raise SpecError(f"spec file {str(path)!r} does not exist")
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise SpecError(f"spec file {str(path)!r} is not valid TOML: {exc}") from exc
        return cls(apply_overrides(raw, output_dir=output_dir, epochs=epochs, seed=seed), base_dir=path.parent)

    # ------------------------------------------------------------------ steps
    def load_data(self) -> pd.DataFrame:
        """The input table (the spec's file or built-in dataset)."""
        source = self.spec["input"]
        if "dataset" in source:
            from .datasets import load_dataset

            return load_dataset(source["dataset"]).frame
        from .io import read_table

        return read_table(source["path"])

    def split(self, frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        """``(train, holdout)``: a seeded split, stratified on a discrete target."""
        from sklearn.model_selection import train_test_split

        from .schema import infer_column

        target = self.spec["input"].get("target")
        stratify = None
        if target is not None and infer_column(frame[target]).is_discrete:
            n_missing = int(frame[target].isna().sum())
            if n_missing:
                raise SpecError(
                    f"input.target {target!r} has {n_missing} missing value(s): the holdout split is stratified on it; "
                    "drop or label those rows first"
                )
            stratify = frame[target]
        try:
            train, holdout = train_test_split(
                frame, test_size=self.spec["input"]["holdout"], random_state=self.spec["output"]["seed"], stratify=stratify
            )
        except ValueError as exc:
            raise SpecError(f"input.holdout = {self.spec['input']['holdout']:g} cannot split {len(frame)} rows: {exc}") from exc
        return train.reset_index(drop=True), holdout.reset_index(drop=True)

    def _check_columns(self, frame: pd.DataFrame) -> None:
        for key, column in (
            ("input.target", self.spec["input"].get("target")),
            ("evaluate.sensitive", self.spec["evaluate"].get("sensitive")),
        ):
            if column is not None and column not in frame.columns:
                raise SpecError(f"{key} {column!r} is not a column of the input; columns: {list(frame.columns)}")

    def _synthesizer(self, train_features: pd.DataFrame, verbose: bool) -> Any:
        from .schema import dtype_schema, infer_schema
        from .synthesizers.registry import get_synthesizer

        params: dict[str, Any] = {
            **self.spec["synthesizer"]["params"],
            "random_state": self.spec["output"]["seed"],
            "verbose": verbose,
        }
        if "schema" in self.spec:
            # under DP the kinds come from the pandas dtypes and the declared overrides, never from the values
            declare = dtype_schema if "privacy" in self.spec else infer_schema
            try:
                params["schema"] = declare(train_features, self.spec["schema"])
            except ValueError as exc:
                raise SpecError(f"[schema]: {exc}") from exc
        if "privacy" in self.spec:
            from .privacy.config import DPConfig

            params["dp"] = DPConfig(**self.spec["privacy"])
        return get_synthesizer(self.spec["synthesizer"]["name"], **params)

    def _output_paths(self) -> dict[str, Path]:
        folder = Path(self.spec["output"]["dir"])
        table = "resampled.csv" if "oversample" in self.spec else "synthetic.csv"
        audit = "audit/" if "privacy" in self.spec else ""  # under DP the audit reads private rows: kept apart
        names = {
            "table": table,
            "model": "model.synthaug",
            "report_html": f"{audit}report.html",
            "report_json": f"{audit}report.json",
            "privacy": "privacy.json",
            "spec": "spec.json",
        }
        return {role: folder / name for role, name in names.items()}

    def _write_report(self, report: Any, paths: dict[str, Path]) -> None:
        """The audit report as HTML and JSON; under DP with a first line saying it is outside the guarantee."""
        notice = AUDIT_NOTICE if "privacy" in self.spec else None
        report.to_html(paths["report_html"], notice=notice)
        report.to_json(paths["report_json"], notice=notice)

    def _check_output_dir(self, overwrite: bool) -> None:
        folder = Path(self.spec["output"]["dir"])
        if folder.exists() and not folder.is_dir():
            raise DataFileError(f"output.dir {str(folder)!r} exists and is not a folder")
        source = self.spec["input"].get("path")
        if source is not None and Path(source) in self._output_paths().values():
            raise DataFileError(f"output.dir {str(folder)!r} would overwrite the input {source!r}; choose another folder")
        if folder.is_dir() and not overwrite:
            existing = sorted(p.name for p in folder.iterdir())
            if existing:
                shown = ", ".join(existing[:5]) + (" ..." if len(existing) > 5 else "")
                raise DataFileError(
                    f"output folder {str(folder)!r} is not empty ({shown}); pass overwrite=True (--overwrite) to replace "
                    "the pipeline's files in it (other files are left alone)"
                )

    # ------------------------------------------------------------------ run
    def run(self, *, overwrite: bool = False, verbose: bool = False) -> PipelineResult:
        """Split, fit on the training part, sample or oversample, evaluate against the holdout, write the outputs.

        ``overwrite``: allow a non-empty output folder (the pipeline's own files are replaced,
        nothing else is touched). ``verbose``: the synthesizer's progress bar.
        """
        from .evaluation.report import evaluate
        from .io import write_table

        self._check_output_dir(overwrite)
        if input_kind(self.spec["input"]) == "images":
            return self._run_images(verbose)
        frame = self.load_data()
        self._check_columns(frame)
        train, holdout = self.split(frame)
        target = self.spec["input"].get("target")
        seed = self.spec["output"]["seed"]
        info: dict[str, Any] = {
            "synthesizer": self.spec["synthesizer"]["name"],
            "n_train": len(train),
            "n_holdout": len(holdout),
            "n_columns": frame.shape[1],
        }
        start = time.perf_counter()
        if "oversample" in self.spec:
            table, synthetic, fitted, models = self._oversample(train, target, verbose, info)
        else:
            synthesizer = self._synthesizer(train, verbose).fit(train)
            info["fit_seconds"] = time.perf_counter() - start
            table = synthetic = synthesizer.sample(self.spec["output"].get("rows", len(train)))
            fitted, models = synthesizer, {"model.synthaug": synthesizer}
            info["mode"] = "copy"
        info["n_synthetic"] = len(synthetic)
        report = evaluate(
            train,
            synthetic,
            holdout,
            target=target,
            sensitive=self.spec["evaluate"].get("sensitive"),
            model=fitted,
            random_state=seed,
        )
        resolved = copy.deepcopy(self.spec)
        if info["mode"] == "copy":
            resolved["output"]["rows"] = len(synthetic)
        folder = Path(self.spec["output"]["dir"])
        paths = self._output_paths()
        files = {"table": Path(write_table(table, paths["table"]))}
        for name, model in models.items():
            model.save(folder / name)
            files[Path(name).stem] = folder / name
        if "models" in info:  # per-class models: which file holds which class
            files["models"] = folder / "models.json"
            _write_json(info["models"], files["models"])
        self._write_report(report, paths)
        _write_json(fitted.privacy_spent_, paths["privacy"])
        _write_json(resolved, paths["spec"])
        files.update({role: paths[role] for role in ("report_html", "report_json", "privacy", "spec")})
        return PipelineResult(folder, files, report, fitted, dict(fitted.privacy_spent_), info)

    def _oversample(
        self, train: pd.DataFrame, target: str, verbose: bool, info: dict[str, Any]
    ) -> tuple[pd.DataFrame, pd.DataFrame, Any, dict[str, Any]]:
        """Fit the oversampler on the training part: (resampled table, synthetic rows only, sampler, files -> models)."""
        from .over_sampling import GenerativeOverSampler, check_target_column

        X, y = check_target_column(train, target)
        settings = self.spec["oversample"]
        sampler = GenerativeOverSampler(
            synthesizer=self._synthesizer(X, verbose),
            sampling_strategy=settings["strategy"],
            mode=settings["mode"],
            random_state=self.spec["output"]["seed"],
        )
        start = time.perf_counter()
        X_res, y_res = sampler.fit_resample(X, y)
        info["fit_seconds"] = time.perf_counter() - start
        resampled = X_res.reset_index(drop=True)
        resampled.insert(train.columns.get_loc(target), target, pd.Series(y_res).to_numpy())
        synthetic = resampled.iloc[len(train) :].reset_index(drop=True)
        if len(synthetic) == 0:
            raise SpecError(
                f"oversample.strategy {settings['strategy']!r} asks for no new rows; class counts: {y.value_counts().to_dict()}"
            )
        if isinstance(sampler.synthesizers_, dict):  # per-class mode: one model per resampled class
            models = {f"model_{i}.synthaug": model for i, model in enumerate(sampler.synthesizers_.values())}
            info["models"] = {name: str(label) for name, label in zip(models, sampler.synthesizers_, strict=True)}
        else:
            models = {"model.synthaug": sampler.synthesizers_}
        info["mode"] = "oversample"
        self._class_counts(info, y, y_res, sampler)
        return resampled, synthetic, sampler, models

    def _class_counts(self, info: dict[str, Any], y: Any, y_res: Any, sampler: Any) -> None:
        """Class counts for the summary: exact without DP; under DP only the synthetic rows per
        class (from the noisy class histogram), so no exact count reaches the console."""
        if "privacy" in self.spec:
            info["synthetic_per_class"] = {str(k): int(v) for k, v in sampler.sampling_strategy_.items()}
            return
        info["class_counts_before"] = pd.Series(y).value_counts().sort_index().to_dict()
        info["class_counts_after"] = pd.Series(y_res).value_counts().sort_index().to_dict()

    # ------------------------------------------------------------------ images
    def load_images(self) -> tuple[np.ndarray, np.ndarray, tuple[float, float] | None]:
        """``(X, y, public pixel range or None)`` from the built-in digits, a class folder or an .npz."""
        source = self.spec["input"]
        if source.get("dataset") == "digits":
            from .datasets import DIGITS_PIXEL_RANGE, load_digits_images

            X, y = load_digits_images()
            return X, y, DIGITS_PIXEL_RANGE
        from .image_io import read_images

        images = read_images(source["path"])
        return images.X, images.y, None

    def _run_images(self, verbose: bool) -> PipelineResult:
        """The image run: stratified holdout split, fit (or oversample), audit with :func:`evaluate_images`, write."""
        from sklearn.model_selection import train_test_split

        from .evaluation.images import evaluate_images
        from .image_io import write_images, write_npz
        from .over_sampling import GenerativeOverSampler
        from .synthesizers.registry import get_synthesizer

        X, y, public_range = self.load_images()
        seed = self.spec["output"]["seed"]
        try:
            train, holdout = train_test_split(
                np.arange(len(y)), test_size=self.spec["input"]["holdout"], random_state=seed, stratify=y
            )
        except ValueError as exc:
            raise SpecError(f"input.holdout = {self.spec['input']['holdout']:g} cannot split {len(y)} images: {exc}") from exc
        X_train, y_train, X_holdout, y_holdout = X[train], y[train], X[holdout], y[holdout]
        params: dict[str, Any] = {**self.spec["synthesizer"]["params"], "random_state": seed, "verbose": verbose}
        if public_range is not None and "pixel_range" not in params:
            params["pixel_range"] = public_range
        if "pixel_range" in params:
            params["pixel_range"] = tuple(params["pixel_range"])
        if "privacy" in self.spec:
            from .privacy.config import DPConfig

            params["dp"] = DPConfig(**self.spec["privacy"])
        synthesizer = get_synthesizer(self.spec["synthesizer"]["name"], **params)
        info: dict[str, Any] = {
            "synthesizer": self.spec["synthesizer"]["name"],
            "n_train": len(train),
            "n_holdout": len(holdout),
            "image_shape": list(X.shape[1:]),
        }
        start = time.perf_counter()
        folder = Path(self.spec["output"]["dir"])
        if "oversample" in self.spec:
            settings = self.spec["oversample"]
            fitted = GenerativeOverSampler(
                synthesizer=synthesizer, sampling_strategy=settings["strategy"], mode=settings["mode"], random_state=seed
            )
            X_all, y_all = fitted.fit_resample(X_train, y_train)
            X_syn, y_syn = X_all[len(train) :], y_all[len(train) :]
            if len(y_syn) == 0:
                raise SpecError(f"oversample.strategy {settings['strategy']!r} asks for no new images")
            fitted_models = fitted.synthesizers_ if isinstance(fitted.synthesizers_, dict) else {"all": fitted.synthesizers_}
            models = {f"model_{i}.synthaug": m for i, m in enumerate(fitted_models.values())}
            if len(models) == 1:
                models = {"model.synthaug": next(iter(models.values()))}
            else:
                info["models"] = {name: str(label) for name, label in zip(models, fitted_models, strict=True)}
            info["mode"] = "oversample"
            self._class_counts(info, y_train, y_all, fitted)
            arrays = {"resampled.npz": (X_all, y_all)}
        else:
            fitted = synthesizer.fit(X_train, y_train)
            rows = self.spec["output"].get("rows")
            if rows or "privacy" in self.spec:  # under DP the labels come from the noisy class frequencies
                X_syn, y_syn = fitted.sample(rows or len(train))
            else:
                X_syn, y_syn = fitted.sample(len(train), y=y_train)
            models = {"model.synthaug": fitted}
            info["mode"] = "copy"
            arrays = {"synthetic.npz": (X_syn, y_syn)}
        info["fit_seconds"] = time.perf_counter() - start
        info["n_synthetic"] = len(y_syn)
        scaler = next(iter(models.values())).scaler_
        pixel_range = (scaler.low_, scaler.high_)
        show_real = "privacy" not in self.spec or self.spec["evaluate"].get("real_images", False)
        report = evaluate_images(
            X_train,
            y_train,
            X_syn,
            y_syn,
            X_holdout,
            y_holdout,
            model=fitted,
            random_state=seed,
            pixel_range=pixel_range,
            show_real=show_real,
        )
        files: dict[str, Path] = {}
        for name, (images, labels) in arrays.items():
            files[Path(name).stem] = write_npz(folder / name, images, labels, overwrite=True)
        png_range = None if X_syn.dtype == np.uint8 else pixel_range
        files["images"] = write_images(folder / "synthetic_images", X_syn, y_syn, pixel_range=png_range, overwrite=True)
        for name, model in models.items():
            model.save(folder / name)
            files[Path(name).stem] = folder / name
        if "models" in info:
            files["models"] = folder / "models.json"
            _write_json(info["models"], files["models"])
        paths = self._output_paths()
        self._write_report(report, paths)
        _write_json(fitted.privacy_spent_, paths["privacy"])
        resolved = copy.deepcopy(self.spec)
        if info["mode"] == "copy":
            resolved["output"]["rows"] = len(y_syn)
        _write_json(resolved, paths["spec"])
        files.update({role: paths[role] for role in ("report_html", "report_json", "privacy", "spec")})
        return PipelineResult(folder, files, report, fitted, dict(fitted.privacy_spent_), info)


__all__ = ["PipelineResult", "SynthesisPipeline"]
