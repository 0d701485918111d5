"""Image metrics on sklearn's digits (8x8, values 0..16): known answers, errors, reproducibility, the report."""

from __future__ import annotations

import base64
import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

from synthaug.evaluation import (
    ImageFeatureExtractor,
    classification_accuracy_score,
    evaluate_images,
    fit_feature_extractor,
    frechet_distance,
    image_exact_copy_rate,
    image_nearest_neighbour_leakage,
    kernel_distance,
    sample_grid_png,
)
from synthaug.exceptions import MetricNotApplicable

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def digits() -> dict[str, np.ndarray]:
    """Train 900, holdout 400 (the references), other 497 (an independent real sample)."""
    data = load_digits()
    order = np.random.default_rng(0).permutation(len(data.images))
    parts = {"train": order[:900], "holdout": order[900:1300], "other": order[1300:]}
    out = {}
    for name, rows in parts.items():
        out[name], out[f"y_{name}"] = data.images[rows], data.target[rows]
    return out


@pytest.fixture(scope="module")
def extractor(digits) -> ImageFeatureExtractor:
    return fit_feature_extractor(digits["train"], digits["y_train"], random_state=0)


def shuffled_pixels(images: np.ndarray, seed: int = 0) -> np.ndarray:
    """Each image's pixels permuted: the same pixel values, no digit shapes."""
    flat = images.reshape(len(images), -1)
    order = np.random.default_rng(seed).random(flat.shape).argsort(axis=1)
    return np.take_along_axis(flat, order, axis=1).reshape(images.shape)


def test_extractor_learns_the_digits(digits, extractor):
    assert extractor.pixel_range_ == (0.0, 16.0)
    assert extractor.image_shape_ == (1, 8, 8)
    accuracy = (extractor.predict(digits["holdout"]) == digits["y_holdout"]).mean()
    assert accuracy > 0.9
    features = extractor.features(digits["holdout"][:10])
    assert features.shape == (10, 64) and features.dtype == np.float64
    assert extractor.seconds_ < 30


def test_frechet_distance_known_answers(digits, extractor):
    common = {"y_train": digits["y_train"], "extractor": extractor, "real_holdout": digits["holdout"]}
    copy = frechet_distance(digits["train"], digits["train"], **common)
    other = frechet_distance(digits["train"], digits["other"], **common)
    noise = frechet_distance(digits["train"], shuffled_pixels(digits["train"]), **common)
    reference = copy.details["reference"]
    assert copy.name == "frechet_distance" and copy.direction == "lower"
    assert copy.value == pytest.approx(0.0, abs=1e-6)
    assert reference > 0
    assert other.value < 3 * reference
    assert noise.value > 10 * reference
    assert "not comparable" in copy.details["feature_space"]


@pytest.mark.filterwarnings("error")
def test_frechet_distance_exact_and_singular(digits, extractor):
    from synthaug.evaluation.images import _frechet

    a = np.random.default_rng(0).normal(size=(500, 64))
    assert _frechet(a, a + 1.0) == pytest.approx(64.0)  # the mean shift only
    few = frechet_distance(digits["train"], digits["other"][:5], y_train=digits["y_train"], extractor=extractor)
    constant = frechet_distance(digits["train"], np.zeros((20, 8, 8)), y_train=digits["y_train"], extractor=extractor)
    assert np.isfinite(few.value) and few.value > 0 and np.isfinite(constant.value)


def test_kernel_distance_known_answers(digits, extractor):
    common = {"y_train": digits["y_train"], "extractor": extractor, "real_holdout": digits["holdout"]}
    copy = kernel_distance(digits["train"], digits["train"], **common)
    other = kernel_distance(digits["train"], digits["other"], **common)
    noise = kernel_distance(digits["train"], shuffled_pixels(digits["train"]), **common)
    scale = noise.value
    assert copy.direction == "lower" and copy.details["n_subsets"] == 10
    assert copy.details["subset_size"] == 900
    assert abs(copy.value) < 0.05 * scale
    assert abs(copy.details["reference"]) < 0.05 * scale
    assert abs(other.value) < 0.05 * scale
    assert kernel_distance(digits["train"], digits["other"], **common).value == other.value  # seeded subsets


