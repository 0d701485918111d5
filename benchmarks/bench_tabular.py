#!/usr/bin/env python
"""Benchmark synthaug's tabular synthesizers against SDV, arfpy and the MOSTLY AI engine.

Every model is fitted one after the other (never in parallel) in the same process on the same
stratified 70 % training split of each dataset; the 30 % holdout is only used to test utility. Models:

* synthaug: ``synthaug.get_synthesizer(name, epochs=E, random_state=seed)`` for each of
  ``ctgan``, ``tvae``, ``flow`` and ``diffusion`` that ``synthaug.available_synthesizers()``
  offers (absent names are skipped with a note), everything else at synthaug's defaults;
* SDV (optional extra): ``sdv.single_table.TVAESynthesizer(metadata, epochs=E)`` (the same
  epochs as ours) and ``GaussianCopulaSynthesizer(metadata)``, at SDV's defaults;
* arfpy (optional): adversarial random forests, ``arf.arf(x=train)``, ``forde()``, ``forge(n)``
  at arfpy's defaults;
* mostlyai-engine (optional): TabularARGN through the engine's workspace functions (``split``,
  ``analyze``, ``encode``, ``train``, ``generate``) in a temporary folder, on the CPU, at the
  engine's defaults.

Baselines that are not installed are skipped with a printed note. For each model and dataset the
script measures fit seconds (the ``fit`` call, including preprocessing), sampling throughput (one
``sample`` call of as many rows as the training split, timed), and scores the synthetic rows
against the training split with ``synthaug.evaluation``: ``column_shapes``, ``pairwise_trends``,
``detection_auc`` (cross-validated HistGradientBoosting telling training rows from synthetic
ones; 0.5 = indistinguishable) and ``train_synthetic_test_real`` (TSTR: HistGradientBoosting
trained on synthetic, tested on the real holdout; ROC AUC of the minority class for a categorical
target, R² otherwise), with the TRTR reference (the same model trained on the real training
split), and leakage: ``membership_inference_distance`` (ROC AUC of the distance attack, training
vs holdout rows) and ``closer_to_train_share`` (both 0.5 when the synthetic rows are no nearer to
the training rows than to unseen ones). A reference line scores the real holdout itself as if it
were synthetic.

Results are printed as a Markdown table and written as JSON + Markdown (``tabular_`` prefix)
to ``benchmarks/results/``. Without the optional libraries only synthaug's models run. Example
(full run)::

    python benchmarks/bench_tabular.py --epochs 300 --datasets attrition creditcard
"""

from __future__ import annotations

import argparse
import importlib.util
import inspect
import json
import sys
import tempfile
import traceback
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

try:  # run as a script: benchmarks/ is on sys.path
    import _common as common
except ImportError:  # imported as benchmarks.bench_tabular
    from benchmarks import _common as common

#: synthaug synthesizers compared, when the registry has them.
OUR_MODELS = ("ctgan", "tvae", "flow", "diffusion", "autoregressive", "auto")
#: SDV runner name -> (class in sdv.single_table, takes epochs).
SDV_MODELS = {
    "sdv-tvae": ("TVAESynthesizer", True),
    "sdv-gaussiancopula": ("GaussianCopulaSynthesizer", False),
}
#: other optional baselines: runner name -> (module that must import, PyPI distribution).
BASELINES = {
    "arfpy": ("arfpy.arf", "arfpy"),
    "mostlyai": ("mostlyai.engine", "mostlyai-engine"),
}
#: keyword arguments of ``mostlyai.engine.train`` besides the workspace; everything else is the engine's default.
MOSTLYAI_TRAIN: dict[str, Any] = {"device": "cpu"}
DATASETS = ("attrition", "creditcard", "cps1988", "ames")
DEFAULT_DATASETS = ("attrition", "creditcard")
HOLDOUT_SHARE = 0.3
REFERENCE = "real holdout"
SDV_MISSING_MESSAGE = "SDV is not installed: it is an optional extra (pip install 'synthaug[sdv]'). SDV's models are skipped."


