from .image_classifier import ImageClassifier
from .multi_task import MultiTaskModel
from .segmentor import Segmentor
from .ssd_detector import SSDDetector

__all__ = ["ImageClassifier", "MultiTaskModel", "SSDDetector", "Segmentor"]
