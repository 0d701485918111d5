#!/usr/bin/env python
"""Benchmark regression augmentation: does adding synthetic rows help a regressor on real test rows?

On each regression development table (``ames`` -> ``Sale_Price``; ``cps1988`` -> ``wage``,
subsampled to ``--max-rows`` rows with a seed) the script makes a 70/30 train/test split per seed
(``train_test_split(test_size=0.3, random_state=seed)``; with ``--train-rows N`` only N seeded
training rows are kept, the small-data regime) and fits two regressors on the training
rows as they are and on the training rows plus ``GenerativeAugmenter(ratio=r, random_state=seed,
cache=False)``'s synthetic rows for each ``--ratios`` value:

* ``ridge``: median imputation + scaling of the numeric columns, one-hot categorical columns,
  ``Ridge(alpha=1.0)``;
* ``hgb``: ordinal-coded categorical columns, ``HistGradientBoostingRegressor`` with native
  categorical support (``random_state=seed``).

Reported on the real test split: RMSE and R^2 (per seed, and the mean over the seeds), and the
seconds of each ``fit_resample``. Written as JSON + Markdown (``augmentation_`` prefix) to
``benchmarks/results/``. Example::

    python benchmarks/bench_augmentation.py
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

try:  # run as a script: benchmarks/ is on sys.path
    import _common as common
except ImportError:  # imported as benchmarks.bench_augmentation
    from benchmarks import _common as common

#: dataset -> its continuous target.
TARGETS = {"ames": "Sale_Price", "cps1988": "wage"}
REGRESSORS = {"ridge": "Ridge", "hgb": "HGB"}
DEFAULT_RATIOS = (0.5, 1.0)


def split(frame: pd.DataFrame, target: str, seed: int, max_rows: int) -> tuple[pd.DataFrame, ...]:
    """Subsample to ``max_rows`` (seeded), then a 70/30 split: ``X_train, y_train, X_test, y_test``."""
    from sklearn.model_selection import train_test_split

    frame = frame.loc[frame[target].notna()]
    if max_rows and len(frame) > max_rows:
        frame = frame.sample(n=max_rows, random_state=seed)
    features = frame.drop(columns=[target])
    for column in features.columns:
        if not pd.api.types.is_numeric_dtype(features[column]) or pd.api.types.is_bool_dtype(features[column]):
            features[column] = features[column].astype(object)
    X_train, X_test, y_train, y_test = train_test_split(features, frame[target].astype(float), test_size=0.3, random_state=seed)
    return X_train.reset_index(drop=True), y_train.reset_index(drop=True), X_test, y_test


def make_regressor(kind: str, X: pd.DataFrame, seed: int) -> Any:
    """``ridge``: impute + scale numeric, one-hot categorical, Ridge; ``hgb``: native categorical HGB."""
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

    categorical = [c for c in X.columns if X[c].dtype == object]
    numeric = [c for c in X.columns if c not in categorical]
    if kind == "ridge":
        scaled = Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())])
        prep = ColumnTransformer(
            [("num", scaled, numeric), ("cat", OneHotEncoder(handle_unknown="ignore"), categorical)], sparse_threshold=0.0
        )
        return Pipeline([("prep", prep), ("model", Ridge(alpha=1.0))])
    codes = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan, encoded_missing_value=np.nan)
    prep = ColumnTransformer([("cat", codes, categorical), ("num", "passthrough", numeric)])
    model = HistGradientBoostingRegressor(categorical_features=list(range(len(categorical))) or None, random_state=seed)
    return Pipeline([("prep", prep), ("model", model)])


def scores(X_fit: pd.DataFrame, y_fit: Any, X_test: pd.DataFrame, y_test: pd.Series, seed: int) -> dict[str, Any]:
    """RMSE and R^2 on the test split of both regressors fitted on ``X_fit, y_fit``."""
    from sklearn.metrics import r2_score, root_mean_squared_error
    from threadpoolctl import threadpool_limits

    out = {}
    with threadpool_limits(1):  # gradient boosting's threads crawl after torch's on a small machine
        for kind in REGRESSORS:
            pred = make_regressor(kind, X_fit, seed).fit(X_fit, y_fit).predict(X_test)
            out[kind] = {"rmse": float(root_mean_squared_error(y_test, pred)), "r2": float(r2_score(y_test, pred))}
    return out


def run_seed(name: str, frame: pd.DataFrame, seed: int, args: argparse.Namespace) -> dict[str, Any]:
    """No augmentation and every ratio on one dataset and seed."""
    from synthaug.augmentation import GenerativeAugmenter

    X_train, y_train, X_test, y_test = split(frame, TARGETS[name], seed, args.max_rows)
    if args.train_rows and args.train_rows < len(X_train):  # the small-data regime: fewer training rows, same test split
        keep = np.random.default_rng(seed).choice(len(X_train), size=args.train_rows, replace=False)
        X_train, y_train = X_train.iloc[keep].reset_index(drop=True), y_train.iloc[keep].reset_index(drop=True)
    methods = {"none": {"label": "no augmentation", **scores(X_train, y_train, X_test, y_test, seed)}}
    print(f"\n== {name}, seed {seed}: train {X_train.shape}, test {X_test.shape}", flush=True)
    for ratio in args.ratios:
        augmenter = GenerativeAugmenter(ratio=ratio, random_state=seed, cache=False)
        (X_aug, y_aug), seconds = common.timed(lambda augmenter=augmenter: augmenter.fit_resample(X_train, y_train))
        methods[f"ratio_{ratio:g}"] = {
            "label": f"GenerativeAugmenter(ratio={ratio:g})",
            "resample_seconds": seconds,
            "added_rows": int(augmenter.n_added_),
            **scores(X_aug, y_aug, X_test, y_test, seed),
        }
    for res in methods.values():
        cells = " | ".join(f"{short} RMSE {res[k]['rmse']:,.1f} R2 {res[k]['r2']:.3f}" for k, short in REGRESSORS.items())
        took = f" ({res['resample_seconds']:.1f} s)" if "resample_seconds" in res else ""
        print(f"  {res['label']:32s}{took} {cells}", flush=True)
    return {"dataset": name, "target": TARGETS[name], "seed": seed, "train_rows": len(X_train), "methods": methods}


def mean_table(rows: Sequence[dict[str, Any]]) -> tuple[str, list[str]]:
    """Markdown of the means over seeds, and one line per dataset and regressor: helps or not."""
    header = ["dataset", "method", "resample s"] + [f"{s} {m}" for s in REGRESSORS.values() for m in ("RMSE", "R2")]
    lines, verdicts = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)], []
    for name in dict.fromkeys(r["dataset"] for r in rows):
        runs = [r for r in rows if r["dataset"] == name]
        means = {}
        for key, first in runs[0]["methods"].items():
            got = [r["methods"][key] for r in runs]
            mean = {k: {m: float(np.mean([g[k][m] for g in got])) for m in ("rmse", "r2")} for k in REGRESSORS}
            seconds = [g["resample_seconds"] for g in got if "resample_seconds" in g]
            means[key] = mean
            cells = [name if key == "none" else "", first["label"], common.fmt(np.mean(seconds) if seconds else None, ".1f")]
            cells += [f"{mean[k][m]:,.3f}" if m == "r2" else f"{mean[k][m]:,.1f}" for k in REGRESSORS for m in ("rmse", "r2")]
            lines.append("| " + " | ".join(cells) + " |")
        for kind, short in REGRESSORS.items():
            base = means["none"][kind]["rmse"]
            changes = ", ".join(f"{k}: {100 * (v[kind]['rmse'] / base - 1):+.1f}% RMSE" for k, v in means.items() if k != "none")
            verdicts.append(f"{name} {short}: {changes} against no augmentation (mean of {len(runs)} seeds)")
    return "\n".join(lines), verdicts


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and write its results."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", nargs="+", choices=list(TARGETS), default=list(TARGETS))
    parser.add_argument("--ratios", nargs="+", type=float, default=list(DEFAULT_RATIOS), help="synthetic rows per real row")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2], help="one split and fit per seed (default 0 1 2)")
    parser.add_argument("--max-rows", type=int, default=6000, help="subsample larger tables to this many rows (default 6000)")
    parser.add_argument(
        "--train-rows", type=int, default=0,
        help="keep this many rows of each training split (seeded; the test split is unchanged): the small-data regime "
        "(default 0: the whole split)",
    )  # fmt: skip
    common.add_path_arguments(parser)
    args = parser.parse_args(argv)
    started = datetime.now(UTC)
    tables = {name: common.load_table(name, args.data_dir)[0] for name in args.datasets}
    rows = [run_seed(name, frame, seed, args) for name, frame in tables.items() for seed in args.seeds]
    table, verdicts = mean_table(rows)
    print("\n" + table + "\n\n" + "\n".join(verdicts))
    info = common.machine_base(started)
    report = [f"# Regression augmentation benchmark ({info['timestamp_utc']})", "", f"- command: `{info['command']}`"]
    report += [
        f"- settings: seeds {args.seeds}, ratios {args.ratios}, max rows {args.max_rows}, training rows "
        f"{args.train_rows or 'all of the split'}; see the script's docstring"
    ]
    report += ["", table, "", *[f"- {v}" for v in verdicts]]
    base = args.output_dir / f"augmentation_{started.strftime('%Y%m%dT%H%M%SZ')}_train{args.train_rows or 'all'}"
    common.write_atomic(base.with_suffix(".json"), json.dumps({**info, "results": rows}, indent=2) + "\n")
    common.write_atomic(base.with_suffix(".md"), "\n".join(report) + "\n")
    print(f"\nwrote {base.with_suffix('.json')} and {base.with_suffix('.md')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
