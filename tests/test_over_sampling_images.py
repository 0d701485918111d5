"""GenerativeOverSampler with image synthesizers: arrays of images in, arrays of images out."""

from __future__ import annotations

import numpy as np
import pytest
from imblearn.pipeline import make_pipeline
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import FunctionTransformer

from synthaug import CTGANSynthesizer, DPConfig, GenerativeOverSampler
from synthaug.exceptions import DataValidationError
from synthaug.over_sampling import default_synthesizer
from synthaug.synthesizers.images import ImageFlowSynthesizer, ImageVAESynthesizer
from synthaug.utils.image_checks import make_contract_images


def _imbalanced(n_minority: int = 4):
    X, y = make_contract_images(n=60)
    keep = (y != "d") | (np.cumsum(y == "d") <= n_minority)
    return X[keep], y[keep]


def _vae(**params):
    return ImageVAESynthesizer(epochs=2, batch_size=16, latent_dim=4, base_channels=8, random_state=0, **params)


@pytest.mark.parametrize("mode", ["conditional", "per_class"])
def test_images_are_balanced_with_exact_classes(mode):
    X, y = _imbalanced()
    X_res, y_res = GenerativeOverSampler(synthesizer=_vae(), mode=mode, random_state=0).fit_resample(X, y)
    assert X_res.dtype == np.uint8 and X_res.shape[1:] == X.shape[1:]
    assert np.array_equal(X_res[: len(X)], X) and np.array_equal(y_res[: len(y)], y)
    labels, counts = np.unique(y_res, return_counts=True)
    assert list(labels) == ["d", "h", "v"] and len(set(counts)) == 1


def test_a_one_image_class_can_be_oversampled_per_class():
    X, y = _imbalanced(n_minority=1)
    X_res, y_res = GenerativeOverSampler(synthesizer=_vae(), mode="per_class", random_state=0).fit_resample(X, y)
    assert (y_res == "d").sum() == (y_res == "h").sum() and X_res.shape[1:] == X.shape[1:]


@pytest.mark.slow
def test_image_oversampler_reports_dp_spending():
    X, y = _imbalanced()
    sampler = GenerativeOverSampler(synthesizer=_vae(dp=DPConfig(epsilon=3.0, delta=1e-3)), random_state=0)
    sampler.fit_resample(X, y)
    assert 0 < sampler.privacy_spent_["epsilon"] <= 3.0 + 1e-6


def test_image_oversampler_in_an_imblearn_pipeline():
    X, y = _imbalanced()
    flatten = FunctionTransformer(lambda images: images.reshape(len(images), -1) / 255.0)
    pipeline = make_pipeline(GenerativeOverSampler(synthesizer=_vae(), random_state=0), flatten, LogisticRegression(max_iter=200))
    pipeline.fit(X, y)
    assert pipeline.score(X, y) > 0.9


def test_default_synthesizer_follows_the_data():
    assert isinstance(default_synthesizer(images=True), ImageFlowSynthesizer)
    from synthaug.synthesizers import DiffusionSynthesizer, FlowSynthesizer
    from synthaug.synthesizers.auto import PRIVATE_CHOICE

    table = default_synthesizer(n_rows=4200)
    assert isinstance(table, DiffusionSynthesizer) and table.epochs == 112 and table.hidden_dims == (128, 128)
    assert default_synthesizer(n_rows=900).epochs == 300 and default_synthesizer(n_rows=10**6).epochs == 5
    assert PRIVATE_CHOICE == "flow" and isinstance(default_synthesizer(private=True), FlowSynthesizer)


def test_classifier_selection_is_for_tables():
    from synthaug.exceptions import ParameterError

    X, y = _imbalanced()
    with pytest.raises(ParameterError, match="tables only"):
        GenerativeOverSampler(synthesizer=_vae(), selection="classifier").fit_resample(X, y)


def test_images_with_a_table_synthesizer_are_refused():
    X, y = _imbalanced()
    with pytest.raises(DataValidationError, match="table synthesizer"):
        GenerativeOverSampler(synthesizer=CTGANSynthesizer(epochs=1)).fit_resample(X, y)
    with pytest.raises(DataValidationError, match=r"shape \(n, H, W\)"):
        GenerativeOverSampler(synthesizer=_vae()).fit_resample(X.reshape(len(X), -1), y)
