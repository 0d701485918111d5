"""Privacy accounting: epsilon of a composed history and the calibration of the DP-SGD noise."""

from __future__ import annotations

import pytest

from synthaug.exceptions import PrivacyError, SynthaugError
from synthaug.privacy import calibrate_noise, epsilon_of, gaussian_noise_multiplier

DELTA = 1e-5
RATE, STEPS = 0.01, 200


def test_an_empty_history_costs_nothing():
    assert epsilon_of([], DELTA, "rdp") == 0.0
    assert epsilon_of([], DELTA, "prv") == 0.0


def test_epsilon_grows_with_steps_and_shrinks_with_noise():
    base = epsilon_of([(1.0, RATE, STEPS)], DELTA, "rdp")
    assert epsilon_of([(1.0, RATE, 2 * STEPS)], DELTA, "rdp") > base
    assert epsilon_of([(2.0, RATE, STEPS)], DELTA, "rdp") < base
    assert epsilon_of([(1.0, 2 * RATE, STEPS)], DELTA, "rdp") > base


def test_epsilon_of_composes_a_prior_history():
    prior = [(20.0, 1.0, 2)]
    training = [(1.0, RATE, STEPS)]
    composed = epsilon_of([*prior, *training], DELTA, "rdp")
    assert composed > epsilon_of(training, DELTA, "rdp")
    assert composed > epsilon_of(prior, DELTA, "rdp")
    # sequential composition does not depend on the order of the mechanisms
    assert epsilon_of([*training, *prior], DELTA, "rdp") == pytest.approx(composed)
    # k entries of one step compose to one entry of k steps
    assert epsilon_of([(1.0, RATE, 1)] * 5, DELTA, "rdp") == pytest.approx(epsilon_of([(1.0, RATE, 5)], DELTA, "rdp"))


def test_calibrate_noise_reaches_the_target_from_below_and_is_monotone_in_epsilon():
    sigmas = []
    for target in (0.5, 1.0, 2.0):
        sigma, eps = calibrate_noise(target, DELTA, RATE, STEPS, "rdp")
        assert 0.97 * target <= eps <= target
        assert eps == pytest.approx(epsilon_of([(sigma, RATE, STEPS)], DELTA, "rdp"))
        sigmas.append(sigma)
    assert sigmas[0] > sigmas[1] > sigmas[2] > 0, sigmas
    # more steps at the same budget need more noise
    assert calibrate_noise(1.0, DELTA, RATE, 4 * STEPS, "rdp")[0] > sigmas[1]


def test_a_prior_history_needs_more_training_noise():
    alone, _ = calibrate_noise(1.0, DELTA, RATE, STEPS, "rdp")
    prior = [(20.0, 1.0, 2)]  # epsilon 0.26 alone
    with_prior, eps = calibrate_noise(1.0, DELTA, RATE, STEPS, "rdp", prior)
    assert with_prior > alone
    assert 0.97 <= eps <= 1.0
    assert eps == pytest.approx(epsilon_of([*prior, (with_prior, RATE, STEPS)], DELTA, "rdp"))


def test_prv_calibration_stays_within_the_target():
    sigma, eps = calibrate_noise(1.0, DELTA, RATE, STEPS, "prv")
    assert 0.95 <= eps <= 1.0
    # PRV is tighter than RDP: it needs no more noise for the same target
    assert sigma <= calibrate_noise(1.0, DELTA, RATE, STEPS, "rdp")[0]


@pytest.mark.parametrize("prior", [[(0.5, 1.0, 10)], [(0.2, 1.0, 1)]])
def test_preprocessing_that_spends_the_whole_budget_is_a_privacy_error(prior):
    assert epsilon_of(prior, DELTA, "rdp") >= 1.0
    with pytest.raises(PrivacyError, match="preprocessing alone spends the whole budget") as info:
        calibrate_noise(1.0, DELTA, RATE, STEPS, "rdp", prior)
    assert isinstance(info.value, SynthaugError) and isinstance(info.value, ValueError)


def test_an_unreachable_rdp_epsilon_points_to_prv():
    with pytest.raises(PrivacyError, match="accountant='prv'"):
        calibrate_noise(0.01, DELTA, RATE, STEPS, "rdp")


def test_gaussian_noise_multiplier_scales_with_the_root_of_the_releases():
    one = gaussian_noise_multiplier(1.0, DELTA, 1)
    assert gaussian_noise_multiplier(1.0, DELTA, 4) == pytest.approx(2 * one)
    assert gaussian_noise_multiplier(0.5, DELTA, 1) > one
    assert gaussian_noise_multiplier(1.0, 1e-3, 1) < one
