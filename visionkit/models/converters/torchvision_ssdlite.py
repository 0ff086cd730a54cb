"""Renaming torchvision ``ssdlite320_mobilenet_v3_large`` state-dict keys to :class:`SSDDetector`'s, so its
COCO file loads as-is.

torchvision's ``SSDLiteFeatureExtractorMobileNet`` splits the MobileNetV3 ``features`` at the C4 block
(``c4_pos``, 13 for Large): ``features.0`` holds ``features[:c4_pos]`` and the C4 block's expansion conv,
``features.1`` the rest of the C4 block (its ``block[1:]``, which keeps the indices 1, 2, 3) and the blocks
after it. This hook puts the backbone keys back in ``mobilenet_v3_large``'s layout, which the backbone's own
converter (``torchvision_mobilenet_v3.py``) then renames::

    backbone.features.0.{i}.*          (i < c4_pos)  -> backbone.features.{i}.*
    backbone.features.0.{c4_pos}.*                   -> backbone.features.{c4_pos}.block.0.*
    backbone.features.1.0.{j}.*                      -> backbone.features.{c4_pos}.block.{j}.*
    backbone.features.1.{m}.*          (m >= 1)      -> backbone.features.{c4_pos + m}.*
    backbone.extra.{i}.{j}.{0,1}.*                   -> neck.blocks.{i}.{j}.{conv,bn}.*
    head.classification_head.module_list.{l}.0.{0,1}.* -> head.cls_convs.{l}.0.{conv,bn}.*
    head.classification_head.module_list.{l}.1.*       -> head.cls_convs.{l}.1.*   (rows reordered)
    head.regression_head.module_list.{l}...            -> head.reg_convs.{l}...    (likewise)

torchvision's class scores put background at index 0 and COCO category ids 1..90 after it; visionkit's
:class:`SSDLiteHead` puts it last. Each anchor's rows of a class-score conv move from (background,
1..K) to (1..K, background), so visionkit label ``j`` is torchvision label ``j + 1``.
"""

from __future__ import annotations

import re
from typing import Any

from torch import Tensor

_FEATURES = re.compile(r"backbone\.features\.([01])\.(\d+)\.(.+)")
_EXTRA = re.compile(r"backbone\.extra\.(\d+)\.(\d+)\.([01])\.(.+)")
_HEAD = re.compile(r"head\.(classification|regression)_head\.module_list\.(\d+)\.(0\.([01])|1)\.(.+)")
_NORM = ("conv", "bn")


def is_torchvision_ssdlite(keys: list[str]) -> bool:
    """Whether (prefix-free) keys are torchvision SSDLite's: its extra layers or its heads are there."""
    return any(k.startswith(("backbone.extra.", "head.classification_head.")) for k in keys)


def torchvision_to_visionkit_ssdlite_key(key: str, c4_pos: int) -> str | None:
    """One torchvision SSDLite key -> :class:`SSDDetector`'s (backbone keys in ``mobilenet_v3`` layout),
    ``None`` when not one."""
    if match := _FEATURES.fullmatch(key):
        part, index, rest = match.group(1), int(match.group(2)), match.group(3)
        if part == "0":
            return f"backbone.features.{index}.{'block.0.' if index == c4_pos else ''}{rest}"
        if index == 0:
            return f"backbone.features.{c4_pos}.block.{rest}"
        return f"backbone.features.{c4_pos + index}.{rest}"
    if match := _EXTRA.fullmatch(key):
        level, position, seq, param = match.groups()
        return f"neck.blocks.{level}.{position}.{_NORM[int(seq)]}.{param}"
    if match := _HEAD.fullmatch(key):
        kind, level, module, seq, param = match.groups()
        branch = "cls_convs" if kind == "classification" else "reg_convs"
        module = f"0.{_NORM[int(seq)]}" if seq is not None else "1"
        return f"head.{branch}.{level}.{module}.{param}"
    return None


def background_last(tensor: Tensor, num_anchors: int) -> Tensor:
    """Class-score conv rows (A * (K + 1), ...) of ``num_anchors`` anchors, background first -> last."""
    grouped = tensor.unflatten(0, (num_anchors, -1))
    return grouped.roll(-1, dims=1).flatten(0, 1)


def convert_torchvision_ssdlite_keys(state_dict: dict[str, Any], prefix: str, *args: Any) -> None:
    """Load-state-dict pre-hook for :class:`SSDDetector`: rename torchvision SSDLite keys in place and put
    background last in its class-score convs."""
    keys = [k[len(prefix) :] for k in state_dict if k.startswith(prefix)]
    if not is_torchvision_ssdlite(keys):
        return
    # features.0 holds backbone[:c4_pos] and the C4 expansion: its largest index is c4_pos.
    first = [int(m.group(2)) for k in keys if (m := _FEATURES.fullmatch(k)) and m.group(1) == "0"]
    c4_pos = max(first, default=0)
    for key in keys:
        new = torchvision_to_visionkit_ssdlite_key(key, c4_pos)
        if new is None:
            continue
        tensor = state_dict.pop(prefix + key)
        head = _HEAD.fullmatch(key)
        if head is not None and head.group(1) == "classification" and head.group(3) == "1":
            level = head.group(2)  # anchors per location from the regression conv: 4 rows each
            regression = state_dict.get(f"{prefix}head.regression_head.module_list.{level}.1.bias")
            if regression is None:  # renamed earlier in this loop
                regression = state_dict[f"{prefix}head.reg_convs.{level}.1.bias"]
            tensor = background_last(tensor, len(regression) // 4)
        state_dict[prefix + new] = tensor
