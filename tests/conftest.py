"""Shared fixtures: small mixed-type tables made here (tests download nothing)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def make_mixed_frame(n: int = 300, seed: int = 0, missing: bool = True) -> pd.DataFrame:
    """A table with every column kind: bimodal continuous, integer, text categorical,
    boolean, datetime, a few-valued integer (inferred categorical), plus missing values."""
    rng = np.random.default_rng(seed)
    group = rng.choice(["a", "b", "c"], size=n, p=[0.6, 0.3, 0.1])
    income = np.where(rng.random(n) < 0.5, rng.normal(30_000, 3_000, n), rng.normal(80_000, 8_000, n))
    income = income + (group == "c") * 20_000
    frame = pd.DataFrame(
        {
            "income": income,
            "age": rng.integers(18, 90, n),
            "group": pd.Series(group, dtype=object),
            "member": rng.random(n) < 0.3,
            "joined": pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 1000, n), unit="D"),
            "rating": rng.integers(1, 6, n),
            "score": rng.gamma(2.0, 1.5, n),
        }
    )
    if missing:
        frame.loc[rng.random(n) < 0.1, "score"] = np.nan
        frame.loc[rng.random(n) < 0.05, "group"] = np.nan
    return frame


@pytest.fixture
def mixed_frame() -> pd.DataFrame:
    return make_mixed_frame()


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.exists():
        pytest.skip("../shared/data is not present")
    return SHARED_DATA
