#!/usr/bin/env python
"""Benchmark synthaug's tabular synthesizers against SDV's TVAE and Gaussian copula.

Every model is fitted one after the other (never in parallel) on the same stratified 70 %
training split of each dataset; the 30 % holdout is only used to test utility. Models:

* synthaug: ``synthaug.get_synthesizer(name, epochs=E, random_state=seed)`` for each of
  ``ctgan``, ``tvae`` and ``flow`` that ``synthaug.available_synthesizers()`` offers
  (absent names are skipped with a note), everything else at synthaug's defaults;
* SDV (optional extra): ``sdv.single_table.TVAESynthesizer(metadata, epochs=E)`` (the same
  epochs as ours) and ``GaussianCopulaSynthesizer(metadata)``, at SDV's defaults.

For each model and dataset the script measures fit seconds (the ``fit`` call, including
preprocessing), sampling throughput (one ``sample`` call of as many rows as the training
split, timed), and scores the synthetic rows against the training split with
``synthaug.evaluation``: ``column_shapes``, ``pairwise_trends`` and
``train_synthetic_test_real`` (TSTR: HistGradientBoosting trained on synthetic, tested on
the real holdout; ROC AUC of the minority class for a categorical target, R² otherwise),
with the TRTR reference (the same model trained on the real training split), and leakage:
``membership_inference_distance`` (ROC AUC of the distance attack, training vs holdout rows)
and ``closer_to_train_share`` (both 0.5 when the synthetic rows are no nearer to the training
rows than to unseen ones). A reference line scores the real holdout itself as if it were synthetic.

Results are printed as a Markdown table and written as JSON + Markdown (``tabular_`` prefix)
to ``benchmarks/results/``. Without SDV only synthaug's models run. Example (full run)::

    python benchmarks/bench_tabular.py --epochs 300 --datasets attrition creditcard
"""

from __future__ import annotations

import argparse
import json
import sys
import traceback
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import numpy as np
import pandas as pd

try:  # run as a script: benchmarks/ is on sys.path
    import _common as common
except ImportError:  # imported as benchmarks.bench_tabular
    from benchmarks import _common as common

#: synthaug synthesizers compared, when the registry has them.
OUR_MODELS = ("ctgan", "tvae", "flow")
#: SDV runner name -> (class in sdv.single_table, takes epochs).
SDV_MODELS = {
    "sdv-tvae": ("TVAESynthesizer", True),
    "sdv-gaussiancopula": ("GaussianCopulaSynthesizer", False),
}
DATASETS = ("attrition", "creditcard", "cps1988", "ames")
DEFAULT_DATASETS = ("attrition", "creditcard")
HOLDOUT_SHARE = 0.3
REFERENCE = "real holdout"
SDV_MISSING_MESSAGE = (
    "SDV is not installed: it is an optional extra (pip install 'synthaug[sdv]'). Running synthaug's synthesizers only."
)


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
        return {"class": type(model).__name__, "parameters": {k: repr(v) for k, v in model.get_params().items()}}


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


# --------------------------------------------------------------------------- measuring
@dataclass
class Scores:
    """The evaluation of one synthetic (or reference) table against the training split."""

    column_shapes: float | None = None
    pairwise_trends: float | None = None
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

    info = common.machine_base(started, {"sdv": sdv, "scikit-learn": sklearn.__version__})
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
            "metrics": "random_state=seed (pairwise_trends, TSTR's HistGradientBoosting)",
        },
        "datasets": list(args.datasets),
        "targets": {name: common.TARGETS[name] for name in args.datasets},
        "skip_sdv": args.skip_sdv,
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
        common.fmt(s.get("tstr"), ".3f"),
        common.fmt(s.get("tstr_over_trtr"), ".2f"),
        common.fmt(s.get("membership_auc"), ".3f"),
        common.fmt(s.get("closer_to_train"), ".3f"),
    ]


def markdown_table(rows: Sequence[dict[str, Any]]) -> str:
    """The results as a Markdown table: per dataset, the real-holdout reference then each model."""
    header = [
        "dataset", "model", "fit s", "sample rows/s", "column shapes", "pairwise trends", "TSTR", "TSTR/TRTR",
        "membership AUC", "closer to train",
    ]  # fmt: skip
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        ref = row["reference"]
        metric = "ROC AUC" if row["task"] == "classification" else "R²"
        label = f"{row['dataset']} ({row['train_rows']}+{row['holdout_rows']} x {row['columns']}, {metric})"
        cells = [
            label, f"*{REFERENCE}*", "", "",
            common.fmt(ref.get("column_shapes"), ".3f"), common.fmt(ref.get("pairwise_trends"), ".3f"),
            f"TRTR {common.fmt(row['trtr'], '.3f')}", "", "0.5", "0.5",
        ]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
        for name, res in row["models"].items():
            cells = ["failed"] + [""] * 7 if res.get("error") else _model_cells(res)
            lines.append("| " + " | ".join(["", name, *cells]) + " |")
    return "\n".join(lines)


def markdown_report(info: dict[str, Any], rows: Sequence[dict[str, Any]]) -> str:
    """A Markdown document: settings, machine, table, notes and any errors."""
    v, s = info["versions"], info["settings"]
    lines = [
        f"# Tabular benchmark: synthaug vs SDV ({info['timestamp_utc']})",
        "",
        f"- command: `{info['command']}`",
        f"- machine: {info['platform']}, {info['processor']}, {info['cpu_count']} CPUs "
        f"(torch threads {info['torch_threads']}), CUDA available: {info['cuda_available']}",
        f"- versions: synthaug {v['synthaug']}, sdv {v['sdv'] or 'not run'}, torch {v['torch']}, "
        f"scikit-learn {v['scikit-learn']}, pandas {v['pandas']}, numpy {v['numpy']}, python {info['python']}",
        f"- settings: epochs {s['epochs']} (every model that trains by epochs), seed {s['seed']}, "
        f"stratified {1 - HOLDOUT_SHARE:.0%}/{HOLDOUT_SHARE:.0%} train/holdout split, "
        "as many rows sampled as the training split",
        "- fit s: seconds of the `fit` call (includes preprocessing); sample rows/s: one `sample` call; "
        "column shapes / pairwise trends: `synthaug.evaluation` against the training split (1 = identical); "
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
        f"shapes {common.fmt(sc.column_shapes, '.3f')} "
        f"| pairs {common.fmt(sc.pairwise_trends, '.3f')} | TSTR {common.fmt(sc.tstr, '.3f')} "
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
    parser.add_argument(
        "--models", nargs="+", choices=[*OUR_MODELS, *SDV_MODELS], default=[*OUR_MODELS, *SDV_MODELS],
        help="models to run (default: all; synthaug names absent from the registry are skipped)",
    )  # fmt: skip
    parser.add_argument("--seed", type=int, default=0, help="random seed of the split, the models and the metrics (default 0)")
    parser.add_argument("--skip-sdv", action="store_true", help="run synthaug's synthesizers only")
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
            f"{common.fmt(reference.pairwise_trends, '.3f')} | TRTR {trtr.value:.3f} {trtr.details['trtr']}",
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
