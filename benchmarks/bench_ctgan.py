#!/usr/bin/env python
"""Benchmark synthaug's CTGAN against SDV's CTGANSynthesizer on the same tables.

Both models are fitted one after the other (never in parallel) with the same epochs,
batch size (500) and pac (10), on the same data, in one run. For each model and
dataset the script measures:

* fit seconds (``fit`` call, which includes the data transformer / preprocessing),
* sampling throughput (rows/s over one ``sample`` call of ``--sample-rows`` rows),
* per-column fidelity: ``synthaug.evaluation.column_shapes(real, synthetic).value``
  (1 = identical marginals),

and the ratios ``SDV time / our time`` and ``our fidelity - SDV fidelity``. The results
are printed as a Markdown table and written as JSON + Markdown to ``benchmarks/results/``.

SDV is an optional extra (``pip install 'synthaug[sdv]'``); without it only synthaug's
model is run. Example (full run)::

    python benchmarks/bench_ctgan.py --epochs 300 --datasets attrition creditcard
"""

from __future__ import annotations

import argparse
import json
import sys
import traceback
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

try:  # run as a script: benchmarks/ is on sys.path
    import _common as common
except ImportError:  # imported as benchmarks.bench_ctgan
    from benchmarks import _common as common

REPO_ROOT = common.REPO_ROOT
DEFAULT_DATA_DIR = common.DEFAULT_DATA_DIR
DEFAULT_OUTPUT_DIR = common.DEFAULT_OUTPUT_DIR
RDATASETS = common.RDATASETS
load_table = common.load_table
write_atomic = common.write_atomic
timed = common.timed
_SdvModel = common.SdvModel
_fmt = common.fmt

DEFAULT_DATASETS = ("attrition", "creditcard")

# Shared by both models (and both libraries' defaults).
BATCH_SIZE = 500
PAC = 10

OURS = "synthaug"
SDV = "sdv"
SDV_MISSING_MESSAGE = (
    "SDV is not installed: it is an optional extra (pip install 'synthaug[sdv]'). Running synthaug's CTGAN only."
)


# --------------------------------------------------------------------------- models
Runner = common.Runner


class SynthaugRunner:
    """synthaug's :class:`~synthaug.synthesizers.CTGANSynthesizer` (seeded via ``random_state``)."""

    name = OURS

    def build(self, frame: pd.DataFrame, epochs: int, seed: int) -> Any:
        """Create ``CTGANSynthesizer(epochs=..., batch_size=500, pac=10, random_state=seed)``."""
        from synthaug.synthesizers import CTGANSynthesizer

        return CTGANSynthesizer(epochs=epochs, batch_size=BATCH_SIZE, pac=PAC, min_steps_per_epoch=None, random_state=seed)

    def fit(self, model: Any, frame: pd.DataFrame) -> None:
        """Call ``model.fit(frame)``."""
        model.fit(frame)

    def sample(self, model: Any, n_rows: int) -> pd.DataFrame:
        """Call ``model.sample(n_rows)``."""
        return model.sample(n_rows)


class SdvRunner(common.SdvRunner):
    """SDV's ``sdv.single_table.CTGANSynthesizer`` through its public API (2.x and 1.x).

    SDV's CTGAN takes no seed, so global RNGs (``random``, NumPy, torch) are seeded with
    ``seed`` before fitting and ``seed + 1`` before sampling. SDV's warnings are suppressed.
    """

    def __init__(self) -> None:
        super().__init__(SDV, "CTGANSynthesizer", {"batch_size": BATCH_SIZE, "pac": PAC})


def sdv_version() -> str | None:
    """Return SDV's version if ``sdv`` and its CTGAN import, else ``None``."""
    return common.sdv_version("CTGANSynthesizer")


# --------------------------------------------------------------------------- measuring
@dataclass
class ModelResult:
    """What one model measured on one dataset (``error`` set when the run failed)."""

    model: str
    setup_seconds: float | None = None
    fit_seconds: float | None = None
    sample_rows: int | None = None
    sample_seconds: float | None = None
    rows_per_second: float | None = None
    fidelity: float | None = None
    fidelity_per_column: dict[str, float] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


def run_model(runner: Runner, frame: pd.DataFrame, *, epochs: int, seed: int, sample_rows: int) -> ModelResult:
    """Build, fit and sample one model on ``frame``, timing each step, and score fidelity.

    Any exception is recorded in ``ModelResult.error`` (with the traceback printed) so
    that one failure does not lose the rest of a long benchmark.
    """
    from synthaug.evaluation import column_shapes

    result = ModelResult(runner.name)
    try:
        model, result.setup_seconds = timed(lambda: runner.build(frame.copy(), epochs, seed))
        _, result.fit_seconds = timed(lambda: runner.fit(model, frame.copy()))
        synthetic, result.sample_seconds = timed(lambda: runner.sample(model, sample_rows))
        result.sample_rows = len(synthetic)
        result.rows_per_second = len(synthetic) / result.sample_seconds
        synthetic = synthetic[list(frame.columns)]
        score = column_shapes(frame, synthetic)
        result.fidelity = float(score.value)
        result.fidelity_per_column = {str(k): float(v) for k, v in score.details.get("per_column", {}).items()}
        if isinstance(model, _SdvModel):
            result.details["sdv_api"] = model.api
    except Exception as exc:  # noqa: BLE001 - recorded and reported, run continues
        traceback.print_exc()
        result.error = f"{type(exc).__name__}: {exc}"
    return result


