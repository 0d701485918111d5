"""Cross-check with SDMetrics where it defines the same metric (runs only when sdmetrics is installed, e.g. the sdv extra).

KSComplement / TVComplement against column_shapes' per-column scores, CorrelationSimilarity
(Pearson) and ContingencySimilarity (discrete pairs) against pairwise_trends' per-pair scores,
on the development datasets and on a table made here; they must agree within 0.01.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd
import pytest
from test_evaluation import make_table, shuffle_columns

from synthaug.evaluation import column_shapes, pairwise_trends
from synthaug.schema import infer_schema

sdmetrics = pytest.importorskip("sdmetrics")
from sdmetrics.column_pairs import ContingencySimilarity, CorrelationSimilarity  # noqa: E402
from sdmetrics.single_column import KSComplement, TVComplement  # noqa: E402

TOLERANCE = 0.01


def _pairs(shared_data_dir) -> list[tuple[str, pd.DataFrame, pd.DataFrame]]:
    """(name, real, synthetic) without missing values: halves of each table, the second one degraded."""
    out = []
    frames = {"made_here": make_table(1500, 0).dropna().reset_index(drop=True)}
    for name in ("attrition", "creditcard"):
        path = shared_data_dir / f"{name}.csv"
        if path.exists():
            frames[name] = pd.read_csv(path).dropna().reset_index(drop=True)
    for name, frame in frames.items():
        half = len(frame) // 2
        real, other = frame.iloc[:half].reset_index(drop=True), frame.iloc[half:].reset_index(drop=True)
        # degrade: relationships of half the columns shuffled away, numbers stretched
        synthetic = other.copy()
        shuffled = list(frame.columns[::2])
        synthetic[shuffled] = shuffle_columns(other[shuffled], seed=1)
        for column in synthetic.select_dtypes("float").columns:
            synthetic[column] = synthetic[column] * 1.1
        out.append((name, real, synthetic))
    return out


@pytest.fixture(scope="module")
def tables():
    from conftest import SHARED_DATA

    return _pairs(SHARED_DATA)


def test_column_scores_agree_with_ks_and_tv_complement(tables):
    for name, real, synthetic in tables:
        schema = infer_schema(real)
        ours = column_shapes(real, synthetic, schema=schema).details["per_column"]
        for spec in schema:
            metric = TVComplement if spec.is_discrete else KSComplement
            theirs = metric.compute(real[spec.name], synthetic[spec.name])
            assert ours[spec.name] == pytest.approx(theirs, abs=TOLERANCE), (name, spec.name, metric.__name__)


def test_pair_scores_agree_with_correlation_and_contingency_similarity(tables):
    rng = np.random.default_rng(0)
    for name, real, synthetic in tables:
        schema = infer_schema(real)
        ours = pairwise_trends(real, synthetic, schema=schema).details["per_pair"]
        numeric = [s.name for s in schema if s.kind in ("continuous", "integer")]
        discrete = [s.name for s in schema if s.is_discrete]
        numeric_pairs = list(combinations(numeric, 2))
        discrete_pairs = list(combinations(discrete, 2))
        checked = 0
        for pairs, check in ((numeric_pairs, "correlation"), (discrete_pairs, "contingency")):
            for i in rng.permutation(len(pairs))[:15]:
                a, b = pairs[i]
                key = f"{a}|{b}"
                if key not in ours:  # a constant column: skipped by us
                    continue
                if check == "correlation":
                    theirs = CorrelationSimilarity.compute(real[[a, b]], synthetic[[a, b]], coefficient="Pearson")
                else:
                    theirs = ContingencySimilarity.compute(real[[a, b]].astype(str), synthetic[[a, b]].astype(str))
                assert ours[key] == pytest.approx(theirs, abs=TOLERANCE), (name, key, check)
                checked += 1
        assert checked > 0
