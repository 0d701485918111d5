"""The audit report: run the default metric suite and render it as a table, JSON, Markdown or one HTML file.

:func:`evaluate` runs every metric that the inputs allow; a metric that cannot run (no
holdout, no target, a single-class synthetic target ...) is listed in ``skipped`` with the
reason, never given a value. :class:`AuditReport` renders the results; its HTML is one
self-contained file with the plots embedded as base64 PNG.
"""

from __future__ import annotations

import base64
import html
import json
import math
import numbers
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.utils import check_random_state

from ..atomic import atomic_path
from ..exceptions import CopyRiskWarning, DataValidationError, SynthaugWarning
from ..schema import TableSchema, infer_schema
from . import plots, registry
from .inputs import TableInputs
from .privacy import DEFAULT_MAX_ROWS
from .result import MetricResult

# derived from the metric registry (one declaration per metric); kept as module names for their callers
SECTIONS: dict[str, tuple[str, ...]] = registry.sections()
_SECTION_OF = {name: section for section, names in SECTIONS.items() for name in names}
GUIDE: dict[str, str] = registry.guide()
HEADLINE_METRICS: tuple[str, ...] = registry.headline_metrics()
# the report's figures: key (see AuditReport.figures), section and caption
FIGURES: tuple[tuple[str, str, str], ...] = (
    ("marginals", "fidelity", "Marginals, real vs synthetic"),
    ("pairwise", "fidelity", "Pairwise relationships lost"),
    ("samples", "fidelity", "Images per class: real (left) vs synthetic (right)"),
    ("utility", "utility", "Utility"),
    ("dcr", "privacy", "Distance to closest record"),
    ("membership_roc", "privacy", "Membership inference"),
    ("image_leakage", "privacy", "Distance to the closest training image"),
)