# --------------------------------------------------------------------------- models
class Runner(common.Runner, Protocol):
    """A :class:`common.Runner` that also describes its model's parameters."""

    def describe(self, model: Any) -> dict[str, Any]:
        """Parameters worth recording in the JSON."""


class SynthaugRunner:
    """``synthaug.get_synthesizer(model, epochs=..., random_state=seed)``."""

    def __init__(self, model: str) -> None:
        self.model = model
        self.name = f"synthaug-{model}"

    def build(self, frame: pd.DataFrame, epochs: int, seed: int) -> Any:
        import synthaug

        return synthaug.get_synthesizer(self.model, epochs=epochs, random_state=seed)

    def fit(self, model: Any, frame: pd.DataFrame) -> None:
        model.fit(frame)

    def sample(self, model: Any, n_rows: int) -> pd.DataFrame:
        return model.sample(n_rows)

    def describe(self, model: Any) -> dict[str, Any]:
        described = {"class": type(model).__name__, "parameters": {k: repr(v) for k, v in model.get_params().items()}}
        if hasattr(model, "selection_"):  # model="auto": every candidate's held-out scores and the choice
            described["selection"] = model.selection_
            print(f"  {'':20s} auto: {model.selection_['reason']}", flush=True)
        return described


def our_runners(wanted: Sequence[str]) -> tuple[list[SynthaugRunner], list[str]]:
    """Runners for the ``wanted`` synthaug models the registry has, and notes on the others."""
    import synthaug

    available = set(synthaug.available_synthesizers())
    runners, notes = [], []
    for name in wanted:
        if name in available:
            runners.append(SynthaugRunner(name))
        else:
            notes.append(f"synthaug has no {name!r} synthesizer (available: {sorted(available)}): skipped")
    return runners, notes


def sdv_runners(wanted: Sequence[str]) -> list[common.SdvRunner]:
    return [common.SdvRunner(name, SDV_MODELS[name][0], takes_epochs=SDV_MODELS[name][1]) for name in wanted]


