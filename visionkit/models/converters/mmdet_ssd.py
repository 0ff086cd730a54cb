"""Renaming mmdetection ``SingleStageDetector`` (SSD) keys to :class:`SSDDetector`'s, so an mmdet
SSDLite checkpoint loads as-is. The backbone renames its own keys (``mmdet_mobilenet_v2.py``).

mmdetection's ``SSDNeck(use_depthwise=True)`` builds each extra level from a ``ConvModule`` and a
``DepthwiseSeparableConvModule``; its ``SSDHead(use_depthwise=True)`` has the same layout as
:class:`SSDLiteHead` under another name::

    neck.extra_layers.{i}.0.{conv,bn}                 -> neck.blocks.{i}.0.{conv,bn}
    neck.extra_layers.{i}.1.depthwise_conv.{conv,bn}  -> neck.blocks.{i}.1.{conv,bn}
    neck.extra_layers.{i}.1.pointwise_conv.{conv,bn}  -> neck.blocks.{i}.2.{conv,bn}
    bbox_head.*                                       -> head.*
"""

from __future__ import annotations

import re
from typing import Any

_NECK_KEY = re.compile(r"neck\.extra_layers\.(\d+)\.(0|1\.depthwise_conv|1\.pointwise_conv)\.(.+)")
_NECK_MODULES = {"0": "0", "1.depthwise_conv": "1", "1.pointwise_conv": "2"}


def mmdet_to_visionkit_ssd_key(key: str) -> str | None:
    """One mmdet neck or head key (without prefix) -> :class:`SSDDetector`'s, ``None`` when not one."""
    if key.startswith("bbox_head."):
        return "head." + key[len("bbox_head.") :]
    match = _NECK_KEY.fullmatch(key)
    if match is None:
        return None
    level, module, rest = match.groups()
    return f"neck.blocks.{level}.{_NECK_MODULES[module]}.{rest}"


def convert_mmdet_ssd_keys(state_dict: dict[str, Any], prefix: str, *args: Any) -> None:
    """Load-state-dict pre-hook for :class:`SSDDetector`: rename mmdet neck and head keys in place."""
    for key in [k for k in state_dict if k.startswith(prefix)]:
        new = mmdet_to_visionkit_ssd_key(key[len(prefix) :])
        if new is not None:
            state_dict[prefix + new] = state_dict.pop(key)
