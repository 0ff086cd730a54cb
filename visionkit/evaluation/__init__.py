"""Metrics (mmengine ``BaseMetric``s): collect in ``process``, compute once."""

from .accuracy import Accuracy, topk_accuracy
from .coco_metric import CocoMetric
from .iou_metric import IoUMetric, confusion_matrix, iou_from_confusion
from .task_metric import TaskMetric

__all__ = [
    "Accuracy",
    "CocoMetric",
    "IoUMetric",
    "TaskMetric",
    "confusion_matrix",
    "iou_from_confusion",
    "topk_accuracy",
]
