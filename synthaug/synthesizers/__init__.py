"""Synthesizers: learn a distribution with ``fit``, draw from it with ``sample``.

The classes are imported on first use (PEP 562), so that the registry and the CLI's argument
checks answer without importing torch.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_LAZY = {
    "AutoregressiveSynthesizer": ".autoregressive",
    "MarginalSynthesizer": ".marginal",
    "BaseSynthesizer": ".base",
    "CTGANSynthesizer": ".ctgan",
    "DiffusionSynthesizer": ".diffusion",
    "FlowSynthesizer": ".flow",
    "TVAESynthesizer": ".tvae",
    "available_synthesizers": ".registry",
    "get_synthesizer": ".registry",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*__all__, *globals()})
