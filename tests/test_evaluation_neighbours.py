"""Neighbour search and confidence intervals of the subsampled leakage metrics (synthaug.evaluation.neighbours)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthaug.evaluation.neighbours import median_interval, nearest, share_interval


def test_median_interval_covers_the_population_median_about_95_percent_of_the_time():
    rng = np.random.default_rng(0)
    covered = [lo <= 0.0 <= hi for lo, hi in (median_interval(rng.normal(size=101)) for _ in range(400))]
    assert 0.92 <= np.mean(covered) <= 0.99
    lo, hi = median_interval(np.arange(1000.0))
    assert 440 < lo < 499.5 < hi < 560  # about +-1.96 * sqrt(1000) / 2 ranks around the middle


def test_share_interval_is_wilsons():
    lo, hi = share_interval(5, 10)
    assert lo == pytest.approx(0.2366, abs=1e-3) and hi == pytest.approx(0.7634, abs=1e-3)
    assert share_interval(0, 100)[0] == 0.0 and share_interval(0, 100)[1] == pytest.approx(0.037, abs=1e-3)


def test_the_search_is_exact():
    rng = np.random.default_rng(1)
    reference, queries = rng.normal(size=(300, 4)), rng.normal(size=(20, 4))
    d = nearest(reference, queries, k=2)
    brute = np.sort(np.linalg.norm(queries[:, None, :] - reference[None, :, :], axis=2), axis=1)[:, :2]
    assert np.allclose(d, brute)


def test_leakage_metrics_state_their_interval_and_search():
    from synthaug.evaluation import privacy

    rng = np.random.default_rng(3)
    train, synthetic, holdout = (
        pd.DataFrame({"a": rng.normal(size=n), "b": rng.choice(["x", "y", "z"], n)}) for n in (600, 400, 300)
    )
    for name in ("distance_to_closest_record", "exact_copy_rate", "nearest_neighbour_distance_ratio", "closer_to_train_share"):
        result = getattr(privacy, name)(train, synthetic, real_holdout=holdout, random_state=0)
        lo, hi = result.details["confidence_interval"]
        assert lo <= result.value <= hi and hi > lo, name
