"""Models built from a config whose predictions depend on their input, for comparison tests.

A freshly built model often gives (nearly) the same output for every image: heads start with tiny
weights and BatchNorm with mean 0 / var 1, so any two implementations "agree". Here every conv and linear
layer is drawn with Kaiming's init, BatchNorm statistics are measured on images (train-mode passes), and
a segmentor's classifier bias is centred on the measured logits so that no class wins everywhere.
"""

from __future__ import annotations

from pathlib import Path

import torch
from mmengine.config import Config
from torch import nn

from visionkit.models.tasks import Segmentor
from visionkit.registry import MODELS

from .bn_statistics import train_every_batchnorm


def shape_images(sizes: list[tuple[int, int]], seed: int = 0) -> list[torch.Tensor]:
    """uint8 (3, H, W) noise images with one bright rectangle each."""
    generator = torch.Generator().manual_seed(seed)
    images = []
    for height, width in sizes:
        image = torch.randint(0, 120, (3, height, width), generator=generator, dtype=torch.uint8)
        top, left = int(torch.randint(0, height // 2, (1,), generator=generator)), width // 4
        image[:, top : top + height // 3, left : left + width // 3] = 230
        images.append(image)
    return images


def lively_model(config: str | Path | Config, seed: int = 0) -> nn.Module:
    """The config's model in eval mode, with input-dependent outputs (see the module docstring)."""
    torch.manual_seed(seed)
    model = MODELS.build((config if isinstance(config, Config) else Config.fromfile(str(config))).model)
    for module in model.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            nn.init.kaiming_normal_(module.weight)
    calibration = [shape_images([(56, 48)] * 4, seed=s) for s in (seed + 1, seed + 2)]
    train_every_batchnorm(model)
    with torch.no_grad():
        for images in calibration:
            model(model.data_preprocessor(dict(inputs=images), training=True)["inputs"], mode="tensor")
        model.eval()
        if isinstance(model, Segmentor):
            inputs = model.data_preprocessor(dict(inputs=calibration[0]), training=False)["inputs"]
            model.decode_head.classifier.bias -= model(inputs, mode="tensor").mean(dim=(0, 2, 3))
    return model
