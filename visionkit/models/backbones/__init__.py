from .mobilenet_v2 import MobileNetV2, TapInfo

__all__ = ["MobileNetV2", "TapInfo"]
