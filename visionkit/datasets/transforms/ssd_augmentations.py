"""SSD's geometric training augmentation (Liu et al. 2016, section 2.2) as albumentations transforms.

Both are ``albumentations.DualTransform`` s registered in ``TRANSFORMS``, so they go inside the
``Albumentations`` wrapper by name::

    dict(type='Albumentations', transforms=[
        dict(type='ZoomOut', fill=(123.675, 116.28, 103.53), max_ratio=4.0, p=0.5),
        dict(type='MinIoURandomCrop'),
        dict(type='Resize', height=320, width=320),
        dict(type='HorizontalFlip', p=0.5)])

Albumentations hands ``apply_to_bboxes`` boxes normalized to the current image, (N, 4 + k) xyxy with
the label fields as the last k columns, so dropping a row drops its labels too. Random draws use the
transform's own ``py_random`` so ``Compose(..., seed=...)`` makes them repeatable.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from ...registry import TRANSFORMS

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
from albumentations import DualTransform
from albumentations.core.type_definitions import Targets

# The SSD paper's crop options: "no crop" (None) or a crop whose IoU with some box reaches one of these.
SSD_MIN_IOUS = (0.1, 0.3, 0.5, 0.7, 0.9)


def _paste(array: np.ndarray, canvas_hw: tuple[int, int], left: int, top: int, fill: Any) -> np.ndarray:
    """``array`` (H, W[, C]) pasted at (left, top) on a (canvas_h, canvas_w[, C]) canvas of ``fill``."""
    height, width = array.shape[:2]
    canvas = np.empty((*canvas_hw, *array.shape[2:]), dtype=array.dtype)
    canvas[...] = np.asarray(fill, dtype=array.dtype)
    canvas[top : top + height, left : left + width] = array
    return canvas


def box_iou_with(boxes: np.ndarray, region: np.ndarray) -> np.ndarray:
    """IoU of (N, 4) xyxy boxes with one xyxy region, (N,)."""
    wh = (np.minimum(boxes[:, 2:], region[2:]) - np.maximum(boxes[:, :2], region[:2])).clip(min=0)
    inter = wh[:, 0] * wh[:, 1]
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    region_area = (region[2] - region[0]) * (region[3] - region[1])
    return inter / np.maximum(area + region_area - inter, 1e-9)


@TRANSFORMS.register_module()
class ZoomOut(DualTransform):
    """Place the image at a random spot of a canvas ``ratio`` times larger, filled with the mean colour.

    SSD's "zoom out" (mmdet ``Expand``, torchvision ``RandomZoomOut``): makes objects smaller, for the
    small-object recall of the low-resolution feature maps. ``ratio`` ~ U(min_ratio, max_ratio).

    Args:
        fill: canvas colour, one value per channel in image units; pass the data preprocessor's
            mean so the canvas normalizes to zero.
        fill_mask: canvas value for masks (e.g. 255 for ignore in segmentation maps).
        min_ratio, max_ratio: canvas side / image side.
        p: probability of zooming out.
    """

    _targets = (Targets.IMAGE, Targets.MASK, Targets.BBOXES)

    def __init__(
        self,
        fill: Sequence[float] | float = (123.675, 116.28, 103.53),
        fill_mask: float = 0,
        min_ratio: float = 1.0,
        max_ratio: float = 4.0,
        p: float = 0.5,
    ) -> None:
        super().__init__(p=p)
        if not 1.0 <= min_ratio <= max_ratio:
            raise ValueError(f"ZoomOut needs 1 <= min_ratio <= max_ratio, got {min_ratio}, {max_ratio}")
        self.fill, self.fill_mask = fill, fill_mask
        self.min_ratio, self.max_ratio = min_ratio, max_ratio

    def get_params_dependent_on_data(self, params: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        height, width = params["shape"][:2]
        ratio = self.py_random.uniform(self.min_ratio, self.max_ratio)
        canvas_hw = (int(height * ratio), int(width * ratio))
        left = int(self.py_random.uniform(0, canvas_hw[1] - width))
        top = int(self.py_random.uniform(0, canvas_hw[0] - height))
        return {"canvas_hw": canvas_hw, "left": left, "top": top}

    def apply(self, img: np.ndarray, canvas_hw: tuple[int, int], left: int, top: int, **params) -> np.ndarray:
        return _paste(img, canvas_hw, left, top, self.fill)

    def apply_to_mask(
        self, mask: np.ndarray, canvas_hw: tuple[int, int], left: int, top: int, **params
    ) -> np.ndarray:
        return _paste(mask, canvas_hw, left, top, self.fill_mask)

    def apply_to_bboxes(
        self, bboxes: np.ndarray, canvas_hw: tuple[int, int], left: int, top: int, **params
    ) -> np.ndarray:
        height, width = params["shape"][:2]
        out = bboxes.copy()
        out[:, [0, 2]] = (bboxes[:, [0, 2]] * width + left) / canvas_hw[1]
        out[:, [1, 3]] = (bboxes[:, [1, 3]] * height + top) / canvas_hw[0]
        return out


@TRANSFORMS.register_module()
class MinIoURandomCrop(DualTransform):
    """SSD's random crop: a patch whose IoU with at least one box reaches a randomly chosen threshold.

    Per call one option is drawn uniformly from "no crop" and ``min_ious``; for a threshold, up to
    ``max_trials`` patches are drawn (sides ``min_scale``..1 of the image's, aspect ``h/w`` within
    ``aspect_range``) until one contains at least one box centre and overlaps one such box by at least
    the threshold; if none does, another option is drawn. Boxes whose centre lies outside the patch are
    dropped with their labels; the rest are clipped to it. As in the SSD paper and torchvision's
    ``RandomIoUCrop`` the IoU test needs one box (mmdet's ``MinIoURandomCrop`` asks it of all boxes).
    An image without boxes is left as it is.

    Args:
        min_ious: IoU thresholds, besides the always present "no crop" option.
        min_scale: smallest patch side as a fraction of the image side.
        aspect_range: (min, max) of patch height / width.
        max_trials: patches tried per drawn threshold.
    """

    _targets = (Targets.IMAGE, Targets.MASK, Targets.BBOXES)

    def __init__(
        self,
        min_ious: Sequence[float] = SSD_MIN_IOUS,
        min_scale: float = 0.3,
        aspect_range: tuple[float, float] = (0.5, 2.0),
        max_trials: int = 50,
        p: float = 1.0,
    ) -> None:
        super().__init__(p=p)
        if not 0 < min_scale <= 1:
            raise ValueError(f"MinIoURandomCrop needs 0 < min_scale <= 1, got {min_scale}")
        self.min_ious = tuple(min_ious)
        self.min_scale = min_scale
        self.aspect_range = tuple(aspect_range)
        self.max_trials = max_trials

    def get_params_dependent_on_data(self, params: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        height, width = params["shape"][:2]
        bboxes = np.asarray(data.get("bboxes", np.zeros((0, 4))))
        no_crop = {"crop": (0, 0, width, height), "keep": np.ones(len(bboxes), dtype=bool)}
        if len(bboxes) == 0:
            return no_crop
        boxes = bboxes[:, :4] * np.array([width, height, width, height], dtype=np.float64)
        centres = (boxes[:, :2] + boxes[:, 2:]) / 2
        options = (None, *self.min_ious)
        while True:
            min_iou = options[self.py_random.randrange(len(options))]
            if min_iou is None:
                return no_crop
            for _ in range(self.max_trials):
                crop = self._sample_patch(height, width)
                if crop is None:
                    continue
                keep = np.all((centres > crop[:2]) & (centres < crop[2:]), axis=1)
                if keep.any() and box_iou_with(boxes[keep], np.array(crop)).max() >= min_iou:
                    return {"crop": crop, "keep": keep}

    def _sample_patch(self, height: int, width: int) -> tuple[int, int, int, int] | None:
        """A random (x0, y0, x1, y1) integer patch, or None if its shape is out of range."""
        new_w = self.py_random.uniform(self.min_scale * width, width)
        new_h = self.py_random.uniform(self.min_scale * height, height)
        if not self.aspect_range[0] <= new_h / new_w <= self.aspect_range[1]:
            return None
        left = int(self.py_random.uniform(0, width - new_w))
        top = int(self.py_random.uniform(0, height - new_h))
        right, bottom = min(int(left + new_w), width), min(int(top + new_h), height)
        if right <= left or bottom <= top:
            return None
        return left, top, right, bottom

    def apply(self, img: np.ndarray, crop: tuple[int, int, int, int], **params) -> np.ndarray:
        x0, y0, x1, y1 = crop
        return img[y0:y1, x0:x1]

    def apply_to_mask(self, mask: np.ndarray, crop: tuple[int, int, int, int], **params) -> np.ndarray:
        x0, y0, x1, y1 = crop
        return mask[y0:y1, x0:x1]

    def apply_to_bboxes(
        self, bboxes: np.ndarray, crop: tuple[int, int, int, int], keep: np.ndarray, **params
    ) -> np.ndarray:
        height, width = params["shape"][:2]
        x0, y0, x1, y1 = crop
        out = bboxes[keep].copy()
        out[:, [0, 2]] = (out[:, [0, 2]] * width - x0) / (x1 - x0)
        out[:, [1, 3]] = (out[:, [1, 3]] * height - y0) / (y1 - y0)
        out[:, :4] = out[:, :4].clip(0, 1)
        return out
