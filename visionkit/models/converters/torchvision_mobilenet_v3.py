"""Renaming torchvision ``mobilenet_v3_large`` / ``mobilenet_v3_small`` state-dict keys to visionkit's.

torchvision numbers the parts of each block in ``features.k.block``: expand (when the block has one),
depthwise, squeeze-excite (when it has one), project. visionkit names them::

    features.0.{0,1}                 -> stem.{conv,bn}
    features.k.block.j.{0,1}         -> blocks.(k-1).{expand,depthwise,project}.{conv,bn}
    features.k.block.j.fc{1,2}       -> blocks.(k-1).se.fc{1,2}
    features.(B+1).{0,1}             -> final_conv.{conv,bn}         (B blocks)
    classifier.*                     -> dropped when loaded into a bare backbone

The part list of each block comes from the built backbone (``block_parts``), so the pre-hook never guesses
from the file. A MobileNetV2 file (``features.k.conv``) is left alone and fails as a key mismatch.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from .torchvision_mobilenet_v2 import drop_classifier_keys

_FEATURE_KEY = re.compile(r"features\.(\d+)\.(.+)")
_BLOCK_KEY = re.compile(r"features\.\d+\.block\.")


def torchvision_v3_to_visionkit_backbone(
    state_dict: dict[str, Any], prefix: str, block_parts: Sequence[Sequence[str]]
) -> bool:
    """Rename ``{prefix}features.*`` keys of a torchvision MobileNetV3 in place; return whether any were.

    ``block_parts[i]``: the part names of visionkit block i in torchvision's order, e.g.
    ``("expand", "depthwise", "se", "project")``.
    """
    keys = [k for k in state_dict if k.startswith(prefix + "features.")]
    if not any(_BLOCK_KEY.match(k[len(prefix) :]) for k in keys):
        return False
    final = len(block_parts) + 1
    for key in keys:
        index_str, rest = _FEATURE_KEY.match(key[len(prefix) :]).groups()
        index = int(index_str)
        if index in (0, final):
            seq, _, param = rest.partition(".")
            new = f"{'stem' if index == 0 else 'final_conv'}.{('conv', 'bn')[int(seq)]}.{param}"
        elif 0 < index < final and rest.startswith("block."):
            position, _, tail = rest[len("block.") :].partition(".")
            part = block_parts[index - 1][int(position)]
            if part != "se":  # a Conv2dNormActivation: .0 conv, .1 BatchNorm
                seq, _, param = tail.partition(".")
                tail = f"{('conv', 'bn')[int(seq)]}.{param}"
            new = f"blocks.{index - 1}.{part}.{tail}"
        else:
            continue  # not a MobileNetV3 key: left for the key check to report
        state_dict[prefix + new] = state_dict.pop(key)
    return True


def convert_torchvision_v3_backbone_keys(
    state_dict: dict[str, Any], prefix: str, *args: Any, block_parts: Sequence[Sequence[str]]
) -> None:
    """Pre-hook for the backbone: rename torchvision keys; drop the ImageNet classifier if present."""
    if torchvision_v3_to_visionkit_backbone(state_dict, prefix, block_parts):
        drop_classifier_keys(state_dict, prefix, "MobileNetV3")
