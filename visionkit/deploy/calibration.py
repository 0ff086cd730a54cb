"""Calibration images for post-training quantization: the config's own data through its test pipeline.

An exported graph sees what the ONNX Runtime backend feeds it, so calibration feeds the same: each image
through the config's test pipeline (without the steps that read ground truth), padded as
:class:`~visionkit.deploy.runtimes.RuntimeModel` pads it, one image per batch, raw pixels
0..255 float32. The images are spread evenly over the split (item ``i * len / n``), so a data set sorted
by class still gives every class; the same ``n`` always gives the same images.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence

import numpy as np
from mmengine.config import Config
from mmengine.registry import init_default_scope

from ..datasets.transforms.build import without_annotation_loaders
from ..registry import DATASETS
from .runtimes.base import pad_stack

SPLITS = ("train", "val", "test")


def _datasets(cfg: Config, split: str) -> list[tuple[dict, list]]:
    """(dataset config, test pipeline) per data set of ``split``: one, or one per task of a multi-task
    data set (each task's own test pipeline)."""
    if split not in SPLITS:
        raise ValueError(f"calibration split must be one of {SPLITS}, got '{split}'")
    loader = cfg.get(f"{split}_dataloader")
    if not loader:
        raise ValueError(
            f"The config has no {split}_dataloader to calibrate on: choose another --calib-split"
        )
    dataset, test = loader["dataset"], cfg.test_dataloader["dataset"]
    while "dataset" in dataset:  # RepeatDataset and other wrappers
        dataset = dataset["dataset"]
    while "dataset" in test:
        test = test["dataset"]
    if "datasets" in dataset:
        return [
            (dataset["datasets"][name], test["datasets"][name]["pipeline"]) for name in dataset["datasets"]
        ]
    return [(dataset, test["pipeline"])]


def calibration_images(
    cfg: Config,
    num_images: int,
    split: str = "train",
    pad_pixel: Sequence[float] = (0.0, 0.0, 0.0),
    pad_size_divisor: int = 1,
) -> Iterator[np.ndarray]:
    """Up to ``num_images`` calibration batches (1, 3, H, W) float32 raw pixels from ``split``.

    A multi-task config gives each task's data set an equal share. ``pad_pixel`` / ``pad_size_divisor``
    are the export's (its metadata), so a padded image is what the runtime backend would feed.
    """
    if num_images < 1:
        raise ValueError(f"--calib-images must be at least 1, got {num_images}")
    init_default_scope(cfg.get("default_scope", "visionkit"))
    parts = _datasets(cfg, split)
    shares = [num_images // len(parts) + (i < num_images % len(parts)) for i in range(len(parts))]
    for (dataset_cfg, pipeline), share in zip(parts, shares, strict=True):
        steps = without_annotation_loaders(pipeline)
        dataset = DATASETS.build(dict(copy.deepcopy(dataset_cfg), pipeline=steps, test_mode=True))
        if len(dataset) == 0:
            raise ValueError(
                f"The {split} data set {dataset_cfg.get('type')} is empty: nothing to calibrate on"
            )
        count = min(share, len(dataset))
        for index in range(count):
            image = dataset[index * len(dataset) // count]["inputs"].float()
            yield pad_stack([image], pad_pixel, pad_size_divisor).numpy()
