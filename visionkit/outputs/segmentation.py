"""Segmentation's outputs: ``gt_seg_map`` (H, W) class indices at ``img_shape`` (255 = ignore);
``pred_seg_map`` (H0, W0) at the original size."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ..evaluation.agreement import mask_agreement
from ..registry import TASK_OUTPUTS
from ..structures import DataSample
from ..visualization.draw import overlay_segmentation, save_palette_png, write_rgb
from .base import TaskOutputs, View, as_numpy


def gt_seg_map_at_original_size(sample: DataSample) -> np.ndarray:
    """``gt_seg_map`` resized (nearest) to ``ori_shape``, where predictions are."""
    seg_map = as_numpy(sample.gt_seg_map).astype(np.uint8)
    ori_h, ori_w = sample.metainfo["ori_shape"]
    if seg_map.shape != (ori_h, ori_w):
        seg_map = cv2.resize(seg_map, (ori_w, ori_h), interpolation=cv2.INTER_NEAREST)
    return seg_map


@TASK_OUTPUTS.register_module(name="segmentation")
class SegmentationOutputs(TaskOutputs):
    """A colour overlay with a legend; the pixels of each class present as the record; the label map as a
    VOC palette PNG of the input's size (scorable against VOC's SegmentationClass)."""

    kind = "segmentation"
    gt_fields = ("gt_seg_map",)
    pred_fields = ("pred_seg_map",)
    record_key = "segmentation"
    file_suffixes = (".png", "_overlay.jpg")

    def draw_ground_truth(
        self, image: np.ndarray, sample: DataSample, view: View, at_input_size: bool = False
    ) -> np.ndarray:
        seg_map = as_numpy(sample.gt_seg_map) if at_input_size else gt_seg_map_at_original_size(sample)
        return overlay_segmentation(image, seg_map, self._names(view, seg_map), view.palette)

    def draw_prediction(self, image: np.ndarray, sample: DataSample, view: View) -> np.ndarray:
        seg_map = as_numpy(sample.pred_seg_map)
        names = self._names(view, seg_map)
        return overlay_segmentation(image, seg_map, names, view.palette, legend_inside=view.legend_inside)

    def record(self, sample: DataSample, view: View) -> dict[str, Any]:
        """``{'pixels_per_class': {name: pixels}}`` over the classes present."""
        present, pixels = np.unique(as_numpy(sample.pred_seg_map), return_counts=True)
        return {"pixels_per_class": {view.name(int(c)): int(n) for c, n in zip(present, pixels, strict=True)}}

    def summary(self, record: dict[str, Any], view: View) -> str:
        """The share of the image each class other than background covers."""
        pixels = record["pixels_per_class"]
        total = sum(pixels.values()) or 1
        shares = [(name, n / total) for name, n in pixels.items() if name != "background"]
        found = ", ".join(f"{name} {share:.1%}" for name, share in sorted(shares, key=lambda s: -s[1]))
        return f"{found} of the pixels" if found else "nothing but background"

    def write(self, stem: Path, image: np.ndarray, sample: DataSample, view: View) -> dict[str, Any]:
        save_palette_png(f"{stem}.png", as_numpy(sample.pred_seg_map))
        write_rgb(f"{stem}_overlay.jpg", self.draw_prediction(image, sample, view))
        return {"mask": f"{stem}.png", **self.record(sample, view)}

    def agreement_counts(
        self, reference: Sequence[DataSample], other: Sequence[DataSample], iou: float, score_thr: float
    ) -> dict[str, int]:
        same, pixels = mask_agreement(reference, other)
        return {"pixels_same": same, "pixels": pixels}

    def agreement_ratios(self, counts: dict[str, int]) -> dict[str, float]:
        return {"pixel_agreement": counts["pixels_same"] / counts["pixels"]} if counts.get("pixels") else {}

    @staticmethod
    def _names(view: View, seg_map: np.ndarray) -> list[str]:
        """The view's names, extended to every index present (ignore 255 aside)."""
        labels = [int(c) for c in np.unique(seg_map) if c != 255]
        count = max(len(view.classes), max(labels, default=-1) + 1)
        return [view.name(i) for i in range(count)]
