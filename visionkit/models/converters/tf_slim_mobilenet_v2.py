"""Renaming TF-slim MobileNetV2 variables (``mobilenet_v2_*.tgz``, and the backbones of TF DeepLab's and the
TF object detection API's checkpoints) to visionkit's keys, with TF's layouts permuted to PyTorch's.

TF stores a conv kernel as HWIO and a depthwise kernel as HWC1 (PyTorch: OIHW, C1HW); a BatchNorm as
``gamma`` (absent when TF built it with ``scale=False``: 1), ``beta``, ``moving_mean``, ``moving_variance``.
Layers are numbered as visionkit numbers them (DESIGN.md section 1)::

    {scope}/Conv/{weights,BatchNorm/*}                      -> stem.{conv,bn}
    {scope}/expanded_conv/{depthwise,project}/...            -> blocks.0.{depthwise,project}  (t = 1)
    {scope}/expanded_conv_{k}/{expand,depthwise,project}/... -> blocks.k.{expand,depthwise,project}
    {scope}/Conv_1/...                                       -> final_conv
    MobilenetV2/Logits/Conv2d_1c_1x1/{weights,biases}        -> head.fc  (1001 rows, background first:
                                                                dropped when the head has 1000 classes)

``{scope}`` is ``MobilenetV2`` (TF-slim, TF DeepLab) or ``FeatureExtractor/MobilenetV2`` (object detection).
A checkpoint's values for inference are used: a variable's ``ExponentialMovingAverage`` shadow where the
file has one; optimizer slots (``Momentum``, ``RMSProp``...) and ``global_step`` are dropped (and logged).
"""

from __future__ import annotations

import re
from typing import Any

from mmengine.logging import print_log
from torch import Tensor

SCOPES = ("MobilenetV2/", "FeatureExtractor/MobilenetV2/")
_TRAINING_STATE = re.compile(r"(^|/)(global_step|beta[12]_power)$|/(Momentum|RMSProp(_1)?|Adam(_1)?)$")
_EMA = "/ExponentialMovingAverage"
_BLOCK = re.compile(r"expanded_conv(?:_(\d+))?/(expand|depthwise|project)$")
_BN = {"gamma": "weight", "beta": "bias", "moving_mean": "running_mean", "moving_variance": "running_var"}


def is_tf_checkpoint(state_dict: dict[str, Any], prefix: str = "") -> bool:
    """Whether (prefix-free) keys under ``prefix`` are TF variable names (``scope/name``)."""
    return any("/" in k[len(prefix) :] for k in state_dict if k.startswith(prefix))


def take_inference_values(state_dict: dict[str, Any], prefix: str = "") -> None:
    """In place: each ``X/ExponentialMovingAverage`` replaces ``X``; optimizer slots and step counters go."""
    for key in [k for k in state_dict if k.startswith(prefix) and k.endswith(_EMA)]:
        state_dict[key[: -len(_EMA)]] = state_dict.pop(key)
    dropped = [k for k in state_dict if k.startswith(prefix) and _TRAINING_STATE.search(k[len(prefix) :])]
    for key in dropped:
        del state_dict[key]
    if dropped:
        print_log(f"TF checkpoint: {len(dropped)} training-state variables not loaded", logger="current")


def tf_kernel(weight: Tensor, depthwise: bool = False) -> Tensor:
    """A TF conv kernel (HWIO, or HWC1 depthwise) in PyTorch's layout (OIHW, C1HW)."""
    return weight.permute(2, 3, 0, 1) if depthwise else weight.permute(3, 2, 0, 1)


