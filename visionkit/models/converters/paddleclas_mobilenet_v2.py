"""Renaming PaddleClas ``MobileNetV2`` keys (``ppcls/arch/backbone/model_zoo/mobilenet_v2.py``, its
``.pdparams`` files) to visionkit's, so they load as they are into a MobileNetV2 built as PaddleClas builds
it (``expand_first_block=True, width_rounding="floor"``: configs/mobilenet_v2_paddle_*.py).

PaddleClas names stages ``conv2`` .. ``conv8`` (paper Table 2's seven), the first block of each
``_first_block`` and the others ``conv{i}_{j}`` (j = 2..n); each unit is ``_conv`` + ``_batch_norm``, whose
running statistics are ``_mean`` / ``_variance``::

    conv1.{_conv,_batch_norm}                                  -> stem.{conv,bn}
    conv{i}._first_block.{_expand_conv,_bottleneck_conv,_linear_conv}
                                                               -> blocks.k.{expand,depthwise,project}
    conv{i}.conv{i}_{j}.{...}                                  -> blocks.(k + j - 1).{...}
    conv9.{_conv,_batch_norm}                                  -> final_conv.{conv,bn}
    out.{weight,bias}  (a Linear stored (in, out))             -> head.fc.{weight (transposed), bias}

with ``k`` the blocks of the stages before stage ``i - 1``. ``paddle.save``'s table of Paddle's own
parameter names (``StructuredToParameterName@@``) is dropped when the file is read.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from mmengine.logging import print_log

from ..checkpoint import CheckpointMismatchError

_BLOCK = re.compile(r"conv(\d)\.(?:_first_block|conv\d_(\d+))\.(_expand|_bottleneck|_linear)_conv\.(.+)")
_PARTS = {"_expand": "expand", "_bottleneck": "depthwise", "_linear": "project"}
_UNIT = {"_conv.": "conv.", "_batch_norm._mean": "bn.running_mean", "_batch_norm._variance": "bn.running_var"}
_UNIT |= {"_batch_norm.": "bn."}
_ENDS = {"conv1.": "stem.", "conv9.": "final_conv."}


def is_paddleclas_mobilenet_v2(state_dict: dict[str, Any], prefix: str = "") -> bool:
    return prefix + "conv1._conv.weight" in state_dict


def _unit(rest: str) -> str | None:
    """``_conv.weight`` -> ``conv.weight``, ``_batch_norm._mean`` -> ``bn.running_mean``..."""
    for old, new in _UNIT.items():
        if rest.startswith(old):
            return new + rest[len(old) :]
    return None


def paddleclas_to_visionkit_backbone_key(key: str, stage_repeats: Sequence[int]) -> str | None:
    """One PaddleClas key (without prefix) -> visionkit's backbone key, ``None`` when not a backbone key."""
    for old, new in _ENDS.items():
        if key.startswith(old):
            unit = _unit(key[len(old) :])
            return None if unit is None else new + unit
    match = _BLOCK.fullmatch(key)
    if match is None:
        return None
    stage, position, part, rest = int(match[1]) - 2, int(match[2] or 1), match[3], match[4]
    unit = _unit(rest)
    if unit is None or not 0 <= stage < len(stage_repeats):
        return None
    return f"blocks.{sum(stage_repeats[:stage]) + position - 1}.{_PARTS[part]}.{unit}"


def convert_paddleclas_backbone_keys(
    state_dict: dict[str, Any],
    prefix: str,
    *args: Any,
    stage_repeats: Sequence[int],
    expands_first_block: bool,
) -> None:
    """Load-state-dict pre-hook for :class:`MobileNetV2`: rename PaddleClas keys under ``prefix`` in place,
    dropping the classifier (``out``) with a log line. A backbone without the first block's expansion
    cannot hold the file: refused with what to build instead."""
    if not is_paddleclas_mobilenet_v2(state_dict, prefix):
        return
    if not expands_first_block:
        raise CheckpointMismatchError(
            "PaddleClas MobileNetV2 checkpoint into a MobileNetV2 whose first block has no 1x1 expansion: "
            "build it as PaddleClas does, MobileNetV2(expand_first_block=True, width_rounding='floor') "
            "(configs/mobilenet_v2_paddle_*.py)"
        )
    dropped = []
    for key in [k for k in state_dict if k.startswith(prefix)]:
        new = paddleclas_to_visionkit_backbone_key(key[len(prefix) :], stage_repeats)
        if new is not None:
            state_dict[prefix + new] = state_dict.pop(key)
        elif key.startswith(prefix + "out."):
            dropped.append(key[len(prefix) :])
            del state_dict[key]
    if dropped:
        print_log(
            f"PaddleClas checkpoint loaded into a backbone: {', '.join(dropped)} (its classifier) not used",
            logger="current",
        )


def route_paddleclas_classifier_keys(state_dict: dict[str, Any], prefix: str, *args: Any) -> None:
    """:class:`ImageClassifier` pre-hook: PaddleClas's ``out`` Linear -> ``head.fc`` (its weight transposed
    from Paddle's (in, out) to torch's (out, in)), every other key of the file -> ``backbone.``."""
    if not is_paddleclas_mobilenet_v2(state_dict, prefix):
        return
    for key in [k for k in state_dict if k.startswith(prefix)]:
        rest = key[len(prefix) :]
        value = state_dict.pop(key)
        if rest == "out.weight":
            state_dict[f"{prefix}head.fc.weight"] = value.t()
        elif rest == "out.bias":
            state_dict[f"{prefix}head.fc.bias"] = value
        else:
            state_dict[f"{prefix}backbone.{rest}"] = value
