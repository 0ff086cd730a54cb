"""Models: backbones, heads and the task models that wire them."""

from .backbones import MobileNetV2, MobileNetV3
from .box_ops import MMDetSSDAnchorGenerator, TFSSDAnchorGenerator, TorchvisionSSDAnchorGenerator
from .checkpoint import (
    CheckpointMismatchError,
    CheckpointReadError,
    UnsafeCheckpointError,
    load_checkpoint,
    read_checkpoint,
)
from .checkpoint_fetch import CheckpointFetchError
from .heads import ASPPHead, ClassifierHead, FCNHead, LRASPPHead, SSDLiteHead
from .losses import SSDLoss
from .necks import SSDLiteExtraLayers
from .tasks import ImageClassifier, MultiTaskModel, Segmentor, SSDDetector

__all__ = [
    "ASPPHead",
    "CheckpointFetchError",
    "CheckpointMismatchError",
    "CheckpointReadError",
    "ClassifierHead",
    "FCNHead",
    "ImageClassifier",
    "LRASPPHead",
    "MMDetSSDAnchorGenerator",
    "MobileNetV2",
    "MobileNetV3",
    "MultiTaskModel",
    "SSDDetector",
    "SSDLiteExtraLayers",
    "SSDLiteHead",
    "SSDLoss",
    "Segmentor",
    "TFSSDAnchorGenerator",
    "TorchvisionSSDAnchorGenerator",
    "UnsafeCheckpointError",
    "load_checkpoint",
    "read_checkpoint",
]
