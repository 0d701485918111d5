"""What several commands share: checks of paths and flags, the parameters they build, the privacy line.

Every refusal here is a :class:`~synthaug.exceptions.SynthaugError` that names the flag, value or path.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..exceptions import ConditionError, DataFileError, ParameterError, PrivacyError, SynthaugError


class CLIError(SynthaugError):
    """A command-line flag, or a combination of flags, that cannot be honoured."""


def parse_conditions(items: Sequence[str] | None) -> dict[str, str]:
    """``--condition COL=VALUE`` items as ``{column: value}``."""
    conditions: dict[str, str] = {}
    for item in items or []:
        if "=" not in item:
            raise ConditionError(f"--condition expects COLUMN=VALUE, got {item!r}")
        column, value = item.split("=", 1)
        conditions[column.strip()] = value
    return conditions


def check_output(output: Path, inputs: Sequence[Path], overwrite: bool, what: str = "output") -> None:
    """Refuse to write over an input, over an existing file without ``--overwrite``, or over a folder."""
    for source in inputs:
        if output.resolve() == source.resolve():
            raise DataFileError(f"{what} {str(output)!r} is the input file; refusing to overwrite it")
    if output.exists() and not overwrite:
        raise DataFileError(f"{what} {str(output)!r} already exists; pass --overwrite to replace it")
    if output.exists() and output.is_dir():
        raise DataFileError(f"{what} {str(output)!r} is a directory")


def check_model_name(name: str) -> str:
    """``name`` if it is a registered synthesizer; else an error listing the registered ones."""
    from ..synthesizers.registry import available_synthesizers

    if name not in available_synthesizers():
        raise ParameterError(f"--model: unknown synthesizer {name!r}; available: {', '.join(available_synthesizers())}")
    return name


def training_params(args: argparse.Namespace, **params: Any) -> dict[str, Any]:
    """``params`` plus ``epochs`` and ``batch_size`` where the command has these flags and they are given."""
    for key in ("epochs", "batch_size"):
        value = getattr(args, key, None)
        if value is not None:
            params[key] = value
    return params


def privacy_params(args: argparse.Namespace, n_rows: int | None = None) -> dict[str, Any]:
    """``{"dp": DPConfig}`` from --epsilon/--delta/--max-grad-norm/--accountant, or nothing.

    ``n_rows``: the rows of the private table, when known; a --delta not below ``1 / n_rows`` is refused.
    """
    if args.epsilon is None:
        for flag, value in (("--delta", args.delta), ("--max-grad-norm", args.max_grad_norm)):
            if value is not None:
                raise CLIError(f"{flag} only applies with --epsilon")
        return {}
    _check_dp_flags(args, n_rows)
    from ..privacy import DPConfig

    settings = {"epsilon": args.epsilon, "delta": args.delta, "accountant": args.accountant}
    if args.max_grad_norm is not None:
        settings["max_grad_norm"] = args.max_grad_norm
    return {"dp": DPConfig(**settings)}


def _check_dp_flags(args: argparse.Namespace, n_rows: int | None) -> None:
    if not (args.epsilon > 0 and math.isfinite(args.epsilon)):
        raise ParameterError(f"--epsilon: epsilon must be a positive number, got {args.epsilon:g}")
    if args.delta is not None and not 0 < args.delta < 1:
        raise ParameterError(f"--delta: delta must be in (0, 1), got {args.delta:g}")
    if args.max_grad_norm is not None and not args.max_grad_norm > 0:
        raise ParameterError(f"--max-grad-norm: max_grad_norm must be a positive number, got {args.max_grad_norm:g}")
    if args.delta is not None and n_rows and not args.delta < 1.0 / n_rows:
        raise PrivacyError(
            f"--delta {args.delta:g} is not below 1/n = {1.0 / n_rows:g} for n={n_rows} rows: such a delta allows "
            f"releasing a whole row; use --delta {1.0 / (10 * n_rows):.3g} or less (or leave it out for 1/(10 n))"
        )


def check_private_schema(args: argparse.Namespace) -> None:
    """Under --epsilon the schema is declared: reading kinds from a private file is a leak."""
    if args.epsilon is not None and args.schema is None:
        raise PrivacyError(
            "--epsilon needs --schema: under differential privacy the column kinds and any public domains are "
            "declared, not read from the private file (a single value can change an inferred kind). Draft one with "
            "'synthaug schema IN -o schema.json', review it, set public=true only on domains that are public "
            "knowledge, and pass --schema schema.json"
        )


def schema_param(path: str | None, drop: str | None = None) -> dict[str, Any]:
    """``{"schema": TableSchema}`` from a JSON file (without the column ``drop``), or nothing."""
    if path is None:
        return {}
    from ..schema import TableSchema

    schema_path = Path(path)
    if not schema_path.is_file():
        raise DataFileError(f"schema file {path!r} does not exist")
    schema = TableSchema.from_json(schema_path.read_text(encoding="utf-8"))
    if drop is not None:  # the class column reaches the synthesizer as y (its label set is public)
        schema = TableSchema([c for c in schema.columns if c.name != drop])
    return {"schema": schema}


def print_privacy(report: dict[str, Any]) -> None:
    """The privacy guarantee of a fit, or the plain statement that there is none."""
    if report.get("epsilon") is None:
        print("privacy: no formal guarantee (trained without differential privacy; pass --epsilon to train with it)")
        return
    line = f"privacy: ({report['epsilon']:.3f}, {report['delta']:.3g})-differential privacy"
    if "accountant" in report and "steps" in report:  # DP-SGD
        line += (
            f" [target epsilon {report['target_epsilon']:g}; {report['accountant']} accountant; "
            f"noise multiplier {report['noise_multiplier']:.3f}, {report['steps']} steps at sample rate "
            f"{report['sample_rate']:.4f}, clipping norm {report['max_grad_norm']:g}]"
        )
    elif "accountant" in report:  # noisy statistics only (the marginal model)
        stages = ", ".join(b["stage"] for b in report.get("breakdown", []))
        line += f" [target epsilon {report['target_epsilon']:g}; {report['accountant']} accountant; stages: {stages}]"
    print(line)
    if "not_covered" in report:
        print(f"privacy: {report['not_covered']}")


def save_model(model: Any, path: str | None) -> None:
    """``model.save(path)`` when --save-model was given (``check_output`` has already refused an
    existing file without --overwrite)."""
    if path:
        model.save(path, overwrite=True)
        print(f"saved model to {path}")


def csv_options(args: argparse.Namespace) -> tuple[dict[str, str], dict[str, str]]:
    """``--sep``, ``--decimal``, ``--encoding``, checked: the keywords of ``read_table`` and of
    ``write_table`` (output CSVs keep the input's separator and decimal mark)."""
    sep = "\t" if args.sep in ("\\t", "tab") else args.sep
    for flag, value in (("--sep", sep), ("--decimal", args.decimal)):
        if len(value) != 1:
            raise CLIError(f"{flag} must be one character, got {value!r}")
    if sep == args.decimal:
        raise CLIError(f"--sep and --decimal are both {sep!r}")
    import codecs

    try:
        codecs.lookup(args.encoding)
    except LookupError as exc:
        raise CLIError(f"--encoding: unknown encoding {args.encoding!r}") from exc
    return {"sep": sep, "decimal": args.decimal, "encoding": args.encoding}, {"sep": sep, "decimal": args.decimal}