def test_nearest_neighbour_leakage_copy_vs_independent(digits, extractor):
    common = {"y_train": digits["y_train"], "extractor": extractor, "real_holdout": digits["holdout"]}
    copy = image_nearest_neighbour_leakage(digits["train"], digits["train"], **common)
    other = image_nearest_neighbour_leakage(digits["train"], digits["other"], **common)
    assert copy.value > 0.99
    assert copy.details["exact_copy_rate"] == 1.0
    assert copy.details["median_synthetic_to_train"] == 0.0
    assert copy.details["reference"] == pytest.approx(0.05, abs=0.01)
    assert other.value == pytest.approx(other.details["reference"], abs=0.05)
    assert other.details["median_synthetic_to_train"] == pytest.approx(other.details["median_holdout_to_train"], rel=0.25)
    hist = copy.details["histogram"]
    assert len(hist["edges"]) == 41 and sum(hist["synthetic_to_train"]) == 900
    exact = image_exact_copy_rate(digits["train"], digits["train"][:100], real_holdout=digits["holdout"])
    assert exact.value == 1.0 and exact.details["reference"] < 0.05


def test_classification_accuracy_score_copy_and_permuted_labels(digits, extractor):
    common = {
        "y_train": digits["y_train"],
        "real_holdout": digits["holdout"],
        "y_holdout": digits["y_holdout"],
        "extractor": extractor,
    }
    copy = classification_accuracy_score(digits["train"], digits["train"], y_synthetic=digits["y_train"], **common)
    assert copy.direction == "higher"
    assert copy.details["reference"] > 0.9
    assert copy.value == pytest.approx(copy.details["reference"], abs=0.02)
    assert copy.details["ratio"] == pytest.approx(1.0, abs=0.03)
    assert set(copy.details["per_class"]) == set(range(10))
    assert set(copy.details["per_class"][3]) == {"synthetic", "real"}
    permuted = np.random.default_rng(1).permutation(digits["y_train"])
    chance = classification_accuracy_score(digits["train"], digits["train"], y_synthetic=permuted, **common)
    assert chance.value < 0.3
    assert chance.details["chance"] == pytest.approx(0.1)


def test_errors_name_the_problem(digits, extractor):
    X, y = digits["train"], digits["y_train"]
    hold, y_hold = digits["holdout"], digits["y_holdout"]
    cas = {"y_train": y, "real_holdout": hold, "y_holdout": y_hold, "extractor": extractor}
    with pytest.raises(ValueError, match=r"y_synthetic holds class\(es\) \[11\] absent from y_train"):
        classification_accuracy_score(X, X[:20], y_synthetic=np.r_[y[:19], 11], **cas)
    with pytest.raises(MetricNotApplicable, match="at least 2 classes in y_synthetic"):
        classification_accuracy_score(X, X[:20], y_synthetic=np.zeros(20, int), **cas)
    with pytest.raises(ValueError, match=r"synthetic images have shape \(C, H, W\) = \(1, 8, 9\)"):
        frechet_distance(X, np.pad(X, ((0, 0), (0, 0), (0, 1))), y_train=y, extractor=extractor)
    with pytest.raises(ValueError, match="synthetic images have shape"):
        classification_accuracy_score(X, np.repeat(X[:, None], 3, axis=1), y_synthetic=y, **cas)
    with pytest.raises(MetricNotApplicable, match="needs a real_holdout"):
        image_nearest_neighbour_leakage(X, X, y_train=y, real_holdout=None, extractor=extractor)
    with pytest.raises(MetricNotApplicable, match="needs a real_holdout"):
        classification_accuracy_score(X, X, y_train=y, y_synthetic=y, real_holdout=None, y_holdout=None)
    with pytest.raises(ValueError, match="channels-last"):
        frechet_distance(np.zeros((5, 8, 8, 3)), np.zeros((5, 8, 8, 3)), y_train=np.arange(5))
    with pytest.raises(ValueError, match="sides from 4 to 256"):
        frechet_distance(np.zeros((5, 3, 3)), np.zeros((5, 3, 3)), y_train=np.arange(5))
    with pytest.raises(ValueError, match="one label per image"):
        frechet_distance(X, X, y_train=y[:-1])
    with pytest.raises(ValueError, match="at least 2 classes"):
        ImageFeatureExtractor(epochs=1).fit(X[:10], np.zeros(10))
    with pytest.raises(ValueError, match="pixel_range must have high > low"):
        ImageFeatureExtractor(epochs=1, pixel_range=(1, 1)).fit(X[:10], y[:10])
    with pytest.raises(ValueError, match="not fitted"):
        ImageFeatureExtractor().features(X)


