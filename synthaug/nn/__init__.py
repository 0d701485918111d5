"""Plain ``nn.Module`` building blocks shared by the synthesizers."""

from .blocks import LearntScale, ResidualBlock, SeededDropout, leaky_mlp, relu_mlp
from .heads import SpanActivation, SpanLikelihood, segment_ids, segment_log_softmax
from .init import build, init_parameters

__all__ = [
    "ResidualBlock",
    "SeededDropout",
    "leaky_mlp",
    "relu_mlp",
    "LearntScale",
    "SpanActivation",
    "SpanLikelihood",
    "segment_ids",
    "segment_log_softmax",
    "build",
    "init_parameters",
]
