"""The noise sources of the DP guarantee: the OS-backed secure one and the seeded test-only one."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from synthaug.privacy.randomness import INSECURE_WARNING, InsecureSeededNoise, SecureNoise, noise_source

N_DRAWS = 100_000
# five standard errors of a mean of N_DRAWS unit-variance draws
MEAN_TOL = 5 / np.sqrt(N_DRAWS)


def _sources():
    return [SecureNoise(), InsecureSeededNoise(123)]


@pytest.mark.parametrize("source", _sources(), ids=["secure", "insecure"])
def test_shapes_and_types(source):
    assert source.normal(size=(3, 4)).shape == (3, 4)
    assert source.normal(size=7).shape == (7,)  # an odd count (Box-Muller draws pairs)
    assert source.normal(size=(2, 0, 5)).shape == (2, 0, 5)
    assert source.normal(size=5).dtype == np.float64
    assert isinstance(source.normal(1.0, 2.0), float)
    u = source.uniform((10, 3))
    assert u.shape == (10, 3) and u.dtype == np.float64
    like = source.normal_like(torch.zeros(4, 2, dtype=torch.float32), std=1.0)
    assert like.shape == (4, 2) and like.dtype == torch.float32 and like.device.type == "cpu"


@pytest.mark.parametrize("source", _sources(), ids=["secure", "insecure"])
def test_uniform_draws_are_on_the_open_unit_interval(source):
    u = source.uniform(N_DRAWS)
    assert (u > 0).all() and (u < 1).all()
    assert abs(u.mean() - 0.5) < MEAN_TOL * np.sqrt(1 / 12)
    assert abs(u.var() - 1 / 12) < 0.002
    # 53 random bits each: hardly any repeats
    assert len(np.unique(u)) > N_DRAWS - 5


@pytest.mark.parametrize("source", _sources(), ids=["secure", "insecure"])
@pytest.mark.parametrize("loc, scale", [(0.0, 1.0), (3.0, 2.5), (-1.0, 0.1)])
def test_normal_draws_have_the_requested_mean_and_std(source, loc, scale):
    x = source.normal(loc, scale, N_DRAWS)
    assert abs(x.mean() - loc) < MEAN_TOL * scale
    assert x.std() == pytest.approx(scale, rel=0.015)
    z = (x - loc) / scale
    # normal, not just the right two moments: the 1- and 2-sigma masses, and symmetry
    assert np.mean(np.abs(z) < 1) == pytest.approx(0.6827, abs=0.01)
    assert np.mean(np.abs(z) < 2) == pytest.approx(0.9545, abs=0.005)
    assert np.mean(z > 0) == pytest.approx(0.5, abs=0.01)


@pytest.mark.parametrize("source", _sources(), ids=["secure", "insecure"])
def test_normal_like_scales_by_std(source):
    noise = source.normal_like(torch.zeros(N_DRAWS, dtype=torch.float64), std=4.0)
    assert noise.dtype == torch.float64
    assert abs(float(noise.mean())) < MEAN_TOL * 4.0
    assert float(noise.std()) == pytest.approx(4.0, rel=0.015)


@pytest.mark.parametrize("source", _sources(), ids=["secure", "insecure"])
@pytest.mark.parametrize("rate", [0.01, 0.1, 0.5])
def test_poisson_rows_include_each_row_at_the_rate(source, rate):
    rows = source.poisson_rows(N_DRAWS, rate)
    assert rows.dtype.kind == "i"
    assert (np.diff(rows) > 0).all(), "indices are sorted and distinct"
    assert rows.min() >= 0 and rows.max() < N_DRAWS
    std = np.sqrt(N_DRAWS * rate * (1 - rate))
    assert abs(len(rows) - N_DRAWS * rate) < 5 * std
    # no positional bias: the first and second halves get about the same share
    first_half = np.sum(rows < N_DRAWS // 2)
    assert abs(first_half - len(rows) / 2) < 5 * np.sqrt(len(rows) / 4)


@pytest.mark.parametrize("source", _sources(), ids=["secure", "insecure"])
def test_poisson_rows_edge_rates(source):
    assert source.poisson_rows(1000, 0.0).size == 0
    np.testing.assert_array_equal(source.poisson_rows(1000, 1.0), np.arange(1000))
    assert source.poisson_rows(0, 0.5).size == 0


@pytest.mark.parametrize("source", _sources(), ids=["secure", "insecure"])
def test_choice_follows_the_weights(source):
    weights = np.array([1.0, 0.0, 3.0, 6.0])
    drawn = source.choice(N_DRAWS, weights)
    assert drawn.min() >= 0 and drawn.max() <= 3
    assert not (drawn == 1).any(), "a zero-weight index is never drawn"
    np.testing.assert_allclose(np.bincount(drawn, minlength=4) / N_DRAWS, weights / weights.sum(), atol=0.01)


def test_secure_flags():
    assert SecureNoise().secure is True
    assert InsecureSeededNoise(0).secure is False
    assert InsecureSeededNoise(0).stream(3).secure is False


def test_secure_noise_is_not_replayable():
    a, b = SecureNoise(), SecureNoise()
    assert not np.array_equal(a.normal(size=16), b.normal(size=16))
    assert not np.array_equal(a.normal(size=16), a.normal(size=16))
    # the secure source is independent already: its streams are itself
    assert a.stream(5) is a


def test_insecure_seeded_noise_replays_its_draws():
    first, second = InsecureSeededNoise(42), InsecureSeededNoise(42)
    np.testing.assert_array_equal(first.normal(size=50), second.normal(size=50))
    np.testing.assert_array_equal(first.poisson_rows(500, 0.3), second.poisson_rows(500, 0.3))
    np.testing.assert_array_equal(first.uniform(20), second.uniform(20))
    assert not np.array_equal(InsecureSeededNoise(42).normal(size=50), InsecureSeededNoise(43).normal(size=50))
    # successive draws of one source differ
    assert not np.array_equal(first.normal(size=50), first.normal(size=50))


def test_insecure_streams_are_reproducible_distinct_and_independent_of_the_parent():
    parent = InsecureSeededNoise(7)
    reference = InsecureSeededNoise(7).stream(1).normal(size=30)
    parent.normal(size=1000)  # consuming the parent does not shift a stream
    np.testing.assert_array_equal(parent.stream(1).normal(size=30), reference)
    assert not np.array_equal(parent.stream(2).normal(size=30), reference)
    assert not np.array_equal(InsecureSeededNoise(7).normal(size=30), reference)
    assert not np.array_equal(InsecureSeededNoise(8).stream(1).normal(size=30), reference)
    # consuming one stream does not shift another; nested streams replay too
    one, two = parent.stream(1), parent.stream(2)
    two_draws = InsecureSeededNoise(7).stream(2).normal(size=30)
    one.normal(size=500)
    np.testing.assert_array_equal(two.normal(size=30), two_draws)
    np.testing.assert_array_equal(parent.stream(1).stream(4).uniform(10), InsecureSeededNoise(7).stream(1).stream(4).uniform(10))
    assert not np.array_equal(parent.stream(1).stream(4).uniform(10), parent.stream(4).stream(1).uniform(10))


def test_noise_source_is_secure_by_default_and_warns_when_seeded():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert isinstance(noise_source(None), SecureNoise)
    with pytest.warns(UserWarning, match="NO privacy") as record:
        seeded = noise_source(9)
    assert str(record[0].message) == INSECURE_WARNING
    assert isinstance(seeded, InsecureSeededNoise) and not seeded.secure
    np.testing.assert_array_equal(seeded.normal(size=10), InsecureSeededNoise(9).normal(size=10))