@contextmanager
def quiet() -> Iterator[None]:
    """Silence warnings raised inside a baseline's call (deprecations of its dependencies)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def cast_like(synthetic: pd.DataFrame, frame: pd.DataFrame) -> pd.DataFrame:
    """``synthetic`` with ``frame``'s columns, in its order and dtypes, so that the metrics see the same types.

    Numbers become float64 (missing values as NaN) and integer columns are rounded back to their
    integer dtype when no value is missing; labels (categoricals, strings, nullable strings) become
    object columns with NaN for missing, then the training column's string dtype if it has one.
    """
    return pd.DataFrame({col: _cast_column(synthetic[col], dtype) for col, dtype in frame.dtypes.items()})


def _cast_column(values: pd.Series, dtype: Any) -> pd.Series:
    if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
        numbers = pd.to_numeric(values, errors="coerce").astype("float64")
        if pd.api.types.is_integer_dtype(dtype) and numbers.notna().all():
            return np.rint(numbers).astype(dtype)
        return numbers
    labels = values.astype(object).where(values.notna(), np.nan)
    if pd.api.types.is_string_dtype(dtype) and not pd.api.types.is_object_dtype(dtype):
        return labels.astype(dtype)
    return labels


@dataclass
class ArfModel:
    """An arfpy ``arf`` model (``None`` before fitting), its seed and a zero-row frame with the training dtypes."""

    template: pd.DataFrame
    seed: int
    model: Any = None


class ArfRunner:
    """Adversarial random forests (arfpy): ``arf.arf(x=train)``, ``forde()``, then ``forge(n)``, at arfpy's defaults.

    arfpy takes no seed and draws from NumPy's global RNG (its permutations, scikit-learn's
    forests without ``random_state``, the leaves it samples), so the global RNGs are seeded with
    ``seed`` before fitting and ``seed + 1`` before sampling. Non-numeric columns are given as
    ``category`` (arfpy treats only object and category columns as discrete); its output is cast
    back to the training frame's dtypes (:func:`cast_like`).
    """

    name = "arfpy"

    def build(self, frame: pd.DataFrame, epochs: int, seed: int) -> ArfModel:
        return ArfModel(frame.iloc[:0], seed)

    def fit(self, model: ArfModel, frame: pd.DataFrame) -> None:
        from arfpy import arf

        discrete = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
        x = frame.astype(dict.fromkeys(discrete, "category"))
        common.seed_globals(model.seed)
        with quiet():
            model.model = arf.arf(x=x, verbose=False)
            model.model.forde()

    def sample(self, model: ArfModel, n_rows: int) -> pd.DataFrame:
        common.seed_globals(model.seed + 1)
        with quiet():
            out = model.model.forge(n=n_rows)
        return cast_like(out, model.template)

    def describe(self, model: ArfModel) -> dict[str, Any]:
        from arfpy import arf

        defaults = {k: repr(v.default) for k, v in inspect.signature(arf.__init__).parameters.items() if k not in ("self", "x")}
        return {
            "class": "arfpy.arf.arf",
            "version": common.dist_version("arfpy"),
            "parameters": {**defaults, "verbose": "False", "forde": repr(model.model.dist)},
            "discriminator_oob_accuracy": [float(a) for a in model.model.acc],
        }


@dataclass
class MostlyModel:
    """A MOSTLY AI engine workspace (a temporary folder, removed with this object) and the seconds of each step."""

    template: pd.DataFrame
    seed: int
    workspace: tempfile.TemporaryDirectory[str] = field(default_factory=lambda: tempfile.TemporaryDirectory(prefix="mostlyai-"))
    step_seconds: dict[str, float] = field(default_factory=dict)


class MostlyRunner:
    """TabularARGN through ``mostlyai.engine``: ``split``, ``analyze``, ``encode``, ``train`` (the fit) and ``generate``.

    Each fit gets its own temporary workspace. The engine's defaults hold (its 80/20 split of
    the given rows for early stopping, value protection, model size, epochs and time limit)
    except the arguments in :data:`MOSTLYAI_TRAIN` and the device (CPU) for generation. Its
    seed is set with ``engine.set_random_state(seed)`` before fitting and ``seed + 1`` before
    generating; the generated parquet files are read back and cast to the training dtypes.
    """

    name = "mostlyai"

    def build(self, frame: pd.DataFrame, epochs: int, seed: int) -> MostlyModel:
        return MostlyModel(frame.iloc[:0], seed)

    def fit(self, model: MostlyModel, frame: pd.DataFrame) -> None:
        from mostlyai import engine

        ws = model.workspace.name
        engine.set_random_state(model.seed)
        steps = (
            ("split", lambda: engine.split(tgt_data=frame, workspace_dir=ws)),
            ("analyze", lambda: engine.analyze(workspace_dir=ws)),
            ("encode", lambda: engine.encode(workspace_dir=ws)),
            ("train", lambda: engine.train(workspace_dir=ws, **MOSTLYAI_TRAIN)),
        )
        with quiet():
            for step, call in steps:
                model.step_seconds[step] = common.timed(call)[1]

    def sample(self, model: MostlyModel, n_rows: int) -> pd.DataFrame:
        from mostlyai import engine

        engine.set_random_state(model.seed + 1)
        with quiet():
            engine.generate(sample_size=n_rows, device="cpu", workspace_dir=model.workspace.name)
        out = pd.read_parquet(Path(model.workspace.name) / "SyntheticData")
        return cast_like(out, model.template)

    def describe(self, model: MostlyModel) -> dict[str, Any]:
        from mostlyai import engine

        train = {k: repr(v.default) for k, v in inspect.signature(engine.train).parameters.items() if k != "workspace_dir"}
        return {
            "class": "mostlyai.engine (TabularARGN)",
            "version": common.dist_version("mostlyai-engine"),
            "parameters": {**train, **{k: repr(v) for k, v in MOSTLYAI_TRAIN.items()}, "generate_device": "'cpu'"},
            "fit_step_seconds": dict(model.step_seconds),
        }


def baseline_runners(wanted: Sequence[str]) -> tuple[list[Runner], list[str]]:
    """Runners for the ``wanted`` baselines of :data:`BASELINES` that import, and notes on the others."""
    runners: list[Runner] = []
    notes = []
    for name in wanted:
        module, dist = BASELINES[name]
        problem = _import_problem(module)
        if problem is None:
            runners.append({"arfpy": ArfRunner, "mostlyai": MostlyRunner}[name]())
        else:
            notes.append(f"{name}: {problem} (pip install {dist}; see benchmarks/README.md): skipped")
    return runners, notes


def _import_problem(module: str) -> str | None:
    """Why ``module`` cannot be used (not installed, or its import fails), or ``None`` when it imports."""
    if importlib.util.find_spec(module.split(".")[0]) is None:
        return f"{module} is not installed"
    try:
        with quiet():
            importlib.import_module(module)
    except Exception as exc:  # noqa: BLE001 - a broken install (e.g. a mismatched torch extension) counts as absent
        return f"{module} does not import ({type(exc).__name__}: {str(exc)[:200]})"
    return None


# --------------------------------------------------------------------------- measuring
@dataclass
class Scores:
    """The evaluation of one synthetic (or reference) table against the training split."""

    column_shapes: float | None = None
    pairwise_trends: float | None = None
    detection_auc: float | None = None  # HGB telling training rows from these rows; 0.5 = indistinguishable
    detection_reference: float | None = None  # the same test of holdout rows against training rows
    tstr: float | None = None
    tstr_over_trtr: float | None = None
    membership_auc: float | None = None  # distance attack, training rows vs holdout rows; 0.5 = no signal
    closer_to_train: float | None = None  # share of synthetic rows nearer to a training row than to a holdout row
    tstr_metrics: dict[str, Any] = field(default_factory=dict)
    column_shapes_per_column: dict[str, float] = field(default_factory=dict)
    pairwise_trends_details: dict[str, Any] = field(default_factory=dict)
    metric_errors: dict[str, str] = field(default_factory=dict)


@dataclass
class ModelResult:
    """What one model measured on one dataset (``error`` set when the run failed)."""

    model: str
    setup_seconds: float | None = None
    fit_seconds: float | None = None
    sample_rows: int | None = None
    sample_seconds: float | None = None
    rows_per_second: float | None = None
    scores: Scores = field(default_factory=Scores)
    details: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


@dataclass
class Split:
    """A dataset's fixed train/holdout split, its target and the schema inferred on train."""

    train: pd.DataFrame
    holdout: pd.DataFrame
    target: str
    schema: Any


