"""Python inference API: build a model from a config and checkpoint, run it on images.

    model = init_model("configs/deeplabv3lite_mnv2_voc.py", "work_dirs/.../epoch_50.pth")
    samples = inference_model(model, ["a.jpg", image_array])      # DataSamples with predictions

Images are file paths, PIL images (any mode; converted to RGB) or (H, W, 3) uint8 arrays in RGB channel
order (pass ``channel_order="bgr"`` for arrays read by ``cv2.imread``). The config's test pipeline
prepares them, minus the steps that read annotations; predictions come back at each image's original size.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope
from PIL import Image
from torch import nn

from ..datasets.transforms.build import build_pipeline, without_annotation_loaders
from ..deploy import RuntimeModel, build_runtime_model, fuse_batchnorm, is_runtime_file
from ..engine.config import load_config
from ..models.checkpoint import load_checkpoint
from ..models.dataset_meta_checks import checked_metainfo
from ..registry import MODELS
from ..structures import DataSample

ImageInput = str | Path | np.ndarray | Image.Image
CHANNEL_ORDERS = ("rgb", "bgr")


def init_model(
    config: str | Config,
    checkpoint: str | None = None,
    device: str = "cpu",
    cfg_options: dict | None = None,
    deploy: bool = False,
    runtime: str | None = None,
) -> nn.Module | RuntimeModel:
    """Build the config's model in eval mode, load ``checkpoint`` (path, URL or ``torchvision://``).

    ``deploy=True`` then folds every BatchNorm into the conv before it (:func:`fuse_batchnorm`): same
    outputs, fewer ops; the result is for inference only (it has no BatchNorm left to train or load).

    The model gets ``cfg`` (the config) and ``dataset_meta`` (class names, palette, category ids) from
    the checkpoint's ``meta`` when the Runner saved it there, else from the config's test dataset
    settings, else ``{}``.

    An exported file (from ``tools/export.py``) gives a :class:`~visionkit.deploy.RuntimeModel` instead,
    which :func:`inference_model` runs the same way: ``runtime`` names one of
    :func:`~visionkit.deploy.runtime_names` (``.onnx``: ``'onnxruntime'``, the default, needs
    ``pip install -e ".[deploy]"``, or ``'openvino'``, ``".[openvino]"``; ``.pte``: ``'executorch'``,
    ``".[mobile]"``); see :mod:`visionkit.deploy.runtimes`.
    """
    cfg = load_config(config, cfg_options) if isinstance(config, (str, Path)) else config
    if checkpoint is not None and is_runtime_file(checkpoint):
        return build_runtime_model(cfg, checkpoint, runtime, device)
    if runtime is not None:
        raise ValueError(f"runtime='{runtime}' runs exported files (tools/export.py), not '{checkpoint}'")
    init_default_scope(cfg.get("default_scope", "visionkit"))
    model = MODELS.build(cfg.model)
    meta: dict[str, Any] = {}
    if checkpoint is not None:
        loaded = load_checkpoint(model, checkpoint, map_location="cpu")
        saved = loaded.get("meta") if isinstance(loaded, dict) else None
        meta = checked_metainfo(
            saved.get("dataset_meta") if isinstance(saved, dict) else None, f"Checkpoint '{checkpoint}'"
        )
    if not meta:
        meta = dict(cfg.get("test_dataloader", {}).get("dataset", {}).get("metainfo") or {})
    model.cfg, model.dataset_meta = cfg, meta
    model = model.to(device).eval()
    return fuse_batchnorm(model) if deploy else model


def build_test_pipeline(cfg: Config) -> list:
    """The config's test pipeline as callables, without the steps that read ground truth.

    A multi-task config (a ``MultiTaskDataset`` of one data set per task) predicts every task on one
    image, so its tasks' test pipelines must be one pipeline once the ground-truth steps are left out.
    """
    dataset = cfg.test_dataloader.dataset
    pipelines = {name: d.get("pipeline", []) for name, d in dataset.get("datasets", {}).items()}
    pipelines = pipelines or {"": dataset.get("pipeline", [])}
    steps = {name: without_annotation_loaders(p) for name, p in pipelines.items()}
    first = next(iter(steps.values()))
    if any(other != first for other in steps.values()):
        raise ValueError(
            f"The test pipelines of the tasks {sorted(steps)} differ (ground-truth steps aside); a "
            "multi-task model predicts every task on the same image: give the tasks one test pipeline"
        )
    return build_pipeline(first)


def as_rgb_array(image: np.ndarray | Image.Image, channel_order: str = "rgb") -> np.ndarray:
    """A PIL image or (H, W, 3) uint8 array in ``channel_order`` -> (H, W, 3) uint8 RGB array.

    PIL images know their mode and are converted (grey, palette, RGBA -> RGB). An array's channel order
    cannot be read from its values, so it is the caller's word: ``"rgb"`` (PIL, torchvision, matplotlib)
    or ``"bgr"`` (``cv2.imread``, mmcv). Shape and dtype are checked; a 4-channel array is refused.
    """
    if channel_order not in CHANNEL_ORDERS:
        raise ValueError(f"channel_order must be one of {CHANNEL_ORDERS}, got {channel_order!r}")
    if isinstance(image, Image.Image):
        return np.asarray(image.convert("RGB"))
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        hint = (
            " (RGBA? drop the alpha channel: image[..., :3])"
            if image.ndim == 3 and image.shape[2] == 4
            else ""
        )
        raise ValueError(
            f"image arrays must be (H, W, 3) uint8 {channel_order.upper()}, got {image.shape} "
            f"{image.dtype}{hint}; a PIL image or a file path also works"
        )
    return np.ascontiguousarray(image[..., ::-1]) if channel_order == "bgr" else image


def prepare_image(image: ImageInput, pipeline: list, channel_order: str = "rgb") -> dict:
    """One image (path, PIL image or (H, W, 3) uint8 array in ``channel_order``) through ``pipeline``
    -> ``{inputs, data_samples}``."""
    if isinstance(image, (np.ndarray, Image.Image)):
        image = as_rgb_array(image, channel_order)
        results: dict[str, Any] = {"img": image, "ori_shape": image.shape[:2], "img_shape": image.shape[:2]}
        steps = [s for s in pipeline if type(s).__name__ != "LoadImage"]
    else:
        results, steps = {"img_path": str(image)}, pipeline
    for step in steps:
        results = step(results)
    return results


@torch.no_grad()
def inference_model(
    model: nn.Module,
    images: ImageInput | Sequence[ImageInput],
    batch_size: int = 1,
    channel_order: str = "rgb",
    pipeline: list | None = None,
) -> list[DataSample]:
    """Predict on ``images``; one :class:`DataSample` per image, in order, with the task's predictions.

    ``images``: one or a sequence of file paths, PIL images and (H, W, 3) uint8 arrays; arrays are in
    ``channel_order`` (``"rgb"``, or ``"bgr"`` for ``cv2.imread`` arrays; see :func:`as_rgb_array`).
    ``pipeline``: :func:`build_test_pipeline` of the model's config, for callers that predict image after
    image (video frames) and build it once; built here when not given.
    """
    single = isinstance(images, (str, Path, np.ndarray, Image.Image))
    items = [images] if single else list(images)
    pipeline = build_test_pipeline(model.cfg) if pipeline is None else pipeline
    samples: list[DataSample] = []
    for start in range(0, len(items), batch_size):
        chunk = items[start : start + batch_size]
        batch = pseudo_collate([prepare_image(image, pipeline, channel_order) for image in chunk])
        samples += model.test_step(batch)
    return samples
