"""Evaluation plots as PNG (matplotlib, no display): per-class precision-recall curves, confusion matrices."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np


def plot_pr_curves(
    precision: np.ndarray,
    recall_thrs: np.ndarray,
    iou_thrs: np.ndarray,
    names: Sequence[str],
    path: str | Path,
) -> Path:
    """One panel per class: precision against recall at IoU 0.5 and averaged over every IoU threshold.

    ``precision`` is pycocotools' ``COCOeval.eval['precision']`` (T, R, K, A, M); area "all" (A index 0)
    and the largest maxDets (last M) are plotted; -1 entries (no ground truth) are left out.
    Returns the written path.
    """
    curves = precision[:, :, :, 0, -1]  # (T, R, K)
    cols = min(4, max(len(names), 1))
    rows = -(-len(names) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 3 * rows), squeeze=False)
    at_50 = np.flatnonzero(np.isclose(iou_thrs, 0.5))
    for k, (ax, name) in enumerate(zip(axes.flat, names, strict=False)):
        per_thr = np.where(curves[:, :, k] < 0, np.nan, curves[:, :, k])
        if at_50.size:
            ax.plot(recall_thrs, per_thr[at_50[0]], label="IoU 0.5")
        ax.plot(
            recall_thrs,
            np.nanmean(per_thr, axis=0) if np.isfinite(per_thr).any() else per_thr[0],
            label="IoU 0.5:0.95",
        )
        ax.set(title=name, xlabel="recall", ylabel="precision", xlim=(0, 1), ylim=(0, 1.02))
        ax.grid(alpha=0.3)
    for ax in axes.flat[len(names) :]:
        ax.axis("off")
    axes.flat[0].legend(loc="lower left")
    return save_figure(fig, path)


def plot_confusion_matrix(matrix: np.ndarray, names: Sequence[str], path: str | Path) -> Path:
    """A (K, K) pixel confusion matrix (row = ground truth, column = prediction), normalised per row (%)."""
    matrix = np.asarray(matrix, dtype=np.float64)
    totals = matrix.sum(axis=1, keepdims=True)
    percent = np.divide(matrix, totals, out=np.zeros_like(matrix), where=totals > 0) * 100
    size = max(4.0, 0.6 * len(names) + 2)
    fig, ax = plt.subplots(figsize=(size, size))
    image = ax.imshow(percent, cmap="Blues", vmin=0, vmax=100)
    ax.set_xticks(range(len(names)), names, rotation=45, ha="right")
    ax.set_yticks(range(len(names)), names)
    ax.set(xlabel="prediction", ylabel="ground truth", title="confusion matrix (% of each true class)")
    if len(names) <= 30:
        for i in range(len(names)):
            for j in range(len(names)):
                colour = "white" if percent[i, j] > 50 else "black"
                ax.text(j, i, f"{percent[i, j]:.0f}", ha="center", va="center", color=colour, fontsize=8)
    fig.colorbar(image, ax=ax, fraction=0.046)
    return save_figure(fig, path)


def save_figure(fig: plt.Figure, path: str | Path) -> Path:
    """Write ``fig`` as a PNG at ``path`` (folders created) and close it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
