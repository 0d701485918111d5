"""The ``demo`` command: synthesize a built-in dataset (a table, or the digits images) and score the copy."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from .common import CLIError, check_model_name, check_output

IMAGE_DATASETS = ("digits",)


def cmd_demo(args: argparse.Namespace) -> int:
    """The table demo (or, for ``--dataset digits``, the image demo)."""
    from ..datasets import available_datasets

    if args.dataset in IMAGE_DATASETS:
        return demo_images(args)
    if args.dataset not in available_datasets():
        allowed = ", ".join([*available_datasets(), *IMAGE_DATASETS])
        raise CLIError(f"--dataset: unknown dataset {args.dataset!r}; available: {allowed}")
    return demo_table(args)


def demo_table(args: argparse.Namespace) -> int:
    """A synthetic copy of a built-in table and its per-column fidelity."""
    from ..datasets import load_dataset
    from ..evaluation.fidelity import column_shapes
    from ..io import write_table
    from ..synthesizers.registry import get_synthesizer

    name = check_model_name(args.model or "tvae")
    epochs = 300 if args.epochs is None else args.epochs
    data = load_dataset(args.dataset)
    output = Path(args.output_dir) / f"{data.name}_synthetic.csv"
    check_output(output, [], overwrite=True)
    print(f"dataset {data.name!r}: {data.frame.shape[0]} rows x {data.frame.shape[1]} columns (built in, from scikit-learn)")
    model = get_synthesizer(name, epochs=epochs, random_state=args.seed, verbose=not args.quiet)
    start = time.perf_counter()
    model.fit(data.frame)
    print(f"fitted {name} for {epochs} epochs in {time.perf_counter() - start:.1f}s")
    synthetic = model.sample(len(data.frame))
    write_table(synthetic, output)
    score = column_shapes(data.frame, synthetic)
    print(f"per-column fidelity ({score.name}, 1 = identical marginals): {score.value:.3f}")
    print(f"wrote {len(synthetic)} synthetic rows to {output.resolve()}")
    return 0


def demo_images(args: argparse.Namespace) -> int:
    """A class-conditional synthetic copy of the digits and its classification accuracy score."""
    from sklearn.model_selection import train_test_split

    from ..datasets import DIGITS_PIXEL_RANGE, load_digits_images
    from ..evaluation.images import classification_accuracy_score
    from ..image_io import write_images
    from ..synthesizers.registry import get_synthesizer

    name = args.model or "image_flow"
    name = check_model_name(name if name.startswith("image_") else f"image_{name}")
    X, y = load_digits_images()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, stratify=y, random_state=args.seed)
    print(f"dataset 'digits': {len(y)} images of 8x8 pixels, 10 classes (built in, from scikit-learn); 30% held out")
    params = {"random_state": args.seed, "verbose": not args.quiet, "pixel_range": DIGITS_PIXEL_RANGE}
    if args.epochs is not None:
        params["epochs"] = args.epochs
    model = get_synthesizer(name, **params)
    start = time.perf_counter()
    model.fit(X_train, y_train)
    print(f"fitted {name} for {model.epochs} epochs in {time.perf_counter() - start:.1f}s")
    X_syn, y_syn = model.sample(len(y_train), y=y_train)
    output = Path(args.output_dir) / "digits_synthetic"
    write_images(output, X_syn, y_syn, pixel_range=DIGITS_PIXEL_RANGE, overwrite=True)
    score = classification_accuracy_score(
        X_train, X_syn, y_train=y_train, y_synthetic=y_syn, real_holdout=X_test, y_holdout=y_test, random_state=args.seed
    )
    print(
        f"classification accuracy score (a small CNN trained on the synthetic images, tested on real ones): "
        f"{score.value:.3f} vs {score.details['reference']:.3f} trained on the real images"
    )
    print(f"wrote {len(y_syn)} synthetic images (PNG, one folder per class) to {output.resolve()}")
    return 0
