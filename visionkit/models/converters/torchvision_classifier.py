"""Renaming torchvision classifier keys (``mobilenet_v2``, ``mobilenet_v3_large`` / ``_small``) to
:class:`ImageClassifier`'s, so their checkpoints load as-is: ``features.*`` go to the backbone, whose own
pre-hook renames them (:mod:`.torchvision_mobilenet_v2`, :mod:`.torchvision_mobilenet_v3`), and the
``classifier`` Sequential to the :class:`ClassifierHead`::

    features.*                        -> backbone.features.*
    classifier.1.*                    -> head.fc.*             (MobileNetV2: dropout, linear)
    classifier.{0,3}.*                -> head.{hidden,fc}.*    (MobileNetV3: linear, act, dropout, linear)
"""

from __future__ import annotations

from typing import Any


def route_torchvision_classifier_keys(state_dict: dict[str, Any], prefix: str, *args: Any) -> None:
    """:class:`ImageClassifier` pre-hook: ``features.*`` -> ``backbone.features.*`` and ``classifier.*``
    -> ``head.classifier.*``, which the backbone's and the head's own pre-hooks then rename."""
    for key in [k for k in state_dict if k.startswith((prefix + "features.", prefix + "classifier."))]:
        rest = key[len(prefix) :]
        state_dict[prefix + ("backbone." if rest.startswith("features.") else "head.") + rest] = (
            state_dict.pop(key)
        )


def convert_torchvision_classifier_head_keys(
    state_dict: dict[str, Any], prefix: str, *args: Any, hidden: bool = False
) -> None:
    """:class:`ClassifierHead` pre-hook: torchvision's ``classifier`` Sequential -> the head's ``fc`` (and
    ``hidden`` for a head with a hidden layer, MobileNetV3's)."""
    layers = {"0": "hidden", "3": "fc"} if hidden else {"1": "fc"}
    for key in [k for k in state_dict if k.startswith(prefix + "classifier.")]:
        index, _, param = key[len(prefix + "classifier.") :].partition(".")
        if index in layers:
            state_dict[f"{prefix}{layers[index]}.{param}"] = state_dict.pop(key)
