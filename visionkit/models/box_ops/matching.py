"""Anchor-to-ground-truth matching by IoU (SSD, Liu et al. 2016, section 2.2 "Matching strategy")."""

from __future__ import annotations

import torch
from torch import Tensor
from torchvision.ops import box_iou

BACKGROUND = -1
IGNORE = -2


def match_anchors(gt_bboxes: Tensor, anchors: Tensor, pos_iou: float = 0.5, neg_iou: float = 0.5) -> Tensor:
    """Match every anchor to at most one ground truth box.

    - IoU >= ``pos_iou`` with its best ground truth: that ground truth's index.
    - IoU < ``neg_iou``: :data:`BACKGROUND` (-1).
    - in between (only when ``neg_iou < pos_iou``): :data:`IGNORE` (-2), left out of the loss.
    - every ground truth also keeps its best anchor whatever their IoU (forced match, as TF, torchvision
      and mmdet do), unless it overlaps no anchor at all; when two ground truths share a best anchor the
      later one wins.

    Args:
        gt_bboxes: (G, 4) xyxy pixels, G may be 0 (every anchor is then background).
        anchors: (A, 4) xyxy pixels.

    Returns:
        (A,) int64 matched ground truth index, or -1 / -2.
    """
    if neg_iou > pos_iou:
        raise ValueError(f"neg_iou ({neg_iou}) must not exceed pos_iou ({pos_iou})")
    matched = torch.full((len(anchors),), BACKGROUND, dtype=torch.int64, device=anchors.device)
    if len(gt_bboxes) == 0:
        return matched
    iou = box_iou(gt_bboxes, anchors)  # (G, A)
    best_iou, best_gt = iou.max(dim=0)
    matched[best_iou >= neg_iou] = IGNORE
    positive = best_iou >= pos_iou
    matched[positive] = best_gt[positive]
    gt_best_iou, gt_best_anchor = iou.max(dim=1)
    overlapping = gt_best_iou > 0
    gt_index = torch.arange(len(gt_bboxes), device=anchors.device)
    # scatter amax, not index assignment: duplicate indices would leave the winner to the backend.
    forced = torch.full_like(matched, BACKGROUND).scatter_reduce(
        0, gt_best_anchor[overlapping], gt_index[overlapping], reduce="amax"
    )
    return torch.where(forced >= 0, forced, matched)
