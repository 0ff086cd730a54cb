"""ONNX translation of :func:`visionkit.models.box_ops.nms.multiclass_nms_mask`: ``NonMaxSuppression``.

The op is per-image, per-class NMS over a batch; ONNX's ``NonMaxSuppression`` has batch and class axes, so
it maps onto it exactly and keeps a fixed-shape output.
"""

from __future__ import annotations

import torch

from ..models.box_ops import nms  # noqa: F401  (registers torch.ops.visionkit.multiclass_nms_mask)


def multiclass_nms_mask_onnx(
    boxes, scores, labels, num_classes: int, iou_thr: float, score_thr: float, max_per_class: int = 0
):
    """ONNX translation: class-separated scores (N, K, S), ``NonMaxSuppression``, scatter into (N, S)."""
    from onnxscript import opset18 as op  # the optional deploy extra; only export needs it

    classes = op.Reshape(op.Range(0, num_classes, 1), [1, -1, 1])
    in_class = op.Equal(op.Unsqueeze(labels, [1]), op.CastLike(classes, labels))
    class_scores = op.Where(in_class, op.Unsqueeze(scores, [1]), op.CastLike(-1.0, scores))
    limit = op.Constant(value_ints=[max_per_class]) if max_per_class > 0 else op.Shape(scores, start=1, end=2)
    selected = op.NonMaxSuppression(
        boxes,
        class_scores,
        limit,
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
