#!/usr/bin/env python
"""Run every benchmark, one after the other, and write one results file with a headline table.

Each benchmark script runs in its own process (so timings and peak memory are its own) with the
same ``--seed`` and writes its JSON/Markdown into ``<output-dir>/run_<timestamp>/<name>/``; its
console output goes to ``<name>.log`` beside it. This script then writes
``run_<timestamp>.json`` (machine, versions, seeds, settings and every benchmark's JSON) and
``run_<timestamp>.md`` (a headline table, then every benchmark's own report). Every figure in the
headline table is read from those files, never typed in. SDV baselines run when SDV is importable
by the Python running the suite (``pip install 'synthaug[sdv]'``); otherwise their cells say so.

    python benchmarks/run_all.py              # everything at full size (about 1.5 hours on 2 cores)
    python benchmarks/run_all.py --quick      # tiny epochs and rows: checks the suite runs (minutes)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

try:  # run as a script: benchmarks/ is on sys.path
    import _common as common
except ImportError:  # imported as benchmarks.run_all
    from benchmarks import _common as common

HERE = Path(__file__).resolve().parent


def suite(args: argparse.Namespace) -> list[tuple[str, list[str]]]:
    """(name, script arguments) of every benchmark, at full size or ``--quick``."""
    quick = args.quick
    seed = ["--seed", str(args.seed)]
    return [
        ("ctgan", ["bench_ctgan.py", "--epochs", "2" if quick else "300", *seed]
         + (["--sample-rows", "500", "--datasets", "creditcard"] if quick else [])),
        ("tabular", ["bench_tabular.py", "--epochs", "2" if quick else "300", *seed]
         + (["--datasets", "creditcard"] if quick else [])),
        ("oversampling", ["bench_oversampling.py"]
         + (["--seeds", str(args.seed), "--datasets", "creditcard"] if quick else [])),
        ("augmentation", ["bench_augmentation.py"]
         + (["--seeds", str(args.seed), "--datasets", "cps1988", "--ratios", "0.5", "--max-rows", "600"] if quick else [])),
        ("dp", ["bench_dp.py", "--epochs", "1" if quick else "20", *seed]
         + (["--epsilons", "3", "inf", "--models", "flow"] if quick else ["--membership"])),
        ("dp_audit", ["bench_dp_audit.py", "--fits", "6" if quick else "100", *seed]
         + (["--epochs", "1", "--models", "flow"] if quick else [])),
        ("scale", ["bench_scale.py", "--rows", "20000" if quick else "1000000", "--models", "tvae", *seed]),
        ("evaluation", ["bench_evaluation.py", "--rows", "1000" if quick else "10000", "--columns", "30", *seed]),
        ("images", ["bench_images.py", *seed] + (["--quick", "--epsilons", "inf", "10", "--oversampler-models", "flow"]
                                                 if quick else [])),
    ]  # fmt: skip


def run_one(name: str, argv: list[str], folder: Path, data_dir: Path) -> dict[str, Any]:
    """Run one benchmark script; return its exit code, seconds and the JSON it wrote (if any)."""
    out = folder / name
    out.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, str(HERE / argv[0]), *argv[1:]]
    if name != "evaluation":  # bench_evaluation prints its figures and writes no file
        command += ["--output-dir", str(out), "--data-dir", str(data_dir)]
    print(f"== {name}: {' '.join(command[1:])}", flush=True)
    start = time.perf_counter()
    with open(out / f"{name}.log", "w", encoding="utf-8") as log:
        code = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, check=False).returncode
    seconds = time.perf_counter() - start
    results = sorted(out.glob("*.json"))
    markdown = sorted(out.glob("*.md"))
    print(f"   exit {code} after {seconds:.0f} s", flush=True)
    return {
        "command": " ".join(Path(c).name if i < 2 else c for i, c in enumerate(command)),
        "exit_code": code,
        "seconds": seconds,
        "result": json.loads(results[-1].read_text()) if results else None,
        "report": markdown[-1].read_text() if markdown else None,
        "log_tail": (out / f"{name}.log").read_text()[-4000:],
    }


# --------------------------------------------------------------------------- headline
def _f(value: Any, spec: str) -> str:
    return common.fmt(value, spec) if isinstance(value, int | float) else "–"


def _versus(what: str, ours: dict[str, Any], other: dict[str, Any] | None) -> list[str]:
    """A headline row: fit s, sample rows/s, column shapes, TSTR, membership AUC of ours and of an anchor."""

    def cell(res: dict[str, Any]) -> str:
        s = res.get("scores") or {}
        quality = [_f(s.get(k), ".3f") for k in ("column_shapes", "tstr", "membership_auc")]
        return f"{_f(res.get('fit_seconds'), '.1f')} s, {_f(res.get('rows_per_second'), ',.0f')} rows/s, " + ", ".join(quality)

    if not other or other.get("error"):
        return [what + ": fit, sampling, shapes, TSTR, MIA AUC", cell(ours), "SDV not run", "–"]
    ratio = (other.get("fit_seconds") or 0) / (ours.get("fit_seconds") or float("nan"))
    speed = (ours.get("rows_per_second") or 0) / (other.get("rows_per_second") or float("nan"))
    return [what + ": fit, sampling, shapes, TSTR, MIA AUC", cell(ours), cell(other),
            f"ours: fit {_f(ratio, '.2f')}x, sampling {_f(speed, '.1f')}x as fast"]  # fmt: skip


def headline_rows(runs: dict[str, dict[str, Any]]) -> list[list[str]]:
    """[what, ours, anchor, comparison] rows read from the benchmarks' JSON files."""
    rows: list[list[str]] = []
    ctgan = (runs.get("ctgan") or {}).get("result") or {}
    for r in ctgan.get("results", []):
        ours, sdv, ratios = r["models"].get("synthaug") or {}, r["models"].get("sdv") or {}, r.get("ratios") or {}
        anchor = f"SDV CTGAN {_f(sdv.get('fit_seconds'), '.1f')} s, {_f(sdv.get('fidelity'), '.3f')}" if sdv else "SDV not run"
        comparison = "–"
        if ratios and sdv:
            speed, delta = ratios.get("fit_time_sdv_over_ours"), ratios.get("fidelity_ours_minus_sdv")
            comparison = f"{_f(speed, '.2f')}x faster, fidelity {_f(delta, '+.3f')}"
        ours_cell = f"{_f(ours.get('fit_seconds'), '.1f')} s, {_f(ours.get('fidelity'), '.3f')}"
        rows.append([f"CTGAN fit s, fidelity ({r['dataset']})", ours_cell, anchor, comparison])
    tabular = (runs.get("tabular") or {}).get("result") or {}
    for r in tabular.get("results", []):
        models = r["models"]
        ours = {k: v for k, v in models.items() if k.startswith("synthaug-") and not v.get("error")}
        if not ours:
            continue
        best = max(ours, key=lambda k: (ours[k].get("scores") or {}).get("column_shapes") or 0.0)
        for anchor in ("sdv-tvae", "sdv-gaussiancopula"):
            other = models.get(anchor)
            rows.append(_versus(f"best of ours ({best[9:]}) vs {anchor} ({r['dataset']})", ours[best], other))
    over = (runs.get("oversampling") or {}).get("result") or {}
    for r in over.get("mean_over_seeds", []):
        verdict = r.get("default_verdict") or {}
        if not verdict:
            continue
        seeds = len(next(iter(r["methods"].values()))["seeds"])
        rows.append([f"default oversampler PR-AUC LR / HGB vs best other method ({r['dataset']}, mean of {seeds} seeds)",
                     " / ".join(f"{v['default']:.3f}" for v in verdict.values()),
                     " / ".join(f"{v['best_other_pr_auc']:.3f} ({v['best_other']})" for v in verdict.values()),
                     " / ".join(f"{v['gap']:+.3f}" for v in verdict.values())])  # fmt: skip
    dp = (runs.get("dp") or {}).get("result") or {}
    for r in dp.get("results", []):
        if r.get("epsilon_target") is None or r.get("error"):
            continue
        rows.append([f"DP {r['model']} at epsilon {r['epsilon_target']:g}: spent, epoch cost, TSTR",
                     f"{_f(r['privacy']['epsilon'], '.3f')}, x{_f(r.get('overhead'), '.2f')}, {_f(r['scores']['tstr'], '.3f')}",
                     "target epsilon, 2x", "–"])  # fmt: skip
    for m in dp.get("membership", []):
        eps = "no DP" if m["epsilon_target"] is None else f"epsilon {m['epsilon_target']:g}"
        rows.append([f"membership attack AUC, {m['model']}, {eps}", f"{m['auc']:.3f}", "0.5 = chance", "–"])
    audit = (runs.get("dp_audit") or {}).get("result") or {}
    for r in audit.get("results", []):
        rows.append([f"DP audit, {r['model']} at epsilon {r['claimed_epsilon']:g}: empirical epsilon lower bound "
                     "(exact fields, canary score)", f"{r['eps_lb_exact_fields']:.3f}, {r['eps_lb_canary']:.3f}",
                     f"claimed {r['claimed_replace_one']:g} (replace-one)",
                     f"{r['fits_each']} + {r['fits_each']} fits"])  # fmt: skip
    scale = (runs.get("scale") or {}).get("result") or {}
    for name, r in (scale.get("results") or {}).get("models", {}).items():
        rows.append([f"scale: {name} samples {r['sample_rows']:,} rows (Parquet)", f"{r['sample_seconds']:.1f} s, "
                     f"peak RSS {max(r['fit_peak_rss_gb'], r['sample_peak_rss_gb']):.2f} GB", "60 s, 4 GB", "–"])  # fmt: skip
    images = (runs.get("images") or {}).get("result") or {}
    for r in images.get("results", []):
        if r.get("error"):
            continue
        eps = "no DP" if r["epsilon_target"] is None else f"epsilon {r['epsilon_target']:g}"
        rows.append([f"images (digits): {r['model']}, {eps}: CAS, fit s", f"{r['cas']:.3f}, {r['fit_seconds']:.0f} s",
                     f"real-data CAS {r['cas_real']:.3f}", f"{r['cas_ratio']:.1%} of real"])  # fmt: skip
    by_method = {r["method"]: r for r in images.get("imbalanced", [])}
    for name, r in by_method.items():
        if name.startswith("generative") and "random oversampling" in by_method:
            ours, other = r["minority_recall"], by_method["random oversampling"]["minority_recall"]
            rows.append([f"images: minority recall, {name} vs random oversampling", f"{ours:.3f}", f"{other:.3f}",
                         f"{ours - other:+.3f}"])  # fmt: skip
    return rows


