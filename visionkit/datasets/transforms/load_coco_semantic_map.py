"""Rasterising COCO instance annotations into one semantic label map (COCO images with VOC's classes)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from pycocotools import mask as mask_utils

from ...registry import TRANSFORMS

IGNORE = 255


def instance_mask(segmentation: list | dict, height: int, width: int) -> np.ndarray:
    """(H, W) uint8 mask of one COCO ``segmentation``: polygons (merged), uncompressed RLE (crowd) or
    compressed RLE; pycocotools' ``COCO.annToMask`` decodes the same way."""
    if isinstance(segmentation, list):
        if not segmentation:
            return np.zeros((height, width), dtype=np.uint8)
        rle = mask_utils.merge(mask_utils.frPyObjects(segmentation, height, width))
    elif isinstance(segmentation.get("counts"), list):
        rle = mask_utils.frPyObjects(segmentation, height, width)
    else:
        rle = segmentation
    return mask_utils.decode(rle)


def rasterize_instances(
    instances: Sequence[dict], height: int, width: int, crowd: str = "class"
) -> np.ndarray:
    """One (H, W) int64 label map from instances ``{'segmentation', 'label', 'iscrowd'}`` (labels 1..K).

    As torchvision's segmentation reference (``ConvertCocoPolysToMask``): a pixel takes the label of the
    instance covering it, background 0 where none does, and 255 (ignored) where two or more instances
    overlap, of the same class or not. ``crowd="class"`` (torchvision's) treats crowd regions as instances
    of their class; ``crowd="ignore"`` marks them 255.
    """
    if crowd not in ("class", "ignore"):
        raise ValueError(f"crowd must be 'class' or 'ignore', got {crowd!r}")
    labels = np.zeros((height, width), dtype=np.int64)
    coverage = np.zeros((height, width), dtype=np.int64)
    crowd_pixels = np.zeros((height, width), dtype=bool)
    for instance in instances:
        mask = instance_mask(instance["segmentation"], height, width).astype(bool)
        if crowd == "ignore" and instance.get("iscrowd", 0):
            crowd_pixels |= mask
            continue
        labels = np.where(mask, np.maximum(labels, int(instance["label"])), labels)
        coverage += mask
    labels[coverage > 1] = IGNORE
    labels[crowd_pixels] = IGNORE
    return labels


@TRANSFORMS.register_module()
class LoadCocoSemanticMap:
    """``results['instances']`` (from :class:`~visionkit.datasets.CocoVOCSegmentation`) -> ``gt_seg_map``
    (H, W) int64 at the image's size, by :func:`rasterize_instances`.

    Args:
        crowd: ``'class'`` (torchvision's) or ``'ignore'``: how crowd regions are labelled.
    """

    def __init__(self, crowd: str = "class") -> None:
        if crowd not in ("class", "ignore"):
            raise ValueError(f"crowd must be 'class' or 'ignore', got {crowd!r}")
        self.crowd = crowd

    def __call__(self, results: dict) -> dict:
        height, width = results["height"], results["width"]
        results["gt_seg_map"] = rasterize_instances(results["instances"], height, width, self.crowd)
        return results

    def __repr__(self) -> str:
        return f"LoadCocoSemanticMap(crowd={self.crowd!r})"
