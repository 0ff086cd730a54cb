"""Data structures passed between pipeline, model and metrics."""

from .data_sample import TASK_KEY, DataSample

__all__ = ["TASK_KEY", "DataSample"]
