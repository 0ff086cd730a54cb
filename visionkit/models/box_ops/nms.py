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
from torchvision.ops import batched_nms


def multiclass_nms(
    boxes: Tensor, scores: Tensor, score_thr: float, nms_pre: int, iou_thr: float, max_per_img: int
) -> tuple[Tensor, Tensor, Tensor]:
    """Per-class NMS of one image's decoded anchors.

    Args:
        boxes: (A, 4) xyxy; scores: (A, K) class probabilities without background.
        score_thr: (anchor, class) pairs at or below it are dropped.
        nms_pre: at most this many (anchor, class) pairs, the highest scoring over all classes and
            levels, go into NMS.
        iou_thr: NMS IoU threshold, applied within each class.
        max_per_img: detections kept after NMS, highest score first.

    Returns:
        boxes (D, 4), scores (D,), labels (D,) int64 with D <= max_per_img.
    """
    num_classes = scores.shape[1]
    scores = scores.flatten()
    candidates = torch.nonzero(scores > score_thr).squeeze(1)
    top_scores, order = scores[candidates].topk(min(nms_pre, len(candidates)))
    candidates = candidates[order]
    anchor_index, labels = candidates // num_classes, candidates % num_classes
    keep = batched_nms(boxes[anchor_index], top_scores, labels, iou_thr)[:max_per_img]
    return boxes[anchor_index[keep]], top_scores[keep], labels[keep]


@torch.library.custom_op("visionkit::multiclass_nms_mask", mutates_args=())
def multiclass_nms_mask(
    boxes: Tensor, scores: Tensor, labels: Tensor, num_classes: int, iou_thr: float, score_thr: float
) -> Tensor:
    """Which candidates survive per-image, per-class NMS.

    Args:
        boxes: (N, S, 4) xyxy; scores: (N, S); labels: (N, S) int64 in 0..num_classes-1.
        iou_thr: a box is suppressed by a higher-scoring one of its class with IoU above this.
        score_thr: candidates at or below this never survive (must be >= 0).

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
        keep[image, candidates[kept]] = True
    return keep


@multiclass_nms_mask.register_fake
def _(boxes: Tensor, scores: Tensor, labels: Tensor, num_classes: int, iou_thr: float, score_thr: float):
    return scores.new_empty(scores.shape, dtype=torch.bool)


def padded_multiclass_nms(
    boxes: Tensor, scores: Tensor, score_thr: float, nms_pre: int, iou_thr: float, max_per_img: int
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """:func:`multiclass_nms` over a batch with fixed-shape outputs (what an exported graph returns).

    Args:
        boxes: (N, A, 4) xyxy; scores: (N, A, K) class probabilities without background.

    Returns:
        boxes (N, D, 4), scores (N, D), labels (N, D) int64, num_detections (N,) int64 with
        D = min(max_per_img, nms_pre, A * K); rows past ``num_detections`` are zero (labels -1).
    """
    num_anchors, num_classes = scores.shape[1:]
    # Top nms_pre (anchor, class) pairs before NMS, as multiclass_nms; pairs at or below score_thr
    # among them cannot suppress anything above it, so filtering inside the NMS op gives the same result.
    top_scores, pairs = scores.flatten(1).topk(min(nms_pre, num_anchors * num_classes), dim=1)
    anchor_index, labels = pairs // num_classes, pairs % num_classes
    top_boxes = boxes.gather(1, anchor_index.unsqueeze(-1).expand(-1, -1, 4))
    keep = multiclass_nms_mask(top_boxes, top_scores, labels, num_classes, iou_thr, score_thr)
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
