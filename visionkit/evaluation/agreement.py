"""How often two models predict the same thing on the same images (e.g. INT8 against float).

Pure functions over lists of predicted :class:`~visionkit.structures.DataSample` in the same order; each
returns (agreeing, total) counts so that batches add up and the ratio is the same at any batch size:

- classification: images whose top-1 label is equal;
- segmentation: pixels whose label in ``pred_seg_map`` is equal;
- detection: reference detections (score >= ``min_score``) that the other model matches one-to-one with
  a detection of the same label, score >= ``min_score`` and IoU >= ``iou`` (greedy, highest reference
  score first, as COCO matching); both directions are reported, so extra detections count too.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor
from torchvision.ops import box_iou

from ..structures import TASK_KEY, DataSample


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


def _kept(sample: DataSample, min_score: float) -> tuple[Tensor, Tensor]:
    keep = sample.pred_scores >= min_score
    order = sample.pred_scores[keep].argsort(descending=True)
    return sample.pred_bboxes[keep][order], sample.pred_labels[keep][order]


def box_agreement(
    reference: Sequence[DataSample], other: Sequence[DataSample], iou: float = 0.9, min_score: float = 0.3
) -> tuple[int, int, int]:
    """(matched pairs, reference detections, other detections), detections with score >= ``min_score``."""
    matched = ref_total = other_total = 0
    for r, o in zip(reference, other, strict=True):
        ref_boxes, ref_labels = _kept(r, min_score)
        boxes, labels = _kept(o, min_score)
        matched += match_detections(boxes, labels, ref_boxes, ref_labels, iou)
        ref_total, other_total = ref_total + len(ref_boxes), other_total + len(boxes)
    return matched, ref_total, other_total


PREDICTIONS = {"classification": "pred_label", "segmentation": "pred_seg_map", "detection": "pred_bboxes"}


def agreement_counts(
    reference: Sequence[DataSample],
    other: Sequence[DataSample],
    iou: float = 0.9,
    min_score: float = 0.3,
    kinds: Sequence[str] | None = None,
) -> dict[str, int]:
    """Every count that applies to the predictions present (a multi-task sample has several), or only
    those of ``kinds`` (``'classification'``, ``'segmentation'``, ``'detection'``)."""
    counts: dict[str, int] = {}
    if not reference:
        return counts
    first, kinds = reference[0], PREDICTIONS if kinds is None else kinds
    present = {kind for kind in kinds if PREDICTIONS[kind] in first}
    if "classification" in present:
        counts["top1_same"], counts["images"] = top1_agreement(reference, other)
    if "segmentation" in present:
        counts["pixels_same"], counts["pixels"] = mask_agreement(reference, other)
    if "detection" in present:
        matched, ref_total, other_total = box_agreement(reference, other, iou, min_score)
        counts.update(boxes_matched=matched, boxes_reference=ref_total, boxes_other=other_total)
    return counts


def task_agreement_counts(
    reference: Sequence[DataSample],
    other: Sequence[DataSample],
    tasks: dict[str, str],
    iou: float = 0.9,
    min_score: float = 0.3,
) -> dict[str, int]:
    """A multi-task model's counts: each task's own predictions on the samples of that task (metainfo
    ``task``), keys ``'<task>/<count>'``. ``tasks``: task name -> its kind (``'detection'``...)."""
    counts: dict[str, int] = {}
    for name, kind in tasks.items():
        pairs = [(r, o) for r, o in zip(reference, other, strict=True) if r.metainfo.get(TASK_KEY) == name]
        own = agreement_counts([r for r, _ in pairs], [o for _, o in pairs], iou, min_score, (kind,))
        counts.update({f"{name}/{key}": value for key, value in own.items()})
    return counts


def _ratios(counts: dict[str, int]) -> dict[str, float]:
    ratios = {}
    if counts.get("images"):
        ratios["top1_agreement"] = counts["top1_same"] / counts["images"]
    if counts.get("pixels"):
        ratios["pixel_agreement"] = counts["pixels_same"] / counts["pixels"]
    if "boxes_matched" in counts:
        matched = counts["boxes_matched"]
        ratios["boxes_matched_of_reference"] = matched / max(counts["boxes_reference"], 1)
        ratios["boxes_matched_of_other"] = matched / max(counts["boxes_other"], 1)
    return ratios


def agreement_ratios(counts: dict[str, int]) -> dict[str, float]:
    """Summed counts -> ratios: top-1 equality, mask pixel agreement, box matches over each side; counts
    of :func:`task_agreement_counts` give each task's, keys ``'<task>/<ratio>'``."""
    ratios = {}
    for prefix in dict.fromkeys(key.rpartition("/")[0] for key in counts):
        own = {k.rpartition("/")[2]: v for k, v in counts.items() if k.rpartition("/")[0] == prefix}
        ratios.update({f"{prefix}/{k}" if prefix else k: v for k, v in _ratios(own).items()})
    return ratios
