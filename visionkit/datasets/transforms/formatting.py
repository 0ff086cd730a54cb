"""Packing a pipeline's ``results`` into model inputs and data samples."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from ...registry import TRANSFORMS
from ...structures import DataSample

# albumentations hands back int32 masks and float labels; the model and metrics want these dtypes.
_DTYPES = {"gt_bboxes": np.float32, "gt_labels": np.int64, "gt_seg_map": np.int64}


@TRANSFORMS.register_module()
class PackInputs:
    """``img`` (H, W, 3) uint8 -> ``inputs`` (3, H, W) uint8 tensor; the rest -> a :class:`DataSample`.

    Arrays among ``keys`` become tensors (``gt_bboxes`` float32, labels and maps int64).

    Args:
        keys: annotation keys copied into the data sample when present.
        meta_keys: image meta information copied when present.
    """

    def __init__(
        self,
        keys: Sequence[str] = ("gt_label", "gt_bboxes", "gt_labels", "gt_seg_map"),
        meta_keys: Sequence[str] = (
            "img_path",
            "seg_map_path",
            "img_id",
            "ori_shape",
            "img_shape",
            "scale_factor",
            "pad_shape",
            "flip",
        ),
    ) -> None:
        self.keys, self.meta_keys = tuple(keys), tuple(meta_keys)

    def __call__(self, results: dict) -> dict:
        image = np.ascontiguousarray(results["img"].transpose(2, 0, 1))
        fields = {
            key: torch.from_numpy(np.ascontiguousarray(results[key], dtype=_DTYPES.get(key)))
            if isinstance(results[key], np.ndarray)
            else results[key]
            for key in self.keys
            if key in results
        }
        metainfo = {key: results[key] for key in self.meta_keys if key in results}
        return {"inputs": torch.from_numpy(image), "data_samples": DataSample(metainfo=metainfo, **fields)}

    def __repr__(self) -> str:
        return f"PackInputs(keys={self.keys}, meta_keys={self.meta_keys})"
