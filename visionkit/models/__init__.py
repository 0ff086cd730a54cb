"""Models: backbones, heads and the task models that wire them."""

from .backbones import MobileNetV2
from .checkpoint import CheckpointMismatchError, load_checkpoint
from .heads import ClassifierHead
from .tasks import ImageClassifier

__all__ = ["CheckpointMismatchError", "ClassifierHead", "ImageClassifier", "MobileNetV2", "load_checkpoint"]