def _plain(value: Any) -> Any:
    """JSON-friendly copy: numpy scalars to Python, NaN and infinities to None, tuples to lists."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        value = float(value)
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, str):
        return value
    return str(value)


def _fmt(value: Any) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    if isinstance(value, numbers.Real):
        return f"{value:.4g}"
    return str(value)


@dataclass
class AuditReport:
    """Results of :func:`evaluate`: metric results, skipped metrics with reasons, the model's privacy spent.

    ``info`` records the inputs' sizes, the target / sensitive columns, the seed and the
    seconds each metric took.
    """

    results: list[MetricResult]
    skipped: dict[str, str] = field(default_factory=dict)
    privacy_spent: dict[str, Any] | None = None
    info: dict[str, Any] = field(default_factory=dict)
    _tables: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False, compare=False)
    _schema: TableSchema | None = field(default=None, repr=False, compare=False)
    _images: dict[str, Any] | None = field(default=None, repr=False, compare=False)

    def __getitem__(self, name: str) -> MetricResult:
        for result in self.results:
            if result.name == name:
                return result
        if name in self.skipped:
            raise KeyError(f"metric {name!r} was skipped: {self.skipped[name]}")
        raise KeyError(f"no metric {name!r} in the report; metrics: {[r.name for r in self.results]}")

    # ----------------------------------------------------------------------- tables and text
    def to_frame(self) -> pd.DataFrame:
        """One row per metric: section, metric, value, reference, direction (skipped metrics have a reason instead)."""
        rows = [
            {
                "section": _SECTION_OF.get(r.name, "other"),
                "metric": r.name,
                "value": r.value,
                "reference": r.details.get("reference"),
                "direction": f"{r.direction} is better",
                "skipped": None,
            }
            for r in self.results
        ]
        rows += [
            {
                "section": _SECTION_OF.get(n, "other"),
                "metric": n,
                "value": np.nan,
                "reference": None,
                "direction": None,
                "skipped": why,
            }
            for n, why in self.skipped.items()
        ]
        frame = pd.DataFrame(rows, columns=["section", "metric", "value", "reference", "direction", "skipped"])
        frame["reference"] = pd.to_numeric(frame["reference"], errors="coerce")
        return frame

    def summary(self) -> str:
        """A compact plain-text table (metric, value, reference, better), then the skipped metrics."""
        rows = [(r.name, _fmt(r.value), _fmt(r.details.get("reference")), r.direction) for r in self.results]
        header = ("metric", "value", "reference", "better")
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(4)]
        lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in [header, *rows]]
        lines += [f"skipped {name}: {why}" for name, why in self.skipped.items()]
        lines += [f"WARNING: {text}" for text in self.info.get("warnings", [])]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        from .. import __version__

        return _plain(
            {
                "synthaug_version": __version__,
                "info": self.info,
                "metrics": [{"section": _SECTION_OF.get(r.name, "other"), **r.to_dict()} for r in self.results],
                "skipped": self.skipped,
                "privacy_spent": self.privacy_spent,
            }
        )

    def to_json(self, path: str | Path | None = None, *, indent: int = 2, notice: str | None = None) -> str:
        """The report as JSON (NaN written as null); also written atomically to ``path`` when given.
        ``notice``: a line written first (as the ``"notice"`` key), e.g. that the audit is outside a DP guarantee."""
        data = self.to_dict() if notice is None else {"notice": notice, **self.to_dict()}
        text = json.dumps(data, indent=indent, allow_nan=False)
        if notice is not None:  # the notice on the file's first line
            text = text.replace("{\n" + " " * indent, "{ ", 1)
        if path is not None:
            with atomic_path(path) as tmp:
                tmp.write_text(text, encoding="utf-8")
        return text

    def to_markdown(self) -> str:
        """A Markdown summary: the metric table, skipped metrics and the privacy spent."""
        lines = ["# Synthetic data audit", "", _describe(self.info), ""]
        lines += [f"**Warning:** {text}\n" for text in self.info.get("warnings", [])]
        for section in SECTIONS:
            results = [r for r in self.results if _SECTION_OF.get(r.name) == section]
            if not results:
                continue
            lines += [f"## {section.capitalize()}", "", "| metric | value | reference | better |", "| --- | --- | --- | --- |"]
            lines += [f"| {r.name} | {_fmt(r.value)} | {_fmt(r.details.get('reference'))} | {r.direction} |" for r in results]
            lines.append("")
        if self.skipped:
            lines += ["## Skipped", ""] + [f"- {name}: {why}" for name, why in self.skipped.items()] + [""]
        lines += ["## Privacy spent", "", _privacy_text(self.privacy_spent), ""]
        return "\n".join(lines)

    # ----------------------------------------------------------------------- HTML
    def figures(self) -> dict[str, bytes]:
        """The report's plots as PNG bytes, keyed by name (those the results allow)."""
        figures: dict[str, bytes] = {}
        names = {r.name: r for r in self.results}
        schema = self._schema
        if "real_train" in self._tables and "synthetic" in self._tables and schema is not None:
            figures["marginals"] = plots.marginals(
                self._tables["real_train"], self._tables["synthetic"], schema, self._marginal_columns()
            )
        if "pairwise_trends" in names and schema is not None:
            figures["pairwise"] = plots.pair_differences(names["pairwise_trends"].details["per_pair"], schema.names)
        if "distance_to_closest_record" in names:
            figures["dcr"] = plots.dcr_histograms(names["distance_to_closest_record"].details["histogram"])
        if "image_nearest_neighbour_leakage" in names:
            figures["image_leakage"] = plots.dcr_histograms(
                names["image_nearest_neighbour_leakage"].details["histogram"],
                xlabel="feature-space distance to the closest training image",
            )
        curves = {
            label: names[name].details["roc_curve"]
            for name, label in (
                ("membership_inference_distance", "distance attack"),
                ("membership_inference_density", "density ratio"),
            )
            if name in names
        }
        if curves:
            figures["membership_roc"] = plots.roc_curves(curves)
        groups: dict[str, dict[str, dict[str, float | None]]] = {}
        if "train_synthetic_test_real" in names:
            d = names["train_synthetic_test_real"].details
            groups["train on synthetic vs real, test on real"] = {"TSTR": d["tstr"], "TRTR": d["trtr"]}
        if "augmentation_gain" in names:
            d = names["augmentation_gain"].details
            groups[f"augmentation (minority class {d['minority_class']!r})"] = {
                "real + synthetic": d["augmented"],
                "real only": d["real_only"],
            }
        if "classification_accuracy_score" in names:
            d = names["classification_accuracy_score"].details
            groups["images: train on synthetic vs real, test on real"] = {
                "synthetic": {"accuracy": d["synthetic_accuracy"]},
                "real": {"accuracy": d["real_accuracy"]},
            }
        if groups:
            figures["utility"] = plots.utility_bars(groups)
        if self._images is not None:
            figures["samples"] = plots.image_samples(**self._images)
        return figures

    def _marginal_columns(self, n: int = 6) -> list[str]:
        """The target and sensitive columns, then the columns whose marginals differ most."""
        chosen = [c for c in (self.info.get("target"), self.info.get("sensitive")) if c]
        scores = next((r.details["per_column"] for r in self.results if r.name == "column_shapes"), {})
        for column in sorted(scores, key=lambda c: scores[c]):
            if column not in chosen:
                chosen.append(column)
        if not scores and self._schema is not None:
            chosen += [c for c in self._schema.names if c not in chosen]
        return list(dict.fromkeys(chosen))[:n]

    def to_html(self, path: str | Path | None = None, *, notice: str | None = None) -> str:
        """One self-contained HTML page (plots embedded as base64 PNG); also written atomically to ``path`` when given.
        ``notice``: a line put first (an HTML comment) and shown as a banner above the report."""
        body = self._html_body(self.figures())
        page = _HTML.format(title="Synthetic data audit", style=_STYLE, body=body)
        if notice is not None:
            banner = f'<p class="notice"><strong>{html.escape(notice)}</strong></p>'
            page = f"<!-- {html.escape(notice)} -->\n" + page.replace(body, banner + body, 1)
        if path is not None:
            with atomic_path(path) as tmp:
                tmp.write_text(page, encoding="utf-8")
        return page

    def _repr_html_(self) -> str:
        return f"<div>{_STYLE_TAG.format(style=_STYLE)}{self._html_body(self.figures())}</div>"

    def _html_body(self, figures: dict[str, bytes]) -> str:
        esc = html.escape
        parts = ["<h1>Synthetic data audit</h1>", f"<p>{esc(_describe(self.info))}</p>"]
        parts += [f'<p class="warning"><b>Warning:</b> {esc(text)}</p>' for text in self.info.get("warnings", [])]
        parts.append(
            "<p>Each metric comes with its <b>reference</b>: the same computation with real holdout rows in place of "
            "the synthetic ones (or chance, where stated). A synthetic table is as good, and leaks as little, as "
            "an independent real sample when it scores about the reference.</p>"
        )
        parts.append(self._html_table(self.results))
        for section in SECTIONS:
            parts += _html_section(section, [r for r in self.results if _SECTION_OF.get(r.name) == section], figures)
        if self.skipped:
            parts.append(
                "<h2>Skipped</h2><ul>" + "".join(f"<li><b>{esc(n)}</b>: {esc(w)}</li>" for n, w in self.skipped.items()) + "</ul>"
            )
        parts.append(f"<h2>Privacy spent</h2><pre>{esc(_privacy_text(self.privacy_spent))}</pre>")
        return "\n".join(parts)

    def _html_table(self, results: list[MetricResult]) -> str:
        esc = html.escape
        rows = "".join(
            f"<tr><td>{esc(_SECTION_OF.get(r.name, 'other'))}</td><td>{esc(r.name)}</td><td>{esc(_fmt(r.value))}</td>"
            f"<td>{esc(_fmt(r.details.get('reference')))}</td><td>{esc(r.direction)}</td></tr>"
            for r in results
        )
        return (
            "<table><thead><tr><th>section</th><th>metric</th><th>value</th><th>reference</th><th>better</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>"
        )


