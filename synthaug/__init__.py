"""synthaug: synthetic data augmentation with privacy.

Importing this package is cheap: torch and the networks load on first use.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from .codecs import set_model_lookup as _set_model_lookup

__version__ = "0.1.0"

_LAZY = {
    "ColumnSpec": "synthaug.schema",
    "TableSchema": "synthaug.schema",
    "infer_schema": "synthaug.schema",
    "TabularTransformer": "synthaug.transform",
    "CTGANSynthesizer": "synthaug.synthesizers.ctgan",
    "TVAESynthesizer": "synthaug.synthesizers.tvae",
    "FlowSynthesizer": "synthaug.synthesizers.flow",
    "DiffusionSynthesizer": "synthaug.synthesizers.diffusion",
    "AutoregressiveSynthesizer": "synthaug.synthesizers.autoregressive",
    "MarginalSynthesizer": "synthaug.synthesizers.marginal",
    "AutoSynthesizer": "synthaug.synthesizers.auto",
    "ImageGANSynthesizer": "synthaug.synthesizers.images",
    "ImageVAESynthesizer": "synthaug.synthesizers.images",
    "ImageFlowSynthesizer": "synthaug.synthesizers.images",
    "get_synthesizer": "synthaug.synthesizers.registry",
    "available_synthesizers": "synthaug.synthesizers.registry",
    "GenerativeOverSampler": "synthaug.over_sampling",
    "GenerativeAugmenter": "synthaug.augmentation",
    "load": "synthaug.synthesizers.registry",
    "load_model": "synthaug.synthesizers.registry",
    "read_table": "synthaug.io",
    "write_table": "synthaug.io",
    "load_dataset": "synthaug.datasets",
    "load_digits_images": "synthaug.datasets",
    "read_images": "synthaug.image_io",
    "write_images": "synthaug.image_io",
    "evaluate": "synthaug.evaluation.report",
    "AuditReport": "synthaug.evaluation.report",
    "DPConfig": "synthaug.privacy.config",
    "SynthesisPipeline": "synthaug.pipeline",
}

__all__ = ["__version__", *_LAZY]

#: submodules reachable as attributes (``synthaug.io.write_table_chunks``), imported on first use.
_SUBMODULES = frozenset(
    {
        "augmentation", "datasets", "evaluation", "exceptions", "fit_cache", "image_io", "io", "over_sampling",
        "persistence", "pipeline", "privacy", "schema", "selection", "synthesizers", "training", "transform",
    }
)  # fmt: skip


def _synthesizer_class(name: str) -> type:
    """Model files name their class; the synthesizer registry maps the name (imported on use)."""
    return import_module("synthaug.synthesizers.registry").synthesizer_class(name)


_set_model_lookup(_synthesizer_class)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return import_module(f"synthaug.{name}")  # importing binds it as an attribute of the package
    raise AttributeError(f"module 'synthaug' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*__all__, *_SUBMODULES})
