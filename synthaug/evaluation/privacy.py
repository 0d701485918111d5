"""Leakage metrics: how much a synthetic table reveals about the rows of the real training table.

Every metric has the uniform signature ``(real_train, synthetic, *, real_holdout=None,
target=None, schema=None, random_state=None, ...)`` and returns a
:class:`~synthaug.evaluation.result.MetricResult`. Distances are the mixed-type HEOM distance
documented in :mod:`synthaug.evaluation.encoding` (numeric columns scaled by the training
range, categorical 0/1 overlap, missing values handled; 0 for identical rows, about 1 for
rows that differ everywhere). The real-vs-real reference (holdout rows compared with the
training rows, which the generator never saw) is in ``details["reference"]``: a synthetic
table that leaks no more than an independent real sample scores about the reference.

Metrics that need a holdout raise a ValueError without one; nothing is estimated in its place.
``max_rows`` bounds the rows used as queries / candidates (drawn reproducibly with
``random_state``); the training table is always searched in full.
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

from ..schema import TableSchema
from ..transform.columns import to_float
from ._common import check_column, check_tables, histograms, need_holdout, quantiles, roc_summary, seeds, table_schema
from .encoding import MixedEncoder, row_hashes, subsample
from .result import MetricResult
from .utility import category_labels

DEFAULT_MAX_ROWS = 10_000
_S_QUERY, _S_CLOSER, _S_MIA, _S_DOMIAS, _S_ATTR, _S_SINGLE = range(6)


def _nearest(reference: np.ndarray, queries: np.ndarray, k: int = 1) -> np.ndarray:
    """Distances from each query to its ``k`` nearest reference rows, shape (n_queries, k)."""
    nn = NearestNeighbors(n_neighbors=min(k, len(reference)), algorithm="brute", metric="euclidean").fit(reference)
    return nn.kneighbors(queries, return_distance=True)[0]


class _Leakage:
    """Encodes the tables once and caches the nearest-neighbour searches that several metrics share."""

    def __init__(
        self,
        real_train: pd.DataFrame,
        synthetic: pd.DataFrame,
        real_holdout: pd.DataFrame | None,
        schema: TableSchema | None,
        random_state: Any,
        max_rows: int | None,
        name: str,
    ) -> None:
        check_tables(name, real_train, synthetic=synthetic, real_holdout=real_holdout)
        self.schema = table_schema(real_train, schema)
        self.real_train, self.synthetic, self.real_holdout = real_train, synthetic, real_holdout
        self.max_rows = max_rows
        self.seeds = seeds(random_state, 6)
        others = [synthetic] + ([real_holdout] if real_holdout is not None else [])
        self.encoder = MixedEncoder(self.schema).fit(real_train, *others)

    def encode(self, frame: pd.DataFrame) -> np.ndarray:
        return self.encoder.transform(frame)

    @cached_property
    def train(self) -> np.ndarray:
        return self.encode(self.real_train)

    @cached_property
    def synthetic_queries(self) -> np.ndarray:
        return self.encode(subsample(self.synthetic, self.max_rows, self.seeds[_S_QUERY]))

    @cached_property
    def holdout_queries(self) -> np.ndarray:
        return self.encode(subsample(self.real_holdout, self.max_rows, self.seeds[_S_QUERY]))

    @cached_property
    def train_hashes(self) -> np.ndarray:
        return row_hashes(self.train)

    def _to_train(self, queries: np.ndarray) -> np.ndarray:
        """Two nearest training distances per query; exact copies (equal encodings) get exactly 0."""
        d = _nearest(self.train, queries, k=2)
        if d.shape[1] == 1:
            d = np.column_stack([d, np.full(len(d), np.nan)])
        d[np.isin(row_hashes(queries), self.train_hashes), 0] = 0.0
        return d

    @cached_property
    def synthetic_to_train(self) -> np.ndarray:
        return self._to_train(self.synthetic_queries)

    @cached_property
    def holdout_to_train(self) -> np.ndarray:
        return self._to_train(self.holdout_queries)

    @property
    def has_holdout(self) -> bool:
        return self.real_holdout is not None


def _leakage(
    name: str, real_train, synthetic, real_holdout, schema, random_state, max_rows, needs_holdout: str | None = None
) -> _Leakage:
    if needs_holdout is not None:
        need_holdout(name, real_holdout, needs_holdout)
    return _Leakage(real_train, synthetic, real_holdout, schema, random_state, max_rows, name)


def _no_reference(details: dict[str, Any]) -> None:
    details["reference"] = None
    details["reference_note"] = "no real_holdout given: no real-vs-real reference"


# --------------------------------------------------------------------------- distance to closest record
def _dcr(ctx: _Leakage) -> MetricResult:
    syn = ctx.synthetic_to_train[:, 0]
    details: dict[str, Any] = {"synthetic_to_train": quantiles(syn), "distance": "HEOM, see synthaug.evaluation.encoding"}
    if ctx.has_holdout:
        hold = ctx.holdout_to_train[:, 0]
        details["holdout_to_train"] = quantiles(hold)
        details["reference"] = float(np.median(hold))
        details["histogram"] = histograms(synthetic_to_train=syn, holdout_to_train=hold)
    else:
        _no_reference(details)
        details["histogram"] = histograms(synthetic_to_train=syn)
    details["note"] = (
        "median distance of a synthetic row to its closest training row; about the reference is good, near 0 is copying"
    )
    return MetricResult("distance_to_closest_record", float(np.median(syn)), "higher", details)


def distance_to_closest_record(
    real_train: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    real_holdout: pd.DataFrame | None = None,
    target: str | None = None,
    schema: TableSchema | None = None,
    random_state: Any = None,
    max_rows: int | None = DEFAULT_MAX_ROWS,
) -> MetricResult:
    """Median distance from each synthetic row to its closest training row (DCR).

    Reference: the median DCR of holdout rows to the training rows. ``details`` hold both
    distributions' quantiles and histograms on shared bins. ``target`` is ignored.
    """
    return _dcr(_leakage("distance_to_closest_record", real_train, synthetic, real_holdout, schema, random_state, max_rows))


def _copies(ctx: _Leakage) -> MetricResult:
    is_copy = ctx.synthetic_to_train[:, 0] == 0.0
    details: dict[str, Any] = {"n_copies": int(is_copy.sum()), "n_synthetic": int(is_copy.size)}
    if ctx.has_holdout:
        details["reference"] = float(np.mean(ctx.holdout_to_train[:, 0] == 0.0))
        details["reference_note"] = "share of holdout rows that equal a training row (duplicates in the real data)"
    else:
        _no_reference(details)
    return MetricResult("exact_copy_rate", float(is_copy.mean()), "lower", details)


def exact_copy_rate(
    real_train: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    real_holdout: pd.DataFrame | None = None,
    target: str | None = None,
    schema: TableSchema | None = None,
    random_state: Any = None,
    max_rows: int | None = DEFAULT_MAX_ROWS,
) -> MetricResult:
    """Share of synthetic rows equal to some training row in every column (after canonical encoding).

    Reference: the share of holdout rows that equal a training row.
    """
    return _copies(_leakage("exact_copy_rate", real_train, synthetic, real_holdout, schema, random_state, max_rows))


def _ratio(d: np.ndarray) -> np.ndarray:
    """d1 / d2 of the two nearest neighbours; 0 when both are 0 (a copy of a duplicated row)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(d[:, 1] > 0, d[:, 0] / d[:, 1], 0.0)


