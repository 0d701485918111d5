#!/usr/bin/env python
"""Benchmark synthaug's synthesizers under differential privacy: cost and quality per epsilon.

For each epsilon in ``--epsilons`` (``inf`` = no DP) and each tabular synthesizer, on a fixed
stratified 70/30 split of a development dataset (default: cps1988, 28,155 rows, the
largest table: DP needs many rows), the script fits
``get_synthesizer(name, epochs=E, batch_size=B, dp=DPConfig(epsilon), random_state=seed)``
with the strict DP schema: kinds from the pandas dtypes, every domain discovered privately
except the target's class set, declared public (a task's labels are public knowledge; a
declared target never loses a class). It samples as many rows as the training split, and
records: fit seconds, the median epoch seconds (from ``history_``) and its ratio to the same
model without DP (target: DP overhead <= 2x), the epsilon and delta actually spent, the
noise multiplier, the minority-class share of the synthetic rows (real share beside it),
per-column fidelity (``column_shapes``), ``pairwise_trends`` and train-synthetic-test-real
(ROC AUC of the minority class).

``--membership`` adds the empirical privacy check: a distance-based membership attack
(score = minus the distance of a record to its nearest synthetic row, standardised
columns) against TVAE and the flow fitted on a small training set (``--members`` rows of a
Gaussian mixture with public bounds), members vs as many held-back rows, without DP and at
epsilon=1. Expected: AUC within 0.5 +- 0.05 at epsilon=1, measurably above 0.5 without DP.

Results go to ``benchmarks/results/dp_*.json`` and ``.md``. Example::

    python benchmarks/bench_dp.py --epochs 20 --membership
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import traceback
import warnings
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

try:  # run as a script: benchmarks/ is on sys.path
    import _common as common
    import bench_tabular as tabular
except ImportError:  # imported as benchmarks.bench_dp
    from benchmarks import _common as common
    from benchmarks import bench_tabular as tabular

MODELS = ("ctgan", "tvae", "flow", "diffusion", "autoregressive", "marginal")
#: models without network training (no epochs / batch size)
UNTRAINED = ("marginal",)
EPSILONS = (1.0, 3.0, 10.0, math.inf)


def fit_one(name: str, split: tabular.Split, epsilon: float, args: argparse.Namespace) -> dict[str, Any]:
    """Fit, sample and score one model at one epsilon; failures are recorded, not raised."""
    import synthaug
    from synthaug.privacy import DPConfig
    from synthaug.schema import dtype_schema

    dp = None if math.isinf(epsilon) else DPConfig(epsilon, accountant=args.accountant)
    out: dict[str, Any] = {"model": name, "epsilon_target": None if dp is None else epsilon}
    try:
        params: dict[str, Any] = {"dp": dp, "random_state": args.seed}
        if name in UNTRAINED:
            params["target"] = split.target  # the marginal model measures every column with the target
        else:
            params.update(epochs=args.epochs, batch_size=args.batch_size)
        if dp is not None and args.schema == "declared":
            params["schema"] = declared_schema(split)
        elif dp is not None:  # the strict DP schema: dtypes only, the target's labels declared public
            labels = sorted(split.train[split.target].unique().tolist())
            declared = {split.target: {"kind": "categorical", "public": True, "categories": labels}}
            params["schema"] = dtype_schema(split.train, declared)
        model = synthaug.get_synthesizer(name, **params)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            _, out["fit_seconds"] = common.timed(lambda: model.fit(split.train.copy()))
        synthetic, out["sample_seconds"] = common.timed(lambda: model.sample(len(split.train)))
    except Exception as exc:  # noqa: BLE001 - recorded and reported, run continues
        traceback.print_exc()
        out["error"] = f"{type(exc).__name__}: {exc}"
        return out
    out["epoch_seconds"] = float(np.median([h["seconds"] for h in model.history_])) if model.history_ else None
    ledger = model.privacy_spent_
    out["privacy"] = {k: ledger.get(k) for k in ("epsilon", "delta", "noise_multiplier", "sample_rate", "steps")}
    _score(out, split, synthetic, args.seed)
    return out


def fit_smartnoise(method: str, split: tabular.Split, epsilon: float, args: argparse.Namespace) -> dict[str, Any]:
    """smartnoise-synth's ``method`` (mst or aim) in its own environment (``_smartnoise_runner.py``),
    numeric columns binned on the declared bounds; scored like our models. Failures are recorded."""
    import subprocess
    import tempfile
    from pathlib import Path

    out: dict[str, Any] = {"model": f"smartnoise-{method}", "epsilon_target": epsilon}
    schema = declared_schema(split)
    numeric = [c.name for c in schema.columns if not c.is_discrete]
    with tempfile.TemporaryDirectory() as folder:
        train, synthetic_csv, spec = (Path(folder) / name for name in ("train.csv", "synthetic.csv", "spec.json"))
        split.train.to_csv(train, index=False)
        spec.write_text(json.dumps({
            "train": str(train), "out": str(synthetic_csv), "method": method, "epsilon": epsilon, "rows": len(split.train),
            "categorical": [c for c in split.train.columns if c not in numeric], "bins": args.smartnoise_bins,
            "continuous": {c: [float(v) for v in schema[c].bounds] for c in numeric},
        }))  # fmt: skip
        runner = Path(__file__).with_name("_smartnoise_runner.py")
        done = subprocess.run([args.smartnoise_python, str(runner), str(spec)], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            out["error"] = (
                f"smartnoise-{method} failed: {done.stderr.strip().splitlines()[-1] if done.stderr.strip() else done.returncode}"
            )
            return out
        timing = json.loads(done.stdout.strip().splitlines()[-1])
        synthetic = tabular.cast_like(pd.read_csv(synthetic_csv), split.train)
    out.update(fit_seconds=timing["fit_seconds"], sample_seconds=timing["sample_seconds"], epoch_seconds=None)
    out["privacy"] = {"epsilon": epsilon, "delta": None, "noise_multiplier": None, "sample_rate": None, "steps": None}
    _score(out, split, synthetic, args.seed)
    return out


def _score(out: dict[str, Any], split: tabular.Split, synthetic: pd.DataFrame, seed: int) -> None:
    """Minority share and the benchmark's scores of ``synthetic``, into ``out``."""
    minority = split.train[split.target].value_counts().idxmin()
    out["minority_share"] = {
        "real": float((split.train[split.target] == minority).mean()),
        "synthetic": float((synthetic[split.target] == minority).mean()),
    }
    scores = tabular.evaluate(split, synthetic, seed)
    quality = None
    if scores.column_shapes is not None and scores.pairwise_trends is not None:
        quality = (scores.column_shapes + scores.pairwise_trends) / 2  # SDMetrics' quality score: the mean of both
    out["scores"] = {
        "column_shapes": scores.column_shapes,
        "pairwise_trends": scores.pairwise_trends,
        "quality": quality,
        "detection_auc": scores.detection_auc,
        "tstr": scores.tstr,
        "tstr_over_trtr": scores.tstr_over_trtr,
    }
    out["metric_errors"] = scores.metric_errors