def split_table(frame: pd.DataFrame, target: str, seed: int) -> Split:
    """Stratified (for a discrete target) 70/30 split with ``seed``; schema inferred on the train part."""
    from sklearn.model_selection import train_test_split

    from synthaug.schema import infer_schema

    discrete = infer_schema(frame[[target]])[target].is_discrete
    train, holdout = train_test_split(
        frame, test_size=HOLDOUT_SHARE, random_state=seed, stratify=frame[target] if discrete else None
    )
    train, holdout = train.reset_index(drop=True), holdout.reset_index(drop=True)
    return Split(train, holdout, target, infer_schema(train))


def _number(value: Any) -> float | None:
    """A float for the JSON, ``None`` for missing or NaN."""
    return None if value is None or not np.isfinite(value) else float(value)


def evaluate(split: Split, synthetic: pd.DataFrame, seed: int, *, utility: bool = True) -> Scores:
    """Score ``synthetic`` against the training split; each metric's failure is recorded, not raised.

    ``utility=False`` skips TSTR (for the real holdout, which TSTR would test on itself).
    Metrics run with one thread: on a small busy machine (and after torch's training threads)
    HistGradientBoosting's OpenMP threads otherwise crawl, from seconds to minutes; the
    metrics are not timed, so this changes no reported figure.
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        return _evaluate(split, synthetic, seed, utility=utility)


def _evaluate(split: Split, synthetic: pd.DataFrame, seed: int, *, utility: bool) -> Scores:
    from synthaug.evaluation import (
        closer_to_train_share,
        column_shapes,
        detection_auc,
        membership_inference_distance,
        pairwise_trends,
        train_synthetic_test_real,
    )

    scores = Scores()
    synthetic = synthetic[list(split.train.columns)]
    kw = {"real_holdout": split.holdout, "target": split.target, "schema": split.schema, "random_state": seed}
    try:
        res = column_shapes(split.train, synthetic, **kw)
        scores.column_shapes = _number(res.value)
        scores.column_shapes_per_column = {str(k): float(v) for k, v in res.details["per_column"].items()}
    except Exception as exc:  # noqa: BLE001 - recorded and reported
        scores.metric_errors["column_shapes"] = f"{type(exc).__name__}: {exc}"
    try:
        res = pairwise_trends(split.train, synthetic, **kw)
        scores.pairwise_trends = _number(res.value)
        scores.pairwise_trends_details = {
            k: res.details[k] for k in ("pair_counts", "skipped_constant", "synthetic_constant", "per_pair")
        }
    except Exception as exc:  # noqa: BLE001
        scores.metric_errors["pairwise_trends"] = f"{type(exc).__name__}: {exc}"
    try:
        res = detection_auc(split.train, synthetic, **kw)
        scores.detection_auc = _number(res.value)
        scores.detection_reference = _number(res.details.get("reference"))
    except Exception as exc:  # noqa: BLE001
        scores.metric_errors["detection_auc"] = f"{type(exc).__name__}: {exc}"
    if not utility:
        return scores
    for name, function in (("membership_auc", membership_inference_distance), ("closer_to_train", closer_to_train_share)):
        try:
            setattr(scores, name, _number(function(split.train, synthetic, **kw).value))
        except Exception as exc:  # noqa: BLE001
            scores.metric_errors[name] = f"{type(exc).__name__}: {exc}"
    try:
        res = train_synthetic_test_real(split.train, synthetic, **kw)
        scores.tstr = _number(res.value)
        scores.tstr_over_trtr = _number(res.details["ratio"])
        scores.tstr_metrics = {
            k: res.details[k] for k in ("metric", "tstr", "trtr", "positive_class", "averaging") if k in res.details
        }
    except Exception as exc:  # noqa: BLE001
        scores.metric_errors["train_synthetic_test_real"] = f"{type(exc).__name__}: {exc}"
    return scores


def run_model(runner: Runner, split: Split, *, epochs: int, seed: int) -> ModelResult:
    """Build, fit and sample one model (``len(train)`` rows), timing each step, then score it.

    Any exception while fitting or sampling is recorded in ``ModelResult.error`` (with the
    traceback printed) so that one failure does not lose the rest of a long benchmark.
    """
    result = ModelResult(runner.name)
    frame = split.train
    try:
        model, result.setup_seconds = common.timed(lambda: runner.build(frame.copy(), epochs, seed))
        _, result.fit_seconds = common.timed(lambda: runner.fit(model, frame.copy()))
        synthetic, result.sample_seconds = common.timed(lambda: runner.sample(model, len(frame)))
        result.sample_rows = len(synthetic)
        result.rows_per_second = len(synthetic) / result.sample_seconds
        result.details = runner.describe(model)
    except Exception as exc:  # noqa: BLE001 - recorded and reported, run continues
        traceback.print_exc()
        result.error = f"{type(exc).__name__}: {exc}"
        return result
    result.scores = evaluate(split, synthetic, seed)
    return result


# --------------------------------------------------------------------------- reporting
def machine_info(
    args: argparse.Namespace, sdv: str | None, models: Sequence[str], notes: Sequence[str], started: datetime
) -> dict[str, Any]:
    """Platform, CPU, library versions and the run's settings."""
    import sklearn

    baselines = {dist: common.dist_version(dist) for name, (_, dist) in BASELINES.items() if name in models}
    info = common.machine_base(started, {"sdv": sdv, **baselines, "scikit-learn": sklearn.__version__})
    command = info.pop("command")
    info["settings"] = {
        "epochs": args.epochs,
        "seed": args.seed,
        "holdout_share": HOLDOUT_SHARE,
        "split": "sklearn train_test_split(test_size=0.3, random_state=seed, stratified on a discrete target)",
        "sample_rows": "len(train split)",
        "models": list(models),
        "seeding": {
            "synthaug": "get_synthesizer(name, epochs=epochs, random_state=seed)",
            "sdv": "random/numpy/torch global seeds = seed before fit, seed + 1 before sample",
            "arfpy": "random/numpy/torch global seeds = seed before fit, seed + 1 before sample",
            "mostlyai": "engine.set_random_state(seed) before fit, seed + 1 before generate",
            "metrics": "random_state=seed (pairwise_trends, detection_auc's and TSTR's HistGradientBoosting)",
        },
        "datasets": list(args.datasets),
        "targets": {name: common.TARGETS[name] for name in args.datasets},
        "skip_sdv": args.skip_sdv,
        "mostlyai_train": {k: repr(v) for k, v in MOSTLYAI_TRAIN.items()},
        "notes": list(notes),
    }
    info["command"] = command
    return info