def _nndr(ctx: _Leakage) -> MetricResult:
    if len(ctx.train) < 2:
        raise ValueError("nearest_neighbour_distance_ratio needs at least two training rows")
    syn = _ratio(ctx.synthetic_to_train)
    details: dict[str, Any] = {"synthetic": quantiles(syn)}
    if ctx.has_holdout:
        hold = _ratio(ctx.holdout_to_train)
        details["holdout"] = quantiles(hold)
        details["reference"] = float(np.median(hold))
    else:
        _no_reference(details)
    details["note"] = "median of d(closest) / d(second closest training row); near 0 means a synthetic row singles out one record"
    return MetricResult("nearest_neighbour_distance_ratio", float(np.median(syn)), "higher", details)


def nearest_neighbour_distance_ratio(
    real_train: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    real_holdout: pd.DataFrame | None = None,
    target: str | None = None,
    schema: TableSchema | None = None,
    random_state: Any = None,
    max_rows: int | None = DEFAULT_MAX_ROWS,
) -> MetricResult:
    """Median ratio of the distances from a synthetic row to its closest and second-closest training rows.

    Ratios near 1 mean a synthetic row is no closer to one record than to others; near 0 it
    points at one record. Reference: the same for holdout rows.
    """
    return _nndr(
        _leakage("nearest_neighbour_distance_ratio", real_train, synthetic, real_holdout, schema, random_state, max_rows)
    )


