"""Marginal-based synthesizer (MST family): the best private copy at small epsilon.

The table is seen as discrete columns (:mod:`synthaug.synthesizers.quantile_tokens`: numeric
columns as ``numeric_bins`` equal-mass bins of their quantile scale, categories, booleans and
missing-value indicators as levels). MST (McKenna, Miklau and Sheldon, 2021) then

1. measures every one-way marginal (count table of one column),
2. chooses a spanning tree of column pairs: the pairs whose counts are farthest from what the
   one-way counts predict, Kruskal's algorithm with one exponential-mechanism draw per edge,
3. measures the two-way marginal of every chosen pair,
4. estimates one consistent tree-structured distribution from all the measurements
   (:mod:`synthaug.synthesizers.tree_model`) and samples it.

Under DP, steps 1 to 3 add Gaussian noise / draw from secure randomness
(:mod:`synthaug.privacy.marginals`), after the same private preprocessing as every other model
(strict schema, released domains and quantile maps); the ledger composes both with Opacus's RDP
accountant. Without DP, the counts are exact and the tree is the Chow-Liu tree (largest mutual
information). Conditions on any set of discrete columns, and numeric values or ranges, are
evidence on the tree, sampled exactly by message passing: every returned row meets them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from scipy.special import ndtr
from sklearn.utils._param_validation import StrOptions

from ..exceptions import ParameterError
from ..privacy.ledger import marginal_ledger
from ..privacy.marginals import ACCOUNTANT, MarginalBudget, exponential_choice, measure, plan_marginal_budget
from ..transform.dequantized import DequantizedTransformer
from .base import BaseSynthesizer
from .condition_values import NumericRange
from .params import POSITIVE_INT, param
from .quantile_tokens import QuantileTokens
from .tree_model import TreeModel, estimate_tree, mutual_information, pair_counts, simplex_projection, spanning_tree

if TYPE_CHECKING:
    from ..privacy.plan import PrivateFit

#: rows per sampling batch (divides ``sample_chunk_size``: streamed and one-call sampling draw the same rows)
SAMPLE_BATCH = 4096
#: candidate bin counts of ``numeric_bins="auto"``, and how many noise std a bin's count must reach
AUTO_BINS = (4, 8, 16, 32)
NOISE_MARGIN = 4.0


class MarginalSynthesizer(QuantileTokens, BaseSynthesizer):
    """Tree of noisy two-way marginals (MST), for private copies at small epsilon.

    Parameters:
        method: ``"mst"`` (the only method so far; AIM's adaptive workload is not implemented).
        target: a column to predict from the synthetic rows (``fit(X, y)``: ``y``). Then the pairs
            are fixed in advance, every column with the target (a star, as in naive Bayes), and
            the selection's budget goes to measuring them; ``None``: the MST tree.
        numeric_bins: equal-mass bins of a numeric column's quantile scale (its resolution in
            the model; values are drawn uniformly on the quantile scale within a bin). Fewer bins
            mean fewer cells for the same noise. ``"auto"``: 32 without DP; under DP the most of
            4, 8, 16, 32 for which a bin holds at least 4 noise std of rows (on the dev tables at
            epsilon 1: 8 on attrition's 1,029 rows, 32 on cps1988's 19,708); the fitted count is
            ``numeric_bins_``.
        n_quantiles: resolution of the quantile map of numeric columns.
        schema: a :class:`~synthaug.schema.TableSchema` to use instead of inferring one
            (under DP, columns with ``public=True`` have public domains). Identifier columns
            (kind ``id``, declared or detected) are not modelled: see :mod:`synthaug.identifiers`.
        min_category_count, max_categories: without DP, text categories seen in fewer rows, or
            beyond that many most frequent, become ``"_RARE_"`` (:mod:`synthaug.rare_categories`).
        dp: a :class:`~synthaug.privacy.DPConfig`: noisy marginals and private preprocessing
            (always accounted with the RDP accountant, see :mod:`synthaug.privacy.marginals`);
            ``None``: exact counts, no privacy.
        device, verbose, random_state: as for the other synthesizers (the model runs on the CPU;
            ``random_state`` governs sampling, never DP noise).

    Fitted attributes: ``tree_`` (the estimated model), ``tree_edges_`` (its column pairs, by name).
    """

    model_name = "marginal"
    transformer_class = DequantizedTransformer
    multi_column_conditions = True
    range_conditions = True

    method: str = param("mst", StrOptions({"mst"}))
    target: str | None = param(None, None, str)
    numeric_bins: int | str = param("auto", POSITIVE_INT, StrOptions({"auto"}))
    n_quantiles: int = param(1000, POSITIVE_INT)

    @property
    def _levels(self) -> tuple[int, int]:
        return self.numeric_bins_, 1

    def _encode_training_data(self, frame: Any, rng: np.random.RandomState) -> np.ndarray:
        """Numeric columns on their quantile scale (binned in ``_fit_encoded``, once the bin count is
        known), then the discrete levels."""
        numeric = self.transformer_.transform(frame, noise=rng)[:, : self.transformer_.n_numeric_]
        return np.concatenate([ndtr(numeric), self.transformer_.codes(frame)], axis=1)

    def _resolve_bins(self, n_rows: int, budget: MarginalBudget | None) -> int:
        """``numeric_bins``, or for ``"auto"``: 32 on exact counts; under DP the most of 4, 8, 16 and
        32 bins for which a bin's expected count is at least 4 noise std of a measured pair table
        (it needs only public inputs: the row count, the columns and the budget)."""
        if self.numeric_bins != "auto":
            return int(self.numeric_bins)
        if budget is None:
            return AUTO_BINS[-1]
        sigma = budget.two_way_sigma or budget.one_way_sigma
        fitting = [k for k in AUTO_BINS if n_rows / k >= NOISE_MARGIN * sigma]
        return fitting[-1] if fitting else AUTO_BINS[0]

    def _make_transformer(self, seed: int, schema: Any) -> DequantizedTransformer:
        return DequantizedTransformer(schema=schema, n_quantiles=self.n_quantiles, random_state=seed)

    # ------------------------------------------------------------------ fit
    def _fit_encoded(
        self, data: np.ndarray, rng: np.random.RandomState, private: PrivateFit | None = None
    ) -> dict[str, Any] | None:
        self.history_ = []
        star = self._target_name() is not None
        budget = None
        if private is not None:
            d = self.transformer_.n_numeric_ + len(self.transformer_.levels_)
            budget = plan_marginal_budget(
                private.config.epsilon, private.delta_accountant, d, private.domain.history, select=not star
            )
        self.numeric_bins_ = self._resolve_bins(len(data), budget)
        hub = self._hub_token()
        m = self.transformer_.n_numeric_
        tokens = np.concatenate([*self._bins(data[:, :m]), data[:, m:].astype(np.int64)], axis=1)
        levels = self._token_levels()
        if private is None:
            self.tree_ = _chow_liu_tree(tokens, levels, hub)
            ledger = None
        else:
            self.tree_, ledger = self._private_tree(tokens, levels, private, budget, hub)
            self._pool_class_counts(len(data))
        self._name_edges()
        return ledger

    def _pool_class_counts(self, n_rows: int) -> None:
        """Under DP, the noisy class counts (what a private oversampler generates from) become the
        model's own class marginal times the public row count: it pools the label's one-way
        measurement with every measured pair that holds it (every pair, in the star), so it is far
        less noisy than the preprocessing's count alone. Post-processing of released counts only."""
        if self.target_column_ is None or not hasattr(self, "noisy_class_counts_"):
            return
        probs = self.tree_.node_probs[self._discrete_token(self.target_column_)]
        labels = list(self.noisy_class_counts_)
        self.noisy_class_counts_ = {label: float(p * n_rows) for label, p in zip(labels, probs[: len(labels)], strict=True)}

    def _class_columns(self) -> set[str]:
        return super()._class_columns() | ({self.target} if self.target is not None else set())

    def _label_column(self, schema: Any) -> str | None:
        """Under DP the label set of a discrete ``target`` is public, as that of ``y`` (its counts are not)."""
        if self.target is not None and self.target in schema and schema[self.target].is_discrete:
            return self.target
        return self.target_column_

    def _target_name(self) -> str | None:
        """The target column (``target``, else the column of ``y``), or None."""
        name = self.target if self.target is not None else self.target_column_
        if name is not None and name not in self.schema_:
            raise ParameterError(f"target={name!r} is not a column of the table; columns are {self.schema_.names}")
        return name

    def _hub_token(self) -> int | None:
        """Token column of the target, or None."""
        name = self._target_name()
        if name is None:
            return None
        if name in self.transformer_.numeric_columns_:
            return self.transformer_.numeric_columns_.index(name)
        return self._discrete_token(name)

    def _private_tree(
        self, tokens: np.ndarray, levels: list[int], plan: PrivateFit, budget: MarginalBudget, hub: int | None
    ) -> tuple[TreeModel, dict[str, Any]]:
        """MST under DP: noisy one-way counts, a noisy spanning tree (or the star of ``hub``), noisy two-way counts."""
        d, noise = len(levels), plan.noise
        one_way = [
            measure(np.bincount(tokens[:, i], minlength=k).astype(float), budget.one_way_sigma, noise)
            for i, k in enumerate(levels)
        ]
        total = float(np.mean([y.sum() for y in one_way]))  # a function of the noisy counts only
        edges = _star(d, hub) if hub is not None else []
        if d > 1 and hub is None:
            scores = _independence_errors(tokens, levels, [simplex_projection(y, total) / total for y in one_way], total)
            edges = spanning_tree(scores, lambda s: exponential_choice(s, budget.selection_epsilon, 1.0, noise))
        two_way = {e: measure(pair_counts(tokens, *e, levels), budget.two_way_sigma, noise) for e in edges}
        tree = estimate_tree(
            levels, edges, one_way, two_way, total, sigma1=budget.one_way_sigma, sigma2=budget.two_way_sigma,
            floors=self._label_floors(len(tokens)),
        )  # fmt: skip
        ledger = marginal_ledger(
            plan.config, delta_accountant=plan.delta_accountant, domain=plan.domain, budget=budget, accountant=ACCOUNTANT,
            secure=plan.noise.secure,
        )  # fmt: skip
        return tree, ledger

    def _label_floors(self, n_rows: int) -> dict[int, float]:
        """Every declared class label keeps at least one row's share (``1 / n``, n public) of the
        model, so a rare class whose noisy count fell to zero is still generated."""
        label = self._label_column(self.schema_)
        if label is None:
            return {}
        return {self._discrete_token(label): 1.0 / n_rows}

    def _name_edges(self) -> None:
        t = self.transformer_
        names = list(t.numeric_columns_) + list(t.discrete_columns_) + [f"{c} (missing)" for c in t.indicator_columns_]
        self.tree_edges_ = [(names[i], names[j]) for i, j in self.tree_.edges]

    # ------------------------------------------------------------------ sample
    def _evidence(self, conditions: Mapping[str, Any], scales: Mapping[int, tuple[float, float]]) -> dict[int, Any]:
        """Token column -> per-row levels (category conditions) or level weights (numeric ranges)."""
        evidence: dict[int, Any] = {}
        bins = self.numeric_bins_
        for column, condition in conditions.items():
            if not isinstance(condition, NumericRange):
                evidence[self._discrete_token(column)] = np.asarray(condition)
                continue
            low, high = scales[self.transformer_.numeric_columns_.index(column)]
            edges = np.arange(bins + 1) / bins
            overlap = np.clip(np.minimum(edges[1:], high) - np.maximum(edges[:-1], low), 0.0, None)
            if high <= low:  # a single value: the bin that holds it
                overlap = (np.arange(bins) == min(int(low * bins), bins - 1)).astype(float)
            evidence[self.transformer_.numeric_columns_.index(column)] = overlap
            if column in self.transformer_.indicator_columns_:
                evidence[self._discrete_token(column)] = np.zeros((), dtype=np.int64)  # present
        return evidence

    def _batch_evidence(self, evidence: Mapping[int, Any], start: int, stop: int) -> dict[int, np.ndarray]:
        """Evidence weights of rows ``start:stop``: one-hot rows for fixed levels."""
        levels = self.tree_.levels
        batch = {}
        for j, value in evidence.items():
            if value.dtype.kind == "f":
                batch[j] = value
            else:
                codes = value[start:stop] if value.ndim else np.full(stop - start, int(value))
                batch[j] = np.eye(levels[j])[codes]
        return batch

    @torch.no_grad()
    def _sample_encoded(self, n_samples: int, conditions: dict[str, Any], generator: torch.Generator) -> np.ndarray:
        scales = self._scales(conditions)
        evidence = self._evidence(conditions, scales)

        def uniform(*shape: int) -> np.ndarray:
            return torch.rand(shape, generator=generator, dtype=torch.float64, device=generator.device).cpu().numpy()

        chunks = []
        for start in range(0, n_samples, SAMPLE_BATCH):
            stop = min(n_samples, start + SAMPLE_BATCH)
            tokens = self.tree_.sample(stop - start, self._batch_evidence(evidence, start, stop), uniform)
            chunks.append(self._decode(tokens, uniform(stop - start, self.transformer_.n_numeric_), scales))
        return np.concatenate(chunks)

    # ------------------------------------------------------------------ persistence
    def _network_state(self) -> dict[str, torch.Tensor]:
        """The tree as fixed-shape tensors (padded to the most levels), so their shapes say
        nothing about which pairs were chosen."""
        tree, width = self.tree_, max(self.tree_.levels)
        nodes = np.zeros((len(tree.levels), width))
        for i, probs in enumerate(tree.node_probs):
            nodes[i, : len(probs)] = probs
        tables = np.zeros((len(tree.edges), width, width))
        for e, table in enumerate(tree.edge_probs):
            tables[e, : table.shape[0], : table.shape[1]] = table
        return {
            "tree.node_probs": torch.from_numpy(nodes),
            "tree.edge_probs": torch.from_numpy(tables),
            "tree.edges": torch.as_tensor(np.asarray(tree.edges, dtype=np.int64).reshape(-1, 2)),
            "tree.numeric_bins": torch.tensor(self.numeric_bins_),
        }

    def _restore_networks(self, tensors: Mapping[str, torch.Tensor], state: Mapping[str, Any]) -> None:
        self._check_params()
        self.numeric_bins_ = int(tensors["tree.numeric_bins"])
        levels = self._token_levels()
        edges = [(int(i), int(j)) for i, j in tensors["tree.edges"].tolist()]
        nodes, tables = tensors["tree.node_probs"].double().numpy(), tensors["tree.edge_probs"].double().numpy()
        self.tree_ = TreeModel(
            levels, edges, [nodes[i, :k].copy() for i, k in enumerate(levels)],
            [tables[e, : levels[i], : levels[j]].copy() for e, (i, j) in enumerate(edges)],
        )  # fmt: skip
        self._name_edges()


