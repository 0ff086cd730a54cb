"""Per-class NMS over a batch as one operator: torchvision's in PyTorch, ONNX ``NonMaxSuppression`` in graphs.

``torchvision::nms`` exports as ONNX NMS for one image and one class; separating images and classes with
coordinate offsets (what ``batched_nms`` does) loses float precision as batch x classes grows. ONNX's own
operator has batch and class axes, so this custom op maps onto it exactly and keeps a fixed-shape output.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torchvision.ops import batched_nms


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


def multiclass_nms_mask_onnx(boxes, scores, labels, num_classes: int, iou_thr: float, score_thr: float):
    """ONNX translation: class-separated scores (N, K, S), ``NonMaxSuppression``, scatter into (N, S)."""
    from onnxscript import opset18 as op  # the optional deploy extra; only export needs it

    classes = op.Reshape(op.Range(0, num_classes, 1), [1, -1, 1])
    in_class = op.Equal(op.Unsqueeze(labels, [1]), op.CastLike(classes, labels))
    class_scores = op.Where(in_class, op.Unsqueeze(scores, [1]), op.CastLike(-1.0, scores))
    max_per_class = op.Shape(scores, start=1, end=2)
    selected = op.NonMaxSuppression(
        boxes,
        class_scores,
        max_per_class,
        op.Constant(value_float=iou_thr),
        op.Constant(value_float=score_thr),
    )
    # selected: (M, 3) rows (image, class, candidate); mark (image, candidate). Cast to: 7 int64, 9 bool.
    batch_box = op.Gather(selected, [0, 2], axis=1)
    ones = op.Expand(op.Constant(value_int=1), op.Shape(selected, start=0, end=1))
    keep = op.ScatterND(op.Expand(op.Constant(value_int=0), op.Shape(scores)), batch_box, op.Cast(ones, to=7))
    return op.Cast(keep, to=9)


# The translation table to pass to torch.onnx.export(custom_translation_table=...).
ONNX_TRANSLATIONS = {torch.ops.visionkit.multiclass_nms_mask.default: multiclass_nms_mask_onnx}