def _model_cells(res: dict[str, Any]) -> list[str]:
    s = res.get("scores") or {}
    return [
        common.fmt(res.get("fit_seconds"), ".1f"),
        common.fmt(res.get("rows_per_second"), ",.0f"),
        common.fmt(s.get("column_shapes"), ".3f"),
        common.fmt(s.get("pairwise_trends"), ".3f"),
        common.fmt(s.get("detection_auc"), ".3f"),
        common.fmt(s.get("tstr"), ".3f"),
        common.fmt(s.get("tstr_over_trtr"), ".2f"),
        common.fmt(s.get("membership_auc"), ".3f"),
        common.fmt(s.get("closer_to_train"), ".3f"),
    ]


def markdown_table(rows: Sequence[dict[str, Any]]) -> str:
    """The results as a Markdown table: per dataset, the real-holdout reference then each model."""
    header = [
        "dataset", "model", "fit s", "sample rows/s", "column shapes", "pairwise trends", "detection AUC", "TSTR",
        "TSTR/TRTR", "membership AUC", "closer to train",
    ]  # fmt: skip
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        ref = row["reference"]
        metric = "ROC AUC" if row["task"] == "classification" else "R²"
        label = f"{row['dataset']} ({row['train_rows']}+{row['holdout_rows']} x {row['columns']}, {metric})"
        cells = [
            label, f"*{REFERENCE}*", "", "",
            common.fmt(ref.get("column_shapes"), ".3f"), common.fmt(ref.get("pairwise_trends"), ".3f"),
            common.fmt(ref.get("detection_reference"), ".3f"), f"TRTR {common.fmt(row['trtr'], '.3f')}", "", "0.5", "0.5",
        ]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
        for name, res in row["models"].items():
            cells = ["failed"] + [""] * 8 if res.get("error") else _model_cells(res)
            selection = (res.get("details") or {}).get("selection")
            shown = f"{name} (chose {selection['chosen']})" if selection else name
            lines.append("| " + " | ".join(["", shown, *cells]) + " |")
    return "\n".join(lines)