def _html_section(section: str, results: list[MetricResult], figures: dict[str, bytes]) -> list[str]:
    """One section of the HTML page: its figures, then each metric with its caption and details (nothing when empty)."""
    esc = html.escape
    shown = [(key, caption) for key, where, caption in FIGURES if where == section and key in figures]
    if not results and not shown:
        return []
    parts = [f"<h2>{section.capitalize()}</h2>"]
    for key, caption in shown:
        data = base64.b64encode(figures[key]).decode("ascii")
        parts.append(
            f'<figure><img alt="{esc(caption)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{esc(caption)}</figcaption></figure>"
        )
    for r in results:
        parts.append(
            f"<h3>{esc(r.name)}: {esc(_fmt(r.value))} <small>(reference {esc(_fmt(r.details.get('reference')))}, "
            f"{esc(r.direction)} is better)</small></h3><p>{esc(GUIDE.get(r.name, ''))}</p>"
            "<details><summary>details</summary>"
            f"<pre>{esc(json.dumps(_plain(_short(r.details)), indent=1))}</pre></details>"
        )
    return parts


def _short(details: dict[str, Any]) -> dict[str, Any]:
    """Details without the long plot series (they are drawn instead)."""
    return {k: v for k, v in details.items() if k not in {"roc_curve", "histogram", "per_pair", "correlations"}}


