"""A seeded random mmdetection SSDLite-MobileNetV2 checkpoint, the photos it is compared on, and the pairing
of two detection lists.

Shared by ``dev/mmdet_ssdlite_fixture.py`` (run once against mmdetection 3.3.0 itself, it writes
``tests/models/fixtures/mmdet_ssdlite_outputs.json``) and ``tests/models/test_mmdet_ssdlite.py`` (rebuilds
the same weights without mmdetection and checks visionkit's detections against mmdetection's).

The weights make detection a real task for NMS rather than an all-background model: Kaiming-normal convs,
BatchNorm statistics and affines drawn per channel, and the class-score convs scaled down and centred over
their input channels (a ReLU6 feature's mean would otherwise hand one class every anchor) with the
background logit raised, so every image has thousands of (anchor, class) pairs above the 0.02 threshold,
many classes among them, and the score order changes from image to image.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from skimage import data as skimage_data
from torch import Tensor

PHOTOS = ("astronaut", "coffee", "chelsea")
SMALL_NMS_PRE = 100  # a second run where counting nms_pre per level changes the result
SEED = 0
NUM_CLASSES = 80
BACKGROUND_LOGIT = 3.0
PREDICTOR_GAIN = 0.3


def photo(name: str) -> np.ndarray:
    """An skimage.data photo as (H, W, 3) uint8 RGB."""
    return np.ascontiguousarray(getattr(skimage_data, name)()[..., :3])


def _batchnorm_tensor(name: str, shape: list[int], generator: torch.Generator) -> Tensor:
    if name == "running_mean":
        return 0.2 * torch.randn(shape, generator=generator)
    if name == "running_var":
        return 0.5 + torch.rand(shape, generator=generator)
    if name == "weight":
        return 0.7 + 0.6 * torch.rand(shape, generator=generator)
    return 0.2 * torch.randn(shape, generator=generator)


def _is_predictor(key: str) -> bool:
    """The 1x1 conv that ends an mmdet SSDHead branch: ``bbox_head.{cls,reg}_convs.{level}.1.*``."""
    parts = key.split(".")
    return parts[0] == "bbox_head" and len(parts) == 5 and parts[3] == "1"


def seeded_mmdet_state_dict(key_shapes: list[tuple[str, list[int]]], seed: int = SEED) -> dict[str, Tensor]:
    """mmdetection-format state dict, drawn key by key in ``key_shapes`` order from one seeded generator."""
    generator = torch.Generator().manual_seed(seed)
    state_dict = {}
    for key, shape in key_shapes:
        module, name = key.rsplit(".", 1)
        if name == "num_batches_tracked":
            tensor = torch.tensor(0)
        elif module.endswith(".bn"):
            tensor = _batchnorm_tensor(name, shape, generator)
        elif len(shape) == 4:
            fan_in = math.prod(shape[1:])
            gain = PREDICTOR_GAIN if _is_predictor(key) else 1.0
            tensor = torch.randn(shape, generator=generator) * (gain * math.sqrt(2.0 / fan_in))
            if gain != 1.0:
                tensor -= tensor.mean(dim=1, keepdim=True)
        else:
            tensor = 0.1 * torch.randn(shape, generator=generator)
            if key.startswith("bbox_head.cls_convs."):
                tensor = tensor.view(-1, NUM_CLASSES + 1)
                tensor[:, NUM_CLASSES] += BACKGROUND_LOGIT
                tensor = tensor.flatten()
        state_dict[key] = tensor
    return state_dict


def match_detections(
    expected: dict[str, np.ndarray], actual: dict[str, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Pair two images' detections (``bboxes`` (D, 4), ``scores`` (D,), ``labels`` (D,)) one to one.

    Sorting by score alone would pair the wrong boxes where two scores differ by less than the two
    implementations' rounding; the pairing minimises the summed box and score differences among
    detections of the same label (a label mismatch costs more than any real difference).

    Returns:
        indices into ``expected`` and into ``actual``, paired.
    """
    from scipy.optimize import linear_sum_assignment

    cost = np.abs(expected["bboxes"][:, None] - actual["bboxes"][None]).max(axis=2)
    cost += np.abs(expected["scores"][:, None] - actual["scores"][None])
    cost += 1e6 * (expected["labels"][:, None] != actual["labels"][None])
    return linear_sum_assignment(cost)
