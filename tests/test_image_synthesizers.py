"""Image synthesizers: the shared contract, DP, density and the pieces they are built from."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.base import clone

from synthaug import DPConfig
from synthaug.exceptions import DataValidationError
from synthaug.nn import build
from synthaug.nn.image_flows import ImageFlowNet
from synthaug.synthesizers.images import ImageFlowSynthesizer, ImageGANSynthesizer, ImageVAESynthesizer
from synthaug.transform.images import ImageScaler
from synthaug.utils.image_checks import image_synthesizer_checks, make_contract_images

SMALL = {
    "gan": ImageGANSynthesizer(epochs=2, batch_size=16, latent_dim=8, base_channels=8, device="cpu", random_state=0),
    "vae": ImageVAESynthesizer(epochs=2, batch_size=16, latent_dim=4, base_channels=8, device="cpu", random_state=0),
    "flow": ImageFlowSynthesizer(epochs=2, batch_size=16, steps=2, hidden_channels=8, device="cpu", random_state=0),
}


@pytest.mark.parametrize("check", image_synthesizer_checks(), ids=lambda c: c.__name__)
@pytest.mark.parametrize("name", sorted(SMALL))
def test_image_contract(name, check):
    check(SMALL[name])


@pytest.mark.slow  # about 10 s each: noise calibration and Opacus set-up
@pytest.mark.parametrize("name", sorted(SMALL))
def test_dp_fit_reports_its_budget(name):
    X, y = make_contract_images(n=60)
    model = clone(SMALL[name]).set_params(dp=DPConfig(epsilon=2.0, delta=1e-3)).fit(X, y)
    spent = model.privacy_spent_
    assert 0 < spent["epsilon"] <= 2.0 + 1e-6
    assert spent["delta"] <= 1e-3
    assert spent["steps"] > 0 and spent["noise_multiplier"] > 0
    assert any("class frequencies" in c for c in spent["covers"])
    assert spent["breakdown"][0]["stage"] == "preprocessing"
    Xs, ys = model.sample(5, y="h")
    assert Xs.dtype == np.uint8 and (ys == "h").all()
    assert set(model.history_[0]) == {"epoch", "seconds"}, "losses on private images stay out of the model"


def test_dp_without_labels_spends_everything_on_training():
    X, _ = make_contract_images(n=40)
    model = clone(SMALL["vae"]).set_params(dp=DPConfig(epsilon=1.0, delta=1e-3)).fit(X)
    assert [stage["stage"] for stage in model.privacy_spent_["breakdown"]] == ["training"]
    assert model.privacy_spent_["epsilon"] <= 1.0 + 1e-6
    assert model.sample(3).shape == (3, 8, 8)


@pytest.mark.slow
def test_dp_needs_a_public_range_for_float_images():
    X, y = make_contract_images(dtype="float32")
    model = ImageVAESynthesizer(epochs=1, dp=DPConfig(epsilon=1.0), random_state=0)
    with pytest.raises(DataValidationError, match="pixel_range is needed"):
        model.fit(X, y)
    fitted = model.set_params(pixel_range=(0.0, 1.0), batch_size=16, base_channels=8).fit(X, y)
    assert fitted.privacy_spent_["epsilon"] <= 1.0 + 1e-6


def test_without_dp_there_is_no_guarantee():
    X, y = make_contract_images()
    model = ImageVAESynthesizer(epochs=1, base_channels=8, random_state=0).fit(X, y)
    assert model.privacy_spent_["guarantee"] == "none"


def test_flow_is_invertible_and_log_prob_is_a_density():
    generator = torch.Generator().manual_seed(0)
    flow = build(lambda: ImageFlowNet(2, 3, (8, 8), 2, 3, 8), torch.device("cpu"), generator)
    with torch.no_grad():  # perturb the zero-initialised output layers so the flow is not the identity
        for p in flow.parameters():
            p.add_(0.1 * torch.randn(p.shape, generator=generator))
    x = torch.randn(5, 2, 8, 8, generator=generator)
    labels = torch.tensor([0, 1, 2, 0, 1])
    z, logdet = flow(x, labels)
    assert torch.allclose(flow.inverse(z, labels), x, atol=1e-4)
    # log-det against autograd's Jacobian for one image
    single = x[:1].requires_grad_(True)
    jac = torch.autograd.functional.jacobian(lambda v: flow(v.view(1, 2, 8, 8), labels[:1])[0], single.flatten())
    assert torch.allclose(torch.linalg.slogdet(jac.squeeze(0))[1], logdet[0], atol=1e-3)


def test_flow_bits_per_dim_improve_with_training():
    X, y = make_contract_images()
    short = ImageFlowSynthesizer(epochs=1, batch_size=16, steps=2, hidden_channels=16, random_state=0).fit(X, y)
    longer = ImageFlowSynthesizer(epochs=25, batch_size=16, steps=2, hidden_channels=16, random_state=0).fit(X, y)
    assert longer.bits_per_dim(X, y) < short.bits_per_dim(X, y) < 8.5
    assert longer.history_[-1]["bits_per_dim"] < longer.history_[0]["bits_per_dim"]


def test_scaler_round_trip_and_padding():
    X, _ = make_contract_images(channels=3, size=(10, 12))
    scaler = ImageScaler(multiple=8).fit(X)
    T = scaler.transform(X)
    assert T.shape == (len(X), 3, 16, 16) and T.min() >= -1 and T.max() <= 1
    assert (T[:, :, 10:, :] == -1).all()
    assert np.array_equal(scaler.inverse_transform(T), X)
    digits = np.arange(4 * 64, dtype=float).reshape(4, 8, 8) % 17  # whole numbers 0..16 in a float array
    scaler = ImageScaler().fit(digits)
    assert scaler.integer_valued_ and scaler.levels_ == 17
    assert np.array_equal(scaler.inverse_transform(scaler.transform(digits)), digits)


def test_scaler_rejects_pixels_outside_the_declared_range():
    X, _ = make_contract_images()
    with pytest.raises(DataValidationError, match="outside pixel_range"):
        ImageScaler(pixel_range=(0, 100)).fit(X)
    with pytest.raises(ValueError, match="pixel_range must be"):
        ImageScaler(pixel_range=(5, 1)).fit(X)


@pytest.mark.parametrize("shape", [(28, 28), (3, 64, 64), (3, 17, 9)], ids=["28x28 grey", "64x64 RGB", "17x9 RGB"])
@pytest.mark.parametrize("name", sorted(SMALL))
def test_sizes_from_small_to_64_pixels(name, shape):
    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, (8, *shape), dtype=np.uint8)
    y = np.array([0, 1] * 4)
    model = clone(SMALL[name]).set_params(epochs=1, batch_size=4).fit(X, y)
    Xs, ys = model.sample(3, y=1)
    assert Xs.shape == (3, *shape) and Xs.dtype == np.uint8 and (ys == 1).all()
