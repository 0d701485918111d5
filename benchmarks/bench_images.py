#!/usr/bin/env python
"""Benchmark the image synthesizers on scikit-learn's digits (8x8, 10 classes, pixels 0..16).

One fixed stratified 70/30 split of the 1,797 digits (``random_state=0``, whatever ``--seed``).
A small CNN (:class:`synthaug.evaluation.images.ImageFeatureExtractor`) is trained once on
the real training images; its penultimate layer is the feature space of the Fréchet
distance, the kernel distance and the nearest-neighbour leakage, and it is the real-data
baseline of the classification accuracy score (CAS).

Part 1, per model (``gan``, ``vae``, ``flow``) and epsilon (``--epsilons``, ``inf`` = no DP):
fit seconds on the training images, a synthetic set with the training class counts, and
CAS (the same CNN recipe trained on the synthetic images, accuracy on the real test split)
against the real baseline, classifier-feature Fréchet distance (with the test-vs-train
value as reference), kernel distance, leakage share (synthetic images nearer to a training
image than 95% of test images are) and the epsilon the ledger reports. Under DP the pixel
range 0..16 is declared public (it is the dataset's definition) and the fits run
``--dp-epochs`` epochs (a DP epoch costs 3-4 times a plain one). A sample grid PNG per fit
is written next to the results (``images_grid_<model>_<epsilon>.png``).

Part 2, imbalanced: class ``--minority`` is cut to 5% of its training images; a small CNN
classifier (same recipe, three seeds, means reported) is trained on (a) the cut set, (b) the cut set balanced by
``imblearn``'s ``RandomOverSampler`` and (c) balanced by ``GenerativeOverSampler`` with each
model of ``--oversampler-models``; reported: the minority class's recall and the balanced
accuracy on the (uncut) test split.

Target (issue #7): without DP the best model's CAS is at least 90% of the real baseline.
Results: Markdown table on stdout and ``images_<stamp>.json`` / ``.md`` in ``--output-dir``.
Example (about 20 minutes on 2 CPU cores)::

    python benchmarks/bench_images.py
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
import traceback
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sklearn.metrics import balanced_accuracy_score, recall_score
from sklearn.model_selection import train_test_split

try:  # run as a script: benchmarks/ is on sys.path
    import _common as common
except ImportError:  # imported as benchmarks.bench_images
    from benchmarks import _common as common

PIXEL_RANGE = (0.0, 16.0)
TARGET_CAS_RATIO = 0.9
CLASSIFIER_SEEDS = 3


def digits_split() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    from synthaug.datasets import load_digits_images

    X, y = load_digits_images()
    return train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)


def build(model: str, epochs: int, epsilon: float, seed: int) -> Any:
    from synthaug import DPConfig
    from synthaug.synthesizers.registry import get_synthesizer

    dp = None if math.isinf(epsilon) else DPConfig(epsilon=epsilon)
    return get_synthesizer(f"image_{model}", epochs=epochs, dp=dp, pixel_range=PIXEL_RANGE, device="cpu", random_state=seed)


def score_model(model: str, epochs: int, epsilon: float, data: tuple, extractor: Any, seed: int, out: Any) -> dict[str, Any]:
    from synthaug.evaluation.images import (
        classification_accuracy_score,
        frechet_distance,
        image_nearest_neighbour_leakage,
        kernel_distance,
    )
    from synthaug.evaluation.plots import sample_grid_png

    X_train, X_test, y_train, y_test = data
    synthesizer = build(model, epochs, epsilon, seed)
    _, fit_seconds = common.timed(lambda: synthesizer.fit(X_train, y_train))
    (X_syn, y_syn), sample_seconds = common.timed(lambda: synthesizer.sample(len(y_train), y=y_train))
    common_args = {"y_train": y_train, "extractor": extractor, "random_state": seed, "pixel_range": PIXEL_RANGE}
    holdout = {"real_holdout": X_test, "y_holdout": y_test}
    cas = classification_accuracy_score(X_train, X_syn, y_synthetic=y_syn, **holdout, **common_args)
    fd = frechet_distance(X_train, X_syn, **holdout, **common_args)
    kd = kernel_distance(X_train, X_syn, **holdout, **common_args)
    leak = image_nearest_neighbour_leakage(X_train, X_syn, **holdout, **common_args)
    tag = "inf" if math.isinf(epsilon) else f"{epsilon:g}"
    grid = out / f"images_grid_{model}_{tag}.png"
    sample_grid_png(X_syn, y_syn, grid, pixel_range=PIXEL_RANGE, title=f"{model}, epsilon {tag}", random_state=seed)
    spent = synthesizer.privacy_spent_
    return {
        "model": model,
        "epsilon_target": None if math.isinf(epsilon) else epsilon,
        "epochs": epochs,
        "fit_seconds": fit_seconds,
        "seconds_per_epoch": fit_seconds / epochs,
        "sample_seconds": sample_seconds,
        "cas": cas.value,
        "cas_real": cas.details["reference"],
        "cas_ratio": cas.details["ratio"],
        "frechet": fd.value,
        "frechet_reference": fd.details.get("reference"),
        "kernel_distance": kd.value,
        "kernel_reference": kd.details.get("reference"),
        "leakage_share": leak.value,
        "leakage_reference": leak.details.get("reference"),
        "epsilon_spent": spent.get("epsilon"),
        "delta": spent.get("delta"),
        "last_epoch": synthesizer.history_[-1],
        "grid": grid.name,
    }


def imbalanced(data: tuple, minority: int, models: Sequence[str], epochs: dict[str, int], seed: int) -> list[dict[str, Any]]:
    from imblearn.over_sampling import RandomOverSampler

    from synthaug import GenerativeOverSampler
    from synthaug.evaluation.images import ImageFeatureExtractor

    X_train, X_test, y_train, y_test = data
    rows = np.flatnonzero(y_train == minority)
    keep_n = max(2, int(round(0.05 * len(rows))))
    drop = np.random.default_rng(seed).permutation(rows)[keep_n:]
    keep = np.setdiff1d(np.arange(len(y_train)), drop)
    X_cut, y_cut = X_train[keep], y_train[keep]

    def random_oversample() -> tuple[np.ndarray, np.ndarray]:
        flat, y_res = RandomOverSampler(random_state=seed).fit_resample(X_cut.reshape(len(X_cut), -1), y_cut)
        return flat.reshape(-1, *X_cut.shape[1:]), y_res

    methods: list[tuple[str, Any]] = [("none", lambda: (X_cut, y_cut)), ("random oversampling", random_oversample)]
    for model in models:
        sampler = GenerativeOverSampler(synthesizer=build(model, epochs[model], math.inf, seed), random_state=seed)
        methods.append((f"generative ({model})", lambda s=sampler: s.fit_resample(X_cut, y_cut)))
    results = []
    for name, resample in methods:
        (X_res, y_res), seconds = common.timed(resample)
        recalls, balanced = [], []
        for classifier_seed in range(seed, seed + CLASSIFIER_SEEDS):  # the CNN's own seed noise is a few points
            classifier = ImageFeatureExtractor(pixel_range=PIXEL_RANGE, random_state=classifier_seed).fit(X_res, y_res)
            predicted = np.asarray(classifier.predict(X_test)).astype(y_test.dtype)
            recalls.append(float(recall_score(y_test == minority, predicted == minority)))
            balanced.append(float(balanced_accuracy_score(y_test, predicted)))
        results.append(
            {
                "method": name,
                "minority_class": int(minority),
                "minority_train_images": int(keep_n),
                "train_images": int(len(y_res)),
                "resample_seconds": seconds,
                "minority_recall": float(np.mean(recalls)),
                "minority_recall_per_seed": recalls,
                "balanced_accuracy": float(np.mean(balanced)),
            }
        )
        print(f"  imbalanced: {name}: minority recall {results[-1]['minority_recall']:.3f}", flush=True)
    return results


def markdown(info: dict[str, Any], rows: list[dict[str, Any]], imbalanced_rows: list[dict[str, Any]], verdict: str) -> str:
    f = common.fmt
    lines = [
        f"# Image synthesizers on digits ({info['timestamp_utc']})",
        "",
        f"- command: `{info['command']}`; {info['cpu_count']} CPUs, torch threads {info['torch_threads']}",
        f"- split: {info['n_train']} train / {info['n_test']} test images (stratified, fixed); real-data CAS "
        f"{f(info.get('cas_real'), '.3f')}; feature extractor trained in {info['extractor_seconds']:.1f} s",
        "",
        "| model | epsilon (target → spent) | epochs | fit s | CAS | CAS / real | Fréchet (ref) | kernel dist. (ref) "
        "| leakage share (ref) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['model']} | {r['epsilon_target']} | – | – | error: {r['error']} | | | | |")
            continue
        eps = "no DP" if r["epsilon_target"] is None else f"{r['epsilon_target']:g} → {r['epsilon_spent']:.3f}"
        lines.append(
            f"| {r['model']} | {eps} | {r['epochs']} | {r['fit_seconds']:.0f} | {r['cas']:.3f} | {r['cas_ratio']:.3f} | "
            f"{r['frechet']:.2f} ({f(r['frechet_reference'], '.2f')}) | {r['kernel_distance']:.3f} "
            f"({f(r['kernel_reference'], '.3f')}) | {r['leakage_share']:.3f} ({f(r['leakage_reference'], '.3f')}) |"
        )
    lines += ["", verdict, ""]
    if imbalanced_rows:
        first = imbalanced_rows[0]
        lines += [
            f"Imbalanced: class {first['minority_class']} cut to {first['minority_train_images']} training images (5%); "
            f"small CNN (mean of {CLASSIFIER_SEEDS} seeds), tested on the full test split.",
            "",
            "| method | train images | resample s | minority recall | balanced accuracy |",
            "|---|---|---|---|---|",
        ]
        lines += [
            f"| {r['method']} | {r['train_images']} | {r['resample_seconds']:.0f} | {r['minority_recall']:.3f} | "
            f"{r['balanced_accuracy']:.3f} |"
            for r in imbalanced_rows
        ]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=["gan", "vae", "flow"], choices=["gan", "vae", "flow"])
    parser.add_argument("--epsilons", nargs="+", type=float, default=[math.inf, 10.0, 1.0], help="inf = no DP")
    parser.add_argument("--epochs-gan", type=int, default=100)
    parser.add_argument("--epochs-vae", type=int, default=100)
    parser.add_argument("--epochs-flow", type=int, default=60)
    parser.add_argument("--dp-epochs", type=int, default=20, help="epochs of every DP fit")
    parser.add_argument("--minority", type=int, default=3, help="digit cut to 5%% in the imbalanced part")
    parser.add_argument("--oversampler-models", nargs="*", default=["flow", "gan"], choices=["gan", "vae", "flow"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="2 epochs (1 under DP): check that the script runs")
    common.add_path_arguments(parser)
    args = parser.parse_args(argv)
    from synthaug.evaluation.images import fit_feature_extractor

    started = datetime.now(UTC)
    epochs = {"gan": args.epochs_gan, "vae": args.epochs_vae, "flow": args.epochs_flow}
    if args.quick:
        epochs = dict.fromkeys(epochs, 2)
        args.dp_epochs = 1
    data = digits_split()
    X_train, X_test, y_train, y_test = data
    extractor, extractor_seconds = common.timed(
        lambda: fit_feature_extractor(X_train, y_train, pixel_range=PIXEL_RANGE, random_state=args.seed)
    )
    info = common.machine_base(started, {"opacus": common.dist_version("opacus")})
    info.update(n_train=len(y_train), n_test=len(y_test), extractor_seconds=extractor_seconds, seed=args.seed, epochs=epochs)
    args.output_dir.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    for epsilon in args.epsilons:
        for model in args.models:
            n_epochs = epochs[model] if math.isinf(epsilon) else args.dp_epochs
            print(f"{model}, epsilon {epsilon:g}, {n_epochs} epochs ...", flush=True)
            start = time.perf_counter()
            try:
                rows.append(score_model(model, n_epochs, epsilon, data, extractor, args.seed, args.output_dir))
            except Exception as exc:  # report and go on with the other fits
                traceback.print_exc()
                rows.append({"model": model, "epsilon_target": None if math.isinf(epsilon) else epsilon, "error": repr(exc)})
            print(f"  done in {time.perf_counter() - start:.0f} s: {rows[-1].get('cas_ratio')}", flush=True)
    scored = [r for r in rows if "error" not in r]
    info["cas_real"] = scored[0]["cas_real"] if scored else None
    plain = [r for r in scored if r["epsilon_target"] is None]
    if plain:
        best = max(plain, key=lambda r: r["cas"])
        met = best["cas_ratio"] >= TARGET_CAS_RATIO
        verdict = (
            f"Target (best model without DP reaches {TARGET_CAS_RATIO:.0%} of the real-data CAS): "
            f"{'met' if met else 'NOT met'} by {best['model']} ({best['cas']:.3f} vs {best['cas_real']:.3f}, "
            f"{best['cas_ratio']:.1%})."
        )
    else:
        verdict = "No model ran without DP: the CAS target was not measured."
    imbalanced_rows = imbalanced(data, args.minority, args.oversampler_models, epochs, args.seed)
    report = markdown(info, rows, imbalanced_rows, verdict)
    print(report)
    stamp = started.strftime("%Y%m%dT%H%M%SZ") + ("_quick" if args.quick else "")
    payload = {"machine": info, "results": rows, "imbalanced": imbalanced_rows, "verdict": verdict}
    common.write_atomic(args.output_dir / f"images_{stamp}.json", json.dumps(payload, indent=2, default=str))
    common.write_atomic(args.output_dir / f"images_{stamp}.md", report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
