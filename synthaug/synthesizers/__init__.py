"""Synthesizers: learn a distribution with ``fit``, draw from it with ``sample``."""

from .autoregressive import AutoregressiveSynthesizer
from .base import BaseSynthesizer
from .ctgan import CTGANSynthesizer
from .diffusion import DiffusionSynthesizer
from .flow import FlowSynthesizer
from .registry import available_synthesizers, get_synthesizer
from .tvae import TVAESynthesizer

__all__ = [
    "AutoregressiveSynthesizer",
    "BaseSynthesizer",
    "CTGANSynthesizer",
    "DiffusionSynthesizer",
    "FlowSynthesizer",
    "TVAESynthesizer",
    "available_synthesizers",
    "get_synthesizer",
]
