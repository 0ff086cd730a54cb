"""TensorFlow's random crops: ``tf.image.sample_distorted_bounding_box`` and the two recipes built on it.

- :class:`DistortedBoundingBoxCrop`: TF-slim's ``inception_preprocessing.distorted_bounding_box_crop`` (the
  ImageNet crop of the MobileNetV2 run: area 5-100%, aspect 3/4-4/3, at least 10% of the image, 100 tries).
- :class:`SSDRandomCrop`: the TF object detection API's ``ssd_random_crop`` (the paper's SSDLite crop: seven
  "object covered" options, 15% of the time no crop, boxes kept by the fraction of them inside).
- :class:`CentralCrop`: ``tf.image.central_crop`` (TF-slim's evaluation: the central 87.5% of each side).

The sampler is a transcription of TF's C++ kernel (``sample_distorted_bounding_box_op.cc``): an aspect
ratio uniform in its range, a height uniform over the integers that give an area in range (``lrintf``
rounding), corners uniform over ``[0, size - crop)`` (TF's ``Uniform(n)`` never reaches ``n``), and the
whole image after ``max_attempts`` failures.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ...registry import TRANSFORMS
from .ssd_augmentations import PatchCrop, boxes_in_pixels

# ssd_random_crop's defaults (research/object_detection/core/preprocessor.py).
SSD_MIN_OBJECT_COVERED = (0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0)


def _round(value: float) -> int:
    """C's ``lrintf``: round half to even, as TF's kernel rounds."""
    return int(np.rint(np.float32(value)))


def random_crop_size(
    width: int, height: int, area_range: tuple[float, float], aspect_ratio: float, rng: np.random.Generator
) -> tuple[int, int] | None:
    """TF's ``GenerateRandomCrop`` without the corner: (crop width, crop height), or None when no integer
    crop of this ``aspect_ratio`` (width / height) has an area fraction within ``area_range``."""
    min_area = area_range[0] * width * height
    max_area = area_range[1] * width * height
    crop_h = _round(math.sqrt(min_area / aspect_ratio))
    max_h = _round(math.sqrt(max_area / aspect_ratio))
    if _round(max_h * aspect_ratio) > width:
        max_h = int((width + 0.5 - 1e-7) / aspect_ratio)
        if _round(max_h * aspect_ratio) > width:
            max_h -= 1
    max_h = min(max_h, height)
    crop_h = min(crop_h, max_h)
    if crop_h < max_h:
        crop_h += int(rng.integers(max_h - crop_h + 1))
    crop_w = _round(crop_h * aspect_ratio)
    area = crop_w * crop_h
    if area < min_area:  # TF's retries against rounding: one row more, then one less
        crop_h += 1
        crop_w = _round(crop_h * aspect_ratio)
        area = crop_w * crop_h
    if area > max_area:
        crop_h -= 1
        crop_w = _round(crop_h * aspect_ratio)
        area = crop_w * crop_h
    if not (min_area <= area <= max_area and 0 < crop_w <= width and 0 < crop_h <= height):
        return None
    return crop_w, crop_h


def covers_an_object(crop: np.ndarray, boxes: np.ndarray, min_object_covered: float) -> bool:
    """TF's ``SatisfiesOverlapConstraints``: the crop (xyxy, integer pixels) covers at least
    ``min_object_covered`` of the area of one of the (N, 4) integer xyxy ``boxes`` (boxes under 1 px^2 and
    crops under 1 px^2 never count)."""
    if (crop[2] - crop[0]) * (crop[3] - crop[1]) < 1:
        return False
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    wh = (np.minimum(boxes[:, 2:], crop[2:]) - np.maximum(boxes[:, :2], crop[:2])).clip(min=0)
    covered = wh[:, 0] * wh[:, 1] / np.maximum(areas, 1)
    return bool(np.any((areas >= 1) & (covered >= min_object_covered)))


def sample_distorted_bounding_box(
    width: int,
    height: int,
    boxes: np.ndarray,
    min_object_covered: float,
    aspect_ratio_range: tuple[float, float],
    area_range: tuple[float, float],
    max_attempts: int,
    rng: np.random.Generator,
) -> tuple[int, int, int, int]:
    """``tf.image.sample_distorted_bounding_box`` for one image: an integer xyxy crop.

    Args:
        boxes: (N, 4) xyxy pixels, truncated to integers as TF truncates ``box * size``; with none, the
            whole image is the box (``use_image_if_no_bounding_boxes=True``).
    """
    int_boxes = np.floor(np.asarray(boxes, dtype=np.float64).reshape(-1, 4)).astype(np.int64)
    if len(int_boxes) == 0:
        int_boxes = np.array([[0, 0, width, height]])
    for _ in range(max_attempts):
        aspect = aspect_ratio_range[0] + rng.random() * (aspect_ratio_range[1] - aspect_ratio_range[0])
        size = random_crop_size(width, height, area_range, aspect, rng)
        if size is None:
            continue
        crop_w, crop_h = size
        y0 = int(rng.integers(height - crop_h)) if crop_h < height else 0
        x0 = int(rng.integers(width - crop_w)) if crop_w < width else 0
        crop = np.array([x0, y0, x0 + crop_w, y0 + crop_h])
        if covers_an_object(crop, int_boxes, min_object_covered):
            return x0, y0, x0 + crop_w, y0 + crop_h
    return 0, 0, width, height


@TRANSFORMS.register_module()
class DistortedBoundingBoxCrop(PatchCrop):
    """TF-slim's Inception crop (``distorted_bounding_box_crop`` with the whole image as the box); follow it
    with a resize to the network's input (TF-slim: bilinear, 224x224 for MobileNetV2).

    Args:
        min_object_covered: the crop must hold at least this fraction of the image (TF-slim 0.1).
        aspect_ratio_range: crop width / height (TF-slim (0.75, 1.33)).
        area_range: crop area as a fraction of the image (TF-slim (0.05, 1.0)).
        max_attempts: tries before the whole image is taken (TF-slim 100).
    """

    def __init__(
        self,
        min_object_covered: float = 0.1,
        aspect_ratio_range: tuple[float, float] = (0.75, 1.33),
        area_range: tuple[float, float] = (0.05, 1.0),
        max_attempts: int = 100,
        p: float = 1.0,
    ) -> None:
        super().__init__(p=p)
        if not 0 < area_range[0] <= area_range[1] <= 1:
            raise ValueError(f"DistortedBoundingBoxCrop needs 0 < area_range <= 1, got {area_range}")
        self.min_object_covered = min_object_covered
        self.aspect_ratio_range, self.area_range = tuple(aspect_ratio_range), tuple(area_range)
        self.max_attempts = max_attempts

    def get_params_dependent_on_data(self, params: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        height, width = params["shape"][:2]
        crop = sample_distorted_bounding_box(
            width,
            height,
            np.zeros((0, 4)),
            self.min_object_covered,
            self.aspect_ratio_range,
            self.area_range,
            self.max_attempts,
            self.random_generator,
        )
        boxes = boxes_in_pixels(data, height, width)
        return {"crop": crop, "keep": np.ones(len(boxes), dtype=bool)}


@TRANSFORMS.register_module()
class SSDRandomCrop(PatchCrop):
    """The TF object detection API's ``ssd_random_crop`` (its defaults are the SSDLite config's).

    Per call one of the options is drawn uniformly; with probability ``random_coef`` the image stays whole,
    otherwise a crop is sampled by :func:`sample_distorted_bounding_box` (``min_object_covered`` of the
    option, aspect width / height 0.5-2, area 10-100%, 100 attempts). Boxes lying wholly outside the crop
    are dropped, then those with less than ``overlap_thresh`` (the option's: the same values) of their area
    inside; the rest are clipped. The crop may leave no box (TF allows it).

    Args:
        min_object_covered: per option, the fraction of some box the crop must cover.
        overlap_thresh: per option, the fraction of a box that must lie inside for it to be kept.
        aspect_ratio_range, area_range: as :func:`sample_distorted_bounding_box`, for every option.
        random_coef: probability of leaving the image whole, per option (TF: 0.15).
    """

    def __init__(
        self,
        min_object_covered: Sequence[float] = SSD_MIN_OBJECT_COVERED,
        overlap_thresh: Sequence[float] = SSD_MIN_OBJECT_COVERED,
        aspect_ratio_range: tuple[float, float] = (0.5, 2.0),
        area_range: tuple[float, float] = (0.1, 1.0),
        random_coef: float = 0.15,
        p: float = 1.0,
    ) -> None:
        super().__init__(p=p)
        if len(min_object_covered) != len(overlap_thresh):
            raise ValueError("SSDRandomCrop needs one overlap_thresh per min_object_covered option")
        self.min_object_covered, self.overlap_thresh = tuple(min_object_covered), tuple(overlap_thresh)
        self.aspect_ratio_range, self.area_range = tuple(aspect_ratio_range), tuple(area_range)
        self.random_coef = random_coef

    def get_params_dependent_on_data(self, params: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        height, width = params["shape"][:2]
        boxes = boxes_in_pixels(data, height, width)
        rng = self.random_generator
        option = int(rng.integers(len(self.min_object_covered)))
        if rng.random() <= self.random_coef:  # TF crops when uniform() > random_coef
            return {"crop": (0, 0, width, height), "keep": np.ones(len(boxes), dtype=bool)}
        crop = sample_distorted_bounding_box(
            width,
            height,
            boxes.clip(0, [width, height, width, height]),
            self.min_object_covered[option],
            self.aspect_ratio_range,
            self.area_range,
            100,
            rng,
        )
        return {"crop": crop, "keep": kept_by_overlap(boxes, np.array(crop), self.overlap_thresh[option])}


def kept_by_overlap(boxes: np.ndarray, crop: np.ndarray, overlap_thresh: float) -> np.ndarray:
    """TF's ``prune_completely_outside_window`` then ``prune_non_overlapping_boxes``: (N,) whether each
    xyxy box overlaps the crop at all and has at least ``overlap_thresh`` of its area inside it."""
    wh = (np.minimum(boxes[:, 2:], crop[2:]) - np.maximum(boxes[:, :2], crop[:2])).clip(min=0)
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    outside = (boxes[:, :2] >= crop[2:]).any(axis=1) | (boxes[:, 2:] <= crop[:2]).any(axis=1)
    ioa = wh[:, 0] * wh[:, 1] / np.maximum(areas, 1e-12)
    return ~outside & (ioa >= overlap_thresh)


@TRANSFORMS.register_module()
class CentralCrop(PatchCrop):
    """``tf.image.central_crop``: the central ``fraction`` of each side (TF-slim's evaluation: 0.875, then a
    bilinear resize to 224x224, which does not keep the aspect ratio)."""

    def __init__(self, fraction: float = 0.875, p: float = 1.0) -> None:
        super().__init__(p=p)
        if not 0 < fraction <= 1:
            raise ValueError(f"CentralCrop needs 0 < fraction <= 1, got {fraction}")
        self.fraction = fraction

    def get_params_dependent_on_data(self, params: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        height, width = params["shape"][:2]
        # TF: start = int((size - size * fraction) / 2), crop = size - 2 * start.
        top, left = int((height - height * self.fraction) / 2), int((width - width * self.fraction) / 2)
        crop = (left, top, width - left, height - top)
        return {"crop": crop, "keep": np.ones(len(boxes_in_pixels(data, height, width)), dtype=bool)}
