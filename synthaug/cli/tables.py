"""The table commands: ``schema``, ``synthesize``, ``oversample`` and ``sample``."""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import re
import time
from pathlib import Path
from typing import Any

from ..exceptions import ConditionError, ParameterError
from .common import (
    CLIError,
    check_model_name,
    check_output,
    check_private_schema,
    csv_options,
    parse_conditions,
    print_privacy,
    privacy_params,
    save_model,
    schema_param,
    training_params,
)

SCHEMA_NOTICE = (
    'this draft was read from the data: review every kind, and set "public": true only where the categories or '
    "bounds are public knowledge. What you declare public from it is your decision and outside any DP guarantee; "
    "undeclared domains are released with noise under --epsilon."
)
#: models that train from a Parquet input in chunks (synthaug.synthesizers.streamed.StreamedFit)
STREAMED_MODELS = ("flow", "tvae")
#: models that train data-parallel across processes (NetworkTraining.data_parallel)
DATA_PARALLEL_MODELS = ("flow", "tvae", "diffusion", "autoregressive")
STRATEGIES = ("auto", "minority", "not minority", "not majority", "all")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def cmd_schema(args: argparse.Namespace) -> int:
    """Draft a schema from a table, for the user to review and declare."""
    from ..atomic import atomic_path
    from ..io import read_table
    from ..schema import infer_schema

    source, output = Path(args.input), Path(args.output)
    check_output(output, [source], args.overwrite)
    reading, _ = csv_options(args)
    schema = infer_schema(read_table(source, **reading))
    with atomic_path(output, suffix=".tmp") as tmp:
        Path(tmp).write_text(schema.to_json(indent=2) + "\n", encoding="utf-8")
    print(f"wrote a draft schema of {len(schema)} columns to {output}")
    print(SCHEMA_NOTICE)
    return 0


def cmd_synthesize(args: argparse.Namespace, write: bool = True) -> int:
    """Fit a synthesizer on a table and write a synthetic copy (optionally only rows meeting conditions);
    ``write=False`` (the other processes of ``--nproc``) stops after the fit."""
    from ..io import read_table, table_format, write_table

    source, output = Path(args.input), Path(args.output)
    table_format(output)
    check_output(output, [source], args.overwrite)
    if args.save_model:
        check_output(Path(args.save_model), [source, output], args.overwrite, "model path")
    check_private_schema(args)
    conditions = parse_conditions(args.condition)
    declared = schema_param(args.schema)
    if args.model not in ("auto", "marginal") and args.target is not None:
        raise CLIError(
            "--target only applies with --model auto (it steers the selection) or marginal (it fixes the measured pairs)"
        )
    name = check_model_name(args.model)
    reading, writing = csv_options(args)
    if (args.nproc != 1 or _in_torchrun()) and not getattr(args, "in_process_group", False):
        return _synthesize_in_processes(args, name)
    if table_format(source) == "parquet" and name in STREAMED_MODELS and args.epsilon is None:
        return _synthesize_streamed(args, source, output, name, conditions, {**declared}, writing)
    df = read_table(source, **reading)
    from ..synthesizers.condition_support import check_conditions, problem_of

    # under DP the released categories are checked by sample(), not the private values
    private = args.epsilon is not None
    numeric = check_conditions(df, conditions, problem_of(name), schema=declared.get("schema"), private=private)
    # torch comes in with the models: only once every argument and the input have been checked
    from ..synthesizers.registry import get_synthesizer

    params = {"random_state": args.seed, "verbose": not args.quiet, **privacy_params(args, len(df)), **declared}
    if args.model == "auto":
        params.update(time_budget=args.time_budget or None, target=args.target)
    elif args.model == "marginal" and args.target is not None:
        if args.target not in df.columns:
            raise CLIError(f"--target {args.target!r} is not a column of {source.name}; columns are {list(df.columns)}")
        params["target"] = args.target
    model = get_synthesizer(name, **training_params(args, **params))
    if args.model == "auto" and conditions:
        narrow_candidates(model, list(conditions), numeric)
    start = time.perf_counter()
    model.fit(df)
    fit_seconds = time.perf_counter() - start
    if not write:
        return 0
    synthetic = model.sample(args.rows if args.rows is not None else len(df), conditions=conditions or None)
    write_table(synthetic, output, **writing)
    name = f"{model.selection_['chosen']} (chosen by auto)" if args.model == "auto" else args.model
    print(f"fitted {name} on {len(df)} rows x {df.shape[1]} columns in {fit_seconds:.1f}s")
    print(f"wrote {len(synthetic)} synthetic rows to {output}")
    print_privacy(model.privacy_spent_)
    save_model(model, args.save_model)
    return 0


