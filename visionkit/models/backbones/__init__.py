from .mobilenet_v2 import MobileNetV2
from .taps import TapInfo, TappedBackbone, backbone_taps, build_tapped_backbone, union_taps

__all__ = ["MobileNetV2", "TapInfo", "TappedBackbone", "backbone_taps", "build_tapped_backbone", "union_taps"]