def markdown_report(info: dict[str, Any], rows: Sequence[dict[str, Any]]) -> str:
    """A Markdown document: settings, machine, table, notes and any errors."""
    v, s = info["versions"], info["settings"]
    lines = [
        f"# Tabular benchmark: synthaug vs SDV, arfpy and the MOSTLY AI engine ({info['timestamp_utc']})",
        "",
        f"- command: `{info['command']}`",
        f"- machine: {info['platform']}, {info['processor']}, {info['cpu_count']} CPUs "
        f"(torch threads {info['torch_threads']}), CUDA available: {info['cuda_available']}",
        f"- versions: synthaug {v['synthaug']}, sdv {v['sdv'] or 'not run'}, arfpy {v.get('arfpy') or 'not run'}, "
        f"mostlyai-engine {v.get('mostlyai-engine') or 'not run'}, torch {v['torch']}, "
        f"scikit-learn {v['scikit-learn']}, pandas {v['pandas']}, numpy {v['numpy']}, python {info['python']}",
        f"- settings: epochs {s['epochs']} (every model that trains by epochs), seed {s['seed']}, "
        f"stratified {1 - HOLDOUT_SHARE:.0%}/{HOLDOUT_SHARE:.0%} train/holdout split, "
        "as many rows sampled as the training split",
        "- fit s: seconds of the `fit` call (includes preprocessing); sample rows/s: one `sample` call; "
        "column shapes / pairwise trends: `synthaug.evaluation` against the training split (1 = identical); "
        "detection AUC: cross-validated HistGradientBoosting telling training rows from synthetic ones "
        "(0.5 = indistinguishable; the reference line tests holdout rows against training rows); "
        "TSTR: HistGradientBoosting trained on the synthetic rows, tested on the real holdout "
        "(ROC AUC of the minority class, or R² for a numeric target); TSTR/TRTR: against the same "
        f"model trained on the real training split (TRTR). Leakage: membership AUC = ROC AUC of the distance "
        "attack (a training row's distance to its closest synthetic row vs a holdout row's; 0.5 = no signal), "
        "closer to train = share of synthetic rows nearer to a training row than to a holdout row (0.5 = no "
        f"signal). *{REFERENCE}*: the real holdout scored as if it were "
        "synthetic (what a perfect synthesizer could reach) and the TRTR score.",
        "",
        markdown_table(rows),
    ]
    if s.get("notes"):
        lines += ["", "Notes:", *[f"- {n}" for n in s["notes"]]]
    errors = []
    for row in rows:
        for name, res in row["models"].items():
            if res.get("error"):
                errors.append(f"- {row['dataset']} / {name}: {res['error']}")
            for metric, err in (res.get("scores") or {}).get("metric_errors", {}).items():
                errors.append(f"- {row['dataset']} / {name} / {metric}: {err}")
    if errors:
        lines += ["", "Errors:", *errors]
    return "\n".join(lines) + "\n"


