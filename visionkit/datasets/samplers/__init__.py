"""Samplers for mmengine's Runner: mmengine's index samplers with per-sample seeds and a start position
(``train_dataloader.sampler``), and the multi-task batch sampler (``train_dataloader.batch_sampler``)."""

from .seeded_samplers import DefaultSampler, InfiniteSampler
from .task_batch_sampler import TaskBatchSampler

__all__ = ["DefaultSampler", "InfiniteSampler", "TaskBatchSampler"]
