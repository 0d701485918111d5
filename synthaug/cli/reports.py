"""The audit commands: ``evaluate`` (a synthetic table against the real one) and ``run`` (a TOML pipeline)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..exceptions import DataFileError
from .common import check_output, csv_options


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Audit a synthetic table: print the summary, write the JSON and HTML reports asked for."""
    from ..evaluation.report import evaluate
    from ..io import read_table

    inputs = [Path(args.real), Path(args.synthetic)] + ([Path(args.holdout)] if args.holdout else [])
    outputs = [Path(p) for p in (args.report, args.json) if p]
    if len(outputs) == 2 and outputs[0].resolve() == outputs[1].resolve():
        raise DataFileError(f"--report and --json are the same file {args.report!r}")
    for output in outputs:
        check_output(output, inputs, args.overwrite)
    if args.report and Path(args.report).suffix.lower() not in (".html", ".htm"):
        raise DataFileError(f"--report writes a self-contained HTML file: give it a .html name, not {args.report!r}")
    if args.json and Path(args.json).suffix.lower() != ".json":
        raise DataFileError(f"--json writes JSON: give it a .json name, not {args.json!r}")
    reading, _ = csv_options(args)
    real, synthetic = read_table(inputs[0], **reading), read_table(inputs[1], **reading)
    holdout = read_table(inputs[2], **reading) if args.holdout else None
    model = None
    if args.model:
        from ..persistence import load

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


def cmd_run(args: argparse.Namespace) -> int:
    """Run a TOML pipeline and print its summary."""
    from ..pipeline import SynthesisPipeline

    pipeline = SynthesisPipeline.from_toml(args.spec, output_dir=args.output, epochs=args.epochs, seed=args.seed)
    print(f"running {args.spec}: output to {pipeline.spec['output']['dir']}")
    result = pipeline.run(overwrite=args.overwrite, verbose=not args.quiet)
    print(result.summary())
    return 0
