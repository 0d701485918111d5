"""Synthesizers: learn a distribution with ``fit``, draw from it with ``sample``."""

from .base import BaseSynthesizer
from .ctgan import CTGANSynthesizer
from .registry import available_synthesizers, get_synthesizer

__all__ = ["BaseSynthesizer", "CTGANSynthesizer", "available_synthesizers", "get_synthesizer"]
