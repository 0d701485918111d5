"""Command-line interface: parses arguments, calls the library, prints. No logic of its own.

Exit codes: 0 success, 2 bad input or arguments (the message names the problem),
1 an unexpected failure.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

EXIT_USAGE = 2


class CLIError(Exception):
    """A user error detected by the CLI itself (paths, flags)."""


def _parse_conditions(items: Sequence[str] | None) -> dict[str, str]:
    conditions: dict[str, str] = {}
    for item in items or []:
        if "=" not in item:
            raise CLIError(f"--condition expects COLUMN=VALUE, got {item!r}")
        column, value = item.split("=", 1)
        conditions[column.strip()] = value
    return conditions


def _check_output(output: Path, inputs: Sequence[Path], overwrite: bool, what: str = "output") -> None:
    for source in inputs:
        if output.resolve() == source.resolve():
            raise CLIError(f"{what} {str(output)!r} is the input file; refusing to overwrite it")
    if output.exists() and not overwrite:
        raise CLIError(f"{what} {str(output)!r} already exists; pass --overwrite to replace it")
    if output.exists() and output.is_dir():
        raise CLIError(f"{what} {str(output)!r} is a directory")


def _privacy_params(args: argparse.Namespace) -> dict:
    """``{"dp": DPConfig}`` from --epsilon/--delta/--max-grad-norm/--accountant, or nothing."""
    if args.epsilon is None:
        for flag, value in (("--delta", args.delta), ("--max-grad-norm", args.max_grad_norm)):
            if value is not None:
                raise CLIError(f"{flag} only applies with --epsilon")
        return {}
    from .privacy import DPConfig

    settings = {"epsilon": args.epsilon, "delta": args.delta, "accountant": args.accountant}
    if args.max_grad_norm is not None:
        settings["max_grad_norm"] = args.max_grad_norm
    return {"dp": DPConfig(**settings)}


def _schema_param(path: str | None, drop: str | None = None) -> dict:
    """``{"schema": TableSchema}`` from a JSON file (without the column ``drop``), or nothing."""
    if path is None:
        return {}
    from .schema import TableSchema

    schema_path = Path(path)
    if not schema_path.is_file():
        raise CLIError(f"schema file {path!r} does not exist")
    schema = TableSchema.from_json(schema_path.read_text(encoding="utf-8"))
    if drop is not None:  # the class column reaches the synthesizer as y (its label set is public)
        schema = TableSchema([c for c in schema.columns if c.name != drop])
    return {"schema": schema}


def _cmd_schema(args: argparse.Namespace) -> int:
    from .atomic import atomic_path
    from .io import read_table
    from .schema import infer_schema

    source, output = Path(args.input), Path(args.output)
    _check_output(output, [source], args.overwrite)
    schema = infer_schema(read_table(source))
    with atomic_path(output, suffix=".tmp") as tmp:
        Path(tmp).write_text(schema.to_json(indent=2) + "\n", encoding="utf-8")
    print(f"wrote a draft schema of {len(schema)} columns to {output}")
    print(
        'this draft was read from the data: review every kind, and set "public": true only where the categories or '
        "bounds are public knowledge. What you declare public from it is your decision and outside any DP guarantee; "
        "undeclared domains are released with noise under --epsilon."
    )
    return 0


def _check_private_schema(args: argparse.Namespace) -> None:
    """Under --epsilon the schema is declared: reading kinds from a private file is a leak."""
    if args.epsilon is not None and args.schema is None:
        raise CLIError(
            "--epsilon needs --schema: under differential privacy the column kinds and any public domains are "
            "declared, not read from the private file (a single value can change an inferred kind). Draft one with "
            "'synthaug schema IN -o schema.json', review it, set public=true only on domains that are public "
            "knowledge, and pass --schema schema.json"
        )


def _print_privacy(report: dict) -> None:
    if report.get("epsilon") is None:
        print("privacy: no formal guarantee (trained without differential privacy; pass --epsilon to train with it)")
        return
    line = f"privacy: ({report['epsilon']:.3f}, {report['delta']:.3g})-differential privacy"
    if "accountant" in report:
        line += (
            f" [target epsilon {report['target_epsilon']:g}; {report['accountant']} accountant; "
            f"noise multiplier {report['noise_multiplier']:.3f}, {report['steps']} steps at sample rate "
            f"{report['sample_rate']:.4f}, clipping norm {report['max_grad_norm']:g}]"
        )
    print(line)
    if "not_covered" in report:
        print(f"privacy: {report['not_covered']}")


def _cmd_synthesize(args: argparse.Namespace) -> int:
    from .io import read_table, table_format, write_table
    from .synthesizers.base import check_conditions
    from .synthesizers.registry import get_synthesizer

    source, output = Path(args.input), Path(args.output)
    table_format(output)
    _check_output(output, [source], args.overwrite)
    if args.save_model:
        _check_output(Path(args.save_model), [source, output], args.overwrite, "model path")
    _check_private_schema(args)
    df = read_table(source)
    conditions = _parse_conditions(args.condition)
    if args.epsilon is None:  # under DP the released categories are checked by sample(), not the private values
        check_conditions(df, conditions)
    rows = args.rows if args.rows is not None else len(df)
    params = {"random_state": args.seed, "verbose": not args.quiet, **_privacy_params(args), **_schema_param(args.schema)}
    if args.epochs is not None:
        params["epochs"] = args.epochs
    if args.batch_size is not None:
        params["batch_size"] = args.batch_size
    model = get_synthesizer(args.model, **params)
    start = time.perf_counter()
    model.fit(df)
    fit_seconds = time.perf_counter() - start
    synthetic = model.sample(rows, conditions=conditions or None)
    write_table(synthetic, output)
    print(f"fitted {args.model} on {len(df)} rows x {df.shape[1]} columns in {fit_seconds:.1f}s")
    print(f"wrote {len(synthetic)} synthetic rows to {output}")
    _print_privacy(model.privacy_spent_)
    if args.save_model:
        model.save(args.save_model)
        print(f"saved model to {args.save_model}")
    return 0


def _image_synthesizer(model: str, **params):
    """A new image synthesizer for ``--model gan|vae|flow`` (``image_<model>`` in the registry)."""
    from .synthesizers.registry import get_synthesizer

    return get_synthesizer(f"image_{model}", **params)


def _check_image_output(output: Path, source: Path | None, overwrite: bool) -> None:
    """An output folder must not be, hold or lie inside the input folder; a non-empty one needs --overwrite."""
    if source is not None and source.is_dir():
        src, out = source.resolve(), output.resolve()
        if out == src or src.is_relative_to(out) or out.is_relative_to(src):
            raise CLIError(f"output {str(output)!r} overlaps the input folder {str(source)!r}; choose a folder outside it")
    if output.suffix.lower() == ".npz":
        raise CLIError(f"output {str(output)!r}: folder input gives a folder of class sub-folders, not an .npz")
    if output.exists() and not output.is_dir():
        raise CLIError(f"output {str(output)!r} exists and is not a folder")
    if output.is_dir() and any(output.iterdir()) and not overwrite:
        raise CLIError(f"output folder {str(output)!r} is not empty; pass --overwrite to replace it")


def _describe_images(X) -> str:
    kind = "grey" if X.ndim == 3 else ("RGB" if X.shape[1] == 3 else f"{X.shape[1]}-channel")
    return f"{X.shape[-2]}x{X.shape[-1]} {kind}, {X.dtype}"


def _cmd_synthesize_images(args: argparse.Namespace) -> int:
    import numpy as np

    from .image_io import labels_to_sample, read_images, write_images, write_npz

    output = Path(args.output)
    pixel_range = tuple(args.pixel_range) if args.pixel_range else None
    source: Path | None = None
    if args.input == "digits":  # the built-in set; a folder called digits is read as ./digits
        from .datasets import DIGITS_PIXEL_RANGE, load_digits_images

        _check_image_output(output, None, args.overwrite)
        X, labels = load_digits_images()
        y, layout, fmt, what = labels.astype(str), "folder", "png", "built-in digits (scikit-learn)"
        pixel_range = pixel_range or DIGITS_PIXEL_RANGE  # public: fixed by how the set was made
    else:
        source = Path(args.input)
        layout = "npz" if source.suffix.lower() == ".npz" and not source.is_dir() else "folder"
        if layout == "npz":
            if output.suffix.lower() != ".npz":
                raise CLIError(f"output {str(output)!r}: .npz input gives an .npz output; name it *.npz")
            _check_output(output, [source], args.overwrite)
        else:
            _check_image_output(output, source, args.overwrite)
        images = read_images(source)
        X, y, what = images.X, images.y, f"{images.source} {str(source)!r}"
        fmt = images.format if images.format in ("png", "bmp", "jpeg") else "png"
    if args.save_model:
        _check_output(Path(args.save_model), [p for p in (source, output) if p is not None], args.overwrite, "model path")
    private = getattr(args, "epsilon", None) is not None
    if private and args.balance:
        raise CLIError(
            "--balance draws (largest class - each class) images: the exact class counts, which are private under "
            "--epsilon; use --per-class N (a public number) instead"
        )
    # under DP a synthetic copy draws its labels from the noisy class frequencies, not the exact counts
    wanted = None if private and args.per_class is None else labels_to_sample(y, per_class=args.per_class, balance=args.balance)
    if wanted is not None and len(wanted) == 0:
        raise CLIError(
            f"--balance: the classes are already balanced ({len(y) // len(np.unique(y))} images each); nothing to draw"
        )

    params = {"random_state": args.seed, "verbose": not args.quiet, **_privacy_params(args)}
    if args.epochs is not None:
        params["epochs"] = args.epochs
    if pixel_range is not None:
        params["pixel_range"] = pixel_range
    model = _image_synthesizer(args.model, **params)
    print(f"input: {len(X)} images of {len(np.unique(y))} classes, {_describe_images(X)}, from {what}")
    start = time.perf_counter()
    model.fit(X, y)
    fit_seconds = time.perf_counter() - start
    X_syn, y_syn = model.sample(len(y)) if wanted is None else model.sample(len(wanted), y=wanted)
    sample_seconds = time.perf_counter() - start - fit_seconds
    if layout == "npz":
        write_npz(output, X_syn, y_syn, overwrite=args.overwrite)
    else:
        write_images(
            output, X_syn, y_syn, fmt=fmt, pixel_range=pixel_range if X_syn.dtype.kind == "f" else None, overwrite=args.overwrite
        )
    classes, counts = np.unique(np.asarray(y_syn).astype(str), return_counts=True)
    print(f"fitted image_{args.model} in {fit_seconds:.1f}s; sampled {len(y_syn)} images in {sample_seconds:.1f}s")
    print(
        f"wrote {len(y_syn)} synthetic images to {output}: "
        + ", ".join(f"{c}: {n}" for c, n in zip(classes, counts, strict=True))
    )
    if args.balance:
        print(
            f"balance: the output holds only the synthetic images; with the input, every class has "
            f"{int(np.unique(y, return_counts=True)[1].max())} images"
        )
    _print_privacy(model.privacy_spent_)
    if args.save_model:
        model.save(args.save_model)
        print(f"saved model to {args.save_model}")
    return 0


def _parse_strategy(text: str) -> str | float:
    try:
        return float(text)
    except ValueError:
        return text


def _cmd_oversample(args: argparse.Namespace) -> int:
    from .io import read_table, table_format, write_table
    from .over_sampling import GenerativeOverSampler, check_target_column
    from .synthesizers.registry import get_synthesizer

    source, output = Path(args.input), Path(args.output)
    table_format(output)
    _check_output(output, [source], args.overwrite)
    _check_private_schema(args)
    df = read_table(source)
    X, y = check_target_column(df, args.target)
    params = {"verbose": not args.quiet, **_privacy_params(args), **_schema_param(args.schema, drop=args.target)}
    if args.epochs is not None:
        params["epochs"] = args.epochs
    if args.batch_size is not None:
        params["batch_size"] = args.batch_size
    sampler = GenerativeOverSampler(
        synthesizer=get_synthesizer(args.model, **params),
        sampling_strategy=_parse_strategy(args.strategy),
        mode=args.mode,
        random_state=args.seed,
    )
    if args.epsilon is None:
        print(f"class counts before: {y.value_counts().sort_index().to_dict()}")
    X_res, y_res = sampler.fit_resample(X, y)
    balanced = X_res.copy()
    balanced.insert(df.columns.get_loc(args.target), args.target, y_res.to_numpy())
    write_table(balanced, output)
    if args.epsilon is None:
        print(f"class counts after:  {y_res.value_counts().sort_index().to_dict()}")
    else:  # the synthetic counts come from the noisy class histogram
        print(f"synthetic rows per class (from the noisy class counts): {sampler.sampling_strategy_}")
    print(f"wrote {len(balanced)} rows ({len(balanced) - len(df)} synthetic) to {output}")
    _print_privacy(sampler.privacy_spent_)
    return 0


def _cmd_sample(args: argparse.Namespace) -> int:
    from .io import table_format, write_table_chunks
    from .persistence import load

    model_path, output = Path(args.model), Path(args.output)
    table_format(output)
    _check_output(output, [model_path], args.overwrite)
    model = load(model_path)
    conditions = _parse_conditions(args.condition) or None
    chunks = model.iter_samples(args.rows, chunk_size=args.chunk_size, conditions=conditions, random_state=args.seed)
    _, rows = write_table_chunks(chunks, output)  # streamed: memory bounded by one chunk
    print(f"wrote {rows} synthetic rows to {output}")
    return 0


def _demo_images(args: argparse.Namespace) -> int:
    """The image demo: a class-conditional synthetic copy of the digits and its classification accuracy score."""
    from sklearn.model_selection import train_test_split

    from .datasets import DIGITS_PIXEL_RANGE, load_digits_images
    from .evaluation.images import classification_accuracy_score
    from .image_io import write_images
    from .synthesizers.registry import get_synthesizer

    name = args.model or "image_flow"
    name = name if name.startswith("image_") else f"image_{name}"
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


def _cmd_demo(args: argparse.Namespace) -> int:
    from .datasets import load_dataset
    from .evaluation.fidelity import column_shapes
    from .io import write_table
    from .synthesizers.registry import get_synthesizer

    if args.dataset == "digits":
        return _demo_images(args)
    args.model = args.model or "tvae"
    args.epochs = 300 if args.epochs is None else args.epochs
    data = load_dataset(args.dataset)
    out_dir = Path(args.output_dir)
    output = out_dir / f"{data.name}_synthetic.csv"
    _check_output(output, [], overwrite=True)
    print(f"dataset {data.name!r}: {data.frame.shape[0]} rows x {data.frame.shape[1]} columns (built in, from scikit-learn)")
    model = get_synthesizer(args.model, epochs=args.epochs, random_state=args.seed, verbose=not args.quiet)
    start = time.perf_counter()
    model.fit(data.frame)
    print(f"fitted {args.model} for {args.epochs} epochs in {time.perf_counter() - start:.1f}s")
    synthetic = model.sample(len(data.frame))
    write_table(synthetic, output)
    score = column_shapes(data.frame, synthetic)
    print(f"per-column fidelity ({score.name}, 1 = identical marginals): {score.value:.3f}")
    print(f"wrote {len(synthetic)} synthetic rows to {output.resolve()}")
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from .evaluation.report import evaluate
    from .io import read_table

    inputs = [Path(args.real), Path(args.synthetic)] + ([Path(args.holdout)] if args.holdout else [])
    outputs = [Path(p) for p in (args.report, args.json) if p]
    if len(outputs) == 2 and outputs[0].resolve() == outputs[1].resolve():
        raise CLIError(f"--report and --json are the same file {args.report!r}")
    for output in outputs:
        _check_output(output, inputs, args.overwrite)
    real, synthetic = read_table(inputs[0]), read_table(inputs[1])
    holdout = read_table(inputs[2]) if args.holdout else None
    model = None
    if args.model:
        from .persistence import load

        model = load(args.model)
    report = evaluate(real, synthetic, holdout, target=args.target, sensitive=args.sensitive, model=model, random_state=args.seed)
    print(report.summary())
    if args.json:
        report.to_json(args.json)
        print(f"wrote JSON report to {args.json}")
    if args.report:
        report.to_html(args.report)
        print(f"wrote HTML report to {args.report}")
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from .pipeline import SynthesisPipeline

    pipeline = SynthesisPipeline.from_toml(args.spec, output_dir=args.output, epochs=args.epochs, seed=args.seed)
    print(f"running {args.spec}: output to {pipeline.spec['output']['dir']}")
    result = pipeline.run(overwrite=args.overwrite, verbose=not args.quiet)
    print(result.summary())
    return 0


def _add_privacy_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("differential privacy")
    group.add_argument("--epsilon", type=float, default=None, help="train with (epsilon, delta)-DP; the total budget")
    group.add_argument("--delta", type=float, default=None, help="DP delta (default: 1/(10 n), always reported)")
    group.add_argument("--max-grad-norm", type=float, default=None, help="DP-SGD per-row clipping norm (default: 1)")
    group.add_argument("--accountant", default="prv", choices=["prv", "rdp"], help="privacy accountant (default: prv)")


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(prog="synthaug", description="Synthetic data augmentation with privacy.")
    parser.add_argument("--version", action="version", version=f"synthaug {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    syn = sub.add_parser("synthesize", help="fit a synthesizer on a CSV/Parquet table and write a synthetic copy")
    syn.add_argument("input", help="input table (.csv or .parquet)")
    syn.add_argument("-o", "--output", required=True, help="output table (.csv or .parquet); written atomically")
    syn.add_argument("--model", default="ctgan", help="synthesizer name (default: ctgan)")
    syn.add_argument("--rows", type=int, default=None, help="rows to generate (default: as many as the input)")
    syn.add_argument("--epochs", type=int, default=None, help="training epochs (default: the model's)")
    syn.add_argument("--batch-size", type=int, default=None, help="training batch size (default: the model's)")
    syn.add_argument("--seed", type=int, default=None, help="random seed for reproducible output")
    syn.add_argument("--condition", action="append", metavar="COL=VALUE", help="only generate rows with COL=VALUE (repeatable)")
    syn.add_argument("--save-model", default=None, metavar="PATH", help="also save the fitted model here")
    syn.add_argument(
        "--schema",
        default=None,
        metavar="JSON",
        help="column kinds and domains (needed with --epsilon; draft one with 'synthaug schema'); public=true marks a "
        "declared domain as public",
    )
    syn.add_argument("--overwrite", action="store_true", help="replace existing output files (never the input)")
    syn.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    _add_privacy_arguments(syn)
    syn.set_defaults(func=_cmd_synthesize)

    img = sub.add_parser(
        "synthesize-images", help="fit an image synthesizer on labelled images and write synthetic ones, class by class"
    )
    img.add_argument(
        "input",
        metavar="IN",
        help="a folder with one sub-folder of PNG/JPEG/BMP images per class, an .npz with arrays X and y, "
        "or 'digits' (the built-in 8x8 digits; a folder named digits is read as ./digits)",
    )
    img.add_argument(
        "-o",
        "--output",
        required=True,
        help="folder input (or digits): a folder of class sub-folders; .npz input: an .npz; written atomically",
    )
    img.add_argument("--model", default="vae", choices=["gan", "vae", "flow"], help="image synthesizer (default: vae)")
    count = img.add_mutually_exclusive_group()
    count.add_argument("--per-class", type=int, default=None, metavar="N", help="draw N images of each class")
    count.add_argument(
        "--balance",
        action="store_true",
        help="draw (largest class count - class count) images of each class and write only these, so input + output "
        "is balanced (default without --per-class/--balance: as many per class as the input)",
    )
    img.add_argument("--epochs", type=int, default=None, help="training epochs (default: the model's)")
    img.add_argument("--seed", type=int, default=None, help="random seed for reproducible output")
    img.add_argument(
        "--pixel-range",
        type=float,
        nargs=2,
        default=None,
        metavar=("LOW", "HIGH"),
        help="public pixel range of .npz input other than uint8/uint16 (needed with --epsilon); digits know theirs",
    )
    img.add_argument("--save-model", default=None, metavar="PATH", help="also save the fitted model here")
    img.add_argument("--overwrite", action="store_true", help="replace an existing output (never the input)")
    img.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    _add_privacy_arguments(img)
    img.set_defaults(func=_cmd_synthesize_images)

    smp = sub.add_parser("sample", help="draw rows from a saved model")
    smp.add_argument("model", help="model file written by --save-model or .save()")
    smp.add_argument("-o", "--output", required=True, help="output table (.csv or .parquet)")
    smp.add_argument("--rows", type=int, required=True, help="rows to generate")
    smp.add_argument("--seed", type=int, default=None, help="random seed")
    smp.add_argument(
        "--chunk-size", type=int, default=65_536, help="rows generated and written at a time (bounds memory; default 65536)"
    )
    smp.add_argument("--condition", action="append", metavar="COL=VALUE", help="only generate rows with COL=VALUE")
    smp.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    smp.set_defaults(func=_cmd_sample)

    ovs = sub.add_parser("oversample", help="balance a table's classes with synthetic rows of the rarer classes")
    ovs.add_argument("input", help="input table (.csv or .parquet)")
    ovs.add_argument("--target", required=True, help="class column")
    ovs.add_argument("-o", "--output", required=True, help="output table; original rows first, then synthetic ones")
    ovs.add_argument(
        "--strategy", default="auto", help="imbalanced-learn sampling_strategy: auto, minority, not majority, all, or a float"
    )
    ovs.add_argument("--model", default="ctgan", help="synthesizer name (default: ctgan)")
    ovs.add_argument(
        "--mode", default="conditional", choices=["conditional", "per_class"], help="one conditional model, or one per class"
    )
    ovs.add_argument("--epochs", type=int, default=None, help="training epochs (default: the sampler's)")
    ovs.add_argument("--batch-size", type=int, default=None, help="training batch size")
    ovs.add_argument("--seed", type=int, default=None, help="random seed")
    ovs.add_argument(
        "--schema", default=None, metavar="JSON", help="column kinds and domains (needed with --epsilon); see 'synthaug schema'"
    )
    ovs.add_argument("--overwrite", action="store_true", help="replace an existing output file (never the input)")
    ovs.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    _add_privacy_arguments(ovs)
    ovs.set_defaults(func=_cmd_oversample)

    sch = sub.add_parser("schema", help="draft a schema (kinds and domains) from a table, for you to review and declare")
    sch.add_argument("input", help="input table (.csv or .parquet)")
    sch.add_argument("-o", "--output", required=True, help="schema JSON to write (atomically)")
    sch.add_argument("--overwrite", action="store_true", help="replace an existing schema file")
    sch.set_defaults(func=_cmd_schema)

    ev = sub.add_parser("evaluate", help="audit a synthetic table against the real one: fidelity, utility and leakage")
    ev.add_argument("real", help="real training table (.csv or .parquet): the rows the generator was fitted on")
    ev.add_argument("synthetic", help="synthetic table to audit")
    ev.add_argument("--holdout", default=None, help="real rows kept out of training: references, utility and membership attacks")
    ev.add_argument("--target", default=None, help="column to predict for the utility metrics")
    ev.add_argument("--sensitive", default=None, help="column for the attribute-inference attack")
    ev.add_argument("--report", default=None, metavar="PATH", help="write a self-contained HTML report here")
    ev.add_argument("--json", default=None, metavar="PATH", help="write every metric with its details as JSON here")
    ev.add_argument("--model", default=None, metavar="PATH", help="saved model: its privacy ledger goes into the report")
    ev.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    ev.add_argument("--overwrite", action="store_true", help="replace existing report files (never an input)")
    ev.set_defaults(func=_cmd_evaluate)

    run = sub.add_parser("run", help="run a TOML pipeline: holdout split, fit, sample or oversample, audit, write outputs")
    run.add_argument("spec", help="pipeline spec (.toml), e.g. pipelines/copy.toml")
    run.add_argument("--output", default=None, metavar="DIR", help="output folder (overrides output.dir)")
    run.add_argument("--epochs", type=int, default=None, help="training epochs (overrides synthesizer.params.epochs)")
    run.add_argument("--seed", type=int, default=None, help="random seed (overrides output.seed)")
    run.add_argument(
        "--overwrite", action="store_true", help="write into a non-empty output folder (replaces its own files only)"
    )
    run.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    run.set_defaults(func=_cmd_run)

    demo = sub.add_parser("demo", help="synthesize a built-in dataset and report its fidelity")
    demo.add_argument(
        "--dataset", default="breast_cancer", help="built-in dataset (default: breast_cancer; 'digits' for the image demo)"
    )
    demo.add_argument(
        "--model", default=None, help="synthesizer name (default: tvae, the fastest to a faithful copy; image_flow for digits)"
    )
    demo.add_argument("--epochs", type=int, default=None, help="training epochs (default: 300; the model's default for digits)")
    demo.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    demo.add_argument("--output-dir", default="synthaug-demo", help="where to write the synthetic CSV")
    demo.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    demo.set_defaults(func=_cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from .exceptions import SynthaugError

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except (CLIError, SynthaugError, ValueError) as exc:
        print(f"synthaug {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