def _independence_errors(tokens: np.ndarray, levels: list[int], probs: list[np.ndarray], total: float) -> np.ndarray:
    """L1 distance, per column pair, between its counts and the independent table of ``probs``
    (sensitivity 1 under adding or removing a row: ``probs`` and ``total`` are noisy releases)."""
    d = len(levels)
    scores = np.zeros((d, d))
    for i, j in zip(*np.triu_indices(d, k=1), strict=True):  # a loop over column pairs, not rows
        expected = total * np.outer(probs[i], probs[j])
        scores[i, j] = scores[j, i] = np.abs(pair_counts(tokens, i, j, levels) - expected).sum()
    return scores


def _star(d: int, hub: int) -> list[tuple[int, int]]:
    """Every column paired with ``hub`` (each pair in increasing order)."""
    return [(min(hub, j), max(hub, j)) for j in range(d) if j != hub]


def _chow_liu_tree(tokens: np.ndarray, levels: list[int], hub: int | None) -> TreeModel:
    """The maximum-mutual-information spanning tree of exact counts (or the star of ``hub``), and its exact marginals."""
    d = len(levels)
    if hub is not None:
        edges = _star(d, hub)
    else:
        scores = np.zeros((d, d))
        for i, j in zip(*np.triu_indices(d, k=1), strict=True):  # a loop over column pairs, not rows
            scores[i, j] = scores[j, i] = mutual_information(pair_counts(tokens, i, j, levels))
        edges = spanning_tree(scores, lambda s: int(np.argmax(s))) if d > 1 else []
    one_way = [np.bincount(tokens[:, i], minlength=k).astype(float) for i, k in enumerate(levels)]
    return estimate_tree(levels, edges, one_way, {e: pair_counts(tokens, *e, levels) for e in edges}, float(len(tokens)))


__all__ = ["MarginalSynthesizer"]
