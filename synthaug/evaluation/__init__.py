"""Evaluation of synthetic data: fidelity (more metrics arrive with the evaluation issue)."""

from .fidelity import column_shapes, ks_complement, total_variation_complement
from .result import MetricResult

__all__ = ["MetricResult", "column_shapes", "ks_complement", "total_variation_complement"]
