"""A tree-structured graphical model of discrete (token) columns.

Estimated from one- and two-way marginal counts, exact or noisy (:func:`estimate_tree`): the
node marginals pool every measurement of a column by inverse variance, each edge's table is
the noisy table projected onto the non-negative tables of the right total and then scaled
(Sinkhorn) to its two node marginals, so every edge agrees with every other on their shared
columns and the tree is one consistent joint distribution. Sampled exactly given evidence on
any columns (:meth:`TreeModel.sample`): messages from the leaves carry the evidence up, rows are
drawn from the root down, so a conditioned column never needs rejection.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

#: mass mixed in from the independent table of an edge's two marginals, so that every cell is
#: possible and any evidence can be met (a tenth of a percent of the rows)
INDEPENDENCE_MIX = 1e-3
_SINKHORN_ROUNDS = 200
_FLOOR = 1e-12

Edge = tuple[int, int]


def pair_counts(tokens: np.ndarray, i: int, j: int, levels: Sequence[int]) -> np.ndarray:
    """The two-way contingency table of token columns ``i`` and ``j`` (one bincount)."""
    flat = tokens[:, i].astype(np.int64) * levels[j] + tokens[:, j]
    return np.bincount(flat, minlength=levels[i] * levels[j]).reshape(levels[i], levels[j]).astype(float)


def simplex_projection(values: np.ndarray, total: float) -> np.ndarray:
    """The closest (Euclidean) non-negative array to ``values`` that sums to ``total``."""
    flat = np.asarray(values, dtype=float).ravel()
    ordered = np.sort(flat)[::-1]
    cumulative = np.cumsum(ordered) - total
    ranks = np.arange(1, flat.size + 1)
    last = np.flatnonzero(ordered - cumulative / ranks > 0)[-1]
    shift = cumulative[last] / (last + 1.0)
    return np.maximum(flat - shift, 0.0).reshape(np.shape(values))


def spanning_tree(scores: np.ndarray, pick: Callable[[np.ndarray], int]) -> list[Edge]:
    """Kruskal's spanning tree over ``scores`` (a symmetric matrix of pair scores): each round
    ``pick`` chooses one of the pairs that join two components (argmax for the maximum tree,
    the exponential mechanism under DP). A loop over columns, not rows."""
    d = scores.shape[0]
    component = np.arange(d)
    first, second = np.triu_indices(d, k=1)
    edges: list[Edge] = []
    for _ in range(d - 1):
        open_pairs = np.flatnonzero(component[first] != component[second])
        chosen = open_pairs[pick(scores[first[open_pairs], second[open_pairs]])]
        i, j = int(first[chosen]), int(second[chosen])
        edges.append((i, j))
        component[component == component[j]] = component[i]
    return edges


def mutual_information(table: np.ndarray) -> float:
    """Mutual information (nats) of a two-way count table."""
    p = table / max(table.sum(), _FLOOR)
    outer = p.sum(axis=1, keepdims=True) * p.sum(axis=0, keepdims=True)
    mask = p > 0
    return float(np.sum(p[mask] * np.log(p[mask] / outer[mask])))


def _sinkhorn(table: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """``table`` scaled (iterative proportional fitting) to row sums ``rows`` and column sums ``cols``."""
    for _ in range(_SINKHORN_ROUNDS):
        table = table * (rows / np.maximum(table.sum(axis=1), _FLOOR))[:, None]
        table = table * (cols / np.maximum(table.sum(axis=0), _FLOOR))[None, :]
    return table


def _pooled_marginal(
    column: int, one_way: np.ndarray, sigma1: float, tables: Mapping[Edge, np.ndarray], sigma2: float
) -> np.ndarray:
    """Inverse-variance mean of a column's own noisy counts and the matching sums of its edges' tables."""
    if sigma1 == 0.0:
        return one_way
    estimates, weights = [one_way], [1.0 / sigma1**2]
    for (i, j), table in tables.items():
        if column in (i, j):
            summed = table.sum(axis=1) if column == i else table.sum(axis=0)
            estimates.append(summed)
            weights.append(1.0 / (sigma2**2 * table.shape[1 if column == i else 0]))
    return np.average(np.stack(estimates), axis=0, weights=np.asarray(weights))


@dataclass
class TreeModel:
    """A joint distribution of token columns that factorises over a spanning tree.

    ``node_probs[i]`` is column ``i``'s marginal; ``edge_probs[e]`` the joint table of
    ``edges[e] = (i, j)``, whose row and column sums are ``node_probs[i]`` and ``node_probs[j]``.
    """

    levels: list[int]
    edges: list[Edge]
    node_probs: list[np.ndarray]
    edge_probs: list[np.ndarray]

    def _rooted(self, root: int) -> tuple[list[int], dict[int, int], dict[int, np.ndarray]]:
        """Breadth-first order from ``root``, each column's parent and ``p(column | parent)`` (parent x column)."""
        neighbours: dict[int, list[tuple[int, int]]] = {i: [] for i in range(len(self.levels))}
        for e, (i, j) in enumerate(self.edges):
            neighbours[i].append((j, e))
            neighbours[j].append((i, e))
        order, parent, conditional = [root], {}, {}
        for v in order:  # grows while it is walked: a loop over columns
            for child, e in neighbours[v]:
                if child in parent or child == root:
                    continue
                joint = self.edge_probs[e] if self.edges[e][0] == v else self.edge_probs[e].T
                parent[child] = v
                conditional[child] = joint / np.maximum(joint.sum(axis=1, keepdims=True), _FLOOR)
                order.append(child)
        return order, parent, conditional

    def sample(self, n: int, evidence: Mapping[int, np.ndarray], uniform: Callable[[int], np.ndarray]) -> np.ndarray:
        """``n`` rows of tokens given ``evidence`` (column -> weights of its levels, ``(K,)`` or
        per row ``(n, K)``; a one-hot row fixes the level), with ``uniform(n)`` draws in (0, 1)."""
        root = next(iter(evidence), 0)
        order, parent, conditional = self._rooted(root)
        below = self._messages(n, order, parent, conditional, evidence)
        tokens = np.empty((n, len(self.levels)), dtype=np.int64)
        root_weights = np.broadcast_to(self.node_probs[root] * below.get(root, 1.0), (n, self.levels[root]))
        tokens[:, root] = _draw(root_weights, uniform(n))
        for v in order[1:]:
            weights = conditional[v][tokens[:, parent[v]]]
            tokens[:, v] = _draw(weights * below[v] if v in below else weights, uniform(n))
        return tokens

    def _messages(
        self,
        n: int,
        order: list[int],
        parent: Mapping[int, int],
        conditional: Mapping[int, np.ndarray],
        evidence: Mapping[int, np.ndarray],
    ) -> dict[int, np.ndarray]:
        """Per column with evidence at or below it: the likelihood of that evidence given each of
        its levels, ``(n, K)``, scaled per row (leaves first; a loop over columns)."""
        below: dict[int, np.ndarray] = {}
        for v in reversed(order):
            if v in evidence:
                weights = np.broadcast_to(np.asarray(evidence[v], dtype=float), (n, self.levels[v]))
                below[v] = below.get(v, 1.0) * weights
            if v in below and v in parent:
                combined = below.get(parent[v], 1.0) * (below[v] @ conditional[v].T)
                below[parent[v]] = combined / np.maximum(combined.max(axis=1, keepdims=True), _FLOOR)
        return below