# --------------------------------------------------------------------------- closer to train than to holdout
def _closer(ctx: _Leakage) -> MetricResult:
    n = min(len(ctx.real_train), len(ctx.real_holdout))
    train = ctx.encode(subsample(ctx.real_train, n, ctx.seeds[_S_CLOSER]))
    holdout = ctx.encode(subsample(ctx.real_holdout, n, ctx.seeds[_S_CLOSER]))
    queries = ctx.synthetic_queries
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
    }
    return MetricResult("closer_to_train_share", float(share), "lower", details)


def closer_to_train_share(
    real_train: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    real_holdout: pd.DataFrame | None = None,
    target: str | None = None,
    schema: TableSchema | None = None,
    random_state: Any = None,
    max_rows: int | None = DEFAULT_MAX_ROWS,
) -> MetricResult:
    """Share of synthetic rows closer to a training row than to any holdout row, with a binomial test against 0.5.

    The larger of the two real tables is subsampled to the size of the smaller, so that both
    sides offer equally many neighbours. Ties are left out of the share and the test.
    """
    ctx = _leakage(
        "closer_to_train_share", real_train, synthetic, real_holdout, schema, random_state, max_rows, "to compare distances with"
    )
    return _closer(ctx)


# --------------------------------------------------------------------------- membership inference
def _candidates(ctx: _Leakage, seed: int, holdout: pd.DataFrame | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Equally many members (training rows) and non-members (holdout rows), encoded, and their labels."""
    holdout = ctx.real_holdout if holdout is None else holdout
    n = min(len(ctx.real_train), len(holdout), ctx.max_rows or len(holdout))
    members = ctx.encode(subsample(ctx.real_train, n, seed))
    non_members = ctx.encode(subsample(holdout, n, seed))
    return np.vstack([members, non_members]), np.r_[np.ones(n, dtype=bool), np.zeros(n, dtype=bool)]


def _mia_distance(ctx: _Leakage) -> MetricResult:
    candidates, labels = _candidates(ctx, ctx.seeds[_S_MIA])
    scores = -_nearest(ctx.synthetic_queries, candidates)[:, 0]
    details = roc_summary(labels, scores)
    details.update(
        {
            "reference": 0.5,
            "reference_note": "chance: an attacker who cannot tell members from non-members",
            "attack": "score = -distance of a candidate to its closest synthetic row",
        }
    )
    return MetricResult("membership_inference_distance", details["roc_auc"], "lower", details)


def membership_inference_distance(
    real_train: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    real_holdout: pd.DataFrame | None = None,
    target: str | None = None,
    schema: TableSchema | None = None,
    random_state: Any = None,
    max_rows: int | None = DEFAULT_MAX_ROWS,
) -> MetricResult:
    """Distance-based membership inference: ROC AUC of telling training rows from holdout rows.

    Each candidate is scored by minus its distance to the closest synthetic row; members are
    training rows, non-members holdout rows (equally many of each). ``details`` hold
    ``tpr_at_fpr_0.01`` and the ROC curve. Chance is 0.5.
    """
    ctx = _leakage(
        "membership_inference_distance",
        real_train,
        synthetic,
        real_holdout,
        schema,
        random_state,
        max_rows,
        "its rows are the non-members of the attack",
    )
    return _mia_distance(ctx)


def _log_kde(points: np.ndarray, data: np.ndarray, bandwidth: float) -> np.ndarray:
    """Log density of a Gaussian KDE on ``data`` at ``points`` (exact, chunked, vectorised)."""
    d = data.shape[1]
    const = -np.log(len(data)) - d * np.log(bandwidth * np.sqrt(2.0 * np.pi))
    parts = [
        logsumexp(-0.5 * chunk / bandwidth**2, axis=1)
        for chunk in pairwise_distances_chunked(points, data, metric="sqeuclidean", working_memory=64)
    ]
    return np.concatenate(parts) + const


def _mia_density(ctx: _Leakage, n_components: int) -> MetricResult:
    if len(ctx.real_holdout) < 4:
        raise ValueError("membership_inference_density needs at least 4 holdout rows (half reference, half non-members)")
    order = np.random.RandomState(ctx.seeds[_S_DOMIAS]).permutation(len(ctx.real_holdout))
    half = len(order) // 2
    reference = ctx.encode(subsample(ctx.real_holdout.iloc[np.sort(order[:half])], ctx.max_rows, ctx.seeds[_S_DOMIAS]))
    candidates, labels = _candidates(ctx, ctx.seeds[_S_DOMIAS], ctx.real_holdout.iloc[np.sort(order[half:])])
    synthetic = ctx.synthetic_queries
    k = max(1, min(n_components, synthetic.shape[1], len(synthetic) - 1, len(reference) - 1))
    pca = PCA(n_components=k, random_state=ctx.seeds[_S_DOMIAS]).fit(np.vstack([synthetic, reference]))
    keep = pca.explained_variance_ > 1e-12 * max(pca.explained_variance_.sum(), 1e-300)  # drop empty directions
    if not keep.any():
        raise ValueError("membership_inference_density: the encoded synthetic and holdout rows do not vary")
    k = int(keep.sum())
    whiten = pca.components_[keep].T / np.sqrt(pca.explained_variance_[keep])

    def project(rows: np.ndarray) -> np.ndarray:
        return (rows - pca.mean_) @ whiten

    syn_z, ref_z, cand_z = project(synthetic), project(reference), project(candidates)
    h_syn = len(syn_z) ** (-1.0 / (k + 4))  # Scott's rule in the whitened space
    h_ref = len(ref_z) ** (-1.0 / (k + 4))
    scores = _log_kde(cand_z, syn_z, h_syn) - _log_kde(cand_z, ref_z, h_ref)
    details = roc_summary(labels, scores)
    details.update(
        {
            "reference": 0.5,
            "reference_note": "chance: an attacker who cannot tell members from non-members",
            "attack": "DOMIAS-style density ratio: log p_synthetic(x) - log p_reference(x), Gaussian KDEs "
            f"(Scott's bandwidth) in a whitened {k}-component PCA of the encoded rows; "
            "the holdout is split in half: reference density and non-members",
            "n_reference": int(len(ref_z)),
        }
    )
    return MetricResult("membership_inference_density", details["roc_auc"], "lower", details)


def membership_inference_density(
    real_train: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    real_holdout: pd.DataFrame | None = None,
    target: str | None = None,
    schema: TableSchema | None = None,
    random_state: Any = None,
    max_rows: int | None = DEFAULT_MAX_ROWS,
    n_components: int = 10,
) -> MetricResult:
    """Density-ratio membership inference in the spirit of DOMIAS (van Breugel et al., 2023).

    A candidate scores high when the synthetic data is denser around it than the real
    population is; the population density comes from one half of the holdout, the other half
    are the non-members. ROC AUC (chance 0.5), ``tpr_at_fpr_0.01`` and the ROC curve.
    """
    ctx = _leakage(
        "membership_inference_density",
        real_train,
        synthetic,
        real_holdout,
        schema,
        random_state,
        max_rows,
        "it gives the reference density and the non-members",
    )
    return _mia_density(ctx, n_components)


# --------------------------------------------------------------------------- attribute inference
def _attribute(ctx: _Leakage, sensitive: str, known: list[str] | None, tolerance: float) -> MetricResult:
    known = [c for c in ctx.schema.names if c != sensitive] if known is None else list(known)
    unknown = [c for c in known if c not in ctx.schema]
    if unknown or sensitive in known:
        raise ValueError(f"known columns must be columns of real_train other than the sensitive one, got {known!r}")
    if not known:
        raise ValueError("attribute_inference needs at least one column besides the sensitive one")
    spec = ctx.schema[sensitive]
    encoder = MixedEncoder(TableSchema([ctx.schema[c] for c in known]))
    tables = [t for t in (ctx.synthetic, ctx.real_holdout) if t is not None]
    encoder.fit(ctx.real_train, *tables)
    attackers = {"synthetic": ctx.synthetic}
    if ctx.has_holdout:  # equally many rows for both attackers: a bigger table finds closer neighbours
        n = min(len(ctx.synthetic), len(ctx.real_holdout))
        attackers = {
            "synthetic": subsample(ctx.synthetic, n, ctx.seeds[_S_ATTR]),
            "holdout": subsample(ctx.real_holdout, n, ctx.seeds[_S_ATTR]),
        }
    targets = subsample(ctx.real_train, ctx.max_rows, ctx.seeds[_S_ATTR])

    if spec.is_discrete:

        def values(frame: pd.DataFrame) -> np.ndarray:
            return np.asarray(category_labels(frame[sensitive], spec), dtype=object)

        def hits(pred: np.ndarray, true: np.ndarray) -> np.ndarray:
            return (pred == true) | (pd.isna(pred) & pd.isna(true))

        scoring = "accuracy of the guessed category"
    else:
        real_values = to_float(ctx.real_train[sensitive], spec)
        present = real_values[~np.isnan(real_values)]
        tol = tolerance * float(present.max() - present.min())

        def values(frame: pd.DataFrame) -> np.ndarray:
            return to_float(frame[sensitive], spec)

        def hits(pred: np.ndarray, true: np.ndarray) -> np.ndarray:
            both_missing = np.isnan(pred) & np.isnan(true)
            return both_missing | (np.abs(pred - true) <= tol)

        scoring = f"share of guesses within {tolerance:g} x the training range ({tol:.6g}) of the true value"

    true = values(targets)
    target_codes = encoder.transform(targets)
    scores: dict[str, float] = {}
    for label, frame in attackers.items():
        nn = NearestNeighbors(n_neighbors=1, algorithm="brute").fit(encoder.transform(frame))
        index = nn.kneighbors(target_codes, return_distance=False)[:, 0]
        scores[label] = float(hits(values(frame)[index], true).mean())
    syn_values = pd.Series(values(attackers["synthetic"]))
    if spec.is_discrete:
        guess = syn_values.mode(dropna=False).iloc[0]
        marginal = float(hits(np.full(len(true), guess, dtype=object), true).mean())
    else:
        guess = float(np.nanmedian(syn_values.to_numpy(dtype=float)))
        marginal = float(hits(np.full(len(true), guess), true).mean())
    details: dict[str, Any] = {
        "sensitive": sensitive,
        "known": known,
        "scoring": scoring,
        "attack": "guess the sensitive value of each training row from its closest synthetic row on the known columns",
        "baseline_marginal": marginal,
        "n_targets": int(len(true)),
    }
    if ctx.has_holdout:
        details["reference"] = scores["holdout"]
        details["reference_note"] = "the same attack with equally many holdout rows in place of the synthetic ones"
        details["excess_over_reference"] = scores["synthetic"] - scores["holdout"]
    else:
        _no_reference(details)
    return MetricResult("attribute_inference", scores["synthetic"], "lower", details)


def attribute_inference(
    real_train: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    real_holdout: pd.DataFrame | None = None,
    target: str | None = None,
    schema: TableSchema | None = None,
    random_state: Any = None,
    sensitive: str | None = None,
    known: list[str] | None = None,
    tolerance: float = 0.05,
    max_rows: int | None = DEFAULT_MAX_ROWS,
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
        raise ValueError(f"tolerance must be between 0 and 1, got {tolerance!r}")
    check_column("attribute_inference", sensitive, "sensitive column", real_train)
    ctx = _leakage("attribute_inference", real_train, synthetic, real_holdout, schema, random_state, max_rows)
    return _attribute(ctx, sensitive, known, tolerance)


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
            raise ValueError(f"quasi_identifiers must be a non-empty list of real_train columns; unknown: {bad}")
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
        _no_reference(details)
    value = mean(success["synthetic"])
    if np.isnan(value):
        details["note"] = "no synthetic row is unique on any combination: no predicate to test"
    return MetricResult("singling_out_risk", value, "lower", details)


def singling_out_risk(
    real_train: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    real_holdout: pd.DataFrame | None = None,
    target: str | None = None,
    schema: TableSchema | None = None,
    random_state: Any = None,
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
        raise ValueError("n_combinations, combination_size and bins must be positive integers")
    ctx = _leakage("singling_out_risk", real_train, synthetic, real_holdout, schema, random_state, None)
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
    ctx = _Leakage(real_train, synthetic, real_holdout, schema, random_state, max_rows, "leakage_metrics")
    results = [_dcr(ctx), _copies(ctx), _nndr(ctx)]
    skipped: dict[str, str] = {}
    no_holdout = "needs a real_holdout (real rows kept out of training)"
    if ctx.has_holdout:
        results += [_closer(ctx), _mia_distance(ctx)]
        if len(real_holdout) >= 4:
            results.append(_mia_density(ctx, 10))
        else:
            skipped["membership_inference_density"] = "needs at least 4 holdout rows"
    else:
        for name in ("closer_to_train_share", "membership_inference_distance", "membership_inference_density"):
            skipped[name] = no_holdout
    if sensitive is not None:
        check_column("attribute_inference", sensitive, "sensitive column", real_train)
        results.append(_attribute(ctx, sensitive, None, 0.05))
    else:
        skipped["attribute_inference"] = "no sensitive column given"
    results.append(_singling_out(ctx, None, 20, 6, 10))
    return results, skipped
