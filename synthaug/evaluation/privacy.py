"""Leakage metrics: how much a synthetic table reveals about the rows of the real training table.

Every metric is registered (:mod:`synthaug.evaluation.registry`) and called as ``(real_train,
synthetic, *, real_holdout=None, target=None, sensitive=None, schema=None, random_state=None,
<options>)``, returning a :class:`~synthaug.evaluation.result.MetricResult`. Distances are the
mixed-type HEOM distance documented in :mod:`synthaug.evaluation.encoding` (numeric columns
scaled by the training range, categorical 0/1 overlap, missing values handled; 0 for identical
rows, about 1 for rows that differ everywhere). The real-vs-real reference (holdout rows
compared with the training rows, which the generator never saw) is in ``details["reference"]``:
a synthetic table that leaks no more than an independent real sample scores about the reference.

Metrics that need a holdout raise MetricNotApplicable without one; nothing is estimated in its
place. ``max_rows`` bounds the rows used as queries / candidates (drawn reproducibly with
``random_state``); the training table is always searched in full. Within one suite the metrics
share one encoding and the nearest-neighbour searches.
"""

from __future__ import annotations

from functools import cached_property
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import logsumexp
from scipy.stats import binomtest
from sklearn.decomposition import PCA
from sklearn.metrics import pairwise_distances_chunked
from sklearn.neighbors import NearestNeighbors

from ..exceptions import MetricNotApplicable, ParameterError
from ..schema import TableSchema
from ..transform.columns import to_float
from ._common import (
    check_column,
    check_tables,
    histograms,
    no_reference,
    quantiles,
    roc_summary,
    seeds,
    set_reference,
    table_schema,
)
from .encoding import MixedEncoder, row_hashes, subsample
from .inputs import TableInputs
from .neighbours import CONFIDENCE, median_interval, nearest, share_interval
from .registry import SuiteRun, metric, registered, run_suite
from .result import MetricResult
from .utility import category_labels

DEFAULT_MAX_ROWS = 10_000
_S_QUERY, _S_CLOSER, _S_MIA, _S_DOMIAS, _S_ATTR, _S_SINGLE = range(6)
_CHANCE = "chance: an attacker who cannot tell members from non-members"
# the declaration every leakage metric shares (registry.metric keywords); singling out takes no max_rows
_LEAKAGE_METRIC: dict[str, Any] = {"section": "privacy", "inputs": TableInputs, "suite": ("max_rows",)}


def _nearest(reference: np.ndarray, queries: np.ndarray, k: int = 1) -> np.ndarray:
    """Distances from each query to its ``k`` nearest reference rows, shape (n_queries, k), exact."""
    return nearest(reference, queries, k)


def _subsample_details(n_queries: int, interval: list[float]) -> dict[str, Any]:
    """How a figure over ``n_queries`` subsampled rows was found, with its 95% interval."""
    return {
        "confidence_interval": interval,
        "confidence_note": f"{CONFIDENCE:.0%} interval over the {n_queries:,} rows queried (the training rows searched in full)",
    }


class _Leakage:
    """Encodes the tables once and caches the nearest-neighbour searches that several metrics share."""

    def __init__(self, inputs: TableInputs, name: str) -> None:
        real_train, synthetic, real_holdout = inputs.real_train, inputs.synthetic, inputs.real_holdout
        check_tables(name, real_train, synthetic=synthetic, real_holdout=real_holdout)
        self.schema = table_schema(real_train, inputs.schema)
        self.real_train, self.synthetic, self.real_holdout = real_train, synthetic, real_holdout
        self.seeds = seeds(inputs.random_state, 6)
        others = [synthetic] + ([real_holdout] if real_holdout is not None else [])
        self.encoder = MixedEncoder(self.schema).fit(real_train, *others)
        self._memo: dict[tuple[str, int | None], np.ndarray] = {}

    def encode(self, frame: pd.DataFrame) -> np.ndarray:
        return self.encoder.transform(frame)

    @cached_property
    def train(self) -> np.ndarray:
        return self.encode(self.real_train)

    @cached_property
    def train_hashes(self) -> np.ndarray:
        return row_hashes(self.train)

    @property
    def has_holdout(self) -> bool:
        return self.real_holdout is not None

    def queries(self, which: str, max_rows: int | None) -> np.ndarray:
        """At most ``max_rows`` encoded synthetic or holdout rows (``which``), drawn with the query seed."""
        key = (which, max_rows)
        if key not in self._memo:
            frame = self.synthetic if which == "synthetic" else self.real_holdout
            self._memo[key] = self.encode(subsample(frame, max_rows, self.seeds[_S_QUERY]))
        return self._memo[key]

    def to_train(self, which: str, max_rows: int | None) -> np.ndarray:
        """Two nearest training distances per query; exact copies (equal encodings) get exactly 0."""
        key = (f"{which}_to_train", max_rows)
        if key not in self._memo:
            queries = self.queries(which, max_rows)
            d = _nearest(self.train, queries, k=2)
            if d.shape[1] == 1:
                d = np.column_stack([d, np.full(len(d), np.nan)])
            d[np.isin(row_hashes(queries), self.train_hashes), 0] = 0.0
            self._memo[key] = d
        return self._memo[key]