def declared_schema(split: tabular.Split) -> Any:
    """A schema file as a user would write it: every column's domain (categories, bounds,
    nullability) declared public, here read off the whole table (train and holdout), never
    released from the private rows; the target categorical."""
    from synthaug.schema import TableSchema, infer_schema

    frame = pd.concat([split.train, split.holdout], ignore_index=True)
    spec = infer_schema(frame, {split.target: {"kind": "categorical"}}).to_dict()
    for column in spec["columns"]:
        column["public"] = True
    return TableSchema.from_dict(spec)


# --------------------------------------------------------------------------- membership check
def _mixture(n: int, rng: np.random.Generator) -> pd.DataFrame:
    centre = rng.integers(0, 4, n)
    values = rng.normal(0.0, 1.0, (n, 6)) + 1.5 * centre[:, None]
    return pd.DataFrame(values, columns=[f"x{i}" for i in range(6)])


def distance_attack_auc(members: pd.DataFrame, holdout: pd.DataFrame, synthetic: pd.DataFrame) -> float:
    """ROC AUC of members vs non-members, scored by minus the distance to the nearest synthetic row."""
    from sklearn.metrics import roc_auc_score
    from sklearn.neighbors import NearestNeighbors

    scale = members.std(ddof=0).to_numpy()
    index = NearestNeighbors(n_neighbors=1).fit(synthetic.to_numpy() / scale)
    d_members = index.kneighbors(members.to_numpy() / scale)[0][:, 0]
    d_holdout = index.kneighbors(holdout.to_numpy() / scale)[0][:, 0]
    labels = np.r_[np.ones(len(d_members)), np.zeros(len(d_holdout))]
    return float(roc_auc_score(labels, -np.r_[d_members, d_holdout]))


