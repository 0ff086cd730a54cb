"""Renaming torchvision segmentation-model keys (``deeplabv3_*``, ``lraspp_*``) to :class:`Segmentor`'s, so
their checkpoints load as-is. The backbone renames its own ``features.*`` keys.

torchvision wraps ``backbone.features`` in an ``IntermediateLayerGetter`` (its keys lose ``features.``),
its main head is ``classifier`` and its auxiliary ``FCNHead`` is ``aux_classifier``; its conv-BN-ReLU units
are ``nn.Sequential`` (conv at 0, BN at 1), visionkit's ``ConvNormAct`` (``conv``, ``bn``)::

    backbone.{n}.*                      -> backbone.features.{n}.*
    classifier.0.convs.{i}.{0,1}.*      -> decode_head.branches.{i}.{conv,bn}.*       (DeepLabHead's ASPP)
    classifier.0.convs.{last}.{1,2}.*   -> decode_head.branches.{last}.conv.{conv,bn}.*  (image pooling)
    classifier.0.project.{0,1}.*        -> decode_head.project.{conv,bn}.*
    classifier.{1,2}.*                  -> decode_head.post_project.{conv,bn}.*  (3x3 conv, BN)
    classifier.4.*                      -> decode_head.classifier.*
    classifier.cbr.{0,1}.*              -> decode_head.cbr.{conv,bn}.*           (LRASPPHead)
    classifier.{scale,low_classifier,high_classifier}.* -> decode_head.*         (LRASPPHead: same names)
    aux_classifier.{0,1}.*              -> auxiliary_head.conv.{conv,bn}.*       (FCNHead)
    aux_classifier.4.*                  -> auxiliary_head.classifier.*

A model without an auxiliary head drops ``aux_classifier.*`` and logs it (it is used in training only).
"""

from __future__ import annotations

import re
from typing import Any

from mmengine.logging import print_log

_BACKBONE_KEY = re.compile(r"backbone\.(\d+)\.(.+)")
_ASPP_KEY = re.compile(r"classifier\.0\.convs\.(\d+)\.(\d+)\.(.+)")
_SEQUENTIAL_HEADS = {  # nn.Sequential heads: layer index -> visionkit module
    "classifier.": {
        "1": "decode_head.post_project.conv",
        "2": "decode_head.post_project.bn",
        "4": "decode_head.classifier",
    },
    "aux_classifier.": {
        "0": "auxiliary_head.conv.conv",
        "1": "auxiliary_head.conv.bn",
        "4": "auxiliary_head.classifier",
    },
}
_CONV_NORM = {"0": "conv", "1": "bn"}  # torchvision's Sequential conv-BN-ReLU -> ConvNormAct's names
_LRASPP_MODULES = ("scale.", "low_classifier.", "high_classifier.")


def is_torchvision_segmentation(keys: list[str]) -> bool:
    """Whether state-dict keys (without prefix) are a torchvision segmentation model's."""
    return any(k.startswith(("classifier.", "aux_classifier.")) or _BACKBONE_KEY.fullmatch(k) for k in keys)


def torchvision_to_visionkit_segmentor_key(key: str, pool_branch: int) -> str | None:
    """One torchvision segmentation key (without prefix) -> :class:`Segmentor`'s, ``None`` when not one.

    ``pool_branch``: index of DeepLabHead's image-pooling branch (its last ASPP branch).
    """
    if match := _BACKBONE_KEY.fullmatch(key):
        return f"backbone.features.{match[1]}.{match[2]}"
    if match := _ASPP_KEY.fullmatch(key):
        branch, layer, rest = int(match[1]), match[2], match[3]
        # ASPPPooling is (avgpool, conv, bn, relu); ImagePooling.conv is a ConvNormAct.
        if branch == pool_branch:
            return f"decode_head.branches.{branch}.conv.{_CONV_NORM[str(int(layer) - 1)]}.{rest}"
        return f"decode_head.branches.{branch}.{_CONV_NORM[layer]}.{rest}"
    for unit in ("classifier.0.project.", "classifier.cbr."):
        if key.startswith(unit):
            layer, _, rest = key[len(unit) :].partition(".")
            return f"decode_head.{unit.split('.')[-2]}.{_CONV_NORM[layer]}.{rest}"
    if key.startswith("classifier.") and key[len("classifier.") :].startswith(_LRASPP_MODULES):
        return "decode_head." + key[len("classifier.") :]
    for head, modules in _SEQUENTIAL_HEADS.items():
        if key.startswith(head):
            layer, _, rest = key[len(head) :].partition(".")
            if layer in modules:
                return f"{modules[layer]}.{rest}"
    return None


def convert_torchvision_segmentation_keys(
    state_dict: dict[str, Any], prefix: str, *args: Any, has_auxiliary_head: bool = True
) -> None:
    """Load-state-dict pre-hook for :class:`Segmentor`: rename torchvision keys in place."""
    keys = [k[len(prefix) :] for k in state_dict if k.startswith(prefix)]
    if not is_torchvision_segmentation(keys):
        return
    if not has_auxiliary_head:
        dropped = [k for k in keys if k.startswith("aux_classifier.")]
        for key in dropped:
            del state_dict[prefix + key]
        if dropped:
            print_log(
                f"torchvision segmentation checkpoint: its auxiliary FCN head ({len(dropped)} keys, "
                "aux_classifier.*, used in training only) is not loaded: the model has no auxiliary_head",
                logger="current",
            )
        keys = [k for k in keys if k not in dropped]
    branches = [int(m[1]) for k in keys if (m := _ASPP_KEY.fullmatch(k))]
    pool_branch = max(branches, default=-1)
    for key in keys:
        new = torchvision_to_visionkit_segmentor_key(key, pool_branch)
        if new is not None:
            state_dict[prefix + new] = state_dict.pop(prefix + key)
