"""One seed per training sample, so augmentations depend on where a sample sits in the data order only.

A sampler yields :class:`SeededIndex` values: the data set index, carrying a seed derived from the run's
seed, the epoch and the sample's position in that epoch's order (over all processes). The training data
set (:class:`~visionkit.datasets.seeded_dataset.SeededDataset`) seeds Python's ``random``, numpy's and
torch's global generators with it before it loads the sample, and transforms that keep generators of
their own (albumentations) reseed from :func:`current_sample_seed`. So a sample gets the same
augmentation whichever data loader worker draws it, with any number of workers, and a run resumed in the
middle of an epoch draws exactly what the uninterrupted run drew: no worker state has to be saved.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch

_MASK64 = (1 << 64) - 1
_current_seed: int | None = None


def _splitmix64(value: int) -> int:
    """One step of the splitmix64 mixer (Steele et al., 2014): nearby inputs give unrelated outputs."""
    value = (value + 0x9E3779B97F4A7C15) & _MASK64
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & _MASK64
    return value ^ (value >> 31)


def derive_seed(*parts: int) -> int:
    """A 32-bit seed mixed from ``parts`` (e.g. run seed, epoch, position); numpy's legacy seeding
    takes 32 bits."""
    value = 0
    for part in parts:
        value = _splitmix64(value ^ (int(part) & _MASK64))
    return value >> 32


class SeededIndex(int):
    """A data set index (an ``int`` everywhere) that carries the seed its sample is drawn with."""

    seed: int

    def __new__(cls, index: int, seed: int) -> SeededIndex:
        value = super().__new__(cls, index)
        value.seed = seed
        return value

    def __reduce__(self) -> tuple:  # data loader workers receive indices pickled
        return SeededIndex, (int(self), self.seed)

    def __repr__(self) -> str:
        return f"SeededIndex({int(self)}, seed={self.seed})"

    def reseeded(self, salt: int) -> SeededIndex:
        """The same index with a seed mixed with ``salt`` (a second visit within one epoch)."""
        return SeededIndex(int(self), derive_seed(self.seed, salt))


def current_sample_seed() -> int | None:
    """The seed of the sample being loaded in this process, or None outside :func:`seeded_sample`."""
    return _current_seed


@contextmanager
def seeded_sample(seed: int, restore: bool) -> Iterator[None]:
    """Seed Python's, numpy's and torch's (CPU) global generators with ``seed`` while a sample loads.

    ``restore``: put the generators back afterwards. Needed in the main process (no data loader
    workers), whose generators drive training; a worker process draws for samples only.
    """
    global _current_seed
    saved = (random.getstate(), np.random.get_state(), torch.get_rng_state()) if restore else None
    previous, _current_seed = _current_seed, seed
    random.seed(seed)
    np.random.seed(seed)
    torch.default_generator.manual_seed(seed)  # the CPU one only: a sample never draws on a GPU
    try:
        yield
    finally:
        _current_seed = previous
        if saved is not None:
            random.setstate(saved[0])
            np.random.set_state(saved[1])
            torch.set_rng_state(saved[2])
