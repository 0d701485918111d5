"""The pipeline's output folder: its file names, the refusal to clobber, and the files every run writes."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .atomic import atomic_path
from .exceptions import DataFileError
from .pipeline_result import PipelineResult

AUDIT_NOTICE = (
    "OUTSIDE THE PRIVACY GUARANTEE: this audit reads the private training and holdout rows (marginals, class "
    "counts, distances); it is for the data holder and must not be published with the DP outputs."
)


def output_paths(spec: Mapping[str, Any]) -> dict[str, Path]:
    """Output role -> path in ``output.dir``; under DP the audit goes to ``audit/`` (it reads private rows)."""
    folder = Path(spec["output"]["dir"])
    table = "resampled.csv" if "oversample" in spec else "synthetic.csv"
    audit = "audit/" if "privacy" in spec else ""
    names = {
        "table": table,
        "model": "model.synthaug",
        "report_html": f"{audit}report.html",
        "report_json": f"{audit}report.json",
        "privacy": "privacy.json",
        "spec": "spec.json",
    }
    return {role: folder / name for role, name in names.items()}


def check_output_dir(spec: Mapping[str, Any], overwrite: bool) -> None:
    """Refuse an output folder that is a file, would replace the input, or is not empty without ``overwrite``."""
    folder = Path(spec["output"]["dir"])
    if folder.exists() and not folder.is_dir():
        raise DataFileError(f"output.dir {str(folder)!r} exists and is not a folder")
    source = spec["input"].get("path")
    if source is not None and Path(source) in output_paths(spec).values():
        raise DataFileError(f"output.dir {str(folder)!r} would overwrite the input {source!r}; choose another folder")
    if folder.is_dir() and not overwrite:
        existing = sorted(p.name for p in folder.iterdir())
        if existing:
            shown = ", ".join(existing[:5]) + (" ..." if len(existing) > 5 else "")
            raise DataFileError(
                f"output folder {str(folder)!r} is not empty ({shown}); pass overwrite=True (--overwrite) to replace "
                "the pipeline's files in it (other files are left alone)"
            )


def write_json(data: Any, path: Path) -> None:
    """``data`` as indented JSON (numpy values made plain), written atomically."""
    from .evaluation.report import _plain

    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(_plain(data), indent=2, allow_nan=False) + "\n", encoding="utf-8")


def finish_run(
    spec: Mapping[str, Any], files: dict[str, Path], models: Mapping[str, Any], report: Any, fitted: Any, info: dict[str, Any]
) -> PipelineResult:
    """Write what every run writes after its data files (models, report, ledger, resolved spec); the result.

    ``files``: the data files already written (role -> path), added to in place; ``models``:
    file name -> fitted synthesizer; ``info["models"]`` (file name -> class), when present, goes to
    ``models.json``.
    """
    folder, paths = Path(spec["output"]["dir"]), output_paths(spec)
    for name, model in models.items():
        model.save(folder / name, overwrite=True)  # the run's folder was checked (--overwrite) before any fit
        files[Path(name).stem] = folder / name
    if "models" in info:
        files["models"] = folder / "models.json"
        write_json(info["models"], files["models"])
    notice = AUDIT_NOTICE if "privacy" in spec else None
    report.to_html(paths["report_html"], notice=notice)
    report.to_json(paths["report_json"], notice=notice)
    write_json(fitted.privacy_spent_, paths["privacy"])
    write_json(_resolved_spec(spec, info), paths["spec"])
    files.update({role: paths[role] for role in ("report_html", "report_json", "privacy", "spec")})
    return PipelineResult(folder, files, report, fitted, dict(fitted.privacy_spent_), info)


def _resolved_spec(spec: Mapping[str, Any], info: Mapping[str, Any]) -> dict[str, Any]:
    """The spec as run: a copy's ``output.rows`` is the number of rows (or images) it sampled."""
    resolved = copy.deepcopy(dict(spec))
    if info["mode"] == "copy":
        resolved["output"]["rows"] = info["n_synthetic"]
    return resolved
