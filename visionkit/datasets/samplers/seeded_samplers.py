"""mmengine's ``DefaultSampler`` and ``InfiniteSampler`` that seed each sample and start part-way.

Registered under mmengine's names in visionkit's scope, so every config's ``sampler=dict(type=
'DefaultSampler')`` gets them. The order of indices is mmengine's, unchanged. What they add:

- each index is a :class:`~visionkit.datasets.sample_seeds.SeededIndex` whose seed comes from the
  sampler's seed, the epoch and the sample's position in the epoch's order over all processes (rank r
  takes positions r, r + W, r + 2W... of W processes), so augmentations do not depend on the workers;
- :meth:`start_at` makes the next pass start after its first samples, without loading them: a run
  resumed in the middle of an epoch continues with the next batch (mmengine's loops would restart the
  epoch, or load and drop every batch already trained on).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from mmengine.dataset import DefaultSampler as MMEngineDefaultSampler
from mmengine.dataset import InfiniteSampler as MMEngineInfiniteSampler

from ...registry import DATA_SAMPLERS
from ..sample_seeds import SeededIndex, derive_seed


@DATA_SAMPLERS.register_module()
class DefaultSampler(MMEngineDefaultSampler):
    """mmengine's ``DefaultSampler`` (same arguments, same order) yielding seeded indices; see the module."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._start = 0

    def start_at(self, num_samples: int) -> None:
        """Start the next pass (only) after this rank's first ``num_samples`` samples of the epoch."""
        self._start = int(num_samples)

    def set_seed(self, seed: int) -> None:
        """Order and seeds from ``seed`` from now on (a resumed run takes its checkpoint's seed)."""
        self.seed = seed

    def __iter__(self) -> Iterator[SeededIndex]:
        indices = list(super().__iter__())
        start, self._start = self._start, 0
        for k in range(start, len(indices)):
            position = self.rank + k * self.world_size
            yield SeededIndex(indices[k], derive_seed(self.seed, self.epoch, position))


@DATA_SAMPLERS.register_module()
class InfiniteSampler(MMEngineInfiniteSampler):
    """mmengine's ``InfiniteSampler`` (same arguments, same stream) yielding seeded indices; see the module.

    Its stream has no epochs: a sample's seed comes from its position in the stream.
    """

    def _indices_of_rank(self, start: int = 0) -> Iterator[SeededIndex]:
        first = self.rank + start * self.world_size
        stream = itertools.islice(self._infinite_indices(), first, None, self.world_size)
        for position, index in zip(itertools.count(first, self.world_size), stream):
            yield SeededIndex(index, derive_seed(self.seed, 0, position))

    def start_at(self, num_samples: int) -> None:
        """Restart the stream after this rank's first ``num_samples`` samples."""
        self.indices = self._indices_of_rank(int(num_samples))

    def set_seed(self, seed: int) -> None:
        """The stream and seeds of ``seed``, from its start."""
        self.seed = seed
        self.indices = self._indices_of_rank()
