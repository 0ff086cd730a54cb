"""Metrics (mmengine ``BaseMetric``s): collect in ``process``, compute once."""

from .accuracy import Accuracy, topk_accuracy

__all__ = ["Accuracy", "topk_accuracy"]
