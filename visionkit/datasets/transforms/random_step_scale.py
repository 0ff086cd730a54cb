"""TF DeepLab's random scale: one factor from a grid of steps for both sides (masks nearest-neighbour)."""

from __future__ import annotations

import os
from typing import Any

import cv2
import numpy as np

from ...registry import TRANSFORMS

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
from albumentations import DualTransform
from albumentations.core.type_definitions import Targets


def scale_grid(min_scale: float, max_scale: float, step: float) -> np.ndarray:
    """TF DeepLab's ``get_random_scale`` candidates: ``lin_space(min, max, int((max - min) / step + 1))``."""
    if step <= 0 or min_scale > max_scale:
        raise ValueError(f"scale_grid needs step > 0 and min <= max, got {min_scale}, {max_scale}, {step}")
    return np.linspace(min_scale, max_scale, int((max_scale - min_scale) / step + 1))


@TRANSFORMS.register_module()
class RandomStepScale(DualTransform):
    """Resize by a factor drawn uniformly from :func:`scale_grid` (TF DeepLab's training: 0.5 to 2.0 in steps
    of 0.25, i.e. 7 factors): the new size is ``int(side * factor)``, the image bilinear, masks nearest.

    TF resizes with ``align_corners=True``; OpenCV's bilinear uses half-pixel centres (the label map, nearest,
    picks the same pixels to within one row or column).
    """

    _targets = (Targets.IMAGE, Targets.MASK, Targets.BBOXES)

    def __init__(self, min_scale: float = 0.5, max_scale: float = 2.0, step: float = 0.25, p: float = 1.0):
        super().__init__(p=p)
        self.scales = scale_grid(min_scale, max_scale, step)
        self.min_scale, self.max_scale, self.step = min_scale, max_scale, step

    def get_params_dependent_on_data(self, params: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        height, width = params["shape"][:2]
        scale = float(self.scales[int(self.random_generator.integers(len(self.scales)))])
        return {"size": (int(height * scale), int(width * scale))}

    def apply(self, img: np.ndarray, size: tuple[int, int], **params: Any) -> np.ndarray:
        return cv2.resize(img, (size[1], size[0]), interpolation=cv2.INTER_LINEAR)

    def apply_to_mask(self, mask: np.ndarray, size: tuple[int, int], **params: Any) -> np.ndarray:
        return cv2.resize(mask, (size[1], size[0]), interpolation=cv2.INTER_NEAREST)

    def apply_to_bboxes(self, bboxes: np.ndarray, size: tuple[int, int], **params: Any) -> np.ndarray:
        return bboxes  # albumentations keeps boxes normalised: a uniform scale leaves them as they are

    def get_transform_init_args_names(self) -> tuple[str, ...]:
        return ("min_scale", "max_scale", "step")
