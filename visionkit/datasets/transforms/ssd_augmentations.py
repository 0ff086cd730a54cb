"""SSD's geometric training augmentation (Liu et al. 2016, section 2.2) as albumentations transforms.

``ZoomOut`` (mmdetection's ``Expand``), ``MinIoURandomCrop`` (mmdetection's, every box above the IoU) and
``RandomIoUCrop`` (torchvision's, one box above it) are ``albumentations.DualTransform`` s registered in
``TRANSFORMS``, so they go inside the ``Albumentations`` wrapper by name::

    dict(type='Albumentations', transforms=[
        dict(type='ZoomOut', fill=(123.675, 116.28, 103.53), max_ratio=4.0, p=0.5),
        dict(type='MinIoURandomCrop'),
        dict(type='Resize', height=320, width=320),
        dict(type='HorizontalFlip', p=0.5)])

Albumentations hands ``apply_to_bboxes`` boxes normalized to the current image, (N, 4 + k) xyxy with
the label fields as the last k columns, so dropping a row drops its labels too. Random draws use the
transform's own generators (``py_random``, ``random_generator``), so ``Compose(..., seed=...)`` makes them
repeatable.
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

# mmdetection's MinIoURandomCrop options besides "no crop" and "no IoU limit" (the SSD paper's five).
SSD_MIN_IOUS = (0.1, 0.3, 0.5, 0.7, 0.9)
# torchvision's RandomIoUCrop options: 0.0 = no IoU limit, 1.0 = no crop ("leave as is").
TORCHVISION_IOU_OPTIONS = (0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0)


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


def centres_inside(boxes: np.ndarray, patch: np.ndarray) -> np.ndarray:
    """(N,) whether each (N, 4) xyxy box's centre lies strictly inside the xyxy ``patch``."""
    centres = (boxes[:, :2] + boxes[:, 2:]) / 2
    return np.all((centres > patch[:2]) & (centres < patch[2:]), axis=1)


def accepted_boxes(boxes: np.ndarray, patch: np.ndarray, min_iou: float, rule: str) -> np.ndarray | None:
    """Which boxes a candidate crop keeps, or None when the crop is rejected.

    - ``rule="all"`` (mmdetection's ``MinIoURandomCrop``): every box must have IoU >= ``min_iou`` with the
      patch, and at least one box centre must lie inside it; an image without boxes accepts any patch.
    - ``rule="any"`` (the SSD paper, torchvision's ``RandomIoUCrop``): among the boxes whose centre lies
      inside, the best IoU must reach ``min_iou``; without such a box the patch is rejected.

    The kept boxes are those with their centre inside, in both rules.

    Args:
        boxes: (N, 4) xyxy pixels.
        patch: (4,) xyxy pixels.
    """
    inside = centres_inside(boxes, patch)
    if rule == "all":
        if len(boxes) == 0:
            return inside
        if box_iou_with(boxes, patch).min() < min_iou or not inside.any():
            return None
        return inside
    if rule == "any":
        if not inside.any() or box_iou_with(boxes[inside], patch).max() < min_iou:
            return None
        return inside
    raise ValueError(f"rule must be 'all' or 'any', got {rule!r}")


class PatchCrop(DualTransform):
    """Applies a chosen ``crop`` (x0, y0, x1, y1) and keeps the boxes in ``keep`` (clipped to the crop)."""

    _targets = (Targets.IMAGE, Targets.MASK, Targets.BBOXES)

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


def boxes_in_pixels(data: dict[str, Any], height: int, width: int) -> np.ndarray:
    """The current boxes in pixels; rounded to 1e-4 px so that normalising and back (albumentations keeps
    boxes normalised) does not move a centre that lies on a patch border across it."""
    bboxes = np.asarray(data.get("bboxes", np.zeros((0, 4))))
    return np.round(bboxes[:, :4] * np.array([width, height, width, height], dtype=np.float64), 4)