def _synthesize_in_processes(args: argparse.Namespace, name: str) -> int:
    """``synthesize --nproc N``: this command again in N processes started by torchrun, which
    train data-parallel (:mod:`synthaug.training.data_parallel`); rank 0 writes the outputs."""
    if args.nproc < 1:
        raise CLIError(f"--nproc must be a positive integer, got {args.nproc}")
    if args.epsilon is not None:
        raise CLIError("--nproc cannot be combined with --epsilon: a DP fit trains in one process")
    if name not in DATA_PARALLEL_MODELS:
        raise CLIError(f"--nproc needs --model {' | '.join(DATA_PARALLEL_MODELS)} (got {name!r})")
    if not _in_torchrun():
        import subprocess
        import sys

        command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={args.nproc}"]
        return subprocess.run([*command, "-m", "synthaug", *_without_nproc(args.argv)], check=False).returncode
    from ..training.data_parallel import process_group

    with process_group() as (rank, _):
        args.in_process_group = True  # this process runs the command as one of the group
        if rank == 0:
            return cmd_synthesize(args)
        with contextlib.redirect_stdout(io.StringIO()):  # one process reports
            return cmd_synthesize(args, write=False)


def _in_torchrun() -> bool:
    """Whether torchrun started this process (its environment names a world size); no torch import."""
    return "WORLD_SIZE" in os.environ and "RANK" in os.environ


def _without_nproc(argv: list[str]) -> list[str]:
    """``argv`` less ``--nproc N`` / ``--nproc=N`` (torchrun reads it as its own --nproc-per-node)."""
    out, skip = [], False
    for token in argv:
        if skip:
            skip = False
        elif token == "--nproc":
            skip = True
        elif not token.startswith("--nproc="):
            out.append(token)
    return out


def _synthesize_streamed(
    args: argparse.Namespace,
    source: Path,
    output: Path,
    name: str,
    conditions: dict[str, Any],
    declared: dict[str, Any],
    writing: dict[str, str],
) -> int:
    """``synthesize`` of a Parquet input with a model that trains from the file in chunks and
    writes its output in chunks: memory stays bounded however many rows the file holds."""
    from ..io import write_table_chunks
    from ..parquet_source import ParquetSource

    probe = ParquetSource(source)
    from ..synthesizers.condition_support import check_conditions, problem_of

    # before training: columns, what the model can condition on, range syntax (kinds from the first chunk's
    # dtypes; category values are checked by sample(), as they may first appear further into the file)
    first = next(probe.epoch_chunks(None))
    check_conditions(first, conditions, problem_of(name), schema=declared.get("schema"), private=True)
    from ..synthesizers.registry import get_synthesizer

    params = {"random_state": args.seed, "verbose": not args.quiet, **declared}
    model = get_synthesizer(name, **training_params(args, **params))
    start = time.perf_counter()
    model.fit(source)
    fit_seconds = time.perf_counter() - start
    n_rows = args.rows if args.rows is not None else probe.n_rows
    _, rows = write_table_chunks(model.iter_samples(n_rows, conditions=conditions or None), output, **writing)
    print(f"fitted {name} on {probe.n_rows} rows x {len(probe.columns)} columns, read in chunks, in {fit_seconds:.1f}s")
    print(f"wrote {rows} synthetic rows to {output}")
    save_model(model, args.save_model)
    return 0


def narrow_candidates(model: Any, columns: list[str], numeric: list[str]) -> None:
    """Leave ``auto`` only the candidates that can condition on ``columns``."""
    capable = model.capable_candidates(columns, numeric)
    if not capable:
        raise ConditionError(f"conditions on {columns}: none of the candidates {list(model.candidates)} can take them")
    model.set_params(candidates=capable)


