"""Figures of the audit report, drawn with matplotlib's object API (no pyplot state) and returned as PNG bytes.

matplotlib is imported inside the functions, so importing the evaluation package stays cheap.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..schema import TableSchema
from ..transform.columns import to_float
from .utility import category_labels

REAL, SYNTHETIC, HOLDOUT = "#1f77b4", "#ff7f0e", "#2ca02c"


def _figure(width: float, height: float, layout: str | None = "constrained") -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout=layout)


def _png(fig: Any) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80)  # a Figure without pyplot renders with the Agg canvas
    return buffer.getvalue()


def marginals(real: pd.DataFrame, synthetic: pd.DataFrame, schema: TableSchema, columns: Sequence[str]) -> bytes:
    """Real vs synthetic distribution of each column: overlaid density histograms or category shares."""
    n = len(columns)
    ncols = min(3, n)
    nrows = int(np.ceil(n / ncols))
    fig = _figure(4.2 * ncols, 3.2 * nrows, layout=None)  # a fixed layout: the constrained one doubles the drawing time
    fig.subplots_adjust(left=0.07, right=0.98, top=1 - 0.25 / nrows, bottom=0.35 / nrows, wspace=0.3, hspace=0.7)
    axes = np.atleast_1d(fig.subplots(nrows, ncols)).ravel()
    for ax, column in zip(axes, columns, strict=False):
        spec = schema[column]
        if spec.is_discrete:
            r = pd.Series(category_labels(real[column], spec)).fillna("<missing>").value_counts(normalize=True)
            s = pd.Series(category_labels(synthetic[column], spec)).fillna("<missing>").value_counts(normalize=True)
            r, s = r.align(s, fill_value=0.0)
            order = r.sort_values(ascending=False).index[:12]
            x = np.arange(len(order))
            ax.bar(x - 0.2, r[order].to_numpy(), 0.4, color=REAL, label="real")
            ax.bar(x + 0.2, s[order].to_numpy(), 0.4, color=SYNTHETIC, label="synthetic")
            ax.set_xticks(x, [str(v)[:12] for v in order], rotation=45, ha="right", fontsize=7)
            ax.set_ylabel("share")
        else:
            r, s = to_float(real[column], spec), to_float(synthetic[column], spec)
            r, s = r[~np.isnan(r)], s[~np.isnan(s)]
            edges = np.histogram_bin_edges(np.concatenate([r, s]), bins=30)
            ax.hist(r, bins=edges, density=True, alpha=0.55, color=REAL, label="real", histtype="stepfilled")
            ax.hist(s, bins=edges, density=True, alpha=0.55, color=SYNTHETIC, label="synthetic", histtype="stepfilled")
            ax.set_ylabel("density")
            if spec.kind == "datetime":
                ax.set_xlabel("seconds since 1970", fontsize=7)
        ax.set_title(column, fontsize=9)
        ax.legend(fontsize=7)
    for ax in axes[n:]:
        ax.set_visible(False)
    return _png(fig)


def pair_differences(per_pair: dict[str, float], names: Sequence[str]) -> bytes:
    """Heat map of 1 - pairwise similarity (correlation or contingency) for every scored pair."""
    index = {name: i for i, name in enumerate(names)}
    matrix = np.full((len(names), len(names)), np.nan)
    for key, score in per_pair.items():
        a, b = key.split("|", 1)
        if a in index and b in index:
            matrix[index[a], index[b]] = matrix[index[b], index[a]] = 1.0 - score
    size = min(12.0, 3.0 + 0.3 * len(names))
    fig = _figure(size + 1.5, size)
    ax = fig.subplots()
    image = ax.imshow(
        matrix, cmap="Reds", vmin=0.0, vmax=max(0.3, float(np.nanmax(matrix)) if np.isfinite(matrix).any() else 0.3)
    )
    ticks = np.arange(len(names))
    font = 8 if len(names) <= 20 else 6
    ax.set_xticks(ticks, [n[:18] for n in names], rotation=90, fontsize=font)
    ax.set_yticks(ticks, [n[:18] for n in names], fontsize=font)
    ax.set_title("1 - pairwise similarity (0: the relationship is reproduced)", fontsize=9)
    fig.colorbar(image, ax=ax, shrink=0.8)
    return _png(fig)


def dcr_histograms(histogram: dict[str, Any], xlabel: str = "distance to the closest training row (HEOM)") -> bytes:
    """Distance to the closest training row (or image): synthetic vs holdout."""
    edges = np.asarray(histogram["edges"])
    centres, widths = (edges[:-1] + edges[1:]) / 2, np.diff(edges)
    fig = _figure(7.0, 3.2)
    ax = fig.subplots()
    for key, colour, label in (
        ("synthetic_to_train", SYNTHETIC, "synthetic -> train"),
        ("holdout_to_train", HOLDOUT, "holdout -> train"),
    ):
        if key in histogram:
            counts = np.asarray(histogram[key], dtype=float)
            ax.bar(centres, counts / max(counts.sum(), 1.0), widths, alpha=0.55, color=colour, label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("share of rows")
    ax.legend(fontsize=8)
    return _png(fig)


def roc_curves(curves: dict[str, dict[str, list[float]]]) -> bytes:
    """Membership-inference ROC curves (log-scaled FPR shows the low-FPR regime that matters)."""
    fig = _figure(8.0, 3.4)
    linear, logged = fig.subplots(1, 2)
    for label, curve in curves.items():
        for ax in (linear, logged):
            ax.plot(curve["fpr"], curve["tpr"], label=label)
    grid = np.linspace(0.0, 1.0, 101)
    for ax in (linear, logged):
        ax.plot(grid, grid, "k--", linewidth=0.8, label="chance")
        ax.set_xlabel("false positive rate")
        ax.set_ylabel("true positive rate")
    logged.set_xscale("log")
    logged.set_xlim(0.01, 1.0)
    logged.set_yscale("log")
    logged.set_ylim(0.005, 1.0)
    linear.legend(fontsize=8)
    linear.set_title("membership inference ROC", fontsize=9)
    logged.set_title("log-log (FPR >= 1%)", fontsize=9)
    return _png(fig)


def utility_bars(groups: dict[str, dict[str, dict[str, float | None]]]) -> bytes:
    """Grouped bars: for each comparison (e.g. TSTR vs TRTR) the scores of both sides."""
    fig = _figure(4.5 * len(groups), 3.2)
    axes = np.atleast_1d(fig.subplots(1, len(groups)))
    for ax, (title, sides) in zip(axes, groups.items(), strict=True):
        labels = list(sides)
        metrics = [m for m in sides[labels[0]] if all(sides[s].get(m) is not None for s in labels)]
        x = np.arange(len(metrics))
        width = 0.8 / len(labels)
        for i, (side, colour) in enumerate(zip(labels, (SYNTHETIC, REAL, HOLDOUT), strict=False)):
            ax.bar(x + (i - (len(labels) - 1) / 2) * width, [sides[side][m] for m in metrics], width, color=colour, label=side)
        ax.set_xticks(x, metrics, fontsize=8)
        ax.set_title(title, fontsize=9)
        ax.legend(fontsize=8)
    return _png(fig)


# --------------------------------------------------------------------------- images
def _image_mosaic(
    blocks: Sequence[tuple[np.ndarray, np.ndarray | None]],
    classes: np.ndarray,
    per_class: int,
    pixel_range: tuple[float, float],
) -> np.ndarray:
    """One (rows, cols, C) picture: a row of ``per_class`` images per class for each block, side by side.

    An unlabelled block (labels None) fills the rows in turn. Empty slots and the 1-pixel
    gaps between images are NaN; a blank column of slots separates the blocks.
    """
    from ._imaging import scale_images

    c, h, w = blocks[0][0].shape[1:]
    n_rows, n_slots = len(classes), per_class + 1
    slots = np.full((n_rows, len(blocks), n_slots, c, h + 1, w + 1), np.nan, dtype=np.float32)
    for b, (images, labels) in enumerate(blocks):
        if labels is None:
            rows = np.arange(len(images)) % n_rows
            rank = np.arange(len(images)) // n_rows
        else:
            rows = pd.Index(classes).get_indexer(pd.Series(labels, dtype=object))
            rank = pd.Series(rows).groupby(rows).cumcount().to_numpy()
        keep = (rows >= 0) & (rank < per_class)
        slots[rows[keep], b, rank[keep], :, :h, :w] = np.clip(scale_images(images[keep], pixel_range), 0.0, 1.0)
    # (rows, blocks, slots, C, H, W) -> (rows * H, blocks * slots * W, C)
    picture = slots.transpose(0, 4, 1, 2, 5, 3).reshape(n_rows * (h + 1), len(blocks) * n_slots * (w + 1), c)
    return _displayable(picture[:-1, : -(w + 2)])  # drop the trailing gap row and the last block's blank column


def _displayable(picture: np.ndarray) -> np.ndarray:
    """Grey (1 channel) or RGB (3): a 4th (alpha) channel is dropped, 2 channels are averaged to grey."""
    c = picture.shape[2]
    if c == 4:
        return picture[..., :3]
    return picture.mean(axis=2, keepdims=True) if c == 2 else picture


def _draw_mosaic(
    picture: np.ndarray, titles: Sequence[str], classes: np.ndarray, per_class: int, image_hw: tuple[int, int]
) -> bytes:
    from matplotlib import colormaps

    h, w = image_hw
    zoom = max(1.0, 28.0 / max(h, w))  # small images drawn at >= 28 screen pixels
    height_px, width_px = picture.shape[:2]
    fig = _figure(min(16.0, 1.2 + width_px * zoom / 80), min(24.0, 0.8 + height_px * zoom / 80))
    ax = fig.subplots()
    if picture.shape[2] == 1:
        cmap = colormaps["gray"].with_extremes(bad="white")
        ax.imshow(np.ma.masked_invalid(picture[..., 0]), cmap=cmap, vmin=0.0, vmax=1.0, interpolation="nearest")
    else:
        ax.imshow(np.nan_to_num(picture, nan=1.0), interpolation="nearest")
    block = (per_class + 1) * (w + 1)
    ax.set_xticks([b * block + per_class * (w + 1) / 2 for b in range(len(titles))], titles, fontsize=9)
    ax.xaxis.tick_top()
    ax.set_yticks(np.arange(len(classes)) * (h + 1) + h / 2, [str(c)[:14] for c in classes], fontsize=8)
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    return _png(fig)


def image_samples(
    real: np.ndarray,
    y_real: np.ndarray,
    synthetic: np.ndarray,
    y_synthetic: np.ndarray | None,
    pixel_range: tuple[float, float],
    per_class: int = 8,
    max_classes: int = 20,
) -> bytes:
    """Real vs synthetic images per class: one row per class, real on the left, synthetic on the right.

    Images are (n, C, H, W) arrays shown at most ``per_class`` per row (in the order given),
    scaled by ``pixel_range``; grey for C = 1, RGB for C = 3. Unlabelled synthetic images
    (``y_synthetic`` None) fill the rows in turn.
    """
    from ._imaging import classes_of

    labels = (
        y_real
        if y_synthetic is None
        else np.concatenate([np.asarray(y_real, dtype=object), np.asarray(y_synthetic, dtype=object)])
    )
    classes = classes_of(np.asarray(labels))[:max_classes]
    picture = _image_mosaic([(real, y_real), (synthetic, y_synthetic)], classes, per_class, pixel_range)
    titles = ["real", "synthetic" if y_synthetic is not None else "synthetic (unlabelled)"]
    return _draw_mosaic(picture, titles, classes, per_class, real.shape[2:])


def sample_grid_png(
    X: Any,
    y: Any = None,
    path: str | Path | None = None,
    *,
    per_class: int = 8,
    pixel_range: Sequence[float] | None = None,
    max_classes: int = 20,
    random_state: Any = 0,
    title: str = "samples",
) -> bytes:
    """A PNG grid of images ``X`` ((n, H, W) or (n, C, H, W)): one row per class of ``y``, ``per_class`` random images each.

    Without labels the images fill 10 rows. ``pixel_range`` maps pixels to [0, 1] (default:
    (0, 255) for uint8, else the min / max of ``X``). Returns the PNG bytes; also written
    atomically to ``path`` when given.
    """
    from ..atomic import atomic_path
    from ._imaging import check_images, check_labels, classes_of, resolve_pixel_range

    X = check_images(X, "X")
    prange = resolve_pixel_range(X, pixel_range)
    order = np.random.default_rng(random_state).permutation(len(X))
    if y is None:
        chosen, labels = X[order[: per_class * 10]], None
        classes = np.array([""] * min(10, len(chosen)), dtype=object)
    else:
        y = check_labels(y, "y", len(X))[order]
        rank = pd.Series(y, dtype=object).groupby(pd.Series(y, dtype=object), sort=False).cumcount().to_numpy()
        chosen, labels = X[order][rank < per_class], y[rank < per_class]
        classes = classes_of(labels)[:max_classes]
    picture = _image_mosaic([(chosen, labels)], classes, per_class, prange)
    png = _draw_mosaic(picture, [title], classes, per_class, X.shape[2:])
    if path is not None:
        with atomic_path(path) as tmp:
            tmp.write_bytes(png)
    return png
