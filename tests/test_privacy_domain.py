"""release_domain directly: what each release keeps, its noise scales and its ledger entries."""

import math

import numpy as np
import pandas as pd
import pytest

from synthaug.exceptions import DataValidationError
from synthaug.privacy.domain import PrivateDomain, release_domain, release_rounds
from synthaug.privacy.randomness import noise_source
from synthaug.schema import TableSchema, dtype_schema
from synthaug.transform.released import ReleasedNumeric, ReleasedStatistics

pytestmark = pytest.mark.filterwarnings(r"ignore:DPConfig\(insecure_noise_seed")


def _frame(n: int = 2000) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "city": rng.choice(["north", "south"], n),
            "flag": rng.choice([True, False], n),
            "income": rng.normal(50.0, 5.0, n),
            "age": rng.integers(20, 60, n).astype(float),
            "label": rng.choice(["yes", "no"], n),
        }
    )
    frame.loc[:3, "city"] = "once"  # 4 rows: far below any threshold at this noise
    frame.loc[::5, "income"] = np.nan
    return frame


def _schema(frame: pd.DataFrame) -> TableSchema:
    return dtype_schema(frame).with_overrides({"age": {"public": True, "bounds": [0, 100], "nullable": False}})


def _release(frame: pd.DataFrame, sigma: float = 2.0, seed: int = 1) -> PrivateDomain:
    return release_domain(
        frame,
        _schema(frame),
        noise_multiplier=sigma,
        delta_threshold=1e-6,
        rng=noise_source(seed),
        public_columns={"label"},
        public_categories={"label": ["no", "yes", "maybe"]},
    )


def test_categories_discovered_public_and_declared():
    domain = _release(_frame())
    assert domain.schema["city"].categories == ["north", "south"], "a rare category is never released"
    assert domain.schema["label"].categories == ["no", "yes", "maybe"], "public labels keep their order"
    assert domain.schema["flag"].categories == [False, True]
    assert domain.slot_counts("label").shape == (3,) and (domain.slot_counts("label") >= 0).all()
    assert abs(domain.slot_counts("city").sum() - 2000) < 200


def test_numeric_ranges_and_nullability():
    frame = _frame()
    domain = _release(frame)
    income, age = domain.schema["income"], domain.schema["age"]
    assert age.bounds == (0, 100) and not age.nullable
    low, high = income.bounds
    assert low <= frame["income"].quantile(0.01) and high >= frame["income"].quantile(0.99) and high - low < 200
    assert income.nullable and abs(domain.numeric_summary("income").missing - 400) < 100
    assert domain.numeric_summary("income").bounds == (low, high)


def test_releases_and_noise_scales():
    domain = _release(_frame(), sigma=2.0)
    std1, std2 = 2.0 * math.sqrt(5), 2.0 * math.sqrt(1)  # 5 columns in round 1; income's shape alone in round 2
    entries = {(e["column"], e["statistic"].split()[0]): (e["round"], e["noise_std"]) for e in domain.releases}
    assert entries == {
        ("city", "category"): (1, std1),
        ("flag", "category"): (1, std1),
        ("label", "category"): (1, std1),
        ("income", "range"): (1, std1),
        ("income", "histogram"): (2, std2),
        ("age", "histogram"): (1, std1),
    }
    assert domain.rounds == release_rounds(_schema(_frame())) == 2 and domain.history == [(2.0, 1.0, 2)]
    assert domain.delta_threshold == 1e-6


def test_same_noise_stream_same_release_and_other_stream_differs():
    frame = _frame()
    first, again, other = _release(frame, seed=4), _release(frame, seed=4), _release(frame, seed=5)
    assert first.schema.to_dict() == again.schema.to_dict() and first.releases == again.releases
    assert np.array_equal(first.slot_counts("city"), again.slot_counts("city"))
    assert not np.array_equal(first.slot_counts("city"), other.slot_counts("city"))


def test_nothing_discovered_spends_no_threshold_delta():
    frame = _frame()[["flag", "age"]]
    schema = _schema(_frame())
    domain = release_domain(
        frame, TableSchema([schema["flag"], schema["age"]]), noise_multiplier=1.0, delta_threshold=0.0, rng=noise_source(0)
    )
    assert domain.delta_threshold == 0.0 and domain.rounds == 1


def test_errors_name_the_column():
    frame = _frame(30)
    with pytest.raises(ValueError, match="positive delta_threshold"):
        release_domain(frame, _schema(frame), noise_multiplier=1.0, delta_threshold=0.0, rng=noise_source(0))
    with pytest.raises(DataValidationError, match="'city'"):
        release_domain(frame, _schema(frame), noise_multiplier=50.0, delta_threshold=1e-6, rng=noise_source(0))


def test_private_domain_is_what_the_transformers_read():
    domain = _release(_frame())
    assert isinstance(domain, PrivateDomain)
    statistics: ReleasedStatistics = domain  # type-checks against the transform layer's protocol
    summary: ReleasedNumeric = statistics.numeric_summary("income")
    q = summary.quantiles(np.linspace(0, 1, 11))
    assert np.all(np.diff(q) >= 0) and summary.present > 0
