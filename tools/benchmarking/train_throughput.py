"""Training throughput: images per second of the train dataloader + ``train_step``, and of the step alone."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from typing import NamedTuple

from mmengine.optim import OptimWrapper
from torch import nn


class TrainThroughput(NamedTuple):
    """``total_s``: wall time of the timed iterations, waiting for data included; ``step_s``: their
    ``train_step`` calls only (forward, loss, backward, optimizer update)."""

    iterations: int
    images: int
    total_s: float
    step_s: float

    @property
    def images_per_s(self) -> float:
        return self.images / self.total_s

    @property
    def step_images_per_s(self) -> float:
        return self.images / self.step_s


def _cycle(loader: Iterable) -> Iterator:
    """Batches of ``loader`` forever, restarting it at the end of each epoch."""
    while True:
        yield from loader


def measure_train_throughput(
    model: nn.Module, loader: Iterable[dict], optim_wrapper: OptimWrapper, iterations: int, warmup: int = 2
) -> TrainThroughput:
    """Run ``warmup`` untimed then ``iterations`` timed training iterations of ``model`` on ``loader``.

    A batch is a dict with ``inputs`` (one entry per image), as mmengine's dataloaders give.
    """
    model.train()
    batches = _cycle(loader)
    for _ in range(warmup):
        model.train_step(next(batches), optim_wrapper)
    images, step_s = 0, 0.0
    start = time.perf_counter()
    for _ in range(iterations):
        data = next(batches)
        step_start = time.perf_counter()
        model.train_step(data, optim_wrapper)
        step_s += time.perf_counter() - step_start
        images += len(data["inputs"])
    return TrainThroughput(iterations, images, time.perf_counter() - start, step_s)