@TRANSFORMS.register_module()
class MinIoURandomCrop(PatchCrop):
    """mmdetection's ``MinIoURandomCrop``: a random patch whose IoU with **every** box reaches a drawn
    threshold.

    Per call one mode is drawn uniformly from "no crop", each of ``min_ious`` and 0 (a crop with no IoU
    limit). For a threshold, up to 50 patches are drawn: sides ``uniform(min_scale * side, side)``, height /
    width in [0.5, 2], corner as mmdetection computes it (``numpy.random.uniform(w - new_w)``, i.e. between
    ``w - new_w`` and 1: a quirk kept so the crops are mmdetection's), integer corners; a patch is taken when
    :func:`accepted_boxes` with ``rule="all"`` accepts it; after 50 failures another mode is drawn. Boxes
    whose centre lies outside the patch are dropped with their labels, the rest clipped to it. An image
    without boxes is cropped too (any patch passes), as in mmdetection.

    Args:
        min_ious: IoU thresholds besides "no crop" and 0.
        min_scale: smallest patch side as a fraction of the image side (mmdetection's ``min_crop_size``).
        max_trials: patches tried per drawn mode (mmdetection: 50).
    """

    def __init__(
        self,
        min_ious: Sequence[float] = SSD_MIN_IOUS,
        min_scale: float = 0.3,
        max_trials: int = 50,
        p: float = 1.0,
    ) -> None:
        super().__init__(p=p)
        if not 0 < min_scale <= 1:
            raise ValueError(f"MinIoURandomCrop needs 0 < min_scale <= 1, got {min_scale}")
        self.min_ious, self.min_scale, self.max_trials = tuple(min_ious), min_scale, max_trials
        self.modes = (1.0, *self.min_ious, 0.0)  # mmdetection's sample_mode: 1 = no crop

    def get_params_dependent_on_data(self, params: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        height, width = params["shape"][:2]
        boxes = boxes_in_pixels(data, height, width)
        rng = self.random_generator
        while True:
            mode = self.modes[int(rng.integers(len(self.modes)))]
            if mode == 1.0:
                return {"crop": (0, 0, width, height), "keep": np.ones(len(boxes), dtype=bool)}
            for _ in range(self.max_trials):
                new_w = rng.uniform(self.min_scale * width, width)
                new_h = rng.uniform(self.min_scale * height, height)
                if not 0.5 <= new_h / new_w <= 2:
                    continue
                # numpy's legacy uniform(low) with high=1: low + (1 - low) * U, mmdetection's offsets.
                left = (width - new_w) + (1.0 - (width - new_w)) * rng.random()
                top = (height - new_h) + (1.0 - (height - new_h)) * rng.random()
                patch = np.array([int(left), int(top), int(left + new_w), int(top + new_h)])
                if patch[2] == patch[0] or patch[3] == patch[1]:
                    continue
                keep = accepted_boxes(boxes, patch.astype(np.float64), mode, "all")
                if keep is not None:
                    return {"crop": tuple(int(v) for v in patch), "keep": keep}


@TRANSFORMS.register_module()
class RandomIoUCrop(PatchCrop):
    """torchvision's ``RandomIoUCrop`` (its SSD and SSDlite training presets): a random patch in which some
    box with its centre inside overlaps the patch by a drawn IoU.

    Per call one option is drawn from ``options`` (1.0 or more = leave the image as it is, 0.0 = no IoU
    limit); up to ``trials`` patches are drawn: ``new_w = int(w * uniform(min_scale, max_scale))`` (height
    alike), width / height within ``aspect_range``, corner ``int((w - new_w) * uniform(0, 1))``; one is
    taken when :func:`accepted_boxes` with ``rule="any"`` accepts it, otherwise another option is drawn.
    Kept boxes are those whose centre lies inside, clipped. An image without boxes is left as it is
    (torchvision's would draw options until "leave as is").

    Args:
        min_scale, max_scale: patch side as a fraction of the image side.
        aspect_range: (min, max) of patch width / height.
        options: IoU thresholds (torchvision's ``sampler_options``).
        trials: patches tried per drawn option (torchvision: 40).
    """

    def __init__(
        self,
        min_scale: float = 0.3,
        max_scale: float = 1.0,
        aspect_range: tuple[float, float] = (0.5, 2.0),
        options: Sequence[float] = TORCHVISION_IOU_OPTIONS,
        trials: int = 40,
        p: float = 1.0,
    ) -> None:
        super().__init__(p=p)
        if not 0 < min_scale <= max_scale <= 1:
            raise ValueError(
                f"RandomIoUCrop needs 0 < min_scale <= max_scale <= 1, got {min_scale}, {max_scale}"
            )
        self.min_scale, self.max_scale = min_scale, max_scale
        self.aspect_range, self.options, self.trials = tuple(aspect_range), tuple(options), trials

    def get_params_dependent_on_data(self, params: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        height, width = params["shape"][:2]
        boxes = boxes_in_pixels(data, height, width)
        no_crop = {"crop": (0, 0, width, height), "keep": np.ones(len(boxes), dtype=bool)}
        if len(boxes) == 0:
            return no_crop
        rng = self.random_generator
        while True:
            min_iou = self.options[int(rng.integers(len(self.options)))]
            if min_iou >= 1.0:
                return no_crop
            for _ in range(self.trials):
                scale = self.min_scale + (self.max_scale - self.min_scale) * rng.random(2)
                new_w, new_h = int(width * scale[0]), int(height * scale[1])
                if (
                    new_w == 0
                    or new_h == 0
                    or not self.aspect_range[0] <= new_w / new_h <= self.aspect_range[1]
                ):
                    continue
                offset = rng.random(2)
                left, top = int((width - new_w) * offset[0]), int((height - new_h) * offset[1])
                patch = (left, top, left + new_w, top + new_h)
                keep = accepted_boxes(boxes, np.array(patch, dtype=np.float64), min_iou, "any")
                if keep is not None:
                    return {"crop": patch, "keep": keep}
