"""Detection's outputs: ``gt_bboxes`` (N, 4) xyxy in network-input pixels and ``gt_labels`` (N,);
``pred_bboxes`` (D, 4) xyxy in original-image pixels, ``pred_scores`` (D,), ``pred_labels`` (D,)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..evaluation.agreement import box_agreement
from ..registry import TASK_OUTPUTS
from ..structures import DataSample
from ..visualization.draw import draw_detections, write_rgb
from .base import TaskOutputs, View, as_numpy


def gt_boxes_in_original_pixels(sample: DataSample) -> np.ndarray:
    """``gt_bboxes`` (network-input pixels) scaled per axis to the original image, as predictions are."""
    boxes = as_numpy(sample.gt_bboxes).astype(np.float32).reshape(-1, 4)
    (in_h, in_w), (ori_h, ori_w) = sample.metainfo["img_shape"], sample.metainfo["ori_shape"]
    return boxes * np.array([ori_w / in_w, ori_h / in_h] * 2, dtype=np.float32)


@TASK_OUTPUTS.register_module(name="detection")
class DetectionOutputs(TaskOutputs):
    """Boxes with names (and scores) drawn; the detections scoring ``score_thr`` or more as the record."""

    kind = "detection"
    gt_fields = ("gt_bboxes", "gt_labels")
    pred_fields = ("pred_bboxes", "pred_scores", "pred_labels")
    record_key = "detections"
    file_suffixes = ("_detections.jpg",)

    def draw_ground_truth(
        self, image: np.ndarray, sample: DataSample, view: View, at_input_size: bool = False
    ) -> np.ndarray:
        boxes = (
            as_numpy(sample.gt_bboxes).reshape(-1, 4)
            if at_input_size
            else gt_boxes_in_original_pixels(sample)
        )
        return draw_detections(image, boxes, as_numpy(sample.gt_labels), None, view.classes)

    def draw_prediction(self, image: np.ndarray, sample: DataSample, view: View) -> np.ndarray:
        boxes, scores, labels = (as_numpy(getattr(sample, f)) for f in self.pred_fields)
        return draw_detections(image, boxes, labels, scores, view.classes, view.score_thr)

    def record(self, sample: DataSample, view: View) -> list[dict[str, Any]]:
        """``[{'bbox_xyxy': [x1, y1, x2, y2] original pixels, 'label': name, 'score': s}, ...]``."""
        keep = sample.pred_scores >= view.score_thr
        boxes, scores, labels = (getattr(sample, f)[keep].detach().cpu() for f in self.pred_fields)
        return [
            {
                "bbox_xyxy": [round(float(v), 2) for v in box],
                "label": view.name(int(label)),
                "score": float(score),
            }
            for box, label, score in zip(boxes, labels, scores, strict=True)
        ]

    def summary(self, record: list[dict[str, Any]], view: View) -> str:
        counts: dict[str, int] = {}
        for detection in record:
            counts[detection["label"]] = counts.get(detection["label"], 0) + 1
        found = ", ".join(f"{n} {label}" for label, n in sorted(counts.items(), key=lambda c: (-c[1], c[0])))
        return found or f"no detections above {view.score_thr:g}"

    def write(self, stem: Path, image: np.ndarray, sample: DataSample, view: View) -> list[dict[str, Any]]:
        write_rgb(f"{stem}_detections.jpg", self.draw_prediction(image, sample, view))
        return self.record(sample, view)

    def agreement_counts(
        self, reference: Sequence[DataSample], other: Sequence[DataSample], iou: float, score_thr: float
    ) -> dict[str, int]:
        matched, ref_total, other_total = box_agreement(reference, other, iou, score_thr)
        return {"boxes_matched": matched, "boxes_reference": ref_total, "boxes_other": other_total}

    def agreement_ratios(self, counts: dict[str, int]) -> dict[str, float]:
        if "boxes_matched" not in counts:
            return {}
        matched = counts["boxes_matched"]
        return {
            "boxes_matched_of_reference": matched / max(counts["boxes_reference"], 1),
            "boxes_matched_of_other": matched / max(counts["boxes_other"], 1),
        }
