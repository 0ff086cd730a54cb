"""Batch samplers for mmengine's Runner (``train_dataloader.batch_sampler``)."""

from .task_batch_sampler import TaskBatchSampler

__all__ = ["TaskBatchSampler"]
