"""torchvision's evaluation preprocessing on PIL images, which timm's and mmpretrain's reproduce: resize
one edge with Pillow (:class:`ResizeEdge`), then a centre crop whose offset is rounded, not floored
(:class:`RoundedCenterCrop`). timm evaluates its ImageNet weights so (bicubic, shorter side to
``input / crop_pct`` = 256, crop 224); albumentations' ``SmallestMaxSize`` + ``CenterCrop`` differ from it
in three ways (cv2's filters do not widen when downscaling, the other side is rounded, the crop offset is
floored): 0.7-4 grey levels on average on skimage's photos."""

from __future__ import annotations

from typing import Any

import numpy as np
from albumentations.core.transforms_interface import DualTransform
from albumentations.core.type_definitions import Targets
from PIL import Image

from ...registry import TRANSFORMS
from .ssd_augmentations import PatchCrop, boxes_in_pixels

_FILTERS = {
    "nearest": Image.Resampling.NEAREST,
    "bilinear": Image.Resampling.BILINEAR,
    "bicubic": Image.Resampling.BICUBIC,
    "lanczos": Image.Resampling.LANCZOS,
    "box": Image.Resampling.BOX,
}


def edge_resized_size(height: int, width: int, scale: int, edge: str) -> tuple[int, int]:
    """(height, width) with the ``edge`` side (``"short"`` or ``"long"``) at ``scale`` pixels and the other
    side truncated, ``int(scale * other / edge)`` (torchvision's ``_compute_resized_output_size``)."""
    short_is_height = height <= width
    if (edge == "short") == short_is_height:
        return scale, int(scale * width / height)
    return int(scale * height / width), scale


@TRANSFORMS.register_module()
class ResizeEdge(DualTransform):
    """Resize so that one edge has ``scale`` pixels, keeping the aspect ratio (mmpretrain's ``ResizeEdge``
    with ``backend='pillow'``; torchvision's ``Resize(scale)`` on a PIL image, which timm's evaluation uses).

    Pillow's filters widen with the downscaling factor (antialiasing), as torchvision's and timm's
    evaluation resize on PIL images does; cv2's ``INTER_CUBIC`` does not (4 grey levels apart on average on
    a 300x451 photo, and its other side is rounded where torchvision truncates). Masks are resized with
    nearest neighbour; boxes, kept normalised by albumentations, do not change.

    Args:
        scale: the edge's length after resizing, pixels.
        edge: ``"short"`` or ``"long"``.
        interpolation: ``"bicubic"``, ``"bilinear"``, ``"lanczos"``, ``"box"`` or ``"nearest"``.
        backend: ``"pillow"`` (the only one; albumentations' ``SmallestMaxSize`` resizes with cv2).
    """

    _targets = (Targets.IMAGE, Targets.MASK, Targets.BBOXES)

    def __init__(
        self,
        scale: int,
        edge: str = "short",
        interpolation: str = "bilinear",
        backend: str = "pillow",
        p: float = 1.0,
    ) -> None:
        super().__init__(p=p)
        if edge not in ("short", "long"):
            raise ValueError(f"ResizeEdge edge must be 'short' or 'long', got '{edge}'")
        if interpolation not in _FILTERS:
            raise ValueError(
                f"ResizeEdge interpolation must be one of {', '.join(_FILTERS)}, not {interpolation!r}"
            )
        if backend != "pillow":
            raise ValueError(f"ResizeEdge resizes with Pillow only (backend='pillow'), got '{backend}'")
        self.scale, self.edge, self.interpolation, self.backend = scale, edge, interpolation, backend

    def get_params_dependent_on_data(self, params: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        height, width = params["shape"][:2]
        return {"size": edge_resized_size(height, width, self.scale, self.edge)}

    def apply(self, img: np.ndarray, size: tuple[int, int], **params: Any) -> np.ndarray:
        if img.shape[:2] == size:  # as torchvision: no resampling at the size already
            return img
        return np.asarray(Image.fromarray(img).resize((size[1], size[0]), _FILTERS[self.interpolation]))

    def apply_to_mask(self, mask: np.ndarray, size: tuple[int, int], **params: Any) -> np.ndarray:
        """Nearest neighbour at Pillow's sample points, ``floor((i + 0.5) * in / out)``, for any dtype."""
        rows = ((np.arange(size[0]) + 0.5) * mask.shape[0] / size[0]).astype(np.int64)
        cols = ((np.arange(size[1]) + 0.5) * mask.shape[1] / size[1]).astype(np.int64)
        return mask[rows[:, None], cols[None, :]]

    def apply_to_bboxes(self, bboxes: np.ndarray, **params: Any) -> np.ndarray:
        return bboxes

    def get_transform_init_args_names(self) -> tuple[str, ...]:
        return ("scale", "edge", "interpolation", "backend")


@TRANSFORMS.register_module()
class RoundedCenterCrop(PatchCrop):
    """A ``height`` x ``width`` crop at the centre, its offset ``round((size - crop) / 2)`` (half to even, as
    torchvision's and mmpretrain's ``CenterCrop``) where albumentations' ``CenterCrop`` floors it: they
    differ by a pixel when the margin is odd (a 427x640 photo resized to 256x383)."""

    def __init__(self, height: int, width: int, p: float = 1.0) -> None:
        super().__init__(p=p)
        self.height, self.width = height, width

    def get_params_dependent_on_data(self, params: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        height, width = params["shape"][:2]
        if height < self.height or width < self.width:
            raise ValueError(f"RoundedCenterCrop of {self.height}x{self.width} from a {height}x{width} image")
        top, left = round((height - self.height) / 2), round((width - self.width) / 2)
        keep = np.ones(len(boxes_in_pixels(data, height, width)), dtype=bool)
        return {"crop": (left, top, left + self.width, top + self.height), "keep": keep}

    def get_transform_init_args_names(self) -> tuple[str, ...]:
        return ("height", "width")
