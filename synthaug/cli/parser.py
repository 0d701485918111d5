"""The argument parser: one function per subcommand, each naming the command function it runs.

The command modules are looked up when the parser is built (so a test can replace a command).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from . import demo, images, reports, tables

Subparsers = argparse._SubParsersAction  # what add_subparsers returns
SCHEMA_HELP = (
    "column kinds and domains (needed with --epsilon; draft one with 'synthaug schema'); public=true marks a "
    "declared domain as public"
)


def build_parser() -> argparse.ArgumentParser:
    """The ``synthaug`` parser with every subcommand."""
    from .. import __version__

    parser = argparse.ArgumentParser(prog="synthaug", description="Synthetic data augmentation with privacy.")
    parser.add_argument("--version", action="version", version=f"synthaug {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for add in (_add_synthesize, _add_synthesize_images, _add_sample, _add_oversample):
        add(sub)
    for add in (_add_schema, _add_evaluate, _add_run, _add_demo):
        add(sub)
    return parser


def _command(sub: Subparsers, name: str, func: Callable[[argparse.Namespace], int], about: str) -> argparse.ArgumentParser:
    """A subcommand that runs ``func(args)``; ``about`` is its one-line help."""
    command = sub.add_parser(name, help=about)
    command.set_defaults(func=func)
    return command


def _add_run_flags(command: argparse.ArgumentParser, overwrite_help: str, quiet: bool = True) -> None:
    """--overwrite, and -q/--quiet for the commands that train."""
    command.add_argument("--overwrite", action="store_true", help=overwrite_help)
    if quiet:
        command.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def _add_csv(command: argparse.ArgumentParser) -> None:
    """--sep, --decimal and --encoding for the commands that read tables."""
    group = command.add_argument_group("CSV files")
    group.add_argument("--sep", default=",", help="field separator (default ','; 'tab' for tabs); CSV outputs use it too")
    group.add_argument("--decimal", default=".", help="decimal mark (default '.'); CSV outputs use it too")
    group.add_argument("--encoding", default="utf-8", help="input encoding (default utf-8; e.g. latin-1, cp1252)")


def _add_training(command: argparse.ArgumentParser, epochs_help: str, seed_help: str, batch_help: str | None) -> None:
    """--epochs, --batch-size (where ``batch_help`` is given) and --seed."""
    command.add_argument("--epochs", type=int, default=None, help=epochs_help)
    if batch_help is not None:
        command.add_argument("--batch-size", type=int, default=None, help=batch_help)
    command.add_argument("--seed", type=int, default=None, help=seed_help)


def _add_privacy(command: argparse.ArgumentParser) -> None:
    group = command.add_argument_group("differential privacy")
    group.add_argument("--epsilon", type=float, default=None, help="train with (epsilon, delta)-DP; the total budget")
    group.add_argument("--delta", type=float, default=None, help="DP delta (default: 1/(10 n), always reported)")
    group.add_argument("--max-grad-norm", type=float, default=None, help="DP-SGD per-row clipping norm (default: 1)")
    group.add_argument("--accountant", default="prv", choices=["prv", "rdp"], help="privacy accountant (default: prv)")


def _add_synthesize(sub: Subparsers) -> None:
    syn = _command(
        sub, "synthesize", tables.cmd_synthesize, "fit a synthesizer on a CSV/Parquet table and write a synthetic copy"
    )
    syn.add_argument("input", help="input table (.csv or .parquet)")
    syn.add_argument("-o", "--output", required=True, help="output table (.csv or .parquet); written atomically")
    syn.add_argument(
        "--model",
        default="auto",
        help="synthesizer name (default: auto, which fits autoregressive, diffusion and flow on 70%% of the rows, "
        "scores each on the other 30%% and refits the best; under --epsilon: flow)",
    )
    syn.add_argument(
        "--time-budget",
        type=float,
        default=300.0,
        metavar="SECONDS",
        help="--model auto: seconds for fitting all candidates during the selection (default 300; 0: no limit, "
        "reproducible on any machine)",
    )
    syn.add_argument(
        "--target",
        default=None,
        metavar="COL",
        help="--model auto: also score how well COL is predicted (TSTR/TRTR); --model marginal: measure every "
        "column's joint counts with COL (its label set is public under --epsilon)",
    )
    syn.add_argument("--rows", type=int, default=None, help="rows to generate (default: as many as the input)")
    _add_training(
        syn,
        "training epochs (default: the model's)",
        "random seed for reproducible output",
        "training batch size (default: the model's)",
    )
    syn.add_argument(
        "--condition",
        action="append",
        metavar="COL=VALUE",
        help="only generate rows with COL=VALUE; numeric columns also COL=LOW..HIGH, COL=LOW.. or COL=..HIGH "
        "(--model autoregressive); repeatable (autoregressive, diffusion)",
    )
    syn.add_argument("--save-model", default=None, metavar="PATH", help="also save the fitted model here")
    syn.add_argument("--schema", default=None, metavar="JSON", help=SCHEMA_HELP)
    syn.add_argument(
        "--nproc",
        type=int,
        default=1,
        metavar="N",
        help="train data-parallel in N processes started with torchrun (gloo on CPU, NCCL on GPUs; flow, tvae, "
        "diffusion, autoregressive; not with --epsilon); --batch-size stays the global batch",
    )
    _add_run_flags(syn, "replace existing output files (never the input)")
    _add_csv(syn)
    _add_privacy(syn)


def _add_synthesize_images(sub: Subparsers) -> None:
    img = _command(
        sub,
        "synthesize-images",
        images.cmd_synthesize_images,
        "fit an image synthesizer on labelled images and write synthetic ones, class by class",
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
    _add_training(img, "training epochs (default: the model's)", "random seed for reproducible output", None)
    img.add_argument(
        "--pixel-range",
        type=float,
        nargs=2,
        default=None,
        metavar=("LOW", "HIGH"),
        help="public pixel range of .npz input other than uint8/uint16 (needed with --epsilon); digits know theirs",
    )
    img.add_argument("--save-model", default=None, metavar="PATH", help="also save the fitted model here")
    _add_run_flags(img, "replace an existing output (never the input)")
    _add_privacy(img)


def _add_sample(sub: Subparsers) -> None:
    smp = _command(sub, "sample", tables.cmd_sample, "draw rows from a saved model")
    smp.add_argument("model", help="model file written by --save-model or .save()")
    smp.add_argument("-o", "--output", required=True, help="output table (.csv or .parquet)")
    smp.add_argument("--rows", type=int, required=True, help="rows to generate")
    smp.add_argument("--seed", type=int, default=None, help="random seed")
    smp.add_argument(
        "--chunk-size", type=int, default=65_536, help="rows generated and written at a time (bounds memory; default 65536)"
    )
    smp.add_argument(
        "--condition",
        action="append",
        metavar="COL=VALUE",
        help="only generate rows with COL=VALUE (or COL=LOW..HIGH, as for synthesize)",
    )
    smp.add_argument(
        "--engine",
        choices=["dask", "ray", "local"],
        default=None,
        help="draw in parallel partitions on this engine into a Parquet dataset (a folder; same rows for a seed "
        "whatever the partitions); default: one stream into one file",
    )
    smp.add_argument("--workers", type=int, default=2, help="with --engine: local worker processes (default 2)")
    smp.add_argument("--partitions", type=int, default=None, help="with --engine: tasks, one part file each (default: workers)")
    _add_run_flags(smp, "replace an existing output file", quiet=False)


def _add_oversample(sub: Subparsers) -> None:
    ovs = _command(sub, "oversample", tables.cmd_oversample, "balance a table's classes with synthetic rows of the rarer classes")
    ovs.add_argument("input", help="input table (.csv or .parquet)")
    ovs.add_argument("--target", required=True, help="class column")
    ovs.add_argument("-o", "--output", required=True, help="output table; original rows first, then synthetic ones")
    ovs.add_argument(
        "--strategy", default="auto", help="imbalanced-learn sampling_strategy: auto, minority, not majority, all, or a float"
    )
    ovs.add_argument(
        "--model",
        default=None,
        help="synthesizer name (default: the sampler's, a short diffusion fit with classifier selection; under "
        "--epsilon the flow)",
    )
    ovs.add_argument(
        "--mode", default="conditional", choices=["conditional", "per_class"], help="one conditional model, or one per class"
    )
    _add_training(ovs, "training epochs (default: the sampler's)", "random seed", "training batch size")
    ovs.add_argument(
        "--schema", default=None, metavar="JSON", help="column kinds and domains (needed with --epsilon); see 'synthaug schema'"
    )
    _add_run_flags(ovs, "replace an existing output file (never the input)")
    _add_csv(ovs)
    _add_privacy(ovs)


def _add_schema(sub: Subparsers) -> None:
    about = "draft a schema (kinds and domains) from a table, for you to review and declare"
    sch = _command(sub, "schema", tables.cmd_schema, about)
    sch.add_argument("input", help="input table (.csv or .parquet)")
    sch.add_argument("-o", "--output", required=True, help="schema JSON to write (atomically)")
    _add_run_flags(sch, "replace an existing schema file", quiet=False)
    _add_csv(sch)


def _add_evaluate(sub: Subparsers) -> None:
    about = "audit a synthetic table against the real one: fidelity, utility and leakage"
    ev = _command(sub, "evaluate", reports.cmd_evaluate, about)
    ev.add_argument("real", help="real training table (.csv or .parquet): the rows the generator was fitted on")
    ev.add_argument("synthetic", help="synthetic table to audit")
    ev.add_argument("--holdout", default=None, help="real rows kept out of training: references, utility and membership attacks")
    ev.add_argument("--target", default=None, help="column to predict for the utility metrics")
    ev.add_argument("--sensitive", default=None, help="column for the attribute-inference attack")
    ev.add_argument("--report", default=None, metavar="PATH", help="write a self-contained HTML report here")
    ev.add_argument("--json", default=None, metavar="PATH", help="write every metric with its details as JSON here")
    ev.add_argument("--model", default=None, metavar="PATH", help="saved model: its privacy ledger goes into the report")
    ev.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    _add_run_flags(ev, "replace existing report files (never an input)", quiet=False)
    _add_csv(ev)


def _add_run(sub: Subparsers) -> None:
    about = "run a TOML pipeline: holdout split, fit, sample or oversample, audit, write outputs"
    run = _command(sub, "run", reports.cmd_run, about)
    run.add_argument("spec", help="pipeline spec (.toml), e.g. pipelines/copy.toml")
    run.add_argument("--output", default=None, metavar="DIR", help="output folder (overrides output.dir)")
    _add_training(run, "training epochs (overrides synthesizer.params.epochs)", "random seed (overrides output.seed)", None)
    _add_run_flags(run, "write into a non-empty output folder (replaces its own files only)")


def _add_demo(sub: Subparsers) -> None:
    dem = _command(sub, "demo", demo.cmd_demo, "synthesize a built-in dataset and report its fidelity")
    dem.add_argument(
        "--dataset", default="breast_cancer", help="built-in dataset (default: breast_cancer; 'digits' for the image demo)"
    )
    dem.add_argument(
        "--model", default=None, help="synthesizer name (default: tvae, the fastest to a faithful copy; image_flow for digits)"
    )
    dem.add_argument("--epochs", type=int, default=None, help="training epochs (default: 300; the model's default for digits)")
    dem.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    dem.add_argument("--output-dir", default="synthaug-demo", help="where to write the synthetic CSV")
    dem.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
