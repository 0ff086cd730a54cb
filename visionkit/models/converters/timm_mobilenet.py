"""Renaming timm MobileNet keys (``mobilenetv2_*``, ``mobilenetv3_large_*`` / ``_small_*``) to visionkit's,
so timm's ``.pth`` and ``.safetensors`` files load as they are.

timm numbers blocks by stage and position (``blocks.{s}.{j}``) and names the layers of its blocks;
visionkit numbers blocks over the whole network, in the same order::

    conv_stem / bn1                                   -> stem.{conv,bn}
    blocks.s.j.{conv_pw,bn1,conv_dw,bn2,conv_pwl,bn3} -> blocks.k.{expand,depthwise,project}.{conv,bn}
    blocks.s.j.{conv_dw,bn1,conv_pw,bn2}              -> blocks.k.{depthwise,project}.{conv,bn}  (no conv_pwl:
                                                         the depthwise-separable first block)
    blocks.s.j.se.{conv_reduce,conv_expand}           -> blocks.k.se.{fc1,fc2}
    conv_head / bn2                                   -> final_conv.{conv,bn}        (MobileNetV2)
    blocks.s.0.{conv,bn1}  (the last stage, a conv)   -> final_conv.{conv,bn}        (MobileNetV3)
    conv_head (a 1x1 conv with bias, after pooling)   -> head.hidden (as a Linear)  (MobileNetV3)
    classifier                                        -> head.fc

``k`` counts the blocks of the file in (stage, position) order. The stage repeats a MobileNetV2 file was
built with are checked against the backbone's (``stage_repeats``: ``mobilenetv2_110d`` / ``_120d``).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

from mmengine.logging import print_log

from ..checkpoint import CheckpointMismatchError

_BLOCK = re.compile(r"blocks\.(\d+)\.(\d+)\.(.+)")
_INVERTED = {"conv_pw": "expand.conv", "bn1": "expand.bn", "conv_dw": "depthwise.conv", "bn2": "depthwise.bn"}
_INVERTED |= {"conv_pwl": "project.conv", "bn3": "project.bn"}
_SEPARABLE = {"conv_dw": "depthwise.conv", "bn1": "depthwise.bn"}
_SEPARABLE |= {"conv_pw": "project.conv", "bn2": "project.bn"}
_SQUEEZE = {"se.conv_reduce": "se.fc1", "se.conv_expand": "se.fc2"}
_FINAL_BLOCK = {"conv": "final_conv.conv", "bn1": "final_conv.bn"}
_ENDS = {"conv_stem": "stem.conv", "bn1": "stem.bn"}
_V2_HEAD = {"conv_head": "final_conv.conv", "bn2": "final_conv.bn"}


def is_timm_mobilenet(state_dict: dict[str, Any], prefix: str = "") -> bool:
    return prefix + "conv_stem.weight" in state_dict


def _rename_part(rest: str, table: dict[str, str]) -> str | None:
    for old, new in table.items():
        if rest.startswith(old + "."):
            return new + rest[len(old) :]
    return None


def _block_layout(keys: list[str]) -> tuple[dict[tuple[int, int], int], set[tuple[int, int]], Counter]:
    """From the file's block keys: flat index of each inverted-residual block, the (stage, position) of a
    final conv block, and the number of blocks per stage."""
    positions = sorted({(int(m[1]), int(m[2])) for k in keys if (m := _BLOCK.fullmatch(k))})
    final = {(s, j) for s, j in positions if f"blocks.{s}.{j}.conv.weight" in keys}
    blocks = [pos for pos in positions if pos not in final]
    return {pos: k for k, pos in enumerate(blocks)}, final, Counter(s for s, _ in blocks)


def timm_to_visionkit_backbone_key(key: str, layout: dict, final: set, keys: set[str]) -> str | None:
    """One timm key (without prefix) -> visionkit's backbone key, ``None`` for the classifier's keys."""
    match = _BLOCK.fullmatch(key)
    if match is None:
        head = _V2_HEAD if "bn2.weight" in keys else {}
        return _rename_part(key, _ENDS) or _rename_part(key, head)
    stage, position, rest = int(match[1]), int(match[2]), match[3]
    if (stage, position) in final:
        return _rename_part(rest, _FINAL_BLOCK)
    inverted = f"blocks.{stage}.{position}.conv_pwl.weight" in keys
    part = _rename_part(rest, _SQUEEZE) or _rename_part(rest, _INVERTED if inverted else _SEPARABLE)
    return None if part is None else f"blocks.{layout[stage, position]}.{part}"


def convert_timm_backbone_keys(
    state_dict: dict[str, Any], prefix: str, *args: Any, stage_repeats: Sequence[int] | None = None
) -> None:
    """Load-state-dict pre-hook for the MobileNet backbones: rename timm keys under ``prefix`` in place and
    drop timm's classifier (and MobileNetV3's ``conv_head``, a head layer) with a log line.

    ``stage_repeats``: the backbone's blocks per stage (MobileNetV2), checked against the file's.
    """
    if not is_timm_mobilenet(state_dict, prefix):
        return
    keys = {k[len(prefix) :] for k in state_dict if k.startswith(prefix)}
    layout, final, per_stage = _block_layout(sorted(keys))
    file_repeats = [per_stage[s] for s in sorted(per_stage)]
    if stage_repeats is not None and "bn2.weight" not in keys:  # MobileNetV3's head conv has no BatchNorm
        raise CheckpointMismatchError("timm MobileNetV3 checkpoint into a MobileNetV2")
    if stage_repeats is not None and file_repeats != list(stage_repeats):
        raise CheckpointMismatchError(
            f"timm checkpoint with {file_repeats} blocks per stage into a MobileNetV2 of "
            f"{list(stage_repeats)}: "
            f"build it with stage_repeats={tuple(file_repeats)} (timm's mobilenetv2_110d / _120d: see "
            "configs/mobilenet_v2_timm_110d_imagenet.py)"
        )
    dropped = []
    for key in sorted(keys):
        new = timm_to_visionkit_backbone_key(key, layout, final, keys)
        value = state_dict.pop(prefix + key)
        if new is None:
            dropped.append(key)
        else:
            state_dict[prefix + new] = value
    if dropped:
        print_log(
            f"timm checkpoint loaded into a backbone: {', '.join(dropped)} (its classifier) not used",
            logger="current",
        )


def route_timm_classifier_keys(state_dict: dict[str, Any], prefix: str, *args: Any) -> None:
    """:class:`ImageClassifier` pre-hook: timm's ``classifier`` -> ``head.fc``, MobileNetV3's ``conv_head``
    -> ``head.hidden`` (its 1x1 conv weight as a Linear's), every other timm key -> ``backbone.``, where the
    backbone's :func:`convert_timm_backbone_keys` renames it."""
    if not is_timm_mobilenet(state_dict, prefix):
        return
    v3_head = prefix + "bn2.weight" not in state_dict  # MobileNetV2's conv_head has a BatchNorm, bn2
    for key in [k for k in state_dict if k.startswith(prefix)]:
        rest = key[len(prefix) :]
        value = state_dict.pop(key)
        if rest.startswith("classifier."):
            state_dict[f"{prefix}head.fc.{rest[len('classifier.') :]}"] = value
        elif rest.startswith("conv_head.") and v3_head:  # (out, in, 1, 1) -> (out, in)
            state_dict[f"{prefix}head.hidden.{rest[len('conv_head.') :]}"] = value.reshape(value.shape[:2])
        else:
            state_dict[f"{prefix}backbone.{rest}"] = value