def _describe(info: dict[str, Any]) -> str:
    rows = info.get("n_rows", {})
    sizes = ", ".join(f"{k} {v} rows" for k, v in rows.items())
    extra = [f"{k} column {info[k]!r}" for k in ("target", "sensitive") if info.get(k)]
    seconds = info.get("seconds_total")
    timing = f"; computed in {seconds:.1f}s" if seconds is not None else ""
    if "image_shape" in info:
        sizes = ", ".join(f"{k} {v} images" for k, v in rows.items())
        c, h, w = info["image_shape"]
        return f"{sizes}; {c}x{h}x{w} (C x H x W); {info.get('n_classes', '?')} classes{timing}."
    return f"{sizes}; {info.get('n_columns', '?')} columns" + (f"; {', '.join(extra)}" if extra else "") + timing + "."


def _privacy_text(spent: dict[str, Any] | None) -> str:
    if spent is None:
        return "No model given: the formal privacy guarantee (if any) of the generator is unknown to this report."
    return json.dumps(_plain(spent), indent=2)


_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}"
    "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}"
    "th{background:#f2f2f2}img{max-width:100%}figure{margin:1em 0}figcaption{font-size:90%;color:#555}"
    ".warning{background:#fff3cd;border:1px solid #e0c060;padding:6px}"
    "pre{background:#f7f7f7;padding:6px;overflow-x:auto;font-size:80%}h3 small{font-weight:normal;color:#555}"
)
_STYLE_TAG = "<style>{style}</style>"
_HTML = (
    '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
    "<style>{style}</style></head>\n<body>\n{body}\n</body></html>\n"
)


# --------------------------------------------------------------------------- evaluate
def _check_inputs(
    real_train: pd.DataFrame, synthetic: pd.DataFrame, real_holdout: pd.DataFrame | None, **columns: str | None
) -> None:
    """TypeError / DataValidationError for a table that is not a DataFrame, is empty, or lacks columns of real_train."""
    for label, table in (("real_train", real_train), ("synthetic", synthetic), ("real_holdout", real_holdout)):
        if table is None:
            continue
        if not isinstance(table, pd.DataFrame):
            raise TypeError(f"{label} must be a pandas DataFrame, got {type(table).__name__}")
        if len(table) == 0:
            raise DataValidationError(f"{label} is an empty table")
        missing = [c for c in real_train.columns if c not in table.columns]
        if missing:
            raise DataValidationError(f"{label} lacks column(s) {missing} of real_train")
    for what, column in columns.items():
        if column is not None and column not in real_train.columns:
            raise DataValidationError(
                f"{what} column {column!r} is not a column of real_train (columns: {list(real_train.columns)})"
            )


