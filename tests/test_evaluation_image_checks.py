"""One image check: every array an image synthesizer can be fitted on can be audited with evaluate_images."""

from __future__ import annotations

import numpy as np
import pytest

from synthaug.evaluation import evaluate_images
from synthaug.evaluation._imaging import check_images as check_audit_images
from synthaug.exceptions import DataValidationError
from synthaug.transform.images import check_images as check_fit_images
from synthaug.utils.image_checks import make_contract_images


@pytest.mark.parametrize(
    ("channels", "size", "dtype"),
    [(0, (4, 4), "uint8"), (2, (6, 5), "float32"), (4, (5, 7), "uint8")],
    ids=["grey-4x4", "two-channel-float", "four-channel"],
)
def test_arrays_that_fit_accepts_are_audited(channels, size, dtype):
    X, y = make_contract_images(60, channels=channels, size=size, dtype=dtype, seed=1)
    check_fit_images(X)  # the fit rule accepts it
    holdout, y_holdout = make_contract_images(30, channels=channels, size=size, dtype=dtype, seed=2)
    report = evaluate_images(X, y, X[::-1], y[::-1], holdout, y_holdout, epochs=1)
    assert report.skipped == {}
    assert report["image_exact_copy_rate"].value == 1.0
    assert report.info["image_shape"] == [max(channels, 1), *size]
    assert "samples" in report.figures()


def test_a_synthesizer_fitted_on_small_images_can_be_audited():
    from synthaug.synthesizers.images.vae import ImageVAESynthesizer

    X, y = make_contract_images(48, size=(4, 4))
    model = ImageVAESynthesizer(epochs=1, random_state=0).fit(X, y)
    X_syn, y_syn = model.sample(24)
    report = evaluate_images(X, y, X_syn, y_syn, X[:24], y[:24], epochs=1, model=model)
    assert np.isfinite(report["frechet_distance"].value)
    assert report["classification_accuracy_score"].details["chance"] == pytest.approx(1 / 3)


def test_the_audit_check_adds_only_the_shape_of_real_train():
    X, _ = make_contract_images(10, size=(6, 6))
    assert check_audit_images(X, "X").shape == (10, 1, 6, 6)
    for bad in (np.zeros((4, 8, 8, 3)), X.reshape(10, -1), np.zeros((3, 2, 2))):
        with pytest.raises(DataValidationError) as fit_error:
            check_fit_images(bad, name="X")
        with pytest.raises(DataValidationError) as audit_error:
            check_audit_images(bad, "X")
        assert str(fit_error.value) == str(audit_error.value)
    with pytest.raises(DataValidationError, match=r"synthetic images have shape \(C, H, W\) = \(1, 6, 6\)"):
        check_audit_images(X, "synthetic", (3, 6, 6))
