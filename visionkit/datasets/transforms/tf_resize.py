"""TensorFlow 1's bilinear resize (``tf.image.resize_bilinear`` / ``resize_images``), the resize of TF-slim's,
TF object detection's and TF DeepLab's published models: in float, without half-pixel centres.

TF 1 maps output pixel ``i`` to input position ``i * in / out`` (``align_corners=True``: ``i * (in - 1) /
(out - 1)``), where OpenCV and ``torch`` (``align_corners=False``) use ``(i + 0.5) * in / out - 0.5``: the
two sample positions up to half an input pixel apart, a shift a network trained on one notices. TF also
keeps the result in float, where a resize in ``uint8`` rounds it. :func:`tf_resize_bilinear` follows TF's
kernel (``resize_bilinear_op.cc``) step for step in float32.
"""

from __future__ import annotations

import os
from typing import Any

import cv2
import numpy as np

from ...registry import TRANSFORMS

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
from albumentations import DualTransform
from albumentations.core.type_definitions import Targets


def _weights(size_in: int, size_out: int, align_corners: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per output index: lower and upper input index and the upper one's weight (float32), as TF's."""
    scale = (
        np.float32(size_in - 1) / np.float32(size_out - 1)
        if align_corners and size_out > 1
        else np.float32(size_in) / np.float32(size_out)
    )
    position = np.arange(size_out, dtype=np.float32) * scale
    lower = np.floor(position)
    upper = np.minimum(np.ceil(position), size_in - 1).astype(np.int64)
    return np.maximum(lower, 0).astype(np.int64), upper, (position - lower).astype(np.float32)


def tf_resize_bilinear(image: np.ndarray, size: tuple[int, int], align_corners: bool = False) -> np.ndarray:
    """``image`` (H, W[, C]) resized to ``size`` (height, width) as TF 1 does: float32, same value range."""
    image = image.astype(np.float32, copy=False)
    y0, y1, wy = _weights(image.shape[0], size[0], align_corners)
    x0, x1, wx = _weights(image.shape[1], size[1], align_corners)
    extra = (None,) * (image.ndim - 2)
    wx, wy = wx[(None, slice(None), *extra)], wy[(slice(None), None, *extra)]
    rows_top, rows_bottom = image[y0], image[y1]
    top = rows_top[:, x0] + (rows_top[:, x1] - rows_top[:, x0]) * wx
    bottom = rows_bottom[:, x0] + (rows_bottom[:, x1] - rows_bottom[:, x0]) * wx
    return top + (bottom - top) * wy


@TRANSFORMS.register_module()
class TFResize(DualTransform):
    """Resize to ``height`` x ``width`` as TF 1's ``resize_bilinear`` (float32 out, no half-pixel centres):
    TF-slim's evaluation resize after the central crop, TF object detection's ``fixed_shape_resizer``.
    Masks nearest-neighbour (OpenCV), boxes scaled with the image."""

    _targets = (Targets.IMAGE, Targets.MASK, Targets.BBOXES)

    def __init__(self, height: int, width: int, align_corners: bool = False, p: float = 1.0) -> None:
        super().__init__(p=p)
        self.height, self.width, self.align_corners = height, width, align_corners

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        return tf_resize_bilinear(img, (self.height, self.width), self.align_corners)

    def apply_to_mask(self, mask: np.ndarray, **params: Any) -> np.ndarray:
        return cv2.resize(mask, (self.width, self.height), interpolation=cv2.INTER_NEAREST)

    def apply_to_bboxes(self, bboxes: np.ndarray, **params: Any) -> np.ndarray:
        return bboxes  # albumentations keeps boxes normalised: a resize leaves them as they are

    def get_transform_init_args_names(self) -> tuple[str, ...]:
        return ("height", "width", "align_corners")
