"""The metric registry: every metric declares its name, section, direction, needs and caption once.

A metric is a function ``compute(inputs, **options) -> MetricResult`` taking one inputs object
(:class:`~synthaug.evaluation.inputs.TableInputs` for tables, ``ImageInputs`` for images) and
keyword-only options. :func:`metric` registers it and returns the public function
``(real_train, synthetic, *, <the inputs' fields>, <the options>)``, so that every metric is
called the same way. The suites (:func:`~synthaug.evaluation.report.evaluate`,
:func:`~synthaug.evaluation.images.evaluate_images`), the report's sections, guide and captions
and the pipeline's headline read from here. Only
:class:`~synthaug.exceptions.MetricNotApplicable` means "skipped"; every other error propagates.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, fields
from importlib import import_module
from typing import Any

from threadpoolctl import threadpool_limits

from ..exceptions import MetricNotApplicable, ParameterError
from .result import Direction, MetricResult

SECTION_ORDER = ("fidelity", "utility", "privacy")
# the metric modules (none imports torch), in the order their metrics run and are reported
_MODULES = ("fidelity", "detection", "validity", "utility", "privacy", "image_metrics")
_REGISTRY: dict[str, MetricSpec] = {}


@dataclass(frozen=True)
class MetricSpec:
    """One registered metric: its declaration and its ``compute(inputs, **options)`` function.

    ``suite``: the options that a suite passes from its own settings (e.g. ``estimator``);
    ``headline``: shown in the pipeline's summary.
    """

    name: str
    section: str
    direction: Direction
    needs: tuple[str, ...]
    caption: str
    kind: str
    headline: bool
    suite: tuple[str, ...]
    compute: Callable[..., MetricResult]

    def missing(self, inputs: Any) -> str | None:
        """Why the inputs do not allow this metric (the first need they lack), or None."""
        return next((why for why in (inputs.missing(need) for need in self.needs) if why is not None), None)

    def run(self, inputs: Any, **options: Any) -> MetricResult:
        """Compute on ``inputs``; MetricNotApplicable (naming the metric) when a need is missing."""
        why = self.missing(inputs)
        if why is not None:
            raise MetricNotApplicable(f"{self.name} {why}")
        result = self.compute(inputs, **options)
        if result.name != self.name or result.direction != self.direction:
            raise RuntimeError(f"metric {self.name!r} returned {result.name!r} ({result.direction}), not its declaration")
        return result


def metric(
    *,
    name: str,
    section: str,
    direction: Direction,
    caption: str,
    inputs: type,
    needs: Iterable[str] = (),
    headline: bool = False,
    suite: Iterable[str] = (),
) -> Callable[[Callable[..., MetricResult]], Callable[..., MetricResult]]:
    """Register ``compute(inputs, **options)`` as a metric and return its public function.

    ``needs``: what the inputs must hold (``inputs.NEEDS``: e.g. holdout, target, sensitive,
    labels); a suite skips the metric when one is missing, the public function raises
    MetricNotApplicable. ``caption``: the text the report shows with the metric.
    """
    needs, suite = tuple(needs), tuple(suite)
    unknown = [n for n in needs if n not in inputs.NEEDS]
    if section not in SECTION_ORDER or direction not in ("higher", "lower") or unknown:
        raise ParameterError(f"metric {name!r}: bad section {section!r}, direction {direction!r} or needs {unknown}")
    if name in _REGISTRY:
        raise ParameterError(f"metric {name!r} is registered twice")

    def register(compute: Callable[..., MetricResult]) -> Callable[..., MetricResult]:
        spec = MetricSpec(name, section, direction, needs, caption, inputs.KIND, headline, suite, compute)
        _REGISTRY[name] = spec
        return _public_function(spec, inputs)

    return register


def _public_function(spec: MetricSpec, inputs_type: type) -> Callable[..., MetricResult]:
    """``(real_train, synthetic, *, <public fields of inputs_type>, <keyword-only options of compute>)``."""
    kinds = inspect.Parameter
    public = [f for f in fields(inputs_type) if f.init and f.metadata.get("public", True)]
    positional = [kinds(f.name, kinds.POSITIONAL_OR_KEYWORD) for f in public[:2]]
    keywords = [kinds(f.name, kinds.KEYWORD_ONLY, default=f.default) for f in public[2:]]
    options = [p for p in inspect.signature(spec.compute).parameters.values() if p.kind is kinds.KEYWORD_ONLY]
    signature = inspect.Signature([*positional, *keywords, *options], return_annotation=MetricResult)
    names = [f.name for f in public]

    def function(*args: Any, **kwargs: Any) -> MetricResult:
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        values = bound.arguments
        return spec.run(inputs_type(**{n: values[n] for n in names}), **{p.name: values[p.name] for p in options})

    function.__name__ = function.__qualname__ = spec.name
    function.__doc__ = spec.compute.__doc__
    function.__module__ = spec.compute.__module__
    function.__signature__ = signature  # type: ignore[attr-defined]
    function.spec = spec  # type: ignore[attr-defined]
    return function


# --------------------------------------------------------------------------- reading the registry
def registered(kind: str | None = None) -> list[MetricSpec]:
    """The registered metrics (of one ``kind``: "table" or "images"): by module (``_MODULES``), then as defined."""
    _load()
    specs = [spec for spec in _REGISTRY.values() if kind is None or spec.kind == kind]
    return sorted(specs, key=_rank)


def _rank(spec: MetricSpec) -> int:
    module = spec.compute.__module__.rpartition(".")[2]
    return _MODULES.index(module) if module in _MODULES else len(_MODULES)


def get(name: str) -> MetricSpec:
    _load()
    if name not in _REGISTRY:
        raise KeyError(f"no metric {name!r}; registered: {sorted(_REGISTRY)}")
    return _REGISTRY[name]


def sections() -> dict[str, tuple[str, ...]]:
    """Section -> metric names, sections in report order."""
    specs = registered()
    return {section: tuple(s.name for s in specs if s.section == section) for section in SECTION_ORDER}


def guide() -> dict[str, str]:
    """Metric name -> its caption."""
    return {spec.name: spec.caption for spec in registered()}


def headline_metrics() -> tuple[str, ...]:
    """The metrics the pipeline summary shows: image metrics first, then table metrics."""
    specs = registered("images") + registered("table")
    return tuple(spec.name for spec in specs if spec.headline)


def _load() -> None:
    """Import the metric modules, so that every metric is registered."""
    for module in _MODULES:
        import_module(f"{__package__}.{module}")


# --------------------------------------------------------------------------- running a suite
@dataclass
class SuiteRun:
    """What a suite produced: results in order, skipped metrics with the reason, seconds per metric."""

    results: list[MetricResult] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


def run_suite(specs: Iterable[MetricSpec], inputs: Any, settings: Mapping[str, Any] | None = None) -> SuiteRun:
    """Run each metric on ``inputs`` (with the ``settings`` it declares in ``suite``).

    A missing need or a MetricNotApplicable is recorded in ``skipped`` with its reason;
    anything else propagates.
    """
    settings = settings or {}
    out = SuiteRun()
    for spec in specs:
        why = spec.missing(inputs)
        if why is not None:
            out.skipped[spec.name] = why
            continue
        start = time.perf_counter()
        try:
            out.results.append(spec.run(inputs, **{k: settings[k] for k in spec.suite if k in settings}))
        except MetricNotApplicable as exc:
            out.skipped[spec.name] = str(exc)
        out.seconds[spec.name] = time.perf_counter() - start
    return out


def limit_threads(n_threads: int | None) -> AbstractContextManager[Any]:
    """Cap the OpenMP / BLAS threads while a suite runs (threadpoolctl); None keeps the libraries' defaults."""
    return nullcontext() if n_threads is None else threadpool_limits(n_threads)


def privacy_spent_of(model: Any) -> dict[str, Any] | None:
    """A copy of ``model.privacy_spent_`` for the report (a note when the model has none; None without a model)."""
    if model is None:
        return None
    spent = getattr(model, "privacy_spent_", None)
    return dict(spent) if spent is not None else {"note": f"{type(model).__name__} does not report privacy_spent_"}
