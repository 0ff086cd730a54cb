"""Metrics (mmengine ``BaseMetric``s): collect in ``process``, compute once."""

from .accuracy import Accuracy, topk_accuracy
from .coco_metric import CocoMetric

__all__ = ["Accuracy", "CocoMetric", "topk_accuracy"]
