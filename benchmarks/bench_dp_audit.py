#!/usr/bin/env python
"""Empirical DP audit: how well can an attacker tell two neighbouring tables apart?

For each model, ``--fits`` DP fits on table D and as many on its replace-one neighbour D'
(the same rows, one row swapped for a far-out canary). Two distinguishers score every fit:

- **exact fields**: any difference in the ledger, the released schema or the model-file
  metadata (the leaks of the DP trust issue told D from D' with certainty this way: the
  canary's category "c" is outside the declared domain, whose dropped-row count was published);
- **canary score**: the fitted model's density at the canary (flow: ``score_samples``), or
  minus the distance from the canary to its nearest synthetic row (TVAE, CTGAN).

Half of the fits pick each distinguisher's threshold, the other half test it; the empirical
lower bound is ``epsilon >= log((1 - delta - FNR) / FPR)`` with Clopper-Pearson 95% upper
bounds on FPR and FNR (Jagielski et al., 2020), maximised over both directions. It is printed
beside the claimed epsilon: for replace-one neighbours the claim is 2 epsilon (group privacy
over add/remove). A bound far below the claim is the expected result; one above it is a bug.

    python benchmarks/bench_dp_audit.py --fits 100          # about 10 minutes on 2 cores
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import warnings
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import beta

try:  # run as a script: benchmarks/ is on sys.path
    import _common as common
except ImportError:  # imported as benchmarks.bench_dp_audit
    from benchmarks import _common as common

MODELS = ("flow", "tvae", "ctgan")


def neighbours(n: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    """D (n rows of a 3-column mixture) and D' (row 0 replaced by a far-out canary whose
    category "c" lies outside the declared domain: the case whose dropped-row count once leaked)."""
    rng = np.random.default_rng(seed)
    table = pd.DataFrame({"x": rng.normal(0, 1, n), "y": rng.normal(0, 1, n), "g": rng.choice(["a", "b"], n)})
    canary = pd.Series({"x": 4.5, "y": -4.5, "g": "c"})
    with_canary = table.copy()
    with_canary.iloc[0] = canary
    return table, with_canary, canary


def schema() -> Any:
    try:
        from synthaug.schema import dtype_schema
    except ImportError:  # a synthaug from before the strict DP schema (to audit an old version)
        from synthaug.schema import infer_schema as dtype_schema

    declared = {"x": {"public": True, "bounds": [-6, 6]}, "y": {"public": True, "bounds": [-6, 6]}}
    declared["g"] = {"public": True, "categories": ["a", "b"]}
    return lambda frame: dtype_schema(frame, declared)


def fit_scores(name: str, data: pd.DataFrame, canary: pd.Series, args: argparse.Namespace) -> tuple[str, float]:
    """One DP fit: (fingerprint of its exact fields, canary score)."""
    import synthaug
    from synthaug.privacy import DPConfig

    model = synthaug.get_synthesizer(
        name, epochs=args.epochs, batch_size=50, dp=DPConfig(args.epsilon), schema=schema()(data), device="cpu"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(data)
    state, tensors = model._get_state()
    exact = {"ledger": model.privacy_spent_, "schema": model.schema_.to_dict(), "keys": sorted(state)}
    exact["shapes"] = {k: list(v.shape) for k, v in tensors.items()}
    point = canary.to_frame().T.assign(g="a").astype({"x": float, "y": float})  # "c" is not in the domain
    if hasattr(model, "score_samples"):
        score = float(model.score_samples(point)[0])
    else:
        synthetic = model.sample(args.samples, random_state=0)
        score = -float(np.min(np.hypot(synthetic["x"] - canary["x"], synthetic["y"] - canary["y"])))
    return json.dumps(exact, sort_keys=True, default=str), score


def clopper_pearson_upper(k: int, n: int, level: float = 0.95) -> float:
    return 1.0 if k >= n else float(beta.ppf(level, k + 1, n - k))


def epsilon_lower_bound(neg: np.ndarray, pos: np.ndarray, delta: float) -> tuple[float, float]:
    """(threshold, epsilon lower bound): threshold chosen on the first half, bound on the second."""
    half_n, half_p = len(neg) // 2, len(pos) // 2
    train = np.concatenate([neg[:half_n], pos[:half_p]])
    best, best_t = -math.inf, math.nan
    for t in np.unique(train):
        for sign in (1.0, -1.0):
            fpr = np.mean(sign * neg[:half_n] >= sign * t)
            tpr = np.mean(sign * pos[:half_p] >= sign * t)
            if tpr - fpr > best:
                best, best_t, best_sign = tpr - fpr, t, sign
    if not math.isfinite(best):
        return math.nan, 0.0
    test_n, test_p = best_sign * neg[half_n:], best_sign * pos[half_p:]
    fp = int(np.sum(test_n >= best_sign * best_t))
    fn = int(np.sum(test_p < best_sign * best_t))
    fpr_up, fnr_up = clopper_pearson_upper(fp, len(test_n)), clopper_pearson_upper(fn, len(test_p))
    value = (1.0 - delta - fnr_up) / fpr_up
    return float(best_t), max(0.0, math.log(value)) if value > 0 else 0.0


def audit_model(name: str, args: argparse.Namespace) -> dict[str, Any]:
    D, D_prime, canary = neighbours(args.rows, args.seed)
    runs = {"D": [fit_scores(name, D, canary, args) for _ in range(args.fits)]}
    runs["D'"] = [fit_scores(name, D_prime, canary, args) for _ in range(args.fits)]
    delta = 1.0 / (10 * args.rows)
    # exact-field distinguisher: 1 when the fingerprint is one that D never produced
    seen = {f for f, _ in runs["D"][: args.fits // 2]}
    exact_neg = np.array([float(f not in seen) for f, _ in runs["D"]])
    exact_pos = np.array([float(f not in seen) for f, _ in runs["D'"]])
    score_neg = np.array([s for _, s in runs["D"]])
    score_pos = np.array([s for _, s in runs["D'"]])
    _, eps_exact = epsilon_lower_bound(exact_neg, exact_pos, delta)
    _, eps_score = epsilon_lower_bound(score_neg, score_pos, delta)
    distinct = len({f for f, _ in runs["D"]} | {f for f, _ in runs["D'"]})
    return {
        "model": name,
        "fits_each": args.fits,
        "claimed_epsilon": args.epsilon,
        "claimed_replace_one": 2 * args.epsilon,
        "eps_lb_exact_fields": eps_exact,
        "eps_lb_canary": eps_score,
        "distinct_exact_fingerprints": distinct,
    }


def markdown(info: dict[str, Any], rows: list[dict[str, Any]]) -> str:
    lines = [
        f"# DP audit ({info['timestamp_utc']})",
        "",
        f"- command: `{info['command']}`",
        f"- machine: {info['platform']}, {info['cpu_count']} CPUs; {info['settings']}",
        "",
        "| model | fits on D / D' | claimed epsilon (add/remove) | claim for replace-one | empirical lower bound: "
        "exact fields | empirical lower bound: canary score | distinct exact fingerprints |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['model']} | {r['fits_each']} / {r['fits_each']} | {r['claimed_epsilon']:g} | "
            f"{r['claimed_replace_one']:g} | {r['eps_lb_exact_fields']:.3f} | {r['eps_lb_canary']:.3f} | "
            f"{r['distinct_exact_fingerprints']} |"
        )
    return "\n".join(lines) + "\n"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    parser.add_argument("--fits", type=int, default=100, help="DP fits on each of D and D' per model (default 100)")
    parser.add_argument("--rows", type=int, default=200, help="rows of D (default 200)")
    parser.add_argument("--epochs", type=int, default=5, help="epochs of every fit (default 5)")
    parser.add_argument("--epsilon", type=float, default=1.0, help="claimed epsilon of every fit (default 1)")
    parser.add_argument("--samples", type=int, default=2000, help="synthetic rows for the distance score (default 2000)")
    parser.add_argument("--seed", type=int, default=0)
    common.add_path_arguments(parser)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started = datetime.now(UTC)
    info = common.machine_base(started, {})
    info["settings"] = (
        f"{args.rows} rows (x, y normal, g in a/b; public bounds/categories), "
        "canary (4.5, -4.5, c: outside the declared categories) replaces row 0; "
        f"epsilon {args.epsilon}, delta 1/(10 n), {args.epochs} epochs, batch 50, secure noise"
    )
    rows = []
    for name in args.models:
        print(f"auditing {name}: {args.fits} + {args.fits} fits", flush=True)
        rows.append(audit_model(name, args))
        print(f"  {rows[-1]}", flush=True)
    text = markdown(info, rows)
    print(text)
    out = args.output_dir / f"dp_audit_{started.strftime('%Y%m%dT%H%M%SZ')}_f{args.fits}"
    common.write_atomic(out.with_suffix(".json"), json.dumps({"machine": info, "results": rows}, indent=2))
    common.write_atomic(out.with_suffix(".md"), text)
    print(f"wrote {out}.json and .md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