def move_conv_norm(state_dict: dict[str, Any], source: str, target: str, depthwise: bool = False) -> None:
    """In place: the TF conv ``source`` (``weights`` or ``depthwise_weights``, ``BatchNorm/*``) -> the
    :class:`~visionkit.models.layers.ConvNormAct` ``target`` (``conv.weight``, ``bn.*``)."""
    weight = state_dict.pop(f"{source}/{'depthwise_weights' if depthwise else 'weights'}")
    state_dict[f"{target}.conv.weight"] = tf_kernel(weight, depthwise)
    beta = state_dict[f"{source}/BatchNorm/beta"]
    state_dict.setdefault(f"{source}/BatchNorm/gamma", beta.new_ones(beta.shape))  # scale=False in TF
    for name, param in _BN.items():
        state_dict[f"{target}.bn.{param}"] = state_dict.pop(f"{source}/BatchNorm/{name}")


def move_conv(state_dict: dict[str, Any], source: str, target: str) -> None:
    """In place: a TF conv with bias, no BatchNorm (``weights``, ``biases``) -> ``target.{weight,bias}``."""
    state_dict[f"{target}.weight"] = tf_kernel(state_dict.pop(f"{source}/weights"))
    state_dict[f"{target}.bias"] = state_dict.pop(f"{source}/biases")


def _backbone_target(layer: str) -> tuple[str, bool] | None:
    """A MobileNetV2 layer's scope (``expanded_conv_3/depthwise``) -> (visionkit module, depthwise?)."""
    if layer in ("Conv", "Conv_1"):
        return ("stem" if layer == "Conv" else "final_conv"), False
    match = _BLOCK.fullmatch(layer)
    if match is None:
        return None
    return f"blocks.{int(match.group(1) or 0)}.{match.group(2)}", match.group(2) == "depthwise"


def convert_tf_backbone_keys(state_dict: dict[str, Any], prefix: str, *args: Any) -> None:
    """Pre-hook of :class:`~visionkit.models.MobileNetV2`: rename the TF MobileNetV2 variables under
    ``prefix`` (either scope); drop the other TF variables of the file (a classifier's logits, a detector's
    or segmenter's head) and log them."""
    if not is_tf_checkpoint(state_dict, prefix):
        return
    take_inference_values(state_dict, prefix)
    layers = set()
    for key in [k for k in state_dict if k.startswith(prefix) and "/" in k]:
        rest = key[len(prefix) :]
        scope = next((s for s in SCOPES if rest.startswith(s)), None)
        if scope is not None:
            layer = rest[len(scope) :].rsplit("/BatchNorm/", 1)[0].rsplit("/", 1)[0]
            if _backbone_target(layer) is not None:
                layers.add(prefix + scope + layer)
    for source in sorted(layers):
        target, depthwise = _backbone_target(source.split("MobilenetV2/", 1)[1])
        move_conv_norm(state_dict, source, prefix + target, depthwise)
    others = [k for k in state_dict if k.startswith(prefix) and "/" in k[len(prefix) :]]
    for key in others:
        del state_dict[key]
    if others:
        print_log(
            f"TF checkpoint into a backbone: {len(others)} variables outside it not used", logger="current"
        )


def route_tf_classifier_keys(state_dict: dict[str, Any], prefix: str, *args: Any, num_classes: int) -> None:
    """:class:`ImageClassifier` pre-hook: TF-slim's logits -> ``head.fc`` (the background row 0 dropped when
    the head has one class fewer than the file), ``MobilenetV2/*`` -> ``backbone.MobilenetV2/*``."""
    logits = f"{prefix}MobilenetV2/Logits/Conv2d_1c_1x1"
    if f"{logits}/weights" not in state_dict:
        return
    take_inference_values(state_dict, prefix)
    move_conv(state_dict, logits, f"{prefix}head.fc")
    weight, bias = state_dict[f"{prefix}head.fc.weight"].flatten(1), state_dict[f"{prefix}head.fc.bias"]
    if len(bias) == num_classes + 1:  # TF-slim's 1001 ImageNet classes: background first
        weight, bias = weight[1:], bias[1:]
    state_dict[f"{prefix}head.fc.weight"], state_dict[f"{prefix}head.fc.bias"] = weight, bias
    for key in [k for k in state_dict if k.startswith(prefix + "MobilenetV2/")]:
        state_dict[f"{prefix}backbone.{key[len(prefix) :]}"] = state_dict.pop(key)
