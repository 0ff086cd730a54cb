"""Renaming torchvision ``mobilenet_v2`` state-dict keys to visionkit's, so its checkpoints load as-is.

torchvision numbers modules inside ``features``; visionkit names them::

    features.0.{0,1}                 -> stem.{conv,bn}
    features.k.conv.0.{0,1}          -> blocks.(k-1).expand.{conv,bn}      (blocks with expansion)
    features.k.conv.1.{0,1}          -> blocks.(k-1).depthwise.{conv,bn}
    features.k.conv.{2,3}            -> blocks.(k-1).project.{conv,bn}
    features.1.conv.0.{0,1}          -> blocks.0.depthwise.{conv,bn}       (t=1: no expansion)
    features.1.conv.{1,2}            -> blocks.0.project.{conv,bn}
    features.18.{0,1}                -> final_conv.{conv,bn}
    classifier.1                     -> head.fc   (ImageClassifier and ClassifierHead pre-hooks)

The functions are load-state-dict pre-hooks: they rewrite keys in place, so ``load_state_dict``,
mmengine's ``load_checkpoint`` and ``Pretrained`` init all accept torchvision files.
"""

from __future__ import annotations

import re
from typing import Any

from mmengine.logging import print_log

_FEATURE_KEY = re.compile(r"features\.(\d+)\.(.+)")


def _rename_block(index: int, rest: str, has_expansion: bool) -> str:
    parts = ["expand", "depthwise", "project"] if has_expansion else ["depthwise", "project"]
    sub = rest[len("conv.") :]
    position, _, tail = sub.partition(".")
    position = int(position)
    if position < len(parts) - 1:  # expand / depthwise: conv.i.{0,1}.param
        seq, _, param = tail.partition(".")
        return f"blocks.{index - 1}.{parts[position]}.{('conv', 'bn')[int(seq)]}.{param}"
    # projection: conv.(n) is the conv, conv.(n+1) its BatchNorm
    return f"blocks.{index - 1}.project.{('conv', 'bn')[position - (len(parts) - 1)]}.{tail}"


def torchvision_to_visionkit_backbone(state_dict: dict[str, Any], prefix: str = "") -> bool:
    """Rename ``{prefix}features.*`` keys of a torchvision MobileNetV2 in place; return whether it was one
    (a MobileNetV3's ``features`` are left alone, for the mismatch error to name them)."""
    keys = [k for k in state_dict if k.startswith(prefix + "features.")]
    if not keys or f"{prefix}features.1.conv.0.0.weight" not in state_dict:
        return False
    indices = {int(_FEATURE_KEY.match(k[len(prefix) :]).group(1)) for k in keys}
    last = max(indices)
    expanded = {i for i in indices if f"{prefix}features.{i}.conv.3.weight" in state_dict}
    for key in keys:
        index_str, rest = _FEATURE_KEY.match(key[len(prefix) :]).groups()
        index = int(index_str)
        if index == 0 or index == last:
            seq, _, param = rest.partition(".")
            module = "stem" if index == 0 else "final_conv"
            new = f"{module}.{('conv', 'bn')[int(seq)]}.{param}"
        else:
            new = _rename_block(index, rest, index in expanded)
        state_dict[prefix + new] = state_dict.pop(key)
    return True


def drop_classifier_keys(state_dict: dict[str, Any], prefix: str, model_name: str) -> None:
    """Delete a torchvision classifier's ``classifier.*`` keys (a backbone has no use for them) and log it."""
    dropped = [k for k in list(state_dict) if k.startswith(prefix + "classifier.")]
    for key in dropped:
        del state_dict[key]
    if dropped:
        print_log(
            f"torchvision {model_name} checkpoint loaded into a backbone: its classifier "
            f"({', '.join(dropped)}) is not used",
            logger="current",
        )


def convert_torchvision_backbone_keys(state_dict: dict[str, Any], prefix: str, *args: Any) -> None:
    """Pre-hook for the backbone: rename torchvision keys; drop the ImageNet classifier if present."""
    if torchvision_to_visionkit_backbone(state_dict, prefix):
        drop_classifier_keys(state_dict, prefix, "MobileNetV2")