def ratios(ours: ModelResult, sdv: ModelResult | None) -> dict[str, float | None]:
    """SDV time / our time (fit, sample) and our fidelity - SDV fidelity; ``None`` where unknown."""

    def div(a: float | None, b: float | None) -> float | None:
        return a / b if a is not None and b else None

    if sdv is None:
        return {"fit_time_sdv_over_ours": None, "sample_time_sdv_over_ours": None, "fidelity_ours_minus_sdv": None}
    return {
        "fit_time_sdv_over_ours": div(sdv.fit_seconds, ours.fit_seconds),
        "sample_time_sdv_over_ours": div(sdv.sample_seconds, ours.sample_seconds),
        "fidelity_ours_minus_sdv": (
            ours.fidelity - sdv.fidelity if ours.fidelity is not None and sdv.fidelity is not None else None
        ),
    }


# --------------------------------------------------------------------------- reporting
def machine_info(args: argparse.Namespace, sdv: str | None, started: datetime) -> dict[str, Any]:
    """Platform, CPU, library versions and the run's settings."""
    info = common.machine_base(started, {"sdv": sdv, "ctgan": common.dist_version("ctgan") if sdv else None})
    command = info.pop("command")
    info["settings"] = {
        "epochs": args.epochs,
        "batch_size": BATCH_SIZE,
        "pac": PAC,
        "sample_rows": args.sample_rows,
        "seed": args.seed,
        "seeding": {
            OURS: "CTGANSynthesizer(random_state=seed)",
            SDV: "random/numpy/torch global seeds = seed before fit, seed + 1 before sample",
        },
        "datasets": list(args.datasets),
        "skip_sdv": args.skip_sdv,
    }
    info["command"] = command
    return info


def markdown_table(rows: Sequence[dict[str, Any]]) -> str:
    """The results as a Markdown table, one line per dataset (plus a summary line)."""
    header = [
        "dataset", "rows x cols",
        "ours fit s", "SDV fit s", "fit SDV/ours",
        "ours rows/s", "SDV rows/s", "sample SDV/ours",
        "ours fidelity", "SDV fidelity", "fidelity ours-SDV",
    ]  # fmt: skip
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        ours, sdv, r = row["models"][OURS], row["models"].get(SDV) or {}, row["ratios"]
        cells = [
            row["dataset"], f"{row['rows']} x {row['columns']}",
            _fmt(ours.get("fit_seconds"), ".1f"), _fmt(sdv.get("fit_seconds"), ".1f"),
            _fmt(r["fit_time_sdv_over_ours"], ".2f"),
            _fmt(ours.get("rows_per_second"), ",.0f"), _fmt(sdv.get("rows_per_second"), ",.0f"),
            _fmt(r["sample_time_sdv_over_ours"], ".2f"),
            _fmt(ours.get("fidelity"), ".3f"), _fmt(sdv.get("fidelity"), ".3f"),
            _fmt(r["fidelity_ours_minus_sdv"], "+.3f"),
        ]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    if len(rows) > 1:
        lines.append(_summary_line(rows))
    return "\n".join(lines)


def _summary_line(rows: Sequence[dict[str, Any]]) -> str:
    """Table line with total fit seconds, overall ratios and mean fidelity over all datasets."""

    def values(model: str, key: str) -> list[float] | None:
        found = [(row["models"].get(model) or {}).get(key) for row in rows]
        return None if any(v is None for v in found) else found

    def total(model: str, key: str) -> float | None:
        v = values(model, key)
        return float(sum(v)) if v is not None else None

    def mean(model: str, key: str) -> float | None:
        v = values(model, key)
        return float(np.mean(v)) if v is not None else None

    ours_fit, sdv_fit = total(OURS, "fit_seconds"), total(SDV, "fit_seconds")
    ours_smp, sdv_smp = total(OURS, "sample_seconds"), total(SDV, "sample_seconds")
    ours_fid, sdv_fid = mean(OURS, "fidelity"), mean(SDV, "fidelity")
    cells = [
        "**all (fit: sum, fidelity: mean)**", "",
        _fmt(ours_fit, ".1f"), _fmt(sdv_fit, ".1f"),
        _fmt(sdv_fit / ours_fit if sdv_fit is not None and ours_fit else None, ".2f"),
        "", "",
        _fmt(sdv_smp / ours_smp if sdv_smp is not None and ours_smp else None, ".2f"),
        _fmt(ours_fid, ".3f"), _fmt(sdv_fid, ".3f"),
        _fmt(ours_fid - sdv_fid if ours_fid is not None and sdv_fid is not None else None, "+.3f"),
    ]  # fmt: skip
    return "| " + " | ".join(cells) + " |"


