"""Ground truth beside prediction for one evaluated sample, as one picture (mmdetection's ``--show-dir`` look)."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from ..structures import DataSample
from .draw import draw_detections, draw_text_rows, overlay_segmentation


def _numpy(value) -> np.ndarray:
    return value.detach().cpu().numpy() if hasattr(value, "detach") else np.asarray(value)


def _gt_boxes_in_original_pixels(sample: DataSample) -> np.ndarray:
    """``gt_bboxes`` are in network-input pixels; predictions in original ones (see :class:`DataSample`)."""
    boxes = _numpy(sample.gt_bboxes).astype(np.float32).reshape(-1, 4)
    (in_h, in_w), (ori_h, ori_w) = sample.metainfo["img_shape"], sample.metainfo["ori_shape"]
    return boxes * np.array([ori_w / in_w, ori_h / in_h] * 2, dtype=np.float32)


def _gt_seg_map_at_original_size(sample: DataSample) -> np.ndarray:
    seg_map = _numpy(sample.gt_seg_map).astype(np.uint8)
    ori_h, ori_w = sample.metainfo["ori_shape"]
    if seg_map.shape != (ori_h, ori_w):
        seg_map = cv2.resize(seg_map, (ori_w, ori_h), interpolation=cv2.INTER_NEAREST)
    return seg_map


def _name(classes: Sequence[str], label: int) -> str:
    return classes[label] if 0 <= label < len(classes) else str(label)


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


def draw_ground_truth_and_prediction(
    image: np.ndarray,
    sample: DataSample,
    classes: Sequence[str],
    palette: Sequence[Sequence[int]] | None = None,
    score_thr: float = 0.3,
) -> np.ndarray:
    """``image`` (H, W, 3) uint8 RGB at its original size, drawn twice: ground truth left, prediction right.

    Detection: boxes with class names (and scores above ``score_thr`` on the right); segmentation: class
    overlays with a legend; classification: the true class and the top prediction with its score.
    A task's side is drawn only when ``sample`` has its fields; a multi-task prediction gets every task.
    """
    truth, predicted = image, image
    if "pred_bboxes" in sample:
        gt_boxes = _gt_boxes_in_original_pixels(sample) if "gt_bboxes" in sample else np.zeros((0, 4))
        gt_labels = _numpy(sample.gt_labels) if "gt_labels" in sample else np.zeros(0, np.int64)
        truth = draw_detections(truth, gt_boxes, gt_labels, None, classes)
        predicted = draw_detections(
            predicted,
            _numpy(sample.pred_bboxes),
            _numpy(sample.pred_labels),
            _numpy(sample.pred_scores),
            classes,
            score_thr,
        )
    if "pred_seg_map" in sample:
        if "gt_seg_map" in sample:
            truth = overlay_segmentation(truth, _gt_seg_map_at_original_size(sample), classes, palette)
        predicted = overlay_segmentation(predicted, _numpy(sample.pred_seg_map), classes, palette)
    if "pred_score" in sample:
        scores = _numpy(sample.pred_score)
        top = int(scores.argmax())
        if "gt_label" in sample:
            label = int(_numpy(sample.gt_label).reshape(-1)[0])
            truth = draw_text_rows(truth, [(_name(classes, label), None)])
        predicted = draw_text_rows(predicted, [(f"{_name(classes, top)} {scores[top]:.2f}", None)])
    return _side_by_side(_titled(truth, "ground truth"), _titled(predicted, "prediction"))
