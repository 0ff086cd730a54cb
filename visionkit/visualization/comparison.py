"""Ground truth and predictions drawn on images; both side by side (mmdetection's ``--show-dir`` look)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..outputs.base import View, outputs_annotated_in, outputs_predicted_in
from ..structures import DataSample
from .draw import draw_text_rows


def _titled(image: np.ndarray, title: str) -> np.ndarray:
    """``image`` under a white title strip (the title on the left, as a caption row)."""
    strip = draw_text_rows(np.full((1, 1, 3), 255, np.uint8), [(title, None)])
    strip = strip[:, 1:] if strip.shape[1] > 1 else strip
    canvas = np.full((strip.shape[0] + image.shape[0], max(strip.shape[1], image.shape[1]), 3), 255, np.uint8)
    canvas[: strip.shape[0], : strip.shape[1]] = strip
    canvas[strip.shape[0] :, : image.shape[1]] = image
    return canvas


def _side_by_side(left: np.ndarray, right: np.ndarray, gap: int = 8) -> np.ndarray:
    height = max(left.shape[0], right.shape[0])
    canvas = np.full((height, left.shape[1] + gap + right.shape[1], 3), 255, np.uint8)
    canvas[: left.shape[0], : left.shape[1]] = left
    canvas[: right.shape[0], left.shape[1] + gap :] = right
    return canvas


def draw_ground_truth(
    image: np.ndarray,
    sample: DataSample,
    classes: Sequence[str],
    palette: Sequence[Sequence[int]] | None = None,
    at_input_size: bool = False,
) -> np.ndarray:
    """``image`` with ``sample``'s annotations, each task's its own way (boxes with names, a mask overlay,
    the class name; :mod:`visionkit.outputs`).

    ``image`` is the original image (annotations are scaled to ``ori_shape``) unless ``at_input_size``,
    where it is the network input after the pipeline and annotations are drawn as they are.
    """
    view = View(classes, palette)
    for outputs in outputs_annotated_in(sample):
        image = outputs.draw_ground_truth(image, sample, view, at_input_size)
    return image


def draw_prediction(
    image: np.ndarray,
    sample: DataSample,
    classes: Sequence[str],
    palette: Sequence[Sequence[int]] | None = None,
    score_thr: float = 0.3,
) -> np.ndarray:
    """The original ``image`` with ``sample``'s predictions, each task's its own way: boxes scoring
    ``score_thr`` or more with names and scores, a mask overlay, or the top class and its score."""
    view = View(classes, palette, score_thr)
    for outputs in outputs_predicted_in(sample):
        image = outputs.draw_prediction(image, sample, view)
    return image


def draw_ground_truth_and_prediction(
    image: np.ndarray,
    sample: DataSample,
    classes: Sequence[str],
    palette: Sequence[Sequence[int]] | None = None,
    score_thr: float = 0.3,
) -> np.ndarray:
    """``image`` (H, W, 3) uint8 RGB at its original size, drawn twice: ground truth left, prediction right.

    See :func:`draw_ground_truth` and :func:`draw_prediction`; a multi-task prediction gets every task.
    """
    truth = draw_ground_truth(image, sample, classes, palette)
    predicted = draw_prediction(image, sample, classes, palette, score_thr)
    return _side_by_side(_titled(truth, "ground truth"), _titled(predicted, "prediction"))