def evaluate(
    real_train: pd.DataFrame,
    synthetic: pd.DataFrame,
    real_holdout: pd.DataFrame | None = None,
    target: str | None = None,
    sensitive: str | None = None,
    schema: TableSchema | None = None,
    model: Any = None,
    random_state: Any = 0,
    *,
    estimator: Any = None,
    max_rows: int | None = DEFAULT_MAX_ROWS,
    n_threads: int | None = 1,
) -> AuditReport:
    """Run the registered table metrics and return an :class:`AuditReport`.

    Fidelity: column shapes, pairwise trends, detection AUC, coverage, category validity,
    missing values. Utility (with ``target`` and ``real_holdout``): train-synthetic-test-real
    (``estimator``, default gradient boosting) and, for a discrete target, augmentation gain.
    Leakage: DCR, exact copies, NNDR and singling out; with a holdout also closer-to-train
    share and two membership-inference attacks; with ``sensitive`` attribute inference.
    ``max_rows`` caps the query rows of the leakage metrics (detection and coverage use their
    own smaller defaults). ``model``: a fitted synthesizer whose ``privacy_spent_`` is copied
    into the report. A metric that cannot run on these inputs (MetricNotApplicable) is listed
    in ``skipped`` with the reason; any other error propagates.

    ``n_threads`` caps the OpenMP / BLAS threads while the suite runs (threadpoolctl, restored
    afterwards); None keeps the libraries' defaults. The default is 1: gradient boosting's
    OpenMP threads slow down by an order of magnitude when the cores are busy (measured: a
    detection test took 95 s with 2 threads on a loaded 2-core machine, 3 s with one).
    """
    _check_inputs(real_train, synthetic, real_holdout, target=target, sensitive=sensitive)
    schema = schema if schema is not None else infer_schema(real_train)
    if isinstance(random_state, numbers.Integral) or random_state is None:
        seed = random_state
    else:
        seed = int(check_random_state(random_state).randint(np.iinfo(np.int32).max))
    inputs = TableInputs(real_train, synthetic, real_holdout, target, sensitive, schema, seed)
    started = time.perf_counter()
    with registry.limit_threads(n_threads):
        run = registry.run_suite(registry.registered("table"), inputs, {"estimator": estimator, "max_rows": max_rows})
    info = {
        "n_rows": {
            "real_train": len(real_train),
            "synthetic": len(synthetic),
            **({"real_holdout": len(real_holdout)} if real_holdout is not None else {}),
        },
        "n_columns": len(inputs.schema),
        "identifier_columns": [spec.name for spec in schema if spec.kind == "id"],
        "target": target,
        "sensitive": sensitive,
        "random_state": seed,
        "seconds": run.seconds,
        "seconds_total": time.perf_counter() - started,
    }
    copies = _copy_warnings(run.results, real_train)
    info["warnings"] = _extra_columns(real_train, synthetic, real_holdout) + _overlap_warnings(run.results, real_train) + copies
    for text in info["warnings"]:
        warnings.warn(text, CopyRiskWarning if text in copies else SynthaugWarning, stacklevel=2)
    tables = {"real_train": inputs.real_train, "synthetic": inputs.synthetic}
    if real_holdout is not None:
        tables["real_holdout"] = inputs.real_holdout
    return AuditReport(run.results, run.skipped, registry.privacy_spent_of(model), info, tables, inputs.schema)


def _extra_columns(real_train: pd.DataFrame, synthetic: pd.DataFrame, real_holdout: pd.DataFrame | None) -> list[str]:
    """A warning naming the columns of the synthetic (or holdout) table that real_train lacks: not compared."""
    found = []
    for label, table in (("synthetic", synthetic), ("real_holdout", real_holdout)):
        extra = [] if table is None else [str(c) for c in table.columns if c not in real_train.columns]
        if extra:
            found.append(f"the {label} table has column(s) {extra} that real_train lacks; they are not compared")
    return found


def _copy_warnings(results: list[MetricResult], real_train: pd.DataFrame) -> list[str]:
    """Warnings when the synthetic rows copy training rows more than real rows would: the exact-copy
    rate above its reference (the holdout's; without one, the share of training rows that have a
    duplicate among themselves), or significantly more rows closer to train than to the holdout."""
    by_name = {r.name: r for r in results}
    found = []
    copies = by_name.get("exact_copy_rate")
    if copies is not None:
        reference = copies.details.get("reference")
        if reference is None:
            reference = float(real_train.duplicated(keep=False).mean())
        if copies.value > max(2 * reference, reference + 0.02):
            found.append(
                f"{copies.value:.1%} of the synthetic rows are exact copies of training rows (real rows would give "
                f"{reference:.1%}): the synthetic table echoes the real one; do not share it as a private copy"
            )
    closer = by_name.get("closer_to_train_share")
    if closer is not None and closer.value > 0.6 and closer.details.get("binomial_p_value", 1.0) < 0.01:
        found.append(
            f"{closer.value:.0%} of the synthetic rows are closer to a training row than to a holdout row (reference 50%): "
            "the generator reproduces its training rows"
        )
    return found


def _overlap_warnings(results: list[MetricResult], real_train: pd.DataFrame) -> list[str]:
    """A warning when many holdout rows equal training rows although the training rows are nearly all distinct."""
    copies = next((r for r in results if r.name == "exact_copy_rate"), None)
    overlap = None if copies is None else copies.details.get("reference")
    if overlap is not None and overlap > 0.5 and real_train.duplicated().mean() < 0.1:  # the same people
        return [
            f"{overlap:.0%} of the holdout rows also appear in real_train: the holdout was not held out, so the "
            "references and the membership attacks are meaningless (pass the training rows only as real_train)"
        ]
    return []
