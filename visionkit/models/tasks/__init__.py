from .image_classifier import ImageClassifier
from .segmentor import Segmentor
from .ssd_detector import SSDDetector

__all__ = ["ImageClassifier", "SSDDetector", "Segmentor"]
