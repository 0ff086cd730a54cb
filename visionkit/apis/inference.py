"""Python inference API: build a model from a config and checkpoint, run it on images.

    model = init_model("configs/deeplabv3lite_mnv2_voc.py", "work_dirs/.../epoch_50.pth")
    samples = inference_model(model, ["a.jpg", image_array])      # DataSamples with predictions

Images are file paths or (H, W, 3) uint8 RGB arrays. The config's test pipeline prepares them, minus
the steps that read annotations; predictions come back at each image's original size.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope
from torch import nn

from ..datasets.transforms.build import build_pipeline
from ..deploy import fuse_batchnorm
from ..deploy.onnx_runtime_model import OnnxRuntimeModel
from ..engine.config import load_config
from ..models.checkpoint import load_checkpoint
from ..registry import MODELS
from ..structures import DataSample

# Pipeline steps that read ground truth; inference has none.
ANNOTATION_LOADERS = frozenset({"LoadSegMap"})
ImageInput = str | Path | np.ndarray


def init_model(
    config: str | Config,
    checkpoint: str | None = None,
    device: str = "cpu",
    cfg_options: dict | None = None,
    deploy: bool = False,
) -> nn.Module | OnnxRuntimeModel:
    """Build the config's model in eval mode, load ``checkpoint`` (path, URL or ``torchvision://``).

    ``deploy=True`` then folds every BatchNorm into the conv before it (:func:`fuse_batchnorm`): same
    outputs, fewer ops; the result is for inference only (it has no BatchNorm left to train or load).

    The model gets ``cfg`` (the config) and ``dataset_meta`` (class names, palette, category ids) from
    the checkpoint's ``meta`` when the Runner saved it there, else from the config's test dataset
    settings, else ``{}``.

    A ``.onnx`` checkpoint (from ``tools/export.py``) gives an :class:`OnnxRuntimeModel` instead, which
    :func:`inference_model` runs through ONNX Runtime (``pip install -e ".[deploy]"``); a ``.pte``
    (ExecuTorch) an :class:`ExecuTorchModel` (``pip install -e ".[mobile]"``).
    """
    cfg = load_config(config, cfg_options) if isinstance(config, (str, Path)) else config
    if checkpoint is not None and str(checkpoint).endswith(".onnx"):
        return OnnxRuntimeModel(cfg, checkpoint, device)
    if checkpoint is not None and str(checkpoint).endswith(".pte"):
        from ..deploy.executorch_export import ExecuTorchModel  # the optional mobile extra

        return ExecuTorchModel(cfg, checkpoint, device)
    init_default_scope(cfg.get("default_scope", "visionkit"))
    model = MODELS.build(cfg.model)
    meta: dict[str, Any] = {}
    if checkpoint is not None:
        loaded = load_checkpoint(model, checkpoint, map_location="cpu")
        if isinstance(loaded, dict):
            meta = dict(loaded.get("meta", {}).get("dataset_meta") or {})
    if not meta:
        meta = dict(cfg.get("test_dataloader", {}).get("dataset", {}).get("metainfo") or {})
    model.cfg, model.dataset_meta = cfg, meta
    model = model.to(device).eval()
    return fuse_batchnorm(model) if deploy else model


def build_test_pipeline(cfg: Config) -> list:
    """The config's test pipeline as callables, without the steps that read ground truth."""
    steps = copy.deepcopy(cfg.test_dataloader.dataset.get("pipeline", []))
    return build_pipeline([s for s in steps if s.get("type") not in ANNOTATION_LOADERS])


def prepare_image(image: ImageInput, pipeline: list) -> dict:
    """One image (path or (H, W, 3) uint8 RGB array) through ``pipeline`` -> ``{inputs, data_samples}``."""
    if isinstance(image, np.ndarray):
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(f"image arrays must be (H, W, 3) uint8 RGB, got {image.shape} {image.dtype}")
        results: dict[str, Any] = {"img": image, "ori_shape": image.shape[:2], "img_shape": image.shape[:2]}
        steps = [s for s in pipeline if type(s).__name__ != "LoadImage"]
    else:
        results, steps = {"img_path": str(image)}, pipeline
    for step in steps:
        results = step(results)
    return results


@torch.no_grad()
def inference_model(
    model: nn.Module, images: ImageInput | Sequence[ImageInput], batch_size: int = 1
) -> list[DataSample]:
    """Predict on ``images``; one :class:`DataSample` per image, in order, with the task's predictions."""
    single = isinstance(images, (str, Path, np.ndarray))
    items = [images] if single else list(images)
    pipeline = build_test_pipeline(model.cfg)
    samples: list[DataSample] = []
    for start in range(0, len(items), batch_size):
        chunk = items[start : start + batch_size]
        batch = pseudo_collate([prepare_image(image, pipeline) for image in chunk])
        samples += model.test_step(batch)
    return samples
