"""The ``synthesize-images`` command: labelled images in (a class folder, an .npz or the digits), synthetic ones out."""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..exceptions import DataFileError, PrivacyError
from .common import CLIError, check_output, print_privacy, privacy_params, save_model, training_params

if TYPE_CHECKING:  # numpy is imported by the command itself: `synthaug --help` stays quick
    import numpy as np


@dataclass
class ImageInput:
    """The images read for a command, and how their output is laid out."""

    X: np.ndarray
    y: np.ndarray
    layout: str  # "folder" (class sub-folders) or "npz"
    fmt: str  # image file format of a folder output
    what: str  # where they came from, for the console
    source: Path | None  # None for the built-in digits
    pixel_range: tuple[float, float] | None


def _image_synthesizer(model: str, **params: Any) -> Any:
    """A new image synthesizer for ``--model gan|vae|flow`` (``image_<model>`` in the registry)."""
    from ..synthesizers.registry import get_synthesizer

    return get_synthesizer(f"image_{model}", **params)


def check_image_output(output: Path, source: Path | None, overwrite: bool) -> None:
    """An output folder must not be, hold or lie inside the input folder; a non-empty one needs --overwrite."""
    if source is not None and source.is_dir():
        src, out = source.resolve(), output.resolve()
        if out == src or src.is_relative_to(out) or out.is_relative_to(src):
            raise DataFileError(f"output {str(output)!r} overlaps the input folder {str(source)!r}; choose a folder outside it")
    if output.suffix.lower() == ".npz":
        raise DataFileError(f"output {str(output)!r}: folder input gives a folder of class sub-folders, not an .npz")
    if output.exists() and not output.is_dir():
        raise DataFileError(f"output {str(output)!r} exists and is not a folder")
    if output.is_dir() and any(output.iterdir()) and not overwrite:
        raise DataFileError(f"output folder {str(output)!r} is not empty; pass --overwrite to replace it")


def read_input(args: argparse.Namespace, output: Path) -> ImageInput:
    """The images of ``args.input`` (checking first that ``output`` may be written)."""
    pixel_range = tuple(args.pixel_range) if args.pixel_range else None
    if args.input == "digits":  # the built-in set; a folder called digits is read as ./digits
        from ..datasets import DIGITS_PIXEL_RANGE, load_digits_images

        check_image_output(output, None, args.overwrite)
        X, labels = load_digits_images()
        # the pixel range is public: fixed by how the set was made
        return ImageInput(
            X, labels.astype(str), "folder", "png", "built-in digits (scikit-learn)", None, pixel_range or DIGITS_PIXEL_RANGE
        )
    from ..image_io import read_images

    source = Path(args.input)
    layout = "npz" if source.suffix.lower() == ".npz" and not source.is_dir() else "folder"
    if layout == "npz":
        if output.suffix.lower() != ".npz":
            raise DataFileError(f"output {str(output)!r}: .npz input gives an .npz output; name it *.npz")
        check_output(output, [source], args.overwrite)
    else:
        check_image_output(output, source, args.overwrite)
    images = read_images(source)
    fmt = images.format if images.format in ("png", "bmp", "jpeg") else "png"
    return ImageInput(images.X, images.y, layout, fmt, f"{images.source} {str(source)!r}", source, pixel_range)


def wanted_labels(args: argparse.Namespace, y: np.ndarray) -> np.ndarray | None:
    """The labels to sample, one per image; None for a copy whose labels the model draws (under DP)."""
    import numpy as np

    from ..image_io import labels_to_sample

    private = args.epsilon is not None
    if private and args.balance:
        raise PrivacyError(
            "--balance draws (largest class - each class) images: the exact class counts, which are private under "
            "--epsilon; use --per-class N (a public number) instead"
        )
    if args.per_class is not None and args.per_class < 1:
        raise CLIError(f"--per-class must be at least 1; got {args.per_class}")
    if private and args.per_class is None:  # a DP copy draws its labels from the noisy class frequencies
        return None
    wanted = labels_to_sample(y, per_class=args.per_class, balance=args.balance)
    if len(wanted) == 0:
        raise CLIError(
            f"--balance: the classes are already balanced ({len(y) // len(np.unique(y))} images each); nothing to draw"
        )
    return wanted


def describe_images(X: np.ndarray) -> str:
    """``HxW grey|RGB|N-channel, dtype``."""
    kind = "grey" if X.ndim == 3 else ("RGB" if X.shape[1] == 3 else f"{X.shape[1]}-channel")
    return f"{X.shape[-2]}x{X.shape[-1]} {kind}, {X.dtype}"


def cmd_synthesize_images(args: argparse.Namespace) -> int:
    """Fit an image synthesizer on labelled images and write synthetic ones, class by class."""
    import numpy as np

    output = Path(args.output)
    images = read_input(args, output)
    if args.save_model:
        inputs = [p for p in (images.source, output) if p is not None]
        check_output(Path(args.save_model), inputs, args.overwrite, "model path")
    wanted = wanted_labels(args, images.y)
    params = training_params(args, random_state=args.seed, verbose=not args.quiet, **privacy_params(args))
    if images.pixel_range is not None:
        params["pixel_range"] = images.pixel_range
    model = _image_synthesizer(args.model, **params)
    print(f"input: {len(images.X)} images of {len(np.unique(images.y))} classes, {describe_images(images.X)}, from {images.what}")
    start = time.perf_counter()
    model.fit(images.X, images.y)
    fit_seconds = time.perf_counter() - start
    X_syn, y_syn = model.sample(len(images.y)) if wanted is None else model.sample(len(wanted), y=wanted)
    sample_seconds = time.perf_counter() - start - fit_seconds
    _write(images, output, X_syn, y_syn, args.overwrite)
    print(f"fitted image_{args.model} in {fit_seconds:.1f}s; sampled {len(y_syn)} images in {sample_seconds:.1f}s")
    _print_counts(args, images.y, y_syn, output)
    print_privacy(model.privacy_spent_)
    save_model(model, args.save_model)
    return 0


def _write(images: ImageInput, output: Path, X_syn: np.ndarray, y_syn: np.ndarray, overwrite: bool) -> None:
    from ..image_io import write_images, write_npz

    if images.layout == "npz":
        write_npz(output, X_syn, y_syn, overwrite=overwrite)
        return
    pixel_range = images.pixel_range if X_syn.dtype.kind == "f" else None
    write_images(output, X_syn, y_syn, fmt=images.fmt, pixel_range=pixel_range, overwrite=overwrite)


def _print_counts(args: argparse.Namespace, y: np.ndarray, y_syn: np.ndarray, output: Path) -> None:
    import numpy as np

    classes, counts = np.unique(np.asarray(y_syn).astype(str), return_counts=True)
    shown = ", ".join(f"{c}: {n}" for c, n in zip(classes, counts, strict=True))
    print(f"wrote {len(y_syn)} synthetic images to {output}: {shown}")
    if args.balance:
        largest = int(np.unique(y, return_counts=True)[1].max())
        print(f"balance: the output holds only the synthetic images; with the input, every class has {largest} images")