def test_reproducible_and_no_global_rng_side_effects(digits):
    X, y = digits["train"][:300], digits["y_train"][:300]
    torch_state, numpy_state, threads = torch.random.get_rng_state(), np.random.get_state(), torch.get_num_threads()
    a = ImageFeatureExtractor(epochs=2, random_state=5).fit(X, y)
    b = ImageFeatureExtractor(epochs=2, random_state=5).fit(X, y)
    c = ImageFeatureExtractor(epochs=2, random_state=6).fit(X, y)
    np.testing.assert_array_equal(a.features(X[:50]), b.features(X[:50]))
    assert not np.allclose(a.features(X[:50]), c.features(X[:50]))
    k1 = kernel_distance(X, digits["other"], y_train=y, extractor=a, random_state=3)
    k2 = kernel_distance(X, digits["other"], y_train=y, extractor=a, random_state=3)
    assert k1.value == k2.value
    image_nearest_neighbour_leakage(X, digits["other"], y_train=y, real_holdout=digits["holdout"], extractor=a)
    ImageFeatureExtractor(epochs=1, random_state=None).fit(X, y)
    sample_grid_png(X, y)
    assert torch.equal(torch.random.get_rng_state(), torch_state)
    after = np.random.get_state()
    assert after[0] == numpy_state[0] and np.array_equal(after[1], numpy_state[1]) and after[2:] == numpy_state[2:]
    assert torch.get_num_threads() == threads


def test_rgb_uint8_odd_sizes(tmp_path):
    rng = np.random.default_rng(0)
    y = np.array(["cat", "dog"] * 30)
    X = rng.integers(0, 120, size=(60, 3, 33, 40), dtype=np.uint8)
    X[y == "dog", 0] += 120  # the dogs are redder
    model = ImageFeatureExtractor(epochs=2).fit(X, y)
    assert model.pixel_range_ == (0.0, 255.0)
    assert model.features(X).shape == (60, 64)
    assert set(model.predict(X)) <= {"cat", "dog"}
    png = sample_grid_png(X, y, tmp_path / "grids" / "grid.png", per_class=4)
    assert png.startswith(PNG) and (tmp_path / "grids" / "grid.png").read_bytes() == png
    assert sample_grid_png(X[:, 0], None).startswith(PNG)  # grey, unlabelled
    assert not list((tmp_path / "grids").glob(".*"))  # no temporary file left behind


class _Model:
    privacy_spent_ = {"epsilon": 3.0, "delta": 1e-5}


def test_evaluate_images_report_renders(digits, extractor):
    report = evaluate_images(
        digits["train"],
        digits["y_train"],
        digits["other"],
        digits["y_other"],
        digits["holdout"],
        digits["y_holdout"],
        model=_Model(),
        extractor=extractor,
    )
    names = [r.name for r in report.results]
    assert set(names) == {
        "frechet_distance",
        "kernel_distance",
        "classification_accuracy_score",
        "image_nearest_neighbour_leakage",
        "image_exact_copy_rate",
    }
    assert report.skipped == {}
    assert report.privacy_spent == {"epsilon": 3.0, "delta": 1e-5}
    assert report.info["n_rows"] == {"real_train": 900, "synthetic": 497, "real_holdout": 400}
    assert report.info["image_shape"] == [1, 8, 8]
    frame = report.to_frame()
    assert frame["reference"].notna().all()
    assert set(frame["section"]) == {"fidelity", "utility", "privacy"}
    assert report["classification_accuracy_score"].value > 0.85
    page = report.to_html()
    assert 'alt="Images per class: real (left) vs synthetic (right)"' in page
    assert 'alt="Distance to the closest training image"' in page
    start = page.index("data:image/png;base64,", page.index('alt="Images per class')) + len("data:image/png;base64,")
    assert base64.b64decode(page[start : page.index('"', start)]).startswith(PNG)
    parsed = json.loads(report.to_json())
    assert {m["name"] for m in parsed["metrics"]} == set(names)
    markdown = report.to_markdown()
    assert "900 images" in markdown and "| frechet_distance |" in markdown and "| classification_accuracy_score |" in markdown


def test_evaluate_images_without_holdout_skips_with_reasons(digits, extractor):
    report = evaluate_images(digits["train"], digits["y_train"], digits["train"][:200], extractor=extractor)
    assert {r.name for r in report.results} == {"frechet_distance", "kernel_distance", "image_exact_copy_rate"}
    assert "needs a real_holdout" in report.skipped["image_nearest_neighbour_leakage"]
    assert "real_holdout" in report.skipped["classification_accuracy_score"]
    assert report["image_exact_copy_rate"].value == 1.0
    assert report.privacy_spent is None
    assert "synthetic (unlabelled)" not in report.to_markdown()
    assert report.figures()["samples"].startswith(PNG)


def test_importing_evaluation_stays_cheap():
    code = "import sys, synthaug.evaluation; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "False"
