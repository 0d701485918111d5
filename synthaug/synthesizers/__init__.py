"""Synthesizers: learn a distribution with ``fit``, draw from it with ``sample``."""

from .base import BaseSynthesizer
from .ctgan import CTGANSynthesizer
from .registry import available_synthesizers, get_synthesizer
from .tvae import TVAESynthesizer

__all__ = ["BaseSynthesizer", "CTGANSynthesizer", "TVAESynthesizer", "available_synthesizers", "get_synthesizer"]
