"""Fidelity metrics that look at whole rows: detection ROC AUC and k-NN coverage (PRDC).

Both work in the mixed-type encoding of :mod:`synthaug.evaluation.encoding` and report the
same computation on holdout rows (real vs real) as ``details["reference"]`` when a holdout is
given. ``max_rows`` bounds the rows taken from each table (drawn reproducibly with
``random_state``), which keeps them fast on large tables.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import pairwise_distances_chunked, roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.neighbors import NearestNeighbors

from ..exceptions import MetricNotApplicable, ParameterError
from ._common import check_tables, no_reference, seeds, set_reference, table_schema
from .encoding import MixedEncoder, row_hashes, subsample
from .inputs import TableInputs
from .registry import metric
from .result import MetricResult


def _detect(
    encoder: MixedEncoder, real: pd.DataFrame, other: pd.DataFrame, n: int, estimator: BaseEstimator, n_splits: int, seed: int
) -> float:
    X = np.vstack([encoder.transform(subsample(real, n, seed)), encoder.transform(subsample(other, n, seed))])
    y = np.r_[np.zeros(n, dtype=int), np.ones(n, dtype=int)]
    # Rows that occur on both sides cannot be told apart by any classifier: their score is the share of
    # "other" rows among the identical ones. (Cross-validating them would teach the opposite label
    # through the copy in the training folds and push the AUC far below 0.5.)
    hashes = row_hashes(X)
    share = pd.Series(y).groupby(hashes).transform("mean").to_numpy(dtype=float)
    scores = share.copy()
    rest = (share == 0.0) | (share == 1.0)
    counts = np.bincount(y[rest], minlength=2)
    if counts.min() == 0:
        # every row of one side is in a shared group, so a row outside them is known to be from the other side
        scores[rest] = y[rest]
    else:
        splits = min(n_splits, int(counts.min()))
        if splits < 2:
            raise MetricNotApplicable("detection_auc: too few distinct rows on one side to cross-validate a classifier")
        folds = StratifiedKFold(n_splits=splits, shuffle=True, random_state=seed)
        scores[rest] = cross_val_predict(clone(estimator), X[rest], y[rest], cv=folds, method="predict_proba")[:, 1]
    return float(roc_auc_score(y, scores))


@metric(
    name="detection_auc",
    section="fidelity",
    direction="lower",
    inputs=TableInputs,
    headline=True,
    caption="Cross-validated ROC AUC of a classifier telling real from synthetic rows. 0.5: indistinguishable.",
)
def detection_auc(
    inputs: TableInputs, *, max_rows: int = 2500, n_splits: int = 3, estimator: BaseEstimator | None = None
) -> MetricResult:
    """Cross-validated ROC AUC of a classifier telling real rows from synthetic rows.

    At most ``max_rows`` rows of each table are encoded (mixed-type encoding with missing
    indicators) and labelled real / synthetic; out-of-fold probabilities of ``n_splits``-fold
    stratified cross-validation give the AUC. Rows that occur identically on both sides get the
    share of synthetic rows among their copies as score, what any classifier can reach at best
    (a copy of the real table scores 0.5, not below); the other rows are cross-validated.
    0.5 means indistinguishable (lower is better; values below 0.5 are noise). Default
    classifier: ``HistGradientBoostingClassifier``. Reference: the same test of holdout rows
    against training rows.
    """
    real_train, synthetic, real_holdout = inputs.real_train, inputs.synthetic, inputs.real_holdout
    check_tables("detection_auc", real_train, synthetic=synthetic, real_holdout=real_holdout)
    if max_rows < 2 * n_splits or n_splits < 2:
        raise ParameterError(f"detection_auc needs n_splits >= 2 and max_rows >= 2 * n_splits, got {n_splits}, {max_rows}")
    schema = table_schema(real_train, inputs.schema)
    others = [synthetic] + ([real_holdout] if real_holdout is not None else [])
    encoder = MixedEncoder(schema).fit(real_train, *others)
    seed_syn, seed_ref = seeds(inputs.random_state, 2)
    if estimator is None:
        estimator = HistGradientBoostingClassifier(max_iter=100, random_state=seed_syn)
    n = min(max_rows, len(real_train), len(synthetic))
    if n < n_splits:
        raise MetricNotApplicable(f"detection_auc needs at least {n_splits} rows in each table")
    auc = _detect(encoder, real_train, synthetic, n, estimator, n_splits, seed_syn)
    details: dict[str, Any] = {
        "n_rows_each_side": n,
        "n_splits": n_splits,
        "estimator": repr(estimator),
        "note": "0.5: the classifier cannot tell synthetic rows from real ones; 1: it always can",
    }
    reference = None
    if real_holdout is not None and len(real_holdout) >= n_splits:
        n_ref = min(max_rows, len(real_train), len(real_holdout))
        reference = _detect(encoder, real_train, real_holdout, n_ref, estimator, n_splits, seed_ref)
    set_reference(details, reference, "the same test of holdout rows against training rows")
    return MetricResult("detection_auc", auc, "lower", details)


# --------------------------------------------------------------------------- PRDC
def _prdc(real: np.ndarray, fake: np.ndarray, k: int) -> dict[str, float]:
    """Precision, recall, density and coverage of Naeem et al. (2020) with k-NN balls, exact and chunked."""
    real_radii = NearestNeighbors(n_neighbors=k + 1).fit(real).kneighbors(real)[0][:, k]
    fake_radii = NearestNeighbors(n_neighbors=k + 1).fit(fake).kneighbors(fake)[0][:, k]
    in_real_balls = np.zeros(len(fake))  # how many real balls hold each fake row
    real_covered = np.zeros(len(real), dtype=bool)  # real rows within some fake ball (recall)
    nearest_fake = np.full(len(real), np.inf)
    start = 0
    for chunk in pairwise_distances_chunked(fake, real, working_memory=64):
        stop = start + len(chunk)
        in_real_balls[start:stop] = (chunk <= real_radii[None, :]).sum(axis=1)
        real_covered |= (chunk <= fake_radii[start:stop, None]).any(axis=0)
        nearest_fake = np.minimum(nearest_fake, chunk.min(axis=0))
        start = stop
    return {
        "precision": float((in_real_balls > 0).mean()),
        "recall": float(real_covered.mean()),
        "density": float(in_real_balls.sum() / (k * len(fake))),
        "coverage": float((nearest_fake <= real_radii).mean()),
    }


@metric(
    name="coverage",
    section="fidelity",
    direction="higher",
    inputs=TableInputs,
    caption="Share of real rows whose k-NN neighbourhood holds a synthetic row (PRDC); details also give precision, "
    "recall and density.",
)
def coverage(inputs: TableInputs, *, k: int = 5, max_rows: int = 3000) -> MetricResult:
    """k-NN precision, recall, density and coverage (PRDC, Naeem et al. 2020) in the mixed-type encoding.

    Each real row gets a ball reaching its ``k``-th nearest real neighbour. Precision: share of
    synthetic rows inside some real ball; recall: share of real rows inside some synthetic ball;
    density: mean number of real balls around a synthetic row / k (about 1 for a matching
    distribution); coverage (the value): share of real rows whose ball holds a synthetic row.
    At most ``max_rows`` rows per table are used; with a holdout the synthetic sample is cut to
    the holdout's size so that the reference (holdout vs train) is computed on equal terms.
    """
    real_train, synthetic, real_holdout = inputs.real_train, inputs.synthetic, inputs.real_holdout
    check_tables("coverage", real_train, synthetic=synthetic, real_holdout=real_holdout)
    schema = table_schema(real_train, inputs.schema)
    if k < 1:
        raise ParameterError(f"k must be a positive integer, got {k!r}")
    m = min(max_rows, len(synthetic)) if real_holdout is None else min(max_rows, len(synthetic), len(real_holdout))
    n = min(max_rows, len(real_train))
    if min(n, m) <= k:
        raise MetricNotApplicable(f"coverage with k={k} needs more than {k} rows in each table")
    others = [synthetic] + ([real_holdout] if real_holdout is not None else [])
    encoder = MixedEncoder(schema).fit(real_train, *others)
    seed_real, seed_syn = seeds(inputs.random_state, 2)
    real = encoder.transform(subsample(real_train, n, seed_real))
    scores = _prdc(real, encoder.transform(subsample(synthetic, m, seed_syn)), k)
    details: dict[str, Any] = {**scores, "k": k, "n_real": n, "n_synthetic": m}
    if real_holdout is not None:
        ref = _prdc(real, encoder.transform(subsample(real_holdout, m, seed_syn)), k)
        details["reference"] = ref["coverage"]
        details["reference_prdc"] = ref
        details["reference_note"] = "the same scores for holdout rows in place of synthetic ones"
    else:
        no_reference(details)
    return MetricResult("coverage", scores["coverage"], "higher", details)
