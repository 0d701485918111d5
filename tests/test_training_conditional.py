"""ConditionSampler: training-by-sampling, original-frequency conditions and a row's own conditions."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from synthaug.training import ConditionSampler

N_SLOTS = [3, 2, 4]


def _codes(n: int = 2000, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.column_stack(
        [
            rng.choice(3, n, p=[0.7, 0.25, 0.05]),
            rng.choice(2, n, p=[0.5, 0.5]),
            rng.choice(4, n, p=[0.4, 0.3, 0.3, 0.0]),  # the last category never occurs
        ]
    )


def _decode(cond: np.ndarray, n_slots: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """The discrete column and category of every one-hot condition vector."""
    offsets = np.concatenate([[0], np.cumsum(n_slots)])
    slot = cond.argmax(axis=1)
    col = np.searchsorted(offsets, slot, side="right") - 1
    return col, slot - offsets[col]


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_condition_vectors_are_one_hot_with_one_active_slot():
    sampler = ConditionSampler.from_codes(_codes(), N_SLOTS)
    assert sampler.cond_dim == sum(N_SLOTS) and sampler.n_discrete == 3 and sampler.n_rows == 2000
    cond, rows = sampler.sample_train(500, _gen(), dtype=torch.float64)
    assert cond.shape == (500, 9) and cond.dtype == torch.float64 and rows.shape == (500,)
    assert set(np.unique(cond.numpy())) <= {0.0, 1.0}
    np.testing.assert_array_equal(cond.sum(dim=1).numpy(), np.ones(500))


def test_sample_train_rows_hold_the_drawn_category_in_every_column():
    codes = _codes()
    sampler = ConditionSampler.from_codes(codes, N_SLOTS)
    cond, rows = sampler.sample_train(30_000, _gen(1))
    col, cat = _decode(cond.numpy(), N_SLOTS)
    rows = rows.numpy()
    assert rows.min() >= 0 and rows.max() < len(codes)
    np.testing.assert_array_equal(codes[rows, col], cat)
    # every discrete column is picked about a third of the time
    np.testing.assert_allclose(np.bincount(col, minlength=3) / len(col), [1 / 3] * 3, atol=0.02)
    # an absent category is never requested
    assert not ((col == 2) & (cat == 3)).any()
    # every row holding a requested category can be drawn: all rows of the rarest category appear
    rare_rows = np.flatnonzero(codes[:, 0] == 2)
    assert set(rows[(col == 0) & (cat == 2)]) == set(rare_rows)


def _category_shares(cond: torch.Tensor, column: int) -> np.ndarray:
    col, cat = _decode(cond.numpy(), N_SLOTS)
    picked = cat[col == column]
    return np.bincount(picked, minlength=N_SLOTS[column]) / len(picked)


def test_log_frequency_and_frequency_draw_proportions():
    codes = _codes()
    counts = np.bincount(codes[:, 0], minlength=3).astype(float)
    log_cond = ConditionSampler.from_codes(codes, N_SLOTS, log_frequency=True).sample_train(40_000, _gen(2))[0]
    freq_cond = ConditionSampler.from_codes(codes, N_SLOTS, log_frequency=False).sample_train(40_000, _gen(2))[0]
    log_shares, freq_shares = _category_shares(log_cond, 0), _category_shares(freq_cond, 0)
    np.testing.assert_allclose(log_shares, np.log1p(counts) / np.log1p(counts).sum(), atol=0.015)
    np.testing.assert_allclose(freq_shares, counts / counts.sum(), atol=0.015)
    # log-frequency favours the rare category over plain frequency
    assert log_shares[2] > 3 * freq_shares[2]


def test_sample_original_follows_the_counts_whatever_log_frequency():
    codes = _codes()
    for log_frequency in (True, False):
        cond = ConditionSampler.from_codes(codes, N_SLOTS, log_frequency=log_frequency).sample_original(40_000, _gen(3))
        for column in range(3):
            counts = np.bincount(codes[:, column], minlength=N_SLOTS[column])
            np.testing.assert_allclose(_category_shares(cond, column), counts / counts.sum(), atol=0.015)


def test_sampler_from_counts_alone_draws_conditions_but_not_rows():
    counts = np.array([[90, 10, 0], [0, 50, 50]])
    sampler = ConditionSampler(counts, [3, 3])
    cond = sampler.sample_original(40_000, _gen(4)).numpy()
    col, cat = _decode(cond, [3, 3])
    first = np.bincount(cat[col == 0], minlength=3) / (col == 0).sum()
    second = np.bincount(cat[col == 1], minlength=3) / (col == 1).sum()
    np.testing.assert_allclose(first, [0.9, 0.1, 0.0], atol=0.015)
    np.testing.assert_allclose(second, [0.0, 0.5, 0.5], atol=0.015)
    with pytest.raises(RuntimeError, match="without row indices"):
        sampler.sample_train(4, _gen())


def test_sampling_is_reproducible_for_a_seeded_generator():
    sampler = ConditionSampler.from_codes(_codes(), N_SLOTS)
    first = sampler.sample_train(100, _gen(7))
    second = sampler.sample_train(100, _gen(7))
    torch.testing.assert_close(first[0], second[0])
    torch.testing.assert_close(first[1], second[1])
    assert not torch.equal(first[1], sampler.sample_train(100, _gen(8))[1])


def test_own_conditions_pick_the_rows_own_category():
    codes = _codes(500)
    sampler = ConditionSampler.from_codes(codes, N_SLOTS)
    cond = sampler.own_conditions(torch.as_tensor(codes), _gen(5))
    assert cond.shape == (500, 9)
    col, cat = _decode(cond.numpy(), N_SLOTS)
    np.testing.assert_array_equal(cat, codes[np.arange(500), col])
    assert set(col) == {0, 1, 2}, "the column is chosen per row"


def test_zero_discrete_columns():
    sampler = ConditionSampler.from_codes(np.zeros((50, 0), dtype=np.int64), [])
    assert sampler.cond_dim == 0 and sampler.n_rows == 50
    cond, rows = sampler.sample_train(200, _gen())
    assert cond.shape == (200, 0)
    assert rows.shape == (200,) and rows.min() >= 0 and rows.max() < 50
    assert len(torch.unique(rows)) > 30, "rows are drawn uniformly from all rows"
    assert sampler.sample_original(7, _gen()).shape == (7, 0)
    assert sampler.own_conditions(torch.zeros((9, 0), dtype=torch.long), _gen()).shape == (9, 0)