def _print_result(res: ModelResult) -> None:
    if res.error:
        print(f"  {res.model:20s} FAILED: {res.error}", flush=True)
        return
    sc = res.scores
    print(
        f"  {res.model:20s} fit {res.fit_seconds:8.2f} s | sample {res.sample_rows} rows in "
        f"{res.sample_seconds:.2f} s = {res.rows_per_second:,.0f} rows/s | "
        f"shapes {common.fmt(sc.column_shapes, '.3f')} | pairs {common.fmt(sc.pairwise_trends, '.3f')} "
        f"| detection {common.fmt(sc.detection_auc, '.3f')} | TSTR {common.fmt(sc.tstr, '.3f')} "
        f"(/TRTR {common.fmt(sc.tstr_over_trtr, '.2f')})",
        flush=True,
    )
    for metric, err in sc.metric_errors.items():
        print(f"  {'':20s} {metric} failed: {err}", flush=True)


# --------------------------------------------------------------------------- main
def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=300, help="training epochs of every epoch-trained model (default 300)")
    parser.add_argument(
        "--datasets", nargs="+", choices=DATASETS, default=list(DEFAULT_DATASETS),
        help=f"datasets to run (default: {' '.join(DEFAULT_DATASETS)}); targets: "
        + ", ".join(f"{d} -> {common.TARGETS[d]}" for d in DATASETS),
    )  # fmt: skip
    every = [*OUR_MODELS, *SDV_MODELS, *BASELINES]
    parser.add_argument(
        "--models", nargs="+", choices=every, default=every,
        help="models to run (default: all; synthaug names absent from the registry and baselines that are not "
        "installed are skipped with a note)",
    )  # fmt: skip
    parser.add_argument("--seed", type=int, default=0, help="random seed of the split, the models and the metrics (default 0)")
    parser.add_argument("--skip-sdv", action="store_true", help="leave out SDV's models")
    common.add_path_arguments(parser)
    args = parser.parse_args(argv)
    if args.epochs < 1:
        parser.error("--epochs must be positive")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; return 0 on success, 1 if any model run or metric failed."""
    args = parse_args(argv)
    started = datetime.now(UTC)
    runners: list[Runner]
    ours, notes = our_runners([m for m in OUR_MODELS if m in args.models])
    runners = list(ours)
    wanted_sdv = [m for m in SDV_MODELS if m in args.models]
    sdv = None
    if wanted_sdv and not args.skip_sdv:
        sdv = common.sdv_version(*(SDV_MODELS[m][0] for m in wanted_sdv))
        if sdv is None:
            notes.append(SDV_MISSING_MESSAGE)
        else:
            runners += sdv_runners(wanted_sdv)
    others, other_notes = baseline_runners([m for m in BASELINES if m in args.models])
    runners += others
    notes += other_notes
    for note in notes:
        print(note, flush=True)
    if not runners:
        print("no model to run", file=sys.stderr)
        return 1
    has_sdv = any(isinstance(r, common.SdvRunner) for r in runners)
    info = machine_info(args, sdv if has_sdv else None, [r.name for r in runners], notes, started)
    print(
        f"tabular benchmark: epochs={args.epochs} seed={args.seed} models={[r.name for r in runners]} ({info['cpu_count']} CPUs)",
        flush=True,
    )

    from threadpoolctl import threadpool_limits

    from synthaug.evaluation import train_synthetic_test_real

    tables = {name: common.load_table(name, args.data_dir) for name in args.datasets}  # fail before any training
    rows: list[dict[str, Any]] = []
    for name, (frame, source) in tables.items():
        target = common.TARGETS[name]
        split = split_table(frame, target, args.seed)
        task = "classification" if split.schema[target].is_discrete else "regression"
        print(
            f"\n== {name}: {frame.shape[0]} x {frame.shape[1]} ({source}); target {target} ({task}); "
            f"train {len(split.train)}, holdout {len(split.holdout)}",
            flush=True,
        )
        with threadpool_limits(1):  # see evaluate()
            trtr = train_synthetic_test_real(
                split.train, split.train, real_holdout=split.holdout, target=target, schema=split.schema,
                random_state=args.seed,
            )  # fmt: skip
        reference = evaluate(split, split.holdout, args.seed, utility=False)
        print(
            f"  {REFERENCE:20s} shapes {common.fmt(reference.column_shapes, '.3f')} | pairs "
            f"{common.fmt(reference.pairwise_trends, '.3f')} | detection {common.fmt(reference.detection_reference, '.3f')} "
            f"| TRTR {trtr.value:.3f} {trtr.details['trtr']}",
            flush=True,
        )
        results: dict[str, ModelResult] = {}
        for runner in runners:  # sequentially, never in parallel
            results[runner.name] = res = run_model(runner, split, epochs=args.epochs, seed=args.seed)
            _print_result(res)
        rows.append(
            {
                "dataset": name,
                "source": source,
                "rows": int(frame.shape[0]),
                "columns": int(frame.shape[1]),
                "target": target,
                "task": task,
                "train_rows": len(split.train),
                "holdout_rows": len(split.holdout),
                "trtr": _number(trtr.value),
                "trtr_metrics": trtr.details["trtr"],
                "reference": asdict(reference),
                "models": {k: asdict(v) for k, v in results.items()},
            }
        )

    report = markdown_report(info, rows)
    print("\n" + markdown_table(rows))
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    base = args.output_dir / f"tabular_{stamp}_e{args.epochs}"
    payload = {"benchmark": "tabular", **info, "results": rows}
    common.write_atomic(base.with_suffix(".json"), json.dumps(payload, indent=2, default=_json_default) + "\n")
    common.write_atomic(base.with_suffix(".md"), report)
    print(f"\nwrote {base.with_suffix('.json')} and {base.with_suffix('.md')}")
    failed = any(res["error"] or res["scores"]["metric_errors"] for row in rows for res in row["models"].values())
    return 1 if failed else 0


def _json_default(value: Any) -> Any:
    """NumPy scalars and other odd values in the results, as JSON."""
    if isinstance(value, np.generic):
        return value.item()
    return str(value)


if __name__ == "__main__":
    sys.exit(main())