def markdown_report(info: dict[str, Any], rows: Sequence[dict[str, Any]]) -> str:
    """A Markdown document: settings, machine, table and any errors."""
    v, s = info["versions"], info["settings"]
    lines = [
        f"# CTGAN benchmark: synthaug vs SDV ({info['timestamp_utc']})",
        "",
        f"- command: `{info['command']}`",
        f"- machine: {info['platform']}, {info['processor']}, {info['cpu_count']} CPUs "
        f"(torch threads {info['torch_threads']}), CUDA available: {info['cuda_available']}",
        f"- versions: synthaug {v['synthaug']}, sdv {v['sdv'] or 'not run'}, torch {v['torch']}, "
        f"pandas {v['pandas']}, numpy {v['numpy']}, python {info['python']}",
        f"- settings: epochs {s['epochs']}, batch size {s['batch_size']}, pac {s['pac']}, "
        f"{s['sample_rows']} sampled rows, seed {s['seed']}",
        "- fit s: seconds of the `fit` call (includes the data transformer / preprocessing); "
        "rows/s: one `sample` call; fidelity: `synthaug.evaluation.column_shapes(real, synthetic).value` "
        "(1 = identical marginals); SDV/ours > 1 means ours is faster.",
        "",
        markdown_table(rows),
    ]
    errors = [
        f"- {row['dataset']} / {name}: {res['error']}"
        for row in rows
        for name, res in row["models"].items()
        if res and res.get("error")
    ]
    if errors:
        lines += ["", "Errors:", *errors]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- main
def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=300, help="training epochs for both models (default 300)")
    parser.add_argument(
        "--datasets", nargs="+", choices=sorted(RDATASETS), default=list(DEFAULT_DATASETS),
        help=f"datasets to run (default: {' '.join(DEFAULT_DATASETS)})",
    )  # fmt: skip
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--sample-rows", type=int, default=10_000, help="rows sampled and timed (default 10000)")
    parser.add_argument("--skip-sdv", action="store_true", help="run synthaug's CTGAN only")
    common.add_path_arguments(parser)
    args = parser.parse_args(argv)
    if args.epochs < 1 or args.sample_rows < 1:
        parser.error("--epochs and --sample-rows must be positive")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; return 0 on success, 1 if any model run failed."""
    args = parse_args(argv)
    started = datetime.now(UTC)
    runners: list[Runner] = [SynthaugRunner()]
    sdv = None
    if not args.skip_sdv:
        sdv = sdv_version()
        if sdv is None:
            print(SDV_MISSING_MESSAGE, flush=True)
        else:
            runners.append(SdvRunner())
    info = machine_info(args, sdv if len(runners) > 1 else None, started)
    print(
        f"CTGAN benchmark: epochs={args.epochs} batch_size={BATCH_SIZE} pac={PAC} seed={args.seed} "
        f"sample_rows={args.sample_rows} models={[r.name for r in runners]} ({info['cpu_count']} CPUs)",
        flush=True,
    )

    tables = {name: load_table(name, args.data_dir) for name in args.datasets}  # fail before any training
    rows: list[dict[str, Any]] = []
    for name, (frame, source) in tables.items():
        print(f"\n== {name}: {frame.shape[0]} x {frame.shape[1]} ({source})", flush=True)
        results: dict[str, ModelResult] = {}
        for runner in runners:  # sequentially, never in parallel
            res = run_model(runner, frame, epochs=args.epochs, seed=args.seed, sample_rows=args.sample_rows)
            results[runner.name] = res
            if res.error:
                print(f"  {runner.name:9s} FAILED: {res.error}", flush=True)
            else:
                print(
                    f"  {runner.name:9s} fit {res.fit_seconds:8.2f} s (setup {res.setup_seconds:.2f} s) | "
                    f"sample {res.sample_rows} rows in {res.sample_seconds:.2f} s = {res.rows_per_second:,.0f} rows/s | "
                    f"fidelity (column_shapes) {res.fidelity:.4f}",
                    flush=True,
                )
        rows.append(
            {
                "dataset": name,
                "source": source,
                "rows": int(frame.shape[0]),
                "columns": int(frame.shape[1]),
                "models": {k: asdict(v) for k, v in results.items()},
                "ratios": ratios(results[OURS], results.get(SDV)),
            }
        )

    report = markdown_report(info, rows)
    print("\n" + markdown_table(rows))
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    base = args.output_dir / f"ctgan_{stamp}_e{args.epochs}"
    write_atomic(base.with_suffix(".json"), json.dumps({"benchmark": "ctgan", **info, "results": rows}, indent=2) + "\n")
    write_atomic(base.with_suffix(".md"), report)
    print(f"\nwrote {base.with_suffix('.json')} and {base.with_suffix('.md')}")
    failed = any(res["error"] for row in rows for res in row["models"].values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
