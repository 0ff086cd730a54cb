"""Metrics (mmengine ``BaseMetric``s): collect in ``process``, compute once."""

from .accuracy import Accuracy, topk_accuracy
from .coco_metric import CocoMetric
from .iou_metric import IoUMetric, confusion_matrix, iou_from_confusion
from .plot_dir import set_plot_dir
from .task_metric import TaskMetric

__all__ = [
    "Accuracy",
    "CocoMetric",
    "IoUMetric",
    "TaskMetric",
    "confusion_matrix",
    "iou_from_confusion",
    "set_plot_dir",
    "topk_accuracy",
]
