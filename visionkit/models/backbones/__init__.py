from .mobilenet_v2 import MobileNetV2
from .mobilenet_v3 import MobileNetV3
from .taps import (
    TapInfo,
    TappedBackbone,
    backbone_taps,
    build_tapped_backbone,
    check_head_taps,
    fill_in_channels,
    head_taps,
    union_taps,
)

__all__ = [
    "MobileNetV2",
    "MobileNetV3",
    "TapInfo",
    "TappedBackbone",
    "backbone_taps",
    "build_tapped_backbone",
    "check_head_taps",
    "fill_in_channels",
    "head_taps",
    "union_taps",
]
