"""How often two models predict the same thing on the same images (e.g. INT8 against float).

Pure functions over lists of predicted :class:`~visionkit.structures.DataSample` in the same order; each
returns (agreeing, total) counts so that batches add up and the ratio is the same at any batch size
(each task's :class:`~visionkit.outputs.TaskOutputs` names its counts; :mod:`visionkit.outputs.agreement`
sums them):

- classification: images whose top-1 label is equal;
- segmentation: pixels whose label in ``pred_seg_map`` is equal;
- detection: reference detections (score >= ``score_thr``) that the other model matches one-to-one with
  a detection of the same label, score >= ``score_thr`` and IoU >= ``iou`` (greedy, highest reference
  score first, as COCO matching); both directions are reported, so extra detections count too.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor
from torchvision.ops import box_iou

from ..structures import DataSample


def top1_agreement(reference: Sequence[DataSample], other: Sequence[DataSample]) -> tuple[int, int]:
    """(images with the same ``pred_label``, images)."""
    same = sum(int(r.pred_label) == int(o.pred_label) for r, o in zip(reference, other, strict=True))
    return same, len(reference)


def mask_agreement(reference: Sequence[DataSample], other: Sequence[DataSample]) -> tuple[int, int]:
    """(pixels with the same ``pred_seg_map`` label, pixels)."""
    same = total = 0
    for r, o in zip(reference, other, strict=True):
        if r.pred_seg_map.shape != o.pred_seg_map.shape:
            raise ValueError(
                f"Mask shapes differ: {tuple(r.pred_seg_map.shape)} vs {tuple(o.pred_seg_map.shape)}"
            )
        same += int((r.pred_seg_map == o.pred_seg_map).sum())
        total += r.pred_seg_map.numel()
    return same, total


def match_detections(
    boxes: Tensor, labels: Tensor, ref_boxes: Tensor, ref_labels: Tensor, iou: float = 0.9
) -> int:
    """How many reference detections (sorted by score, highest first) find an unused detection of the
    same label with IoU >= ``iou`` (boxes (D, 4) xyxy; each detection matches at most once)."""
    if len(boxes) == 0 or len(ref_boxes) == 0:
        return 0
    overlaps = box_iou(ref_boxes.double(), boxes.double())
    overlaps[ref_labels[:, None] != labels[None, :]] = -1.0
    used = torch.zeros(len(boxes), dtype=torch.bool)
    matched = 0
    for row in overlaps:
        row = torch.where(used, torch.full_like(row, -1.0), row)
        best = int(row.argmax())
        if row[best] >= iou:
            used[best] = True
            matched += 1
    return matched


def _kept(sample: DataSample, score_thr: float) -> tuple[Tensor, Tensor]:
    keep = sample.pred_scores >= score_thr
    order = sample.pred_scores[keep].argsort(descending=True)
    return sample.pred_bboxes[keep][order], sample.pred_labels[keep][order]


def box_agreement(
    reference: Sequence[DataSample], other: Sequence[DataSample], iou: float = 0.9, score_thr: float = 0.3
) -> tuple[int, int, int]:
    """(matched pairs, reference detections, other detections), detections with score >= ``score_thr``."""
    matched = ref_total = other_total = 0
    for r, o in zip(reference, other, strict=True):
        ref_boxes, ref_labels = _kept(r, score_thr)
        boxes, labels = _kept(o, score_thr)
        matched += match_detections(boxes, labels, ref_boxes, ref_labels, iou)
        ref_total, other_total = ref_total + len(ref_boxes), other_total + len(boxes)
    return matched, ref_total, other_total
