"""Data structures passed between pipeline, model and metrics."""

from .data_sample import DataSample

__all__ = ["DataSample"]
