"""Rare text categories are merged into "_RARE_" with a warning, so no rare value is replayed."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from synthaug import infer_schema
from synthaug.exceptions import ParameterError, RareCategoryWarning
from synthaug.rare_categories import RARE_CATEGORY, merge_rare_categories
from synthaug.synthesizers import MarginalSynthesizer, TVAESynthesizer


def _table(n: int = 300, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    city = rng.choice(["Oslo", "Bergen", "Tromso"], n).astype(object)
    city[:4] = ["Vardo", "Vardo", "Rare town", "Hamlet"]  # seen twice, once, once
    return pd.DataFrame(
        {
            "city": city,
            "comment": [f"note number {i}" for i in range(n)],  # free text: every value once
            "level": pd.Categorical(rng.choice(["a", "b", "c"], n)),
            "x": rng.normal(size=n),
        }
    )


def test_merge_names_the_columns_and_leaves_frequent_values():
    data = _table()
    with pytest.warns(RareCategoryWarning, match=r"'city': 3 values in 4 rows; 'comment': 300 values in 300 rows"):
        out = merge_rare_categories(data, None, min_count=3, max_categories=200, exclude=set())
    assert set(out["city"]) == {"Oslo", "Bergen", "Tromso", RARE_CATEGORY}
    assert (out["comment"] == RARE_CATEGORY).all()
    assert out["level"].equals(data["level"]) and out["x"].equals(data["x"])
    assert data["city"].iloc[0] == "Vardo"  # the input is not changed


def test_cap_keeps_the_most_frequent():
    data = pd.DataFrame({"c": ["a"] * 10 + ["b"] * 8 + ["c"] * 5})
    with pytest.warns(RareCategoryWarning, match="beyond the 2 most frequent"):
        out = merge_rare_categories(data, None, min_count=3, max_categories=2, exclude=set())
    assert out["c"].value_counts().to_dict() == {"a": 10, "b": 8, RARE_CATEGORY: 5}


def test_declared_categories_and_excluded_columns_are_kept():
    data = _table()
    schema = infer_schema(data[["city"]])
    with warnings.catch_warnings():
        warnings.simplefilter("error", RareCategoryWarning)
        out = merge_rare_categories(data[["city"]], schema, min_count=3, max_categories=None, exclude=set())
        merge_rare_categories(data[["city"]], None, min_count=3, max_categories=None, exclude={"city"})
    assert out["city"].equals(data["city"])


def test_synthesizers_never_write_a_rare_value_and_keep_rare_classes():
    data = _table()
    with pytest.warns(RareCategoryWarning):
        out = TVAESynthesizer(epochs=1, random_state=0).fit(data).sample(500)
    assert not set(out["city"]) & {"Vardo", "Rare town", "Hamlet"}
    assert set(out["comment"]) == {RARE_CATEGORY} and isinstance(out["level"].dtype, pd.CategoricalDtype)
    labels = data["city"]  # as a class label (y, or the marginal model's target) every class is kept
    model = MarginalSynthesizer(target="city", random_state=0).fit(data)
    assert "Hamlet" in model.sample(50, conditions={"city": "Hamlet"})["city"].tolist()
    _, y = TVAESynthesizer(epochs=1, random_state=0).fit(data.drop(columns="city"), labels).sample(20, y="Hamlet")
    assert set(y) == {"Hamlet"}


def test_switched_off_by_parameters():
    data = _table()
    with warnings.catch_warnings():
        warnings.simplefilter("error", RareCategoryWarning)
        model = MarginalSynthesizer(min_category_count=1, max_categories=None, random_state=0).fit(data[["city", "x"]])
    assert "Hamlet" in model.transformer_.schema_["city"].categories
    with pytest.raises(ParameterError, match="min_category_count"):
        MarginalSynthesizer(min_category_count=0).fit(data)


def test_mixed_value_types_are_modelled_as_text():
    from synthaug.exceptions import SynthaugWarning

    data = pd.DataFrame({"m": pd.Series([1, "a", 2.5, "a", 1, None] * 20, dtype=object), "x": np.arange(120.0)})
    with pytest.warns(SynthaugWarning, match=r"\['m'\] mix value types"):
        out = MarginalSynthesizer(random_state=0).fit(data).sample(200)
    assert set(out["m"].dropna()) == {"1", "a", "2.5"} and out["m"].isna().any()
    assert data["m"].iloc[0] == 1  # the input is not changed


def test_merge_as_seen_maps_values_the_reference_merged_away():
    from synthaug.rare_categories import merge_as_seen

    data = _table()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RareCategoryWarning)
        merged = merge_rare_categories(data, None, min_count=3, max_categories=200, exclude=set())
    held_out = pd.DataFrame({"city": ["Oslo", "Vardo", "Narvik", None], "comment": ["new note"] * 4, "x": [0.0] * 4})
    out = merge_as_seen(held_out, merged)
    assert out["city"].tolist()[:3] == ["Oslo", RARE_CATEGORY, RARE_CATEGORY] and out["city"].isna().iloc[3]
    assert (out["comment"] == RARE_CATEGORY).all() and out["x"].equals(held_out["x"])
    assert held_out["city"].iloc[1] == "Vardo"  # the input is not changed