def parse_strategy(text: str) -> str | float:
    """``--strategy``: one of imbalanced-learn's named strategies, or a number (binary targets)."""
    if text in STRATEGIES:
        return text
    if _NUMBER.fullmatch(text.strip()) and float(text) > 0:
        return float(text)
    raise ParameterError(f"--strategy must be one of {', '.join(STRATEGIES)} or a positive number, got {text!r}")


def cmd_oversample(args: argparse.Namespace) -> int:
    """Balance a table's classes with synthetic rows of the rarer classes."""
    from ..io import read_table, table_format, write_table

    source, output = Path(args.input), Path(args.output)
    table_format(output)
    check_output(output, [source], args.overwrite)
    check_private_schema(args)
    strategy = parse_strategy(args.strategy)
    if args.model is not None:
        check_model_name(args.model)
    reading, writing = csv_options(args)
    df = read_table(source, **reading)
    # scikit-learn, imbalanced-learn and torch: only once the arguments and the input have been checked
    from ..over_sampling import GenerativeOverSampler, check_target_column, default_synthesizer
    from ..synthesizers.registry import get_synthesizer

    X, y = check_target_column(df, args.target)
    params = {"verbose": not args.quiet, **privacy_params(args, len(df)), **schema_param(args.schema, drop=args.target)}
    if args.model is None:
        synthesizer = default_synthesizer(n_rows=len(df), private=args.epsilon is not None, **training_params(args, **params))
    else:
        synthesizer = get_synthesizer(check_model_name(args.model), **training_params(args, **params))
    sampler = GenerativeOverSampler(
        synthesizer=synthesizer,
        sampling_strategy=strategy,
        mode=args.mode,
        random_state=args.seed,
    )
    if args.epsilon is None:
        print(f"class counts before: {y.value_counts().sort_index().to_dict()}")
    X_res, y_res = sampler.fit_resample(X, y)
    balanced = X_res.copy()
    balanced.insert(df.columns.get_loc(args.target), args.target, y_res.to_numpy())
    write_table(balanced, output, **writing)
    if args.epsilon is None:
        print(f"class counts after:  {y_res.value_counts().sort_index().to_dict()}")
    else:  # the synthetic counts come from the noisy class histogram
        print(f"synthetic rows per class (from the noisy class counts): {sampler.sampling_strategy_}")
    print(f"wrote {len(balanced)} rows ({len(balanced) - len(df)} synthetic) to {output}")
    print_privacy(sampler.privacy_spent_)
    return 0


def cmd_sample(args: argparse.Namespace) -> int:
    """Draw rows from a saved model, streamed to the output one chunk at a time."""
    from ..io import table_format, write_table_chunks
    from ..persistence import read_metadata

    model_path, output = Path(args.model), Path(args.output)
    if args.engine is not None:
        return _sample_in_partitions(args, model_path, output)
    table_format(output)
    check_output(output, [model_path], args.overwrite)
    conditions = parse_conditions(args.condition) or None
    read_metadata(model_path)  # a missing or malformed file is reported before torch is imported
    from ..persistence import load

    model = load(model_path)
    chunks = model.iter_samples(args.rows, chunk_size=args.chunk_size, conditions=conditions, random_state=args.seed)
    _, rows = write_table_chunks(chunks, output)  # memory bounded by one chunk
    print(f"wrote {rows} synthetic rows to {output}")
    return 0


def _sample_in_partitions(args: argparse.Namespace, model_path: Path, output: Path) -> int:
    """``sample --engine``: a Parquet dataset written by parallel partitions (:mod:`synthaug.distributed`)."""
    from ..distributed import sample_to_parquet

    if output.suffix.lower() not in ("", ".parquet"):
        raise CLIError(f"with --engine the output is a Parquet dataset (a folder): name it out.parquet or out/, not {output}")
    if output.resolve() == model_path.resolve():
        raise CLIError(f"output {str(output)!r} is the model file; refusing to overwrite it")
    conditions = parse_conditions(args.condition) or None
    result = sample_to_parquet(
        model_path,
        args.rows,
        output,
        engine=args.engine,
        partitions=args.partitions,
        workers=args.workers,
        random_state=args.seed,
        conditions=conditions,
        overwrite=args.overwrite,
    )
    where = f"{result['partitions']} partitions on {args.engine}, seed {result['seed']}"
    print(f"wrote {result['rows']} synthetic rows to {output} ({where})")
    return 0
