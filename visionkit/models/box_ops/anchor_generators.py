"""The registered SSD anchor generators a config names (``anchor_generator=dict(type=...)``), one per
published setting: each holds its settings, knows its boxes per location, and caches its anchors per input
size and device. The arithmetic is the pure functions of :mod:`.anchors`.

| generator | setting | boxes per location |
|---|---|---|
| :class:`TFSSDAnchorGenerator` | TF object detection's ``ssdlite_mobilenet_v2_coco`` | 3, then 6 |
| :class:`MMDetSSDAnchorGenerator` | mmdet 3.x ``ssdlite_mobilenetv2-scratch_8xb24-600e_coco`` | 6 |
| :class:`TorchvisionSSDAnchorGenerator` | torchvision ``ssdlite320_mobilenet_v3_large`` | 6 |
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from ...registry import TASK_UTILS
from .anchors import (
    MMDET_MAX_SIZES,
    MMDET_MIN_SIZES,
    MMDET_RATIOS,
    MMDET_STRIDES,
    TF_ASPECT_RATIOS,
    TORCHVISION_RATIOS,
    mmdet_box_sizes,
    mmdet_ssd_anchors,
    tf_box_specs,
    tf_ssd_anchors,
    torchvision_box_sizes,
    torchvision_ssd_anchors,
)


class SSDAnchorGenerator:
    """Base of the generators: ``num_levels``, ``num_anchors_per_location`` (per level) and the cache.

    Subclasses set ``settings`` (the keyword arguments of their anchor function) and the boxes per location,
    and implement :meth:`generate`.
    """

    settings: dict[str, object]

    def __init__(self, boxes_per_location: Sequence[Sequence[object]]) -> None:
        self.num_levels = len(boxes_per_location)
        self.num_anchors_per_location = [len(level) for level in boxes_per_location]
        self._cache: dict[tuple, tuple[Tensor, list[int]]] = {}

    def generate(
        self,
        input_size: tuple[int, int],
        feature_sizes: Sequence[tuple[int, int]],
        device: torch.device | str,
    ) -> tuple[Tensor, list[int]]:
        raise NotImplementedError

    def __call__(
        self,
        input_size: tuple[int, int],
        feature_sizes: Sequence[tuple[int, int]],
        device: torch.device | str = "cpu",
    ) -> tuple[Tensor, list[int]]:
        """Anchors (A, 4) xyxy in input pixels and anchors per level for an (H, W) network input."""
        if len(feature_sizes) != self.num_levels:
            raise ValueError(
                f"{type(self).__name__} has {self.num_levels} levels but got {len(feature_sizes)} feature "
                "maps"
            )
        key = (tuple(input_size), tuple(tuple(s) for s in feature_sizes), str(torch.device(device)))
        if key not in self._cache:
            self._cache[key] = self.generate(tuple(input_size), feature_sizes, device)
        return self._cache[key]

    def __repr__(self) -> str:
        settings = ", ".join(f"{name}={value}" for name, value in self.settings.items())
        return f"{type(self).__name__}({settings})"


@TASK_UTILS.register_module()
class TFSSDAnchorGenerator(SSDAnchorGenerator):
    """TF object detection's ``ssd_anchor_generator`` (see :func:`~.anchors.tf_box_specs`): scales from
    ``min_scale`` to ``max_scale`` relative to the shorter input side, ``aspect_ratios`` (width / height) plus
    the interpolated scale, three boxes in the lowest layer."""

    def __init__(
        self,
        num_levels: int = 6,
        min_scale: float = 0.2,
        max_scale: float = 0.95,
        aspect_ratios: Sequence[float] = TF_ASPECT_RATIOS,
        interpolated_scale_aspect_ratio: float = 1.0,
        reduce_boxes_in_lowest_layer: bool = True,
    ) -> None:
        self.settings = dict(
            min_scale=min_scale,
            max_scale=max_scale,
            aspect_ratios=tuple(aspect_ratios),
            interpolated_scale_aspect_ratio=interpolated_scale_aspect_ratio,
            reduce_boxes_in_lowest_layer=reduce_boxes_in_lowest_layer,
        )
        super().__init__(tf_box_specs(num_levels, **self.settings))

    def generate(
        self,
        input_size: tuple[int, int],
        feature_sizes: Sequence[tuple[int, int]],
        device: torch.device | str,
    ) -> tuple[Tensor, list[int]]:
        return tf_ssd_anchors(input_size, feature_sizes, device=device, **self.settings)


@TASK_UTILS.register_module()
class MMDetSSDAnchorGenerator(SSDAnchorGenerator):
    """mmdetection 3.x's ``SSDAnchorGenerator``: per level ``strides``, ``min_sizes``, ``max_sizes`` in pixels
    and ``ratios`` (height / width), independent of the input size; levels = ``len(strides)``."""

    def __init__(
        self,
        strides: Sequence[float] = MMDET_STRIDES,
        min_sizes: Sequence[float] = MMDET_MIN_SIZES,
        max_sizes: Sequence[float] = MMDET_MAX_SIZES,
        ratios: Sequence[Sequence[float]] = MMDET_RATIOS,
    ) -> None:
        self.settings = dict(strides=tuple(strides), min_sizes=tuple(min_sizes), max_sizes=tuple(max_sizes))
        self.settings["ratios"] = tuple(tuple(r) for r in ratios)
        sizes = mmdet_box_sizes(min_sizes, max_sizes, ratios)
        if len(sizes) != len(strides):
            raise ValueError(f"{len(strides)} strides but sizes for {len(sizes)} levels")
        super().__init__(sizes)

    def generate(
        self,
        input_size: tuple[int, int],
        feature_sizes: Sequence[tuple[int, int]],
        device: torch.device | str,
    ) -> tuple[Tensor, list[int]]:
        return mmdet_ssd_anchors(feature_sizes, device=device, **self.settings)


@TASK_UTILS.register_module()
class TorchvisionSSDAnchorGenerator(SSDAnchorGenerator):
    """torchvision's ``DefaultBoxGenerator``: ``min_scale`` / ``max_scale`` (its ``min_ratio`` /
    ``max_ratio``), ``ratios`` per level (width / height; levels = ``len(ratios)``) and ``clip``; anchors
    bit-identical to torchvision's."""

    def __init__(
        self,
        min_scale: float = 0.2,
        max_scale: float = 0.95,
        ratios: Sequence[Sequence[float]] = TORCHVISION_RATIOS,
        clip: bool = True,
    ) -> None:
        self.settings = dict(
            min_scale=min_scale, max_scale=max_scale, ratios=tuple(tuple(r) for r in ratios), clip=clip
        )
        super().__init__(torchvision_box_sizes(**self.settings))

    def generate(
        self,
        input_size: tuple[int, int],
        feature_sizes: Sequence[tuple[int, int]],
        device: torch.device | str,
    ) -> tuple[Tensor, list[int]]:
        return torchvision_ssd_anchors(input_size, feature_sizes, device=device, **self.settings)
