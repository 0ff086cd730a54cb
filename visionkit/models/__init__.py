"""Models: backbones, heads and the task models that wire them."""

from .backbones import MobileNetV2
from .checkpoint import CheckpointMismatchError, load_checkpoint
from .detection import SSDAnchorGenerator
from .heads import ClassifierHead, SSDLiteHead
from .losses import SSDLoss
from .necks import SSDLiteExtraLayers
from .tasks import ImageClassifier, SSDDetector

__all__ = [
    "CheckpointMismatchError",
    "ClassifierHead",
    "ImageClassifier",
    "MobileNetV2",
    "SSDAnchorGenerator",
    "SSDDetector",
    "SSDLiteExtraLayers",
    "SSDLiteHead",
    "SSDLoss",
    "load_checkpoint",
]
