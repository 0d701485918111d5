import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from synthaug.synthesizers import FlowSynthesizer
from synthaug.transform.dequantized import DequantizedTransformer


def test_dequantized_round_trip(mixed_frame):
    transformer = DequantizedTransformer(random_state=0).fit(mixed_frame)
    encoded = transformer.transform(mixed_frame)
    restored = transformer.inverse_transform(encoded)
    for column in mixed_frame:
        a, b = mixed_frame[column], restored[column]
        assert (a.isna() == b.isna()).all(), column
        if a.dtype.kind == "f":
            np.testing.assert_allclose(b[a.notna()], a[a.notna()], rtol=1e-6)
        else:
            assert (a[a.notna()].to_numpy() == b[a.notna()].to_numpy()).all(), column
    noisy = transformer.transform(mixed_frame, noise=np.random.RandomState(0))
    decoded = transformer.inverse_transform(noisy)
    assert (decoded["group"].fillna("?") == mixed_frame["group"].fillna("?")).all(), "noise must stay inside the bins"
    # every coordinate is close to standard normal
    assert np.all(np.abs(noisy.mean(axis=0)) < 0.2) and np.all(np.abs(noisy.std(axis=0) - 1) < 0.2)


def test_score_samples_is_a_calibrated_density():
    rng = np.random.default_rng(0)
    train = pd.DataFrame({"x": rng.normal(3.0, 2.0, 3000)})
    model = FlowSynthesizer(epochs=30, n_layers=2, random_state=0).fit(train)
    test = pd.DataFrame({"x": rng.normal(3.0, 2.0, 2000)})
    mean_loglik = model.score_samples(test).mean()
    expected = norm(3.0, 2.0).logpdf(test["x"]).mean()
    assert abs(mean_loglik - expected) < 0.1, (mean_loglik, expected)


def test_score_samples_ranks_real_rows_above_implausible_ones(mixed_frame):
    model = FlowSynthesizer(epochs=40, batch_size=100, n_layers=4, random_state=0).fit(mixed_frame)
    odd = mixed_frame.copy()
    odd["income"] = odd["income"].sample(frac=1.0, random_state=1).to_numpy() * 0 + 55_000.0  # between modes
    real, implausible = model.score_samples(mixed_frame), model.score_samples(odd)
    assert real.shape == (len(mixed_frame),) and np.isfinite(real).all()
    assert real.mean() > implausible.mean()


def test_bad_parameters(mixed_frame):
    with pytest.raises(ValueError, match="unconditional_share"):
        FlowSynthesizer(unconditional_share=1.0).fit(mixed_frame)
    with pytest.raises(ValueError, match="hidden_dims"):
        FlowSynthesizer(hidden_dims=(0,)).fit(mixed_frame)
