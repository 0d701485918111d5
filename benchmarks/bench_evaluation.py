"""Time the default audit suite (synthaug.evaluate) on a generated mixed-type table.

    python benchmarks/bench_evaluation.py --rows 10000 --columns 30

Train, synthetic and holdout are independent samples of the same generated distribution
(15 continuous, 5 integer, 8 categorical, 1 boolean and 1 datetime column at 30 columns),
with a binary target and a numeric sensitive column. Prints seconds per metric and in total.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def make_table(n_rows: int, n_columns: int, seed: int) -> pd.DataFrame:
    """Correlated numeric columns, categoricals tied to them, a boolean, a datetime and a binary target.

    The distribution is fixed; ``seed`` only draws the rows.
    """
    shape = np.random.default_rng(12345)  # the distribution's parameters, the same for every sample
    rng = np.random.default_rng(seed)
    n_continuous = n_columns // 2
    n_integer = max(1, n_columns // 6)
    n_categorical = max(1, n_columns - n_continuous - n_integer - 3)
    latent = rng.normal(size=(n_rows, 3))
    frame: dict[str, object] = {}
    for i in range(n_continuous):
        weights = shape.normal(size=3)
        frame[f"num_{i}"] = latent @ weights + rng.normal(scale=0.5, size=n_rows) * (1 + i % 3)
    for i in range(n_integer):
        frame[f"int_{i}"] = np.round(np.exp(2 + 0.5 * latent[:, i % 3] + rng.normal(scale=0.3, size=n_rows))).astype(int)
    for i in range(n_categorical):
        levels = np.array([f"c{i}_{k}" for k in range(3 + i % 5)])
        codes = np.clip(
            ((latent[:, i % 3] + rng.normal(scale=0.7, size=n_rows)) * 1.2 + len(levels) / 2).astype(int), 0, len(levels) - 1
        )
        frame[f"cat_{i}"] = pd.Series(levels[codes], dtype=object)
    frame["flag"] = latent[:, 1] + rng.normal(size=n_rows) > 0.5
    frame["when"] = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 900, n_rows), unit="D")
    logit = 1.5 * latent[:, 0] - latent[:, 2] - 2.0
    frame["target"] = pd.Series(np.where(rng.random(n_rows) < 1 / (1 + np.exp(-logit)), "yes", "no"), dtype=object)
    table = pd.DataFrame(frame)
    table.loc[rng.random(n_rows) < 0.05, "num_0"] = np.nan
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--columns", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from synthaug.evaluation import evaluate

    train, synthetic, holdout = (make_table(args.rows, args.columns, args.seed + k) for k in range(3))
    print(f"tables: {train.shape[0]} rows x {train.shape[1]} columns each (train, synthetic, holdout)")
    start = time.perf_counter()
    report = evaluate(train, synthetic, holdout, target="target", sensitive="num_1", random_state=args.seed)
    total = time.perf_counter() - start
    for name, seconds in report.info["seconds"].items():
        print(f"  {name:28s} {seconds:6.2f}s")
    print(f"evaluate: {total:.1f}s in total")
    print(report.to_frame().drop(columns="skipped").to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    start = time.perf_counter()
    report.to_html()
    print(f"to_html: {time.perf_counter() - start:.1f}s")


if __name__ == "__main__":
    main()
