"""Center-size box coding of SSD (Liu et al. 2016, eq. 2), the form TF, torchvision and mmdet share.

A box is encoded against its anchor as ``((x - xa) / wa, (y - ya) / ha, log(w / wa), log(h / ha))``
divided by ``stds``. TF's coder multiplies by ``scales`` (10, 10, 5, 5) instead: the same thing with
``stds = 1 / scales`` = (0.1, 0.1, 0.2, 0.2).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor

# Largest width / height delta decode accepts (torchvision's bound): exp() of more overflows to huge boxes.
MAX_LOG_RATIO = math.log(1000.0 / 16)


def _center_size(boxes: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    widths = boxes[..., 2] - boxes[..., 0]
    heights = boxes[..., 3] - boxes[..., 1]
    return boxes[..., 0] + 0.5 * widths, boxes[..., 1] + 0.5 * heights, widths, heights


def encode_boxes(boxes: Tensor, anchors: Tensor, stds: Sequence[float] = (0.1, 0.1, 0.2, 0.2)) -> Tensor:
    """boxes, anchors: (..., 4) xyxy pixels, broadcastable -> deltas (..., 4) ``(dx, dy, dw, dh) / stds``."""
    x, y, w, h = _center_size(boxes)
    xa, ya, wa, ha = _center_size(anchors)
    deltas = torch.stack([(x - xa) / wa, (y - ya) / ha, torch.log(w / wa), torch.log(h / ha)], dim=-1)
    return deltas / deltas.new_tensor(stds)


def decode_boxes(
    deltas: Tensor,
    anchors: Tensor,
    stds: Sequence[float] = (0.1, 0.1, 0.2, 0.2),
    max_log_ratio: float = MAX_LOG_RATIO,
    clamp_shrink: bool = False,
) -> Tensor:
    """Inverse of :func:`encode_boxes`: deltas (..., 4), anchors (..., 4) xyxy -> boxes (..., 4) xyxy.

    ``dw`` and ``dh`` are clamped to ``max_log_ratio`` first, so no box grows beyond 1000/16 x its anchor
    (torchvision); ``clamp_shrink`` also clamps them to ``-max_log_ratio``, so none shrinks below 16/1000
    of it (mmdetection's ``delta2bbox``).
    """
    deltas = deltas * deltas.new_tensor(stds)
    xa, ya, wa, ha = _center_size(anchors)
    x = xa + deltas[..., 0] * wa
    y = ya + deltas[..., 1] * ha
    min_log_ratio = -max_log_ratio if clamp_shrink else None
    w = wa * torch.exp(deltas[..., 2].clamp(min=min_log_ratio, max=max_log_ratio))
    h = ha * torch.exp(deltas[..., 3].clamp(min=min_log_ratio, max=max_log_ratio))
    return torch.stack([x - 0.5 * w, y - 0.5 * h, x + 0.5 * w, y + 0.5 * h], dim=-1)
