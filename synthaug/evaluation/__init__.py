"""Evaluation of synthetic data: fidelity, utility and leakage metrics, and the audit report.

Every metric is declared once in the registry (:mod:`synthaug.evaluation.registry`: name,
section, direction, needs, caption) and called as ``(real_train, synthetic, *, real_holdout=None,
target=None, sensitive=None, schema=None, random_state=None, <options>)``, returning a
:class:`MetricResult`; where a real-vs-real reference exists (holdout rows compared with the
training rows) it is in ``details["reference"]``. A metric that the inputs do not allow raises
:class:`~synthaug.exceptions.MetricNotApplicable`. :func:`evaluate` runs the table metrics and
returns an :class:`AuditReport` (imported lazily: it needs matplotlib only to draw). Image
metrics (:func:`evaluate_images`, :func:`frechet_distance`, ...) take image arrays and labels
instead of tables; they load torch when they first need image features.
"""

from __future__ import annotations

from ._lazy import lazy_attributes
from .detection import coverage, detection_auc
from .fidelity import column_shapes, ks_complement, pairwise_trends, total_variation_complement
from .privacy import (
    attribute_inference,
    closer_to_train_share,
    distance_to_closest_record,
    exact_copy_rate,
    leakage_metrics,
    membership_inference_density,
    membership_inference_distance,
    nearest_neighbour_distance_ratio,
    singling_out_risk,
)
from .result import MetricResult
from .utility import augmentation_gain, train_synthetic_test_real
from .validity import category_validity, missing_values

_LAZY = {
    "evaluate": "synthaug.evaluation.report",
    "AuditReport": "synthaug.evaluation.report",
    # images: torch loads on first use
    "ImageFeatureExtractor": "synthaug.evaluation.images",
    "fit_feature_extractor": "synthaug.evaluation.images",
    "frechet_distance": "synthaug.evaluation.image_metrics",
    "kernel_distance": "synthaug.evaluation.image_metrics",
    "classification_accuracy_score": "synthaug.evaluation.image_metrics",
    "image_nearest_neighbour_leakage": "synthaug.evaluation.image_metrics",
    "image_exact_copy_rate": "synthaug.evaluation.image_metrics",
    "evaluate_images": "synthaug.evaluation.images",
    "sample_grid_png": "synthaug.evaluation.plots",
}

__all__ = [
    "AuditReport",
    "ImageFeatureExtractor",
    "MetricResult",
    "attribute_inference",
    "augmentation_gain",
    "category_validity",
    "classification_accuracy_score",
    "closer_to_train_share",
    "column_shapes",
    "coverage",
    "detection_auc",
    "distance_to_closest_record",
    "evaluate",
    "evaluate_images",
    "exact_copy_rate",
    "fit_feature_extractor",
    "frechet_distance",
    "image_exact_copy_rate",
    "image_nearest_neighbour_leakage",
    "kernel_distance",
    "ks_complement",
    "leakage_metrics",
    "membership_inference_density",
    "membership_inference_distance",
    "missing_values",
    "nearest_neighbour_distance_ratio",
    "pairwise_trends",
    "sample_grid_png",
    "singling_out_risk",
    "total_variation_complement",
    "train_synthetic_test_real",
]


__getattr__ = lazy_attributes(__name__, globals(), _LAZY)
