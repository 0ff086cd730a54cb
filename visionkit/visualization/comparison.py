"""Ground truth and predictions drawn on images; both side by side (mmdetection's ``--show-dir`` look)."""

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


def draw_ground_truth(
    image: np.ndarray,
    sample: DataSample,
    classes: Sequence[str],
    palette: Sequence[Sequence[int]] | None = None,
    at_input_size: bool = False,
) -> np.ndarray:
    """``image`` with ``sample``'s annotations: boxes with names, a mask overlay, or the class name.

    ``image`` is the original image (annotations are scaled to ``ori_shape``) unless ``at_input_size``,
    where it is the network input after the pipeline and annotations are drawn as they are.
    """
    if "gt_bboxes" in sample:
        boxes = (
            _numpy(sample.gt_bboxes).reshape(-1, 4) if at_input_size else _gt_boxes_in_original_pixels(sample)
        )
        image = draw_detections(image, boxes, _numpy(sample.gt_labels), None, classes)
    if "gt_seg_map" in sample:
        seg_map = _numpy(sample.gt_seg_map) if at_input_size else _gt_seg_map_at_original_size(sample)
        image = overlay_segmentation(image, seg_map, classes, palette)
    if "gt_label" in sample:
        image = draw_text_rows(image, [(_name(classes, int(_numpy(sample.gt_label).reshape(-1)[0])), None)])
    return image


def draw_prediction(
    image: np.ndarray,
    sample: DataSample,
    classes: Sequence[str],
    palette: Sequence[Sequence[int]] | None = None,
    score_thr: float = 0.3,
) -> np.ndarray:
    """The original ``image`` with ``sample``'s predictions: boxes scoring ``score_thr`` or more with names
    and scores, a mask overlay, or the top class and its score."""
    if "pred_bboxes" in sample:
        image = draw_detections(
            image,
            _numpy(sample.pred_bboxes),
            _numpy(sample.pred_labels),
            _numpy(sample.pred_scores),
            classes,
            score_thr,
        )
    if "pred_seg_map" in sample:
        image = overlay_segmentation(image, _numpy(sample.pred_seg_map), classes, palette)
    if "pred_score" in sample:
        scores = _numpy(sample.pred_score)
        top = int(scores.argmax())
        image = draw_text_rows(image, [(f"{_name(classes, top)} {scores[top]:.2f}", None)])
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
