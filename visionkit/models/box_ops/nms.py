"""Per-class NMS of decoded anchors: per image (variable length) and over a batch (fixed shape, exportable).

``multiclass_nms_mask`` is a custom op: ``torchvision::nms`` exports as ONNX NMS for one image and one class,
and separating images and classes with coordinate offsets (what ``batched_nms`` does) loses float precision
as batch x classes grows. ONNX's own ``NonMaxSuppression`` has batch and class axes, so the op maps onto it
exactly (``visionkit.deploy.onnx_nms`` holds the translation) and keeps a fixed-shape output.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor
from torchvision.ops import batched_nms, clip_boxes_to_image


def top_candidates(
    scores: Tensor,
    score_thr: float,
    nms_pre: int,
    level_sizes: Sequence[int] | None = None,
    topk_per_class: int | None = None,
) -> tuple[Tensor, Tensor, Tensor]:
    """The highest scoring (anchor, class) pairs above ``score_thr``, best first within each level.

    Args:
        scores: (A, K) class probabilities without background.
        nms_pre: pairs kept over all levels together, or per level when ``level_sizes`` (anchors of each
            level, summing to A) is given (mmdetection's ``nms_pre``); ``None`` keeps every pair.
        topk_per_class: first keep only the best this many anchors of each class (within each level with
            ``level_sizes``): torchvision SSD's ``topk_candidates``.

    Returns:
        anchor indices (P,), labels (P,) int64 and scores (P,).
    """
    num_classes = scores.shape[1]
    anchor_indices, labels, top = [], [], []
    start = 0
    for size in level_sizes if level_sizes is not None else [len(scores)]:
        level = scores[start : start + size]
        if topk_per_class is not None:  # candidates as indices into level.flatten(), anchor-major
            best, best_anchor = level.topk(min(topk_per_class, size), dim=0)
            pairs = best_anchor * num_classes + torch.arange(num_classes, device=scores.device)
            candidates = pairs[best > score_thr]
        else:
            candidates = torch.nonzero(level.flatten() > score_thr).squeeze(1)
        keep = len(candidates) if nms_pre is None else min(nms_pre, len(candidates))
        level_top, order = level.flatten()[candidates].topk(keep)
        candidates = candidates[order]
        anchor_indices.append(candidates // num_classes + start)
        labels.append(candidates % num_classes)
        top.append(level_top)
        start += size
    return torch.cat(anchor_indices), torch.cat(labels), torch.cat(top)


def multiclass_nms(
    boxes: Tensor,
    scores: Tensor,
    score_thr: float,
    nms_pre: int,
    iou_thr: float,
    max_per_img: int,
    level_sizes: Sequence[int] | None = None,
    min_size: tuple[float, float] | None = None,
    topk_per_class: int | None = None,
    max_per_class: int | None = None,
    clip_to: Sequence[int] | None = None,
) -> tuple[Tensor, Tensor, Tensor]:
    """Per-class NMS of one image's decoded anchors.

    Args:
        boxes: (A, 4) xyxy; scores: (A, K) class probabilities without background.
        score_thr: (anchor, class) pairs at or below it are dropped.
        nms_pre: at most this many (anchor, class) pairs, the highest scoring over all classes and
            levels (per level with ``level_sizes``, see :func:`top_candidates`), go into NMS.
        iou_thr: NMS IoU threshold, applied within each class.
        max_per_img: detections kept after NMS, highest score first.
        min_size: (width, height); candidates not larger in both are dropped before NMS.
        topk_per_class: only the best this many anchors of each class are candidates (torchvision's
            ``topk_candidates``); ``nms_pre`` then applies to those.
        max_per_class: NMS keeps at most this many of each class, best first (TF's ``max_size_per_class``).
        clip_to: (H, W): after NMS clip the boxes to the image and drop those without area, before
            ``max_per_img`` (TF's ``clip_window``).

    Returns:
        boxes (D, 4), scores (D,), labels (D,) int64 with D <= max_per_img.
    """
    anchor_index, labels, top_scores = top_candidates(scores, score_thr, nms_pre, level_sizes, topk_per_class)
    boxes = boxes[anchor_index]
    if min_size is not None:
        sizes = boxes[:, 2:] - boxes[:, :2]
        valid = (sizes > sizes.new_tensor(min_size)).all(dim=1)
        boxes, labels, top_scores = boxes[valid], labels[valid], top_scores[valid]
    keep = batched_nms(boxes, top_scores, labels, iou_thr)
    if max_per_class is not None:
        keep = keep[first_of_each_class(labels[keep], max_per_class)]
    boxes, top_scores, labels = boxes[keep], top_scores[keep], labels[keep]
    if clip_to is not None:
        boxes = clip_boxes_to_image(boxes, (int(clip_to[0]), int(clip_to[1])))
        kept = ((boxes[:, 2:] - boxes[:, :2]) > 0).all(dim=1)
        boxes, top_scores, labels = boxes[kept], top_scores[kept], labels[kept]
    return boxes[:max_per_img], top_scores[:max_per_img], labels[:max_per_img]


def first_of_each_class(labels: Tensor, count: int) -> Tensor:
    """Which of ``labels`` (D,), in order, are among the first ``count`` of their class: (D,) bool."""
    order = torch.argsort(labels, stable=True)
    sorted_labels = labels[order]
    starts = torch.searchsorted(sorted_labels, sorted_labels)  # where each label's run begins
    rank = torch.empty_like(order)
    rank[order] = torch.arange(len(labels), device=labels.device) - starts
    return rank < count


def min_size_in_input(
    min_bbox_size: float | None, img_shape: Sequence[int], ori_shape: Sequence[int]
) -> tuple[float, float] | None:
    """``min_bbox_size`` original-image pixels as (width, height) network-input pixels (shapes (H, W))."""
    if min_bbox_size is None:
        return None
    return min_bbox_size * img_shape[1] / ori_shape[1], min_bbox_size * img_shape[0] / ori_shape[0]


@torch.library.custom_op("visionkit::multiclass_nms_mask", mutates_args=())
def multiclass_nms_mask(
    boxes: Tensor,
    scores: Tensor,
    labels: Tensor,
    num_classes: int,
    iou_thr: float,
    score_thr: float,
    max_per_class: int = 0,
) -> Tensor:
    """Which candidates survive per-image, per-class NMS.

    Args:
        boxes: (N, S, 4) xyxy; scores: (N, S); labels: (N, S) int64 in 0..num_classes-1.
        iou_thr: a box is suppressed by a higher-scoring one of its class with IoU above this.
        score_thr: candidates at or below this never survive (must be >= 0).
        max_per_class: at most this many survive per image and class, best first (0: no limit; ONNX
            ``NonMaxSuppression``'s ``max_output_boxes_per_class``).

    Returns:
        keep (N, S) bool.
    """
    keep = torch.zeros(scores.shape, dtype=torch.bool, device=scores.device)
    for image, (image_boxes, image_scores, image_labels) in enumerate(
        zip(boxes, scores, labels, strict=True)
    ):
        candidates = torch.nonzero(image_scores > score_thr).squeeze(1)
        kept = batched_nms(
            image_boxes[candidates], image_scores[candidates], image_labels[candidates], iou_thr
        )
        if max_per_class > 0:
            kept = kept[first_of_each_class(image_labels[candidates[kept]], max_per_class)]
        keep[image, candidates[kept]] = True
    return keep


@multiclass_nms_mask.register_fake
def _(
    boxes: Tensor,
    scores: Tensor,
    labels: Tensor,
    num_classes: int,
    iou_thr: float,
    score_thr: float,
    max_per_class: int = 0,
):
    return scores.new_empty(scores.shape, dtype=torch.bool)


def padded_multiclass_nms(
    boxes: Tensor,
    scores: Tensor,
    score_thr: float,
    nms_pre: int,
    iou_thr: float,
    max_per_img: int,
    level_sizes: Sequence[int] | None = None,
    drop_empty: bool = False,
    topk_per_class: int | None = None,
    max_per_class: int | None = None,
    clip_to: Sequence[int] | None = None,
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """:func:`multiclass_nms` over a batch with fixed-shape outputs (what an exported graph returns).

    Args:
        boxes: (N, A, 4) xyxy; scores: (N, A, K) class probabilities without background.
        level_sizes: anchors of each level, for ``nms_pre`` per level (see :func:`top_candidates`).
        drop_empty: drop boxes without width or height (``min_size=(0, 0)`` of :func:`multiclass_nms`).
        topk_per_class, max_per_class, clip_to: as :func:`multiclass_nms`'s (``clip_to`` fixed (H, W)).

    Returns:
        boxes (N, D, 4), scores (N, D), labels (N, D) int64, num_detections (N,) int64 with
        D = min(max_per_img, candidates); rows past ``num_detections`` are zero (labels -1).
    """
    num_anchors, num_classes = scores.shape[1:]
    # Top nms_pre (anchor, class) pairs before NMS (per level with level_sizes), as multiclass_nms; pairs
    # at or below score_thr among them cannot suppress anything above it, so filtering inside the NMS op
    # gives the same result.
    top_scores, pairs, start = [], [], 0
    for size in level_sizes if level_sizes is not None else [num_anchors]:
        level = scores[:, start : start + size]
        if topk_per_class is not None:  # (N, k, K) best anchors of each class, as pairs anchor * K + class
            level, best_anchor = level.topk(min(topk_per_class, size), dim=1)
            level_pairs = best_anchor * num_classes + torch.arange(num_classes, device=scores.device)
            pairs_in_level = level.shape[1] * num_classes
            level_top, order = level.flatten(1).topk(min(nms_pre or pairs_in_level, pairs_in_level), dim=1)
            level_pairs = level_pairs.flatten(1).gather(1, order)
        else:
            pairs_in_level = size * num_classes
            level_top, level_pairs = level.flatten(1).topk(
                min(nms_pre or pairs_in_level, pairs_in_level), dim=1
            )
        top_scores.append(level_top)
        pairs.append(level_pairs + start * num_classes)
        start += size
    top_scores, pairs = torch.cat(top_scores, dim=1), torch.cat(pairs, dim=1)
    anchor_index, labels = pairs // num_classes, pairs % num_classes
    top_boxes = boxes.gather(1, anchor_index.unsqueeze(-1).expand(-1, -1, 4))
    if drop_empty:  # as scores the NMS op filters out
        sizes = top_boxes[..., 2:] - top_boxes[..., :2]
        top_scores = top_scores * (sizes > 0).all(dim=-1)
    keep = multiclass_nms_mask(
        top_boxes, top_scores, labels, num_classes, iou_thr, score_thr, max_per_class or 0
    )
    if clip_to is not None:  # TF's clip_window: after NMS, boxes left without area are dropped
        height, width = clip_to
        top_boxes = torch.minimum(
            top_boxes.clamp(min=0), top_boxes.new_tensor([width, height, width, height])
        )
        keep = keep & ((top_boxes[..., 2:] - top_boxes[..., :2]) > 0).all(dim=-1)
    kept_scores = torch.where(keep, top_scores, torch.full_like(top_scores, -1.0))
    out_scores, order = kept_scores.topk(min(max_per_img, kept_scores.shape[1]), dim=1)
    valid = out_scores >= 0
    out_boxes = top_boxes.gather(1, order.unsqueeze(-1).expand(-1, -1, 4)) * valid.unsqueeze(-1)
    out_labels = torch.where(valid, labels.gather(1, order), torch.full_like(order, -1))
    return out_boxes, out_scores * valid, out_labels, valid.sum(dim=1)


def rescale_boxes(boxes: Tensor, img_shape: Sequence[int], ori_shape: Sequence[int]) -> Tensor:
    """Boxes (D, 4) xyxy in network-input pixels of an image resized ``ori_shape`` -> ``img_shape``
    (both (H, W)) -> xyxy in original pixels, clipped to the original image."""
    scale_y, scale_x = ori_shape[0] / img_shape[0], ori_shape[1] / img_shape[1]
    boxes = boxes * boxes.new_tensor([scale_x, scale_y, scale_x, scale_y])
    limits = boxes.new_tensor([ori_shape[1], ori_shape[0], ori_shape[1], ori_shape[0]])
    return torch.minimum(boxes.clamp(min=0), limits)