def _draw(weights: np.ndarray, u: np.ndarray) -> np.ndarray:
    """One level per row with probability proportional to ``weights`` (inverse CDF of ``u``)."""
    cdf = np.cumsum(weights, axis=1)
    return np.minimum((cdf < (u * cdf[:, -1])[:, None]).sum(axis=1), weights.shape[1] - 1)


def estimate_tree(
    levels: Sequence[int],
    edges: Sequence[Edge],
    one_way: Sequence[np.ndarray],
    two_way: Mapping[Edge, np.ndarray],
    total: float,
    *,
    sigma1: float = 0.0,
    sigma2: float = 0.0,
    floors: Mapping[int, float] | None = None,
) -> TreeModel:
    """The tree model of (noisy) counts: ``one_way[i]`` of every column (noise std ``sigma1`` per
    cell) and ``two_way[(i, j)]`` of every edge (std ``sigma2``); 0 means exact counts.
    ``floors`` gives columns whose every level keeps at least that probability (declared labels)."""
    node_probs = []
    for i, k in enumerate(levels):
        pooled = _pooled_marginal(i, np.asarray(one_way[i], dtype=float), sigma1, two_way, sigma2)
        probs = simplex_projection(pooled, 1.0 * total) / total
        probs = np.maximum(probs, (floors or {}).get(i, _FLOOR))
        node_probs.append(probs / probs.sum())
        if len(probs) != k:
            raise ValueError(f"column {i}: {len(probs)} counts for {k} levels")
    edge_probs = []
    for i, j in edges:
        table = two_way[(i, j)]
        table = simplex_projection(table, total) / total if sigma2 > 0 else table / max(table.sum(), _FLOOR)
        table = (1 - INDEPENDENCE_MIX) * table + INDEPENDENCE_MIX * np.outer(node_probs[i], node_probs[j])
        edge_probs.append(_sinkhorn(table, node_probs[i], node_probs[j]))
    return TreeModel(list(levels), list(edges), node_probs, edge_probs)


__all__ = ["TreeModel", "estimate_tree", "mutual_information", "pair_counts", "simplex_projection", "spanning_tree"]
