"""Plain ``nn.Module`` building blocks shared by the synthesizers."""

from .blocks import ResidualBlock, SeededDropout, leaky_mlp
from .heads import SpanActivation, segment_ids, segment_log_softmax
from .init import build, init_parameters

__all__ = [
    "ResidualBlock",
    "SeededDropout",
    "leaky_mlp",
    "SpanActivation",
    "segment_ids",
    "segment_log_softmax",
    "build",
    "init_parameters",
]
