"""Evaluation of synthetic data: fidelity and utility metrics.

Every metric is a function ``(real_train, synthetic, *, real_holdout=None, target=None,
schema=None, random_state=None)`` returning a :class:`MetricResult`.
"""

from .fidelity import column_shapes, ks_complement, pairwise_trends, total_variation_complement
from .result import MetricResult
from .utility import train_synthetic_test_real

__all__ = [
    "MetricResult",
    "column_shapes",
    "ks_complement",
    "pairwise_trends",
    "total_variation_complement",
    "train_synthetic_test_real",
]
