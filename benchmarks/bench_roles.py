#!/usr/bin/env python
"""Column roles: does a table with an ID column, a free-text column and a 5,000-level categorical
fit in the time of the same table without them, and do output IDs never repeat an input ID?

The base table (``--rows`` rows: 3 numeric columns, 2 categoricals, a binary label) is generated
with vectorised numpy. The wide table adds ``customer_id`` (``CUST-0000001`` style, unique,
shuffled), ``comment`` (free text, every value distinct) and ``merchant`` (5,000 levels drawn
uniformly). Each model is fitted on the base and the wide table in the order A/B/A/B with one torch
thread, and the ratio of the median fit times is printed beside the issue's target (at most 1.20),
with the number of output IDs found among the input IDs (target 0).

    python benchmarks/bench_roles.py                         # 10,000 rows, 30 epochs, auto's candidates and ctgan
    python benchmarks/bench_roles.py --rows 2000 --models tvae --epochs 2
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from typing import Any

import numpy as np
import pandas as pd
import torch

from synthaug.synthesizers.registry import get_synthesizer

try:  # run as a script: benchmarks/ is on sys.path
    import _common as common
except ImportError:  # imported as benchmarks.bench_roles
    from benchmarks import _common as common

TARGET_RATIO = 1.20
N_MERCHANTS = 5_000


def base_table(n_rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    income = rng.lognormal(10, 0.5, n_rows)
    return pd.DataFrame(
        {
            "age": rng.integers(18, 80, n_rows),
            "income": income.round(2),
            "balance": (0.3 * income + rng.normal(0, 5_000, n_rows)).round(2),
            "region": rng.choice(["north", "south", "east", "west"], n_rows, p=[0.4, 0.3, 0.2, 0.1]),
            "segment": rng.choice(["retail", "premium", "business"], n_rows),
            "churned": (rng.random(n_rows) < 0.15).astype(int),
        }
    )


def wide_table(base: pd.DataFrame, seed: int, levels: str) -> pd.DataFrame:
    """``base`` with an ID, a free-text column and a 5,000-level categorical (``levels``: drawn
    ``uniform``, or ``zipf``: level k with weight 1/k, as merchants or postcodes)."""
    rng = np.random.default_rng(seed + 1)
    n_rows = len(base)
    wide = base.copy()
    wide.insert(0, "customer_id", pd.Series(rng.permutation(n_rows) + 1).map("CUST-{:07d}".format))
    wide["comment"] = pd.Series(np.arange(n_rows)).map("called about invoice {} today".format)
    weights = np.ones(N_MERCHANTS) if levels == "uniform" else 1.0 / np.arange(1, N_MERCHANTS + 1)
    merchant = rng.choice(N_MERCHANTS, n_rows, p=weights / weights.sum())
    wide["merchant"] = pd.Series(merchant).map("merchant-{:04d}".format)
    return wide


def fit_seconds(name: str, frame: pd.DataFrame, epochs: int, seed: int, max_categories: int) -> tuple[float, Any]:
    model = get_synthesizer(name, epochs=epochs, random_state=seed, max_categories=max_categories)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(frame)
    return time.perf_counter() - start, model


def run(base: pd.DataFrame, models: list[str], epochs: int, seed: int, repeats: int, **options: Any) -> list[dict[str, Any]]:
    torch.set_num_threads(1)
    n_rows = len(base)
    wide = wide_table(base, seed, options["levels"])
    cap = options["max_categories"]
    rows = []
    for name in models:
        times: dict[str, list[float]] = {"base": [], "wide": []}
        model = None
        for _ in range(repeats):  # A/B/A/B
            times["base"].append(fit_seconds(name, base, epochs, seed, cap)[0])
            seconds, model = fit_seconds(name, wide, epochs, seed, cap)
            times["wide"].append(seconds)
        out = model.sample(n_rows, random_state=seed)
        repeated = int(out["customer_id"].isin(set(wide["customer_id"])).sum())
        ratio = statistics.median(times["wide"]) / statistics.median(times["base"])
        rows.append(
            {
                "model": name,
                "base_s": statistics.median(times["base"]),
                "wide_s": statistics.median(times["wide"]),
                "ratio": ratio,
                "ids_repeated": repeated,
                "ids_unique": bool(out["customer_id"].is_unique),
                "merchant_levels_out": int(out["merchant"].nunique()),
                "comment_values_out": sorted(out["comment"].unique().tolist())[:3],
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--models", nargs="+", default=["flow", "autoregressive", "diffusion", "ctgan"])
    parser.add_argument("--epochs", type=int, default=30, help="30: fixed costs do not hide the per-step cost")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--base", default="generated", help="'generated' (--rows rows) or a dev table (attrition, cps1988, ...)")
    parser.add_argument("--levels", choices=["uniform", "zipf"], default="zipf", help="how the 5,000 levels are drawn")
    parser.add_argument("--max-categories", type=int, default=50, help="the synthesizers' max_categories (default 50)")
    common.add_path_arguments(parser)
    args = parser.parse_args()
    base = base_table(args.rows, args.seed) if args.base == "generated" else common.load_table(args.base, args.data_dir)[0]
    rows = run(base, args.models, args.epochs, args.seed, args.repeats, levels=args.levels, max_categories=args.max_categories)
    print(
        f"base {args.base}: {base.shape[0]} rows x {base.shape[1]} columns; 5,000 levels drawn {args.levels}; "
        f"max_categories={args.max_categories}; {args.epochs} epochs, one torch thread, median of {args.repeats} A/B fits"
    )
    print("| model | base fit s | + id, text, 5,000 levels s | ratio (target <= 1.20) | output IDs in input (target 0) |")
    print("|---|---|---|---|---|")
    for r in rows:
        verdict = "met" if r["ratio"] <= TARGET_RATIO and r["ids_repeated"] == 0 else "NOT met"
        print(f"| {r['model']} | {r['base_s']:.1f} | {r['wide_s']:.1f} | {r['ratio']:.2f} ({verdict}) | {r['ids_repeated']} |")
    for r in rows:
        print(f"{r['model']}: merchant levels in output {r['merchant_levels_out']}, comment values {r['comment_values_out']}")


if __name__ == "__main__":
    main()
