"""Renaming the TF object detection API's ``ssdlite_mobilenet_v2_coco`` variables to :class:`SSDDetector`'s.

Besides the names, two orders differ: each anchor's 91 class scores put background first (visionkit's
:class:`SSDLiteHead`: last), and its box code is (ty, tx, th, tw) (visionkit: dx, dy, dw, dh). The rows of
the predictor convs are permuted once here, so the network itself needs nothing else::

    FeatureExtractor/MobilenetV2/layer_19_1_Conv2d_{i}_1x1_{d/2}          -> neck.blocks.{i-2}.0
    FeatureExtractor/MobilenetV2/layer_19_2_Conv2d_{i}_3x3_s2_{d}_depthwise -> neck.blocks.{i-2}.1
    FeatureExtractor/MobilenetV2/layer_19_2_Conv2d_{i}_3x3_s2_{d}          -> neck.blocks.{i-2}.2
    BoxPredictor_{k}/ClassPredictor_depthwise                              -> head.cls_convs.{k}.0
    BoxPredictor_{k}/ClassPredictor/{weights,biases}                       -> head.cls_convs.{k}.1 (rows)
    BoxPredictor_{k}/BoxEncodingPredictor_depthwise                        -> head.reg_convs.{k}.0
    BoxPredictor_{k}/BoxEncodingPredictor/{weights,biases}                 -> head.reg_convs.{k}.1 (rows)
    FeatureExtractor/MobilenetV2/*                                         -> backbone.* (backbone's hook)
"""

from __future__ import annotations

import re
from typing import Any

from .tf_slim_mobilenet_v2 import move_conv, move_conv_norm, take_inference_values
from .torchvision_ssdlite import background_last

_EXTRA = re.compile(
    r"FeatureExtractor/MobilenetV2/(layer_19_(1|2)_Conv2d_(\d+)_\dx\d(?:_s2)?_\d+(_depthwise)?)/"
)
_PREDICTOR = re.compile(r"BoxPredictor_(\d+)/(ClassPredictor|BoxEncodingPredictor)(_depthwise)?/")
TF_BOX_CODE_ORDER = (1, 0, 3, 2)  # (ty, tx, th, tw) -> (tx, ty, tw, th)


def convert_tf_ssdlite_keys(state_dict: dict[str, Any], prefix: str, *args: Any) -> None:
    """:class:`SSDDetector` pre-hook: rename TF's extra layers and box predictors, reorder the predictors'
    rows, and route the backbone's variables."""
    keys = [k[len(prefix) :] for k in state_dict if k.startswith(prefix)]
    if not any(k.startswith("BoxPredictor_") for k in keys):
        return
    take_inference_values(state_dict, prefix)
    for scope in sorted({m.group(0)[:-1] for k in keys if (m := _EXTRA.match(k))}):
        match = _EXTRA.match(scope + "/")
        position = 0 if match.group(2) == "1" else 2 if match.group(4) is None else 1
        target = f"{prefix}neck.blocks.{int(match.group(3)) - 2}.{position}"
        move_conv_norm(state_dict, prefix + scope, target, depthwise=position == 1)
    predictors = sorted({m.group(0)[:-1] for k in keys if (m := _PREDICTOR.match(k))})
    boxes = {  # boxes per location of each level: 4 box-code rows each
        m.group(1): len(state_dict[f"{prefix}{p}/biases"]) // 4
        for p in predictors
        if (m := _PREDICTOR.match(p + "/")) and m.group(2) == "BoxEncodingPredictor" and not m.group(3)
    }
    for scope in predictors:
        match = _PREDICTOR.match(scope + "/")
        branch = "cls_convs" if match.group(2) == "ClassPredictor" else "reg_convs"
        target = f"{prefix}head.{branch}.{match.group(1)}"
        if match.group(3):
            move_conv_norm(state_dict, prefix + scope, f"{target}.0", depthwise=True)
            continue
        move_conv(state_dict, prefix + scope, f"{target}.1")
        for param in ("weight", "bias"):
            rows = state_dict[f"{target}.1.{param}"]
            if branch == "reg_convs":
                rows = rows.unflatten(0, (-1, 4))[:, list(TF_BOX_CODE_ORDER)].flatten(0, 1)
            else:
                rows = background_last(rows, boxes[match.group(1)])
            state_dict[f"{target}.1.{param}"] = rows
    for key in [k for k in state_dict if k.startswith(prefix + "FeatureExtractor/")]:
        state_dict[f"{prefix}backbone.{key[len(prefix) :]}"] = state_dict.pop(key)