def markdown(info: dict[str, Any], runs: dict[str, dict[str, Any]]) -> str:
    lines = [
        f"# synthaug benchmark suite ({info['timestamp_utc']})",
        "",
        f"- command: `{info['command']}`",
        f"- machine: {info['platform']}, {info['cpu_count']} CPUs (torch threads {info['torch_threads']}); "
        f"versions: " + ", ".join(f"{k} {v}" for k, v in info["versions"].items() if k != "synthaug_path" and v),
        f"- seed {info['seed']}; every benchmark ran in its own process, one after the other",
        "",
        "| what | ours | anchor | comparison |",
        "|---|---|---|---|",
        *["| " + " | ".join(row) + " |" for row in headline_rows(runs)],
        "",
        "| benchmark | exit code | seconds |",
        "|---|---|---|",
        *[f"| {name} | {run['exit_code']} | {run['seconds']:.0f} |" for name, run in runs.items()],
    ]
    for name, run in runs.items():
        lines += ["", f"## {name}", ""]
        lines.append(run["report"] if run["report"] else "```\n" + run["log_tail"].strip() + "\n```")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny epochs and tables: check that the suite runs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", nargs="+", default=None, help="run only these benchmarks (names as in the suite)")
    common.add_path_arguments(parser)
    args = parser.parse_args(argv)
    started = datetime.now(UTC)
    stamp = started.strftime("%Y%m%dT%H%M%SZ") + ("_quick" if args.quick else "")
    folder = args.output_dir / f"run_{stamp}"
    info = common.machine_base(started, {"sdv": common.dist_version("sdv"), "opacus": common.dist_version("opacus")})
    info["seed"] = args.seed
    runs = {}
    for name, script_args in suite(args):
        if args.only and name not in args.only:
            continue
        runs[name] = run_one(name, script_args, folder, args.data_dir)
    report = markdown(info, runs)
    common.write_atomic(folder.with_suffix(".json"), json.dumps({"machine": info, "runs": runs}, indent=2, default=str))
    common.write_atomic(folder.with_suffix(".md"), report)
    print(report.split("\n| benchmark |")[0])
    print(f"wrote {folder}.json and .md")
    return 1 if any(run["exit_code"] for run in runs.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