def membership_check(args: argparse.Namespace) -> list[dict[str, Any]]:
    import synthaug
    from synthaug.privacy import DPConfig
    from synthaug.schema import TableSchema

    rng = np.random.default_rng(args.seed)
    members, holdout = _mixture(args.members, rng), _mixture(args.members, rng)
    schema = TableSchema.from_dict(
        {"columns": [{"name": c, "kind": "continuous", "bounds": [-6, 12], "public": True} for c in members.columns]}
    )
    results = []
    for name in ("tvae", "flow"):
        for epsilon in (math.inf, 1.0):
            dp = None if math.isinf(epsilon) else DPConfig(epsilon, accountant=args.accountant)
            model = synthaug.get_synthesizer(
                name, epochs=args.membership_epochs, batch_size=50, schema=schema, dp=dp, random_state=args.seed
            )
            _, seconds = common.timed(lambda m=model: m.fit(members))
            auc = distance_attack_auc(members, holdout, model.sample(10 * args.members, random_state=args.seed + 1))
            spent = model.privacy_spent_["epsilon"]
            results.append({"model": name, "epsilon_target": None if dp is None else epsilon, "epsilon": spent, "auc": auc})
            print(f"  membership {name:5s} eps={epsilon:<4} AUC {auc:.3f} (fit {seconds:.1f} s)", flush=True)
    return results


