"""Colour augmentation as the reference recipes run it, as albumentations transforms (in ``Albumentations``).

- :class:`PhotoMetricDistortion`: mmdetection's (its SSD / SSDLite recipes): additive brightness, contrast
  before or after saturation and hue, random channel swap; each part with probability 0.5.
- :class:`InceptionColorDistortion`: TF-slim's ``inception_preprocessing.distort_color`` (the MobileNetV2
  ImageNet run): brightness +-32/255 then saturation 0.5-1.5, clipped.

Both return float32 images in pixel units (0-255 scale), as their references keep floats; the data
preprocessor takes them as it takes uint8 ones. Put them last among the albumentations transforms, as the
references do (albumentations assumes float images in [0, 1]).
"""

from __future__ import annotations

import os
from typing import Any

import cv2
import numpy as np

from ...registry import TRANSFORMS

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
from albumentations import ImageOnlyTransform


def adjust_hsv(image: np.ndarray, saturation: float | None = None, hue: float | None = None) -> np.ndarray:
    """Scale the saturation and shift the hue (degrees) of a float32 RGB image (any value scale), as
    mmcv's ``bgr2hsv`` / ``hsv2bgr`` (OpenCV's float HSV: H in [0, 360), S in [0, 1], V = max) do.
    Saturation is clipped to [0, 1] only when scaled up (mmdetection's rule); the hue wraps around."""
    hsv = cv2.cvtColor(image, cv2.COLOR_RGB2HSV)
    if saturation is not None:
        hsv[..., 1] *= saturation
        if saturation > 1:
            hsv[..., 1] = hsv[..., 1].clip(0, 1)
    if hue is not None:
        hsv[..., 0] += hue
        hsv[..., 0][hsv[..., 0] > 360] -= 360
        hsv[..., 0][hsv[..., 0] < 0] += 360
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)


@TRANSFORMS.register_module()
class PhotoMetricDistortion(ImageOnlyTransform):
    """mmdetection's ``PhotoMetricDistortion``. Per image, each step happens with probability 0.5:

    1. brightness: add ``uniform(-brightness_delta, brightness_delta)`` (pixel units);
    2. contrast (mode 1, drawn with probability 0.5): multiply by ``uniform(*contrast_range)``;
    3. saturation: scale HSV's S by ``uniform(*saturation_range)``;
    4. hue: shift HSV's H by ``uniform(-hue_delta, hue_delta)`` degrees;
    5. contrast (mode 0) as 2, after the HSV steps;
    6. channel swap: a random permutation of the three channels.

    Values are not clipped (mmdetection's are not). The image becomes float32.
    """

    def __init__(
        self,
        brightness_delta: float = 32,
        contrast_range: tuple[float, float] = (0.5, 1.5),
        saturation_range: tuple[float, float] = (0.5, 1.5),
        hue_delta: float = 18,
        p: float = 1.0,
    ) -> None:
        super().__init__(p=p)
        self.brightness_delta, self.hue_delta = brightness_delta, hue_delta
        self.contrast_range, self.saturation_range = tuple(contrast_range), tuple(saturation_range)

    def get_params(self) -> dict[str, Any]:
        rng = self.random_generator
        flags = rng.integers(2, size=6).astype(bool)  # mode, brightness, contrast, saturation, hue, swap
        return {
            "contrast_last": not flags[0],
            "brightness": rng.uniform(-self.brightness_delta, self.brightness_delta) if flags[1] else None,
            "contrast": rng.uniform(*self.contrast_range) if flags[2] else None,
            "saturation": rng.uniform(*self.saturation_range) if flags[3] else None,
            "hue": rng.uniform(-self.hue_delta, self.hue_delta) if flags[4] else None,
            "swap": rng.permutation(3) if flags[5] else None,
        }

    def apply(
        self,
        img: np.ndarray,
        contrast_last: bool,
        brightness: float | None,
        contrast: float | None,
        saturation: float | None,
        hue: float | None,
        swap: np.ndarray | None,
        **params: Any,
    ) -> np.ndarray:
        image = img.astype(np.float32)
        if brightness is not None:
            image += np.float32(brightness)
        if contrast is not None and not contrast_last:
            image *= np.float32(contrast)
        image = adjust_hsv(image, saturation, hue)
        if contrast is not None and contrast_last:
            image *= np.float32(contrast)
        return image[..., swap] if swap is not None else image

    def get_transform_init_args_names(self) -> tuple[str, ...]:
        return ("brightness_delta", "contrast_range", "saturation_range", "hue_delta")


@TRANSFORMS.register_module()
class InceptionColorDistortion(ImageOnlyTransform):
    """TF-slim's ``distort_color`` in fast mode, as ``preprocess_for_train`` applies it to every image:
    ``tf.image.random_brightness(max_delta=32/255)`` then ``random_saturation(0.5, 1.5)`` on [0, 1] floats,
    then a clip to [0, 1] (here in pixel units: +-32, clip to [0, 255]).

    ``num_orderings=4`` is the older TF-slim (before ``num_distort_cases = 1 if fast_mode else 4``): an
    ordering drawn from 4, where ordering 0 is brightness first and the others saturation first.
    """

    def __init__(
        self,
        max_brightness_delta: float = 32,
        saturation_range: tuple[float, float] = (0.5, 1.5),
        num_orderings: int = 1,
        p: float = 1.0,
    ) -> None:
        super().__init__(p=p)
        if num_orderings not in (1, 4):
            raise ValueError(f"InceptionColorDistortion: num_orderings must be 1 or 4, got {num_orderings}")
        self.max_brightness_delta, self.saturation_range = max_brightness_delta, tuple(saturation_range)
        self.num_orderings = num_orderings

    def get_params(self) -> dict[str, Any]:
        rng = self.random_generator
        ordering = int(rng.integers(self.num_orderings))
        delta = rng.uniform(-self.max_brightness_delta, self.max_brightness_delta)
        return {
            "brightness_first": ordering == 0,
            "delta": delta,
            "saturation": rng.uniform(*self.saturation_range),
        }

    def apply(
        self, img: np.ndarray, brightness_first: bool, delta: float, saturation: float, **params: Any
    ) -> np.ndarray:
        image = img.astype(np.float32)
        if brightness_first:
            image = tf_adjust_saturation(image + np.float32(delta), saturation)
        else:
            image = tf_adjust_saturation(image, saturation) + np.float32(delta)
        return image.clip(0, 255)

    def get_transform_init_args_names(self) -> tuple[str, ...]:
        return ("max_brightness_delta", "saturation_range", "num_orderings")


def tf_adjust_saturation(image: np.ndarray, factor: float) -> np.ndarray:
    """``tf.image.adjust_saturation``: S scaled by ``factor`` and clipped to [0, 1] (whatever the factor)."""
    hsv = cv2.cvtColor(image, cv2.COLOR_RGB2HSV)
    hsv[..., 1] = (hsv[..., 1] * np.float32(factor)).clip(0, 1)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)
