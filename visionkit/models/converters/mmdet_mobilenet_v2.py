"""Renaming mmdetection ``MobileNetV2`` state-dict keys to visionkit's, so its checkpoints load as-is.

mmdetection (``mmdet/models/backbones/mobilenet_v2.py``) numbers blocks per stage and names the convs of
its ``InvertedResidual`` and ``ConvModule``; visionkit numbers blocks over the whole network::

    conv1.{conv,bn}                                  -> stem.{conv,bn}
    layer{i}.{j}.expand_conv.{conv,bn}               -> blocks.{k}.expand.{conv,bn}
    layer{i}.{j}.depthwise_conv.{conv,bn}            -> blocks.{k}.depthwise.{conv,bn}
    layer{i}.{j}.linear_conv.{conv,bn}               -> blocks.{k}.project.{conv,bn}
    conv2.{conv,bn}                                  -> final_conv.{conv,bn}

with ``k`` = blocks of the stages before ``i`` + ``j`` (paper Table 2 repeats 1, 2, 3, 4, 3, 3, 1).
"""

from __future__ import annotations

import re
from typing import Any

_LAYER_KEY = re.compile(r"layer(\d)\.(\d+)\.(expand_conv|depthwise_conv|linear_conv)\.(.+)")
_MODULES = {"expand_conv": "expand", "depthwise_conv": "depthwise", "linear_conv": "project"}
_ENDS = {"conv1.": "stem.", "conv2.": "final_conv."}


def mmdet_to_visionkit_backbone_key(key: str, stage_repeats: list[int]) -> str | None:
    """One mmdet backbone key (without prefix) -> visionkit's, or ``None`` when it is not mmdet's."""
    for old, new in _ENDS.items():
        if key.startswith(old):
            return new + key[len(old) :]
    match = _LAYER_KEY.fullmatch(key)
    if match is None:
        return None
    stage, block, module, rest = match.groups()
    index = sum(stage_repeats[: int(stage) - 1]) + int(block)
    return f"blocks.{index}.{_MODULES[module]}.{rest}"


def convert_mmdet_backbone_keys(
    state_dict: dict[str, Any], prefix: str, *args: Any, stage_repeats: list[int]
) -> None:
    """Load-state-dict pre-hook (bind ``stage_repeats`` with ``functools.partial``): rename mmdet keys
    under ``prefix`` in place."""
    if prefix + "conv1.conv.weight" not in state_dict:
        return
    for key in [k for k in state_dict if k.startswith(prefix)]:
        new = mmdet_to_visionkit_backbone_key(key[len(prefix) :], stage_repeats)
        if new is not None:
            state_dict[prefix + new] = state_dict.pop(key)