def _leakage(inputs: TableInputs, name: str) -> _Leakage:
    """The leakage context of ``inputs``, built by the first metric that asks for it."""
    return inputs.shared("leakage", lambda: _Leakage(inputs, name))


# --------------------------------------------------------------------------- distance to closest record
@metric(
    name="distance_to_closest_record",
    direction="higher",
    **_LEAKAGE_METRIC,
    headline=True,
    caption="Median distance from a synthetic row to its closest training row. Much below the "
    "holdout's reference means the generator copies or nearly copies training rows.",
)
def distance_to_closest_record(inputs: TableInputs, *, max_rows: int | None = DEFAULT_MAX_ROWS) -> MetricResult:
    """Median distance from each synthetic row to its closest training row (DCR).

    Reference: the median DCR of holdout rows to the training rows. ``details`` hold both
    distributions' quantiles and histograms on shared bins.
    """
    ctx = _leakage(inputs, "distance_to_closest_record")
    syn = ctx.to_train("synthetic", max_rows)[:, 0]
    details: dict[str, Any] = {"synthetic_to_train": quantiles(syn), "distance": "HEOM, see synthaug.evaluation.encoding"}
    details.update(_subsample_details(syn.size, median_interval(syn)))
    if ctx.has_holdout:
        hold = ctx.to_train("holdout", max_rows)[:, 0]
        details["holdout_to_train"] = quantiles(hold)
        details["reference"] = float(np.median(hold))
        details["histogram"] = histograms(synthetic_to_train=syn, holdout_to_train=hold)
    else:
        no_reference(details)
        details["histogram"] = histograms(synthetic_to_train=syn)
    details["note"] = (
        "median distance of a synthetic row to its closest training row; about the reference is good, near 0 is copying"
    )
    return MetricResult("distance_to_closest_record", float(np.median(syn)), "higher", details)


@metric(
    name="exact_copy_rate",
    direction="lower",
    **_LEAKAGE_METRIC,
    caption="Share of synthetic rows identical to a training row.",
)
def exact_copy_rate(inputs: TableInputs, *, max_rows: int | None = DEFAULT_MAX_ROWS) -> MetricResult:
    """Share of synthetic rows equal to some training row in every column (after canonical encoding).

    Reference: the share of holdout rows that equal a training row.
    """
    ctx = _leakage(inputs, "exact_copy_rate")
    is_copy = ctx.to_train("synthetic", max_rows)[:, 0] == 0.0
    details: dict[str, Any] = {"n_copies": int(is_copy.sum()), "n_synthetic": int(is_copy.size)}
    details.update(_subsample_details(is_copy.size, share_interval(int(is_copy.sum()), is_copy.size)))
    reference = float(np.mean(ctx.to_train("holdout", max_rows)[:, 0] == 0.0)) if ctx.has_holdout else None
    set_reference(details, reference, "share of holdout rows that equal a training row (duplicates in the real data)")
    return MetricResult("exact_copy_rate", float(is_copy.mean()), "lower", details)