# --------------------------------------------------------------------------- report
def markdown(info: dict[str, Any], rows: list[dict[str, Any]], membership: list[dict[str, Any]]) -> str:
    header = ["model", "epsilon", "spent (eps, delta)", "noise mult.", "fit s", "epoch s", "epoch DP/non-DP",
              "column shapes", "pairwise trends", "quality", "detection AUC", "TSTR", "TSTR/TRTR",
              "minority share (real)"]  # fmt: skip
    lines = [
        f"# DP benchmark ({info['timestamp_utc']})",
        "",
        f"- command: `{info['command']}`",
        f"- machine: {info['platform']}, {info['cpu_count']} CPUs (torch threads {info['torch_threads']}); "
        f"torch {info['versions']['torch']}, opacus {info['versions']['opacus']}",
        f"- {info['settings']}",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    for r in rows:
        eps = "inf (no DP)" if r["epsilon_target"] is None else f"{r['epsilon_target']:g}"
        if r.get("error"):
            lines.append(f"| {r['model']} | {eps} | failed: {r['error'][:80]} |" + " |" * (len(header) - 3))
            continue
        p, s = r["privacy"], r["scores"]
        spent = "–" if p["epsilon"] is None else f"{p['epsilon']:.3f}, {common.fmt(p['delta'], '.1e')}"
        cells = [r["model"], eps, spent, common.fmt(p["noise_multiplier"], ".3f"), common.fmt(r["fit_seconds"], ".1f"),
                 common.fmt(r["epoch_seconds"], ".3f"), common.fmt(r.get("overhead"), ".2f"),
                 common.fmt(s["column_shapes"], ".3f"), common.fmt(s["pairwise_trends"], ".3f"),
                 common.fmt(s["quality"], ".3f"), common.fmt(s["detection_auc"], ".3f"),
                 common.fmt(s["tstr"], ".3f"), common.fmt(s["tstr_over_trtr"], ".3f"),
                 f"{r['minority_share']['synthetic']:.3f} ({r['minority_share']['real']:.3f})"]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    if membership:
        lines += ["", "Membership attack (distance to closest synthetic row), members vs held-back rows:", "",
                  "| model | epsilon | spent | attack ROC AUC |", "|---|---|---|---|"]  # fmt: skip
        for m in membership:
            eps = "inf (no DP)" if m["epsilon_target"] is None else f"{m['epsilon_target']:g}"
            lines.append(f"| {m['model']} | {eps} | {common.fmt(m['epsilon'], '.3f')} | {m['auc']:.3f} |")
    return "\n".join(lines) + "\n"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default="cps1988", choices=tabular.DATASETS, help="development dataset (default cps1988)")
    parser.add_argument("--epochs", type=int, default=20, help="epochs of every fit, DP or not (default 20)")
    parser.add_argument("--batch-size", type=int, default=500, help="(expected) rows per step (default 500)")
    parser.add_argument("--epsilons", type=float, nargs="+", default=list(EPSILONS), help="budgets; inf = no DP")
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    parser.add_argument("--accountant", default="prv", choices=["prv", "rdp"])
    parser.add_argument(
        "--schema",
        default="strict",
        choices=["strict", "declared"],
        help="strict: kinds from dtypes, every domain discovered privately but the target's labels; declared: "
        "every domain declared public in the schema, as a user's schema file (default strict)",
    )
    parser.add_argument(
        "--smartnoise-python",
        default=None,
        metavar="PYTHON",
        help="interpreter of an environment with smartnoise-synth (it pins opacus<0.15, pandas<3): adds its MST and "
        "AIM as baselines at every finite epsilon, numeric columns binned on the declared bounds",
    )
    parser.add_argument("--smartnoise-bins", type=int, default=16, help="bins per numeric column for smartnoise (default 16)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--membership", action="store_true", help="also run the membership-attack check")
    parser.add_argument("--members", type=int, default=400, help="training rows of the membership check (default 400)")
    parser.add_argument("--membership-epochs", type=int, default=300, help="epochs of the membership check (default 300)")
    common.add_path_arguments(parser)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started = datetime.now(UTC)
    info = common.machine_base(started, {"opacus": common.dist_version("opacus")})
    info["settings"] = (
        f"dataset {args.dataset} (target {common.TARGETS[args.dataset]}), epochs {args.epochs}, batch {args.batch_size}, "
        f"accountant {args.accountant} (the marginal model always RDP), seed {args.seed}; "
        + (
            "strict DP schema (dtypes; every domain discovered privately but the target's labels, declared public); "
            if args.schema == "strict"
            else "declared schema (every domain public, as a schema file); "
        )
        + "secure noise (DP fits are not bit-reproducible); quality = mean of column shapes and pairwise trends; "
        "epoch s = median seconds of a training epoch (history_); epoch DP/non-DP = that over the same model without DP"
    )
    frame, source = common.load_table(args.dataset, args.data_dir)
    split = tabular.split_table(frame, common.TARGETS[args.dataset], args.seed)
    print(f"DP benchmark on {args.dataset} ({source}): train {len(split.train)}, holdout {len(split.holdout)}", flush=True)
    rows = []
    epsilons = sorted(args.epsilons, key=lambda e: (not math.isinf(e), e))  # the non-DP baseline first
    for name in args.models:
        baseline = None
        for epsilon in epsilons:
            r = fit_one(name, split, epsilon, args)
            if math.isinf(epsilon) and not r.get("error"):
                baseline = r["epoch_seconds"]
            r["overhead"] = r["epoch_seconds"] / baseline if baseline and not r.get("error") else None
            rows.append(r)
            if r.get("error"):
                print(f"  {name:5s} eps={epsilon:<5} FAILED {r['error']}", flush=True)
                continue
            s = r["scores"]
            print(
                f"  {name:5s} eps={epsilon:<5} spent {common.fmt(r['privacy']['epsilon'], '.3f')} fit {r['fit_seconds']:.1f} s "
                f"epoch {common.fmt(r['epoch_seconds'], '.3f')} s (x{common.fmt(r['overhead'], '.2f')}) shapes "
                f"{common.fmt(s['column_shapes'], '.3f')} pairs {common.fmt(s['pairwise_trends'], '.3f')} "
                f"quality {common.fmt(s['quality'], '.3f')} TSTR {common.fmt(s['tstr'], '.3f')} "
                f"(/TRTR {common.fmt(s['tstr_over_trtr'], '.3f')})",
                flush=True,
            )
    if args.smartnoise_python:
        for method in ("mst", "aim"):
            for epsilon in [e for e in epsilons if not math.isinf(e)]:
                r = fit_smartnoise(method, split, epsilon, args)
                r["overhead"] = None
                rows.append(r)
                s = r.get("scores", {})
                summary = r.get("error") or (
                    f"fit {r['fit_seconds']:.1f} s quality {common.fmt(s['quality'], '.3f')} "
                    f"TSTR {common.fmt(s['tstr'], '.3f')} (/TRTR {common.fmt(s['tstr_over_trtr'], '.3f')})"
                )
                print(f"  smartnoise-{method} eps={epsilon:<5} {summary}", flush=True)
    membership = membership_check(args) if args.membership else []
    report = markdown(info, rows, membership)
    print("\n" + report)
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    out = args.output_dir / f"dp_{stamp}_{args.dataset}_e{args.epochs}_{args.schema}"
    common.write_atomic(
        out.with_suffix(".json"), json.dumps({"machine": info, "results": rows, "membership": membership}, indent=2)
    )
    common.write_atomic(out.with_suffix(".md"), report)
    print(f"wrote {out}.json and .md")
    return 1 if any(r.get("error") for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
