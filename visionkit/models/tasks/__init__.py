from .image_classifier import ImageClassifier
from .multi_task import MultiTaskModel
from .segmentor import Segmentor
from .ssd_detector import SSDDetector
from .task_model import ExportHead, TaskModel

__all__ = ["ExportHead", "ImageClassifier", "MultiTaskModel", "SSDDetector", "Segmentor", "TaskModel"]