def _ratio(d: np.ndarray) -> np.ndarray:
    """d1 / d2 of the two nearest neighbours; 0 when both are 0 (a copy of a duplicated row)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(d[:, 1] > 0, d[:, 0] / d[:, 1], 0.0)


@metric(
    name="nearest_neighbour_distance_ratio",
    direction="higher",
    **_LEAKAGE_METRIC,
    caption="Closest / second-closest training distance. Near 0: a synthetic row points at one record.",
)
def nearest_neighbour_distance_ratio(inputs: TableInputs, *, max_rows: int | None = DEFAULT_MAX_ROWS) -> MetricResult:
    """Median ratio of the distances from a synthetic row to its closest and second-closest training rows.

    Ratios near 1 mean a synthetic row is no closer to one record than to others; near 0 it
    points at one record. Reference: the same for holdout rows.
    """
    ctx = _leakage(inputs, "nearest_neighbour_distance_ratio")
    if len(ctx.train) < 2:
        raise MetricNotApplicable("nearest_neighbour_distance_ratio needs at least two training rows")
    syn = _ratio(ctx.to_train("synthetic", max_rows))
    details: dict[str, Any] = {"synthetic": quantiles(syn), **_subsample_details(syn.size, median_interval(syn))}
    if ctx.has_holdout:
        hold = _ratio(ctx.to_train("holdout", max_rows))
        details["holdout"] = quantiles(hold)
        details["reference"] = float(np.median(hold))
    else:
        no_reference(details)
    details["note"] = "median of d(closest) / d(second closest training row); near 0 means a synthetic row singles out one record"
    return MetricResult("nearest_neighbour_distance_ratio", float(np.median(syn)), "higher", details)


# --------------------------------------------------------------------------- closer to train than to holdout
@metric(
    name="closer_to_train_share",
    direction="lower",
    **_LEAKAGE_METRIC,
    needs=("holdout",),
    caption="Share of synthetic rows closer to a training row than to a holdout row (equal sizes); 0.5 is ideal.",
)
def closer_to_train_share(inputs: TableInputs, *, max_rows: int | None = DEFAULT_MAX_ROWS) -> MetricResult:
    """Share of synthetic rows closer to a training row than to any holdout row, with a binomial test against 0.5.

    The larger of the two real tables is subsampled to the size of the smaller, so that both
    sides offer equally many neighbours. Ties are left out of the share and the test.
    """
    ctx = _leakage(inputs, "closer_to_train_share")
    n = min(len(ctx.real_train), len(ctx.real_holdout))
    train = ctx.encode(subsample(ctx.real_train, n, ctx.seeds[_S_CLOSER]))
    holdout = ctx.encode(subsample(ctx.real_holdout, n, ctx.seeds[_S_CLOSER]))
    queries = ctx.queries("synthetic", max_rows)
    d_train, d_hold = _nearest(train, queries)[:, 0], _nearest(holdout, queries)[:, 0]
    closer, ties = int((d_train < d_hold).sum()), int((d_train == d_hold).sum())
    decided = len(queries) - ties
    share = closer / decided if decided else 0.5
    p_value = float(binomtest(closer, decided, 0.5, alternative="greater").pvalue) if decided else 1.0
    details = {
        "reference": 0.5,
        "reference_note": "an independent sample is as close to the training rows as to equally many holdout rows",
        "n_synthetic": int(len(queries)),
        "n_rows_each_side": int(n),
        "n_closer_to_train": closer,
        "n_ties": ties,
        "binomial_p_value": p_value,
        "test": "one-sided binomial test of share > 0.5 over the rows without a tie",
        **_subsample_details(decided, share_interval(closer, decided)),
    }
    return MetricResult("closer_to_train_share", float(share), "lower", details)


# --------------------------------------------------------------------------- membership inference
def _candidates(
    ctx: _Leakage, seed: int, max_rows: int | None, holdout: pd.DataFrame | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Equally many members (training rows) and non-members (holdout rows), encoded, and their labels."""
    holdout = ctx.real_holdout if holdout is None else holdout
    n = min(len(ctx.real_train), len(holdout), max_rows or len(holdout))
    members = ctx.encode(subsample(ctx.real_train, n, seed))
    non_members = ctx.encode(subsample(holdout, n, seed))
    return np.vstack([members, non_members]), np.r_[np.ones(n, dtype=bool), np.zeros(n, dtype=bool)]


def _attack_details(labels: np.ndarray, scores: np.ndarray, **extra: Any) -> dict[str, Any]:
    """The ROC summary of a membership attack, with chance (0.5) as the reference."""
    return {**roc_summary(labels, scores), "reference": 0.5, "reference_note": _CHANCE, **extra}


