#!/usr/bin/env python
"""Data-parallel training: one process against 2 CPU processes (torchrun, gloo) on a dev table.

For each seed the script fits the same model (``--model``, default flow) with the same settings on
the same 70/30 split of ``--dataset`` (stratified on its target, see ``bench_tabular``): once in
this process (2 torch threads), once in ``--nproc`` processes started with
``python -m torch.distributed.run`` (1 thread each; ``batch_size`` is the global batch, each process
takes its share of every step and the gradients are averaged: ``synthaug.training.data_parallel``).
Rank 0 saves the model; this process loads it, samples as many rows as the training split, and
scores both with bench_tabular's metrics (HGB detection AUC against the training rows, TSTR on the
holdout rows). "Within noise" is read against the spread over seeds of the single-process fits.

    python benchmarks/bench_data_parallel.py                         # cps1988, flow, 40 epochs, seeds 0 1
    python benchmarks/bench_data_parallel.py --dataset attrition --epochs 100 --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

try:  # run as a script: benchmarks/ is on sys.path
    import _common as common
    import bench_tabular as tabular
except ImportError:  # imported as benchmarks.bench_data_parallel
    from benchmarks import _common as common
    from benchmarks import bench_tabular as tabular


def _model(args: argparse.Namespace, seed: int) -> Any:
    from synthaug.synthesizers.registry import get_synthesizer

    return get_synthesizer(args.model, epochs=args.epochs, batch_size=args.batch_size, random_state=seed)


def worker(args: argparse.Namespace) -> int:
    """One process of the group: fit on the split, rank 0 saves the model to ``args.save``."""
    from synthaug.training.data_parallel import process_group

    frame, _ = common.load_table(args.dataset, args.data_dir)
    split = tabular.split_table(frame, common.TARGETS[args.dataset], args.split_seed)
    with process_group() as (rank, _):
        started = time.perf_counter()
        model = _model(args, args.seed).fit(split.train)
        seconds = time.perf_counter() - started
        if rank == 0:
            model.save(args.save)
            Path(args.save + ".json").write_text(json.dumps({"fit_seconds": seconds}))
    return 0


def _fit_in_processes(args: argparse.Namespace, seed: int, folder: Path) -> tuple[Any, float]:
    from synthaug.persistence import load

    save = str(folder / f"seed{seed}.synth")
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={args.nproc}"]
    command += [__file__, "--worker", "--save", save, "--seed", str(seed), "--split-seed", str(args.split_seed)]
    command += ["--dataset", args.dataset, "--model", args.model, "--epochs", str(args.epochs)]
    command += ["--batch-size", str(args.batch_size), "--data-dir", str(args.data_dir)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(common.REPO_ROOT), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise SystemExit(f"torchrun failed ({done.returncode}):\n{done.stderr[-4000:]}")
    return load(save), json.loads(Path(save + ".json").read_text())["fit_seconds"]


def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    import torch

    frame, source = common.load_table(args.dataset, args.data_dir)
    split = tabular.split_table(frame, common.TARGETS[args.dataset], args.split_seed)
    print(f"{args.dataset} ({source}): train {len(split.train)}, holdout {len(split.holdout)}", flush=True)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for seed in args.seeds:
            for mode in ("1 process", f"{args.nproc} processes"):
                if mode == "1 process":
                    torch.set_num_threads(args.nproc)
                    model = _model(args, seed)
                    _, fit_s = common.timed(lambda m=model: m.fit(split.train))
                else:
                    model, fit_s = _fit_in_processes(args, seed, Path(folder))
                synthetic = model.sample(len(split.train), random_state=seed)
                scores = tabular.evaluate(split, synthetic, seed)
                row = {"seed": seed, "mode": mode, "fit_seconds": fit_s, "detection_auc": scores.detection_auc}
                row.update(tstr=scores.tstr, tstr_over_trtr=scores.tstr_over_trtr, pairwise_trends=scores.pairwise_trends)
                rows.append(row)
                print(
                    f"seed {seed}, {mode}: fit {fit_s:.1f} s, detection {scores.detection_auc:.3f}, TSTR {scores.tstr:.3f} "
                    f"({scores.tstr_over_trtr:.3f} of TRTR), pairwise trends {scores.pairwise_trends:.3f}",
                    flush=True,
                )
    return rows


def markdown(info: dict[str, Any], args: argparse.Namespace, rows: list[dict[str, Any]]) -> str:
    lines = [
        f"# Data-parallel training ({info['timestamp_utc']})",
        "",
        f"- command: `{info['command']}`",
        f"- machine: {info['platform']}, {info['cpu_count']} CPUs; torch {info['versions']['torch']}",
        f"- {args.model} on {args.dataset} (70/30 split, seed {args.split_seed}), {args.epochs} epochs, global batch "
        f"{args.batch_size}; 1 process with {args.nproc} torch threads vs {args.nproc} processes (gloo) with 1 each",
        "",
        "| seed | training | fit s | detection AUC | TSTR | TSTR/TRTR | pairwise trends |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['seed']} | {r['mode']} | {r['fit_seconds']:.1f} | {r['detection_auc']:.3f} | {r['tstr']:.3f} "
            f"| {r['tstr_over_trtr']:.3f} | {r['pairwise_trends']:.3f} |"
        )
    for mode in dict.fromkeys(r["mode"] for r in rows):
        mine = [r for r in rows if r["mode"] == mode]
        det, ratio = (np.array([r[k] for r in mine]) for k in ("detection_auc", "tstr_over_trtr"))
        lines.append(
            f"- {mode}: detection {det.mean():.3f} (range {det.min():.3f}-{det.max():.3f}), TSTR/TRTR {ratio.mean():.3f} "
            f"(range {ratio.min():.3f}-{ratio.max():.3f}), fit {np.mean([r['fit_seconds'] for r in mine]):.1f} s"
        )
    return "\n".join(lines) + "\n"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default="cps1988", choices=sorted(common.TARGETS))
    parser.add_argument("--model", default="flow", choices=["flow", "tvae", "diffusion", "autoregressive"])
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--batch-size", type=int, default=500, help="the global batch (default 500)")
    parser.add_argument("--nproc", type=int, default=2)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--split-seed", type=int, default=0)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--save", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    common.add_path_arguments(parser)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        return worker(args)
    started = datetime.now(UTC)
    info = common.machine_base(started)
    rows = run(args)
    report = markdown(info, args, rows)
    print("\n" + report)
    out = args.output_dir / f"data_parallel_{started.strftime('%Y%m%dT%H%M%SZ')}_{args.dataset}"
    common.write_atomic(out.with_suffix(".json"), json.dumps({"machine": info, "rows": rows}, indent=2))
    common.write_atomic(out.with_suffix(".md"), report)
    print(f"wrote {out}.json and .md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
