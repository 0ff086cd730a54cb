"""Single-task batches from a ``MultiTaskDataset``, tasks mixed by a configured ratio."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Sequence

from torch.utils.data import Sampler

from ...registry import DATA_SAMPLERS
from ..sample_seeds import SeededIndex


@DATA_SAMPLERS.register_module()
class TaskBatchSampler(Sampler[list[int]]):
    """Groups the indices of ``sampler`` by task into batches that each hold one task only.

    Set it as ``batch_sampler=dict(type='TaskBatchSampler', ...)`` beside mmengine's ``DefaultSampler``,
    which keeps doing the per-epoch shuffling and per-rank sharding; mmengine's Runner passes both
    ``sampler`` and the dataloader's ``batch_size``. Do not also set the dataloader's ``drop_last``.

    Args:
        sampler: an index sampler over a :class:`~visionkit.datasets.MultiTaskDataset`.
        batch_size: images per batch.
        ratio: task -> batches per round, e.g. ``dict(detection=1, segmentation=1)``; every task of the
            data set needs a positive entry. An epoch is as many rounds as the task that needs most
            takes to show each of its batches once; tasks that run out earlier start over from their
            first batch of the epoch (with new sample seeds, so new augmentations), so the ratio holds
            for the whole epoch and every item is seen.
            ``None``: each task's batches once, spread evenly over the epoch (evaluation).
        drop_last: leave out each task's last batch if it is short (SSD cannot train on one image).
    """

    def __init__(
        self, sampler: Sampler, batch_size: int, ratio: dict[str, int] | None = None, drop_last: bool = True
    ) -> None:
        dataset = getattr(sampler, "dataset", None)
        if not hasattr(dataset, "task_of"):
            raise TypeError(
                "TaskBatchSampler needs a sampler over a MultiTaskDataset (mmengine's DefaultSampler has "
                f"it as .dataset), got {type(dataset).__name__}"
            )
        if batch_size < 1:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        if ratio is not None:
            wrong = {t: r for t, r in ratio.items() if t not in dataset.task_names or int(r) < 1}
            missing = [t for t in dataset.task_names if t not in ratio]
            if wrong or missing:
                raise ValueError(
                    f"ratio needs a positive integer for every task {list(dataset.task_names)} and no "
                    f"others; got {dict(ratio)}"
                )
        self.sampler, self.dataset = sampler, dataset
        self.batch_size, self.drop_last = batch_size, drop_last
        self.ratio = None if ratio is None else {t: int(ratio[t]) for t in dataset.task_names}
        self._start = 0

    def start_at(self, num_batches: int) -> None:
        """Start the next pass (only) after its first ``num_batches`` batches (a resumed epoch)."""
        self._start = int(num_batches)

    def _num_batches(self, num_items: int) -> int:
        if self.drop_last:
            return num_items // self.batch_size
        return math.ceil(num_items / self.batch_size)

    def _task_batches(self) -> dict[str, list[list[int]]]:
        """This epoch's indices from the sampler, by task, cut into batches (in sampler order)."""
        buckets: dict[str, list[int]] = {task: [] for task in self.dataset.task_names}
        for index in self.sampler:
            buckets[self.dataset.task_of(index)].append(index)
        return {
            task: [indices[i : i + self.batch_size] for i in range(0, len(indices), self.batch_size)][
                : self._num_batches(len(indices))
            ]
            for task, indices in buckets.items()
        }

    def _rounds(self) -> int:
        """Rounds per epoch, from the data set's task sizes (not this epoch's draw: the same on every
        rank and every epoch, as distributed training needs)."""
        world_size = getattr(self.sampler, "world_size", 1)
        sizes = self.dataset.metainfo["task_sizes"]
        return max(
            math.ceil(self._num_batches(math.ceil(sizes[task] / world_size)) / count)
            for task, count in self.ratio.items()
        )

    def __iter__(self) -> Iterator[list[int]]:
        start, self._start = self._start, 0
        yield from itertools.islice(self._epoch_batches(), start, None)

    def _epoch_batches(self) -> Iterator[list[int]]:
        batches = self._task_batches()
        if self.ratio is None:
            yield from _spread(batches)
            return
        empty = [task for task, task_batches in batches.items() if not task_batches]
        if empty:
            raise ValueError(
                f"Task(s) {empty} have fewer items than batch_size={self.batch_size} (with drop_last): "
                "lower the batch size or add data"
            )
        cycles = {task: _cycle(task_batches) for task, task_batches in batches.items()}
        for _ in range(self._rounds()):
            for task, count in self.ratio.items():
                for _ in range(count):
                    yield next(cycles[task])

    def __len__(self) -> int:
        if self.ratio is None:
            return sum(len(task_batches) for task_batches in self._task_batches().values())
        return self._rounds() * sum(self.ratio.values())


def _cycle(batches: list[list[int]]) -> Iterator[list[int]]:
    """``batches`` over and over; from the second visit on, each seeded index gets a new seed."""
    yield from batches
    for visit in itertools.count(1):
        yield from ([_reseeded(index, visit) for index in batch] for batch in batches)


def _reseeded(index: int, visit: int) -> int:
    return index.reseeded(visit) if isinstance(index, SeededIndex) else index


def _spread(batches: dict[str, Sequence[list[int]]]) -> list[list[int]]:
    """Every batch once, each task's batches spaced evenly: batch j of n sits at (j + 0.5) / n."""
    keyed = [
        ((j + 0.5) / len(task_batches), position, batch)
        for position, task_batches in enumerate(batches.values())
        for j, batch in enumerate(task_batches)
    ]
    return [batch for _, _, batch in sorted(keyed, key=lambda item: item[:2])]
