from .image_classifier import ImageClassifier
from .ssd_detector import SSDDetector

__all__ = ["ImageClassifier", "SSDDetector"]
