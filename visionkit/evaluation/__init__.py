"""Metrics (mmengine ``BaseMetric``s): collect in ``process``, compute once."""

from .accuracy import Accuracy, topk_accuracy
from .coco_metric import CocoMetric
from .iou_metric import IoUMetric, confusion_matrix, iou_from_confusion

__all__ = ["Accuracy", "CocoMetric", "IoUMetric", "confusion_matrix", "iou_from_confusion", "topk_accuracy"]
