"""The contract every image synthesizer honours, as reusable checks.

Use from a test suite::

    @pytest.mark.parametrize("check", image_synthesizer_checks(), ids=lambda c: c.__name__)
    def test_contract(check):
        check(ImageVAESynthesizer(epochs=2, random_state=0))

Each check takes an unfitted image synthesizer (small enough to fit in a second or two,
with an integer ``random_state``), clones it as needed and raises ``AssertionError`` on a breach.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from ..exceptions import ConditionError, DataValidationError


def make_contract_images(n: int = 48, *, channels: int = 0, size: tuple[int, int] = (8, 8), dtype: str = "uint8", seed: int = 0):
    """Three classes of noisy stripe patterns (horizontal, vertical, diagonal); ``channels=0`` gives (n, H, W)."""
    rng = np.random.default_rng(seed)
    y = np.repeat(np.array(["h", "v", "d"]), -(-n // 3))[:n]
    rows, cols = np.indices(size)
    patterns = {"h": rows % 2 == 0, "v": cols % 2 == 0, "d": (rows + cols) % 3 == 0}
    base = np.stack([patterns[label] for label in y]).astype(float)
    images = np.clip(0.8 * base + 0.2 * rng.random((n, *size)), 0.0, 1.0)
    if channels:
        images = np.repeat(images[:, None], channels, axis=1) * rng.uniform(0.7, 1.0, (n, channels, 1, 1))
    if dtype == "uint8":
        return np.rint(images * 255).astype(np.uint8), y
    return images.astype(dtype), y


def _fit(estimator, X, y=None):
    return clone(estimator).fit(X, y)


def check_image_not_fitted(estimator) -> None:
    try:
        clone(estimator).sample(3)
    except NotFittedError:
        return
    raise AssertionError("sample() before fit() must raise NotFittedError")


def check_image_round_trip(estimator) -> None:
    """Layout, dtype and range come back as given: grey uint8, RGB uint8 of an odd size, float32 in [0, 1]."""
    cases = [
        make_contract_images(),
        make_contract_images(channels=3, size=(10, 12)),
        make_contract_images(dtype="float32"),
    ]
    for X, y in cases:
        Xs, ys = _fit(estimator, X, y).sample(7)
        assert isinstance(Xs, np.ndarray) and Xs.shape == (7, *X.shape[1:]), (Xs.shape, X.shape)
        assert Xs.dtype == X.dtype, (Xs.dtype, X.dtype)
        if X.dtype.kind == "f":  # a float image's range is the data's; uint8 images use 0..255
            assert Xs.min() >= X.min() and Xs.max() <= X.max(), "samples leave the pixel range"
        assert set(ys) <= set(y)
    X, _ = make_contract_images()
    Xs = _fit(estimator, X).sample(5)
    assert isinstance(Xs, np.ndarray) and Xs.shape == (5, *X.shape[1:]), "fit(X) without labels returns images only"


def check_image_class_counts(estimator) -> None:
    """Asked-for classes are returned exactly, for a scalar, an array and text labels of integer classes."""
    X, y = make_contract_images()
    model = _fit(estimator, X, y)
    _, ys = model.sample(11, y="v")
    assert (ys == "v").all() and len(ys) == 11
    wanted = np.array(["d", "h", "h", "v", "d", "d"])
    _, ys = model.sample(6, y=wanted)
    assert (ys == wanted).all()
    codes = np.searchsorted(np.array(["d", "h", "v"]), y)
    model = _fit(estimator, X, codes)
    _, ys = model.sample(4, y="2")  # text labels (as from a command line) match integer classes
    assert (ys == 2).all() and ys.dtype == codes.dtype
    for bad, needle in ((7, "not seen in fit"), (np.array([0, 1]), "2 labels for 3 images")):
        try:
            model.sample(3, y=bad)
        except ConditionError as exc:
            assert needle in str(exc), str(exc)
        else:
            raise AssertionError(f"y={bad!r} was accepted")


def check_image_bad_input(estimator) -> None:
    X, y = make_contract_images()
    for bad_X, bad_y, needle in (
        (X.reshape(len(X), -1), y, "shape (n, H, W) or (n, C, H, W)"),
        (np.where(X > 100, np.nan, X.astype(float)), y, "NaN"),
        (X, y[:-1], "one label per image"),
        (np.zeros((4, 8, 8, 3)), None, "channels-last"),
    ):
        try:
            _fit(estimator, bad_X, bad_y)
        except DataValidationError as exc:
            assert needle in str(exc), str(exc)
        else:
            raise AssertionError(f"bad input accepted ({needle})")


def check_image_reproducible(estimator) -> None:
    X, y = make_contract_images()
    a, ya = _fit(estimator, X, y).sample(9)
    b, yb = _fit(estimator, X, y).sample(9)
    assert np.array_equal(a, b) and np.array_equal(ya, yb), "the same seed gave different samples"
    model = _fit(estimator, X, y)
    assert np.array_equal(model.sample(5, random_state=4)[0], model.sample(5, random_state=4)[0])
    assert not np.array_equal(model.sample(20)[0], model.sample(20)[0]), "successive samples should differ"


def check_image_no_global_rng_side_effects(estimator) -> None:
    torch_state = torch.random.get_rng_state().clone()
    np_state = np.random.get_state()
    X, y = make_contract_images()
    _fit(estimator, X, y).sample(10)
    assert torch.equal(torch_state, torch.random.get_rng_state()), "torch's global RNG was used"
    after = np.random.get_state()
    assert np_state[0] == after[0] and np.array_equal(np_state[1], after[1]), "numpy's global RNG was used"


def check_image_save_load(estimator) -> None:
    from ..persistence import load

    X, y = make_contract_images(channels=3, size=(10, 12))
    model = _fit(estimator, X, y)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.synthaug"
        model.save(path)
        loaded = load(path)
    for (a, ya), (b, yb) in (
        (model.sample(6, random_state=2), loaded.sample(6, random_state=2)),
        (model.sample(4), loaded.sample(4)),
    ):
        assert np.array_equal(a, b) and np.array_equal(ya, yb), "a loaded model samples differently"
    assert loaded.get_params() == model.get_params()
    assert loaded.classes_.dtype == model.classes_.dtype


def check_image_clone_and_params(estimator) -> None:
    before = estimator.get_params()
    twin = clone(estimator).set_params(random_state=123)
    assert twin.get_params()["random_state"] == 123 and estimator.get_params() == before
    X, y = make_contract_images()
    model = _fit(estimator, X, y)
    assert not hasattr(clone(model), "scaler_"), "clone must drop fitted state"


def image_synthesizer_checks() -> list[Callable]:
    """All image contract checks, in a stable order."""
    return [
        check_image_not_fitted,
        check_image_round_trip,
        check_image_class_counts,
        check_image_bad_input,
        check_image_reproducible,
        check_image_no_global_rng_side_effects,
        check_image_save_load,
        check_image_clone_and_params,
    ]


__all__ = ["image_synthesizer_checks", "make_contract_images"]
