"""Real photos for comparisons with home libraries, and what a config's test pipeline makes of them."""

from __future__ import annotations

import numpy as np
import torch
from mmengine.config import Config
from skimage import data as skimage_data

from visionkit.datasets.transforms.build import build_pipeline


def photo(name: str) -> np.ndarray:
    """scikit-image's photo ``name`` (``chelsea``, ``coffee``, ``astronaut``...) as (H, W, 3) uint8 RGB."""
    return np.ascontiguousarray(getattr(skimage_data, name)()[..., :3])


def pipeline_input(cfg: Config, image: np.ndarray) -> torch.Tensor:
    """``image`` (H, W, 3) uint8 through ``cfg``'s test pipeline after LoadImage: the packed (3, H', W')
    uint8 input."""
    results = {"img": image, "img_shape": image.shape[:2], "ori_shape": image.shape[:2]}
    for transform in build_pipeline(cfg.test_dataloader.dataset.pipeline[1:]):
        results = transform(results)
    return results["inputs"]
