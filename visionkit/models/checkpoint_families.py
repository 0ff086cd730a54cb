"""Which library's network a state dict was saved from, told by the key names only that family writes.

For errors: a file that does not fit the model gets a line naming the family it looks like and visionkit's
configs that hold it (a timm MobileNetV3 file into a MobileNetV2 config, a PaddleClas file into a torchvision
one...). The first matching entry wins, so whole models (detectors, segmenters) come before their backbones.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

VISIONKIT = "a visionkit model"
# (a key only that family's files have, the family, visionkit's configs for it)
_FAMILIES: tuple[tuple[re.Pattern, str, str], ...] = tuple(
    (re.compile(pattern), family, configs)
    for pattern, family, configs in (
        (r"^bbox_head\.", "mmdetection's SSDLite", "configs/ssdlite_mnv2_mmdet_coco.py"),
        (
            r"^head\.classification_head\.",
            "torchvision's ssdlite320_mobilenet_v3_large",
            "configs/ssdlite320_mnv3_large_coco.py",
        ),
        (
            r"^backbone\.\d+\.block\.",
            "torchvision's deeplabv3 / lraspp_mobilenet_v3_large",
            "configs/deeplabv3_mnv3_large_voc.py or configs/lraspp_mnv3_large_voc.py",
        ),
        (r"(^|\.)conv1\._conv\.weight$", "PaddleClas's MobileNetV2", "configs/mobilenet_v2_paddle_*.py"),
        (r"(^|\.)conv_head\.bias$", "timm's MobileNetV3", "configs/mobilenet_v3_*_timm_imagenet.py"),
        (r"(^|\.)conv_stem\.weight$", "timm's MobileNetV2", "configs/mobilenet_v2_timm_*.py"),
        (
            r"(^|\.)features\.1\.conv\.0\.0\.weight$",
            "torchvision's mobilenet_v2",
            "configs/mobilenet_v2_imagenet_torchvision.py or configs/mobilenet_v2_imagenet1k_v2.py",
        ),
        (
            r"(^|\.)features\.1\.block\.0\.0\.weight$",
            "torchvision's mobilenet_v3_large / _small",
            "configs/mobilenet_v3_large_imagenet.py or configs/mobilenet_v3_small_imagenet.py",
        ),
        (r"(^|\.)conv1\.conv\.weight$", "mmdetection's MobileNetV2", "configs/ssdlite_mnv2_mmdet_coco.py"),
        (r"(^|\.)stem\.conv\.weight$", VISIONKIT, "the config it was trained with"),
    )
)


def checkpoint_family(keys: Iterable[str]) -> tuple[str, str] | None:
    """(family, configs) of the first family whose key is among ``keys``, or None."""
    keys = list(keys)
    for pattern, family, configs in _FAMILIES:
        if any(pattern.search(key) for key in keys):
            return family, configs
    return None


def is_foreign(keys: Iterable[str]) -> bool:
    """Whether ``keys`` are another library's network's (renamed on loading, so never under ``backbone.``
    of a visionkit model by mistake)."""
    found = checkpoint_family(keys)
    return found is not None and found[0] != VISIONKIT


def family_hint(keys: Iterable[str]) -> str:
    """An error's line naming the family ``keys`` look like and where visionkit holds it; "" if unknown."""
    found = checkpoint_family(keys)
    if found is None:
        return ""
    family, configs = found
    return f"\n  The file looks like a checkpoint of {family}: load it with {configs}"
