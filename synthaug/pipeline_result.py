"""What a pipeline run returns: :class:`PipelineResult` and its console summary."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class PipelineResult:
    """What :meth:`~synthaug.pipeline.SynthesisPipeline.run` wrote and measured.

    Attributes:
        output_dir: the output folder.
        files: output role (``table``, ``model``, ``report_html`` ...) -> path.
        report: the :class:`~synthaug.evaluation.report.AuditReport` against the holdout.
        model: the fitted synthesizer, or the fitted ``GenerativeOverSampler`` when oversampling.
        privacy_spent: the privacy ledger (also in ``privacy.json``).
        info: rows of each part, columns, fit seconds, mode.
    """

    output_dir: Path
    files: dict[str, Path]
    report: Any
    model: Any
    privacy_spent: dict[str, Any]
    info: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> str:
        """A few lines: what was fitted, the privacy guarantee, headline metrics and the files written."""
        what = "rows" if "image_shape" not in self.info else "images"
        lines = [_fit_line(self.info, what), *_sampling_lines(self.info, what), _privacy_line(self.privacy_spent)]
        lines += _headline_lines(self.report)
        lines.append(f"wrote {', '.join(p.name for p in self.files.values())} to {self.output_dir}")
        return "\n".join(lines)


def _fit_line(info: Mapping[str, Any], what: str) -> str:
    shape = f"x {info['n_columns']} columns" if what == "rows" else f"of shape {info['image_shape']}"
    return (
        f"fitted {info['synthesizer']} on {info['n_train']} training {what} {shape} in "
        f"{info['fit_seconds']:.1f}s (holdout: {info['n_holdout']} {what})"
    )


def _sampling_lines(info: Mapping[str, Any], what: str) -> list[str]:
    if info["mode"] == "oversample" and "synthetic_per_class" in info:
        return [
            f"synthetic {what} per class (from the noisy class counts): {info['synthetic_per_class']}",
            f"the output holds every real training {what[:-1]} unchanged: it is not differentially private",
        ]
    if info["mode"] == "oversample":
        return [
            f"class counts before: {info['class_counts_before']}",
            f"class counts after:  {info['class_counts_after']} ({info['n_synthetic']} synthetic {what})",
        ]
    return [f"sampled {info['n_synthetic']} synthetic {what}"]


def _headline_lines(report: Any) -> list[str]:
    from .evaluation.report import HEADLINE_METRICS, _fmt

    lines = []
    for result in report.results:
        if result.name in HEADLINE_METRICS:
            reference = result.details.get("reference")
            ref = "" if reference is None else f" (real holdout: {_fmt(reference)})"
            lines.append(f"  {result.name}: {_fmt(result.value)}{ref}, {result.direction} is better")
    return lines


def _privacy_line(spent: Mapping[str, Any]) -> str:
    if spent.get("epsilon") is None:
        return "privacy: no formal guarantee (trained without differential privacy)"
    return f"privacy: ({spent['epsilon']:.3f}, {spent['delta']:.3g})-differential privacy"


__all__ = ["PipelineResult"]