@metric(
    name="membership_inference_distance",
    direction="lower",
    **_LEAKAGE_METRIC,
    needs=("holdout",),
    headline=True,
    caption="ROC AUC of guessing whether a record was in training from its distance to the "
    "synthetic rows. 0.5 is chance; watch the TPR at 1% FPR.",
)
def membership_inference_distance(inputs: TableInputs, *, max_rows: int | None = DEFAULT_MAX_ROWS) -> MetricResult:
    """Distance-based membership inference: ROC AUC of telling training rows from holdout rows.

    Each candidate is scored by minus its distance to the closest synthetic row; members are
    training rows, non-members holdout rows (equally many of each). ``details`` hold
    ``tpr_at_fpr_0.01`` and the ROC curve. Chance is 0.5.
    """
    ctx = _leakage(inputs, "membership_inference_distance")
    candidates, labels = _candidates(ctx, ctx.seeds[_S_MIA], max_rows)
    scores = -_nearest(ctx.queries("synthetic", max_rows), candidates)[:, 0]
    details = _attack_details(labels, scores, attack="score = -distance of a candidate to its closest synthetic row")
    return MetricResult("membership_inference_distance", details["roc_auc"], "lower", details)


def _log_kde(points: np.ndarray, data: np.ndarray, bandwidth: float) -> np.ndarray:
    """Log density of a Gaussian KDE on ``data`` at ``points`` (exact, chunked, vectorised)."""
    d = data.shape[1]
    const = -np.log(len(data)) - d * np.log(bandwidth * np.sqrt(2.0 * np.pi))
    parts = [
        logsumexp(-0.5 * chunk / bandwidth**2, axis=1)
        for chunk in pairwise_distances_chunked(points, data, metric="sqeuclidean", working_memory=64)
    ]
    return np.concatenate(parts) + const


