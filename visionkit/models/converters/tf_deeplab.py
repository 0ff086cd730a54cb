"""Renaming TF DeepLab's variables (``deeplabv3_mnv2_pascal_train_aug`` / ``_trainval``) to the Segmentor's.

TF DeepLab's MobileNetV2 model without ASPP branches (``model_variant=mobilenet_v2``, no
``atrous_rates``) has the backbone up to ``layer_18`` and this head::

    image_pooling/{weights,BatchNorm/*}       -> decode_head.branches.{pool}.conv.{conv,bn}
    aspp0/{weights,BatchNorm/*}               -> decode_head.branches.{aspp0}.{conv,bn}
    concat_projection/{weights,BatchNorm/*}   -> decode_head.project.{conv,bn}
    logits/semantic/{weights,biases}          -> decode_head.classifier.{weight,bias}
    MobilenetV2/*                             -> backbone.MobilenetV2/*  (renamed by the backbone's hook)

``{pool}`` and ``{aspp0}`` are the branches' places in the head (``image_pool_first=True``: 0 and 1, TF's
concatenation order).
"""

from __future__ import annotations

from typing import Any

from .tf_slim_mobilenet_v2 import move_conv, move_conv_norm, take_inference_values


def convert_tf_deeplab_keys(
    state_dict: dict[str, Any], prefix: str, *args: Any, pool_branch: int, aspp0_branch: int
) -> None:
    """:class:`Segmentor` pre-hook: rename TF DeepLab's head variables; route the backbone's."""
    if f"{prefix}concat_projection/weights" not in state_dict:
        return
    take_inference_values(state_dict, prefix)
    head = f"{prefix}decode_head"
    if f"{prefix}image_pooling/weights" in state_dict:
        move_conv_norm(state_dict, f"{prefix}image_pooling", f"{head}.branches.{pool_branch}.conv")
    move_conv_norm(state_dict, f"{prefix}aspp0", f"{head}.branches.{aspp0_branch}")
    move_conv_norm(state_dict, f"{prefix}concat_projection", f"{head}.project")
    move_conv(state_dict, f"{prefix}logits/semantic", f"{head}.classifier")
    for key in [k for k in state_dict if k.startswith(prefix + "MobilenetV2/")]:
        state_dict[f"{prefix}backbone.{key[len(prefix) :]}"] = state_dict.pop(key)
