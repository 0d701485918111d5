"""Explicit name -> class registry of synthesizers (no plugin discovery, no file globbing)."""

from __future__ import annotations

from importlib import import_module
from pathlib import Path
from typing import Any

from ..exceptions import ParameterError

# name -> "module:Class"; imported lazily so that `import synthaug` stays cheap
_SYNTHESIZERS: dict[str, str] = {
    "auto": "synthaug.synthesizers.auto:AutoSynthesizer",
    "ctgan": "synthaug.synthesizers.ctgan:CTGANSynthesizer",
    "tvae": "synthaug.synthesizers.tvae:TVAESynthesizer",
    "flow": "synthaug.synthesizers.flow:FlowSynthesizer",
    "diffusion": "synthaug.synthesizers.diffusion:DiffusionSynthesizer",
    "autoregressive": "synthaug.synthesizers.autoregressive:AutoregressiveSynthesizer",
    "marginal": "synthaug.synthesizers.marginal:MarginalSynthesizer",
    "image_gan": "synthaug.synthesizers.images.gan:ImageGANSynthesizer",
    "image_vae": "synthaug.synthesizers.images.vae:ImageVAESynthesizer",
    "image_flow": "synthaug.synthesizers.images.flow:ImageFlowSynthesizer",
}


def available_synthesizers() -> list[str]:
    """Names accepted by :func:`get_synthesizer` and the CLI's ``--model``."""
    return sorted(_SYNTHESIZERS)


def synthesizer_class(name: str) -> type:
    """The synthesizer class registered as ``name`` (its module is imported on first use)."""
    try:
        target = _SYNTHESIZERS[name]
    except KeyError:
        raise ParameterError(f"unknown synthesizer {name!r}; available: {', '.join(available_synthesizers())}") from None
    module, cls = target.split(":")
    return getattr(import_module(module), cls)


def get_synthesizer(name: str, **params: Any):
    """A new, unfitted synthesizer by name, e.g. ``get_synthesizer("ctgan", epochs=50)``."""
    cls = synthesizer_class(name)
    unknown = set(params) - set(cls._get_param_names())
    if unknown:
        raise ParameterError(f"{name}: unknown parameter(s) {sorted(unknown)}; allowed: {sorted(cls._get_param_names())}")
    return cls(**params)


def load_model(path: str | Path, *, device: str | None = None) -> Any:
    """Load a synthesizer saved with ``save``; ``device`` overrides the saved device setting."""
    from ..persistence import load_model as load_file

    return load_file(path, device=device, resolve=synthesizer_class)


load = load_model  # ``synthaug.load``