def _whitening(synthetic: np.ndarray, reference: np.ndarray, n_components: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The PCA mean and whitening matrix of the synthetic and reference rows (empty directions dropped)."""
    k = max(1, min(n_components, synthetic.shape[1], len(synthetic) - 1, len(reference) - 1))
    pca = PCA(n_components=k, random_state=seed).fit(np.vstack([synthetic, reference]))
    keep = pca.explained_variance_ > 1e-12 * max(pca.explained_variance_.sum(), 1e-300)  # drop empty directions
    if not keep.any():
        raise MetricNotApplicable("membership_inference_density: the encoded synthetic and holdout rows do not vary")
    return pca.mean_, pca.components_[keep].T / np.sqrt(pca.explained_variance_[keep])


@metric(
    name="membership_inference_density",
    direction="lower",
    **_LEAKAGE_METRIC,
    needs=("holdout",),
    caption="ROC AUC of a DOMIAS-style attack: is the synthetic data denser around a record than the real population is?",
)
def membership_inference_density(
    inputs: TableInputs, *, max_rows: int | None = DEFAULT_MAX_ROWS, n_components: int = 10
) -> MetricResult:
    """Density-ratio membership inference in the spirit of DOMIAS (van Breugel et al., 2023).

    A candidate scores high when the synthetic data is denser around it than the real
    population is; the population density comes from one half of the holdout, the other half
    are the non-members. ROC AUC (chance 0.5), ``tpr_at_fpr_0.01`` and the ROC curve.
    """
    ctx = _leakage(inputs, "membership_inference_density")
    if len(ctx.real_holdout) < 4:
        raise MetricNotApplicable("membership_inference_density needs at least 4 holdout rows (half reference, half non-members)")
    seed = ctx.seeds[_S_DOMIAS]
    order = np.random.RandomState(seed).permutation(len(ctx.real_holdout))
    half = len(order) // 2
    reference = ctx.encode(subsample(ctx.real_holdout.iloc[np.sort(order[:half])], max_rows, seed))
    candidates, labels = _candidates(ctx, seed, max_rows, ctx.real_holdout.iloc[np.sort(order[half:])])
    synthetic = ctx.queries("synthetic", max_rows)
    mean, whiten = _whitening(synthetic, reference, n_components, seed)
    k = whiten.shape[1]
    syn_z, ref_z, cand_z = ((rows - mean) @ whiten for rows in (synthetic, reference, candidates))
    h_syn = len(syn_z) ** (-1.0 / (k + 4))  # Scott's rule in the whitened space
    h_ref = len(ref_z) ** (-1.0 / (k + 4))
    scores = _log_kde(cand_z, syn_z, h_syn) - _log_kde(cand_z, ref_z, h_ref)
    attack = (
        "DOMIAS-style density ratio: log p_synthetic(x) - log p_reference(x), Gaussian KDEs "
        f"(Scott's bandwidth) in a whitened {k}-component PCA of the encoded rows; "
        "the holdout is split in half: reference density and non-members"
    )
    details = _attack_details(labels, scores, attack=attack, n_reference=int(len(ref_z)))
    return MetricResult("membership_inference_density", details["roc_auc"], "lower", details)


# --------------------------------------------------------------------------- attribute inference
class _Guesses:
    """Sensitive values of a table and whether guessed values hit the true ones (discrete: equal; numeric: within tolerance)."""

    def __init__(self, ctx: _Leakage, sensitive: str, tolerance: float) -> None:
        self.sensitive, self.spec = sensitive, ctx.schema[sensitive]
        if self.spec.is_discrete:
            self.scoring = "accuracy of the guessed category"
            return
        real_values = to_float(ctx.real_train[sensitive], self.spec)
        present = real_values[~np.isnan(real_values)]
        self.tol = tolerance * float(present.max() - present.min())
        self.scoring = f"share of guesses within {tolerance:g} x the training range ({self.tol:.6g}) of the true value"

    def values(self, frame: pd.DataFrame) -> np.ndarray:
        if self.spec.is_discrete:
            return np.asarray(category_labels(frame[self.sensitive], self.spec), dtype=object)
        return to_float(frame[self.sensitive], self.spec)

    def hits(self, pred: np.ndarray, true: np.ndarray) -> np.ndarray:
        if self.spec.is_discrete:
            return (pred == true) | (pd.isna(pred) & pd.isna(true))
        return (np.isnan(pred) & np.isnan(true)) | (np.abs(pred - true) <= self.tol)

    def marginal(self, synthetic: pd.DataFrame, true: np.ndarray) -> float:
        """Hit rate of always guessing the synthetic mode (discrete) or median (numeric)."""
        syn_values = pd.Series(self.values(synthetic))
        if self.spec.is_discrete:
            return float(self.hits(np.full(len(true), syn_values.mode(dropna=False).iloc[0], dtype=object), true).mean())
        return float(self.hits(np.full(len(true), float(np.nanmedian(syn_values.to_numpy(dtype=float)))), true).mean())


def _known_columns(ctx: _Leakage, sensitive: str, known: list[str] | None) -> list[str]:
    known = [c for c in ctx.schema.names if c != sensitive] if known is None else list(known)
    unknown = [c for c in known if c not in ctx.schema]
    if unknown or sensitive in known:
        raise ParameterError(f"known columns must be columns of real_train other than the sensitive one, got {known!r}")
    if not known:
        raise MetricNotApplicable("attribute_inference needs at least one column besides the sensitive one")
    return known


def _attackers(ctx: _Leakage) -> dict[str, pd.DataFrame]:
    """The attackers' tables: synthetic, and with a holdout equally many holdout rows (a bigger table finds closer rows)."""
    if not ctx.has_holdout:
        return {"synthetic": ctx.synthetic}
    n = min(len(ctx.synthetic), len(ctx.real_holdout))
    return {
        "synthetic": subsample(ctx.synthetic, n, ctx.seeds[_S_ATTR]),
        "holdout": subsample(ctx.real_holdout, n, ctx.seeds[_S_ATTR]),
    }


def _attribute(ctx: _Leakage, sensitive: str, known: list[str] | None, tolerance: float, max_rows: int | None) -> MetricResult:
    known = _known_columns(ctx, sensitive, known)
    encoder = MixedEncoder(TableSchema([ctx.schema[c] for c in known]))
    encoder.fit(ctx.real_train, *[t for t in (ctx.synthetic, ctx.real_holdout) if t is not None])
    attackers = _attackers(ctx)
    targets = subsample(ctx.real_train, max_rows, ctx.seeds[_S_ATTR])
    guesses = _Guesses(ctx, sensitive, tolerance)
    true = guesses.values(targets)
    target_codes = encoder.transform(targets)
    scores: dict[str, float] = {}
    for label, frame in attackers.items():
        nn = NearestNeighbors(n_neighbors=1, algorithm="brute").fit(encoder.transform(frame))
        index = nn.kneighbors(target_codes, return_distance=False)[:, 0]
        scores[label] = float(guesses.hits(guesses.values(frame)[index], true).mean())
    details: dict[str, Any] = {
        "sensitive": sensitive,
        "known": known,
        "scoring": guesses.scoring,
        "attack": "guess the sensitive value of each training row from its closest synthetic row on the known columns",
        "baseline_marginal": guesses.marginal(attackers["synthetic"], true),
        "n_targets": int(len(true)),
    }
    if ctx.has_holdout:
        details["reference"] = scores["holdout"]
        details["reference_note"] = "the same attack with equally many holdout rows in place of the synthetic ones"
        details["excess_over_reference"] = scores["synthetic"] - scores["holdout"]
    else:
        no_reference(details)
    return MetricResult("attribute_inference", scores["synthetic"], "lower", details)


@metric(
    name="attribute_inference",
    direction="lower",
    **_LEAKAGE_METRIC,
    needs=("sensitive",),
    caption="How often the sensitive value of a training row is guessed from its closest synthetic "
    "row; the reference does the same with real holdout rows.",
)
def attribute_inference(
    inputs: TableInputs, *, known: list[str] | None = None, tolerance: float = 0.05, max_rows: int | None = DEFAULT_MAX_ROWS
) -> MetricResult:
    """Attribute inference risk for the ``sensitive`` column.

    An attacker who knows the ``known`` columns of a training row (default: all others) takes
    the sensitive value of the closest synthetic row. Value: share of correct guesses
    (discrete) or of guesses within ``tolerance`` x the training range (numeric). Reference:
    the same attack using equally many holdout rows instead of synthetic ones (what a real
    sample of other people reveals); ``baseline_marginal``: always guessing the synthetic
    mode / median.
    """
    if not 0 <= tolerance <= 1:
        raise ParameterError(f"tolerance must be between 0 and 1, got {tolerance!r}")
    check_column("attribute_inference", inputs.sensitive, "sensitive column", inputs.real_train)
    return _attribute(_leakage(inputs, "attribute_inference"), inputs.sensitive, known, tolerance, max_rows)


# --------------------------------------------------------------------------- singling out
def _codes(ctx: _Leakage, column: str, bins: int) -> dict[str, np.ndarray]:
    """Integer codes of one column in train, synthetic and holdout (numeric: training-quantile bins)."""
    spec = ctx.schema[column]
    tables = {"train": ctx.real_train, "synthetic": ctx.synthetic}
    if ctx.has_holdout:
        tables["holdout"] = ctx.real_holdout
    if spec.is_discrete:
        cats = ctx.encoder.categories_[column]
        return {k: cats.get_indexer(pd.Index(_fill(category_labels(t[column], spec)))) for k, t in tables.items()}
    values = to_float(ctx.real_train[column], spec)
    edges = np.unique(np.quantile(values[~np.isnan(values)], np.linspace(0, 1, bins + 1)))[1:-1]
    out = {}
    for k, t in tables.items():
        v = to_float(t[column], spec)
        out[k] = np.where(np.isnan(v), -1, np.searchsorted(edges, v, side="right"))
    return out


def _fill(labels: np.ndarray) -> np.ndarray:
    return np.where(pd.isna(labels), "<missing>", labels).astype(object)


def _keys(codes: list[np.ndarray]) -> np.ndarray:
    return pd.util.hash_pandas_object(pd.DataFrame(np.column_stack(codes)), index=False).to_numpy()


def _singling_out(ctx: _Leakage, quasi_identifiers: list[str] | None, n_combinations: int, size: int, bins: int) -> MetricResult:
    names = ctx.schema.names
    if quasi_identifiers is not None:
        bad = [c for c in quasi_identifiers if c not in ctx.schema]
        if bad or not quasi_identifiers:
            raise ParameterError(f"quasi_identifiers must be a non-empty list of real_train columns; unknown: {bad}")
        combos = [tuple(quasi_identifiers)]
    else:
        size = min(size, len(names))
        every = list(combinations(names, size))
        rng = np.random.RandomState(ctx.seeds[_S_SINGLE])
        pick = (
            rng.choice(len(every), size=min(n_combinations, len(every)), replace=False) if len(every) > n_combinations else None
        )
        combos = every if pick is None else [every[i] for i in np.sort(pick)]
    cache: dict[str, dict[str, np.ndarray]] = {}
    # equally many attacker rows on both sides: a bigger table has fewer unique rows
    sides = ["synthetic", "holdout"] if ctx.has_holdout else ["synthetic"]
    n = min(len(ctx.synthetic), len(ctx.real_holdout)) if ctx.has_holdout else len(ctx.synthetic)
    rng = np.random.RandomState(ctx.seeds[_S_SINGLE] + 1)
    rows = {k: np.sort(rng.permutation(len(ctx.synthetic if k == "synthetic" else ctx.real_holdout))[:n]) for k in sides}
    success: dict[str, list[float]] = {k: [] for k in sides}
    n_predicates: dict[str, list[int]] = {k: [] for k in sides}
    for combo in combos:
        for c in combo:
            if c not in cache:
                cache[c] = _codes(ctx, c, bins)
        train_keys, counts = np.unique(_keys([cache[c]["train"] for c in combo]), return_counts=True)
        singles = train_keys[counts == 1]
        for k in sides:
            keys, key_counts = np.unique(_keys([cache[c][k][rows[k]] for c in combo]), return_counts=True)
            predicates = keys[key_counts == 1]
            n_predicates[k].append(int(predicates.size))
            success[k].append(float(np.isin(predicates, singles).mean()) if predicates.size else np.nan)
    labels = ["|".join(c) for c in combos]

    def mean(values: list[float]) -> float:
        kept = [v for v in values if not np.isnan(v)]
        return float(np.mean(kept)) if kept else float("nan")

    details: dict[str, Any] = {
        "combinations": labels,
        "per_combination": dict(zip(labels, success["synthetic"], strict=True)),
        "n_predicates": dict(zip(labels, n_predicates["synthetic"], strict=True)),
        "n_attacker_rows": int(n),
        "bins": bins,
        "attack": "each synthetic row that is unique in the synthetic table on the quasi-identifiers is a predicate "
        "'the only person with these values'; it succeeds when exactly one training row satisfies it "
        f"(numeric columns cut into {bins} training-quantile bins). Value: share of successful predicates, "
        "averaged over the combinations",
    }
    if ctx.has_holdout:
        details["reference"] = mean(success["holdout"])
        details["reference_note"] = (
            "the same attack with equally many holdout rows as predicates, which single out only by chance"
        )
    else:
        no_reference(details)
    value = mean(success["synthetic"])
    if np.isnan(value):
        details["note"] = "no synthetic row is unique on any combination: no predicate to test"
    return MetricResult("singling_out_risk", value, "lower", details)


@metric(
    name="singling_out_risk",
    direction="lower",
    **(_LEAKAGE_METRIC | {"suite": ()}),
    caption="Share of synthetic rows, unique on a few quasi-identifiers, that match exactly one training row.",
)
def singling_out_risk(
    inputs: TableInputs,
    *,
    quasi_identifiers: list[str] | None = None,
    n_combinations: int = 20,
    combination_size: int = 6,
    bins: int = 10,
) -> MetricResult:
    """Singling-out style uniqueness risk on quasi-identifiers.

    For each combination of quasi-identifiers (given, or ``n_combinations`` random
    combinations of ``combination_size`` columns drawn with ``random_state``), every synthetic
    row that is unique in the synthetic table on that combination is read as the predicate
    "the only person with these values"; the value is the share of such predicates that match
    exactly one training row (they single that person out), averaged over the combinations.
    Reference: the same attack with holdout rows as predicates. With a holdout, both sides
    use equally many rows (the larger table is subsampled).
    """
    if n_combinations < 1 or combination_size < 1 or bins < 1:
        raise ParameterError("n_combinations, combination_size and bins must be positive integers")
    ctx = _leakage(inputs, "singling_out_risk")
    return _singling_out(ctx, quasi_identifiers, n_combinations, combination_size, bins)


# --------------------------------------------------------------------------- the suite
def leakage_metrics(
    real_train: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    real_holdout: pd.DataFrame | None = None,
    schema: TableSchema | None = None,
    random_state: Any = None,
    sensitive: str | None = None,
    max_rows: int | None = DEFAULT_MAX_ROWS,
) -> tuple[list[MetricResult], dict[str, str]]:
    """Every leakage metric that the inputs allow, sharing one encoding and the nearest-neighbour searches.

    Returns the results and, for each metric left out, the reason. Same values as the single
    metric functions called with the same arguments.
    """
    run = leakage_suite(TableInputs(real_train, synthetic, real_holdout, None, sensitive, schema, random_state), max_rows)
    return run.results, run.skipped


def leakage_suite(inputs: TableInputs, max_rows: int | None) -> SuiteRun:
    """The registered table metrics of the privacy section, run on ``inputs``."""
    specs = [spec for spec in registered("table") if spec.section == "privacy"]
    return run_suite(specs, inputs, {"max_rows": max_rows})
